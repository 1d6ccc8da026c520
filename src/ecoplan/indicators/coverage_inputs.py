"""Inputs of the coverage engines: district polygons, polygon layers, land-cover rasters.

Readers (``read_polygons``, ``read_landcover``) turn files into a GeoDataFrame / DataArray
and record the file's name and SHA-256 in ``attrs``; everything else here is pure: it
checks a layer (CRS, geometry, fields), moves it to the equal-area CRS and clips it by
district. Every refusal is an :class:`~ecoplan.errors.EcoplanError` in Chinese naming the
layer (its file when known) and the field or feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from ecoplan.datafiles import file_sha256
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84, geometry_gcj02_to_wgs84, is_gcj02
from ecoplan.geo.rasters import DEFAULT_CHUNK, open_raster
from ecoplan.geo.regions import CODE_FIELDS, NAME_FIELDS, RegionLayer, build_layer
from ecoplan.indicators.coverage_params import CoverageParameters

Geoms = NDArray[np.object_]
Floats = NDArray[np.float64]

EMPTY_CLASS: Final = "(空)"
"""How an empty or missing class value is reported."""

_POLYGONAL: Final = (shapely.Polygon, shapely.MultiPolygon)

SLIVER_M2: Final = 0.01
"""A feature reaches into a district only with more than this area (m²). Layers that share a
border meet along it after reprojection with slivers of micrometres; those are not counted
as features of the neighbour (their area, < 0.01 m², stays in the sums)."""


@dataclass
class Record:
    """What a result says about itself: inputs (file and SHA-256) and notes for the reader."""

    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_input(self, role: str, obj: gpd.GeoDataFrame | xr.DataArray | RegionLayer) -> None:
        if isinstance(obj, RegionLayer):
            source, sha = obj.source, obj.sha256
        else:
            source = str(obj.attrs.get("source_path") or obj.attrs.get("source") or "")
            sha = str(obj.attrs.get("sha256") or "")
        self.inputs[role] = {"source": source or "(内存中的数据)", "sha256": sha}


# --- readers (the only functions here that touch files) -----------------------------------


def read_polygons(
    path: Path, *, layer: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """A GeoPackage / GeoJSON / Shapefile as a GeoDataFrame, its CRS as declared (maybe none).

    ``crs`` overrides the declaration: an EPSG code / WKT, or ``"gcj02"`` for layers drawn on
    Chinese web maps (usually *tagged* EPSG:4326), which are moved to WGS84.
    ``attrs["source"]`` is the path and ``attrs["sha256"]`` the file's hash; a corrupt or
    unreadable file raises :class:`InputFileError` naming it.
    """
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    try:
        frame = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputFileError(path, f"无法读取为矢量数据({type(exc).__name__})") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputFileError(path, "文件中没有几何字段")
    if is_gcj02(crs):
        moved = geometry_gcj02_to_wgs84(np.asarray(frame.geometry.values, dtype=object))
        frame = frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=WGS84))
    elif crs:
        try:
            frame = frame.set_crs(CRS.from_user_input(crs), allow_override=True)
        except CRSError as exc:
            raise InputFileError(path, f"无法识别坐标系“{crs}”") from exc
    frame.attrs["source"] = str(path)
    frame.attrs["sha256"] = file_sha256(path)
    return frame


def read_landcover(path: Path, *, chunk: int | None = DEFAULT_CHUNK) -> xr.DataArray:
    """Band 1 of a categorical GeoTIFF, lazily in ``chunk``-sized blocks (``None``: in memory).

    Opened lazily, the zonal engine reads one window per task, so memory stays bounded
    whatever the raster's size. ``attrs["sha256"]`` records the file's hash.
    """
    data = open_raster(path, chunk=chunk)
    data.attrs["sha256"] = file_sha256(path)
    return data


# --- checks and projection -----------------------------------------------------------------


def label(frame: gpd.GeoDataFrame | xr.DataArray, role: str) -> str:
    """How messages name a layer: its role, and its file when known."""
    source = frame.attrs.get("source_path") or frame.attrs.get("source")
    return f"{role}({Path(str(source)).name})" if source else role


def _lon_lat_like(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return bool(-180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0)


def source_crs(frame: gpd.GeoDataFrame, name: str, record: Record | None = None) -> CRS:
    """The layer's CRS; a layer without one is taken as WGS84 only if its coordinates are
    longitudes and latitudes (a note says so), otherwise refused."""
    bounds = frame.total_bounds
    if frame.crs is None:
        if not np.all(np.isfinite(bounds)) or not _lon_lat_like(bounds):
            raise ValidationError(
                f"{name}: 没有坐标系信息，且坐标不是经纬度"
                f"(范围 {bounds[0]:.0f}, {bounds[1]:.0f} – {bounds[2]:.0f}, {bounds[3]:.0f})，"
                "请为图层指定坐标系(如 EPSG:4547)"
            )
        if record is not None:
            record.notes.append(f"{name} 未声明坐标系，坐标为经纬度，按 WGS84 (EPSG:4326) 处理")
        return WGS84
    crs = CRS.from_user_input(frame.crs)
    if crs.is_geographic and np.all(np.isfinite(bounds)) and not _lon_lat_like(bounds):
        raise ValidationError(
            f"{name}: 声明为经纬度坐标系 {crs.name}，但坐标超出经纬度范围，坐标系声明有误"
        )
    return crs


def polygons(frame: gpd.GeoDataFrame, name: str) -> Geoms:
    """The layer's geometries, repaired (``make_valid``) and reduced to their polygon parts;
    missing, empty or non-areal geometries are refused with their row numbers."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValidationError(f"{name}: 需要 GeoDataFrame(含几何字段)")
    if len(frame) == 0:
        raise ValidationError(f"{name}: 图层中没有要素")
    geoms = np.asarray(frame.geometry.values, dtype=object)
    missing = [i + 1 for i, g in enumerate(geoms) if g is None or shapely.is_empty(g)]
    if missing:
        raise ValidationError(f"{name}: 第 {_few(missing)} 个要素没有几何", _rows(missing))
    fixed = np.asarray(shapely.make_valid(geoms), dtype=object)
    out = np.empty(len(fixed), dtype=object)
    not_areal: list[int] = []
    for i, geom in enumerate(fixed):
        part = _polygonal(geom)
        if part is None:
            not_areal.append(i + 1)
        out[i] = part
    if not_areal:
        raise ValidationError(
            f"{name}: 第 {_few(not_areal)} 个要素不是面(只接受面要素)", _rows(not_areal)
        )
    return out


def to_metric(
    frame: gpd.GeoDataFrame, name: str, record: Record | None = None
) -> tuple[Geoms, CRS]:
    """Checked polygons in the equal-area CRS (m), and the layer's own CRS."""
    geoms = polygons(frame, name)
    crs = source_crs(frame, name, record)
    metric = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(EQUAL_AREA).values, dtype=object)
    return metric, crs


def class_values(frame: gpd.GeoDataFrame, field_name: str, name: str) -> list[str]:
    """The class field as text (an integer stored as float, 301.0, reads "301")."""
    if field_name not in frame.columns:
        fields = [c for c in frame.columns if c != frame.geometry.name]
        raise ValidationError(
            f"{name}: 没有字段“{field_name}”(现有字段: {', '.join(map(str, fields)) or '无'})"
        )
    return [_as_text(v) for v in frame[field_name]]


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return EMPTY_CLASS
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or EMPTY_CLASS


def district_layer(
    districts: gpd.GeoDataFrame | RegionLayer,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    record: Record | None = None,
) -> RegionLayer:
    """A :class:`RegionLayer` from district polygons (code, name, geometry).

    Fields are found as in :mod:`ecoplan.geo.regions` (``code``/``adcode``…,
    ``name``/``名称``…) unless named. Polygons must not overlap (经开区 is its own layer).
    """
    if isinstance(districts, RegionLayer):
        return districts
    name = label(districts, "区划图层")
    geoms = polygons(districts, name)
    crs = source_crs(districts, name, record)
    columns = [str(c) for c in districts.columns if c != districts.geometry.name]
    code_col = _field(columns, code_field, CODE_FIELDS, "代码", name)
    name_col = _field(columns, name_field, NAME_FIELDS, "名称", name)
    wgs84 = np.asarray(gpd.GeoSeries(geoms, crs=crs).to_crs(WGS84).values, dtype=object)
    codes = [_as_text(v) for v in districts[code_col]]
    names = [str(v).strip() for v in districts[name_col]]
    return build_layer(
        "district",
        codes,
        names,
        wgs84,
        source=str(districts.attrs.get("source", "")),
        sha256=str(districts.attrs.get("sha256", "")),
    )


def _field(
    columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, name: str
) -> str:
    if wanted:
        if wanted not in columns:
            raise ValidationError(
                f"{name}: 没有{what}字段“{wanted}”(现有字段: {', '.join(columns) or '无'})"
            )
        return wanted
    for candidate in candidates:
        if candidate in columns:
            return candidate
    raise ValidationError(f"{name}: 找不到{what}字段(现有字段: {', '.join(columns) or '无'})")


def metric_districts(layer: RegionLayer) -> Geoms:
    return np.asarray(layer.geometries_in(EQUAL_AREA), dtype=object)


# --- clipping by district -------------------------------------------------------------------


def clip_union(geoms: Geoms, districts: Geoms) -> tuple[list[shapely.Geometry], NDArray[np.int_]]:
    """For each district: the union of ``geoms`` inside it, and how many of them reach into it
    with positive area. Overlapping features are counted once in the area (union first)."""
    empty = shapely.Polygon()
    n = len(districts)
    counts = np.zeros(n, dtype=np.int_)
    if len(geoms) == 0:
        return [empty] * n, counts
    tree = shapely.STRtree(geoms)
    d_idx, g_idx = tree.query(districts, predicate="intersects")
    pieces: list[shapely.Geometry] = []
    for i in range(n):
        picked = geoms[g_idx[d_idx == i]]
        if len(picked) == 0:
            pieces.append(empty)
            continue
        district = districts[i]
        shapely.prepare(district)
        inside = shapely.contains_properly(district, picked)  # no clipping needed for these
        clipped = picked.copy()
        if (~inside).any():
            clipped[~inside] = shapely.intersection(picked[~inside], district)
        area = shapely.area(clipped)
        areal = area > 0
        counts[i] = int((area > SLIVER_M2).sum())
        union = shapely.union_all(clipped[areal]) if areal.any() else empty
        pieces.append(_polygonal(union) or empty)
    return pieces, counts


def count_in(geoms: Geoms, districts: Geoms) -> NDArray[np.int_]:
    """How many of ``geoms`` reach into each district (more than :data:`SLIVER_M2`)."""
    counts = np.zeros(len(districts), dtype=np.int_)
    if len(geoms) == 0:
        return counts
    d_idx, g_idx = shapely.STRtree(geoms).query(districts, predicate="intersects")
    for i in range(len(districts)):
        picked = geoms[g_idx[d_idx == i]]
        if len(picked) == 0:
            continue
        shapely.prepare(districts[i])
        inside = shapely.contains_properly(districts[i], picked)
        edge = picked[~inside]
        counts[i] = int(inside.sum()) + int(
            (shapely.area(shapely.intersection(edge, districts[i])) > SLIVER_M2).sum()
        )
    return counts


def area_km2(geoms: Sequence[shapely.Geometry] | Geoms) -> Floats:
    """Planar areas in km² (for geometries in the equal-area CRS: ellipsoidal areas)."""
    return np.asarray(shapely.area(np.asarray(geoms, dtype=object)), dtype=np.float64) / 1e6


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, _POLYGONAL):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, _POLYGONAL) and not g.is_empty]
    return shapely.union_all(parts) if parts else None


# --- per-district tables ------------------------------------------------------------------


def district_table(
    table: Mapping[str, float] | pd.Series | None, layer: RegionLayer, what: str
) -> Floats | None:
    """A per-district value table (code → km²) aligned with the layer; every district must be
    present, no unknown code, values finite and ≥ 0."""
    if table is None:
        return None
    items = {str(k).strip(): v for k, v in dict(table).items()}
    unknown = sorted(set(items) - set(layer.codes))
    missing = [f"{n}({c})" for c, n in zip(layer.codes, layer.names, strict=True) if c not in items]
    if unknown:
        raise ValidationError(f"{what}: 区划中没有这些代码: {_few(unknown)}", unknown)
    if missing:
        raise ValidationError(f"{what}: 缺少这些区: {_few(missing)}", missing)
    values = np.zeros(len(layer))
    bad: list[str] = []
    for i, code in enumerate(layer.codes):
        try:
            value = float(items[code])
        except (TypeError, ValueError):
            value = float("nan")
        if not np.isfinite(value) or value < 0:
            bad.append(f"{code}={items[code]!r}")
        values[i] = value
    if bad:
        raise ValidationError(f"{what}: 面积须为非负数(km²): {_few(bad)}", bad)
    return values


# --- output --------------------------------------------------------------------------------


def with_city(
    frame: pd.DataFrame, city_code: str, city_name: str, sums: Sequence[str]
) -> pd.DataFrame:
    """Append the city row: the sum of the districts' ``sums`` columns (districts partition
    the city, so areas and counts add up); ratios are recomputed by the caller."""
    city: dict[str, Any] = {c: frame[c].sum() for c in sums}
    city.update(region_level="city", region_code=city_code, region_name=city_name)
    return pd.concat([frame, pd.DataFrame([city])], ignore_index=True)


def percent(part: Floats, whole: Floats) -> Floats:
    """100 · part / whole, NaN where whole is 0."""
    part, whole = np.asarray(part, dtype=np.float64), np.asarray(whole, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, 100.0 * part / np.where(whole > 0, whole, 1.0), np.nan)


def result_attrs(
    indicator: str, measure: str, params: CoverageParameters, record: Record
) -> dict[str, Any]:
    """``DataFrame.attrs`` of a result: indicator, parameters, inputs with hashes, notes."""
    return {
        "indicator": indicator,
        "measure": measure,
        "parameters": {"key": params.key, "sha256": params.sha256, "source": params.source},
        "inputs": dict(record.inputs),
        "notes": list(record.notes),
        "equal_area_crs": EQUAL_AREA.srs,
    }


def unmapped_text(areas: Mapping[Any, float]) -> str:
    return "; ".join(
        f"{k}: {v:.4f} km²" for k, v in sorted(areas.items(), key=lambda kv: str(kv[0]))
    )


def _few(items: Sequence[object], n: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:n])
    return shown + (f" 等 {len(items)} 个" if len(items) > n else "")


def _rows(rows: Sequence[int]) -> list[str]:
    return [f"第 {r} 个要素" for r in rows]
