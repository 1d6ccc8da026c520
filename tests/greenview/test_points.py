"""Sample points along roads in the built-up area, with the counts worked out."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.greenview.method import load_method
from ecoplan.greenview.points import manifest_template, read_layer, sample_points, spacing_note

METHOD = load_method()
SPEC = METHOD.sampling  # metric CRS EPSG:4548 (CGCS2000 GK CM 117°E)
GK = "EPSG:4548"
X0, Y0 = 450_000.0, 4_420_000.0  # near 天安门, in metres


def road(*coords: tuple[float, float], crs: str = GK) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["r"]}, geometry=[LineString(coords)], crs=crs)


def area(minx: float, miny: float, maxx: float, maxy: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[box(minx, miny, maxx, maxy)], crs=GK)


CITY = area(X0 - 2000, Y0 - 2000, X0 + 3000, Y0 + 2000)


def test_straight_road_every_50_m() -> None:
    # 1,000 m at 50 m: points at 0, 50, …, 1000 → 1000 / 50 + 1 = 21
    points = sample_points(road((X0, Y0), (X0 + 1000, Y0)), CITY, SPEC, spacing_m=50)
    assert len(points) == 21 == spacing_note(1000, 50)
    assert list(points["chainage_m"]) == [50.0 * k for k in range(21)]
    assert points["point_id"].iloc[0] == "GV450000_4420000"
    assert points["point_id"].iloc[-1] == "GV451000_4420000"
    assert points.crs.to_epsg() == 4326 and points["lon"].between(116.3, 116.5).all()
    # 1,030 m: ⌊1030 / 50⌋ + 1 = 21 as well (the last 30 m get no point); 1,049 m too
    assert len(sample_points(road((X0, Y0), (X0 + 1030, Y0)), CITY, SPEC, spacing_m=50)) == 21
    # the method's default spacing, 30 m: ⌊1000 / 30⌋ + 1 = 34
    assert len(sample_points(road((X0, Y0), (X0 + 1000, Y0)), CITY, SPEC)) == 34


def test_clipped_to_the_built_up_area() -> None:
    # built-up area covers x0 … x0 + 500: the clipped piece is 500 m → 500 / 50 + 1 = 11
    half = area(X0, Y0 - 100, X0 + 500, Y0 + 100)
    points = sample_points(road((X0 - 300, Y0), (X0 + 1000, Y0)), half, SPEC, spacing_m=50)
    assert len(points) == 11
    assert points["x"].min() == pytest.approx(X0) and points["x"].max() == pytest.approx(X0 + 500)
    # two built-up patches along one road: 0…200 (5 points) and 600…800 (5 points) = 10
    two = gpd.GeoDataFrame(
        geometry=[box(X0, Y0 - 50, X0 + 200, Y0 + 50), box(X0 + 600, Y0 - 50, X0 + 800, Y0 + 50)],
        crs=GK,
    )
    assert len(sample_points(road((X0, Y0), (X0 + 1000, Y0)), two, SPEC, spacing_m=50)) == 10


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32650", "EPSG:3857"])
def test_road_layer_in_another_crs(crs: str) -> None:
    original = road((X0, Y0), (X0 + 1000, Y0))
    moved = original.to_crs(crs)  # the same two vertices, written in another CRS
    points = sample_points(moved, CITY, SPEC, spacing_m=50)
    assert len(points) == 21
    assert points["point_id"].iloc[-1] == "GV451000_4420000"


def test_thinning_near_duplicates() -> None:
    # a dual carriageway: two parallel 1,000 m lines 10 m apart; with a 15 m minimum distance
    # every point of the second line is within 10 m of one on the first → 21 points remain
    lines = gpd.GeoDataFrame(
        geometry=[
            LineString([(X0, Y0), (X0 + 1000, Y0)]),
            LineString([(X0, Y0 + 10), (X0 + 1000, Y0 + 10)]),
        ],
        crs=GK,
    )
    assert len(sample_points(lines, CITY, SPEC, spacing_m=50, min_distance_m=15)) == 21
    assert len(sample_points(lines, CITY, SPEC, spacing_m=50, min_distance_m=5)) == 42
    # a crossing road N–S through x0 + 500, 1,000 m long from y0 − 500: 21 points of its own,
    # one of which (x0 + 500, y0) coincides with a point of the first road → 21 + 20 = 41
    cross = gpd.GeoDataFrame(
        geometry=[
            LineString([(X0, Y0), (X0 + 1000, Y0)]),
            LineString([(X0 + 500, Y0 - 500), (X0 + 500, Y0 + 500)]),
        ],
        crs=GK,
    )
    points = sample_points(cross, CITY, SPEC, spacing_m=50, min_distance_m=15)
    assert len(points) == 41 and points["point_id"].is_unique


def test_same_input_same_ids() -> None:
    lines = road((X0, Y0), (X0 + 700, Y0 + 300), (X0 + 900, Y0 - 200))
    first = sample_points(lines, CITY, SPEC)
    again = sample_points(lines.copy(), CITY.copy(), SPEC)
    assert list(first["point_id"]) == list(again["point_id"])


def test_road_type_filter() -> None:
    lines = gpd.GeoDataFrame(
        {"highway": ["motorway", "residential"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 1000, Y0)]),
            LineString([(X0, Y0 + 500), (X0 + 500, Y0 + 500)]),
        ],
        crs=GK,
    )
    spec = SPEC.model_copy(update={"exclude_types": ("motorway",)})
    # only the 500 m residential street: 500 / 50 + 1 = 11
    assert len(sample_points(lines, CITY, spec, spacing_m=50)) == 11


def test_bad_layers() -> None:
    line = road((X0, Y0), (X0 + 1000, Y0))
    with pytest.raises(ValidationError, match="道路图层没有声明坐标系"):
        sample_points(line.set_crs(None, allow_override=True), CITY, SPEC)
    with pytest.raises(ValidationError, match="声明为经纬度坐标系,但坐标超出经纬度范围"):
        sample_points(line.set_crs("EPSG:4326", allow_override=True), CITY, SPEC)
    with pytest.raises(ValidationError, match="道路与建成区不相交"):
        sample_points(line, area(0, 0, 10, 10), SPEC)
    polygon_roads = gpd.GeoDataFrame(
        geometry=[Polygon([(X0, Y0), (X0 + 1, Y0), (X0, Y0 + 1)])], crs=GK
    )
    with pytest.raises(ValidationError, match="第 1 个\\(Polygon\\)"):
        sample_points(polygon_roads, CITY, SPEC)
    with pytest.raises(ValidationError, match="最小点距须大于 1.5 米"):
        sample_points(line, CITY, SPEC, min_distance_m=1)


def test_files_in_any_declared_crs(tmp_path: Path) -> None:
    line = road((X0, Y0), (X0 + 1000, Y0))
    line.to_crs("EPSG:4326").to_file(tmp_path / "roads.geojson", driver="GeoJSON")
    CITY.to_file(tmp_path / "builtup.shp")
    roads, builtup = (
        read_layer(tmp_path / "roads.geojson", "道路图层"),
        read_layer(tmp_path / "builtup.shp", "建成区图层"),
    )
    assert len(sample_points(roads, builtup, SPEC, spacing_m=50)) == 21
    # a shapefile without .prj has no CRS: refused unless declared
    line.to_file(tmp_path / "bare.shp")
    (tmp_path / "bare.prj").unlink()
    with pytest.raises(ValidationError, match="bare.shp: 道路图层没有声明坐标系,请用 --crs 指定"):
        read_layer(tmp_path / "bare.shp", "道路图层")
    declared = read_layer(tmp_path / "bare.shp", "道路图层", assume_crs=GK)
    assert len(sample_points(declared, builtup, SPEC, spacing_m=50)) == 21
    with pytest.raises(ValidationError, match="无法识别坐标系“EPSG:999999”"):
        read_layer(tmp_path / "bare.shp", "道路图层", assume_crs="EPSG:999999")
    with pytest.raises(InputFileError, match="道路图层文件不存在"):
        read_layer(tmp_path / "none.geojson", "道路图层")


def test_gcj02_input_is_moved_to_wgs84(tmp_path: Path) -> None:
    # the same road in GCJ-02 but tagged EPSG:4326, as Chinese web-map data comes (offset of a
    # few hundred metres in Beijing): declared gcj02 it lands back where the WGS-84 road is
    wgs = road((X0, Y0), (X0 + 1000, Y0)).to_crs("EPSG:4326")
    from ecoplan.geo.crs import wgs84_to_gcj02

    coords = shapely.get_coordinates(wgs.geometry.values)
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    gcj = gpd.GeoDataFrame(geometry=[LineString(np.column_stack([lon, lat]))], crs="EPSG:4326")
    assert sample_points(gcj, CITY, SPEC, spacing_m=50)["point_id"].iloc[0] != "GV450000_4420000"
    gcj.to_file(tmp_path / "gcj.geojson", driver="GeoJSON")
    layer = read_layer(tmp_path / "gcj.geojson", "道路图层", assume_crs="gcj02")
    points = sample_points(layer, CITY, SPEC, spacing_m=50)
    assert len(points) == 21 and points["point_id"].iloc[0] == "GV450000_4420000"


def test_manifest_template() -> None:
    points = sample_points(road((X0, Y0), (X0 + 100, Y0)), CITY, SPEC, spacing_m=50)
    template = manifest_template(points, METHOD)
    # 3 points × 6 headings = 18 rows, heading 0 … 300 at pitch 0, date and image left blank
    assert len(template) == 18 and list(template["heading"][:6]) == [
        "0",
        "60",
        "120",
        "180",
        "240",
        "300",
    ]
    assert set(template["date"]) == {""} and list(template.columns)[-1] == "image"
