"""Deriving the EI indicator table from rasters, a river network and region tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ecoplan.accounting.ei.compute import compute
from ecoplan.accounting.ei.derive import derive_table
from ecoplan.accounting.ei.method import load_method
from ecoplan.accounting.ei.table import rows_from_frame
from ecoplan.cli import app
from ecoplan.demo.geodata import write_rasters, write_region_table, write_rivers
from ecoplan.errors import ValidationError
from ecoplan.geo.regions import beijing_layers

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("ei")
    city, districts = beijing_layers()
    landuse, ndvi = write_rasters(folder, city, 1000.0)
    table = write_region_table(folder / "regions.csv", [city, districts])
    return {"landuse": landuse, "ndvi": ndvi, "table": table, "rivers": write_rivers(folder / "rivers.geojson"),
            "layers": [city, districts], "folder": folder}  # fmt: skip


def test_derive_then_compute_for_beijing(demo_inputs: dict[str, Any]) -> None:
    frame, provenance = derive_table(
        landuse=demo_inputs["landuse"], ndvi=demo_inputs["ndvi"], tables=[demo_inputs["table"]], year=2024,
        rivers=demo_inputs["rivers"], layers=demo_inputs["layers"],
    )  # fmt: skip
    assert len(frame) == 17 and frame["region_level"].tolist().count("district") == 16
    land = frame[[c for c in frame.columns if c.startswith("lu_")]].sum(axis=1)
    # fractional coverage: land-use areas add up to each region's own area (the raster covers all)
    assert land.to_numpy() == pytest.approx(frame["area_km2"].to_numpy(), rel=1e-6)
    # the city's totals equal the districts' totals (they tile the city), class by class
    city, districts = frame.iloc[0], frame.iloc[1:]
    assert city["lu_forest_dense_km2"] == pytest.approx(
        districts["lu_forest_dense_km2"].sum(), rel=1e-3
    )
    # rivers: the schematic 永定河 crosses 门头沟; 东城 has none
    by_name = frame.set_index("region_name")
    assert (
        by_name.at["门头沟区", "river_length_km"] > 10
        and by_name.at["东城区", "river_length_km"] == 0
    )
    assert 0.1 < city["ndvi_mean"] < 0.9
    assert provenance["inputs"]["landuse"]["sha256"] and provenance["method"] == "hj192-2015@2015"
    assert "0.0001" in provenance["notes"][0]

    results = compute(rows_from_frame(frame.astype(str), load_method()), load_method())
    assert all(0 <= r.ei <= 100 for r in results)
    assert {r.region_code for r in results if r.approximation} == {"110000~aw"}


def test_cli_derive_writes_table_and_provenance(
    demo_inputs: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "indicators.csv"
    result = runner.invoke(app, [
        "ei", "derive", "--landuse", str(demo_inputs["landuse"]), "--ndvi", str(demo_inputs["ndvi"]),
        "--table", str(demo_inputs["table"]), "--rivers", str(demo_inputs["rivers"]), "--year", "2024",
        "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype={"region_code": str})
    assert frame["region_code"].iloc[0] == "110000" and len(frame) == 17
    provenance = json.loads(out.with_suffix(".provenance.json").read_text(encoding="utf-8"))
    assert provenance["mapping"]["id"] == "cas25"
    computed = runner.invoke(app, ["ei", "compute", "--indicators", str(out), "--format", "csv"])
    assert computed.exit_code == 0, computed.output
    assert len(computed.stdout.strip().splitlines()) == 1 + 17 + 1  # header, regions, approximation


def test_class_missing_from_mapping_is_refused(demo_inputs: dict[str, Any], tmp_path: Path) -> None:
    mapping = tmp_path / "partial.toml"
    from importlib import resources

    text = (
        resources.files("ecoplan.accounting.ei").joinpath("mappings/cas25.toml").read_text("utf-8")
    )
    text = text.replace('53 = "lu_built_other_km2"     # 其他建设用地\n', "").replace(
        "built = [51, 52, 53]", "built = [51, 52]"
    )
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="未定义的类别: 53"):
        derive_table(
            landuse=demo_inputs["landuse"], ndvi=demo_inputs["ndvi"], tables=[demo_inputs["table"]], year=2024,
            rivers=demo_inputs["rivers"], layers=demo_inputs["layers"], mapping=mapping,
        )  # fmt: skip


def test_region_outside_the_raster_is_refused(demo_inputs: dict[str, Any]) -> None:
    import shapely

    from ecoplan.geo.regions import build_layer

    far = build_layer(
        "township",
        ["x"],
        ["远方"],
        np.asarray([shapely.box(100.0, 30.0, 100.1, 30.1)], dtype=object),
    )
    with pytest.raises(ValidationError, match="远方"):
        derive_table(
            landuse=demo_inputs["landuse"], ndvi=demo_inputs["ndvi"], tables=[demo_inputs["table"]], year=2024,
            layers=[far],
        )  # fmt: skip


def test_missing_region_in_tables_is_named(demo_inputs: dict[str, Any], tmp_path: Path) -> None:
    partial = tmp_path / "partial.csv"
    lines = demo_inputs["table"].read_text(encoding="utf-8").splitlines()
    partial.write_text(
        "\n".join(line for line in lines if not line.startswith("110116")), encoding="utf-8"
    )
    with pytest.raises(ValidationError, match="110116"):
        derive_table(
            landuse=demo_inputs["landuse"], ndvi=demo_inputs["ndvi"], tables=[partial], year=2024,
            rivers=demo_inputs["rivers"], layers=demo_inputs["layers"],
        )  # fmt: skip


def test_nodata_everywhere_in_a_region_is_refused(tmp_path: Path) -> None:
    from affine import Affine

    from ecoplan.accounting.ei.derive import derive_rows
    from ecoplan.accounting.ei.mapping import load_mapping
    from ecoplan.geo.crs import EQUAL_AREA
    from ecoplan.geo.rasters import open_raster
    from ecoplan.geo.regions import build_layer

    from ..geo.conftest import write_tif

    grid = Affine(100.0, 0, 960_000.0, 0, -100.0, 4_350_000.0)
    square = gpd_box_wgs84(960_200.0, 4_349_000.0, 960_800.0, 4_349_800.0)
    layer = build_layer("township", ["t1"], ["测试乡"], np.asarray([square], dtype=object))
    lu_empty = write_tif(
        tmp_path / "lu0.tif", np.zeros((20, 20), np.uint8), grid, EQUAL_AREA, nodata=0
    )
    lu_full = write_tif(
        tmp_path / "lu1.tif", np.full((20, 20), 21, np.uint8), grid, EQUAL_AREA, nodata=0
    )
    nd_empty = write_tif(
        tmp_path / "nd0.tif", np.full((20, 20), -32768, np.int16), grid, EQUAL_AREA, nodata=-32768
    )
    tables = pd.DataFrame({"region_code": ["t1"]}).set_index("region_code")
    common = {"year": 2024, "method": load_method(), "mapping": load_mapping("cas25"), "ndvi_scale": 1e-4,
              "tables": tables}  # fmt: skip
    with pytest.raises(ValidationError, match="测试乡: 区域内土地利用栅格全部为无数据"):
        derive_rows(layer, landuse=open_raster(lu_empty), ndvi=open_raster(nd_empty), **common)
    with pytest.raises(ValidationError, match="测试乡: 区域内 NDVI 栅格全部为无数据"):
        derive_rows(layer, landuse=open_raster(lu_full), ndvi=open_raster(nd_empty), **common)


def gpd_box_wgs84(minx: float, miny: float, maxx: float, maxy: float) -> object:
    import geopandas as gpd
    import shapely

    from ecoplan.geo.crs import EQUAL_AREA

    return (
        gpd.GeoSeries([shapely.box(minx, miny, maxx, maxy)], crs=EQUAL_AREA).to_crs(4326).values[0]
    )
