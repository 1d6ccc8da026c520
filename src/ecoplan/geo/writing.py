"""Write dask-computed rasters to GeoTIFF block by block, then as Cloud-Optimised GeoTIFFs.

Blocks are computed a batch at a time (a few per worker) and written to their windows by the
calling process, so memory holds one batch whatever the grid size, and the same code runs
on local threads or a dask.distributed cluster (workers never write files).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window

from ecoplan.geo.cluster import computer
from ecoplan.geo.rasters import Grid

GDAL_CACHE_MB = 256


def write_rasters(
    arrays: Mapping[str, Any],
    grid: Grid,
    paths: Mapping[str, Path],
    *,
    tags: Mapping[str, Mapping[str, str]] | None = None,
    scheduler: str | None = None,
    batch: int | None = None,
) -> None:
    """Compute dask arrays sharing one chunking and write each to ``paths[name]`` as a COG."""
    from dask.delayed import delayed

    names = list(arrays)
    first = arrays[names[0]]
    row_starts = np.concatenate([[0], np.cumsum(first.chunks[0])[:-1]])
    col_starts = np.concatenate([[0], np.cumsum(first.chunks[1])[:-1]])
    blocks = {name: arrays[name].to_delayed() for name in names}
    positions = [(i, j) for i in range(len(row_starts)) for j in range(len(col_starts))]
    batch = batch or max(2, os.cpu_count() or 2)
    staging = {name: paths[name].with_suffix(".staging.tif") for name in names}
    # GDAL's block cache defaults to 5 % of RAM and fills with the tiles of every open output;
    # a small fixed cache keeps this process's memory independent of the grid size
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB), ExitStack() as stack:
        handles = {
            name: stack.enter_context(rasterio.open(
                staging[name], "w", driver="GTiff", height=grid.height, width=grid.width,
                count=1, dtype=str(arrays[name].dtype), crs=grid.crs, transform=grid.transform,
                nodata=np.nan if np.issubdtype(arrays[name].dtype, np.floating) else 255,
                # uncompressed: this process writes every block, so compressing here would be
                # the single-threaded bottleneck; the COG copy compresses with all cores
                tiled=True, blockxsize=512, blockysize=512, BIGTIFF="IF_SAFER",
            ))
            for name in names
        }  # fmt: skip
        with computer(scheduler) as compute:
            for start in range(0, len(positions), batch):
                part = positions[start : start + batch]
                tasks = [[blocks[name][i, j] for name in names] for i, j in part]
                results = compute(delayed(list)(tasks))
                for (i, j), arrays_ij in zip(part, results, strict=True):
                    for name, data in zip(names, arrays_ij, strict=True):
                        h, w = data.shape
                        window = Window(int(col_starts[j]), int(row_starts[i]), w, h)
                        handles[name].write(data, 1, window=window)
        for name in names:
            if tags and name in tags:
                handles[name].update_tags(**tags[name])
    for name in names:
        rasterio.shutil.copy(
            staging[name], paths[name], driver="COG", compress="DEFLATE", NUM_THREADS="ALL_CPUS",
            BIGTIFF="IF_SAFER",
        )  # fmt: skip
        staging[name].unlink()
