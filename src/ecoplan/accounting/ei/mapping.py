"""Land-use class mappings (raster class value → EI indicator column), shipped as TOML.

Built in: ``cas25`` (中国科学院 25 类), ``esa-worldcover``, ``modis-igbp``. A user's file with
the same structure loads the same way. Groups name the classes used elsewhere: water area
for 水网密度, and ecological / built / crop land for ecological-land change clues.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ecoplan.datafiles import load_toml_model

BUILT_IN: Final = ("cas25", "esa-worldcover", "modis-igbp")
GROUPS: Final = ("water_area", "ecological", "built", "crop")
LAND_COLUMN_NAMES: Final = {
    "lu_forest_dense_km2": "有林地", "lu_forest_shrub_km2": "灌木林地", "lu_forest_sparse_km2": "疏林地及其他林地",
    "lu_grass_high_km2": "高覆盖度草地", "lu_grass_mid_km2": "中覆盖度草地", "lu_grass_low_km2": "低覆盖度草地",
    "lu_water_river_km2": "河流(渠)", "lu_water_lake_km2": "湖泊、水库坑塘", "lu_water_beach_km2": "滩涂、滩地、沼泽",
    "lu_water_glacier_km2": "永久性冰川雪地", "lu_crop_paddy_km2": "水田", "lu_crop_dry_km2": "旱地",
    "lu_built_urban_km2": "城镇建设用地", "lu_built_rural_km2": "农村居民点", "lu_built_other_km2": "其他建设用地",
    "lu_unused_sand_km2": "沙地", "lu_unused_saline_km2": "盐碱地", "lu_unused_bare_soil_km2": "裸土地",
    "lu_unused_bare_rock_km2": "裸岩石砾地", "lu_unused_other_km2": "其他未利用地",
}  # fmt: skip


class MappingInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str


class ClassMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mapping: MappingInfo
    classes: dict[int, str]
    groups: dict[str, list[int]]
    sha256: str = ""

    @field_validator("classes")
    @classmethod
    def _columns_are_land_columns(cls, classes: dict[int, str]) -> dict[int, str]:
        bad = sorted(
            {c for c in classes.values() if not (c.startswith("lu_") and c.endswith("_km2"))}
        )
        if bad:
            raise ValueError(f"类别映射到的列不是地类面积列: {', '.join(bad)}")
        return classes

    @model_validator(mode="after")
    def _groups_known(self) -> ClassMapping:
        missing = [g for g in GROUPS if g not in self.groups]
        if missing:
            raise ValueError(f"缺少分组: {', '.join(missing)}")
        for name, values in self.groups.items():
            unknown = [v for v in values if v not in self.classes]
            if unknown:
                raise ValueError(f"分组 {name} 含未定义的类别 {unknown}")
        return self


def load_mapping(name_or_path: str | Path) -> ClassMapping:
    """Load a built-in mapping by id or a user's TOML file."""
    return load_toml_model(
        ClassMapping, "ecoplan.accounting.ei", "mappings", name_or_path, BUILT_IN, "类别映射"
    )
