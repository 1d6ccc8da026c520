"""The invasive-species rules as data (``data/invasive.toml``): record methods and their units,
the six species of plan task 3 with their responsible unit, thresholds and protocols, the alert
rules, control methods, the introduction workflow's reviewers and deadlines, and the
Beijing–Tianjin–Hebei exchange box.

A user replaces the file with ``ECOPLAN_INVASIVE_RULES=/path/to/invasive.toml``. Every figure
shipped is a working default marked ``verified = false`` (field.md §2 marks them UNVERIFIED).
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import parse_toml, validated
from ecoplan.errors import InputFileError

ENV = "ECOPLAN_INVASIVE_RULES"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MethodSpec(Strict):
    label: str
    unit: str
    daily: bool = False  # value is a catch over effort days: value ÷ days = daily catch
    effort_unit: str = ""
    presence: bool = True  # value > 0 means the organism was found
    binary: bool = False  # value is 1 (positive) or 0 (negative)


class Threshold(Strict):
    value: float = Field(gt=0)
    verified: bool = False
    source: str = ""


class Protocol(Strict):
    method: str = ""
    cadence: str = ""
    lure_replace_days: int | None = None
    fields: list[str] = Field(default_factory=list)
    source: str = ""


class SpeciesSpec(Strict):
    name_cn: str
    scientific_name: str
    unit: str  # unit code (units.csv)
    quarantine: bool = False
    methods: list[str]
    thresholds: dict[str, Threshold] = Field(default_factory=dict)
    protocol: Protocol = Protocol()


class Rule(Strict):
    enabled: bool = True
    label: str
    distance_m: float | None = None
    verified: bool = False
    layer_kinds: list[str] = Field(default_factory=list)


class ControlSpec(Strict):
    methods: dict[str, str]


class IntroductionSpec(Strict):
    verified: bool = False
    reviewers: dict[str, str]  # category -> unit code
    risk_levels: list[str]
    due_days: dict[str, int]


class ExchangeSpec(Strict):
    bbox: tuple[float, float, float, float]
    provinces: list[str]


class InvasiveConfig(Strict):
    id: str
    version: str
    verified: bool
    measure_words: list[str]
    methods: dict[str, MethodSpec]
    species: dict[str, SpeciesSpec]
    rules: dict[str, Rule]
    control: ControlSpec
    introduction: IntroductionSpec
    exchange: ExchangeSpec

    @model_validator(mode="after")
    def _consistent(self) -> InvasiveConfig:
        """Species name only methods that exist and thresholds only for their own methods; the
        four rules are all present (a rule left out would be silently off)."""
        for key, spec in self.species.items():
            unknown = [m for m in spec.methods if m not in self.methods]
            if unknown:
                raise ValueError(f"species.{key}: 未知的监测方法 {', '.join(unknown)}")
            stray = [m for m in spec.thresholds if m not in spec.methods]
            if stray:
                raise ValueError(f"species.{key}: 阈值所属方法未列入 methods: {', '.join(stray)}")
        missing = {"new_township", "threshold", "near_protected", "quarantine"} - set(self.rules)
        if missing:
            raise ValueError(f"rules 缺少: {', '.join(sorted(missing))}")
        near = self.rules["near_protected"]
        if near.distance_m is None or near.distance_m < 0:
            raise ValueError("rules.near_protected.distance_m 须为非负数(米)")
        return self

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def rule_on(self, name: str) -> bool:
        return self.rules[name].enabled


@lru_cache(maxsize=4)
def _load(path: str | None) -> InvasiveConfig:
    if path:
        file = Path(path)
        if not file.is_file():
            raise InputFileError(file, "外来入侵物种规则文件不存在")
        raw, where = file.read_bytes(), file
    else:
        raw = resources.files("ecoplan.monitoring").joinpath("data/invasive.toml").read_bytes()
        where = Path("invasive.toml")
    return validated(
        InvasiveConfig, parse_toml(raw, where, "外来入侵物种规则"), where, "外来入侵物种规则"
    )


def load_config() -> InvasiveConfig:
    """The rules in force: the user's file when ECOPLAN_INVASIVE_RULES names one, else the
    shipped one (read once per process per path)."""
    return _load(os.environ.get(ENV) or None)
