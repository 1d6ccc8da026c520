"""``ecoplan ei run CONFIG``: derive (or read) the indicator table, compute, store the run.

A run configuration is a small TOML file; relative paths are relative to it::

    year = 2024
    title = "2024年生态环境质量评价"
    method = "hj192-2015"           # or a method file
    [inputs]
    landuse = "landuse_2024.tif"
    ndvi = "ndvi_2024.tif"
    tables = ["regions_2024.csv"]
    rivers = "rivers.geojson"       # optional
    mapping = "cas25"
    # regions = [{ path = "districts.geojson", level = "district", crs = "gcj02" }]
    # indicators = "indicators_2024.csv"   # instead of the geodata: a ready table
    # previous_indicators = "indicators_2023.csv"  # else last year's stored run
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from ecoplan.accounting.ei.compute import compute
from ecoplan.accounting.ei.method import Method, load_method
from ecoplan.accounting.ei.models import EIRun
from ecoplan.accounting.ei.runs import previous_year_ei, store_run
from ecoplan.accounting.ei.table import IndicatorRow, read_table, rows_from_frame
from ecoplan.datafiles import file_record, parse_toml, validated
from ecoplan.errors import InputFileError
from ecoplan.errors import ValidationError as UserValidationError
from ecoplan.geo.regions import RegionLayer


class RegionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path
    level: str
    crs: str | None = None


class RunInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    landuse: Path | None = None
    ndvi: Path | None = None
    tables: list[Path] = []
    rivers: Path | None = None
    rivers_crs: str | None = None
    mapping: str = "cas25"
    ndvi_scale: float | None = None
    regions: list[RegionFile] = []
    indicators: Path | None = None
    previous_indicators: Path | None = None


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    title: str
    method: str = "hj192-2015"
    demo: bool = False
    inputs: RunInputs


def load_config(path: Path) -> RunConfig:
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    config = validated(RunConfig, parse_toml(path.read_bytes(), path, "核算配置"), path, "核算配置")
    base = path.parent

    def resolve(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else base / p)

    i = config.inputs
    i.landuse, i.ndvi, i.rivers = resolve(i.landuse), resolve(i.ndvi), resolve(i.rivers)
    i.indicators, i.previous_indicators = resolve(i.indicators), resolve(i.previous_indicators)
    i.tables = [p if p.is_absolute() else base / p for p in i.tables]
    for region in i.regions:
        region.path = region.path if region.path.is_absolute() else base / region.path
    method_path = base / config.method
    if method_path.suffix == ".toml" and method_path.is_file():
        config.method = str(method_path)
    return config


@dataclass
class RunOutcome:
    run: EIRun
    notes: list[str]


def indicator_rows(
    config: RunConfig,
    method: Method,
    *,
    scheduler: str | None = None,
    layers: list[RegionLayer] | None = None,
) -> tuple[list[IndicatorRow], dict[str, Any]]:
    i = config.inputs
    if i.indicators is not None:
        rows = read_table(i.indicators, method)
        return rows, {"inputs": {"indicators": file_record(i.indicators)}}
    if i.landuse is None or i.ndvi is None:
        raise UserValidationError("配置需给出 inputs.indicators，或 inputs.landuse 与 inputs.ndvi")
    from ecoplan.accounting.ei.derive import derive_table

    frame, provenance = derive_table(
        landuse=i.landuse, ndvi=i.ndvi, tables=i.tables, year=config.year, mapping=i.mapping, rivers=i.rivers,
        rivers_crs=i.rivers_crs, regions=[r.path for r in i.regions], levels=[r.level for r in i.regions],
        regions_crs=next((r.crs for r in i.regions if r.crs), None), ndvi_scale=i.ndvi_scale,
        method=config.method, scheduler=scheduler, layers=layers,
    )  # fmt: skip
    return rows_from_frame(frame.astype(str), method, source="派生指标表"), provenance


def run_assessment(
    session: Session,
    config: RunConfig,
    *,
    actor: str,
    scheduler: str | None = None,
    layers: list[RegionLayer] | None = None,
) -> RunOutcome:
    """Derive or read, compute (with last year's EI of the same method) and store one run."""
    method = load_method(config.method)
    rows, provenance = indicator_rows(config, method, scheduler=scheduler, layers=layers)
    notes: list[str] = list(provenance.get("notes", []))
    previous: list[IndicatorRow] | dict[str, float] | None
    if config.inputs.previous_indicators is not None:
        previous = read_table(config.inputs.previous_indicators, method)
        notes.append(f"上年数据: {config.inputs.previous_indicators.name}")
    else:
        stored, note = previous_year_ei(session, config.year, method)
        previous = stored or None
        if note:
            notes.append(note)
    results = compute(rows, method, previous=previous)
    provenance = {**provenance, "notes": notes, "config_title": config.title}
    run = store_run(
        session, results=results, rows=rows, method=method, year=config.year, title=config.title,
        provenance=provenance, actor=actor, is_demo=config.demo,
    )  # fmt: skip
    return RunOutcome(run, notes)
