"""Control actions (亩 → 公顷), the per-species figures of a year, a trap's daily catch series
with 始见期 and peak, and the occurrence map (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecoplan import audit, db
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.monitoring.invasive import add_site, import_records
from ecoplan.monitoring.invasive_control import (
    add_control,
    hectares,
    occurrence_geojson,
    site_phenology,
    species_phenology,
    species_summary,
)
from tests.monitoring.invasive_fixtures import HAIDIAN, TODAY, YANQING, iworld, row, sheet

__all__ = ["iworld"]


def test_mu_to_hectares() -> None:
    assert hectares(30, "亩") == pytest.approx(2.0)  # 30 亩 ÷ 15 亩/公顷 = 2 公顷
    assert hectares(1, "亩") == pytest.approx(1 / 15)  # 666.67 m² = 0.0667 公顷
    assert hectares(1.5, "公顷") == hectares(1.5, "ha") == 1.5
    with pytest.raises(ValidationError, match="面积单位"):
        hectares(1, "平方米")
    with pytest.raises(ValidationError, match="非负"):
        hectares(-1, "亩")


def test_add_control_where_and_how(iworld: Engine) -> None:
    with db.session_scope(iworld) as session:
        add_site(session, code="YQ-T1", name="延庆诱捕器1", species_key="hyphantria_cunea", kind="trap",
                 lon=YANQING[0], lat=YANQING[1], actor="t")  # fmt: skip
        at_site = add_control(session, species_key="hyphantria_cunea", done_on=dt.date(2024, 6, 20), method="生物",
                              area=45, area_unit="亩", site_code="YQ-T1", detail="释放白蛾周氏啮小蜂",
                              before_value=12, after_value=2, result="网幕减少 83%", actor="t", today=TODAY)  # fmt: skip
        # 45 亩 ÷ 15 = 3 公顷
        assert (at_site.method, at_site.area_ha, at_site.district_name) == (
            "biological",
            pytest.approx(3.0),
            "延庆区",
        )
        at_point = add_control(session, species_key="pomacea_canaliculata", done_on=dt.date(2024, 6, 21),
                               method="physical", area=0.5, lon=HAIDIAN[0], lat=HAIDIAN[1], actor="t", today=TODAY)  # fmt: skip
        assert (at_point.area_ha, at_point.district_code) == (0.5, "110108")
        entry = audit.entries(session, entity_type="invasive_control", entity_id=str(at_site.id))[0]
        assert entry.after["area_given"] == [45, "亩"] and entry.after["area_ha"] == pytest.approx(
            3.0
        )
        cases = [
            ({"method": "喷洒"}, "防治方式"),
            ({"site_code": None}, "防治地点"),
            ({"done_on": TODAY + dt.timedelta(days=1)}, "晚于今天"),
            ({"species_key": "pomacea_canaliculata"}, "不是福寿螺的监测点"),
            ({"site_code": None, "lon": 40.46, "lat": 115.97}, "颠倒"),
            ({"before_value": -1.0}, "非负"),
        ]
        for change, words in cases:
            args = {"species_key": "hyphantria_cunea", "done_on": dt.date(2024, 6, 20), "method": "综合",
                    "area": 1.0, "site_code": "YQ-T1", **change}  # fmt: skip
            with pytest.raises(ValidationError, match=words):
                add_control(session, actor="t", today=TODAY, **args)  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            add_control(session, species_key="hyphantria_cunea", done_on=TODAY, method="综合", area=1.0,
                        site_code="NOPE", actor="t", today=TODAY)  # fmt: skip


def test_year_summary_series_and_map(iworld: Engine, tmp_path: Path) -> None:
    with db.session_scope(iworld) as session:
        add_site(session, code="YQ-T1", name="延庆诱捕器1", species_key="hyphantria_cunea", kind="trap",
                 lon=YANQING[0], lat=YANQING[1], township="康庄镇", actor="t")  # fmt: skip
        import_records(session, sheet(tmp_path / "r.csv", [
            row("s0", "美国白蛾", "trap_catch", "2024-06-01", "0", site="YQ-T1"),  # first check
            row("s1", "美国白蛾", "trap_catch", "2024-06-04", "6", site="YQ-T1"),  # 6 ÷ 3 days = 2.0
            row("s2", "美国白蛾", "trap_catch", "2024-06-11", "35", site="YQ-T1"),  # 35 ÷ 7 = 5.0
            row("s3", "美国白蛾", "trap_catch", "2024-06-15", "8", effort="2", site="YQ-T1"),  # 8 ÷ 2 = 4.0
            row("n1", "美国白蛾", "nest_trees", "2024-06-15", "6", at=HAIDIAN),  # positive, 海淀
            row("old", "美国白蛾", "nest_trees", "2023-06-15", "2", at=HAIDIAN),  # another year
        ]), actor="t", today=TODAY)  # fmt: skip
        for day, area, unit in ((dt.date(2024, 6, 20), 30, "亩"), (dt.date(2024, 6, 21), 1.5, "公顷"),
                                (dt.date(2023, 6, 21), 9, "公顷")):  # fmt: skip
            add_control(session, species_key="hyphantria_cunea", done_on=day, method="物理", area=area,
                        area_unit=unit, site_code="YQ-T1", actor="t", today=TODAY)  # fmt: skip
    with db.session_scope(iworld) as session:
        summary = {s.key: s for s in species_summary(session, 2024)}
        white = summary["hyphantria_cunea"]
        # 2024: 5 records (s0–s3, n1), positive all but s0 = 4; alerts on 2024 records: new
        # township 康庄镇 (s1) and threshold n1 (6 > 5 株) = 2 (海淀区's first record is 2023's
        # "old"; trap catches stay at or under 5 a day); area: 30 亩 ÷ 15 + 1.5 公顷 = 3.5 公顷
        # (the 2023 action is another year)
        assert (white.sites, white.records, white.positives, white.alerts, white.open_alerts) == (
            1,
            5,
            4,
            2,
            2,
        )
        assert (white.controls, white.area_ha, white.districts) == (
            2,
            pytest.approx(3.5),
            ["延庆区", "海淀区"],
        )
        assert summary["lithobates_catesbeianus"].records == 0
        season = site_phenology(session, "YQ-T1", 2024)
        assert [(p.days, p.daily) for p in season.points] == [
            (None, None),
            (3.0, 2.0),
            (7.0, 5.0),
            (2.0, 4.0),
        ]
        assert (season.first_catch, season.peak_day, season.peak_daily, season.total) == (
            dt.date(2024, 6, 4),
            dt.date(2024, 6, 11),
            5.0,
            49.0,
        )  # fmt: skip  (0 + 6 + 35 + 8)
        assert [s.site_code for s in species_phenology(session, "hyphantria_cunea", 2024)] == [
            "YQ-T1"
        ]
        geo = occurrence_geojson(session, "hyphantria_cunea", 2024)
        props = {f["properties"]["record_id"]: f for f in geo["features"]}
        assert set(props) == {"s0", "s1", "s2", "s3", "n1"}
        assert (
            props["s0"]["properties"]["positive"] is False
            and props["n1"]["properties"]["positive"] is True
        )
        assert props["n1"]["geometry"] == {"type": "Point", "coordinates": [HAIDIAN[0], HAIDIAN[1]]}
        assert (
            props["s1"]["properties"]["site"] == "YQ-T1"
            and props["s1"]["properties"]["township"] == "康庄镇"
        )
