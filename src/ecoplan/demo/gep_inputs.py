"""Synthetic but plausible GEP-R inputs over Beijing (demo, tests and the benchmark).

Every raster is a deterministic function of the pixel's position and the demo land use of
:mod:`ecoplan.demo.geodata`, written window by window (any grid size, bounded memory):
DEM rising to the north-west mountains with ridges, precipitation 500–700 mm, ET by land
use, rainfall erosivity from precipitation, soil erodibility, NPP by land use and the storm
rainfall. Region tables, a reservoir and lake inventory and a daily weather table are
written alongside. All labelled 演示数据; none is a measurement.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Final

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from rasterio.windows import Window

from ecoplan.demo.geodata import (
    DEMO_LABEL,
    _hash01,
    _windows,
    beijing_grid,
    landuse_window,
    ndvi_window,
)
from ecoplan.geo.crs import EQUAL_AREA
from ecoplan.geo.regions import RegionLayer

CORE: Final = (956_118.0, 4_344_492.0)  # 天安门 in the equal-area projection
RASTERS: Final = (
    "landcover",
    "ndvi",
    "dem",
    "precipitation",
    "et",
    "erosivity",
    "erodibility",
    "npp",
    "storm_rain",
)
YEAR_RAIN: Final = {2023: 1.00, 2024: 1.06}
ET_SHARE: Final = {1: 0.78, 2: 0.72, 3: 0.65, 4: 1.10, 5: 0.30, 6: 0.40}  # by CAS first digit
NPP_G_C: Final = {1: 420.0, 2: 560.0, 3: 330.0, 4: 0.0, 5: 90.0, 6: 60.0}


def _fields(transform: Affine, rows: slice, cols: slice, year: int) -> dict[str, NDArray[Any]]:
    y = transform.f + (np.arange(rows.start, rows.stop) + 0.5) * transform.e
    x = transform.c + (np.arange(cols.start, cols.stop) + 0.5) * transform.a
    dxk = (x[None, :] - CORE[0]) / 1000.0
    dyk = (y[:, None] - CORE[1]) / 1000.0
    mountain = np.clip((-dxk + dyk) / 60.0, 0.0, 1.5)
    ridges = np.sin(dxk / 3.1) * np.cos(dyk / 2.3) + 0.5 * np.sin((dxk + dyk) / 1.3)
    dem = 30.0 + 900.0 * mountain**1.3 + 180.0 * np.clip(mountain, 0, 1) * ridges
    lu = landuse_window(transform, rows, cols, year)
    first = lu // 10
    rain = (540.0 + 90.0 * np.clip(mountain, 0, 1) + 25.0 * np.sin(dxk / 17.0)) * YEAR_RAIN.get(
        year, 1.0
    )
    et = np.zeros(lu.shape)
    npp = np.zeros(lu.shape)
    for digit, share in ET_SHARE.items():
        et[first == digit] = share
        npp[first == digit] = NPP_G_C[digit]
    r = np.arange(rows.start, rows.stop, dtype=np.uint64)[:, None]
    c = np.arange(cols.start, cols.stop, dtype=np.uint64)[None, :]
    noise = _hash01(np.broadcast_to(r, lu.shape), np.broadcast_to(c, lu.shape), 17) - 0.5
    return {
        "landcover": lu,
        "ndvi": ndvi_window(transform, rows, cols, year),
        "dem": np.broadcast_to(dem, lu.shape).astype(np.float32),
        "precipitation": np.broadcast_to(rain, lu.shape).astype(np.float32),
        "et": (np.minimum(et, 1.0) * rain * (0.95 + 0.1 * noise)).astype(np.float32),
        "erosivity": (4.6 * rain).astype(np.float32) * np.ones(lu.shape, np.float32),
        "erodibility": np.broadcast_to(
            0.032 + 0.008 * np.sin(dxk / 7.0) * np.cos(dyk / 5.0), lu.shape
        ).astype(np.float32),
        "npp": (npp * (1.0 + 0.2 * noise) * YEAR_RAIN.get(year, 1.0)).astype(np.float32),
        "storm_rain": (0.16 * rain).astype(np.float32) * np.ones(lu.shape, np.float32),
    }


def write_inputs(
    directory: Path, layer: RegionLayer, resolution_m: float, year: int
) -> dict[str, Path]:
    """Write every raster input for ``year`` on the demo grid covering ``layer``."""
    directory.mkdir(parents=True, exist_ok=True)
    transform, height, width = beijing_grid(resolution_m, layer)
    res = f"{resolution_m:g}"
    paths = {name: directory / f"{name}_{year}_{res}m.tif" for name in RASTERS}
    common: dict[str, Any] = {
        "driver": "GTiff", "height": height, "width": width, "count": 1, "crs": EQUAL_AREA.to_wkt(),
        "transform": transform, "tiled": True, "blockxsize": 512, "blockysize": 512,
        "BIGTIFF": "IF_SAFER", "compress": "deflate",
    }  # fmt: skip
    kinds = {"landcover": ("uint8", 0), "ndvi": ("int16", -32768)}
    handles = {
        name: rasterio.open(path, "w", dtype=kinds.get(name, ("float32", np.nan))[0],
                            nodata=kinds.get(name, ("float32", np.nan))[1], **common)
        for name, path in paths.items()
    }  # fmt: skip
    try:
        for handle in handles.values():
            handle.update_tags(source=DEMO_LABEL)
        rows_per_window = max(512, (4_000_000 // width) // 512 * 512)
        for rows, cols in _windows(height, width, rows_per_window):
            window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
            for name, data in _fields(transform, rows, cols, year).items():
                handles[name].write(data, 1, window=window)
    finally:
        for handle in handles.values():
            handle.close()
    return paths


# Reservoirs and lakes (names marked 示意; positions approximate, capacities rounded public
# figures used only to give the demo plausible magnitudes).
RESERVOIRS: Final = (
    ("密云水库(示意)", 116.99, 40.52, 4.375e9),
    ("官厅水库北京部分(示意)", 115.78, 40.37, 1.0e9),
    ("怀柔水库(示意)", 116.61, 40.32, 1.44e8),
    ("十三陵水库(示意)", 116.25, 40.26, 8.1e7),
    ("海子水库(示意)", 117.13, 40.22, 1.21e8),
)
LAKES: Final = (("昆明湖(示意)", 116.27, 39.995, 2.2), ("后海(示意)", 116.38, 39.94, 0.3))


def write_tables(directory: Path, districts: RegionLayer, year: int) -> dict[str, Path]:
    """District emissions, the reservoir and lake inventory and a daily weather table."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "emissions": directory / f"emissions_{year}.csv",
        "reservoirs": directory / "reservoirs.csv",
        "lakes": directory / "lakes.csv",
        "weather": directory / f"weather_{year}.csv",
    }
    rng = np.random.default_rng(year)
    with paths["emissions"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "region_code",
                "region_name",
                "so2_t",
                "nox_t",
                "dust_t",
                "cod_t",
                "nh3n_t",
                "tn_t",
                "tp_t",
            ]
        )
        for code, name, area in zip(
            districts.codes, districts.names, districts.areas_km2, strict=True
        ):
            urban = 1.0 / (0.02 * area + 1.0)  # small central districts emit more per km²
            f = rng.uniform(0.8, 1.2, size=7)
            per_km2 = np.asarray([0.1, 5.0, 1.2, 4.0, 0.3, 1.2, 0.08]) * (1 + 6 * urban)
            out.writerow([code, name, *[round(float(v), 1) for v in per_km2 * f * area]])
    with paths["reservoirs"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "lon", "lat", "capacity_m3"])
        out.writerows(RESERVOIRS)
    with paths["lakes"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "lon", "lat", "area_km2"])
        out.writerows(LAKES)
    with paths["weather"].open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["date", "tmax", "rh", "precip"])
        for day in range(365):
            season = math.sin(2 * math.pi * (day - 105) / 365)
            tmax = 17.0 + 15.0 * season + rng.normal(0, 3)
            rh = float(np.clip(50 + 25 * season + rng.normal(0, 12), 10, 100))
            wet = rng.random() < (0.05 + 0.25 * max(season, 0) ** 2)
            precip = float(rng.gamma(0.8, 12.0 * (1 + 2 * max(season, 0)))) if wet else 0.0
            out.writerow(
                [
                    f"{year}-{1 + day // 31:02d}-{1 + day % 31:02d}",
                    round(tmax, 1),
                    round(rh, 0),
                    round(precip, 1),
                ]
            )
    return paths
