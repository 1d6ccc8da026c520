"""The year-end report (reports/annual*.py) on the sample plan, SQLite and PostgreSQL.

The world: the seed plan (32 measures, 232 shares), a monthly cycle, and on 3 July 2024 (June
reports due 5 July, so an unfiled June report is only yellow, never red):
- closed (办结销号): 2.2 = M003 (市水务局, its only share), 7.1 = M016 (市生态环境局, only share),
  8.5 = M021 (市园林绿化局, only share) → 3 measures, 3 shares closed;
- 滞后 by the units' own June reports: 4.2 = M006 (市园林绿化局, 180 of 600 份) and
  8.4 = M020 (海淀区政府, 7.5 公顷); 朝阳区政府 reports 8.4 on schedule (12.5 公顷, 3 处);
- an EI run for 2024: city 68.4 (良), 门头沟区 80.2 (优), 密云区 78.9 (优), 朝阳区 52.3 (一般).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from fastapi.testclient import TestClient
from PIL import Image

from ecoplan import db
from ecoplan.accounting.ei.models import EIResultRow, EIRun
from ecoplan.accounts.service import account_by_username
from ecoplan.config import get_settings
from ecoplan.plans.models import Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.reports.annual import AnnualReport, Table, TargetRow, build_annual_report
from ecoplan.reports.annual_docx import annual_report_docx
from ecoplan.reports.annual_pdf import annual_report_pdf
from ecoplan.supervision import closure, reports
from ecoplan.supervision.periods import periods
from ecoplan.supervision.reports import ReportInput

from ..conftest import run_cli
from ..supervision import conftest as supervision
from ..supervision.conftest import PASSWORD, World

# the seeded world on SQLite and PostgreSQL (fixtures shared with the supervision tests)
world, data_dir = supervision.world, supervision.data_dir
TODAY = dt.date(2024, 7, 3)
JUNE = 5  # index of 2024-06 among the monthly periods


def _populate(world: World) -> None:
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        june = periods(session, plan)[JUNE]
        coord = account_by_username(session, "coord")
        for username, uid in (("swj", "M003"), ("sthjj", "M016"), ("ylljj", "M021")):
            item = closure.request_closure(session, account_by_username(session, username),
                                           measure_by_uid(session, plan, uid), "已按计划完成")  # fmt: skip
            closure.decide_closure(session, coord, item, approve=True)
        filings = [
            ("ylljj", "M006", ReportInput(status="late", narrative="已收集林草种质资源180份",
                                          reasons="种子成熟期集中在9—10月", remedy="秋季集中采集",
                                          progress={"0": 180})),
            ("haidian", "M020", ReportInput(status="late", reasons="征地延误", remedy="7月完成",
                                            progress={"0": 7.5})),
            ("chaoyang", "M020", ReportInput(status="in_progress", narrative="完成绿地建设12.5公顷",
                                             progress={"0": 12.5, "2": 3})),
        ]  # fmt: skip
        for username, uid, data in filings:
            reports.save_report(session, account_by_username(session, username),
                                measure_by_uid(session, plan, uid), june, data, submit=True)  # fmt: skip
        run = EIRun(year=2024, title="2024年测试核算", method_key="hj192-2015@1",
                    method_standard="HJ 192-2015", method_name="生态环境状况评价技术规范",
                    method_sha256="0" * 64, method_definition={}, unverified=[], provenance={},
                    created_by="test")  # fmt: skip
        regions = [("110000", "北京市", "city", 68.4, "良"), ("110109", "门头沟区", "district", 80.2, "优"),
                   ("110118", "密云区", "district", 78.9, "优"), ("110105", "朝阳区", "district", 52.3, "一般")]  # fmt: skip
        for i, (code, name, level, ei, grade) in enumerate(regions):
            run.results.append(EIResultRow(
                position=i, region_code=code, region_name=name, level=level, area_km2=100.0,
                biological_abundance=50.0, vegetation_cover=50.0, water_network=50.0,
                land_stress=10.0, pollution_load=5.0, ei_unrestricted=ei, ei=ei, grade=grade,
                inputs={}))  # fmt: skip
        session.add(run)


def _docx_text(data: bytes) -> tuple[str, list[list[str]]]:
    """All paragraph text, and every table row (cells stripped) of a .docx."""
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    rows = [[c.text.strip() for c in row.cells] for t in doc.tables for row in t.rows]
    return text, rows


def _pdf_text(data: bytes) -> tuple[str, list[list[str]]]:
    """All text without whitespace (wrapped lines rejoined), and every table row with the
    line breaks of wrapped cells removed."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "".join("".join((page.extract_text() or "").split()) for page in pdf.pages)
        rows = [["".join((c or "").split()) for c in row]
                for page in pdf.pages for table in page.extract_tables() for row in table]  # fmt: skip
    return text, rows


def _build(world: World, targets: list[TargetRow] | None = None) -> AnnualReport:
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        return build_annual_report(session, plan, year=2024, today=TODAY, targets=targets)


def test_report_numbers_in_docx_and_pdf(world: World, tmp_path: Path) -> None:
    _populate(world)
    report = _build(world)
    # measures: 3 closed (M003, M016, M021), 2 late (M006, M020), 32 − 3 − 2 = 27 on track;
    # shares: 232, of which the 3 closures and the 2 late reports
    assert {k: report.facts[k] for k in ("measures", "closed", "on_track", "late", "shares",
                                          "closed_shares", "late_shares", "completion")} == {
        "measures": 32, "closed": 3, "on_track": 27, "late": 2, "shares": 232,
        "closed_shares": 3, "late_shares": 2, "completion": "9.4%"}  # 3 / 32 = 9.375 %  # fmt: skip
    assert [s.heading[:2] for s in report.sections] == ["一、", "二、", "三、", "四、", "五、", "六、",
                                                        "七、", "八、"]  # fmt: skip
    expected_text = [
        "已办结销号的措施3项，按期推进27项，滞后2项，措施办结率9.4%",
        # 3 June reports filed, none reviewed yet, 2 of them 滞后
        "共提交进展报告3份，其中审核通过0份、经退回修改0份、自报进度滞后2份",
        # 8 targets in the plan; values reported for 3 (4.2 份, 8.4 公顷 and 处): 8 − 3 = 5 without
        "计划共设定量化目标8项，截至2024年7月3日已达到0项，暂无监测值5项",
        "共有2项措施、2项责任单位事项滞后",
        "2024年全市生态环境质量指数(EI)为 68.4，等级为“良”",
        "参评的3个区（含功能区）中，等级为优的2个、良的0个",
        "【待编辑",
    ]
    expected_rows = [
        # 二: 10 measures M002–M011, M003 closed, M006 late → 8 on track, 1 / 10 closed
        ["二、强化生物多样性保护", "10", "1", "8", "1", "10.0%"],
        # 三: 11 measures M012–M022, M016 + M021 closed, M020 late → 8 on track, 2 / 11 = 18.18 %
        ["三、维护生态空间格局稳定性", "11", "2", "8", "1", "18.2%"],
        ["合计", "32", "3", "27", "2", "9.4%"],
        # 市水务局 has 2.1, 2.2 and 3.1; 2.2 closed → 1 / 3 = 33.3 %
        ["市水务局", "3", "1", "2", "0", "33.3%"],
        # 海淀区政府 has 13 shares; only its 8.4 share is late
        ["海淀区政府", "13", "0", "12", "1", "0.0%"],
        # 新增城市绿地: 12.5 (朝阳) + 7.5 (海淀) = 20 公顷 of 200 → 10 %
        ["8.4", "新增城市绿地", "≥200公顷", "20公顷", "推进中（完成10.0%）"],
        # 收集林草种质资源: 180 of 600 份 → 30 %
        ["4.2", "收集林草种质资源", "≥600份", "180份", "推进中（完成30.0%）"],
        ["8.3", "森林覆盖率", "≥44.95%", "—", "暂无监测值"],
        ["8.4", "海淀区政府", "2024年6月报告自报滞后", "征地延误", "7月完成"],
        ["北京市", "68.4", "良"],
        ["门头沟区", "80.2", "优"],
    ]
    docx_bytes, pdf_bytes = annual_report_docx(report), annual_report_pdf(report)
    for name, (text, rows) in (("docx", _docx_text(docx_bytes)), ("pdf", _pdf_text(pdf_bytes))):
        flat = "".join(text.split())
        for wanted in expected_text:
            assert "".join(wanted.split()) in flat, (name, wanted)
        for wanted_row in expected_rows:
            assert any(row[: len(wanted_row)] == wanted_row for row in rows), (name, wanted_row)
    # the Word file: GB/T 9704 page, 28-pt body lines, page-number field, four figures
    doc = Document(io.BytesIO(docx_bytes))
    section = doc.sections[0]
    assert [round(x.cm, 1) for x in (section.top_margin, section.bottom_margin,
                                     section.left_margin, section.right_margin)] == [3.7, 3.5, 2.8, 2.6]  # fmt: skip
    assert doc.styles["EP Body"].paragraph_format.line_spacing.pt == 28
    assert "PAGE" in section.footer._element.xml and "PAGE" in section.even_page_footer._element.xml
    # 图1 sections, 图2 district completion map, 图3 EI bars, 图4 EI map
    assert len(report.figures()) == len(doc.inline_shapes) == 4
    # the PDF embeds the CJK font and its first page renders with ink on it
    assert b"WenQuanYi" in pdf_bytes or b"STSong" in pdf_bytes
    _registry_targets(world)
    (tmp_path / "report.pdf").write_bytes(pdf_bytes)
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) is not installed: PDF pages not rendered")
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "2", str(tmp_path / "report.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)  # fmt: skip
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    for page in pages:
        grey = Image.open(page).convert("L")
        dark = sum(grey.histogram()[:128])  # pixels of text, rules and bars
        # A4 at 50 dpi is 413 × 585 px; text and a table cover far more than 0.5 % of it
        assert dark > 0.005 * grey.width * grey.height, page


def _registry_targets(world: World) -> None:
    """Rows handed in by the indicator registry are printed as given, with source and date."""
    rows = [TargetRow("森林覆盖率", 44.95, "%", 45.02, "已达到", "森林资源年度监测(林地一张图)",
                      dt.date(2024, 12, 31), measure="8.3"),
            TargetRow("湿地保护率", 80, "%", None, "暂无数值", "—", None, measure="8.5")]  # fmt: skip
    section = _build(world, rows).sections[2]
    (table,) = [b for b in section.blocks if isinstance(b, Table)]
    assert table.rows == [
        [
            "8.3",
            "森林覆盖率",
            "≥44.95%",
            "45.02%",
            "已达到",
            "森林资源年度监测(林地一张图)",
            "2024-12-31",
        ],
        ["8.5", "湿地保护率", "≥80%", "—", "暂无数值", "—", "—"],
    ]
    # 45.02 ≥ 44.95 → 1 met; 湿地保护率 has no value → 1 without
    assert "已达到1项，暂无数值1项" in section.blocks[0].text  # type: ignore[union-attr]


def test_route_refuses_units_and_cli_writes_the_file(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ecoplan.web.app import create_app

    monkeypatch.setenv("ECOPLAN_TODAY", TODAY.isoformat())
    monkeypatch.setenv("ECOPLAN_REMIND_INTERVAL_MINUTES", "0")
    get_settings.cache_clear()
    url = f"/api/v1/plans/{world.plan_id}/annual-report"
    with TestClient(create_app(world.engine)) as client:

        def login(username: str) -> dict[str, str]:
            token = client.post("/api/v1/auth/login",
                                json={"username": username, "password": PASSWORD}).json()["token"]  # fmt: skip
            return {"Authorization": f"Bearer {token}"}

        coord = login("coord")
        assert url + "?format=pdf" in client.get("/", headers=coord).text  # the dashboard button
        response = client.get(url, params={"format": "pdf"}, headers=coord)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert "filename*=UTF-8''" in response.headers["content-disposition"]
        for unit in ("chaoyang", "ylljj"):  # the report covers every unit's shares
            assert url not in client.get("/", headers=login(unit)).text  # so no button either
            refused = client.get(url, params={"format": "docx"}, headers=login(unit))
            assert refused.status_code == 403, refused.text
            assert "年度总结" in refused.text
        assert client.get(url, params={"format": "xlsx"}, headers=coord).status_code == 422
    if world.engine.dialect.name != "sqlite":
        return  # the CLI reads ECOPLAN_DATABASE_URL; the PostgreSQL schema is set per connection
    monkeypatch.setenv("ECOPLAN_DATABASE_URL", str(world.engine.url))
    get_settings.cache_clear()
    out = tmp_path / "年度总结.docx"
    printed = run_cli("report", "annual", "--year", "2024", "--out", str(out))
    assert "措施32项，已办结0项" in "".join(printed.split())
    assert Document(str(out)).paragraphs[0].text == "《生态保护2024年行动计划》执行情况报告"
