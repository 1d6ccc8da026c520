"""The parameter file of the indicator registry and the project ledger
(``data/indicators.toml``): definitions, formulas and units of the known indicators, the project
types and which of them roll up into which indicator, stage order, overlap tolerance, unit
conversions and the tolerance of "稳中有升". Read once per process and validated."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import load_toml_model
from ecoplan.errors import ValidationError

Pace = Literal["level", "cumulative", "direction"]
Rollup = Literal["ledger_area", "ledger_count", "germplasm"]


class IndicatorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    match: list[str]
    name: str
    unit: str
    pace: Pace
    by_district: bool = False
    rollup: Rollup | None = None
    types: list[str] = []
    definition: str
    method: str
    source: str
    verified: bool = False


class Conversion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: str = Field(alias="from")  # a Python keyword: the file spells it, the model can't
    to: str
    factor: float


class Overlap(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_m2: float
    min_share: float


class Direction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tolerance: float


class IndicatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: str
    verified: bool
    project_types: list[str]
    green_space_types: list[str]
    stages: list[str]
    counted_stage: str
    overlap: Overlap
    convert: list[Conversion] = []
    direction: dict[str, Direction] = {}
    indicator: list[IndicatorSpec] = []
    sha256: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> IndicatorConfig:
        types = set(self.project_types)
        used = set(self.green_space_types) | {t for s in self.indicator for t in s.types}
        if not used <= types:
            raise ValueError(f"未定义的项目类型: {'、'.join(sorted(used - types))}")
        if self.counted_stage not in self.stages:
            raise ValueError(f"counted_stage“{self.counted_stage}”不在 stages 中")
        kinds = [s.kind for s in self.indicator]
        if len(kinds) != len(set(kinds)):
            raise ValueError("indicator.kind 重复")
        for spec in self.indicator:
            if spec.rollup in ("ledger_area", "ledger_count") and not spec.types:
                raise ValueError(f"{spec.kind}: 台账汇总指标须列出 types")
            if spec.pace == "direction" and not self.direction:
                raise ValueError(f"{spec.kind}: 方向性指标须有 [direction] 规则")
        return self

    def spec(self, kind: str | None) -> IndicatorSpec | None:
        return next((s for s in self.indicator if s.kind == kind), None)

    def match(self, words: str) -> IndicatorSpec | None:
        """The known indicator whose every match word is in ``words`` (the most specific, i.e.
        the one with most match words, when several fit)."""
        fits = [
            s for s in self.indicator if s.pace != "direction" and all(w in words for w in s.match)
        ]
        return max(fits, key=lambda s: len(s.match), default=None)

    def factor(self, unit: str, to: str) -> float | None:
        """Multiply a value in ``unit`` by this to get it in ``to``; None when not convertible."""
        if unit == to:
            return 1.0
        return next((c.factor for c in self.convert if c.from_ == unit and c.to == to), None)


@lru_cache(maxsize=1)
def config() -> IndicatorConfig:
    """The built-in parameter file ``data/indicators.toml``."""
    return load_toml_model(IndicatorConfig, "ecoplan.indicators", "data", "indicators",
                           ["indicators"], "指标参数")  # fmt: skip


def convert(value: float, unit: str, to: str, what: str) -> tuple[float, str]:
    """``value`` in ``unit`` expressed in ``to``, with a note saying so when converted;
    ValidationError naming ``what`` when the units are not convertible."""
    factor = config().factor(unit.strip(), to)
    if factor is None:
        raise ValidationError(f"{what}: 单位“{unit}”与指标单位“{to}”不一致且无法换算")
    if factor == 1.0 and unit.strip() == to:
        return value, ""
    converted = value * factor
    return converted, f"{value:g} {unit} 已换算为 {converted:.4g} {to}"
