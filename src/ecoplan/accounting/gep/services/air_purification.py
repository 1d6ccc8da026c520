"""空气净化 air purification: SO₂, NOx and dust, min(emission, ecosystem capacity) × cost."""

from __future__ import annotations

from ecoplan.accounting.gep.services.purification import Purification
from ecoplan.accounting.gep.spec import InputSpec, ServiceSpec


class AirPurification(Purification):
    pollutants = ("so2", "nox", "dust")
    spec = ServiceSpec(
        id="air_purification", name="空气净化", unit="t",
        inputs=(InputSpec("so2_t", "二氧化硫排放量", "t/a", "region_table", 0),
                InputSpec("nox_t", "氮氧化物排放量", "t/a", "region_table", 0),
                InputSpec("dust_t", "颗粒物排放量", "t/a", "region_table", 0)),
    )  # fmt: skip
