"""Invasive species: the six species of the rule file, sites placed in districts, and record
sheets imported all or nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from ecoplan import audit, db
from ecoplan.cases.layers import load_layer
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.monitoring.invasive import (
    add_site,
    add_species,
    import_records,
    import_sites,
    list_sites,
    parse_date,
    sync_species,
)
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_models import InvasiveRecord, InvasiveSite, InvasiveSpecies
from ecoplan.monitoring.taxa import load_taxa_csv
from ecoplan.units.models import Unit
from tests.monitoring.invasive_fixtures import (
    HAIDIAN,
    HEADER,
    MENTOUGOU,
    TODAY,
    YANQING,
    iworld,
    layer_file,
    row,
    sheet,
)

__all__ = ["iworld"]

SIX = {
    # key: (中文名, unit code, quarantine, first threshold (method, value))
    "cydia_pomonella": ("苹果蠹蛾", "nyncj", True, ("trap_catch", 1.0)),
    "spodoptera_frugiperda": ("草地贪夜蛾", "nyncj", False, ("light_trap", 10.0)),
    "pomacea_canaliculata": ("福寿螺", "nyncj", False, ("density", 2.0)),
    "bursaphelenchus_xylophilus": ("松材线虫", "ylljj", True, ("dead_trees", 10.0)),
    "hyphantria_cunea": ("美国白蛾", "ylljj", False, ("nest_trees", 5.0)),
    "lithobates_catesbeianus": ("牛蛙", "ylljj", False, (None, None)),
}


def test_rule_file_marks_every_figure_unverified() -> None:
    config = load_config()
    assert config.verified is False and config.rules["near_protected"].verified is False
    assert config.rules["near_protected"].distance_m == 1000.0
    thresholds = [t for s in config.species.values() for t in s.thresholds.values()]
    assert thresholds and all(t.verified is False and t.source for t in thresholds)
    assert config.introduction.verified is False


def test_sync_creates_the_six_species_once(iworld: Engine, tmp_path: Path) -> None:
    with db.session_scope(iworld) as session:
        units = {u.id: u.code for u in session.scalars(select(Unit))}
        rows = {s.key: s for s in session.scalars(select(InvasiveSpecies))}
        got = {k: (s.name_cn, units[s.unit_id], s.quarantine, (s.threshold_method, s.threshold))
               for k, s in rows.items()}  # fmt: skip
        assert got == SIX
        assert rows["bursaphelenchus_xylophilus"].methods == ["positive_sample", "dead_trees"]
        assert all(s.taxon_id is None for s in rows.values())  # no species list loaded yet
        # the species list arrives: a second sync links the taxon and changes nothing else
        taxa = tmp_path / "taxa.csv"
        taxa.write_text(
            '学名,中文名\n"Hyphantria cunea (Drury, 1773)",美国白蛾\n', encoding="utf-8"
        )
        load_taxa_csv(session, taxa, actor="test")
        result = sync_species(session, actor="test")
        assert (result.added, result.updated) == ([], ["hyphantria_cunea"])
        again = sync_species(session, actor="test")
        assert (again.added, again.updated) == ([], [])
        assert session.scalar(select(func.count()).select_from(InvasiveSpecies)) == 6
        white = session.scalar(
            select(InvasiveSpecies).where(InvasiveSpecies.key == "hyphantria_cunea")
        )
        assert white is not None and white.taxon is not None and white.taxon.name_cn == "美国白蛾"
        actions = [e.action for e in audit.entries(session, entity_type="invasive_species")]
        assert (
            actions.count("invasive_species.add") == 6
            and actions.count("invasive_species.sync") == 1
        )


def test_add_species_checks_what_the_admin_enters(iworld: Engine) -> None:
    with db.session_scope(iworld) as session:
        with pytest.raises(ValidationError) as err:
            add_species(session, key="Bad Key", scientific_name="", name_cn="豚草", methods=["walking"],
                        unit_code="nyncj", threshold=3.0, threshold_method="density", actor="admin")  # fmt: skip
        text = "；".join(err.value.rows)
        assert (
            "物种代码" in text and "学名" in text and "监测方法" in text and "阈值所用方法" in text
        )
        with pytest.raises(ValidationError, match="已存在"):
            add_species(session, key="frog", scientific_name="Lithobates catesbeianus", name_cn="牛蛙",
                        methods=["sighting"], unit_code="ylljj", actor="admin")  # fmt: skip
        sp = add_species(session, key="ambrosia_artemisiifolia", scientific_name="Ambrosia artemisiifolia",
                         name_cn="豚草", methods=["density"], unit_code="nyncj", threshold=3.0,
                         threshold_method="density", actor="admin")  # fmt: skip
        assert (sp.threshold, sp.threshold_method, sp.quarantine) == (3.0, "density", False)


def test_sites_are_placed_and_positions_checked(iworld: Engine, tmp_path: Path) -> None:
    with db.session_scope(iworld) as session:
        site = add_site(session, code="YQ-T1", name="延庆诱捕器1", species_key="hyphantria_cunea", kind="trap",
                        lon=YANQING[0], lat=YANQING[1], township="延庆镇", actor="t")  # fmt: skip
        unit = session.get(Unit, site.unit_id)
        assert (site.district_code, site.district_name, site.township) == (
            "110119",
            "延庆区",
            "延庆镇",
        )
        assert unit is not None and unit.code == "110119"  # the district checks its traps
        with pytest.raises(ValidationError, match="颠倒"):
            add_site(session, code="X1", name="x", species_key="hyphantria_cunea", kind="trap",
                     lon=40.46, lat=115.97, actor="t")  # fmt: skip
        with pytest.raises(ValidationError, match="不在北京市范围内"):
            add_site(
                session,
                code="X2",
                name="x",
                species_key="hyphantria_cunea",
                kind="trap",
                lon=121.47,
                lat=31.23,
                actor="t",
            )  # fmt: skip  (Shanghai)
        with pytest.raises(ValidationError, match="任何一个区"):  # in the box, in Hebei
            add_site(session, code="X3", name="x", species_key="hyphantria_cunea", kind="trap",
                     lon=117.5, lat=39.5, actor="t")  # fmt: skip
        with pytest.raises(ValidationError, match="已存在"):
            add_site(session, code="YQ-T1", name="x", species_key="hyphantria_cunea", kind="trap",
                     lon=YANQING[0], lat=YANQING[1], actor="t")  # fmt: skip
    gbk = sheet(tmp_path / "sites.csv", [
        ["HD-W1", "海淀水体1", "福寿螺", "水体", str(HAIDIAN[0]), str(HAIDIAN[1])],
        ["MTG-P1", "门头沟样地", "Bursaphelenchus xylophilus", "plot", str(MENTOUGOU[0]), str(MENTOUGOU[1])],
    ], header=["监测点编号", "名称", "物种", "类型", "经度", "纬度"], encoding="gbk")  # fmt: skip
    bad = sheet(tmp_path / "bad.csv", [
        ["A1", "a", "福寿螺", "水体", str(HAIDIAN[0]), str(HAIDIAN[1])],
        ["A1", "b", "豚草", "池塘", "0", "0"],
    ], header=["监测点编号", "名称", "物种", "类型", "经度", "纬度"])  # fmt: skip
    with db.session_scope(iworld) as session:
        with pytest.raises(ValidationError) as err:
            import_sites(session, bad, actor="t")
        rows = "; ".join(err.value.rows)
        assert "第 3 行" in rows and "重复" in rows and "名录" in rows and "类型" in rows
        sites = import_sites(session, gbk, actor="t")
        assert [(s.code, s.kind, s.district_name) for s in sites] == [
            ("HD-W1", "water", "海淀区"), ("MTG-P1", "plot", "门头沟区")]  # fmt: skip
        assert session.scalar(select(func.count()).select_from(InvasiveSite)) == 3
        assert [s.code for s in list_sites(session, "pomacea_canaliculata")] == ["HD-W1"]


def test_dates_are_read_in_the_forms_people_write() -> None:
    assert parse_date("2024-05-12") == parse_date("2024/5/12") == parse_date("2024年5月12日")
    assert str(parse_date("2024-05-12 00:00:00")) == "2024-05-12"  # an xlsx date cell as text
    assert parse_date("2024-13-45") is None and parse_date("12/05/2024") is None


def test_records_import_csv_and_xlsx_any_order(iworld: Engine, tmp_path: Path) -> None:
    with db.session_scope(iworld) as session:
        add_site(session, code="YQ-T1", name="延庆诱捕器1", species_key="hyphantria_cunea", kind="trap",
                 lon=YANQING[0], lat=YANQING[1], township="康庄镇", actor="t")  # fmt: skip
    csv_path = sheet(tmp_path / "r.csv", [
        row("r1", "美国白蛾", "性诱捕器诱捕", "2024-06-01", "3", effort="7", at=HAIDIAN, township="西北旺镇"),
        # no position: the site's own is used
        row("r2", "Hyphantria cunea", "trap_catch", "2024/6/8", "0", site="YQ-T1", at=None),
    ], encoding="gbk")  # fmt: skip
    book = Workbook()
    ws = book.active
    ws.append(["value", "lat", "lon", "observed_on", "method", "species", "record_id", "remarks"])
    ws.append([2.5, MENTOUGOU[1], MENTOUGOU[0], "2024-06-02", "density", "福寿螺", "x1", "稻田"])
    book.save(tmp_path / "r.xlsx")
    with db.session_scope(iworld) as session:
        first = import_records(session, csv_path, actor="t", today=TODAY)
        second = import_records(session, tmp_path / "r.xlsx", actor="t", today=TODAY)
        assert (len(first.records), first.positives, len(second.records)) == (2, 1, 1)
        got = {r.record_id: (r.district_name, r.township, r.value, r.value_unit, r.effort_days, r.site_id is not None,
                             r.lon, r.origin) for r in session.scalars(select(InvasiveRecord))}  # fmt: skip
        assert got == {
            "r1": ("海淀区", "西北旺镇", 3.0, "头", 7.0, False, HAIDIAN[0], "local"),
            "r2": ("延庆区", "康庄镇", 0.0, "头", None, True, YANQING[0], "local"),  # the site's
            "x1": ("门头沟区", "", 2.5, "头/m²", None, False, MENTOUGOU[0], "local"),
        }
        entries = audit.entries(session, entity_type="invasive_import")
        assert [e.after["records"] for e in entries] == [2, 1]
        assert entries[0].after["file"] == "r.csv" and len(entries[0].after["sha256"]) == 64


def test_township_layer_overrides_the_file(iworld: Engine, tmp_path: Path) -> None:
    town = shapely.box(YANQING[0] - 0.02, YANQING[1] - 0.02, YANQING[0] + 0.02, YANQING[1] + 0.02)
    path = layer_file(tmp_path / "towns.geojson", [("110119001", "延庆镇", town)])
    rows = [row("t1", "美国白蛾", "nest_trees", "2024-06-01", "2", township="写错的镇"),
            row("t2", "美国白蛾", "nest_trees", "2024-06-01", "2", at=HAIDIAN, township="西北旺镇")]  # fmt: skip
    with db.session_scope(iworld) as session:
        load_layer(session, path, kind="township", name="乡镇街道", actor="t")
        import_records(session, sheet(tmp_path / "r.csv", rows), actor="t", today=TODAY)
        towns = {r.record_id: r.township for r in session.scalars(select(InvasiveRecord))}
    # t1 lies in the loaded 延庆镇 polygon; t2 outside every township polygon keeps its own
    assert towns == {"t1": "延庆镇", "t2": "西北旺镇"}


GOOD = row("ok", "美国白蛾", "nest_trees", "2024-06-01", "2")
BAD_ROWS = {
    # what is wrong: (row, words the message must hold)
    "unknown species": (row("b", "豚草", "density", "2024-06-01", "1"), "不在外来入侵物种名录中"),
    "method not for species": (row("b", "牛蛙", "trap_catch", "2024-06-01", "1"), "牛蛙不用"),
    "malformed date": (row("b", "美国白蛾", "nest_trees", "2024-13-45", "1"), "无法识别"),
    "future date": (row("b", "美国白蛾", "nest_trees", "2024-07-11", "1"), "晚于今天"),
    "outside Beijing": (row("b", "美国白蛾", "nest_trees", "2024-06-01", "1", at=(121.47, 31.23)), "不在北京市范围内"),
    "in the box, not in a district": (row("b", "美国白蛾", "nest_trees", "2024-06-01", "1", at=(117.5, 39.5)),
                                      "任何一个区"),
    "swapped": (row("b", "美国白蛾", "nest_trees", "2024-06-01", "1", at=(40.46, 115.97)), "颠倒"),
    "negative value": (row("b", "美国白蛾", "nest_trees", "2024-06-01", "-2"), "负数"),
    "missing value": (row("b", "美国白蛾", "nest_trees", "2024-06-01", ""), "缺少数值"),
    "lab result not 0/1": (row("b", "松材线虫", "positive_sample", "2024-06-01", "2"), "1(阳性)或 0(阴性)"),
    "duplicate id in file": (row("ok", "美国白蛾", "nest_trees", "2024-06-02", "1"), "与第 2 行重复"),
    "unknown site": (row("b", "美国白蛾", "nest_trees", "2024-06-01", "1", site="NOPE"), "监测点编号 NOPE 不存在"),
    "bad effort": (row("b", "美国白蛾", "trap_catch", "2024-06-01", "1", effort="0"), "须为正数"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_one_bad_row_refuses_the_file(iworld: Engine, tmp_path: Path, kind: str) -> None:
    bad, words = BAD_ROWS[kind]
    path = sheet(tmp_path / "r.csv", [GOOD, bad])
    with db.session_scope(iworld) as session, pytest.raises(ValidationError) as err:
        import_records(session, path, actor="t", today=TODAY)
    assert (
        len(err.value.rows) == 1
        and err.value.rows[0].startswith("第 3 行")
        and words in err.value.rows[0]
    )
    assert "未导入任何记录" in str(err.value)
    with db.session_scope(iworld) as session:
        assert session.scalar(select(func.count()).select_from(InvasiveRecord)) == 0


def test_every_bad_row_is_named_at_once_and_stored_ids_are_refused(
    iworld: Engine, tmp_path: Path
) -> None:
    path = sheet(tmp_path / "r.csv", [GOOD, *(bad for bad, _ in BAD_ROWS.values())])
    with db.session_scope(iworld) as session, pytest.raises(ValidationError) as err:
        import_records(session, path, actor="t", today=TODAY)
    # the "duplicate id" row repeats "ok"; every other bad row shares the id "b": rows 4.. of
    # those also collide with row 3, so count rows named rather than messages
    named = {int(r.split(" ")[1]) for r in err.value.rows}
    assert named == set(range(3, 3 + len(BAD_ROWS)))
    with db.session_scope(iworld) as session:
        import_records(session, sheet(tmp_path / "ok.csv", [GOOD]), actor="t", today=TODAY)
    with db.session_scope(iworld) as session, pytest.raises(ValidationError) as err:
        again = [GOOD, row("new", "美国白蛾", "nest_trees", "2024-06-02", "1")]
        import_records(session, sheet(tmp_path / "again.csv", again), actor="t", today=TODAY)
    assert err.value.rows == ["第 2 行: 记录编号 ok 已导入过"]
    with db.session_scope(iworld) as session:
        assert session.scalar(select(func.count()).select_from(InvasiveRecord)) == 1


def test_missing_columns_and_unit_mismatch(iworld: Engine, tmp_path: Path) -> None:
    no_value = sheet(tmp_path / "a.csv", [GOOD[:4]], header=HEADER[:4])
    with db.session_scope(iworld) as session, pytest.raises(InputFileError, match="数值"):
        import_records(session, no_value, actor="t", today=TODAY)
    unit = sheet(tmp_path / "b.csv", [[*GOOD, "只"], [*row("u2", "福寿螺", "density", "2024-06-01", "1"), "头/平方米"]],
                 header=[*HEADER, "单位"])  # fmt: skip
    with db.session_scope(iworld) as session, pytest.raises(ValidationError) as err:
        import_records(session, unit, actor="t", today=TODAY)
    # 只 is not 株(网幕); 头/平方米 is 头/m² written out, which is accepted
    assert (
        len(err.value.rows) == 1
        and "第 2 行" in err.value.rows[0]
        and "株(网幕)" in err.value.rows[0]
    )


def test_generated_ids_refuse_the_same_file_twice(iworld: Engine, tmp_path: Path) -> None:
    path = sheet(tmp_path / "r.csv", [GOOD[1:]], header=HEADER[1:])  # no 记录编号 column
    with db.session_scope(iworld) as session:
        result = import_records(session, path, actor="t", today=TODAY)
        assert result.records[0].record_id == f"{result.sha256[:12]}-2"  # file hash, line 2
    with db.session_scope(iworld) as session, pytest.raises(ValidationError, match="已导入过"):
        import_records(session, path, actor="t", today=TODAY)
