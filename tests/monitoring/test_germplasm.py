"""Germplasm: repositories (placeholder seed, CSV replacement), accession import (formats,
species matching, every bad-row kind refused whole), collection progress against the plan's
target, and the annual report as Word (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import Workbook
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from ecoplan import audit, db
from ecoplan.demo import sample_plan_path
from ecoplan.errors import ValidationError
from ecoplan.monitoring.germplasm import (
    annual_report_docx,
    import_accessions,
    is_placeholder,
    load_repositories,
    progress,
    repositories,
    seed_repositories,
)
from ecoplan.monitoring.register_models import Accession, GermplasmRepository
from ecoplan.monitoring.taxa import load_taxa_csv
from ecoplan.plans.parsers import PARSER_VERSION, parse_file
from ecoplan.plans.store import import_document
from ecoplan.units import service
from ecoplan.units.service import sync_builtin

TODAY = dt.date(2024, 6, 30)
HEADER = ["种质编号", "资源类别", "中文名", "学名", "材料类型", "数量", "采集日期", "保存库",
          "保存单位", "状态", "经度", "纬度", "生活力(%)"]  # fmt: skip
GOOD = ["LC-0001", "林草", "油松", "", "种子", "500", "2024-03-05", "GJLMK-1", "ylljj", "入库",
        "", "", ""]  # fmt: skip


@pytest.fixture
def registry(engine: Engine, tmp_path: Path) -> Engine:
    taxa = tmp_path / "taxa.csv"
    taxa.write_text("学名,中文名\nPinus tabuliformis,油松\nPlatycladus orientalis,侧柏\n"
                    "Zea mays,玉米\n", encoding="utf-8")  # fmt: skip
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        load_taxa_csv(session, taxa, actor="test")
        seed_repositories(session, actor="test")
    return engine


def sheet(
    path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows([header, *rows])
    return path


def row(**changes: str) -> list[str]:
    values = dict(zip(HEADER, GOOD, strict=True))
    for key, value in changes.items():
        values[key] = value
    return [values[h] for h in HEADER]


def stored(engine: Engine) -> int:
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Accession)) or 0)


def load(engine: Engine, path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    with db.session_scope(engine) as session:
        return import_accessions(session, path, actor="test", today=TODAY, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- repositories


def test_placeholders_are_seeded_once_and_replaced_by_code(
    registry: Engine, tmp_path: Path
) -> None:
    with db.session_scope(registry) as session:
        repos = repositories(session)
        assert len(repos) == 5 and all(is_placeholder(r) for r in repos)
        assert sum(r.kind == "国家林木种质资源库" for r in repos) == 3
        assert seed_repositories(session, actor="test").added == 0
    path = sheet(tmp_path / "repos.csv", [
        ["GJLMK-1", "国家林木种质资源库(测试甲)", "国家林木种质资源库", "林草", "ylljj", "海淀区", "116.2", "40.0", "20000"],
        ["NZW-1", "市农作物种质资源库", "省级种质库", "农作物", "nyncj", "", "", "", ""],
    ], ["编码", "名称", "类型", "类别", "主管单位", "所在区", "经度", "纬度", "保存容量"])  # fmt: skip
    with db.session_scope(registry) as session:
        r = load_repositories(session, path, actor="admin", replace=True)
        assert (r.added, r.updated, r.deactivated) == (1, 1, 4)
        by_code = {x.code: x for x in repositories(session)}
        assert by_code["GJLMK-1"].name == "国家林木种质资源库(测试甲)" and not is_placeholder(
            by_code["GJLMK-1"]
        )
        assert by_code["GJLMK-1"].capacity == 20000 and not by_code["GJLMK-2"].active
        entry = audit.entries(
            session, entity_type="germplasm_repository", entity_id=str(by_code["GJLMK-1"].id)
        )[-1]
        assert entry.before["name"] == "国家林木种质资源库(一)(占位,待核实)"
        assert seed_repositories(session, actor="test").added == 0  # replacements are not reverted


def test_a_bad_repository_list_changes_nothing(registry: Engine) -> None:
    rows = [
        {"code": "X-1", "name": "甲库", "kind": "库", "category": "林木"},  # not a category
        {"code": "X-2", "name": "乙库", "kind": "库", "category": "林草", "unit": "不存在的局"},
        {
            "code": "X-3",
            "name": "丙库",
            "kind": "库",
            "category": "水产",
            "lon": "121.5",
            "lat": "31.2",
        },
        {"code": "X-3", "name": "丁库", "kind": "库", "category": "水产"},  # code twice
    ]
    with db.session_scope(registry) as session, pytest.raises(ValidationError) as caught:
        load_repositories(session, rows, actor="admin")
    problems = caught.value.rows
    assert "第 1 行" in problems[0] and "林木" in problems[0]
    assert "第 2 行" in problems[1] and "不存在的局" in problems[1]
    assert "第 3 行" in problems[2] and "北京范围" in problems[2]
    assert "第 4 行" in problems[3] and "重复" in problems[3]
    with db.session_scope(registry) as session:
        assert session.scalar(select(func.count()).select_from(GermplasmRepository)) == 5


# --------------------------------------------------------------------------- import


def test_import_matches_species_and_keeps_unmatched_names(registry: Engine, tmp_path: Path) -> None:
    path = sheet(tmp_path / "a.csv", [
        GOOD,
        row(**{"种质编号": "LC-0002", "中文名": "", "学名": "Platycladus orientalls", "材料类型": "穗条",
               "数量": "30", "经度": "116.22", "纬度": "40.05", "状态": "", "保存单位": "", "生活力(%)": "92"}),
        row(**{"种质编号": "LC-0003", "中文名": "北京槭", "保存库": "", "保存单位": "110116"}),
        row(**{"种质编号": "NZ-0001", "资源类别": "农作物", "中文名": "玉米", "保存库": "", "状态": "stored"}),
    ])  # fmt: skip
    r = load(registry, path, unit_code="110108")
    assert r.added == 4 and r.by_category == {"林草": 3, "农作物": 1}
    assert r.unmatched == {"北京槭": 1}  # kept, reported, not refused
    assert r.fuzzy == {"Platycladus orientalls": "Platycladus orientalis"}
    with db.session_scope(registry) as session:
        got = {a.accession_no: a for a in session.scalars(select(Accession))}
        assert got["LC-0001"].taxon_id is not None and got["LC-0001"].status == "stored"
        assert got["LC-0001"].repository is not None and got["LC-0001"].repository.code == "GJLMK-1"
        second = got["LC-0002"]
        # a Latin name only: the Chinese name comes from the list; the unit from --unit
        # (海淀区政府); the district from the coordinates; default status and quantity unit
        assert (second.name_cn, second.district_name, second.status, second.quantity_unit) == (
            "侧柏", "海淀区", "collected", "条")  # fmt: skip
        assert second.viability_pct == 92.0 and second.source["row"] == 3
        assert got["LC-0003"].taxon_id is None and got["LC-0003"].district_name == "怀柔区"
        entry = audit.entries(session, entity_type="germplasm_accession")[-1]
        assert entry.action == "germplasm.import" and entry.after["added"] == 4


def test_gbk_csv_with_english_headers_in_any_order_and_xlsx(
    registry: Engine, tmp_path: Path
) -> None:
    header = ["quantity", "material", "collection_date", "accession_no", "name_cn", "category"]
    sheet(
        tmp_path / "gbk.csv", [["12", "苗木", "2024/4/1", "LC-G1", "油松", "林草"]], header, "gbk"
    )
    assert load(registry, tmp_path / "gbk.csv").added == 1
    book = Workbook()
    ws = book.active
    ws.append(["采集日期", "数量", "中文名", "种质编号", "材料类型", "保存库"])
    ws.append(
        [
            dt.datetime(2024, 5, 6),
            40,
            "侧柏",
            "LC-X1",
            "种子",
            "国家林木种质资源库(二)(占位,待核实)",
        ]
    )
    book.save(tmp_path / "a.xlsx")
    assert load(registry, tmp_path / "a.xlsx").added == 1
    with db.session_scope(registry) as session:
        x = session.scalar(select(Accession).where(Accession.accession_no == "LC-X1"))
        assert x is not None and x.collected_on == dt.date(2024, 5, 6) and x.category == "林草"


BAD_ROWS = {
    "missing number": (row(**{"种质编号": ""}), "缺少种质编号"),
    "number twice in file": (row(), "与第 2 行重复"),
    "unknown repository": (row(**{"种质编号": "B1", "保存库": "不存在的库"}), "不在种质库名录中"),
    "malformed date": (row(**{"种质编号": "B1", "采集日期": "2024-02-30"}), "无法识别"),
    "future date": (row(**{"种质编号": "B1", "采集日期": "2024-07-01"}), "不合理"),
    "negative quantity": (row(**{"种质编号": "B1", "数量": "-5"}), "应大于 0"),
    "zero quantity": (row(**{"种质编号": "B1", "数量": "0"}), "应大于 0"),
    "missing quantity": (row(**{"种质编号": "B1", "数量": ""}), "缺少数量"),
    "text quantity": (row(**{"种质编号": "B1", "数量": "许多"}), "不是数字"),
    "unknown material": (row(**{"种质编号": "B1", "材料类型": "果实"}), "材料类型“果实”无法识别"),
    "unknown status": (row(**{"种质编号": "B1", "状态": "借出"}), "状态“借出”无法识别"),
    "outside Beijing": (
        row(**{"种质编号": "B1", "经度": "121.47", "纬度": "31.23"}),
        "不在北京范围内",
    ),
    "half a coordinate": (row(**{"种质编号": "B1", "经度": "116.3"}), "不在北京范围内"),
    "unknown unit": (row(**{"种质编号": "B1", "保存单位": "某某局"}), "不在单位名录中"),
    "unknown category": (
        row(**{"种质编号": "B1", "资源类别": "微生物"}),
        "资源类别“微生物”无法识别",
    ),
    "viability above 100": (row(**{"种质编号": "B1", "生活力(%)": "120"}), "0–100"),
}


@pytest.mark.parametrize("kind", list(BAD_ROWS))
def test_each_bad_row_kind_refuses_the_whole_file(
    registry: Engine, tmp_path: Path, kind: str
) -> None:
    bad, said = BAD_ROWS[kind]
    path = sheet(tmp_path / "bad.csv", [GOOD, bad])
    with pytest.raises(ValidationError) as caught:
        load(registry, path)
    assert len(caught.value.rows) == 1
    assert caught.value.rows[0].startswith("第 3 行") and said in caught.value.rows[0]
    assert stored(registry) == 0


def test_numbers_already_stored_and_many_bad_rows_are_named_together(
    registry: Engine, tmp_path: Path
) -> None:
    load(registry, sheet(tmp_path / "first.csv", [GOOD]))
    path = sheet(tmp_path / "second.csv", [
        row(**{"种质编号": "LC-0009"}),  # good
        row(),  # LC-0001 is stored
        row(**{"种质编号": "LC-0010", "数量": "0", "材料类型": "果实"}),  # two problems
    ])  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        load(registry, path)
    rows = caught.value.rows
    assert rows[0] == "第 3 行: 种质编号 LC-0001 已登记"
    assert [r[:5] for r in rows[1:]] == ["第 4 行", "第 4 行"]
    assert stored(registry) == 1


# --------------------------------------------------------------------------- progress

# 林草 accessions of 2024 by month and unit (plus rows that must not count)
PROGRESS_ROWS = [
    ("2024-01-10", "林草", "ylljj"), ("2024-01-20", "林草", "ylljj"),
    ("2024-03-05", "林草", "110116"), ("2024-03-06", "林草", "110116"), ("2024-03-07", "林草", "110116"),
    ("2024-06-30", "林草", ""),
    ("2023-12-31", "林草", "ylljj"),  # another year
    ("2024-02-01", "农作物", "nyncj"), ("2024-02-02", "农作物", "nyncj"),  # another category
]  # fmt: skip


def progress_file(tmp_path: Path) -> Path:
    return sheet(tmp_path / "p.csv", [
        row(**{"种质编号": f"P{i}", "采集日期": d, "资源类别": c, "保存单位": u, "保存库": ""})
        for i, (d, c, u) in enumerate(PROGRESS_ROWS)
    ])  # fmt: skip


def test_progress_against_the_plans_target(registry: Engine, tmp_path: Path) -> None:
    load(registry, progress_file(tmp_path))
    with db.session_scope(registry) as session:
        import_document(session, parse_file(sample_plan_path()), actor="test",
                        directory=service.directory(session), parser_version=PARSER_VERSION)  # fmt: skip
        p = progress(session, 2024, today=TODAY)
        crops = progress(session, 2024, category="农作物", today=TODAY)
    assert p.target == 600 and "措施4.2" in p.target_source and "600份" in p.target_source
    assert "内置" not in p.target_source  # read from the plan, not the fall-back
    # 2 in January, 3 in March, 1 in June; the 2023 row and the crops do not count
    assert p.collected == 6
    assert p.by_month == [2, 0, 3, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert p.cumulative == [2, 2, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6]
    assert p.by_unit == [("怀柔区政府", 3), ("市园林绿化局", 2), ("未填单位", 1)]
    # share 6 / 600 = 0.01; 2024 has 366 days and 30 June is day 182 (31+29+31+30+31+30), so
    # the even pace asks for 600 × 182 / 366 = 298.36 → behind
    assert p.share == pytest.approx(0.01)
    assert p.expected == pytest.approx(600 * 182 / 366) == pytest.approx(298.3607, abs=1e-4)
    assert (p.on_track, p.verdict) == (False, "落后于进度")
    assert (crops.target, crops.collected, crops.verdict) == (None, 2, "无量化目标")


def test_progress_on_both_sides_of_the_even_pace(registry: Engine, tmp_path: Path) -> None:
    # no plan loaded: the target 600 comes from germplasm.toml. On 10 January (day 10 of 366)
    # the pace asks for 600 × 10 / 366 = 16.39: 16 accessions are behind, 17 on track
    early = dt.date(2024, 1, 10)
    rows = [row(**{"种质编号": f"E{i}", "采集日期": "2024-01-05"}) for i in range(16)]
    with db.session_scope(registry) as session:
        import_accessions(session, sheet(tmp_path / "e.csv", rows), actor="t", today=early)
        before = progress(session, 2024, today=early)
        import_accessions(session, sheet(tmp_path / "f.csv", [row(**{"种质编号": "E16", "采集日期": "2024-01-06"})]),
                          actor="t", today=early)  # fmt: skip
        after = progress(session, 2024, today=early)
    assert "内置参数" in before.target_source
    assert before.expected == pytest.approx(16.393, abs=1e-3)
    assert (before.collected, before.on_track, before.verdict) == (16, False, "落后于进度")
    assert (after.collected, after.on_track, after.verdict) == (17, True, "符合进度")


# --------------------------------------------------------------------------- annual report


def test_annual_report_opens_and_holds_the_numbers(registry: Engine, tmp_path: Path) -> None:
    path = sheet(tmp_path / "r.csv", [
        GOOD,  # 林草 种子 入库, GJLMK-1, 2024
        row(**{"种质编号": "LC-0002", "材料类型": "穗条", "状态": "失活", "生活力(%)": "0"}),
        row(**{"种质编号": "LC-0003", "采集日期": "2023-09-01", "状态": "检测", "生活力(%)": "90"}),
        row(**{"种质编号": "NZ-0001", "资源类别": "农作物", "中文名": "玉米", "保存库": "", "保存单位": "nyncj",
               "状态": "入库", "生活力(%)": "80"}),
        row(**{"种质编号": "SC-0001", "资源类别": "水产", "中文名": "鲤", "材料类型": "鱼苗", "数量": "2000",
               "保存库": "", "保存单位": "110118", "状态": "丢失"}),
    ])  # fmt: skip
    load(registry, path)
    with db.session_scope(registry) as session:
        data = annual_report_docx(session, 2024, today=TODAY)
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "北京市2024年度种质资源保护年度报告" in text
    # holdings: all 5 (林草 3, 农作物 1, 水产 1); new in 2024: 4 (林草 2); lost or inactive: 2;
    # viability tested 3 (0, 90, 80): mean 170 / 3 = 56.7 %
    assert "登记保存种质资源 5 份(其中林草 3 份、农作物 1 份、水产 1 份)" in text
    assert "2024 年新收集 4 份(其中林草 2 份、农作物 1 份、水产 1 份)" in text
    # 林草 target 600: 2 collected, 2 / 600 = 0.3 %
    assert "林草种质资源收集目标 600 份,已完成 2 份,完成率 0.3%,落后于进度" in text
    assert "失活或丢失 2 份;开展生活力检测 3 份,平均生活力 56.7%" in text
    assert "占位,待核实" in text  # the placeholder note
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]
    matrix = next(t for t in tables if t[0][:2] == ["类别", "材料"] and "采集" in t[0])
    head = matrix[0]
    assert head == ["类别", "材料", "采集", "入库", "检测", "失活", "转出", "丢失", "合计"]
    assert ["林草", "种子", "0", "1", "1", "0", "0", "0", "2"] in matrix
    assert ["林草", "穗条", "0", "0", "0", "1", "0", "0", "1"] in matrix
    assert ["水产", "鱼苗", "0", "0", "0", "0", "0", "1", "1"] in matrix
    assert matrix[-1] == ["合计", "", "0", "2", "1", "1", "0", "1", "5"]
    repos = next(t for t in tables if t[0][0] == "保存库")
    assert [r for r in repos if r[0].startswith("国家林木种质资源库(一)")][0][4:6] == ["3", "2"]
    new = next(t for t in tables if t[0][0] == "种质编号")
    assert [r[0] for r in new[1:]] == ["LC-0001", "LC-0002", "NZ-0001", "SC-0001"]
    lost = [t for t in tables if t[0][0] == "种质编号"][1]
    assert [r[0] for r in lost[1:]] == ["LC-0002", "SC-0001"]
    viability = next(t for t in tables if t[0][0] == "类别" and "平均生活力(%)" in t[0])
    assert ["林草", "种子", "1", "90.0", "90", "90"] in viability
    # East Asian fonts: 宋体 body, 黑体 headings, no theme font overriding them
    normal = doc.styles["Normal"].element.rPr.rFonts
    heading = doc.styles["Heading 1"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"
    assert heading.get(qn("w:eastAsia")) == "黑体" and heading.get(qn("w:eastAsiaTheme")) is None


def test_germplasm_commands(registry: Engine, tmp_path: Path, cli_home: Path) -> None:
    from ecoplan.monitoring.registers_cli import germplasm_app

    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(germplasm_app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    assert "GJLMK-1" in run("repos", "--seed")
    assert "已登记 1 份" in run(
        "import", str(sheet(tmp_path / "a.csv", [GOOD])), "--today", "2024-06-30"
    )
    assert "1 / 600 份" in run("progress", "--year", "2024", "--today", "2024-06-30")
    out = tmp_path / "r.docx"
    run("report", str(out), "--year", "2024", "--today", "2024-06-30")
    assert Document(str(out)).paragraphs[0].text == "北京市2024年度种质资源保护年度报告"
    bad = runner.invoke(germplasm_app, ["import", str(sheet(tmp_path / "b.csv", [row(**{"数量": "0"})])),
                                        "--today", "2024-06-30"])  # fmt: skip
    assert bad.exit_code == 2 and "第 2 行" in bad.output
