"""Rasters built in code (natcap style): tiny grids whose answers can be worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine
from pyproj import CRS

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def data_array(
    values: np.ndarray[Any, Any], transform: Affine, crs: CRS | str, nodata: Any = None
) -> xr.DataArray:
    array = xr.DataArray(values, dims=("y", "x"))
    array = array.rio.write_crs(crs).rio.write_transform(transform)
    if nodata is not None:
        array = array.rio.write_nodata(nodata)
    return array


def write_tif(
    path: Path, values: np.ndarray[Any, Any], transform: Affine, crs: CRS | str, nodata: Any = None
) -> Path:
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": values.dtype.name,
        "crs": CRS.from_user_input(crs).to_wkt(),
        "transform": transform,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


@pytest.fixture(scope="session")
def beijing() -> Any:
    from ecoplan.geo.regions import beijing_layers

    return beijing_layers()
