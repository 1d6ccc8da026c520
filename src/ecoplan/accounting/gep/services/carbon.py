"""固碳 carbon fixation and 释氧 oxygen release.

Variants (``variant`` in the run configuration):

- ``npp`` (default): from NPP in gC/m²/a, dry matter = NPP / carbon fraction (0.45);
  CO₂ = 1.63 × dry matter, O₂ = 1.19 × dry matter (photosynthesis equation);
- ``nep``: NEP = NPP − R_H (soil heterotrophic respiration, gC/m²/a, a raster);
  CO₂ = 44/12 × NEP, O₂ = 32/12 × NEP;
- ``rate``: a carbon-fixation rate per ecosystem type (tC/hm²/a), forest × (1 + β) for soil;
  CO₂ = 44/12 × rate, O₂ = 32/12 × rate.

44/12 and 32/12 are molar-mass ratios (CO₂ : C, O₂ : C), not parameters. Counted ecosystem
types are those with a ``carbon.rate`` row. Per pixel in t/hm²; CO₂ valued at the carbon
price, O₂ at the oxygen price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ecoplan.accounting.gep.ecosystems import TYPES
from ecoplan.accounting.gep.spec import (
    Component,
    Context,
    Floats,
    InputSpec,
    PixelFn,
    Service,
    ServiceSpec,
)

CO2_PER_C = 44.0 / 12.0
O2_PER_C = 32.0 / 12.0
G_PER_M2_TO_T_PER_HM2 = 1e-2  # 1 g/m² = 10⁴ g/hm² = 0.01 t/hm²
NPP = InputSpec("npp", "净初级生产力 NPP", "gC/(m²·a)", "raster", 0, 3000, "NPP 不能为负")
RH = InputSpec("rh", "土壤异养呼吸 R_H", "gC/(m²·a)", "raster", 0, 3000)


def gas_t_per_hm2(
    types: NDArray[np.uint8], arrays: Mapping[str, NDArray[Any]], params: Mapping[str, Any]
) -> NDArray[np.float32]:
    counted = params["rate"][types]
    if params["variant"] == "rate":
        out = counted * params["forest_factor"][types] * params["per_c"]
        return np.where(np.isfinite(counted), out, 0.0).astype(np.float32)
    npp = arrays["npp"].astype(np.float64)
    if params["variant"] == "nep":
        per_area = (npp - arrays["rh"]) * params["per_c"]
    else:
        per_area = npp / params["carbon_fraction"] * params["per_dry_matter"]
    out = np.where(np.isfinite(counted), per_area * G_PER_M2_TO_T_PER_HM2, 0.0)
    return np.where(np.isfinite(npp), out, np.nan).astype(np.float32)


class _Gas(Service):
    gas: str = ""
    molar_ratio: float = 1.0
    dry_matter_parameter: str = ""
    price_indicator: str = ""

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]]:
        variant = ctx.variant  # checked against spec.variants by the pipeline
        rate = ctx.type_table("carbon.rate")
        params: dict[str, Any] = {"variant": variant, "rate": rate, "per_c": self.molar_ratio}
        if variant == "npp":
            params["carbon_fraction"] = ctx.param("carbon.carbon_fraction")
            params["per_dry_matter"] = ctx.param(self.dry_matter_parameter)
        if variant == "rate":
            beta = ctx.param("carbon.forest_soil_coefficient")
            factor = np.ones(256)
            factor[TYPES.index("forest")] = 1.0 + beta
            params["forest_factor"] = factor
        return gas_t_per_hm2, params

    def rasters(self, ctx: Context) -> tuple[str, ...]:
        return {"npp": ("npp",), "nep": ("npp", "rh"), "rate": ()}.get(ctx.variant, ("npp",))

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        return [ctx.priced(f"{self.gas}量", q[self.spec.id], "t", self.price_indicator)]


class CarbonFixation(_Gas):
    gas, molar_ratio, price_indicator = "固定CO₂", CO2_PER_C, "carbon"
    dry_matter_parameter = "carbon.co2_per_dry_matter"
    spec = ServiceSpec(
        id="carbon_fixation", name="固碳", unit="t CO₂", density_unit="t/hm²",
        density_to_total=1e-4, inputs=(NPP, RH), variants=("npp", "nep", "rate"),
    )  # fmt: skip


class OxygenRelease(_Gas):
    gas, molar_ratio, price_indicator = "释放O₂", O2_PER_C, "oxygen"
    dry_matter_parameter = "carbon.o2_per_dry_matter"
    spec = ServiceSpec(
        id="oxygen_release", name="释氧", unit="t O₂", density_unit="t/hm²",
        density_to_total=1e-4, inputs=(NPP, RH), variants=("npp", "nep", "rate"),
    )  # fmt: skip
