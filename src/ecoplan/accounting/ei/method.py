"""EI methods as data: load, validate and describe a method file (TOML).

A method names its standard and version; every result carries them, and a time series is
only ever compared within one method (``Method.key``). HJ 192-2015 ships in ``methods/``;
a user's file with the same structure (e.g. their DB11/T 1877 parameters) loads the same way.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ecoplan.datafiles import load_toml_model

BUILT_IN: Final = ("hj192-2015",)
SUBINDICES: Final = (
    "biological_abundance",
    "vegetation_cover",
    "water_network",
    "land_stress",
    "pollution_load",
)
SUBINDEX_NAMES: Final = {
    "biological_abundance": "生物丰度指数",
    "vegetation_cover": "植被覆盖指数",
    "water_network": "水网密度指数",
    "land_stress": "土地胁迫指数",
    "pollution_load": "污染负荷指数",
}
NEGATIVE: Final = frozenset({"land_stress", "pollution_load"})  # enter EI as (100 − value)
LAND_CLASSES: Final = ("forest", "grass", "water", "crop", "built", "unused")

Weight = Annotated[float, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MethodInfo(_Strict):
    id: str
    name: str
    standard: str
    version: str
    index_name: str = "生态环境质量指数"
    decimals: int | None = Field(default=1, ge=0, le=6)
    clip_subindices: bool = False
    clip_verified: bool = True


class Weights(_Strict):
    biological_abundance: Weight
    vegetation_cover: Weight
    water_network: Weight
    land_stress: Weight
    pollution_load: Weight

    @model_validator(mode="after")
    def _sum_to_one(self) -> Weights:
        total = sum(getattr(self, k) for k in SUBINDICES)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"五项分指数权重之和应为 1, 实为 {total:g}")
        return self


class BiologicalAbundance(_Strict):
    coefficient: float = Field(gt=0)
    bi_rule: Literal["mean_with_hq", "hq_only"] = "mean_with_hq"
    bi_rule_verified: bool = True
    class_weights: dict[str, Weight]
    subclass_weights: dict[str, dict[str, Weight]]

    @model_validator(mode="after")
    def _classes_complete(self) -> BiologicalAbundance:
        missing = [c for c in LAND_CLASSES if c not in self.class_weights]
        if missing:
            raise ValueError(f"缺少一级地类权重: {', '.join(missing)}")
        missing = [c for c in LAND_CLASSES if c not in self.subclass_weights]
        if missing:
            raise ValueError(f"缺少二级地类权重: {', '.join(missing)}")
        return self


class VegetationCover(_Strict):
    coefficient: float = Field(gt=0)
    verified: bool = True


class FloodRule(_Strict):
    normal_max: float = Field(gt=0)
    zero_at: float = Field(gt=0)
    verified: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> FloodRule:
        if self.zero_at <= self.normal_max:
            raise ValueError("丰水年规则: zero_at 必须大于 normal_max")
        return self


class WaterNetwork(_Strict):
    river_coefficient: float = Field(gt=0)
    lake_coefficient: float = Field(gt=0)
    resource_coefficient: float = Field(gt=0)
    flood_rule: FloodRule | None = None


class LandStress(_Strict):
    coefficient: float = Field(gt=0)
    terms: dict[str, Weight]
    class_terms: dict[str, Weight] = {}


class PollutionTerm(_Strict):
    column: str
    coefficient: float = Field(gt=0)
    weight: Weight
    per: Literal["precipitation", "area"]


class PollutionLoad(_Strict):
    terms: list[PollutionTerm] = Field(min_length=1)


class Grade(_Strict):
    label: str
    min: float


class ChangeBand(_Strict):
    label: str
    min: float = Field(gt=0)


class Change(_Strict):
    stable_label: str
    better: str
    worse: str
    bands: list[ChangeBand] = Field(min_length=1)


class RestrictionRule(_Strict):
    level: int = Field(gt=0)
    cap: str | None = None
    drop: int = Field(default=0, ge=0)


class Restriction(_Strict):
    verified: bool = True
    rules: list[RestrictionRule] = []


class Verdict(_Strict):
    min_delta: float = -1.0


class Method(_Strict):
    """A complete EI method; ``sha256`` is of the file it came from."""

    method: MethodInfo
    weights: Weights
    biological_abundance: BiologicalAbundance
    vegetation_cover: VegetationCover
    water_network: WaterNetwork
    land_stress: LandStress
    pollution_load: PollutionLoad
    grades: list[Grade] = Field(min_length=2)
    change: Change
    restriction: Restriction = Restriction()
    verdict: Verdict = Verdict()
    sha256: str = ""
    source: str = ""

    @field_validator("grades")
    @classmethod
    def _grades_descending(cls, grades: list[Grade]) -> list[Grade]:
        mins = [g.min for g in grades]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("等级下限必须从高到低严格递减")
        return grades

    @model_validator(mode="after")
    def _restriction_caps_exist(self) -> Method:
        labels = {g.label for g in self.grades}
        for rule in self.restriction.rules:
            if rule.cap is not None and rule.cap not in labels:
                raise ValueError(f"环境限制规则引用了不存在的等级“{rule.cap}”")
        for name in self.land_stress.class_terms:
            if name not in self.biological_abundance.subclass_weights:
                raise ValueError(f"土地胁迫引用了不存在的地类“{name}”")
        return self

    @property
    def key(self) -> str:
        """What must match for two results to sit in one time series."""
        return f"{self.method.id}@{self.method.version}"

    @property
    def label(self) -> str:
        return f"{self.method.standard} {self.method.name}"

    @cached_property
    def unverified(self) -> list[str]:
        """Parts of the method not checked against the standard's text, in words."""
        notes: list[str] = []
        if self.method.clip_subindices and not self.method.clip_verified:
            notes.append("分指数超过 100 按 100 计")
        if not self.biological_abundance.bi_rule_verified:
            notes.append("生物丰度指数 = (BI+HQ)/2 的取法")
        if not self.vegetation_cover.verified:
            notes.append(f"植被覆盖系数 {self.vegetation_cover.coefficient:g}")
        rule = self.water_network.flood_rule
        if rule is not None and not rule.verified:
            notes.append("丰水年水资源量规则")
        if not self.restriction.verified:
            notes.append("环境限制规则表")
        return notes

    def grade(self, ei: float) -> str:
        for band in self.grades:
            if ei >= band.min:
                return band.label
        return self.grades[-1].label

    def land_columns(self) -> list[str]:
        return [col for sub in self.biological_abundance.subclass_weights.values() for col in sub]


def load_method(name_or_path: str | Path | None = None) -> Method:
    """Load a built-in method by id (default HJ 192-2015) or a user's TOML file."""
    name = name_or_path or BUILT_IN[0]
    return load_toml_model(Method, "ecoplan.accounting.ei", "methods", name, BUILT_IN, "方法")
