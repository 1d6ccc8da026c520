"""A hand-checkable region: A = 100 km², round land-use areas, round emissions."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ecoplan.accounting.ei.method import Method, load_method
from ecoplan.accounting.ei.table import IndicatorRow, required_columns

LAND = {
    "lu_forest_dense_km2": 40, "lu_forest_shrub_km2": 10, "lu_forest_sparse_km2": 0,
    "lu_grass_high_km2": 10, "lu_grass_mid_km2": 0, "lu_grass_low_km2": 0,
    "lu_water_river_km2": 2, "lu_water_lake_km2": 3, "lu_water_beach_km2": 0, "lu_water_glacier_km2": 0,
    "lu_crop_paddy_km2": 0, "lu_crop_dry_km2": 15,
    "lu_built_urban_km2": 10, "lu_built_rural_km2": 5, "lu_built_other_km2": 5,
    "lu_unused_sand_km2": 0, "lu_unused_saline_km2": 0, "lu_unused_bare_soil_km2": 0,
    "lu_unused_bare_rock_km2": 0, "lu_unused_other_km2": 0,
}  # fmt: skip
OTHER = {
    "area_km2": 100, "ndvi_mean": 0.7, "river_length_km": 50, "water_area_km2": 5,
    "water_resources_1e6m3": 20, "erosion_severe_km2": 2, "erosion_moderate_km2": 5,
    "stress_other_km2": 1, "cod_t": 1000, "nh3n_t": 100, "so2_t": 500, "dust_t": 200,
    "nox_t": 2000, "solid_waste_t": 10, "precip_mm": 600, "restriction_level": 0,
}  # fmt: skip


def base_values(**changes: float | None) -> dict[str, float | None]:
    values: dict[str, float | None] = {**LAND, **OTHER}
    values.update(changes)
    return values


def make_row(code: str = "110116", name: str = "样例区", year: int = 2024, level: str = "district",
             **changes: float | None) -> IndicatorRow:  # fmt: skip
    return IndicatorRow(code, name, year, level, base_values(**changes))


def write_table(
    path: Path, records: Iterable[dict[str, Any]], method: Method | None = None
) -> Path:
    method = method or load_method()
    records = list(records)
    extra = sorted({k for r in records for k in r} - set(required_columns(method)))
    columns = required_columns(method) + extra
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({c: record.get(c, "") for c in columns})
    return path


def record(code: str, name: str, year: int = 2024, **changes: float | None) -> dict[str, Any]:
    return {"region_code": code, "region_name": name, "year": year, **base_values(**changes)}


@pytest.fixture
def hj192() -> Method:
    return load_method("hj192-2015")
