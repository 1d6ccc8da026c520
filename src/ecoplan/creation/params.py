"""The parameter file of demonstration creation (``data/creation.toml``): the two programmes
(生态文明建设示范区, “两山”基地), their indicators with required values, comparators and binding
flags, the terrain classes some thresholds depend on, and the unit that reviews
post-evaluations. Read once per process and validated; every threshold in the shipped file is
marked unverified (see the file's header)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from ecoplan.datafiles import load_toml_model

Comparator = Literal["≥", "≤", "完成", "开展"]
QUALITATIVE: tuple[str, ...] = ("完成", "开展")
PROGRAMS_ORDER = ("demo_zone", "two_mountains")


class Program(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    short: str
    basis: str


class IndicatorSpec(BaseModel):
    """One checklist item. Quantitative items compare a number (in ``unit``) with ``required``
    (or the terrain's threshold); qualitative ones take yes/no."""

    model_config = ConfigDict(extra="forbid")
    code: str
    program: str
    area: str
    name: str
    unit: str = ""
    comparator: Comparator
    required: float | str | None = None
    required_by_terrain: dict[str, float] = {}
    not_decrease: bool = False
    binding: bool
    fill: str | None = None  # "ei" | "registry:<kind>" | "gep"
    fill_bound: Literal["lower"] | None = None
    source: str
    verified: bool = False

    @property
    def qualitative(self) -> bool:
        return self.comparator in QUALITATIVE

    @property
    def binding_label(self) -> str:
        return "约束性" if self.binding else "参考性"

    def threshold(self, terrain: str) -> float | None:
        """The number a quantitative value is compared with, for a district of ``terrain``."""
        if self.required_by_terrain:
            return self.required_by_terrain.get(terrain)
        return self.required if isinstance(self.required, float) else None

    def required_text(self, terrain: str | None = None) -> str:
        """How the requirement reads on a page: "≥ 60 %", "≥ 18 %(平原区)", "完成: 建立"."""
        if self.qualitative:
            return str(self.required or self.comparator)
        if self.required_by_terrain:
            if terrain and terrain in self.required_by_terrain:
                number = self.required_by_terrain[terrain]
                return f"{self.comparator} {number:g}{self.unit}({terrain})"
            return ";".join(f"{t} {self.comparator} {v:g}{self.unit}"
                            for t, v in self.required_by_terrain.items())  # fmt: skip
        extra = " 且不降低" if self.not_decrease else ""
        return f"{self.comparator} {self.required:g}{self.unit}{extra}"


class CreationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: str
    verified: bool
    lead_unit: str
    program: dict[str, Program]
    terrain: dict[str, str]
    indicator: list[IndicatorSpec]
    sha256: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> CreationConfig:
        codes = [s.code for s in self.indicator]
        if len(codes) != len(set(codes)):
            raise ValueError("indicator.code 重复")
        terrains = set(self.terrain.values())
        for s in self.indicator:
            if s.program not in self.program:
                raise ValueError(f"{s.code}: 未定义的创建类型“{s.program}”")
            if s.qualitative and s.required is not None and not isinstance(s.required, str):
                raise ValueError(f"{s.code}: 定性指标的 required 应为文字")
            if not s.qualitative:
                if s.required_by_terrain:
                    if set(s.required_by_terrain) - terrains:
                        raise ValueError(f"{s.code}: required_by_terrain 含未定义的地形类别")
                elif not isinstance(s.required, float):
                    raise ValueError(f"{s.code}: 定量指标须给出数值 required")
            if s.fill is not None and s.fill != "ei" and s.fill != "gep" \
                    and not s.fill.startswith("registry:"):  # fmt: skip
                raise ValueError(f"{s.code}: fill“{s.fill}”无效(ei、gep 或 registry:<kind>)")
        return self

    def spec(self, code: str) -> IndicatorSpec | None:
        return next((s for s in self.indicator if s.code == code), None)

    def of(self, program: str) -> list[IndicatorSpec]:
        return [s for s in self.indicator if s.program == program]

    @property
    def label(self) -> str:
        return f"{self.id} {self.version}" + ("" if self.verified else "(未核实)")


@lru_cache(maxsize=1)
def config() -> CreationConfig:
    """The built-in parameter file ``data/creation.toml``."""
    return load_toml_model(CreationConfig, "ecoplan.creation", "data", "creation", ["creation"],
                           "示范创建参数")  # fmt: skip
