"""Parameters of 森林覆盖率 and 湿地保护率: definitions, class mappings, thresholds.

The built-in file is ``indicators/data/coverage.toml``; a user's TOML file with the same
structure loads the same way (e.g. a mapping for a local 林地一张图 scheme). Every result
names ``parameters.id@version`` and the file's SHA-256.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import load_toml_model
from ecoplan.errors import ValidationError

BUILT_IN: Final = ("coverage",)
COMPONENTS: Final = ("arbor", "bamboo", "special_shrub")
"""The parts of 森林面积: 乔木林, 竹林, 特殊灌木林 (counted in this order where they overlap)."""
COMPONENT_NAMES: Final = {"arbor": "乔木林", "bamboo": "竹林", "special_shrub": "特灌林"}

LandArea = Literal["administrative", "excluding_water"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterInfo(_Frozen):
    id: str
    version: str
    name: str


class CityInfo(_Frozen):
    code: str
    name: str


class ForestParameters(_Frozen):
    measure: str
    method: str
    definition: str
    citation: str
    land_area: LandArea = "administrative"
    max_unknown_share: float = Field(0.01, ge=0.0, lt=1.0)


class WetlandParameters(_Frozen):
    measure: str
    method: str
    definition: str
    citation: str
    counted_kinds: list[str]
    not_counted_kinds: list[str] = []
    max_unknown_share: float = Field(0.01, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _kinds_disjoint(self) -> WetlandParameters:
        both = sorted(set(self.counted_kinds) & set(self.not_counted_kinds))
        if both:
            raise ValueError(f"保护形式同时列为计入与不计入: {', '.join(both)}")
        return self


class _Mapping(_Frozen):
    name: str
    note: str = ""

    def _check(self, classes: set[object], groups: dict[str, list[object]]) -> None:
        for group, values in groups.items():
            unknown = [v for v in values if v not in classes]
            if unknown:
                raise ValueError(f"{group} 含 classes 中未定义的类别 {unknown}")
        seen: dict[object, str] = {}
        for component in COMPONENTS:
            for value in groups[component]:
                if value in seen:
                    raise ValueError(f"类别 {value} 同时计入 {seen[value]} 与 {component}")
                seen[value] = component


class RasterMapping(_Mapping):
    """Class values of a categorical land-cover raster and what each counts as."""

    classes: dict[int, str]
    nodata: int | None = None
    arbor: list[int]
    bamboo: list[int] = []
    special_shrub: list[int] = []
    water: list[int] = []
    wetland: list[int] = []

    @model_validator(mode="after")
    def _groups_known(self) -> RasterMapping:
        self._check(set(self.classes), self.groups())  # type: ignore[arg-type]
        return self

    def groups(self) -> dict[str, list[int]]:
        return {
            "arbor": self.arbor,
            "bamboo": self.bamboo,
            "special_shrub": self.special_shrub,
            "water": self.water,
            "wetland": self.wetland,
        }


class VectorMapping(_Mapping):
    """Values of a polygon layer's class field (compared as text) and what each counts as."""

    classes: dict[str, str]
    arbor: list[str] = []
    bamboo: list[str] = []
    special_shrub: list[str] = []
    water: list[str] = []
    wetland: list[str] = []

    @model_validator(mode="after")
    def _groups_known(self) -> VectorMapping:
        self._check(set(self.classes), self.groups())  # type: ignore[arg-type]
        return self

    def groups(self) -> dict[str, list[str]]:
        return {
            "arbor": self.arbor,
            "bamboo": self.bamboo,
            "special_shrub": self.special_shrub,
            "water": self.water,
            "wetland": self.wetland,
        }


class CoverageParameters(_Frozen):
    parameters: ParameterInfo
    city: CityInfo
    forest: ForestParameters
    wetland: WetlandParameters
    raster_mappings: dict[str, RasterMapping]
    vector_mappings: dict[str, VectorMapping]
    sha256: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        """``id@version``: what every result names."""
        return f"{self.parameters.id}@{self.parameters.version}"

    def raster_mapping(self, name: str) -> RasterMapping:
        if name not in self.raster_mappings:
            raise ValidationError(
                f"参数 {self.key} 中没有栅格类别映射“{name}”"
                f"(可选: {', '.join(sorted(self.raster_mappings))})"
            )
        return self.raster_mappings[name]

    def vector_mapping(self, name: str) -> VectorMapping:
        if name not in self.vector_mappings:
            raise ValidationError(
                f"参数 {self.key} 中没有矢量类别映射“{name}”"
                f"(可选: {', '.join(sorted(self.vector_mappings))})"
            )
        return self.vector_mappings[name]


def load_parameters(name_or_path: str | Path = "coverage") -> CoverageParameters:
    """The built-in parameters (``"coverage"``) or a user's TOML file of the same structure."""
    return load_toml_model(
        CoverageParameters, "ecoplan.indicators", "data", name_or_path, BUILT_IN, "覆盖率参数"
    )
