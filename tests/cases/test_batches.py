"""Clue batches on real district boundaries: placement, reference layers, same-place links and
every kind of bad input refused whole (on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import db
from ecoplan.cases.batches import BatchResult, import_file
from ecoplan.cases.layers import check_geometry, list_layers, load_layer
from ecoplan.cases.models import Clue, ClueBatch, RefLayer
from ecoplan.cases.spatial import Districts
from ecoplan.errors import EcoplanError
from ecoplan.units.models import Unit
from tests.cases.conftest import BOUNDARIES, TODAY, geojson_file, square
from tests.supervision.conftest import World

CHAOYANG = (116.52, 39.93)  # inside 朝阳区, far from its borders
HAIDIAN = (116.22, 40.05)  # inside 海淀区


def _mining(session: Session, path: Path, districts: Districts) -> BatchResult:
    return import_file(
        session, path, kind="mining", title="t", actor="test", today=TODAY, districts=districts
    )


def _count(world: World) -> int:
    with db.session_scope(world.engine) as session:
        return session.scalar(select(func.count()).select_from(Clue)) or 0


def test_clues_are_placed_in_districts_and_given_to_their_units(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    # a square across the 东城/朝阳 border, shifted so that most of it lies in 朝阳
    frame = gpd.read_file(BOUNDARIES).set_index("adcode")
    dong, chao = frame.geometry[110101], frame.geometry[110105]
    border = dong.boundary.intersection(chao.boundary)
    p = border.interpolate(0.5, normalized=True)
    shift = next(d for d in ((0.0012, 0), (-0.0012, 0), (0, 0.0012), (0, -0.0012))
                 if chao.contains(shapely.Point(p.x + d[0], p.y + d[1])))  # fmt: skip
    across = square(p.x + shift[0], p.y + shift[1], 0.002)
    path = geojson_file(tmp_path / "batch.geojson", [
        ("RL-1", square(*CHAOYANG), {"活动类型": "采矿(石)/采砂", "批次": "2024Q1"}),
        ("RL-2", square(*HAIDIAN), {"活动类型": "housing", "图斑面积": 12.5}),
        ("RL-3", across, {}),
    ])  # fmt: skip
    with db.session_scope(cworld.engine) as session:
        result = import_file(session, path, kind="redline_activity", title="2024Q1 红线", actor="test",
                             today=TODAY, districts=districts)  # fmt: skip
        assert result.count == 3
        clues = {c.code: c for c in result.batch.clues}
        units = {u.code: u.id for u in session.scalars(select(Unit))}
    # an independent check of the across square's split, in CGCS2000 / 3-degree GK zone 39
    parts = gpd.GeoSeries([across.intersection(g) for g in (dong, chao)], crs="EPSG:4326")
    dong_m2, chao_m2 = parts.to_crs("EPSG:4527").area
    assert chao_m2 / (dong_m2 + chao_m2) > 0.6
    assert [clues[c].district_name for c in ("RL-1", "RL-2", "RL-3")] == [
        "朝阳区",
        "海淀区",
        "朝阳区",
    ]
    assert clues["RL-1"].unit_id == units["110105"]
    assert {c.verifier_unit_id for c in clues.values()} == {units["ghzrzyw"]}
    assert (clues["RL-1"].activity_type, clues["RL-2"].activity_type, clues["RL-3"].activity_type) == (
        "mining", "housing", "other",
    )  # fmt: skip
    assert (clues["RL-1"].period, clues["RL-2"].facts) == ("2024Q1", {"图斑面积": 12.5})
    # pending clues are due 10 days after issue (deadline_days.pending = 10): 2024-06-03 + 10
    assert {c.due_on.isoformat() for c in clues.values() if c.due_on} == {"2024-06-13"}
    # a 0.002° square at 40° N: 0.002 × 111.32 km × cos 40° ≈ 170.6 m wide, 0.002 × 111.0 km
    # ≈ 222 m tall, ≈ 37 900 m²
    assert clues["RL-2"].area_km2 * 1e6 == pytest.approx(37_900, rel=0.01)
    assert clues["RL-1"].lon == pytest.approx(CHAOYANG[0], abs=1e-9)


@pytest.mark.parametrize(
    ("features", "crs", "message"),
    [
        ([("X-1", square(121.47, 31.23), {})], "EPSG:4326", "不在北京市范围内"),  # Shanghai
        ([("X-1", shapely.Point(39.93, 116.52), {})], "EPSG:4326", "经纬度是否颠倒"),
        # metres declared as degrees: Web-Mercator numbers in a file that says EPSG:4326
        ([("X-1", square(12_960_000, 4_850_000, 100), {})], "EPSG:4326", "坐标系是否正确"),
        ([("X-1", square(*CHAOYANG), {}), ("X-1", square(*HAIDIAN), {})], "EPSG:4326", "重复"),
        (
            [("X-1", square(*CHAOYANG), {"活动类型": "放风筝"})],
            "EPSG:4326",
            "活动类型“放风筝”无法识别",
        ),
        ([("", square(*CHAOYANG), {})], "EPSG:4326", "缺少线索编号"),
    ],
)
def test_bad_batches_are_refused_whole(cworld: World, districts: Districts, tmp_path: Path,
                                       features: list, crs: str, message: str) -> None:  # fmt: skip
    good = [("OK-1", square(*HAIDIAN), {})]
    path = geojson_file(tmp_path / "bad.geojson", good + features, crs=crs)
    with pytest.raises(EcoplanError, match=message), db.session_scope(cworld.engine) as session:
        import_file(session, path, kind="redline_activity", title="t", actor="test", today=TODAY,
                    districts=districts)  # fmt: skip
    assert _count(cworld) == 0


def test_other_crs_is_reprojected_and_missing_crs_refused(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    metric = gpd.GeoSeries([square(*CHAOYANG)], crs="EPSG:4326").to_crs("EPSG:3857")
    path = geojson_file(
        tmp_path / "mercator.geojson", [("M-1", metric.iloc[0], {})], crs="EPSG:3857"
    )
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # no .prj: what we test
        gpd.GeoDataFrame({"code": ["N-1"]}, geometry=[square(*CHAOYANG)]).to_file(shp)
    with db.session_scope(cworld.engine) as session:
        result = _mining(session, path, districts)
        assert result.batch.clues[0].lon == pytest.approx(CHAOYANG[0], abs=1e-6)
        with pytest.raises(EcoplanError, match="未声明坐标系"):
            _mining(session, shp, districts)


def test_invalid_polygons_are_repaired_and_reported(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    x, y = CHAOYANG
    bowtie = shapely.Polygon([(x, y), (x + 0.01, y + 0.01), (x + 0.01, y), (x, y + 0.01), (x, y)])
    assert not bowtie.is_valid
    path = geojson_file(tmp_path / "bowtie.geojson", [("B-1", bowtie, {})])
    with db.session_scope(cworld.engine) as session:
        result = _mining(session, path, districts)
        assert result.repaired == ["B-1"]
        geom = shapely.geometry.shape(result.batch.clues[0].geometry)
        assert geom.is_valid and geom.geom_type == "MultiPolygon"


def test_same_file_twice_and_known_codes_are_refused(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    first = geojson_file(tmp_path / "a.geojson", [("K-1", square(*CHAOYANG), {})])
    again = geojson_file(tmp_path / "b.geojson", [("K-1", square(*HAIDIAN), {"备注": "另一文件"})])
    with db.session_scope(cworld.engine) as session:
        _mining(session, first, districts)
    for path, message in ((first, "该文件已作为批次"), (again, "已在以前的批次中导入")):
        with pytest.raises(EcoplanError, match=message), db.session_scope(cworld.engine) as session:
            _mining(session, path, districts)
    assert _count(cworld) == 1


def test_same_place_links_to_earlier_clues(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    x, y = CHAOYANG
    old = geojson_file(tmp_path / "old.geojson", [
        ("P-1", square(x, y), {}),  # 0.002° × 0.002°
        ("P-2", shapely.Point(x + 0.05, y), {}),
    ])  # fmt: skip
    # S-1: shifted by 0.0002° (a tenth of the width): overlap 0.0018 × 0.002 over union
    #      0.0022 × 0.002 → IoU 0.818 > 0.5
    # S-2: shifted by 0.0012°: overlap 0.0008 / union 0.0032 → IoU 0.25, not the same place
    # S-3: 0.0002° of latitude north of P-2 ≈ 22.2 m < 30 m → same place (score 1 − 22.2/30 ≈ 0.26)
    # S-4: 0.0004° north ≈ 44.4 m > 30 m → not
    new = geojson_file(tmp_path / "new.geojson", [
        ("S-1", square(x + 0.0002, y), {}),
        ("S-2", square(x + 0.0012, y), {}),
        ("S-3", shapely.Point(x + 0.05, y + 0.0002), {}),
        ("S-4", shapely.Point(x + 0.05, y + 0.0004), {}),
        ("S-5", square(x + 0.0012, y + 0.00001), {}),  # same place as S-2 within the batch
    ])  # fmt: skip
    with db.session_scope(cworld.engine) as session:
        first = import_file(session, old, kind="redline_activity", title="Q1", actor="test", today=TODAY,
                            districts=districts)  # fmt: skip
        ids = {c.code: c.id for c in first.batch.clues}
        second = import_file(session, new, kind="redline_activity", title="Q2", actor="test", today=TODAY,
                             districts=districts)  # fmt: skip
        clues = {c.code: c for c in second.batch.clues}
    assert clues["S-1"].duplicate_of_id == ids["P-1"]
    assert clues["S-1"].related[0]["score"] == pytest.approx(0.0018 / 0.0022, abs=0.01)
    assert clues["S-2"].related == [] and clues["S-2"].duplicate_of_id is None
    assert clues["S-3"].duplicate_of_id == ids["P-2"]
    assert clues["S-3"].related[0]["score"] == pytest.approx(1 - 22.2 / 30, abs=0.02)
    # S-4 is 44 m from P-2 but 22 m from S-3 of its own batch: linked to S-3, no earlier clue
    assert clues["S-4"].duplicate_of_id is None
    assert [r["code"] for r in clues["S-4"].related] == ["S-3"]
    assert clues["S-5"].related[0]["code"] == "S-2" and clues["S-5"].related[0]["same_batch"]
    assert second.duplicates == 4  # S-1, S-3, S-4, S-5


def test_xlsx_points_and_missing_columns(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    def sheet(path: Path, rows: list[list[object]]) -> Path:
        book = Workbook()
        for row in rows:
            book.active.append(row)
        book.save(path)
        return path

    good = sheet(tmp_path / "good.xlsx", [["线索编号", "经度", "纬度", "问题类型", "举报人"],
                                          [101, *CHAOYANG, "工矿企业", "群众"], ["X-2", *HAIDIAN, "", ""]])  # fmt: skip
    no_lat = sheet(tmp_path / "nolat.xlsx", [["线索编号", "经度"], ["X-3", 116.4]])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with db.session_scope(cworld.engine) as session:
        result = import_file(
            session,
            good,
            kind="mining",
            title="举报",
            actor="test",
            today=TODAY,
            districts=districts,
        )
        clues = {c.code: c for c in result.batch.clues}
        assert set(clues) == {"101", "X-2"}  # 101 read from a numeric cell, not "101.0"
        assert (clues["101"].district_name, clues["101"].activity_type, clues["101"].facts) == (
            "朝阳区", "industry", {"举报人": "群众"},
        )  # fmt: skip
        assert clues["X-2"].area_km2 == 0.0
    for path, message in ((no_lat, "缺少纬度列"), (broken, "无法读取为 XLSX")):
        with pytest.raises(EcoplanError, match=message), db.session_scope(cworld.engine) as session:
            _mining(session, path, districts)
    assert _count(cworld) == 2


def test_reference_layers_versions_zones_and_overlaps(
    cworld: World, districts: Districts, tmp_path: Path
) -> None:
    x, y = HAIDIAN
    reserve = tmp_path / "reserve.geojson"
    gpd.GeoDataFrame({"code": ["R-core", "R-buf"], "name": ["某保护区", "某保护区"], "功能区": ["核心区", "缓冲区"]},
                     geometry=[shapely.box(x - 0.01, y - 0.01, x, y + 0.01),
                               shapely.box(x, y - 0.01, x + 0.01, y + 0.01)], crs="EPSG:4326").to_file(reserve)  # fmt: skip
    bad = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"功能区": ["保护核心"]}, geometry=[shapely.box(x, y, x + 0.01, y + 0.01)],
                     crs="EPSG:4326").to_file(bad)  # fmt: skip
    with db.session_scope(cworld.engine) as session:
        v1 = load_layer(session, reserve, kind="reserve", name="某保护区", actor="test")
        v2 = load_layer(session, reserve, kind="reserve", name="某保护区", actor="test")
        assert (v1.version, v1.active, v2.version, v2.active) == (1, False, 2, True)
        with pytest.raises(EcoplanError, match="功能区“保护核心”无法识别"):
            load_layer(session, bad, kind="redline", name="红线", actor="test")
        assert [layer.name for layer in list_layers(session)] == ["某保护区"]
        # a square centred on the border between the two zones: half in each
        touched = check_geometry(session, shapely.geometry.mapping(square(x, y)))
        by_zone = {t["zone"]: t for t in touched}
        assert set(by_zone) == {"core", "buffer"} and not by_zone["core"]["inside"]
        # each half: 0.001° × 0.002° ≈ 85.3 m × 222 m ≈ 18 950 m²
        assert by_zone["core"]["overlap_m2"] == pytest.approx(18_950, rel=0.01)
        assert session.scalar(select(func.count()).select_from(RefLayer)) == 2
        path = geojson_file(tmp_path / "in.geojson", [("Z-1", square(x - 0.005, y), {})])
        clue = import_file(session, path, kind="reserve_activity", title="t", actor="test", today=TODAY,
                           districts=districts).batch.clues[0]  # fmt: skip
        assert [(r["zone"], r["inside"]) for r in clue.refs] == [("core", True)]
        assert clue.refs[0]["feature_id"] == v2.features[0].id
        assert session.scalar(select(func.count()).select_from(ClueBatch)) == 1


def test_clues_inside_the_economic_zone_go_to_its_committee(cworld: World, districts: Districts,
                                                            tmp_path: Path) -> None:  # fmt: skip
    x, y = 116.50, 39.79  # in 大兴区, where 北京经济技术开发区 lies
    zone = tmp_path / "bda.geojson"
    gpd.GeoDataFrame({"code": ["BDA"], "name": ["北京经济技术开发区"]},
                     geometry=[shapely.box(x - 0.02, y - 0.02, x + 0.02, y + 0.02)], crs="EPSG:4326").to_file(zone)  # fmt: skip
    path = geojson_file(
        tmp_path / "c.geojson", [("E-1", square(x, y), {}), ("E-2", square(x + 0.1, y), {})]
    )
    with db.session_scope(cworld.engine) as session:
        load_layer(session, zone, kind="econ_zone", name="经开区", actor="test")
        clues = {c.code: c for c in import_file(session, path, kind="eco_land_change", title="t", actor="test",
                                                 today=TODAY, districts=districts).batch.clues}  # fmt: skip
        units = {u.id: u.code for u in session.scalars(select(Unit))}
    assert clues["E-1"].district_name == "大兴区" and units[clues["E-1"].unit_id] == "bda"
    assert units[clues["E-2"].unit_id] != "bda"
