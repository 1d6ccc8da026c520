"""水质净化 water purification: COD, NH₃-N, TN, TP, min(discharge, capacity) × removal cost."""

from __future__ import annotations

from ecoplan.accounting.gep.services.purification import Purification
from ecoplan.accounting.gep.spec import InputSpec, ServiceSpec


class WaterPurification(Purification):
    pollutants = ("cod", "nh3n", "tn", "tp")
    spec = ServiceSpec(
        id="water_purification", name="水质净化", unit="t",
        inputs=(InputSpec("cod_t", "化学需氧量排放量", "t/a", "region_table", 0),
                InputSpec("nh3n_t", "氨氮排放量", "t/a", "region_table", 0),
                InputSpec("tn_t", "总氮排放量", "t/a", "region_table", 0),
                InputSpec("tp_t", "总磷排放量", "t/a", "region_table", 0)),
    )  # fmt: skip
