"""水源涵养 water conservation: water balance Q = Σ (P − R − ET) × A, R = P × α(ecosystem).

Per pixel, in mm (= L/m²): max(P − α·P − ET, 0) where the pixel's ecosystem type has a
runoff coefficient α (forest, shrub, grass, wetland by default); other types do not count.
Negative balances are set to 0 (an ecosystem cannot conserve less than nothing) and the
share of such area is reported. Valued at the reservoir construction cost per m³.
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

PRECIPITATION = InputSpec(
    "precipitation", "年降水量", "mm/a", "raster", 50, 5000, "数值过小，可能以米为单位(应为毫米)"
)
EVAPOTRANSPIRATION = InputSpec(
    "et", "年实际蒸散发", "mm/a", "raster", 0, 3000, "数值过小，可能以米为单位(应为毫米)"
)


def water_balance_mm(
    types: NDArray[np.uint8], arrays: Mapping[str, NDArray[Any]], params: Mapping[str, Any]
) -> NDArray[np.float32]:
    alpha = params["alpha"][types]
    p = arrays["precipitation"].astype(np.float64)
    balance = p - alpha * p - arrays["et"]
    out = np.where(np.isfinite(alpha), np.maximum(balance, 0.0), 0.0)
    return np.where(np.isfinite(p), out, np.nan).astype(np.float32)


class WaterConservation(Service):
    spec = ServiceSpec(
        id="water_conservation", name="水源涵养", unit="m³", density_unit="mm",
        density_to_total=1e-3, inputs=(PRECIPITATION, EVAPOTRANSPIRATION),
    )  # fmt: skip

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]]:
        return water_balance_mm, {"alpha": ctx.type_table("water_conservation.runoff_coefficient")}

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        return [ctx.priced("水源涵养量", q[self.spec.id], "m³", "reservoir_cost")]
