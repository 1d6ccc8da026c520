"""Zonal statistics with fractional coverage: hand cases, numpy/dask parity, exactextract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from ecoplan.errors import ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.rasters import open_raster
from ecoplan.geo.regions import RegionLayer, build_layer
from ecoplan.geo.zonal import zonal_stats

from .conftest import SHARED_DATA, data_array, write_tif

# A corner of the grid near Beijing in the equal-area projection (metres).
X0, Y0 = 960_000.0, 4_350_000.0
GRID = Affine(10.0, 0.0, X0, 0.0, -10.0, Y0)
CLASSES = np.array(
    [[1, 1, 2, 2],
     [1, 1, 2, 2],
     [3, 3, 4, 4],
     [3, 255, 4, 4]],
    dtype=np.uint8,
)  # fmt: skip
NDVI = np.tile(np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32), (4, 1))  # 0.1 × (column + 1)


def layer_from_projected(boxes: list[tuple[float, float, float, float]]) -> RegionLayer:
    """Regions drawn in projected metres, stored in WGS84 as layers are."""
    geoms = gpd.GeoSeries([shapely.box(*b) for b in boxes], crs=EQUAL_AREA).to_crs(WGS84).values
    return build_layer("township", [str(i) for i in range(len(boxes))], [f"区{i}" for i in range(len(boxes))],
                       np.asarray(geoms, dtype=object))  # fmt: skip


@pytest.fixture
def two_regions() -> RegionLayer:
    # A: x 5..25, y −35..−5 (relative to the top-left corner); B: x 25..40, y −40..+10,
    # so B shares A's edge at x = 25 (through the centres of column 2) and sticks out above.
    return layer_from_projected(
        [(X0 + 5, Y0 - 35, X0 + 25, Y0 - 5), (X0 + 25, Y0 - 40, X0 + 40, Y0 + 10)]
    )


def test_area_by_class_and_mean_by_hand(two_regions: RegionLayer) -> None:
    stats = zonal_stats(
        two_regions,
        classes=data_array(CLASSES, GRID, EQUAL_AREA, nodata=255),
        values={"ndvi": data_array(NDVI, GRID, EQUAL_AREA)},
    )
    area = stats.class_area_m2
    # Region A (20 m × 30 m = 600 m²):
    #   class 1: x 5..20 (15 m) × y 5..20 (15 m) = 225     class 2: x 20..25 (5) × 15 = 75
    #   class 3: 15 × y 20..35 (15) = 225, less the nodata pixel (row 3, col 1): x 10..20 × y 30..35 = 50 → 175
    #   class 4: 5 × 15 = 75;  nodata: 50
    assert [area[c][0] for c in (1, 2, 3, 4)] == pytest.approx([225, 75, 175, 75])
    assert stats.class_nodata_m2[0] == pytest.approx(50)
    # Region B: inside the raster only y −40..0: class 2: 15 × 20 = 300, class 4: 15 × 20 = 300
    assert [area[c][1] for c in (1, 2, 3, 4)] == pytest.approx([0, 300, 0, 300])
    # covered area: A wholly (600), B only its part inside the raster (15 × 40 = 600 of 750)
    assert stats.covered_m2 == pytest.approx([600, 600])
    assert two_regions.areas_km2 * 1e6 == pytest.approx([600, 750], rel=1e-6)
    # NDVI mean of A, weights = covered width per column × 30 m: (0.1·5 + 0.2·10 + 0.3·5) / 20 = 0.2
    # of B: columns 2 (x 25..30, 5 m) and 3 (10 m): (0.3·5 + 0.4·10) / 15 = 0.36667
    assert stats.mean("ndvi") == pytest.approx([0.2, 0.36666667], rel=1e-6)


def test_numpy_and_dask_agree_whatever_the_blocks(two_regions: RegionLayer) -> None:
    classes = data_array(CLASSES, GRID, EQUAL_AREA, nodata=255)
    ndvi = data_array(NDVI, GRID, EQUAL_AREA)
    reference = zonal_stats(two_regions, classes=classes, values={"ndvi": ndvi}, chunk=4)
    for result in (
        zonal_stats(two_regions, classes=classes, values={"ndvi": ndvi}, chunk=3),
        zonal_stats(two_regions, classes=classes, values={"ndvi": ndvi}, chunk=1),
        zonal_stats(two_regions, classes=classes.chunk(2), values={"ndvi": ndvi.chunk(3)}),
    ):
        for cls, arr in reference.class_area_m2.items():
            assert result.class_area_m2[cls] == pytest.approx(arr, rel=1e-9, abs=1e-6)  # µm² noise
        assert result.mean("ndvi") == pytest.approx(reference.mean("ndvi"), abs=1e-12)


def _synthetic(
    shape: tuple[int, int], seed: int = 7
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(1, 6, size=(shape[0] // 8 + 1, shape[1] // 8 + 1), dtype=np.uint8)
    classes = np.kron(coarse, np.ones((8, 8), dtype=np.uint8))[: shape[0], : shape[1]]
    ndvi = rng.random(shape, dtype=np.float32)
    return classes, ndvi


def test_matches_exactextract_on_beijing_districts(tmp_path: Path, beijing: Any) -> None:
    exactextract = pytest.importorskip("exactextract")
    _, districts = beijing
    minx, miny, maxx, maxy = shapely.total_bounds(districts.geometries_in(EQUAL_AREA))
    res = 1000.0
    transform = Affine(res, 0, minx - res, 0, -res, maxy + res)
    shape = (int((maxy - miny) / res) + 3, int((maxx - minx) / res) + 3)
    classes, ndvi = _synthetic(shape)
    lu = write_tif(tmp_path / "lu.tif", classes, transform, EQUAL_AREA)
    nd = write_tif(tmp_path / "ndvi.tif", ndvi, transform, EQUAL_AREA)
    ours = zonal_stats(
        districts, classes=open_raster(lu, chunk=64), values={"ndvi": open_raster(nd, chunk=64)}
    )

    frame = gpd.GeoDataFrame(
        {"code": districts.codes}, geometry=districts.geometries_in(EQUAL_AREA), crs=EQUAL_AREA
    )
    theirs = exactextract.exact_extract(
        str(lu), frame, ["unique", "frac", "count"], output="pandas"
    )
    means = exactextract.exact_extract(str(nd), frame, ["mean"], output="pandas")
    for i in range(len(districts)):
        expected = dict(
            zip(
                theirs["unique"][i], theirs["frac"][i] * theirs["count"][i] * res * res, strict=True
            )
        )
        got = {cls: ours.class_area_m2[cls][i] for cls in expected}
        assert got == pytest.approx(expected, rel=1e-6)
    assert ours.mean("ndvi") == pytest.approx(means["mean"].to_numpy(), rel=1e-6)
    # and both add up to the districts' own areas
    assert ours.covered_m2 / 1e6 == pytest.approx(districts.areas_km2, rel=1e-8)


def test_geographic_raster_uses_true_pixel_areas(beijing: Any) -> None:
    path = SHARED_DATA / "landcover" / "beijing_modis_mcd12c1_igbp_2019_0p05deg.tif"
    if not path.exists():
        pytest.skip("../shared/data not present")
    _, districts = beijing
    stats = zonal_stats(districts, classes=open_raster(path, chunk=None))
    # A 0.05° pixel is ~23.8 km² at 40°N and smaller further north; summing fractions × the
    # row's ellipsoidal pixel area gives back each district's area (the raster covers them all).
    covered = stats.class_valid_m2() + stats.class_nodata_m2
    assert covered / 1e6 == pytest.approx(districts.areas_km2, rel=2e-3)


def test_projected_raster_in_another_crs_is_reprojected(two_regions: RegionLayer) -> None:
    # the same regions against a UTM 50N grid: regions are moved to the raster's CRS
    utm = "EPSG:32650"
    bounds = gpd.GeoSeries(two_regions.geometries, crs=WGS84).to_crs(utm).total_bounds
    transform = Affine(5.0, 0, bounds[0] - 20, 0, -5.0, bounds[3] + 20)
    ones = np.ones((30, 30), dtype=np.uint8)
    stats = zonal_stats(two_regions, classes=data_array(ones, transform, utm))
    # UTM areas are scaled by k² ≈ 0.9996²; the row-area correction brings them back to
    # ellipsoidal m², so the totals equal the regions' own areas (600 and 750 m²)
    assert stats.class_area_m2[1] == pytest.approx([600, 750], rel=1e-4)


def test_grids_must_match_and_crs_is_required(two_regions: RegionLayer) -> None:
    classes = data_array(CLASSES, GRID, EQUAL_AREA)
    shifted = data_array(NDVI, GRID @ Affine.translation(1, 0), EQUAL_AREA)
    with pytest.raises(ValidationError, match="网格一致"):
        zonal_stats(two_regions, classes=classes, values={"ndvi": shifted})
    import xarray as xr

    bare = xr.DataArray(CLASSES, dims=("y", "x"))
    with pytest.raises(ValidationError, match="没有坐标系"):
        zonal_stats(two_regions, classes=bare)
    with pytest.raises(ValidationError, match="整数"):
        zonal_stats(two_regions, classes=data_array(NDVI, GRID, EQUAL_AREA))


@pytest.mark.slow
def test_runs_on_a_distributed_cluster(two_regions: RegionLayer) -> None:
    distributed = pytest.importorskip("distributed")
    classes = data_array(CLASSES, GRID, EQUAL_AREA, nodata=255).chunk(2)
    local = zonal_stats(two_regions, classes=classes)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        remote = zonal_stats(two_regions, classes=classes, scheduler=cluster.scheduler_address)
    for cls, arr in local.class_area_m2.items():
        assert remote.class_area_m2[cls] == pytest.approx(arr)


def test_a_subset_of_an_opened_file_is_not_read_as_the_whole_file(
    tmp_path: Path, two_regions: RegionLayer
) -> None:
    big = np.zeros((8, 8), dtype=np.uint8)
    big[4:, 4:] = CLASSES  # the hand-case grid is the bottom-right quarter of a larger file
    path = write_tif(
        tmp_path / "big.tif", big, GRID @ Affine.translation(-4, -4), EQUAL_AREA, nodata=255
    )
    whole = zonal_stats(two_regions, classes=open_raster(path, chunk=4))
    subset = zonal_stats(
        two_regions, classes=open_raster(path, chunk=4).isel(y=slice(4, 8), x=slice(4, 8))
    )
    # same answers as the hand case (region A, class 1: 225 m²) either way
    assert whole.class_area_m2[1][0] == pytest.approx(225) and subset.class_area_m2[1][
        0
    ] == pytest.approx(225)
    # B sticks out above the subset (not above the whole file): 600 of its 750 m² are covered
    assert subset.covered_m2 == pytest.approx([600, 600]) and whole.covered_m2 == pytest.approx(
        [600, 750]
    )
