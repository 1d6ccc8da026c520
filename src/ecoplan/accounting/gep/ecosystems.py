"""Ecosystem types of GEP-R and the mappings from land-cover classes to them.

GEP-R parameters are given per ecosystem type (森林, 灌丛, 草地, 湿地, 水体, 农田, 城镇, 裸地);
a land-cover raster is read through a class mapping. Built in: ``cas25``, ``esa-worldcover``,
``modis-igbp``; a user's file with the same structure loads the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, field_validator

from ecoplan.datafiles import load_toml_model
from ecoplan.errors import ValidationError

TYPES: Final = ("forest", "shrub", "grass", "wetland", "water", "crop", "urban", "bare")
TYPE_NAMES: Final = {
    "forest": "森林", "shrub": "灌丛", "grass": "草地", "wetland": "湿地",
    "water": "水体", "crop": "农田", "urban": "城镇", "bare": "裸地",
}  # fmt: skip
NO_TYPE: Final = 255
"""Type code of pixels outside the mapping's classes (nodata)."""
BUILT_IN: Final = ("cas25", "esa-worldcover", "modis-igbp")


class MappingInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str


class EcosystemMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mapping: MappingInfo
    classes: dict[int, str]
    sha256: str = ""

    @field_validator("classes")
    @classmethod
    def _known_types(cls, classes: dict[int, str]) -> dict[int, str]:
        bad = sorted({t for t in classes.values() if t not in TYPES})
        if bad:
            raise ValueError(f"未知的生态系统类型: {', '.join(bad)}(可用: {', '.join(TYPES)})")
        return classes

    def lookup(self) -> NDArray[np.uint8]:
        """Class value → type code (index into TYPES), for uint8/uint16 rasters."""
        top = max(self.classes) + 1
        table = np.full(max(top, 256), NO_TYPE, dtype=np.uint8)
        for value, name in self.classes.items():
            table[value] = TYPES.index(name)
        return table


def load_mapping(name: str | Path) -> EcosystemMapping:
    return load_toml_model(
        EcosystemMapping, "ecoplan.accounting.gep", "mappings", name, BUILT_IN, "生态系统类型映射"
    )


def type_codes(classes: NDArray[Any], table: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Ecosystem type code per pixel; classes outside the table become NO_TYPE."""
    if not np.issubdtype(classes.dtype, np.integer):
        raise ValidationError("土地覆盖栅格必须是整数类型")
    inside = (classes >= 0) & (classes < len(table))
    out = np.full(classes.shape, NO_TYPE, dtype=np.uint8)
    out[inside] = table[classes[inside]]
    return out


def per_type(values: dict[str, float], default: float = 0.0) -> NDArray[np.float64]:
    """A lookup array over type codes (plus NO_TYPE) from a {type: value} dict."""
    table = np.full(256, np.nan)
    for i, name in enumerate(TYPES):
        table[i] = values.get(name, default)
    return table
