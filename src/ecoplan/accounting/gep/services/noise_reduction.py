"""噪声消减 noise reduction: a pluggable indicator, off by default (no verified formula).

Default form: road green-belt length (km, region-table column ``green_belt_km``) × the
barrier length one km of belt replaces, valued at the cost of a noise barrier per km.
A scheme with its own method replaces this class through the plugin entry point.
"""

from __future__ import annotations

from collections.abc import Mapping

from ecoplan.accounting.gep.spec import (
    Component,
    Context,
    Floats,
    InputSpec,
    RegionData,
    Service,
    ServiceSpec,
)


class NoiseReduction(Service):
    spec = ServiceSpec(
        id="noise_reduction", name="噪声消减", unit="km", default_on=False,
        inputs=(InputSpec("green_belt_km", "道路绿化带长度", "km", "region_table", 0),),
    )  # fmt: skip

    def quantities(self, ctx: Context, data: RegionData) -> dict[str, Floats] | None:
        if not data.has_table("green_belt_km"):
            return None
        return {self.spec.id: data.column("green_belt_km")}

    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        belt = q[self.spec.id] * ctx.param("noise_reduction.reduction_per_km")
        return [ctx.priced("等效隔声屏障长度", belt, "km", "noise_barrier")]
