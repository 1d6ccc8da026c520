"""Raster input: open GeoTIFF / COG lazily (rioxarray + dask), describe the grid, pixel areas.

Only north-up grids are accepted (no rotation terms), which every GeoTIFF from GIS tools,
GDAL warps and the common land-cover products satisfies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import rioxarray
import xarray as xr
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Geod

from ecoplan.errors import InputFileError, ValidationError

DEFAULT_CHUNK: Final = 2048
"""Pixels per side of a block: 2048² uint8 + float32 blocks keep a task under ~100 MB."""

_EQUAL_AREA_METHODS: Final = ("equal area", "mollweide", "sinusoidal", "equal earth")
_GEOD: Final = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Grid:
    """Where the pixels of a raster are: affine transform, CRS and shape."""

    transform: Affine
    crs: CRS
    height: int
    width: int

    @property
    def dx(self) -> float:
        return float(self.transform.a)

    @property
    def dy(self) -> float:
        return float(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        x0, y0 = self.transform.c, self.transform.f
        x1 = x0 + self.width * self.dx
        y1 = y0 + self.height * self.dy
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def window_transform(self, r0: int, c0: int) -> Affine:
        """The transform of a window whose top-left pixel is (r0, c0)."""
        return self.transform @ Affine.translation(c0, r0)

    def same_as(self, other: Grid) -> bool:
        return (
            self.height == other.height
            and self.width == other.width
            and self.crs == other.crs
            and self.transform.almost_equals(other.transform, precision=1e-9)
        )

    def row_areas_m2(self) -> NDArray[np.float64]:
        """True area of one pixel in each row (m²).

        Equal-area projections: |dx·dy| everywhere. Geographic grids: the ellipsoidal area of
        the pixel, which shrinks with latitude. Other projections (UTM, Web Mercator): the
        ellipsoidal area of the pixel in the middle column of each row, which is exact along
        that column and close elsewhere for a city-sized grid (documented in docs/geo.md).
        """
        nominal = abs(self.dx * self.dy)
        if self.crs.is_projected and _is_equal_area(self.crs):
            return np.full(self.height, nominal)
        from pyproj import Transformer

        to_lonlat = Transformer.from_crs(
            self.crs, self.crs.geodetic_crs or "EPSG:4326", always_xy=True
        )
        x_left = self.transform.c + (self.width // 2) * self.dx
        x_right = x_left + self.dx
        tops = self.transform.f + np.arange(self.height) * self.dy
        bottoms = tops + self.dy
        areas = np.empty(self.height)
        for i, (top, bottom) in enumerate(zip(tops, bottoms, strict=True)):
            lon, lat = to_lonlat.transform(
                [x_left, x_right, x_right, x_left], [top, top, bottom, bottom]
            )
            area, _ = _GEOD.polygon_area_perimeter(lon, lat)
            areas[i] = abs(area)
        return areas


def _is_equal_area(crs: CRS) -> bool:
    operation = crs.coordinate_operation
    method = operation.method_name.lower() if operation is not None else ""
    return any(name in method for name in _EQUAL_AREA_METHODS)


def grid_of(data: xr.DataArray, *, name: str = "raster") -> Grid:
    """The grid of a 2-D DataArray with rioxarray metadata; refuse what we cannot use."""
    crs = data.rio.crs
    if crs is None:
        raise ValidationError(f"{name}: 栅格没有坐标系信息，无法与区划叠加")
    transform = data.rio.transform()
    if transform.b != 0 or transform.d != 0:
        raise ValidationError(f"{name}: 不支持旋转的栅格(仿射变换含旋转项)")
    height, width = data.shape[-2:]
    return Grid(transform, CRS.from_user_input(crs), int(height), int(width))


def open_raster(path: Path, *, chunk: int | None = DEFAULT_CHUNK) -> xr.DataArray:
    """Open band 1 of a GeoTIFF lazily as a dask-backed DataArray (``chunk=None``: in memory)."""
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    try:
        chunks: dict[str, int] | None = {"band": 1, "y": chunk, "x": chunk} if chunk else None
        data = rioxarray.open_rasterio(path, chunks=chunks, lock=False, masked=False)
    except Exception as exc:  # rasterio raises RasterioIOError, CPLE_* and others
        raise InputFileError(path, f"无法读取为栅格(GeoTIFF)({type(exc).__name__})") from exc
    if not isinstance(data, xr.DataArray):
        raise InputFileError(path, "文件含多个子数据集，请指定其中一个")
    data = data.isel(band=0, drop=True)
    data.attrs["source_path"] = str(path)
    # what the file holds: a later subset keeps the attrs but not this shape and transform
    data.attrs["source_grid"] = (*data.shape, *data.rio.transform()[:6])
    grid_of(data, name=path.name)
    if chunk is None:
        data = data.load()
    return data


def nodata_of(data: xr.DataArray) -> float | int | None:
    value: Any = data.rio.nodata
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None  # NaN is caught by the finite-value mask
    return value.item() if isinstance(value, np.generic) else value  # type: ignore[no-any-return]
