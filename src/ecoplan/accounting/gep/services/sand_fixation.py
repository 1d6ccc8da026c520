"""防风固沙 sand fixation, RWEQ: potential minus actual wind erosion (off by default).

With F = WF·EF·SCF·K′ (weather, erodible-fraction, crust and roughness factors) and the
vegetation factor C:  Q_max = 109.8·F·C,  s = 150.71·(F·C)^−0.3711,
SL = 2z/s² · Q_max · e^−(z/s)²  (kg/m², z = downwind distance). Potential: C = 1.
Retention = SL_potential − SL_actual, per pixel in kg/m². C = e^(−0.0438·fc%) by default.
Valued as the cost of restoring the land the sand would bury: Q / (ρ·h) m² × cost per m².
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecoplan.accounting.gep.services.soil_retention import vegetation_cover_percent
from ecoplan.accounting.gep.spec import (
    Component,
    Context,
    Floats,
    InputSpec,
    PixelFn,
    Service,
    ServiceSpec,
)

INPUTS = (
    InputSpec("wf", "气候因子 WF", "kg/m", "raster", 0, 1000),
    InputSpec("ef", "土壤可蚀因子 EF", "1", "raster", 0, 1),
    InputSpec("scf", "土壤结皮因子 SCF", "1", "raster", 0, 1),
    InputSpec("kr", "地表粗糙度因子 K′", "1", "raster", 0, 1),
    InputSpec("ndvi", "NDVI(生长季)", "1", "raster", -1, 1, "NDVI 应在 [-1, 1]，请设 ndvi_scale"),
)  # fmt: skip


def rweq_loss(f: NDArray[np.float64], z: float) -> NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q_max = 109.8 * f
        s = 150.71 * np.power(f, -0.3711)
        loss = 2 * z / s**2 * q_max * np.exp(-((z / s) ** 2))
    return np.asarray(np.where(f > 0, loss, 0.0))


def fixation_kg_per_m2(
    types: NDArray[np.uint8], arrays: Mapping[str, NDArray[Any]], params: Mapping[str, Any]
) -> NDArray[np.float32]:
    f = arrays["wf"] * arrays["ef"] * arrays["scf"] * arrays["kr"]
    fc = vegetation_cover_percent(arrays["ndvi"], params["ndvi_soil"], params["ndvi_veg"])
    c = np.exp(params["c_coefficient"] * fc)
    z = params["z"]
    out = rweq_loss(f, z) - rweq_loss(f * c, z)
    counted = np.isfinite(params["counted"][types])
    return np.where(np.isfinite(f), np.where(counted, out, 0.0), np.nan).astype(np.float32)


class SandFixation(Service):
    spec = ServiceSpec(
        id="sand_fixation", name="防风固沙", unit="t", density_unit="kg/m²",
        density_to_total=1e-3, inputs=INPUTS, default_on=False,
    )  # fmt: skip

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]]:
        return fixation_kg_per_m2, {
            "counted": ctx.type_table("soil_retention.p_factor"),
            "ndvi_soil": ctx.param("soil_retention.ndvi_soil"),
            "ndvi_veg": ctx.param("soil_retention.ndvi_veg"),
            "c_coefficient": ctx.param("sand_fixation.c_coefficient"),
            "z": ctx.param("sand_fixation.downwind_distance_m"),
        }

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        use = ctx.price("sand_control")
        rho = ctx.param("sand_fixation.bulk_density")
        h = ctx.param("sand_fixation.deposit_thickness_m")
        per_t = use.value / (rho * h)
        note = f"治理 {use.value:.2f} 元/m² ÷ (ρ={rho} t/m³ × h={h} m)，{use.describe()}"
        return [Component("防风固沙量", q[self.spec.id], "t", per_t, "元/t", note, use.verified)]
