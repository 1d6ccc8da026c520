"""Shared by 空气净化 and 水质净化: purification = min(emission, capacity) per pollutant.

Capacity = Σ_types area × unit-area capacity (t/km²/a). Emissions come from the region
tables (``<pollutant>_t`` columns). The comparison is made where emissions are given (usually
districts); other layers get the base result spread by capacity (see the pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ecoplan.accounting.gep.spec import Component, Context, Floats, RegionData, Service

NAMES = {
    "so2": "二氧化硫", "nox": "氮氧化物", "dust": "粉尘(颗粒物)",
    "cod": "化学需氧量", "nh3n": "氨氮", "tn": "总氮", "tp": "总磷",
}  # fmt: skip


class Purification(Service):
    pollutants: tuple[str, ...] = ()

    def capacities(self, ctx: Context, data: RegionData) -> dict[str, Floats]:
        rows = ctx.params_by_type(f"{self.spec.id}.capacity")
        n = len(data.codes)
        out = {p: np.zeros(n) for p in self.pollutants}
        for key, value in rows.items():
            kind, _, pollutant = key.partition(".")
            if pollutant in out:
                out[pollutant] = out[pollutant] + data.type_area_km2.get(kind, np.zeros(n)) * value
        return out

    def quantities(self, ctx: Context, data: RegionData) -> dict[str, Floats] | None:
        columns = [f"{p}_t" for p in self.pollutants]
        if not data.has_table(*columns):
            return None
        capacity = self.capacities(ctx, data)
        return {p: np.minimum(data.column(f"{p}_t"), capacity[p]) for p in self.pollutants}

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        return [ctx.priced(f"{NAMES[p]}净化量", q[p], "t", p) for p in self.pollutants]
