"""The clue workflow's rules as data (``data/clue_rules.toml``): deadlines per state, the
unit that issues and closes each kind of clue, photo and duplicate tolerances.

A user replaces the file with ``ECOPLAN_CLUE_RULES=/path/to/rules.toml``; every value shipped
is a working default, marked ``verified = false``.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticError

from ecoplan.errors import InputFileError


class KindRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    verifier: str  # unit code: issues the clue, accepts the rectification, 销号
    measure_words: list[str]


class PatrolRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patrols_per_month: int = 4


class TempLandRule(BaseModel):
    """临时用地 checks (templand.py): terms in years, tolerances as a fraction and in m²."""

    model_config = ConfigDict(extra="forbid")

    term_years: int = 2
    long_cycle_term_years: int = 4
    restoration_years: int = 1
    area_tolerance: float = 0.05
    outside_tolerance_m2: float = 100.0


class ClueRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    verified: bool
    remind_days: int
    photo_max_distance_m: float
    photo_min_days_after_issue: int
    duplicate_iou: float
    duplicate_point_m: float
    deadline_days: dict[str, int | Literal["plan"]]
    kinds: dict[str, KindRule]
    activity_types: dict[str, str]
    sources: dict[str, str]
    patrols: PatrolRule = PatrolRule()
    temp_land: TempLandRule = TempLandRule()

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def kind(self, key: str) -> KindRule:
        try:
            return self.kinds[key]
        except KeyError:
            raise InputFileError(
                Path("clue_rules.toml"),
                f"未知的线索类型“{key}”(可选: {', '.join(self.kinds)})",
            ) from None


def parse_rules(text: str, origin: Path) -> ClueRules:
    try:
        return ClueRules.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, PydanticError) as exc:
        raise InputFileError(origin, f"线索规则文件有误: {exc}") from exc


@lru_cache(maxsize=4)
def _load(path: str | None) -> ClueRules:
    if path:
        file = Path(path)
        if not file.is_file():
            raise InputFileError(file, "线索规则文件不存在")
        return parse_rules(file.read_text("utf-8"), file)
    text = resources.files("ecoplan.cases").joinpath("data/clue_rules.toml").read_text("utf-8")
    return parse_rules(text, Path("clue_rules.toml"))


def load_rules() -> ClueRules:
    """The rules in force: the user's file when ECOPLAN_CLUE_RULES names one, else the shipped."""
    return _load(os.environ.get("ECOPLAN_CLUE_RULES") or None)
