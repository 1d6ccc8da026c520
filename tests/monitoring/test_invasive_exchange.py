"""Beijing–Tianjin–Hebei exchange CSV: out and back in gives the same records, a partner's
file keeps its province and raises no Beijing alerts, a bad file is refused whole."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecoplan import db
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.monitoring.invasive import import_records, import_sites, sync_species
from ecoplan.monitoring.invasive_alerts import run_alerts
from ecoplan.monitoring.invasive_control import occurrence_geojson
from ecoplan.monitoring.invasive_exchange import COLUMNS, export_records_csv, import_exchange_csv
from ecoplan.monitoring.invasive_models import (
    InvasiveAlert,
    InvasiveRecord,
    InvasiveSite,
    InvasiveSpecies,
)
from ecoplan.units.service import sync_builtin
from tests.monitoring.invasive_fixtures import (
    HAIDIAN,
    MENTOUGOU,
    TODAY,
    YANQING,
    iworld,
    row,
    sheet,
)

__all__ = ["iworld"]

TIANJIN = (117.20, 39.13)  # 天津市和平区, inside the 京津冀 box (113.4–119.9 E, 36.0–42.7 N)
SITES = [["YQ-T1", "延庆诱捕器1", "美国白蛾", "trap", str(YANQING[0]), str(YANQING[1]), "康庄镇"]]
SITE_HEADER = ["监测点编号", "名称", "物种", "类型", "经度", "纬度", "乡镇"]


def stored(engine: Engine) -> list[tuple[object, ...]]:
    with db.session_scope(engine) as session:
        query = (
            select(InvasiveRecord, InvasiveSpecies.scientific_name, InvasiveSite.code)
            .join(InvasiveSpecies, InvasiveSpecies.id == InvasiveRecord.species_id)
            .outerjoin(InvasiveSite, InvasiveSite.id == InvasiveRecord.site_id)
            .where(InvasiveRecord.province == "北京")
            .order_by(InvasiveRecord.record_id)
        )
        return [(r.record_id, name, r.observed_on, r.method, r.value, r.value_unit, r.effort_days, r.lon, r.lat,
                 r.province, r.district_code, r.district_name, r.township, r.host, r.recorded_by, r.remarks, site)
                for r, name, site in session.execute(query)]  # fmt: skip


def partner_file(path: Path, rows: list[dict[str, str]]) -> Path:
    base = {"record_id": "", "province": "天津市", "scientific_name": "Hyphantria cunea", "name_cn": "美国白蛾",
            "method": "nest_trees", "value": "1", "value_unit": "株(网幕)", "effort_days": "",
            "observed_on": "2024-06-03", "lon": str(TIANJIN[0]), "lat": str(TIANJIN[1]), "district_code": "120101",
            "district_name": "和平区", "township": "南营门街道", "site_code": "TJ-01", "host": "白蜡",
            "recorded_by": "天津市林业有害生物防治站", "remarks": ""}  # fmt: skip
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows([{**base, **r} for r in rows])
    return path


def test_round_trip_gives_the_same_records(iworld: Engine, tmp_path: Path) -> None:
    sites = sheet(tmp_path / "sites.csv", SITES, header=SITE_HEADER)
    with db.session_scope(iworld) as session:
        import_sites(session, sites, actor="t")
        import_records(session, sheet(tmp_path / "r.csv", [
            row("w1", "美国白蛾", "trap_catch", "2024-06-01", "0", site="YQ-T1"),  # a negative travels too
            row("w2", "美国白蛾", "trap_catch", "2024-06-08", "12", effort="7", site="YQ-T1"),
            row("w3", "美国白蛾", "nest_trees", "2024-06-02", "2.5", at=HAIDIAN, township="西北旺镇"),
            row("p1", "松材线虫", "positive_sample", "2024-05-20", "1", at=MENTOUGOU),
            row("old", "美国白蛾", "nest_trees", "2023-06-02", "1", at=HAIDIAN),  # another year
            row("frog", "牛蛙", "sighting", "2024-06-02", "1", at=HAIDIAN),  # not asked for
        ]), actor="t", today=TODAY)  # fmt: skip
        import_exchange_csv(session, partner_file(tmp_path / "tj.csv", [{"record_id": "TJ-1"}]), actor="t",
                            province="天津", today=TODAY)  # fmt: skip
        data = export_records_csv(session, ["hyphantria_cunea", "bursaphelenchus_xylophilus"], 2024)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens it in Chinese
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(table[0]) == list(COLUMNS)
    # by scientific name (Bursaphelenchus < Hyphantria), then date: p1, w1, w3 (06-02), w2
    assert [r["record_id"] for r in table] == ["p1", "w1", "w3", "w2"]  # no 2023, no 牛蛙, no 天津
    assert (table[3]["effort_days"], table[3]["value"], table[3]["site_code"]) == (
        "7",
        "12",
        "YQ-T1",
    )
    assert (table[2]["value"], table[2]["lon"], table[2]["province"]) == ("2.5", "116.22", "北京")
    (tmp_path / "bj.csv").write_bytes(data)

    other = db.make_engine(f"sqlite:///{tmp_path / 'partner.db'}")
    try:
        db.upgrade(other)
        with db.session_scope(other) as session:
            sync_builtin(session, actor="t")
            sync_species(session, actor="t")
            import_sites(session, sites, actor="t")
            result = import_exchange_csv(
                session, tmp_path / "bj.csv", actor="t", province="北京", today=TODAY
            )
            assert len(result.records) == 4 and result.records[0].origin == "exchange:北京:bj.csv"
        with db.session_scope(other) as session:
            again = export_records_csv(
                session, ["hyphantria_cunea", "bursaphelenchus_xylophilus"], 2024
            )
            with pytest.raises(ValidationError, match="已导入过"):
                import_exchange_csv(
                    session, tmp_path / "bj.csv", actor="t", province="北京", today=TODAY
                )
        assert again == data
        exported = {r[0] for r in stored(iworld)} & {r["record_id"] for r in table}
        assert [r for r in stored(iworld) if r[0] in exported] == stored(other)
    finally:
        other.dispose()


def test_partner_records_keep_their_province_and_raise_no_alert(
    iworld: Engine, tmp_path: Path
) -> None:
    path = partner_file(tmp_path / "tj.csv", [
        {"record_id": "TJ-1"},
        {"record_id": "TJ-2", "scientific_name": "Bursaphelenchus xylophilus", "name_cn": "松材线虫",
         "method": "positive_sample", "value": "1", "value_unit": "阳性(1)/阴性(0)", "site_code": ""},
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        result = import_exchange_csv(session, path, actor="t", province="天津市", today=TODAY)
        assert (len(result.records), result.positives) == (2, 2)
        assert (
            result.alerts is not None and result.alerts.alerts == []
        )  # a quarantine find, in Tianjin
        first = result.records[0]
        assert (first.province, first.district_code, first.district_name, first.township, first.origin) == (
            "天津", "120101", "和平区", "南营门街道", "exchange:天津:tj.csv")  # fmt: skip
        assert first.site_id is None and first.remarks == "[对方监测点 TJ-01]"  # kept, not dropped
        assert run_alerts(session, today=TODAY, actor="t").alerts == []
        assert session.scalar(select(func.count()).select_from(InvasiveAlert)) == 0
        geo = occurrence_geojson(session, "hyphantria_cunea", 2024)  # the joint map shows them
        assert [f["properties"]["province"] for f in geo["features"]] == ["天津"]


def test_a_bad_exchange_file_is_refused_whole(iworld: Engine, tmp_path: Path) -> None:
    path = partner_file(tmp_path / "tj.csv", [
        {"record_id": "ok"},
        {"record_id": "far", "lon": "121.47", "lat": "31.23"},  # Shanghai: outside the 京津冀 box
        {"record_id": "hb", "province": "河北"},  # not the sender
        {"record_id": "sp", "scientific_name": "Ambrosia artemisiifolia", "name_cn": "豚草"},
        {"record_id": "ok"},  # duplicate
    ])  # fmt: skip
    with db.session_scope(iworld) as session, pytest.raises(ValidationError) as err:
        import_exchange_csv(session, path, actor="t", province="天津", today=TODAY)
    assert [r.split(":")[0] for r in err.value.rows] == ["第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    assert "京津冀范围" in err.value.rows[0] and "与本次导入的来源“天津”不符" in err.value.rows[1]
    with db.session_scope(iworld) as session:
        assert session.scalar(select(func.count()).select_from(InvasiveRecord)) == 0
        with pytest.raises(ValidationError, match="来源省份"):
            import_exchange_csv(session, path, actor="t", province="山西", today=TODAY)
    no_ids = sheet(tmp_path / "x.csv", [row("a", "美国白蛾", "nest_trees", "2024-06-01", "1")[1:]],
                   header=["物种", "监测方法", "日期", "数值", "诱捕天数", "经度", "纬度", "乡镇", "监测点编号"])  # fmt: skip
    with db.session_scope(iworld) as session, pytest.raises(InputFileError, match="记录编号"):
        import_exchange_csv(session, no_ids, actor="t", province="北京", today=TODAY)
