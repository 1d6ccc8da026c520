"""Temporary land use (src/ecoplan/cases/templand.py) on real district boundaries, on SQLite and
PostgreSQL.

Most polygons are drawn in the equal-area CRS the module measures in, as rectangles a given
number of metres from a point in 海淀区 (116.22 E, 40.05 N), so their areas are exact:
a 200 m × 200 m permit is 40 000 m². The import test draws in degrees and checks the areas
against the ellipsoid by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer
from sqlalchemy import func, select
from typer.testing import CliRunner

from ecoplan import audit, db
from ecoplan.cases.layers import load_layer
from ecoplan.cases.models import Clue, ClueBatch
from ecoplan.cases.register_models import TempLandObservation, TempLandPermit
from ecoplan.cases.rules import TempLandRule
from ecoplan.cases.spatial import Districts
from ecoplan.cases.templand import (
    add_observation,
    check_permits,
    clue_code,
    find_violations,
    import_permits,
    mark_restored,
    parse_date,
    permit_status,
)
from ecoplan.errors import ConflictError, NotFoundError, ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.units.models import Unit
from tests.cases.conftest import TODAY, square
from tests.supervision.conftest import World

HAIDIAN = (116.22, 40.05)  # inside 海淀区, far from its borders
_TO_METRIC = Transformer.from_crs(WGS84, EQUAL_AREA, always_xy=True)
_TO_WGS84 = Transformer.from_crs(EQUAL_AREA, WGS84, always_xy=True)
CX, CY = _TO_METRIC.transform(*HAIDIAN)
RULE = TempLandRule()  # the shipped defaults: 2 / 4 years, 1 year, 5 %, 100 m²


def mbox(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A w × h metre rectangle (equal-area CRS) with its south-west corner x m east and y m
    north of HAIDIAN, in WGS84."""
    lon, lat = _TO_WGS84.transform(
        [CX + x, CX + x + w, CX + x + w, CX + x], [CY + y, CY + y, CY + y + h, CY + y + h]
    )
    return shapely.Polygon(zip(lon, lat, strict=True))


def props(no: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"批准文号": no, "申请人": "某建设有限公司", "用途": "施工便道",
            "批准机关": "海淀区规划和自然资源分局", "批准文件": f"{no} 批复",
            "开始日期": start, "结束日期": end, "长周期": "否", **extra}  # fmt: skip


def permits_file(
    path: Path, rows: list[tuple[Any, dict[str, Any]]], crs: str = "EPSG:4326"
) -> Path:
    frame = gpd.GeoDataFrame([p for _, p in rows], geometry=[g for g, _ in rows], crs=crs)
    frame.to_file(path)
    return path


def _count(world: World, model: type) -> int:
    with db.session_scope(world.engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# ------------------------------------------------------------------------------- import


def test_import_measures_area_district_and_red_line(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    x, y = HAIDIAN
    red = tmp_path / "redline.geojson"
    # the red line covers everything west of 116.22 E around the permit: its western half
    gpd.GeoDataFrame({"code": ["HX-1"], "name": ["西山红线"]},
                     geometry=[shapely.box(x - 0.01, y - 0.01, x, y + 0.01)],
                     crs="EPSG:4326").to_file(red)  # fmt: skip
    path = permits_file(tmp_path / "permits.geojson", [
        (square(x, y), props("海临〔2024〕1号", "2024-01-01", "2025/12/31")),
        (square(x + 0.02, y), props("海临〔2024〕2号", "2024年3月1日", "20240831",
                                    长周期="是", 复垦验收日期="2024-05-30")),
    ])  # fmt: skip
    with db.session_scope(cworld.engine) as session:
        load_layer(session, red, kind="redline", name="生态保护红线", actor="test")
        permits = import_permits(session, path, actor="test", today=TODAY, districts=districts)
        one, two = permits
        # 0.002° × 0.002° at 40.05° N on the WGS-84 ellipsoid: N·cos φ·π/180 = 85 331.5 m per
        # degree of longitude, M·π/180 = 111 035.6 m per degree of latitude, so
        # 0.002 × 85 331.5 = 170.66 m by 0.002 × 111 035.6 = 222.07 m = 37 899 m²
        assert one.area_m2 == pytest.approx(37_899, rel=1e-3)
        # half of it west of 116.22 E: 0.001° × 0.002° = 37 899 / 2 = 18 950 m² in the red line
        assert one.redline_m2 == pytest.approx(18_950, rel=1e-3)
        assert two.redline_m2 == 0.0  # 0.02° (1.7 km) further east
        assert (one.district_code, one.district_name) == ("110108", "海淀区")
        assert (one.starts_on, one.ends_on, one.long_cycle, one.restored_on) == (
            dt.date(2024, 1, 1), dt.date(2025, 12, 31), False, None,
        )  # fmt: skip
        assert (two.starts_on, two.ends_on, two.long_cycle, two.restored_on) == (
            dt.date(2024, 3, 1), dt.date(2024, 8, 31), True, dt.date(2024, 5, 30),
        )  # fmt: skip
        logged = audit.entries(session, entity_type="temp_land_permit", entity_id=str(one.id))
        assert logged[0].action == "temp_land.permit.create"
        assert logged[0].after["redline_m2"] == one.redline_m2


def test_english_fields_geopackage_and_other_crs(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    rows = {"permit_no": ["XC-01"], "applicant": ["某水务公司"], "purpose": ["管线施工"],
            "authority": ["市规划自然资源委"], "approval_no": ["京规自临〔2024〕9号"],
            "starts_on": [dt.date(2024, 2, 1)], "ends_on": [dt.date(2027, 1, 31)], "long_cycle": ["yes"]}  # fmt: skip
    metric = gpd.GeoSeries([mbox(0, 0, 200, 200)], crs="EPSG:4326").to_crs("EPSG:3857")
    path = tmp_path / "permits.gpkg"
    gpd.GeoDataFrame(rows, geometry=metric.values, crs="EPSG:3857").to_file(path)
    with db.session_scope(cworld.engine) as session:
        [permit] = import_permits(session, path, actor="test", today=TODAY, districts=districts)
        assert permit.area_m2 == pytest.approx(40_000, abs=0.5)  # 200 m × 200 m
        assert (permit.long_cycle, permit.ends_on) == (True, dt.date(2027, 1, 31))


def test_bad_rows_refuse_the_whole_file(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    good = (mbox(0, 0, 100, 100), props("G-1", "2024-01-01", "2024-12-31"))
    bad = [
        (mbox(200, 0, 100, 100), props("B-1", "2024-01-01", "2024-12-31", 申请人="")),
        (mbox(400, 0, 100, 100), props("B-2", "2024-01-01", "2024-02-30")),
        (mbox(600, 0, 100, 100), props("B-3", "2024-06-01", "2024-05-31")),
        (mbox(800, 0, 100, 100), props("G-1", "2024-01-01", "2024-12-31")),
        (shapely.Point(*HAIDIAN), props("B-5", "2024-01-01", "2024-12-31")),
        (square(121.47, 31.23), props("B-6", "2024-01-01", "2024-12-31")),  # Shanghai
        (mbox(1000, 0, 100, 100), props("B-7", "2024-01-01", "2024-12-31", 长周期="也许")),
        (mbox(1200, 0, 100, 100), props("B-8", "2024-01-01", "2024-12-31", 复垦验收日期="2024-07-01")),
    ]  # fmt: skip
    path = permits_file(tmp_path / "bad.geojson", [good, *bad])
    with pytest.raises(ValidationError) as caught, db.session_scope(cworld.engine) as session:
        import_permits(session, path, actor="test", today=TODAY, districts=districts)
    assert "8 处错误,未导入任何临时用地" in str(caught.value)
    assert caught.value.rows == [
        "第 2 个要素(B-1): 缺少申请人",
        "第 3 个要素(B-2): 结束日期“2024-02-30”不是有效日期",
        "第 4 个要素(B-3): 结束日期 2024-05-31 早于开始日期 2024-06-01",
        "第 5 个要素(G-1): 批准文号 G-1 与第 1 个要素重复",
        "第 6 个要素(B-5): 几何为 Point,应为面(Polygon/MultiPolygon)",
        "第 7 个要素(B-6): 位置不在北京市范围内(坐标系是否正确?经纬度是否颠倒?)",
        "第 8 个要素(B-7): 长周期“也许”应为 是 或 否",
        "第 9 个要素(B-8): 复垦验收日期 2024-07-01 晚于今天 2024-06-03",
    ]
    assert _count(cworld, TempLandPermit) == 0
    no_applicant = tmp_path / "cols.geojson"
    gpd.GeoDataFrame([{k: v for k, v in good[1].items() if k != "申请人"}], geometry=[good[0]],
                     crs="EPSG:4326").to_file(no_applicant)  # fmt: skip
    with (
        pytest.raises(ValidationError, match="缺少字段“申请人”"),
        db.session_scope(cworld.engine) as session,
    ):
        import_permits(session, no_applicant, actor="test", today=TODAY, districts=districts)
    once = permits_file(tmp_path / "good.geojson", [good])
    with db.session_scope(cworld.engine) as session:
        import_permits(session, once, actor="test", today=TODAY, districts=districts)
    with (
        pytest.raises(ValidationError, match="批准文号 G-1 已登记"),
        db.session_scope(cworld.engine) as session,
    ):
        import_permits(session, once, actor="test", today=TODAY, districts=districts)
    assert _count(cworld, TempLandPermit) == 1


def test_dates_are_read_in_the_usual_ways() -> None:
    for text in ("2024-03-01", "2024/3/1", "2024.03.01", "2024年3月1日", "20240301",
                 "2024/03/01 00:00:00", dt.datetime(2024, 3, 1, 8), 20240301.0):  # fmt: skip
        assert parse_date(text) == dt.date(2024, 3, 1), text
    assert parse_date(None) is None and parse_date(" ") is None and parse_date(float("nan")) is None
    for text in ("2024-02-30", "3/1/2024", "下月"):
        with pytest.raises(ValueError):
            parse_date(text)


# ------------------------------------------------------------------------------- rules, pure


def _permit(start: dt.date, end: dt.date, *, long_cycle: bool = False,
            restored: dt.date | None = None) -> TempLandPermit:  # fmt: skip
    return TempLandPermit(permit_no="P", applicant="a", purpose="p", authority="x",
                          approval_no="n", long_cycle=long_cycle,
                          geometry=shapely.geometry.mapping(mbox(0, 0, 200, 200)), area_m2=40_000.0,
                          starts_on=start, ends_on=end, restored_on=restored, observations=[])  # fmt: skip


def _observe(permit: TempLandPermit, on: dt.date, area: float, outside: float) -> None:
    permit.observations.append(TempLandObservation(
        id=len(permit.observations) + 1, observed_on=on, source="遥感", area_m2=area,
        outside_m2=outside, geometry=permit.geometry))  # fmt: skip


def kinds(permit: TempLandPermit, today: dt.date = TODAY) -> list[str]:
    return [v.kind for v in find_violations(permit, today, RULE)]


def test_term_limit_edges() -> None:
    d = dt.date
    # 2 years from 2024-01-01 is 2026-01-01: accepted (a term "至 2026-01-01" counted either
    # way), one day more is not; a long-cycle project gets 4 years
    assert kinds(_permit(d(2024, 1, 1), d(2026, 1, 1))) == []
    assert kinds(_permit(d(2024, 1, 1), d(2026, 1, 2))) == ["term"]
    assert kinds(_permit(d(2024, 1, 1), d(2028, 1, 1), long_cycle=True)) == []
    assert kinds(_permit(d(2024, 1, 1), d(2028, 1, 2), long_cycle=True)) == ["term"]
    assert kinds(_permit(d(2024, 1, 1), d(2028, 1, 1))) == ["term"]
    # 29 Feb + 2 years = 28 Feb
    [term] = find_violations(_permit(d(2024, 2, 29), d(2026, 3, 1)), TODAY, RULE)
    assert (term.figures["最迟结束日期"], term.figures["超出天数"]) == ("2026-02-28", 1)


def test_over_extent_edges() -> None:
    d = dt.date
    permit = _permit(d(2024, 1, 1), d(2025, 6, 30))
    # area tolerance: 40 000 × 1.05 = 42 000 m²
    _observe(permit, d(2024, 5, 1), 41_999.0, 0.0)
    assert kinds(permit) == []
    _observe(permit, d(2024, 5, 2), 42_001.0, 0.0)
    assert kinds(permit) == ["over_extent"]
    # the latest observation decides; outside tolerance 100 m²
    _observe(permit, d(2024, 5, 3), 40_000.0, 99.9)
    assert kinds(permit) == []
    _observe(permit, d(2024, 5, 4), 40_000.0, 100.1)
    [v] = find_violations(permit, TODAY, RULE)
    assert (v.kind, v.key_date, v.observation_id) == ("over_extent", d(2024, 5, 4), 4)
    assert v.figures["超出批准面积比例"] == "0.0%" and v.figures["批准范围外面积(㎡)"] == 100.1
    # an observation dated after the checking day is not seen yet
    assert kinds(permit, d(2024, 5, 3)) == []


def test_overdue_needs_use_seen_after_the_term() -> None:
    d = dt.date
    permit = _permit(d(2022, 7, 1), d(2023, 12, 31))
    assert kinds(permit) == []  # past its term, not restored, but nobody saw it used
    _observe(permit, d(2023, 12, 31), 30_000.0, 0.0)  # the last day of the term
    assert kinds(permit) == []
    _observe(permit, d(2024, 1, 1), 30_000.0, 0.0)
    [v] = find_violations(permit, TODAY, RULE)
    assert (v.kind, v.key_date, v.figures["超期天数"]) == ("overdue", d(2024, 1, 1), 1)
    # restored on 2024-03-01: the January use is no longer reported, a use after it is
    permit.restored_on = d(2024, 3, 1)
    assert kinds(permit) == []
    _observe(permit, d(2024, 4, 1), 30_000.0, 0.0)
    assert kinds(permit) == ["overdue"]


def test_restoration_edges() -> None:
    d = dt.date
    # term ending 2023-06-03: 复垦 due 2024-06-03 = TODAY, not late yet; one day earlier is
    assert kinds(_permit(d(2022, 6, 4), d(2023, 6, 3))) == []
    [v] = find_violations(_permit(d(2022, 6, 3), d(2023, 6, 2)), TODAY, RULE)
    assert (v.kind, v.key_date, v.figures["逾期天数"]) == ("restoration_overdue", d(2024, 6, 2), 1)
    assert kinds(_permit(d(2022, 6, 3), d(2023, 6, 2), restored=d(2024, 6, 1))) == []


def test_clue_codes_fit_forty_characters() -> None:
    assert (
        clue_code("海临〔2023〕5号", "overdue", dt.date(2024, 1, 1))
        == "TL-海临〔2023〕5号-OD-20240101"
    )
    long = clue_code("京规自(海)临字〔2023〕第0000012号-补充批复-2", "term", dt.date(2026, 1, 2))
    assert len(long) <= 40 and long.startswith("TL-#") and long.endswith("-TM-20260102")


# ------------------------------------------------------------------------------- checks


# (permit number, south-west corner in metres from HAIDIAN, size, term, long cycle)
SITES: list[tuple[str, float, float, float, str, str, str]] = [
    ("海临〔2024〕1号", 0, 0, 200, "2024-01-01", "2025-06-30", "否"),  # 101 m² outside
    ("海临〔2024〕2号", 400, 0, 200, "2024-01-01", "2025-06-30", "否"),  # 99 m² outside
    ("海临〔2024〕3号", 800, 0, 30, "2024-01-01", "2025-06-30", "否"),  # +4.9 %
    ("海临〔2024〕4号", 1200, 0, 30, "2024-01-01", "2025-06-30", "否"),  # +5.1 %
    ("海临〔2023〕5号", 0, 400, 200, "2022-07-01", "2023-12-31", "否"),  # used after its term
    ("海临〔2023〕6号", 400, 400, 200, "2023-01-01", "2023-12-31", "否"),  # past term, unseen
    ("海临〔2022〕7号", 800, 400, 200, "2022-06-03", "2023-06-02", "否"),  # 复垦 due 06-02
    ("海临〔2022〕8号", 1200, 400, 200, "2022-06-04", "2023-06-03", "否"),  # 复垦 due 06-03
    ("海临〔2024〕9号", 0, 800, 200, "2024-01-01", "2026-01-02", "否"),  # 2 years + 1 day
    ("海临〔2024〕10号", 400, 800, 200, "2024-01-01", "2026-01-01", "否"),  # 2 years
    ("海临〔2024〕11号", 800, 800, 200, "2024-01-01", "2028-01-01", "是"),  # 4 years
    ("海临〔2024〕12号", 1200, 800, 200, "2024-01-01", "2028-01-02", "是"),  # 4 years + 1 day
]


def _scenario(session: Any, districts: Districts, tmp_path: Path) -> dict[str, TempLandPermit]:
    path = permits_file(tmp_path / "sites.geojson", [
        (mbox(x, y, size, size), props(no, start, end, 长周期=long))
        for no, x, y, size, start, end, long in SITES
    ])  # fmt: skip
    permits = {p.permit_no: p for p in import_permits(
        session, path, actor="test", today=TODAY, districts=districts)}  # fmt: skip

    def see(no: str, on: dt.date, geom: shapely.Geometry) -> TempLandObservation:
        return add_observation(session, no, geom, observed_on=on, source="2024Q2遥感监测",
                               actor="test", districts=districts)  # fmt: skip

    may = dt.date(2024, 5, 20)
    # the permit plus a separate 10 m × 10.1 m = 101 m² patch 50 m east of it; 99 m² for No. 2
    see("海临〔2024〕1号", may, shapely.union_all([mbox(0, 0, 200, 200), mbox(250, 0, 10, 10.1)]))
    see("海临〔2024〕2号", may, shapely.union_all([mbox(400, 0, 200, 200), mbox(650, 0, 10, 9.9)]))
    # 30 m × 31.47 m = 944.1 m² = 900 × 1.049; 30 × 31.53 = 945.9 m² = 900 × 1.051
    see("海临〔2024〕3号", may, mbox(800, 0, 30, 31.47))
    see("海临〔2024〕4号", may, mbox(1200, 0, 30, 31.53))
    # No. 5: a 100 m × 100 m corner still in use on the term's last day and the day after
    see("海临〔2023〕5号", dt.date(2023, 12, 31), mbox(0, 400, 100, 100))
    see("海临〔2023〕5号", dt.date(2024, 1, 1), mbox(0, 400, 100, 100))
    return permits


def test_check_files_each_violation_once(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    with db.session_scope(cworld.engine) as session:
        permits = _scenario(session, districts, tmp_path)
        obs = {o.permit.permit_no: o for o in session.scalars(select(TempLandObservation))}
        # outside the permit: exactly the patch; 944.1 m² observed on a 30 m × 30 m permit:
        # 44.1 m² north of it
        assert (obs["海临〔2024〕1号"].outside_m2, obs["海临〔2024〕2号"].outside_m2) == (
            pytest.approx(101.0, abs=0.1), pytest.approx(99.0, abs=0.1),
        )  # fmt: skip
        assert obs["海临〔2024〕1号"].area_m2 == pytest.approx(40_101, abs=0.1)
        assert obs["海临〔2024〕3号"].outside_m2 == pytest.approx(44.1, abs=0.1)
        assert permits["海临〔2024〕3号"].area_m2 == pytest.approx(900, abs=0.1)
        result = check_permits(session, TODAY, actor="test", districts=districts)
        assert result.permits == 12
        assert sorted(v.code for v in result.filed) == sorted([
            "TL-海临〔2024〕1号-OX-20240520",  # 101 m² > 100 m² outside
            "TL-海临〔2024〕4号-OX-20240520",  # 945.9 > 900 × 1.05 = 945 m²
            "TL-海临〔2023〕5号-OD-20240101",  # seen in use the day after its term
            "TL-海临〔2022〕7号-RO-20240602",  # 复垦 due 2024-06-02 < 2024-06-03
            "TL-海临〔2024〕9号-TM-20260102",  # 2 years and 1 day
            "TL-海临〔2024〕12号-TM-20280102",  # 4 years and 1 day, long cycle
        ])  # fmt: skip
        assert result.counts("filed") == {"超范围使用": 2, "超期使用": 1, "复垦逾期": 1,
                                          "批准期限超过规定": 2}  # fmt: skip
        assert result.batch is not None and result.batch.title == "临时用地核查 2024-06-03"
        clues = {c.code: c for c in result.clues}
        haidian = session.scalar(select(Unit.id).where(Unit.code == "110108"))
        verifier = session.scalar(select(Unit.id).where(Unit.code == "ghzrzyw"))
        over = clues["TL-海临〔2024〕1号-OX-20240520"]
        assert (over.kind, over.activity_type, over.source, over.state) == (
            "temp_land", "temp_land", "temp_land", "pending",
        )  # fmt: skip
        assert (over.district_name, over.unit_id, over.verifier_unit_id) == (
            "海淀区",
            haidian,
            verifier,
        )
        assert over.facts["临时用地批准文号"] == "海临〔2024〕1号"
        assert over.facts["违规类型"] == "超范围使用"
        # 101 / 40 000 = 0.25 % above the approved area; the part outside decides
        assert (over.facts["批准面积(㎡)"], over.facts["观测面积(㎡)"]) == (
            pytest.approx(40_000, abs=0.1), pytest.approx(40_101, abs=0.1),
        )  # fmt: skip
        assert over.facts["超出批准面积比例"] == "0.3%"
        assert over.facts["批准范围外面积(㎡)"] == pytest.approx(101.0, abs=0.1)
        assert "海临〔2024〕1号 批复" in over.legal_basis and over.period == "2024-06-03"
        # placed at what was observed (40 101 m²), the overdue clue at the 100 m × 100 m corner,
        # a term clue at the permit
        assert over.area_km2 * 1e6 == pytest.approx(40_101, abs=0.5)
        late = clues["TL-海临〔2023〕5号-OD-20240101"]
        assert late.area_km2 * 1e6 == pytest.approx(10_000, abs=0.5)
        assert (late.facts["违规类型"], late.facts["超期天数"]) == ("超期使用", 1)
        term = clues["TL-海临〔2024〕9号-TM-20260102"]
        assert term.area_km2 * 1e6 == pytest.approx(40_000, abs=0.5)
        assert term.facts["超出天数"] == 1 and term.facts["规定期限(年)"] == 2

    with db.session_scope(cworld.engine) as session:
        again = check_permits(session, TODAY, actor="test", districts=districts)
        assert (len(again.found), again.filed, again.batch) == (6, [], None)
        # No. 5 seen in use again: its overdue clue is still open, so no second clue
        add_observation(session, "海临〔2023〕5号", mbox(0, 400, 100, 100),
                        observed_on=dt.date(2024, 6, 1), source="外业GPS", actor="test",
                        districts=districts)  # fmt: skip
        later = check_permits(session, TODAY, actor="test", districts=districts)
        assert later.filed == [] and "TL-海临〔2023〕5号-OD-20240601" in [
            v.code for v in later.already
        ]
    assert _count(cworld, ClueBatch) == 1 and _count(cworld, Clue) == 6

    with db.session_scope(cworld.engine) as session:
        # once that clue is closed, the newer use is a new clue (回头看)
        closed = session.scalars(
            select(Clue).where(Clue.code == "TL-海临〔2023〕5号-OD-20240101")
        ).one()
        closed.state = "closed"
        session.flush()
        mark_restored(session, "海临〔2022〕7号", dt.date(2024, 6, 3), actor="test")
        nxt = check_permits(session, dt.date(2024, 6, 4), actor="test", districts=districts)
        # No. 7 restored: no restoration_overdue any more; No. 8 (due 2024-06-03) is late now
        assert [v.code for v in nxt.filed] == [
            "TL-海临〔2022〕8号-RO-20240603", "TL-海临〔2023〕5号-OD-20240601",
        ]  # fmt: skip
        assert "海临〔2022〕7号" not in {v.permit_no for v in nxt.found}
        assert nxt.batch is not None and nxt.batch.title == "临时用地核查 2024-06-04"


def test_register_rows(cworld: World, districts: Districts, tmp_path: Path) -> None:
    with db.session_scope(cworld.engine) as session:
        _scenario(session, districts, tmp_path)
        check_permits(session, TODAY, actor="test", districts=districts)
        rows = {r.permit.permit_no: r for r in permit_status(session, TODAY)}
    one = rows["海临〔2024〕1号"]
    # 2024-06-03 → 2025-06-03 is 365 days (no 29 Feb between), + 27 to 06-30 = 392
    assert (one.state, one.days_left, one.days_overdue) == ("使用中", 392, 0)
    assert one.latest_observed_on == dt.date(2024, 5, 20)
    assert one.latest_excess == pytest.approx(101 / 40_000, abs=1e-5)  # 40 101 / 40 000 − 1
    assert one.violations == ["超范围使用"] and one.open_clues == ["TL-海临〔2024〕1号-OX-20240520"]
    five = rows["海临〔2023〕5号"]
    # 2023-12-31 → 2024-06-03: 31 + 29 + 31 + 30 + 31 + 3 = 155 days
    assert (five.state, five.days_left, five.days_overdue) == ("到期待复垦", -155, 155)
    assert five.restoration_due == dt.date(2024, 12, 31)
    six = rows["海临〔2023〕6号"]
    assert (six.state, six.violations, six.open_clues, six.latest_observed_on) == (
        "到期待复垦", [], [], None,
    )  # fmt: skip
    assert rows["海临〔2022〕7号"].state == "复垦逾期"
    assert rows["海临〔2024〕2号"].violations == []


def test_observation_and_restoration_errors(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    path = permits_file(tmp_path / "one.geojson",
                        [(mbox(0, 0, 200, 200), props("P-1", "2024-01-01", "2024-12-31"))])  # fmt: skip
    obs_file = permits_file(tmp_path / "obs.geojson", [(mbox(0, 0, 100, 100), {"note": "x"})])
    with db.session_scope(cworld.engine) as session:
        import_permits(session, path, actor="test", today=TODAY, districts=districts)
        seen = add_observation(session, "P-1", obs_file, observed_on=dt.date(2024, 5, 1),
                               source="外业GPS", actor="test", districts=districts)  # fmt: skip
        assert (seen.area_m2, seen.outside_m2) == (pytest.approx(10_000, abs=0.1), 0.0)
        with pytest.raises(ConflictError, match="已有 2024-05-01 “外业GPS”的观测记录"):
            add_observation(session, "P-1", obs_file, observed_on=dt.date(2024, 5, 1),
                            source="外业GPS", actor="test", districts=districts)  # fmt: skip
        for geom, message in ((shapely.geometry.mapping(shapely.Point(*HAIDIAN)), "应为面"),
                              ({"type": "Polygon"}, "不是有效的 GeoJSON"),
                              (square(121.47, 31.23), "不在北京市范围内")):  # fmt: skip
            with pytest.raises(ValidationError, match=message):
                add_observation(session, "P-1", geom, observed_on=dt.date(2024, 5, 2),
                                source="遥感", actor="test", districts=districts)  # fmt: skip
        with pytest.raises(NotFoundError, match="P-9"):
            add_observation(session, "P-9", obs_file, observed_on=dt.date(2024, 5, 2),
                            source="遥感", actor="test", districts=districts)  # fmt: skip
        with pytest.raises(ValidationError, match="早于临时用地 P-1 的开始日期"):
            mark_restored(session, "P-1", dt.date(2023, 12, 1), actor="test")
        permit = mark_restored(session, "P-1", dt.date(2025, 3, 1), actor="test")
        assert permit.restored_on == dt.date(2025, 3, 1)
        [entry] = audit.entries(session, entity_type="temp_land_permit", entity_id=str(permit.id))[
            1:
        ]
        assert (entry.before, entry.after) == ({"restored_on": None}, {"restored_on": "2025-03-01"})


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ecoplan.cases.templand_cli import templand_app
    from ecoplan.config import get_settings

    monkeypatch.setenv("ECOPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    permits = permits_file(tmp_path / "p.geojson", [
        (mbox(0, 0, 200, 200), props("CLI-1", "2022-01-01", "2023-03-31")),
    ])  # fmt: skip
    seen = permits_file(tmp_path / "seen.geojson", [(mbox(0, 0, 200, 210), {"note": "x"})])
    runner = CliRunner()
    steps = [
        (["import", str(permits), "--today", "2024-06-03"], "已导入 1 项临时用地"),
        (
            ["observe", "CLI-1", str(seen), "--date", "2024-05-01", "--source", "遥感"],
            "范围外 2000",
        ),
        (["check", "--today", "2024-06-03"], "新立线索 3 条"),
        (["check", "--today", "2024-06-03"], "新立线索 0 条"),
        (["list", "--today", "2024-06-03"], "CLI-1"),
        (["restored", "CLI-1", "--date", "2024-06-01"], "复垦验收日期 2024-06-01"),
    ]
    for args, expected in steps:
        result = runner.invoke(templand_app, args)
        assert result.exit_code == 0, result.output
        assert expected in result.output, result.output
    bad = runner.invoke(templand_app, ["restored", "CLI-1", "--date", "2024-13-01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    get_settings.cache_clear()
