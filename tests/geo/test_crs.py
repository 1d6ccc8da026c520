"""GCJ-02 ↔ WGS84."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from ecoplan.geo.crs import gcj02_to_wgs84, geometry_gcj02_to_wgs84, wgs84_to_gcj02

from .conftest import SHARED_DATA


def test_round_trip_is_below_a_millimetre() -> None:
    lon = np.array([116.397, 115.5, 117.4])
    lat = np.array([39.908, 40.9, 39.5])
    glon, glat = wgs84_to_gcj02(lon, lat)
    # the offset near Beijing is a few hundred metres: about 0.006° in longitude, 0.001° in latitude
    assert 0.004 < glon[0] - lon[0] < 0.008 and 0.0 < glat[0] - lat[0] < 0.003
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    # 1e-8° ≈ 1 mm
    assert np.abs(back_lon - lon).max() < 1e-8 and np.abs(back_lat - lat).max() < 1e-8


def test_outside_china_is_unchanged() -> None:
    lon, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))  # Paris
    assert lon[0] == 2.35 and lat[0] == 48.85


def test_matches_the_reference_conversion_of_beijing_districts() -> None:
    gpd = pytest.importorskip("geopandas")
    gcj = SHARED_DATA / "boundaries" / "beijing_districts_datav_gcj02.geojson"
    wgs = SHARED_DATA / "boundaries" / "beijing_districts_datav_wgs84.geojson"
    if not gcj.exists():
        pytest.skip("../shared/data not present")
    ours = shapely.get_coordinates(
        geometry_gcj02_to_wgs84(np.asarray(gpd.read_file(gcj).geometry.values))
    )
    reference = shapely.get_coordinates(np.asarray(gpd.read_file(wgs).geometry.values))
    # the reference file is written with 6 decimals: agreement to 5e-7° is all it can show
    assert np.abs(ours - reference).max() < 1e-6
