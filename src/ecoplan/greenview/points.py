"""Sample points for a street-level survey: every N metres along the roads inside the built-up
area (Treepedia ``createPoints.py``: points every ``mini_dist`` metres along each street line).

Rule (all lengths in the method's fixed metric CRS, CGCS2000 Gauss-Krüger CM 117°E):

1. roads whose ``type_field`` value is in ``exclude_types`` are dropped;
2. each road line is clipped to the union of the built-up polygons; the pieces of one road
   that touch are merged back into one line;
3. on each piece of length L, points at 0, s, 2s, …, ⌊L/s⌋·s from its start
   (⌊L/s⌋ + 1 points: a 1,000 m road at 50 m gives 1000/50 + 1 = 21);
4. in that order, a point closer than ``min_distance`` to a point already kept is dropped
   (junctions, roads drawn twice, the start of the next segment);
5. ids are ``GV<easting>_<northing>`` in whole metres of the metric CRS, so the same input
   gives the same ids every year (two kept points are at least min_distance > 1.5 m apart,
   so no two can round to one id).

Input layers may be in any declared CRS; a layer without one, or declared as degrees while
holding metres, is refused. ``assume_crs`` declares it (``gcj02`` for Chinese web-map data).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.crs import WGS84, geometry_gcj02_to_wgs84, is_gcj02
from ecoplan.greenview.method import GreenviewMethod, SamplingSpec

POINT_FIELDS = ["point_id", "lon", "lat", "x", "y", "road", "chainage_m"]
_EPS = 1e-6  # metres: a length that is a whole number of spacings within this counts as whole


def read_layer(path: Path, what: str, assume_crs: str | None = None) -> gpd.GeoDataFrame:
    """A vector file (GeoJSON, shapefile, GeoPackage …) with its CRS. ``assume_crs`` declares
    the CRS of a file that has none (or overrides it); ``gcj02`` converts to WGS-84."""
    if not path.exists():
        raise InputFileError(path, f"{what}文件不存在")
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError / FieldError / ...
        raise InputFileError(path, f"无法读取{what}({type(exc).__name__})") from exc
    if frame.empty:
        raise InputFileError(path, f"{what}中没有要素")
    if assume_crs:
        if is_gcj02(assume_crs):
            geoms = np.asarray(frame.geometry.values, dtype=object)
            frame = frame.set_geometry(
                gpd.GeoSeries(geometry_gcj02_to_wgs84(geoms), index=frame.index), crs=WGS84
            )
        else:
            try:
                frame = frame.set_crs(CRS.from_user_input(assume_crs), allow_override=True)
            except CRSError as exc:
                raise ValidationError(f"无法识别坐标系“{assume_crs}”") from exc
    if frame.crs is None:
        raise ValidationError(
            f"{path.name}: {what}没有声明坐标系,请用 --crs 指定(如 EPSG:4326、EPSG:4548 或 gcj02)"
        )
    return frame


def _check_degrees(frame: gpd.GeoDataFrame, name: str) -> None:
    if frame.crs is not None and frame.crs.is_geographic:
        minx, miny, maxx, maxy = frame.total_bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise ValidationError(
                f"{name}: 声明为经纬度坐标系,但坐标超出经纬度范围(坐标系声明是否有误?)"
            )


def _geoms(frame: gpd.GeoDataFrame, kinds: tuple[str, ...], name: str) -> NDArray[np.object_]:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    empty = np.array([g is None or shapely.is_empty(g) for g in geoms])
    types = np.array(["" if e else g.geom_type for g, e in zip(geoms, empty, strict=True)])
    wrong = np.flatnonzero(~empty & ~np.isin(types, kinds))
    if wrong.size:
        shown = "、".join(f"第 {i + 1} 个({types[i]})" for i in wrong[:10])
        raise ValidationError(
            f"{name}: 要素类型应为 {'/'.join(kinds)},以下要素不是: {shown}"
            + (f" 等 {wrong.size} 个" if wrong.size > 10 else "")
        )
    return geoms


def sample_points(
    roads: gpd.GeoDataFrame,
    builtup: gpd.GeoDataFrame,
    spec: SamplingSpec,
    *,
    spacing_m: float | None = None,
    min_distance_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Sample points along ``roads`` inside ``builtup`` (see the module doc for the rule).

    Returns a GeoDataFrame in WGS-84 with :data:`POINT_FIELDS`: ``x``/``y`` in the metric CRS
    (metres), ``road`` the row of the road it lies on, ``chainage_m`` its distance from the
    start of that road's clipped piece."""
    spacing = spec.spacing_m if spacing_m is None else spacing_m
    gap = spec.min_distance_m if min_distance_m is None else min_distance_m
    if not spacing > 0:
        raise ValidationError("点间距须大于 0 米")
    if not gap > 1.5:
        raise ValidationError("最小点距须大于 1.5 米(样点编号取整到米)")
    for frame, name in ((roads, "道路图层"), (builtup, "建成区图层")):
        if frame.crs is None:
            raise ValidationError(f"{name}没有声明坐标系")
        _check_degrees(frame, name)
    metric = CRS.from_user_input(spec.metric_crs)
    if spec.type_field in roads.columns and spec.exclude_types:
        roads = roads[~roads[spec.type_field].astype(str).isin(spec.exclude_types)]
    road_geoms = _geoms(roads.to_crs(metric), ("LineString", "MultiLineString"), "道路图层")
    area_geoms = _geoms(builtup.to_crs(metric), ("Polygon", "MultiPolygon"), "建成区图层")
    area = shapely.union_all(shapely.make_valid(area_geoms[~shapely.is_missing(area_geoms)]))
    if area.is_empty:
        raise ValidationError("建成区图层中没有面")
    shapely.prepare(area)
    clipped = shapely.intersection(road_geoms, area)
    lines: list[shapely.LineString] = []
    owner: list[int] = []
    for row, geom in zip(roads.index, clipped, strict=True):
        if geom is None or geom.is_empty:
            continue
        parts = [
            p for p in shapely.get_parts(geom) if p.geom_type in ("LineString", "MultiLineString")
        ]
        if not parts:
            continue
        merged = shapely.line_merge(shapely.union_all(parts))
        for piece in shapely.get_parts(merged):
            if piece.length > 0:
                lines.append(piece)
                owner.append(row)
    if not lines:
        raise ValidationError("道路与建成区不相交,没有可布设的样点(两个图层的坐标系是否正确?)")
    line_arr = np.asarray(lines, dtype=object)
    lengths = shapely.length(line_arr)
    counts = np.floor(lengths / spacing + _EPS / spacing).astype(np.int64) + 1
    which = np.repeat(np.arange(len(lines)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    chainage = (np.arange(which.size) - start) * spacing
    chainage = np.minimum(chainage, lengths[which])
    pts = shapely.line_interpolate_point(line_arr[which], chainage)
    keep = _thin(pts, gap)
    pts, which, chainage = pts[keep], which[keep], chainage[keep]
    xy = shapely.get_coordinates(pts)
    ids = [f"GV{round(x)}_{round(y)}" for x, y in xy]
    if len(set(ids)) != len(ids):  # cannot happen with gap > 1.5 m; checked all the same
        raise ValidationError("样点编号重复,请增大最小点距")
    wgs = gpd.GeoSeries(pts, crs=metric).to_crs(WGS84)
    out = gpd.GeoDataFrame(
        {
            "point_id": ids,
            "lon": wgs.x.to_numpy(),
            "lat": wgs.y.to_numpy(),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "road": np.asarray(owner)[which],
            "chainage_m": chainage,
        },  # fmt: skip
        geometry=wgs.values,
        crs=WGS84,
    )
    return out


def _thin(points: NDArray[np.object_], gap: float) -> NDArray[np.bool_]:
    """Greedy in input order: keep a point unless it is within ``gap`` of a kept one."""
    tree = shapely.STRtree(points)
    left, right = tree.query(points, predicate="dwithin", distance=gap)
    later = right > left  # each pair once, pointing forward
    left, right = left[later], right[later]
    order = np.argsort(left, kind="stable")
    left, right = left[order], right[order]
    bounds = np.searchsorted(left, np.arange(len(points) + 1))
    keep = np.ones(len(points), dtype=bool)
    for i in range(len(points)):
        if keep[i]:
            keep[right[bounds[i] : bounds[i + 1]]] = False
    return keep


def manifest_template(points: pd.DataFrame, method: GreenviewMethod) -> pd.DataFrame:
    """An empty manifest for the field team: one row per point and heading at the method's
    pitch, ``date`` and ``image`` to be filled in."""
    headings = list(method.point.headings)
    rows = [
        {
            "point_id": p,
            "lon": f"{lon:.7f}",
            "lat": f"{lat:.7f}",
            "heading": f"{h:g}",
            "pitch": f"{method.point.pitch:g}",
            "date": "",
            "image": "",
        }  # fmt: skip
        for p, lon, lat in zip(points["point_id"], points["lon"], points["lat"], strict=True)
        for h in headings
    ]
    return pd.DataFrame(rows)


def spacing_note(length_m: float, spacing_m: float) -> int:
    """Points the rule puts on one line of ``length_m`` (before thinning): ⌊L/s⌋ + 1."""
    return math.floor(length_m / spacing_m + _EPS / spacing_m) + 1
