"""Zonal statistics per region with fractional pixel coverage, on numpy or on dask blocks.

For every region of a layer: area by class of a categorical raster, and the area-weighted
sum and mean of value rasters (e.g. NDVI), where each pixel counts with the exact fraction of
it that lies inside the region (:mod:`ecoplan.geo.coverage`) times its true area.

How a block is done: one GDAL rasterisation gives each pixel the region its centre lies in,
and ``numpy.bincount`` over (region, class) counts whole pixels, the same as the plain
"rasterize then bincount" method. Then, for the pixels each region's boundary crosses only,
the centre-based count is replaced by the exact fraction. Interior pixels are exact already,
so the result equals exact per-pixel coverage at a small extra cost over the lower bound.

The block function is the engine; :func:`zonal_stats` either loops over windows of in-memory
numpy arrays or maps the engine over the blocks of dask arrays (local threads, or a
dask.distributed cluster), then sums the partial results. Memory is bounded by block size.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import shapely
import xarray as xr
from affine import Affine
from numpy.typing import NDArray
from rasterio import features
from rasterio.errors import NotGeoreferencedWarning

from ecoplan.errors import ValidationError
from ecoplan.geo.coverage import boundary_fractions
from ecoplan.geo.rasters import DEFAULT_CHUNK, Grid, grid_of, nodata_of
from ecoplan.geo.regions import RegionLayer

Floats = NDArray[Any]

# rasterio's in-memory rasterisation target briefly has no transform and says so; the
# transform we pass is applied right after, so the warning is noise.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)

MAX_CLASS_SPAN: Final = 1 << 16


@dataclass(frozen=True)
class ZonalPlan:
    """What every block needs to know: the grid and the regions in the raster's CRS."""

    grid: Grid
    geometries: NDArray[np.object_]
    boundaries: NDArray[np.object_]
    bbox: NDArray[np.float64]  # (n, 4) minx, miny, maxx, maxy
    row_areas_m2: Floats
    class_nodata: float | int | None
    value_nodata: tuple[float | int | None, ...]
    value_names: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.geometries)


@dataclass
class Partial:
    """Sums over some blocks; partial results add up to the whole."""

    n: int
    class_area: dict[int, Floats] = field(default_factory=dict)
    value_sum: dict[str, Floats] = field(default_factory=dict)
    value_area: dict[str, Floats] = field(default_factory=dict)
    class_nodata_area: Floats = field(init=False)
    touched_area: Floats = field(init=False)

    def __post_init__(self) -> None:
        self.class_nodata_area = np.zeros(self.n)
        self.touched_area = np.zeros(self.n)

    def add(self, other: Partial) -> Partial:
        for cls, arr in other.class_area.items():
            self.class_area[cls] = self.class_area.get(cls, 0.0) + arr
        for name, arr in other.value_sum.items():
            self.value_sum[name] = self.value_sum.get(name, 0.0) + arr
        for name, arr in other.value_area.items():
            self.value_area[name] = self.value_area.get(name, 0.0) + arr
        self.class_nodata_area = self.class_nodata_area + other.class_nodata_area
        self.touched_area = self.touched_area + other.touched_area
        return self


@dataclass(frozen=True)
class ZonalStats:
    """Result per region. Areas in m²; ``covered_m2`` is the region's area inside the raster."""

    layer: RegionLayer
    class_area_m2: dict[int, Floats]
    class_nodata_m2: Floats
    covered_m2: Floats
    value_sum: dict[str, Floats]
    value_area_m2: dict[str, Floats]

    def mean(self, name: str) -> Floats:
        """Area-weighted mean of a value raster (NaN where the region has no valid pixel)."""
        area = self.value_area_m2[name]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(area > 0, self.value_sum[name] / np.where(area > 0, area, 1.0), np.nan)

    def class_valid_m2(self) -> Floats:
        total = np.zeros(len(self.layer))
        for arr in self.class_area_m2.values():
            total = total + arr
        return total


def make_plan(
    layer: RegionLayer,
    grid: Grid,
    *,
    class_nodata: float | int | None = None,
    value_nodata: Mapping[str, float | int | None] | None = None,
) -> ZonalPlan:
    geoms = layer.geometries_in(grid.crs)
    value_nodata = dict(value_nodata or {})
    return ZonalPlan(
        grid=grid,
        geometries=geoms,
        boundaries=np.asarray(shapely.boundary(geoms)),
        bbox=np.asarray(shapely.bounds(geoms), dtype=np.float64),
        row_areas_m2=grid.row_areas_m2(),
        class_nodata=class_nodata,
        value_nodata=tuple(value_nodata.values()),
        value_names=tuple(value_nodata),
    )


def block_partial(
    plan: ZonalPlan,
    r0: int,
    c0: int,
    classes: NDArray[Any] | None,
    values: tuple[NDArray[Any], ...],
) -> Partial:
    """The engine: zonal sums over one block whose top-left pixel is (r0, c0)."""
    shape = classes.shape if classes is not None else values[0].shape
    h, w = int(shape[0]), int(shape[1])
    g = plan.grid
    block_transform = g.window_transform(r0, c0)
    x0, y0 = block_transform.c, block_transform.f
    hits = _regions_in_block(plan, r0, c0, h, w)
    out = Partial(plan.n)
    if len(hits) == 0:
        return out
    label_dtype = np.uint16 if plan.n < 65535 else np.uint32
    labels = features.rasterize(
        ((plan.geometries[i], int(i) + 1) for i in hits),
        out_shape=(h, w),
        transform=block_transform,
        fill=0,
        dtype=label_dtype,
    )
    areas = plan.row_areas_m2[r0 : r0 + h]
    uniform = bool(np.all(areas == areas[0]))
    # equal-area grids: count pixels and scale once; otherwise weight each pixel by its row's area
    scale = float(areas[0]) if uniform else 1.0
    weights = None if uniform else np.broadcast_to(areas[:, None], (h, w)).ravel()
    n = plan.n
    lab = labels.ravel()

    # --- centre-based sums (what rasterize + bincount gives) ------------------------------
    # One integer key per pixel (region × class column) is built once and reused by every
    # bincount, so numpy never re-casts the labels.
    if classes is not None:
        key, lo, span, nodata_col = _class_keys(lab, classes.ravel(), plan.class_nodata)
    else:
        key, lo, span, nodata_col = lab.astype(np.intp), 0, 1, None
    size = (n + 1) * span
    counts = np.bincount(key, weights=weights, minlength=size).reshape(n + 1, span)[1:] * scale
    out.touched_area = counts.sum(axis=1)
    if classes is not None:
        for j in np.flatnonzero(counts.any(axis=0)):
            if j == nodata_col:
                out.class_nodata_area = counts[:, j].copy()
            else:
                out.class_area[lo + int(j)] = counts[:, j]
    for name, arr, nodata in zip(plan.value_names, values, plan.value_nodata, strict=True):
        flat = arr.ravel()
        valid = _valid(flat, nodata)
        if valid.all():  # no masking needed: the valid area is the area of the region
            weighted = flat if weights is None else flat * weights
            area = out.touched_area.copy()
        else:
            weighted = np.where(valid, flat, 0).astype(np.float64)
            if weights is not None:
                weighted *= weights
            valid_weight = valid if weights is None else valid * weights
            area = (
                _per_region(np.bincount(key, weights=valid_weight, minlength=size), n, span) * scale
            )
        out.value_sum[name] = (
            _per_region(np.bincount(key, weights=weighted, minlength=size), n, span) * scale
        )
        out.value_area[name] = area

    # --- exact correction on the pixels each region's boundary crosses -------------------
    for i in hits:
        rows, cols = _boundary_pixels(plan, int(i), block_transform, x0, y0, h, w)
        if len(rows) == 0:
            continue
        frac = boundary_fractions(plan.geometries[i], rows, cols, x0=x0, y0=y0, dx=g.dx, dy=g.dy)
        delta = (frac - (labels[rows, cols] == i + 1)) * areas[rows]
        out.touched_area[i] += delta.sum()
        if classes is not None:
            cls = classes[rows, cols]
            ok = _valid(cls, plan.class_nodata)
            for value in np.unique(cls[ok]):
                target = out.class_area.setdefault(int(value), np.zeros(n))
                target[i] += delta[ok & (cls == value)].sum()
            out.class_nodata_area[i] += delta[~ok].sum()
        for name, arr, nodata in zip(plan.value_names, values, plan.value_nodata, strict=True):
            picked = arr[rows, cols]
            ok = _valid(picked, nodata)
            out.value_sum[name][i] += (delta[ok] * picked[ok]).sum()
            out.value_area[name][i] += delta[ok].sum()
    return out


def _regions_in_block(plan: ZonalPlan, r0: int, c0: int, h: int, w: int) -> NDArray[np.intp]:
    """Indices of the regions whose bounding box meets the block of h × w pixels at (r0, c0)."""
    g = plan.grid
    xa, xb = sorted((g.transform.c + c0 * g.dx, g.transform.c + (c0 + w) * g.dx))
    ya, yb = sorted((g.transform.f + r0 * g.dy, g.transform.f + (r0 + h) * g.dy))
    b = plan.bbox
    return np.flatnonzero((b[:, 0] < xb) & (b[:, 2] > xa) & (b[:, 1] < yb) & (b[:, 3] > ya))


def _windows(plan: ZonalPlan, block: int) -> Iterator[tuple[int, int, int, int]]:
    """(r0, c0, h, w) of the block-sized windows of the grid that meet a region; others are
    never read."""
    for r0 in range(0, plan.grid.height, block):
        for c0 in range(0, plan.grid.width, block):
            h, w = min(block, plan.grid.height - r0), min(block, plan.grid.width - c0)
            if len(_regions_in_block(plan, r0, c0, h, w)):
                yield r0, c0, h, w


def _valid(arr: NDArray[Any], nodata: float | int | None) -> NDArray[np.bool_]:
    if np.issubdtype(arr.dtype, np.floating):
        valid: NDArray[np.bool_] = np.isfinite(arr)
        if nodata is not None:
            valid &= arr != nodata
        return valid
    if nodata is None:
        return np.ones(arr.shape, dtype=bool)
    return np.asarray(arr != nodata, dtype=bool)


def _per_region(sums: Floats, n: int, span: int) -> Floats:
    """Collapse per (region, class column) sums to per region, dropping region 0 (outside)."""
    return np.asarray(sums.reshape(n + 1, span)[1:].sum(axis=1), dtype=np.float64)


def _class_keys(
    labels: NDArray[Any], classes: NDArray[Any], nodata: float | int | None
) -> tuple[NDArray[np.intp], int, int, int | None]:
    """One bincount key per pixel: region × class column; nodata gets a column of its own.

    Returns (keys, lowest class value, number of columns, nodata column or None).
    """
    if not np.issubdtype(classes.dtype, np.integer):
        raise ValidationError("分类栅格(土地利用)必须是整数类型")
    if classes.dtype == np.uint8:  # the common case: no masking at all, 256 columns
        nodata_col = int(nodata) if nodata is not None and 0 <= nodata <= 255 else None
        key = labels.astype(np.intp)
        key *= 256
        key += classes
        return key, 0, 256, nodata_col
    valid = _valid(classes, nodata)
    picked = classes[valid]
    lo = int(picked.min()) if picked.size else 0
    span = (int(picked.max()) - lo + 1 if picked.size else 1) + 1  # + the nodata column
    if span > MAX_CLASS_SPAN:
        raise ValidationError("分类栅格的类别值范围过大(超过 65536 个取值)，不像土地利用分类")
    index = np.where(valid, classes.astype(np.intp) - lo, span - 1)
    return labels.astype(np.intp) * span + index, lo, span, span - 1


def _boundary_pixels(
    plan: ZonalPlan, i: int, block_transform: Any, x0: float, y0: float, h: int, w: int
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pixels of the block that region ``i``'s boundary touches (rows, cols in the block)."""
    g = plan.grid
    minx, miny, maxx, maxy = plan.bbox[i]
    c_lo = max(int(np.floor((minx - x0) / g.dx)) - 1, 0) if g.dx > 0 else 0
    c_hi = min(int(np.ceil((maxx - x0) / g.dx)) + 1, w) if g.dx > 0 else w
    r_lo = max(int(np.floor((maxy - y0) / g.dy)) - 1, 0) if g.dy < 0 else 0
    r_hi = min(int(np.ceil((miny - y0) / g.dy)) + 1, h) if g.dy < 0 else h
    if c_hi <= c_lo or r_hi <= r_lo:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    sub_transform = block_transform @ Affine.translation(c_lo, r_lo)
    mask = features.rasterize(
        [(plan.boundaries[i], 1)],
        out_shape=(r_hi - r_lo, c_hi - c_lo),
        transform=sub_transform,
        fill=0,
        all_touched=True,
        dtype=np.uint8,
    )
    rows, cols = np.nonzero(mask)
    return rows.astype(np.intp) + r_lo, cols.astype(np.intp) + c_lo


# --- drivers -------------------------------------------------------------------------------


def zonal_stats(
    layer: RegionLayer,
    *,
    classes: xr.DataArray | None = None,
    values: Mapping[str, xr.DataArray] | None = None,
    chunk: int = DEFAULT_CHUNK,
    scheduler: str | None = None,
) -> ZonalStats:
    """Area by class of ``classes`` and area-weighted means of ``values`` for every region.

    All rasters must share one grid (check with :func:`grid_of`); regions are reprojected to
    the raster's CRS. Dask-backed arrays run block by block on the local threads or on the
    cluster named by ``scheduler``; numpy arrays are walked in ``chunk``-sized windows.
    """
    values = dict(values or {})
    rasters = ([classes] if classes is not None else []) + list(values.values())
    if not rasters:
        raise ValidationError("区域统计至少需要一个栅格")
    grids = [grid_of(r, name=str(r.attrs.get("source_path", r.name or "栅格"))) for r in rasters]
    grid = grids[0]
    for other in grids[1:]:
        if not other.same_as(grid):
            raise ValidationError("参与同一次区域统计的栅格必须网格一致(坐标系、分辨率、范围)")
    plan = make_plan(
        layer,
        grid,
        class_nodata=nodata_of(classes) if classes is not None else None,
        value_nodata={k: nodata_of(v) for k, v in values.items()},
    )
    files = [_lazy_file(r) for r in rasters]
    if all(f is not None for f in files):
        # opened from files: each task reads its own window, so at most one block per worker
        # is in memory (dask would otherwise read blocks ahead of the tasks that use them)
        block = rasters[0].chunks[0][0] if rasters[0].chunks else chunk
        total = _run_file_windows(plan, files, classes is not None, block, scheduler)
    elif any(r.chunks is not None for r in rasters):
        total = _run_dask(plan, classes, values, chunk, scheduler)
    else:
        total = _run_numpy(plan, classes, values, chunk)
    return ZonalStats(
        layer=layer,
        class_area_m2=dict(sorted(total.class_area.items())),
        class_nodata_m2=total.class_nodata_area,
        covered_m2=total.touched_area,
        value_sum=total.value_sum,
        value_area_m2=total.value_area,
    )


def _lazy_file(data: xr.DataArray) -> str | None:
    """The GeoTIFF behind a lazily opened DataArray (band 1, not subset), else None."""
    path = data.attrs.get("source_path")
    whole = data.attrs.get("source_grid") == (*data.shape, *data.rio.transform()[:6])
    return str(path) if path and whole and data.chunks is not None else None


def _read_windows(paths: list[str], r0: int, c0: int, h: int, w: int) -> list[NDArray[Any]]:
    import rasterio
    from rasterio.windows import Window

    arrays = []
    for path in paths:
        with rasterio.open(path) as src:
            arrays.append(src.read(1, window=Window(c0, r0, w, h)))
    return arrays


def file_block_partial(
    plan: ZonalPlan, paths: list[str], has_classes: bool, r0: int, c0: int, h: int, w: int
) -> Partial:
    """Read one window of every raster and run the engine on it (one task)."""
    arrays = _read_windows(paths, r0, c0, h, w)
    classes = arrays[0] if has_classes else None
    values = tuple(arrays[1:] if has_classes else arrays)
    return block_partial(plan, r0, c0, classes, values)


def _run_file_windows(
    plan: ZonalPlan, paths: list[str | None], has_classes: bool, block: int, scheduler: str | None
) -> Partial:
    from dask.delayed import delayed

    from ecoplan.geo.cluster import compute

    files = [p for p in paths if p is not None]
    plan_ref = delayed(plan, pure=True)
    parts = [
        delayed(file_block_partial)(plan_ref, files, has_classes, r0, c0, h, w)
        for r0, c0, h, w in _windows(plan, block)
    ]
    return _fill_missing(compute(_tree_sum(parts, plan.n), scheduler=scheduler), plan)


def _run_numpy(
    plan: ZonalPlan, classes: xr.DataArray | None, values: Mapping[str, xr.DataArray], chunk: int
) -> Partial:
    cls = np.asarray(classes.values) if classes is not None else None
    vals = tuple(np.asarray(v.values) for v in values.values())
    total = Partial(plan.n)
    for r0, c0, h, w in _windows(plan, chunk):
        window = (slice(r0, r0 + h), slice(c0, c0 + w))
        classes_block = cls[window] if cls is not None else None
        total.add(block_partial(plan, r0, c0, classes_block, tuple(v[window] for v in vals)))
    return _fill_missing(total, plan)


def _run_dask(
    plan: ZonalPlan,
    classes: xr.DataArray | None,
    values: Mapping[str, xr.DataArray],
    chunk: int,
    scheduler: str | None,
) -> Partial:
    import dask.array as da
    from dask.delayed import delayed

    from ecoplan.geo.cluster import compute

    arrays = ([classes] if classes is not None else []) + list(values.values())
    reference = next((a for a in arrays if a.chunks is not None), None)
    chunks: Any = reference.chunks if reference is not None else ((chunk,), (chunk,))
    dask_arrays = [
        a.data.rechunk(chunks)
        if isinstance(a.data, da.Array)
        else da.from_array(np.asarray(a.values), chunks=chunks)
        for a in arrays
    ]
    row_starts = np.concatenate([[0], np.cumsum(chunks[0])[:-1]])
    col_starts = np.concatenate([[0], np.cumsum(chunks[1])[:-1]])
    blocks = [a.to_delayed() for a in dask_arrays]
    plan_ref = delayed(plan, pure=True)
    parts = []
    for bi, r0 in enumerate(row_starts):
        for bj, c0 in enumerate(col_starts):
            if not len(_regions_in_block(plan, int(r0), int(c0), chunks[0][bi], chunks[1][bj])):
                continue  # no region here: the block is never read
            cls_block = blocks[0][bi, bj] if classes is not None else None
            value_blocks = tuple(b[bi, bj] for b in blocks[1 if classes is not None else 0 :])
            parts.append(
                delayed(block_partial)(plan_ref, int(r0), int(c0), cls_block, value_blocks)
            )
    total = _tree_sum(parts, plan.n)
    result = compute(total, scheduler=scheduler)
    return _fill_missing(result, plan)


def _tree_sum(parts: list[Any], n: int) -> Any:
    from dask.delayed import delayed

    def add_all(*items: Partial) -> Partial:
        total = Partial(n)
        for item in items:
            total.add(item)
        return total

    while len(parts) > 1:
        parts = [delayed(add_all)(*parts[i : i + 8]) for i in range(0, len(parts), 8)]
    return parts[0] if parts else delayed(Partial)(n)


def _fill_missing(total: Partial, plan: ZonalPlan) -> Partial:
    for name in plan.value_names:
        total.value_sum.setdefault(name, np.zeros(plan.n))
        total.value_area.setdefault(name, np.zeros(plan.n))
    return total
