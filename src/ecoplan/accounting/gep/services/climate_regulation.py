"""局部气候调节 local climate regulation: energy that evapotranspiration takes from the air,
as the electricity air conditioners and humidifiers would need.

- plants (per pixel, kWh/m²): EPP(type) [kJ/m²/d] × D / (3600 × r), D = days with daily
  maximum temperature above 26 °C, r = air-conditioner energy-efficiency ratio;
- water surfaces (type ``water``): evaporation E (mm/a) × the share of it on hot days ×
  latent heat q × 1000 kg/m³ / (3600 × r), plus E × the share on dry days (RH < 45 %) × the
  humidifier's kWh per m³.

D and the two shares come from a daily weather table (``inputs.weather``) or from
``[scalars]`` hot_days / hot_share / dry_share. Valued at the electricity price.
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

KJ_PER_KWH = 3600.0
WATER_KG_PER_M3 = 1000.0
INPUTS = (
    InputSpec("hot_days", "日最高气温 > 26 °C 的天数", "d", "scalar", 0, 366),
    InputSpec("hot_share", "高温日蒸发量占全年比例", "1", "scalar", 0, 1),
    InputSpec("dry_share", "干燥日(RH < 45 %)蒸发量占全年比例", "1", "scalar", 0, 1),
    InputSpec("water_evaporation_mm", "水面年蒸发量", "mm/a", "scalar", 0, 3000),
)  # fmt: skip


def energy_kwh_per_m2(
    types: NDArray[np.uint8], _arrays: Mapping[str, NDArray[Any]], params: Mapping[str, Any]
) -> NDArray[np.float32]:
    plants = np.nan_to_num(params["epp"][types]) * params["plant_factor"]
    water = np.where(types == TYPES.index("water"), params["water_kwh_per_m2"], 0.0)
    return np.asarray(plants + water, dtype=np.float32)


class ClimateRegulation(Service):
    spec = ServiceSpec(
        id="climate_regulation", name="局部气候调节", unit="kWh", density_unit="kWh/m²",
        density_to_total=1.0, inputs=INPUTS,
    )  # fmt: skip

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]]:
        r = ctx.param("climate_regulation.ac_efficiency")
        evaporation_m = ctx.scalar("water_evaporation_mm") / 1000.0  # m³ per m² of water
        cooling = (
            evaporation_m * ctx.scalar("hot_share") * WATER_KG_PER_M3
            * ctx.param("climate_regulation.latent_heat") / (KJ_PER_KWH * r)
        )  # fmt: skip
        humidifying = (
            evaporation_m * ctx.scalar("dry_share")
            * ctx.param("climate_regulation.humidifier_kwh_per_m3")
        )  # fmt: skip
        return energy_kwh_per_m2, {
            "epp": ctx.type_table("climate_regulation.epp"),
            "plant_factor": ctx.scalar("hot_days") / (KJ_PER_KWH * r),
            "water_kwh_per_m2": cooling + humidifying,
        }

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        return [ctx.priced("蒸散降温增湿耗电量", q[self.spec.id], "kWh", "electricity")]
