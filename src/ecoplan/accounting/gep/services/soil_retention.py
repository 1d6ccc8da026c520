"""土壤保持 soil retention: RUSLE potential minus actual erosion, R·K·LS·(1 − C·P).

- LS from the DEM (:mod:`ecoplan.accounting.gep.terrain`, flow accumulation with a capped
  slope length);
- C from vegetation cover fc (像元二分模型 on NDVI) by 蔡崇法: C = 1 at fc = 0,
  a − b·lg(fc %) below the full-cover threshold, 0 above it;
- P per ecosystem type; types without P do not count (urban, water).

Per pixel in t/hm². Valued as avoided reservoir sedimentation λ·Q/ρ·c_dredge plus avoided
nitrogen and phosphorus loss Q·N·p_N + Q·P·p_P.
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
    Service,
    ServiceSpec,
)
from ecoplan.accounting.gep.terrain import ls_factor_blocks
from ecoplan.errors import ValidationError
from ecoplan.geo.rasters import Grid

INPUTS = (
    InputSpec("dem", "数字高程模型", "m", "raster", -500, 9000, "高程超出地球范围，请检查单位"),
    InputSpec("erosivity", "降雨侵蚀力 R", "MJ·mm/(hm²·h·a)", "raster", 0, 30000),
    InputSpec("erodibility", "土壤可蚀性 K", "t·hm²·h/(hm²·MJ·mm)", "raster", 0, 1,
              "K 通常在 0–0.1，可能未换算为国际单位"),
    InputSpec("ndvi", "NDVI(生长季)", "1", "raster", -1, 1, "NDVI 应在 [-1, 1]，请设 ndvi_scale"),
)  # fmt: skip


def vegetation_cover_percent(ndvi: NDArray[Any], soil: float, veg: float) -> NDArray[np.float64]:
    return np.asarray(np.clip((ndvi - soil) / (veg - soil), 0.0, 1.0) * 100.0)


def c_factor(fc: NDArray[np.float64], a: float, b: float, full: float) -> NDArray[np.float64]:
    with np.errstate(divide="ignore"):
        partial = a - b * np.log10(fc)
    return np.asarray(np.where(fc <= 0, 1.0, np.where(fc >= full, 0.0, np.clip(partial, 0, 1))))


def retention_t_per_hm2(
    types: NDArray[np.uint8], arrays: Mapping[str, NDArray[Any]], params: Mapping[str, Any]
) -> NDArray[np.float32]:
    p = params["p"][types]
    fc = vegetation_cover_percent(arrays["ndvi"], params["ndvi_soil"], params["ndvi_veg"])
    c = c_factor(fc, params["c_a"], params["c_b"], params["c_full"])
    rkls = arrays["erosivity"] * arrays["erodibility"] * arrays["ls"]
    out = np.where(np.isfinite(p), rkls * (1.0 - c * np.nan_to_num(p)), 0.0)
    return np.where(np.isfinite(rkls), out, np.nan).astype(np.float32)


class SoilRetention(Service):
    spec = ServiceSpec(
        id="soil_retention", name="土壤保持", unit="t", density_unit="t/hm²",
        density_to_total=1e-4, inputs=INPUTS, variants=("liu", "mccool"),
    )  # fmt: skip

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]]:
        return retention_t_per_hm2, {
            "p": ctx.type_table("soil_retention.p_factor"),
            "ndvi_soil": ctx.param("soil_retention.ndvi_soil"),
            "ndvi_veg": ctx.param("soil_retention.ndvi_veg"),
            "c_a": ctx.param("soil_retention.c_a"),
            "c_b": ctx.param("soil_retention.c_b"),
            "c_full": ctx.param("soil_retention.c_full_cover"),
        }

    def derived(self, ctx: Context, inputs: Mapping[str, Any], grid: Grid) -> dict[str, Any]:
        if not grid.crs.is_projected:
            raise ValidationError(
                "土壤保持(LS 因子)需要投影坐标系(米)的栅格，当前为地理坐标；请先投影(如 UTM 50N 或 Albers)"
            )
        cap = ctx.param("soil_retention.slope_length_cap_m")
        ls = ls_factor_blocks(
            inputs["dem"], dx=grid.dx, dy=grid.dy, cap_m=cap, s_variant=ctx.variant
        )
        return {"ls": ls}

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        soil = q[self.spec.id]
        dredge = ctx.price("dredging_cost")
        ratio = ctx.param("soil_retention.sediment_deposition_ratio")
        density = ctx.param("soil_retention.bulk_density")
        return [
            Component(
                "减少泥沙淤积", soil, "t", ratio / density * dredge.value, "元/t",
                f"λ={ratio} ÷ ρ={density} t/m³ × 清淤 {dredge.value:.2f} 元/m³，{dredge.describe()}",
                dredge.verified,
            ),
            ctx.priced("减少氮流失", soil * ctx.param("soil_retention.soil_n"), "t N", "nitrogen"),
            ctx.priced("减少磷流失", soil * ctx.param("soil_retention.soil_p"), "t P", "phosphorus"),
        ]  # fmt: skip
