"""森林覆盖率 and 湿地保护率 engines on tiny layers built in code, with the hand arithmetic.

The grid: UTM zone 50N (EPSG:32650, metres), 10 rows × 20 columns of 30 m pixels with its
top-left corner at (440 000, 4 420 000) — just west of Beijing. District A is columns 0–9,
district B columns 10–19: 100 pixels each. A pixel is 900 m² on the UTM plane; its true
(ellipsoidal) area is 900 / k² with the UTM scale factor k ≈ 0.99964 here, i.e. 0.07 % more.
Areas are therefore checked to 1e-3 against the plane arithmetic, while ratios (both terms
scaled alike) are checked to 1e-6 on rasters and 1e-5 on polygons (measured in the Albers
equal-area CRS, where the UTM scale factor still changes by ~1e-6 across a district).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import xarray as xr
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.warp import Resampling, reproject

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.indicators.coverage import (
    forest_coverage_raster,
    forest_coverage_vector,
    load_parameters,
    read_landcover,
    read_polygons,
    wetland_protection_raster,
    wetland_protection_vector,
)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
UTM = "EPSG:32650"
X0, Y0, PX = 440_000.0, 4_420_000.0, 30.0
GRID = Affine(PX, 0.0, X0, 0.0, -PX, Y0)
# ESA WorldCover codes
TREE, SHRUB, GRASS, CROP, WATER, MARSH = 10, 20, 30, 40, 80, 90


def landcover_values() -> np.ndarray[Any, Any]:
    lc = np.full((10, 20), GRASS, dtype=np.uint8)
    # district A (columns 0–9): rows 0–2 forest (30 px) + row 3 columns 0–6 (7 px) = 37 forest;
    # rows 8–9 columns 0–3 water = 8 px; the other 55 px grass
    lc[0:3, 0:10] = TREE
    lc[3, 0:7] = TREE
    lc[8:10, 0:4] = WATER
    # district B (columns 10–19): rows 0–4 forest = 50 px; row 5 columns 10–14 water = 5 px;
    # row 6 herbaceous wetland = 10 px; rows 7–9 cropland = 30 px; row 5 columns 15–19 grass
    lc[0:5, 10:20] = TREE
    lc[5, 10:15] = WATER
    lc[6, 10:20] = MARSH
    lc[7:10, 10:20] = CROP
    return lc


def data_array(values: np.ndarray[Any, Any], transform: Affine, crs: str | None, nodata: Any = None) -> xr.DataArray:  # fmt: skip
    array = xr.DataArray(values, dims=("y", "x")).rio.write_transform(transform)
    if crs is not None:
        array = array.rio.write_crs(crs)
    if nodata is not None:
        array = array.rio.write_nodata(nodata)
    return cast(xr.DataArray, array)


def write_tif(path: Path, values: np.ndarray[Any, Any], transform: Affine, crs: str) -> Path:
    profile = {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1],
               "count": 1, "dtype": values.dtype.name, "crs": CRS.from_user_input(crs).to_wkt(),
               "transform": transform, "tiled": True, "blockxsize": 16, "blockysize": 16}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


def box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """A rectangle given in pixel units of the grid: columns c0..c1, rows r0..r1."""
    return shapely.box(X0 + c0 * PX, Y0 - r1 * PX, X0 + c1 * PX, Y0 - r0 * PX)


@pytest.fixture
def districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["A01", "B02"], "name": ["甲区", "乙区"]},
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
        crs=UTM,
    )


@pytest.fixture
def landcover() -> xr.DataArray:
    return data_array(landcover_values(), GRID, UTM)


def without_crs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The same features with no CRS at all (as a shapefile without .prj reads)."""
    bare = [shapely.from_wkb(shapely.to_wkb(g)) for g in frame.geometry]
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=bare)


def rows(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {str(r["region_code"]): r for _, r in frame.iterrows()}


# --- 森林覆盖率 from a raster ------------------------------------------------------------------


def test_forest_coverage_raster_by_hand(landcover: xr.DataArray, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    frame = forest_coverage_raster(landcover, districts, mapping="esa-worldcover")
    r = rows(frame)
    assert list(frame["region_code"]) == ["A01", "B02", "110000"]
    assert list(frame["region_level"]) == ["district", "district", "city"]
    # A: 37 forest px / 100 px = 37 %; B: 50 / 100 = 50 %; city: 87 / 200 = 43.5 %
    assert r["A01"]["coverage_pct"] == pytest.approx(37.0, rel=1e-6)
    assert r["B02"]["coverage_pct"] == pytest.approx(50.0, rel=1e-6)
    assert r["110000"]["coverage_pct"] == pytest.approx(43.5, rel=1e-6)
    # areas: A land 100 × 900 m² = 0.09 km², forest 37 × 900 = 0.0333 km², water 8 × 900 = 0.0072
    assert r["A01"]["land_area_km2"] == pytest.approx(0.09, rel=1e-3)
    assert r["A01"]["arbor_km2"] == pytest.approx(0.0333, rel=1e-3)
    assert r["A01"]["water_km2"] == pytest.approx(0.0072, rel=1e-3)
    assert r["110000"]["forest_km2"] == pytest.approx(87 * 900 / 1e6, rel=1e-3)
    assert r["A01"]["special_shrub_km2"] == r["A01"]["bamboo_km2"] == 0.0
    # pixel counts (area / true pixel area): exactly the hand counts
    assert r["A01"]["pixels"] == pytest.approx(100, rel=1e-6)
    assert r["A01"]["forest_pixels"] == pytest.approx(37, rel=1e-6)
    assert r["110000"]["pixels"] == pytest.approx(200, rel=1e-6)
    # unknown: the raster covers both districts; what remains is the difference between the
    # polygon's area (equal-area CRS) and the sum of UTM pixel areas, ~4e-7 relative
    assert (frame["unknown_km2"] < 1e-6 * frame["land_area_km2"]).all()
    assert (frame["unmapped_km2"] == 0).all()
    assert set(frame["land_area_basis"]) == {"administrative"}
    assert set(frame["source"]) == {"raster:esa-worldcover"}
    params = load_parameters()
    assert set(frame["parameters"]) == {params.key} and set(frame["method"]) == {
        "forest-coverage@1"
    }
    assert frame.attrs["measure"] == "8.3" and frame.attrs["parameters"]["sha256"] == params.sha256


def test_land_area_without_water(landcover: xr.DataArray, districts: gpd.GeoDataFrame) -> None:
    frame = forest_coverage_raster(
        landcover, districts, mapping="esa-worldcover", land_area="excluding_water"
    )
    r = rows(frame)
    # A: 37 / (100 − 8 water) = 40.217 %; B: 50 / (100 − 5) = 52.632 %; city 87 / 187 = 46.524 %
    assert r["A01"]["coverage_pct"] == pytest.approx(100 * 37 / 92, rel=1e-6)
    assert r["B02"]["coverage_pct"] == pytest.approx(100 * 50 / 95, rel=1e-6)
    assert r["110000"]["coverage_pct"] == pytest.approx(100 * 87 / 187, rel=1e-6)
    with pytest.raises(ValidationError, match="未知的土地面积口径“net”"):
        forest_coverage_raster(landcover, districts, mapping="esa-worldcover", land_area="net")  # type: ignore[arg-type]


def test_district_edge_through_pixels_counts_the_covered_fraction(landcover: xr.DataArray) -> None:
    # one district over columns 0–9.5 and rows 0–4: row 0–2 forest (9.5 px each = 28.5),
    # row 3 forest columns 0–6 (7), grass elsewhere → 35.5 / (9.5 × 4 = 38) = 93.42 %
    one = gpd.GeoDataFrame({"code": ["X"], "name": ["半区"]}, geometry=[box(0, 0, 9.5, 4)], crs=UTM)
    r = rows(forest_coverage_raster(landcover, one, mapping="esa-worldcover"))
    assert r["X"]["coverage_pct"] == pytest.approx(100 * 35.5 / 38, rel=1e-6)
    assert r["X"]["pixels"] == pytest.approx(38, rel=1e-6)


def test_numpy_dask_and_file_windows_agree(
    tmp_path: Path, landcover: xr.DataArray, districts: gpd.GeoDataFrame
) -> None:
    reference = forest_coverage_raster(landcover, districts, mapping="esa-worldcover")
    chunked = forest_coverage_raster(
        landcover.chunk({"y": 3, "x": 7}), districts, mapping="esa-worldcover"
    )
    path = write_tif(tmp_path / "lc.tif", landcover_values(), GRID, UTM)
    lazy = read_landcover(path, chunk=16)  # file windows: each task reads its own block
    from_file = forest_coverage_raster(lazy, districts, mapping="esa-worldcover", chunk=4)
    numbers = reference.select_dtypes("number").to_numpy()
    assert np.allclose(chunked.select_dtypes("number").to_numpy(), numbers, rtol=1e-12)
    assert np.allclose(from_file.select_dtypes("number").to_numpy(), numbers, rtol=1e-12)
    assert from_file.attrs["inputs"]["landcover"]["sha256"] == lazy.attrs["sha256"]


def test_same_raster_in_lon_lat_gives_the_same_coverage(
    landcover: xr.DataArray, districts: gpd.GeoDataFrame
) -> None:
    """The UTM raster warped (nearest neighbour) to EPSG:4326 at 1/10 of a pixel.

    Pixel areas now vary with latitude and the UTM grid is turned ~0.45° against the lon/lat
    grid, so class edges are staircased at 3 m steps: a class edge 300 m long moves by at most
    half a fine pixel (1.5 m), i.e. ≤ 450 m² = 0.5 px-equivalents (0.5 points of a 100-px
    district) per edge; the forest patches have one such inner edge. Observed: 0.17 points
    (A), 0.25 (B). Tolerance: 0.5 points of coverage, 1 % of forest area; the land areas come
    from the polygons and agree exactly.
    """
    # pad the source by 2 px of grass so that fine pixels along the district edges have data
    values = np.pad(landcover_values(), 2, constant_values=GRASS)
    padded = GRID @ Affine.translation(-2, -2)
    to_lonlat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(
        [X0 - 2 * PX, X0 + 22 * PX, X0 + 22 * PX, X0 - 2 * PX],
        [Y0 + 2 * PX, Y0 + 2 * PX, Y0 - 12 * PX, Y0 - 12 * PX],
    )
    res = PX / 10 / 111_000  # ≈ 3 m north–south, 2.3 m east–west at 40°N
    transform = Affine(res, 0.0, min(lon), 0.0, -res, max(lat))
    width = int(np.ceil((max(lon) - min(lon)) / res))
    height = int(np.ceil((max(lat) - min(lat)) / res))
    warped = np.zeros((height, width), dtype=np.uint8)
    reproject(values, warped, src_transform=padded, src_crs=UTM, dst_transform=transform,
              dst_crs="EPSG:4326", resampling=Resampling.nearest, src_nodata=0, dst_nodata=0)  # fmt: skip
    geographic = data_array(warped, transform, "EPSG:4326", nodata=0)
    utm = rows(forest_coverage_raster(landcover, districts, mapping="esa-worldcover"))
    lonlat = rows(forest_coverage_raster(geographic, districts, mapping="esa-worldcover"))
    for code in ("A01", "B02", "110000"):
        assert lonlat[code]["coverage_pct"] == pytest.approx(utm[code]["coverage_pct"], abs=0.5)
        assert lonlat[code]["forest_km2"] == pytest.approx(utm[code]["forest_km2"], rel=0.01)
        assert lonlat[code]["land_area_km2"] == pytest.approx(utm[code]["land_area_km2"], rel=1e-9)


def test_special_shrub_table_adds_to_forest(landcover: xr.DataArray, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    # 特灌林 0.009 km² (10 px-equivalents of 900 m²) in A, none in B:
    # A: (0.0333 + 0.009) / 0.09 ≈ 47 % (exactly 47 % on the plane; true areas differ by 0.07 %)
    frame = forest_coverage_raster(
        landcover, districts, mapping="esa-worldcover", special_shrub_km2={"A01": 0.009, "B02": 0}
    )
    r = rows(frame)
    assert r["A01"]["special_shrub_km2"] == 0.009
    assert r["A01"]["coverage_pct"] == pytest.approx(47.0, abs=0.05)
    assert r["110000"]["special_shrub_km2"] == pytest.approx(0.009)
    assert set(frame["special_shrub_source"]) == {"table"}
    with pytest.raises(ValidationError, match="缺少这些区: 乙区"):
        forest_coverage_raster(landcover, districts, mapping="esa-worldcover", special_shrub_km2={"A01": 1})  # fmt: skip
    with pytest.raises(ValidationError, match="没有这些代码: Z9"):
        forest_coverage_raster(landcover, districts, mapping="esa-worldcover",
                               special_shrub_km2={"A01": 0, "B02": 0, "Z9": 1})  # fmt: skip
    with pytest.raises(ValidationError, match="森林面积超过土地面积"):
        forest_coverage_raster(landcover, districts, mapping="esa-worldcover",
                               special_shrub_km2={"A01": 0.08, "B02": 0})  # fmt: skip


# --- 森林覆盖率 from polygons -------------------------------------------------------------------


@pytest.fixture
def forest_layer() -> gpd.GeoDataFrame:
    # (in pixel units of 30 m; 1 px² = 900 m²)
    return gpd.GeoDataFrame(
        {
            "地类": ["乔木林地", "乔木林地", "特殊灌木林地", "一般灌木林地", "乔木林", "竹林地"],
        },
        geometry=[
            box(0, 0, 4, 5),  # A: 4 × 5 = 20 px 乔木
            box(2, 0, 6, 5),  # A: overlaps the first by 2 × 5 → union 6 × 5 = 30 px
            box(
                5, 5, 8, 7
            ),  # A: 特灌林 3 × 2 = 6 px, of which column 5 rows 5–6 (1 × 2) … see below
            box(0, 7, 3, 10),  # A: 一般灌木林 9 px, not forest
            box(8, 0, 12, 2),  # straddles A|B: 2 × 2 = 4 px in A, 4 px in B
            box(15, 5, 17, 10),  # B: 竹林 2 × 5 = 10 px
        ],
        crs=UTM,
    )


def test_forest_coverage_vector_by_hand(forest_layer: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    frame = forest_coverage_vector(forest_layer, districts, class_field="地类")
    r = rows(frame)
    # A: 乔木 union of boxes 1+2 = 30 px, plus the straddling box's 4 px = 34 px;
    #    特灌林 box (5..8 × 5..7) does not touch the 乔木 (rows 0–5 end at row 5) → 6 px;
    #    forest 40 px of 100 → 40 %
    # B: 乔木 4 px + 竹林 10 px = 14 px → 14 %; city 54 / 200 = 27 %
    assert r["A01"]["arbor_km2"] == pytest.approx(34 * 900 / 1e6, rel=1e-3)
    assert r["A01"]["special_shrub_km2"] == pytest.approx(6 * 900 / 1e6, rel=1e-3)
    assert r["B02"]["bamboo_km2"] == pytest.approx(10 * 900 / 1e6, rel=1e-3)
    assert r["A01"]["coverage_pct"] == pytest.approx(40.0, rel=1e-5)
    assert r["B02"]["coverage_pct"] == pytest.approx(14.0, rel=1e-5)
    assert r["110000"]["coverage_pct"] == pytest.approx(27.0, rel=1e-5)
    # features reaching into each district: A has 5 (boxes 1–5), B 2; forest ones: A 4, B 2
    assert (r["A01"]["features"], r["B02"]["features"]) == (5, 2)
    assert (r["A01"]["forest_features"], r["B02"]["forest_features"]) == (4, 2)
    assert r["110000"]["features"] == 7
    assert set(frame["special_shrub_source"]) == {"mapping"}


def test_overlapping_components_count_once(districts: gpd.GeoDataFrame) -> None:
    # 乔木 5 × 4 = 20 px; a 特灌林 polygon 5 × 4 shifted by 2 columns overlaps it by 3 × 4:
    # 乔木 wins the overlap → 特灌林 counts 2 × 4 = 8 px; forest 28 px → 28 %
    layer = gpd.GeoDataFrame(
        {"地类": ["乔木林地", "特灌林"]}, geometry=[box(0, 0, 5, 4), box(2, 0, 7, 4)], crs=UTM
    )
    r = rows(forest_coverage_vector(layer, districts, class_field="地类"))
    assert r["A01"]["arbor_km2"] == pytest.approx(20 * 900 / 1e6, rel=1e-3)
    assert r["A01"]["special_shrub_km2"] == pytest.approx(8 * 900 / 1e6, rel=1e-3)
    assert r["A01"]["coverage_pct"] == pytest.approx(28.0, rel=1e-5)


def test_gbt21010_codes_and_integer_fields(districts: gpd.GeoDataFrame) -> None:
    # 三调 codes: 0301 乔木林地 counts, 0305 灌木林地 does not; 10 × 3 = 30 px → 30 % of A
    layer = gpd.GeoDataFrame(
        {"DLBM": ["0301", "0305"]}, geometry=[box(0, 0, 10, 3), box(0, 3, 10, 6)], crs=UTM
    )
    r = rows(forest_coverage_vector(layer, districts, class_field="DLBM", mapping="gbt21010"))
    assert r["A01"]["coverage_pct"] == pytest.approx(30.0, rel=1e-5)
    assert r["B02"]["coverage_pct"] == pytest.approx(0.0, abs=1e-5)  # µm slivers on the border
    # the same codes stored as numbers lose the leading zero: refused, with the areas
    numeric = layer.assign(DLBM=[301.0, 305.0])
    with pytest.raises(ValidationError, match=r"301: 0\.0270 km²; 305: 0\.0270 km²"):
        forest_coverage_vector(numeric, districts, class_field="DLBM", mapping="gbt21010")


# --- 湿地保护率 ----------------------------------------------------------------------------------


def test_wetland_protection_vector_unions_overlapping_reserves(districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    wetlands = gpd.GeoDataFrame(
        {"类型": ["河流湿地", "湖泊湿地"]},
        geometry=[box(1, 1, 5, 3), box(12, 1, 14, 3)],  # A: 4 × 2 = 8 px; B: 2 × 2 = 4 px
        crs=UTM,
    )
    protected = gpd.GeoDataFrame(
        {"kind": ["自然保护区", "湿地公园", "森林公园", "湿地保护小区"]},
        geometry=[
            box(0, 0, 3, 4),  # covers wetland A columns 1–3 (2 × 2 = 4 px)
            box(2, 0, 4, 4),  # overlaps the reserve; adds column 3–4 (1 × 2 = 2 px)
            box(4, 0, 6, 4),  # 森林公园: not a counted kind
            box(13, 2, 20, 10),  # B: covers wetland columns 13–14, rows 2–3: 1 × 1 = 1 px
        ],
        crs=UTM,
    )
    frame = wetland_protection_vector(
        wetlands, protected, districts, kind_field="kind", wetland_class_field="类型",
        wetland_mapping="wetland-types",
    )  # fmt: skip
    r = rows(frame)
    # A: union of the reserve and the park covers columns 1–4 of the wetland → 6 of 8 px = 75 %
    #    (adding them up instead would give 4 + 4 = 8 px = 100 %)
    # B: 1 of 4 px = 25 %; city: 7 / 12 = 58.33 %
    assert r["A01"]["protection_pct"] == pytest.approx(75.0, rel=1e-5)
    assert r["B02"]["protection_pct"] == pytest.approx(25.0, rel=1e-5)
    assert r["110000"]["protection_pct"] == pytest.approx(700 / 12, rel=1e-5)
    assert r["A01"]["wetland_km2"] == pytest.approx(8 * 900 / 1e6, rel=1e-3)
    assert r["A01"]["protected_wetland_km2"] == pytest.approx(6 * 900 / 1e6, rel=1e-3)
    # protected area in A: union of the two counted polygons, columns 0–4 × rows 0–4 = 16 px
    assert r["A01"]["protected_area_km2"] == pytest.approx(16 * 900 / 1e6, rel=1e-3)
    assert (r["A01"]["protected_features"], r["B02"]["protected_features"]) == (2, 1)
    assert frame.attrs["measure"] == "8.5" and "湿地公园" in frame.attrs["counted_kinds"]


def test_wetland_protection_raster_by_hand(landcover: xr.DataArray, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    protected = gpd.GeoDataFrame(
        {"kind": ["自然保护区", "湿地公园", "湿地保护小区", "森林公园"]},
        geometry=[
            box(0, 8, 2, 10),  # A: water columns 0–1, rows 8–9 = 4 px
            box(1, 8, 3, 10),  # overlaps it; union covers columns 0–2 → 6 px of water
            box(10, 6, 15, 6.5),  # B: half of row 6, columns 10–14: 5 × 0.5 = 2.5 px of marsh
            box(10, 5, 15, 6),  # B: 森林公园 over the water of row 5: not counted
        ],
        crs=UTM,
    )
    frame = wetland_protection_raster(
        landcover, protected, districts, mapping="esa-worldcover", kind_field="kind"
    )
    r = rows(frame)
    # wetland classes 80 + 90: A 8 px (water); B 5 water + 10 marsh = 15 px
    # A: 6 / 8 = 75 %; B: 2.5 / 15 = 16.667 %; city: 8.5 / 23 = 36.957 %
    assert r["A01"]["wetland_pixels"] == pytest.approx(8, rel=1e-6)
    assert r["B02"]["wetland_pixels"] == pytest.approx(15, rel=1e-6)
    assert r["A01"]["protection_pct"] == pytest.approx(75.0, rel=1e-6)
    assert r["B02"]["protection_pct"] == pytest.approx(100 * 2.5 / 15, rel=1e-6)
    assert r["110000"]["protection_pct"] == pytest.approx(100 * 8.5 / 23, rel=1e-6)


def test_district_without_wetland_has_no_rate(districts: gpd.GeoDataFrame) -> None:
    wetlands = gpd.GeoDataFrame(geometry=[box(1, 1, 3, 3)], crs=UTM)  # A only: 4 px
    protected = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 10)], crs=UTM)  # covers 1 × 2 = 2 px
    frame = wetland_protection_vector(wetlands, protected, districts, kind_field=None)
    r = rows(frame)
    assert r["A01"]["protection_pct"] == pytest.approx(50.0, rel=1e-5)
    assert np.isnan(r["B02"]["protection_pct"])
    assert r["110000"]["protection_pct"] == pytest.approx(50.0, rel=1e-5)
    assert any("全部要素计为受保护" in n for n in frame.attrs["notes"])
    assert any("乙区" in n for n in frame.attrs["notes"])


# --- bad input ------------------------------------------------------------------------------------


def test_raster_without_crs_is_refused(districts: gpd.GeoDataFrame) -> None:
    bare = data_array(landcover_values(), GRID, None)
    with pytest.raises(ValidationError, match="没有坐标系"):
        forest_coverage_raster(bare, districts, mapping="esa-worldcover")


def test_float_raster_is_refused(landcover: xr.DataArray, districts: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValidationError, match="整数类型"):
        forest_coverage_raster(landcover.astype(np.float32), districts, mapping="esa-worldcover")


def test_vector_without_crs(districts: gpd.GeoDataFrame, forest_layer: gpd.GeoDataFrame) -> None:
    # metres without a CRS: refused, naming the layer
    with pytest.raises(ValidationError, match="森林图层: 没有坐标系信息，且坐标不是经纬度"):
        forest_coverage_vector(without_crs(forest_layer), districts, class_field="地类")
    # lon/lat without a CRS: taken as WGS84, and said so; same answer as with the CRS
    lonlat = without_crs(forest_layer.to_crs("EPSG:4326"))
    frame = forest_coverage_vector(lonlat, districts, class_field="地类")
    assert rows(frame)["A01"]["coverage_pct"] == pytest.approx(40.0, rel=1e-5)
    assert any("按 WGS84" in n for n in frame.attrs["notes"])
    # districts in metres declared as EPSG:4326: refused
    wrong = districts.set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(ValidationError, match="区划图层: 声明为经纬度坐标系"):
        forest_coverage_vector(forest_layer, wrong, class_field="地类")


def test_missing_fields_are_named(forest_layer: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    with pytest.raises(ValidationError, match="森林图层: 没有字段“LB”\\(现有字段: 地类\\)"):
        forest_coverage_vector(forest_layer, districts, class_field="LB")
    with pytest.raises(ValidationError, match="保护地图层: 没有字段“类型”"):
        wetland_protection_vector(forest_layer, forest_layer, districts, kind_field="类型")
    with pytest.raises(ValidationError, match="区划图层: 找不到代码字段"):
        forest_coverage_vector(forest_layer, districts.rename(columns={"code": "x"}), class_field="地类")  # fmt: skip


def test_unknown_raster_classes_are_reported_with_their_area(
    districts: gpd.GeoDataFrame,
) -> None:
    values = landcover_values()
    values[9, 18:20] = 7  # 2 px of a class WorldCover does not have: 2 × 900 m² = 0.0018 km²
    raster = data_array(values, GRID, UTM)
    with pytest.raises(ValidationError, match=r"未定义的类别\(区划内面积\): 7: 0\.0018 km²"):
        forest_coverage_raster(raster, districts, mapping="esa-worldcover")
    frame = forest_coverage_raster(raster, districts, mapping="esa-worldcover", allow_unmapped=True)
    r = rows(frame)
    assert r["B02"]["unmapped_km2"] == pytest.approx(0.0018, rel=1e-3)
    assert r["B02"]["unmapped_classes"] == "7: 0.0018 km²"
    assert r["A01"]["unmapped_classes"] == ""
    assert r["B02"]["coverage_pct"] == pytest.approx(50.0, rel=1e-6)  # counted as non-forest


def test_unknown_layer_values_and_kinds(forest_layer: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    odd = forest_layer.assign(
        地类=["乔木林地", "乔木林地", "特殊灌木林地", "灌草地", "乔木林", None]
    )
    # 灌草地: 9 px = 0.0081 km²; the empty value (the 竹林 box): 10 px = 0.0090 km²
    with pytest.raises(ValidationError, match=r"\(空\): 0\.0090 km²; 灌草地: 0\.0081 km²"):
        forest_coverage_vector(odd, districts, class_field="地类")
    frame = forest_coverage_vector(odd, districts, class_field="地类", allow_unmapped=True)
    assert rows(frame)["110000"]["unmapped_km2"] == pytest.approx(19 * 900 / 1e6, rel=1e-3)

    protected = gpd.GeoDataFrame({"kind": ["保护区?"]}, geometry=[box(0, 0, 10, 1)], crs=UTM)
    wetlands = gpd.GeoDataFrame(geometry=[box(0, 0, 4, 4)], crs=UTM)
    with pytest.raises(
        ValidationError, match=r"未列出的保护形式\(图层内面积\): 保护区\?: 0\.0090 km²"
    ):
        wetland_protection_vector(wetlands, protected, districts, kind_field="kind")
    allowed = wetland_protection_vector(
        wetlands, protected, districts, kind_field="kind", allow_unmapped=True
    )
    assert rows(allowed)["A01"]["protection_pct"] == 0.0
    assert rows(allowed)["A01"]["unmapped_kinds_km2"] == pytest.approx(0.009, rel=1e-3)


def test_empty_intersections_are_refused(
    landcover: xr.DataArray, districts: gpd.GeoDataFrame, forest_layer: gpd.GeoDataFrame
) -> None:
    far = forest_layer.set_geometry(forest_layer.translate(xoff=50_000))
    with pytest.raises(ValidationError, match="森林图层: 图层与区划没有任何重叠"):
        forest_coverage_vector(far, districts, class_field="地类")
    elsewhere = data_array(landcover_values(), GRID @ Affine.translation(0, -1000), UTM)
    with pytest.raises(ValidationError, match="栅格与区划没有重叠"):
        forest_coverage_raster(elsewhere, districts, mapping="esa-worldcover")
    # a raster covering only part of a district (rows 0–4 of 10): refused, district named
    half = data_array(landcover_values()[:5], GRID, UTM)
    with pytest.raises(ValidationError, match="甲区 50.0%"):
        forest_coverage_raster(half, districts, mapping="esa-worldcover")
    wetlands = gpd.GeoDataFrame(geometry=[box(0, 0, 4, 4)], crs=UTM)
    with pytest.raises(ValidationError, match="保护地图层: 图层与区划没有任何重叠"):
        wetland_protection_vector(wetlands, far, districts, kind_field=None)


def test_bad_geometries_and_layers(districts: gpd.GeoDataFrame) -> None:
    lines = gpd.GeoDataFrame({"地类": ["乔木林地"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 9, Y0 - 9)])], crs=UTM)  # fmt: skip
    with pytest.raises(ValidationError, match="第 1 个要素不是面"):
        forest_coverage_vector(lines, districts, class_field="地类")
    empty = gpd.GeoDataFrame({"地类": ["乔木林地", "乔木林地"]}, geometry=[box(0, 0, 1, 1), None], crs=UTM)  # fmt: skip
    with pytest.raises(ValidationError, match="第 2 个要素没有几何"):
        forest_coverage_vector(empty, districts, class_field="地类")
    overlapping = districts.assign(geometry=[box(0, 0, 12, 10), box(10, 0, 20, 10)])
    with pytest.raises(ValidationError, match="重叠"):
        forest_coverage_vector(empty.iloc[:1], overlapping, class_field="地类")
    with pytest.raises(ValidationError, match="没有栅格类别映射“worldcover”"):
        forest_coverage_raster(data_array(landcover_values(), GRID, UTM), districts, mapping="worldcover")  # fmt: skip


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "森林.gpkg"
    broken.write_bytes(b"not a geopackage at all")
    with pytest.raises(InputFileError, match="森林.gpkg: 无法读取为矢量数据"):
        read_polygons(broken)
    tif = tmp_path / "lc.tif"
    tif.write_bytes(b"II*\x00garbage")
    with pytest.raises(InputFileError, match="lc.tif: 无法读取为栅格"):
        read_landcover(tif)
    with pytest.raises(InputFileError, match="missing.geojson: 文件不存在"):
        read_polygons(tmp_path / "missing.geojson")


def test_file_layers_are_named_in_messages(tmp_path: Path, districts: gpd.GeoDataFrame) -> None:
    layer = gpd.GeoDataFrame({"lb": ["乔木林地"]}, geometry=[box(0, 0, 5, 5)], crs=UTM)
    path = tmp_path / "forest.gpkg"
    layer.to_file(path)
    frame = read_polygons(path)
    with pytest.raises(ValidationError, match=r"森林图层\(forest.gpkg\): 没有字段“地类”"):
        forest_coverage_vector(frame, districts, class_field="地类")
    result = forest_coverage_vector(frame, districts, class_field="lb")
    assert rows(result)["A01"]["coverage_pct"] == pytest.approx(25.0, rel=1e-5)  # 25 px / 100
    assert result.attrs["inputs"]["forest"]["sha256"] == frame.attrs["sha256"]


def test_crs_override_when_reading(tmp_path: Path) -> None:
    square = shapely.box(116.40, 39.90, 116.41, 39.91)
    path = tmp_path / "amap.geojson"
    gpd.GeoDataFrame({"lb": ["乔木林地"]}, geometry=[square], crs="EPSG:4326").to_file(path)
    # drawn on an Amap base map: GCJ-02 → WGS84 moves it ~ 0.006° west, 0.001° south in Beijing
    moved = read_polygons(path, crs="gcj02")
    dx, dy = np.subtract(moved.geometry.iloc[0].bounds[:2], square.bounds[:2])
    assert -0.007 < dx < -0.005 and -0.002 < dy < -0.0005
    assert CRS.from_user_input(moved.crs) == CRS.from_epsg(4326)
    assert CRS.from_user_input(read_polygons(path, crs="EPSG:4490").crs).to_epsg() == 4490
    with pytest.raises(InputFileError, match="无法识别坐标系“EPSG:99999”"):
        read_polygons(path, crs="EPSG:99999")


def test_user_parameter_file(tmp_path: Path, landcover: xr.DataArray, districts: gpd.GeoDataFrame) -> None:  # fmt: skip
    from ecoplan.indicators.coverage_params import BUILT_IN

    text = (
        Path(__file__)
        .resolve()
        .parents[2]
        .joinpath("src", "ecoplan", "indicators", "data", "coverage.toml")
        .read_text(encoding="utf-8")
    )
    assert BUILT_IN == ("coverage",)
    # shrubland (20) declared 特灌林 in a user's file; the raster has none, so nothing changes
    # but the table is now refused as double counting
    mine = tmp_path / "mine.toml"
    mine.write_text(
        text.replace('version = "2024.1"', 'version = "test"').replace(
            "arbor = [10]\nwater = [80]", "arbor = [10]\nspecial_shrub = [20]\nwater = [80]"
        ),
        encoding="utf-8",
    )
    params = load_parameters(mine)
    assert params.key == "coverage@test"
    with pytest.raises(ValidationError, match="重复计算"):
        forest_coverage_raster(landcover, districts, mapping="esa-worldcover", parameters=params,
                               special_shrub_km2={"A01": 0, "B02": 0})  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("arbor = [10]", "arbor = [10, 12]"), encoding="utf-8")
    with pytest.raises(ValidationError, match="bad.toml 有误"):
        load_parameters(bad)


# --- real data (../shared/data), if present ----------------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not present")
def test_beijing_modis_figure() -> None:
    """A city figure from MODIS MCD12C1 2019 (0.05°, ~5 km) and the 16 districts.

    Far too coarse for the plan's 44.95 %: only shows the engine runs on a real lon/lat grid.
    """
    raster = read_landcover(
        SHARED_DATA / "landcover" / "beijing_modis_mcd12c1_igbp_2019_0p05deg.tif", chunk=None
    )
    districts = read_polygons(SHARED_DATA / "boundaries" / "beijing_districts_cnmaps_wgs84.geojson")
    frame = forest_coverage_raster(raster, districts, mapping="modis-igbp", code_field="adcode")
    city = rows(frame)["110000"]
    print(frame[["region_name", "land_area_km2", "forest_km2", "coverage_pct"]].to_string())  # noqa: T201
    assert 16_300 < city["land_area_km2"] < 16_500  # official 16 410 km²
    assert 10.0 < city["coverage_pct"] < 60.0
    mountains = rows(frame)["110116"]["coverage_pct"]  # 怀柔区: mostly forested mountains
    plain = rows(frame)["110101"]["coverage_pct"]  # 东城区: city centre
    assert mountains > plain
