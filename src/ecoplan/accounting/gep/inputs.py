"""Reading a run's inputs: rasters on one grid with plausible values, weather, tables, points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ecoplan.accounting.gep.spec import InputSpec, PointSet
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.rasters import grid_of, nodata_of, open_raster
from ecoplan.geo.regions import RegionLayer

TABLE_UNIT_LIMITS = {"_t": (0.0, 1e9), "_km": (0.0, 1e6)}


def open_on_grid(paths: Mapping[str, Path], reference: str, chunk: int) -> dict[str, xr.DataArray]:
    """Open every raster lazily; all must share the reference raster's grid."""
    arrays = {name: open_raster(path, chunk=chunk) for name, path in paths.items()}
    grid = grid_of(arrays[reference], name=paths[reference].name)
    for name, data in arrays.items():
        other = grid_of(data, name=paths[name].name)
        if not other.same_as(grid):
            raise ValidationError(
                f"{paths[name].name}({name})与 {paths[reference].name} 网格不一致"
                f"(坐标系 {other.crs.to_string()} / {grid.crs.to_string()}，"
                f"大小 {other.height}×{other.width} / {grid.height}×{grid.width}，"
                f"分辨率 {other.dx:g} / {grid.dx:g})：请先重采样到同一网格(如 gdalwarp -tr -te -t_srs)"
            )
    return arrays


def as_float(data: xr.DataArray, scale: float = 1.0) -> Any:
    """The (dask) array as float32 with nodata as NaN, times ``scale``.

    float32 carries every input here to better than 1e-6 relative and halves the memory of a
    block; steps that accumulate (LS, sums) work in float64 themselves."""
    import dask.array as da

    values = data.data.astype("float32")
    nodata = nodata_of(data)
    if nodata is not None:
        values = da.where(data.data == nodata, np.nan, values)
    return values * np.float32(scale) if scale != 1.0 else values


def check_ranges(
    arrays: Mapping[str, Any],
    specs: Mapping[str, InputSpec],
    paths: Mapping[str, Path],
    compute: Any,
) -> None:
    """Refuse rasters whose values cannot be in the spec's unit (e.g. precipitation in m)."""
    import dask.array as da

    names = list(arrays)
    lows_highs = compute([(da.nanmin(arrays[n]), da.nanmax(arrays[n])) for n in names])
    for name, (lo, hi) in zip(names, lows_highs, strict=True):
        spec = specs[name]
        if not np.isfinite(lo):
            raise ValidationError(f"{paths[name].name}({spec.title}): 全部为无数据")
        if lo < spec.lo or hi > spec.hi or (spec.lo > 0 and hi < spec.lo):
            hint = f"；{spec.hint}" if spec.hint else ""
            raise ValidationError(
                f"{paths[name].name}({spec.title}): 数值范围 {lo:g}–{hi:g} 超出 {spec.unit} 的合理范围"
                f" {spec.lo:g}–{spec.hi:g}{hint}"
            )


def weather_scalars(
    path: Path, *, hot_tmax: float, dry_rh: float, storm_mm: float
) -> dict[str, float]:
    """From a daily table (date, tmax, rh[, precip]): hot days, day shares, storm rain."""
    frame = _read_table(path)
    missing = [c for c in ("date", "tmax", "rh") if c not in frame.columns]
    if missing:
        raise InputFileError(path, f"气象日表缺少列: {', '.join(missing)}")
    tmax = pd.to_numeric(frame["tmax"], errors="coerce")
    rh = pd.to_numeric(frame["rh"], errors="coerce")
    if tmax.isna().all() or rh.isna().all():
        raise InputFileError(path, "tmax 或 rh 没有有效数值")
    if rh.max() <= 1.0:
        raise InputFileError(path, "rh 应为百分数(0–100)，当前看起来是 0–1 的小数")
    n = int(tmax.notna().sum())
    out = {
        "hot_days": float((tmax > hot_tmax).sum()),
        "hot_share": float((tmax > hot_tmax).sum() / n),
        "dry_share": float((rh < dry_rh).sum() / int(rh.notna().sum())),
    }
    if "precip" in frame.columns:
        rain = pd.to_numeric(frame["precip"], errors="coerce").fillna(0.0)
        if (rain < 0).any():
            raise InputFileError(path, "precip 出现负值")
        out["storm_rain_mm"] = float(rain[rain >= storm_mm].sum())
    return out


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    try:
        if path.suffix.lower() == ".xlsx":
            return pd.read_excel(path, dtype={"region_code": str})
        return pd.read_csv(path, dtype={"region_code": str}, encoding="utf-8-sig")
    except Exception as exc:  # pandas raises many types for broken files
        raise InputFileError(path, f"无法读取表格: {exc}") from exc


def region_tables(paths: Sequence[Path]) -> pd.DataFrame:
    """Region tables keyed by region_code (read as for EI), every value a number ≥ 0."""
    from ecoplan.accounting.ei.derive import read_region_tables

    frame = read_region_tables(paths)
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.index[values.isna() & frame[column].notna()].tolist()
        if bad:
            raise ValidationError(
                f"区域表列 {column} 含非数值(区域 {', '.join(map(str, bad[:3]))})"
            )
        if (values < 0).any():
            raise ValidationError(f"区域表列 {column} 出现负值")
        frame[column] = values
    return frame


def table_columns(tables: pd.DataFrame, layer: RegionLayer) -> dict[str, np.ndarray[Any, Any]]:
    if tables.empty:
        return {}
    aligned = tables.reindex(list(layer.codes))
    return {c: aligned[c].to_numpy(dtype=np.float64) for c in tables.columns}


def read_points(path: Path, required: Sequence[str]) -> pd.DataFrame:
    frame = _read_table(path)
    missing = [c for c in ("lon", "lat", *required) if c not in frame.columns]
    if missing:
        raise InputFileError(path, f"缺少列: {', '.join(missing)}")
    for column in ("lon", "lat", *required):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any() or (column not in ("lon", "lat") and (values < 0).any()):
            raise InputFileError(path, f"列 {column} 有空值、非数值或负值")
        frame[column] = values
    if not (frame["lon"].between(-180, 180).all() and frame["lat"].between(-90, 90).all()):
        raise InputFileError(path, "lon/lat 超出经纬度范围(应为 WGS84 经纬度)")
    return frame


def points_in(frame: pd.DataFrame, layer: RegionLayer) -> PointSet:
    import shapely

    pts = shapely.points(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    region = np.full(len(frame), -1, dtype=np.intp)
    for i, geom in enumerate(layer.geometries):
        inside = shapely.contains(geom, pts) & (region < 0)
        region[inside] = i
    columns = {
        c: frame[c].to_numpy(dtype=np.float64)
        for c in frame.columns
        if c not in ("lon", "lat") and pd.api.types.is_numeric_dtype(frame[c])
    }
    return PointSet(region, columns)
