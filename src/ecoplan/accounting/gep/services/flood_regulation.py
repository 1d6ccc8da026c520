"""洪水调蓄 flood regulation: vegetation, reservoirs and lakes.

- vegetation (per pixel, mm): P_h − R_f = P_h·(1 − storm-runoff coefficient of the type),
  P_h = rain on storm days (daily ≥ 50 mm) in the year, a raster or a weather-derived scalar;
- reservoirs (inventory points): flood-control capacity, or total capacity × share (0.35);
- lakes (inventory points): e^a · A^b · c × 10⁴ m³ with A in km² (empirical, by region).

All three are valued at the reservoir construction cost per m³.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecoplan.accounting.gep.spec import (
    Component,
    Context,
    Floats,
    InputSpec,
    PixelFn,
    RegionData,
    Service,
    ServiceSpec,
)

STORM_RAIN = InputSpec(
    "storm_rain", "暴雨日降水量(年合计)", "mm/a", "raster", 0, 3000, "可能以米为单位(应为毫米)"
)
RESERVOIRS = InputSpec(
    "reservoirs", "水库清单(lon, lat, capacity_m3[, flood_capacity_m3])", "m³", "points", 0
)
LAKES = InputSpec("lakes", "湖泊清单(lon, lat, area_km2)", "km²", "points", 0, 5000)
LAKE_UNIT_M3 = 1e4  # the empirical lake formula gives 10⁴ m³


def vegetation_retention_mm(
    types: NDArray[np.uint8], arrays: Mapping[str, NDArray[Any]], params: Mapping[str, Any]
) -> NDArray[np.float32]:
    coefficient = params["runoff"][types]
    rain = arrays["storm_rain"] if "storm_rain" in arrays else np.full(types.shape, params["rain"])
    rain = rain.astype(np.float64)
    out = np.where(np.isfinite(coefficient), rain * (1.0 - np.nan_to_num(coefficient)), 0.0)
    return np.where(np.isfinite(rain), out, np.nan).astype(np.float32)


class FloodRegulation(Service):
    spec = ServiceSpec(
        id="flood_regulation", name="洪水调蓄", unit="m³", density_unit="mm",
        density_to_total=1e-3, inputs=(STORM_RAIN, RESERVOIRS, LAKES),
    )  # fmt: skip

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]]:
        params: dict[str, Any] = {
            "runoff": ctx.type_table("flood_regulation.storm_runoff_coefficient")
        }
        if "storm_rain_mm" in ctx.scalars:
            params["rain"] = ctx.scalar("storm_rain_mm")
        return vegetation_retention_mm, params

    def rasters(self, ctx: Context) -> tuple[str, ...]:
        # without a storm-rain raster, the weather table's (or [scalars]) storm_rain_mm is used
        return () if "storm_rain_mm" in ctx.scalars else ("storm_rain",)

    def quantities(self, ctx: Context, data: RegionData) -> dict[str, Floats]:
        n = len(data.codes)
        vegetation = data.pixel_total if data.pixel_total is not None else np.zeros(n)
        out = {"vegetation": vegetation, "reservoir": np.zeros(n), "lake": np.zeros(n)}
        if "reservoirs" in data.points:
            res = data.points["reservoirs"]
            share = ctx.param("flood_regulation.reservoir_flood_share")
            total = res.columns["capacity_m3"]
            flood = res.columns.get("flood_capacity_m3", np.full(len(total), np.nan))
            out["reservoir"] = res.per_region(np.where(np.isfinite(flood), flood, total * share), n)
        if "lakes" in data.points:
            lakes = data.points["lakes"]
            a = ctx.param("flood_regulation.lake_a")
            b = ctx.param("flood_regulation.lake_b")
            c = ctx.param("flood_regulation.lake_c")
            storage = np.exp(a) * np.power(lakes.columns["area_km2"], b) * c * LAKE_UNIT_M3
            out["lake"] = lakes.per_region(storage, n)
        return out

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        return [
            ctx.priced("植被调蓄", q["vegetation"], "m³", "reservoir_cost"),
            ctx.priced("水库调蓄", q["reservoir"], "m³", "reservoir_cost"),
            ctx.priced("湖泊调蓄", q["lake"], "m³", "reservoir_cost"),
        ]
