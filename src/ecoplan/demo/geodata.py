"""Synthetic geodata over Beijing for the demo and the benchmarks (deterministic, labelled).

Nothing here is a measurement. Land use follows a plausible pattern (built-up core, plains
of cropland and villages, forested mountains to the west and north) drawn from a fixed-seed
random field, so any window of any resolution is reproducible on its own; NDVI follows the
land use. 经开区 and townships have no public boundaries: the zone is a schematic rectangle
around 亦庄 and townships are Voronoi cells inside each district. Every output says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import rasterio
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.windows import Window

from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.regions import RegionLayer, build_layer

DEMO_LABEL: Final = "演示数据(合成，非实测)"
ZONE_LABEL: Final = "北京经济技术开发区(示意范围，非官方边界)"

# CAS 25-class codes used by the pattern
FOREST = (21, 22, 23, 24)
GRASS = (31, 32, 33)
CROP = (11, 12)
WATER = (41, 42, 43, 46)
BUILT = (51, 52, 53)
UNUSED = (65, 66)
ECO_TO_BUILT_CLASS: Final = 53  # new development appears as 其他建设用地


def zone_layer() -> RegionLayer:
    """A schematic 经开区 polygon near 亦庄 (it overlaps 大兴 and 通州, as the real one does)."""
    geom = shapely.Polygon([(116.47, 39.73), (116.60, 39.74), (116.62, 39.82), (116.49, 39.83)])
    return build_layer(
        "zone", ["bda"], [ZONE_LABEL], np.asarray([geom], dtype=object), source=DEMO_LABEL
    )


def township_layer(districts: RegionLayer, count: int = 300, seed: int = 11) -> RegionLayer:
    """About ``count`` synthetic townships: Voronoi cells of random seeds inside each district."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    projected = districts.geometries_in(EQUAL_AREA)
    shares = districts.areas_km2 / districts.areas_km2.sum()
    codes: list[str] = []
    names: list[str] = []
    geoms: list[shapely.Geometry] = []
    for code, name, geom, share in zip(
        districts.codes, districts.names, projected, shares, strict=True
    ):
        n = max(2, round(count * share))
        minx, miny, maxx, maxy = geom.bounds
        points: list[shapely.Point] = []
        while len(points) < n:
            xs = rng.uniform(minx, maxx, 4 * n)
            ys = rng.uniform(miny, maxy, 4 * n)
            cand = shapely.points(xs, ys)
            points += list(cand[shapely.contains_xy(geom, xs, ys)][: n - len(points)])
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(points), extend_to=geom)
        )
        for i, cell in enumerate(cells):
            piece = shapely.intersection(cell, geom)
            if piece.is_empty or piece.area < 1.0:
                continue
            codes.append(f"{code}{i + 1:03d}")
            names.append(f"{name}第{i + 1}街乡(合成)")
            geoms.append(piece)
    wgs = gpd.GeoSeries(geoms, crs=EQUAL_AREA).to_crs(WGS84).values
    return build_layer("township", codes, names, np.asarray(wgs, dtype=object), source=DEMO_LABEL)


def beijing_grid(resolution_m: float, layer: RegionLayer) -> tuple[Affine, int, int]:
    """A north-up grid in the equal-area projection covering ``layer`` at ``resolution_m``."""
    minx, miny, maxx, maxy = shapely.total_bounds(layer.geometries_in(EQUAL_AREA))
    minx = np.floor(minx / resolution_m) * resolution_m - resolution_m
    maxy = np.ceil(maxy / resolution_m) * resolution_m + resolution_m
    width = int(np.ceil((maxx - minx) / resolution_m)) + 1
    height = int(np.ceil((maxy - miny) / resolution_m)) + 1
    return Affine(resolution_m, 0.0, minx, 0.0, -resolution_m, maxy), height, width


def _hash01(a: NDArray[np.uint64], b: NDArray[np.uint64], salt: int) -> NDArray[np.float64]:
    """A uniform [0, 1) number per (a, b) pair: splitmix64 of the packed indices."""
    with np.errstate(over="ignore"):
        x = (a * np.uint64(0x9E3779B97F4A7C15)) ^ (
            b + np.uint64(salt) * np.uint64(0xBF58476D1CE4E5B9)
        )
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


CELL_M: Final = 240.0
BASE_YEAR: Final = 2023  # the pattern as drawn; later years add development on ecological land  # size of the patches of one land use (m)


def landuse_window(
    transform: Affine, rows: slice, cols: slice, year: int = 2024
) -> NDArray[np.uint8]:
    """CAS land-use codes for a window of the grid (independent of how the grid is cut)."""
    y = transform.f + (np.arange(rows.start, rows.stop) + 0.5) * transform.e
    x = transform.c + (np.arange(cols.start, cols.stop) + 0.5) * transform.a
    cy = np.floor(y / CELL_M).astype(np.int64)[:, None]
    cx = np.floor(x / CELL_M).astype(np.int64)[None, :]
    a = np.broadcast_to(cy, (len(y), len(x))).astype(np.uint64)
    b = np.broadcast_to(cx, (len(y), len(x))).astype(np.uint64)
    u = _hash01(a, b, 1)
    v = _hash01(a, b, 2)
    # distance from the core (km) and a "mountain" score rising to the west and north
    core_x, core_y = (
        956_118.0,
        4_344_492.0,
    )  # 天安门 (116.3975°E, 39.9087°N) in the equal-area projection
    dxk = (x[None, :] - core_x) / 1000.0
    dyk = (y[:, None] - core_y) / 1000.0
    dist = np.hypot(dxk, dyk)
    mountain = np.clip((-dxk + dyk) / 60.0, 0.0, 1.5) + 0.3 * (v - 0.5)
    out = np.empty(u.shape, dtype=np.uint8)
    built = (dist < 12 + 10 * v) & (mountain < 0.8)
    plain = ~built & (mountain < 0.6)
    hills = ~built & ~plain
    out[built] = np.asarray(BUILT)[np.minimum((u[built] * 3).astype(int), 2)]
    plain_pick = np.asarray((12, 12, 12, 11, 52, 52, 53, 21, 31, 42, 43, 51, 66))
    out[plain] = plain_pick[
        np.minimum((u[plain] * len(plain_pick)).astype(int), len(plain_pick) - 1)
    ]
    hill_pick = np.asarray((21, 21, 21, 22, 22, 23, 24, 31, 32, 33, 12, 52, 42, 65))
    out[hills] = hill_pick[np.minimum((u[hills] * len(hill_pick)).astype(int), len(hill_pick) - 1)]
    if (
        year > BASE_YEAR
    ):  # later years: some ecological patches near the edge of the core are built on
        w = _hash01(a, b, 3 + year)
        eco = np.isin(out, (*FOREST, *GRASS, *WATER))
        edge = (dist > 10) & (dist < 35)
        out[eco & edge & (w < 0.01)] = ECO_TO_BUILT_CLASS
    return out


NDVI_BY_CLASS: Final = {1: 0.55, 2: 0.80, 3: 0.62, 4: 0.08, 5: 0.20, 6: 0.10}


def ndvi_window(transform: Affine, rows: slice, cols: slice, year: int = 2024) -> NDArray[np.int16]:
    """Growing-season max NDVI × 10⁴ (int16, as MODIS stores it), following the land use."""
    lu = landuse_window(transform, rows, cols, year)
    base = np.zeros(lu.shape)
    for first_digit, value in NDVI_BY_CLASS.items():
        base[(lu // 10) == first_digit] = value
    r = np.arange(rows.start, rows.stop, dtype=np.uint64)[:, None]
    c = np.arange(cols.start, cols.stop, dtype=np.uint64)[None, :]
    noise = _hash01(np.broadcast_to(r, lu.shape), np.broadcast_to(c, lu.shape), 7) - 0.5
    return np.clip((base + 0.1 * noise) * 10_000, -2000, 10_000).astype(np.int16)


NDVI_NODATA: Final = -32768


def _windows(height: int, width: int, rows_per_window: int) -> Iterator[tuple[slice, slice]]:
    for r0 in range(0, height, rows_per_window):
        yield slice(r0, min(r0 + rows_per_window, height)), slice(0, width)


def write_rasters(
    directory: Path, layer: RegionLayer, resolution_m: float, year: int = 2024
) -> tuple[Path, Path]:
    """Write ``landuse_<year>_<res>m.tif`` (uint8, CAS codes) and ``ndvi_…`` (int16 ×10⁴)."""
    directory.mkdir(parents=True, exist_ok=True)
    transform, height, width = beijing_grid(resolution_m, layer)
    res = f"{resolution_m:g}"
    paths = (directory / f"landuse_{year}_{res}m.tif", directory / f"ndvi_{year}_{res}m.tif")
    common: dict[str, Any] = {
        "driver": "GTiff", "height": height, "width": width, "count": 1, "crs": EQUAL_AREA.to_wkt(),
        "transform": transform, "tiled": True, "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    rows_per_window = max(512, (8_000_000 // width) // 512 * 512)
    with (
        rasterio.open(paths[0], "w", dtype="uint8", nodata=0, **common) as lu_dst,
        rasterio.open(
            paths[1], "w", dtype="int16", nodata=NDVI_NODATA, scale=1e-4, **common
        ) as nd_dst,
    ):
        for key, value in (
            ("source", DEMO_LABEL),
            ("classes", "CAS 25-class (中国科学院土地利用分类)"),
        ):
            lu_dst.update_tags(**{key: value})
        nd_dst.update_tags(source=DEMO_LABEL, scale="NDVI × 10000")
        for rows, cols in _windows(height, width, rows_per_window):
            window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
            lu_dst.write(landuse_window(transform, rows, cols, year), 1, window=window)
            nd_dst.write(ndvi_window(transform, rows, cols, year), 1, window=window)
    return paths


# Schematic courses of Beijing's main rivers (a few vertices each, WGS84): enough to give
# river lengths per district in the demo; not survey data.
RIVERS: Final = {
    "永定河(示意)": [
        (115.62, 40.30),
        (115.85, 40.15),
        (116.00, 39.98),
        (116.15, 39.85),
        (116.30, 39.60),
        (116.45, 39.45),
    ],
    "潮白河(示意)": [
        (116.95, 40.70),
        (116.85, 40.45),
        (116.75, 40.20),
        (116.78, 39.95),
        (116.85, 39.70),
    ],
    "北运河(示意)": [(116.30, 40.15), (116.45, 40.05), (116.62, 39.92), (116.70, 39.75)],
    "拒马河(示意)": [(115.45, 39.80), (115.60, 39.62), (115.75, 39.50)],
    "泃河(示意)": [(117.25, 40.25), (117.10, 40.10), (117.00, 39.95)],
}


def write_rivers(path: Path) -> Path:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"name": list(RIVERS), "source": DEMO_LABEL},
        geometry=[shapely.LineString(coords) for coords in RIVERS.values()],
        crs=WGS84,
    )
    frame.to_file(path, driver="GeoJSON")
    return path


def region_table(
    layers: list[RegionLayer], year: int = 2024, seed: int = 5
) -> list[dict[str, Any]]:
    """Per-region figures an EI run takes from statistics (synthetic, scaled by area).

    水资源量 ~ 0.14 × 10⁶ m³ per km² (Beijing's ~24×10⁸ m³ over 16,410 km²), emissions and
    erosion scaled by area with a fixed-seed spread; 降水 ~ 600 mm.
    """
    rng = np.random.default_rng(seed + year)
    rows: list[dict[str, Any]] = []
    for layer in layers:
        for code, name, area in zip(layer.codes, layer.names, layer.areas_km2, strict=True):
            f = rng.uniform(0.7, 1.3, size=10)
            rows.append({
                "region_code": code, "region_name": name, "year": year,
                "water_resources_1e6m3": round(0.14 * area * f[0], 2),
                "water_resources_mean_1e6m3": round(0.14 * area, 2),
                "erosion_severe_km2": round(0.004 * area * f[1], 3),
                "erosion_moderate_km2": round(0.02 * area * f[2], 3),
                "stress_other_km2": round(0.002 * area * f[3], 3),
                "cod_t": round(4.0 * area * f[4], 1), "nh3n_t": round(0.3 * area * f[5], 1),
                "so2_t": round(0.05 * area * f[6], 1), "dust_t": round(0.6 * area * f[7], 1),
                "nox_t": round(5.0 * area * f[8], 1), "solid_waste_t": 0.0,
                "precip_mm": round(560 * f[9], 1), "restriction_level": 0,
            })  # fmt: skip
    return rows


def write_region_table(path: Path, layers: list[RegionLayer], year: int = 2024) -> Path:
    """:func:`region_table` as the CSV that ``ecoplan ei derive --table`` reads."""
    import csv

    rows = region_table(layers, year)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
