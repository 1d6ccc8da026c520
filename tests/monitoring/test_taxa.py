"""The species list: CSV loading (all or nothing, reload updates, GBK), and name matching in
Latin and Chinese, exact, by synonym and fuzzy, with what cannot be matched reported; plus the
shared Beijing bird list (435 species) as a real-sized list (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecoplan import db
from ecoplan.errors import ValidationError
from ecoplan.monitoring.models import Taxon, TaxonName
from ecoplan.monitoring.taxa import NameMatcher, latin_key, load_taxa_csv

BIRDS = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "species"
    / "beijing_birds_birdle_435.csv"
)
HEADER = [
    "学名",
    "中文名",
    "分类阶元",
    "上级学名",
    "类群",
    "国家保护级别",
    "三有",
    "IUCN",
    "外来入侵",
    "异名",
]
ROWS = [
    ["Aix", "鸳鸯属", "genus", "", "鸟类", "", "否", "", "否", ""],
    ["Aix galericulata (Linnaeus, 1758)", "鸳鸯", "species", "Aix", "鸟类", "国家二级", "否", "LC", "否", "Anas galericulata"],
    ["Ciconia nigra", "黑鹳", "species", "", "鸟类", "国家一级", "否", "LC", "否", ""],
    ["Lithobates catesbeianus", "牛蛙", "species", "", "两栖类", "", "否", "LC", "是", "Rana catesbeiana;美国牛蛙"],
    ["Parus minor", "远东山雀", "species", "", "鸟类", "", "是", "LC", "否", "大山雀"],
    ["Parus major", "大山雀x", "species", "", "鸟类", "", "是", "LC", "否", ""],
]  # fmt: skip


def write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


def test_load_and_reload(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "taxa.csv", ROWS)
    with db.session_scope(engine) as session:
        result = load_taxa_csv(session, path, actor="test")
        assert (result.added, result.updated, result.names) == (6, 0, 4)
        aix = session.scalar(select(Taxon).where(Taxon.name_cn == "鸳鸯"))
        assert aix is not None and (aix.national_level, aix.iucn, aix.rank) == (
            "II",
            "LC",
            "species",
        )
        assert aix.parent_id == session.scalar(
            select(Taxon.id).where(Taxon.scientific_name == "Aix")
        )
        frog = session.scalar(select(Taxon).where(Taxon.name_cn == "牛蛙"))
        assert (
            frog is not None
            and frog.invasive
            and {n.name for n in frog.names} == {"Rana catesbeiana", "美国牛蛙"}
        )
    # a corrected list (in GBK, as Excel on Chinese Windows saves it): the typo in 大山雀 fixed
    fixed = [r if r[1] != "大山雀x" else [*r[:1], "大山雀", *r[2:]] for r in ROWS[:5]] + [
        ["Parus major", "大山雀", "species", "", "鸟类", "", "是", "LC", "否", ""]
    ]
    fixed[4] = [
        "Parus minor",
        "远东山雀",
        "species",
        "",
        "鸟类",
        "",
        "是",
        "LC",
        "否",
        "",
    ]  # no longer claims 大山雀
    with db.session_scope(engine) as session:
        result = load_taxa_csv(session, write(tmp_path / "gbk.csv", fixed, "gb18030"), actor="test")
        assert (result.added, result.updated) == (0, 6)
        assert (
            session.scalar(select(Taxon.name_cn).where(Taxon.scientific_name == "Parus major"))
            == "大山雀"
        )
        assert session.scalar(select(func.count()).select_from(TaxonName)) == 3


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["Ciconia nigra", "黑鹳", "species", "", "", "国家三级", "", "", "", ""]], "国家保护级别“国家三级”无法识别"),
        ([["Ciconia nigra", "黑鹳", "", "", "", "", "", "XX", "", ""]], "IUCN 等级“XX”无法识别"),
        ([["Ciconia nigra", "", "", "", "", "", "", "", "", ""]], "缺少学名或中文名"),
        ([["Ciconia nigra", "黑鹳", "", "", "", "", "", "", "", ""], ["Ciconia nigra Linnaeus", "黑鹳2", "", "", "", "", "", "", "", ""]], "重复"),
        ([["Ciconia nigra", "黑鹳", "", "Ciconia", "", "", "", "", "", ""]], "上级学名 Ciconia 不在名录中"),
        ([["Ciconia nigra", "黑鹳", "", "", "", "", "", "", "", "白鹳"], ["Ciconia boyciana", "白鹳", "", "", "", "", "", "", "", ""]], "异名“白鹳”已是另一物种的名称"),
        ([["Ciconia nigra", "黑鹳", "", "", "", "", "可能", "", "", ""]], "三有“可能”应为 是 或 否"),
    ],
)  # fmt: skip
def test_bad_lists_are_refused_whole(
    engine: Engine, tmp_path: Path, rows: list[list[str]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message), db.session_scope(engine) as session:
        load_taxa_csv(session, write(tmp_path / "bad.csv", rows), actor="test")
    with db.session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Taxon)) == 0


def test_name_matching(engine: Engine, tmp_path: Path) -> None:
    with db.session_scope(engine) as session:
        load_taxa_csv(session, write(tmp_path / "taxa.csv", ROWS), actor="test")
        ids = {t.name_cn: t.id for t in session.scalars(select(Taxon))}
        m = NameMatcher.from_db(session)
    cases = {
        "Aix galericulata": ("exact", "鸳鸯"),
        "aix  galericulata Linnaeus, 1758": ("exact", "鸳鸯"),  # authorship, spaces, case
        "Anas galericulata": ("synonym", "鸳鸯"),
        "Aix galericulta": ("fuzzy", "鸳鸯"),  # one letter missing: ratio 30/31 ≈ 0.98 > 0.9
        "鸳鸯": ("exact", "鸳鸯"),
        "美国牛蛙": ("synonym", "牛蛙"),
        "黑鹤": ("none", None),  # one character off: could be another species (白鹳 is one too)
        "Ciconia boyciana": ("none", None),
        "东方白鹳": ("none", None),  # two edits from 黑鹳: not a typo, reported
        "": ("none", None),
    }
    for name, (kind, cn) in cases.items():
        got = m.match(name)
        assert (got.kind, got.taxon_id) == (kind, ids.get(cn) if cn else None), name
    assert (
        latin_key("Falco tinnunculus interstinctus Horsfield, 1840")
        == "falco tinnunculus interstinctus"
    )


@pytest.mark.skipif(not BIRDS.exists(), reason="../shared/data is not next to this checkout")
def test_the_shared_beijing_bird_list_loads_and_matches(engine: Engine, tmp_path: Path) -> None:
    with BIRDS.open(encoding="utf-8") as f:
        birds = list(csv.DictReader(f))
    rows = [[b["scientific_name"], b["chinese_name"], "species", "", "鸟类", b["china_protection"], "是" if b["china_protection"] == "三有" else "否", b["iucn"], "否", ""]
            for b in birds]  # fmt: skip
    with db.session_scope(engine) as session:
        assert (
            load_taxa_csv(session, write(tmp_path / "birds.csv", rows), actor="test").added == 435
        )
        levels = dict(
            session.execute(
                select(Taxon.national_level, func.count()).group_by(Taxon.national_level)
            ).all()
        )
        # SOURCES.md: 国家一级 23, 国家二级 65, the other 347 unlisted at national level
        assert (levels.get("I"), levels.get("II"), levels.get(None)) == (23, 65, 347)
        m = NameMatcher.from_db(session)
    assert m.match("Falco tinnunculus").kind == "exact" and m.match("红隼").kind == "exact"
    assert m.match("Falco tinunculus").kind == "fuzzy"
