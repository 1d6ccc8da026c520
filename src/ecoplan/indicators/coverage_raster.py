"""Raster helpers shared by the 森林覆盖率 and 湿地保护率 engines: check a class raster,
refuse classes a mapping does not know, measure what the raster does not cover, and convert
areas to pixel counts. Areas come from :func:`ecoplan.geo.zonal.zonal_stats`."""

from __future__ import annotations

import numpy as np
import shapely
import xarray as xr

from ecoplan.errors import ValidationError
from ecoplan.geo.rasters import Grid, grid_of, nodata_of
from ecoplan.geo.regions import RegionLayer
from ecoplan.geo.zonal import ZonalStats
from ecoplan.indicators.coverage_inputs import Floats, unmapped_text
from ecoplan.indicators.coverage_params import RasterMapping


def prepared_raster(data: xr.DataArray, cmap: RasterMapping, name: str) -> xr.DataArray:
    """Check a class raster (2-D, integer, with a CRS) and give it the mapping's nodata value
    when the file declares none."""
    if not isinstance(data, xr.DataArray) or data.ndim != 2:
        raise ValidationError(f"{name}: 需要二维分类栅格(单波段)")
    grid_of(data, name=name)  # refuses a raster without CRS or with rotation
    if not np.issubdtype(data.dtype, np.integer):
        raise ValidationError(f"{name}: 分类栅格必须是整数类型(现为 {data.dtype})")
    if nodata_of(data) is None and cmap.nodata is not None:
        data = data.rio.write_nodata(cmap.nodata)
    return data


def unmapped_classes(
    stats: ZonalStats, cmap: RasterMapping, name: str, allow: bool
) -> dict[str, Floats]:
    """Area (km², per district) of each raster class the mapping does not know."""
    found = {
        str(cls): arr / 1e6
        for cls, arr in stats.class_area_m2.items()
        if cls not in cmap.classes and arr.sum() > 0
    }
    if found and not allow:
        detail = unmapped_text({k: float(v.sum()) for k, v in found.items()})
        raise ValidationError(
            f"{name}: 栅格中有类别映射“{cmap.name}”未定义的类别(区划内面积): {detail}",
            [f"类别 {k}" for k in found],
        )
    return found


def unknown_km2(stats: ZonalStats, admin: Floats, max_share: float, name: str) -> Floats:
    """Area of each district that the raster says nothing about (nodata or outside it);
    refused above ``max_share`` of the district, or when the raster misses every district."""
    layer = stats.layer
    covered = stats.covered_m2 / 1e6
    if not np.any(covered > 0):
        raise ValidationError(f"{name}: 栅格与区划没有重叠，请检查栅格范围与坐标系")
    unknown = stats.class_nodata_m2 / 1e6 + np.clip(admin - covered, 0.0, None)
    share = unknown / admin
    bad = [f"{layer.names[i]} {share[i]:.1%}" for i in np.flatnonzero(share > max_share + 1e-12)]
    if bad:
        raise ValidationError(
            f"{name}: 这些区有超过 {max_share:.1%} 的面积无数据或在栅格范围外"
            f"(请检查栅格范围、无数据值和坐标系): {', '.join(bad)}",
            bad,
        )
    return np.asarray(unknown, dtype=np.float64)


def district_pixel_m2(grid: Grid, layer: RegionLayer) -> Floats:
    """Mean true pixel area (m²) over the raster rows each district spans."""
    rows = grid.row_areas_m2()
    bounds = shapely.bounds(layer.geometries_in(grid.crs))
    out = np.empty(len(layer))
    for i, (_, miny, _, maxy) in enumerate(bounds):
        r = sorted(((maxy - grid.transform.f) / grid.dy, (miny - grid.transform.f) / grid.dy))
        lo = min(max(int(np.floor(r[0])), 0), grid.height - 1)
        hi = min(max(int(np.ceil(r[1])), lo + 1), grid.height)
        out[i] = float(rows[lo:hi].mean())
    return out
