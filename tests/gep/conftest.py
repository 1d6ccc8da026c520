"""A tiny world for GEP-R runs: 300 × 300 pixels of 30 m (9 km × 9 km) in the equal-area
projection, two rectangular 'districts' (west, east) and the 'city' they make up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer

from ecoplan.accounting.gep.config import GepConfig, Inputs
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.regions import RegionLayer, build_layer
from tests.geo.conftest import write_tif

N = 300
RES = 30.0
X0, Y0 = 950_000.0, 4_350_000.0
TRANSFORM = Affine(RES, 0, X0, 0, -RES, Y0)


def _box(x0: float, x1: float) -> Any:
    to_wgs = Transformer.from_crs(EQUAL_AREA, WGS84, always_xy=True)
    ring = [(x0, Y0), (x1, Y0), (x1, Y0 - N * RES), (x0, Y0 - N * RES)]
    return shapely.Polygon([to_wgs.transform(x, y) for x, y in ring])


def layers() -> tuple[RegionLayer, RegionLayer]:
    # west and east inset by 2 pixels; north and south on the raster's edges
    inner0, mid, inner1 = X0 + 2 * RES, X0 + N * RES / 2, X0 + (N - 2) * RES
    west, east = _box(inner0, mid), _box(mid, inner1)
    city = build_layer(
        "city", ["100000"], ["测试市"], np.asarray([shapely.union(west, east)], dtype=object)
    )
    districts = build_layer(
        "district", ["100001", "100002"], ["西区", "东区"], np.asarray([west, east], dtype=object)
    )
    return city, districts


def write_world(folder: Path, **override: np.ndarray) -> dict[str, Path]:
    rows, cols = np.mgrid[0:N, 0:N]
    lc = np.where(cols < N // 2, 21, np.where(rows < N // 3, 51, 31)).astype(
        np.uint8
    )  # forest | urban/grass
    lc[250:260, 250:260] = 42  # a lake
    fields: dict[str, np.ndarray] = {
        "landcover": lc,
        "ndvi": np.where(lc == 21, 0.7, 0.4).astype(np.float32),
        "dem": (400.0 - rows * 1.0 + 20 * np.sin(cols / 9.0)).astype(np.float32),
        "precipitation": np.full((N, N), 600.0, np.float32),
        "et": np.full((N, N), 400.0, np.float32),
        "erosivity": np.full((N, N), 2500.0, np.float32),
        "erodibility": np.full((N, N), 0.03, np.float32),
        "npp": np.full((N, N), 450.0, np.float32),
        "storm_rain": np.full((N, N), 100.0, np.float32),
    }
    fields.update(override)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, values in fields.items():
        nodata = 0 if name == "landcover" else np.nan
        paths[name] = write_tif(
            folder / f"{name}.tif", values, TRANSFORM, EQUAL_AREA, nodata=nodata
        )
    (folder / "emissions.csv").write_text(
        "region_code,so2_t,nox_t,dust_t,cod_t,nh3n_t,tn_t,tp_t\n"
        "100001,50,200,100,30,2,8,1\n100002,10,1,5000,300,20,80,9\n",
        encoding="utf-8",
    )
    (folder / "reservoirs.csv").write_text("name,lon,lat,capacity_m3\n", encoding="utf-8")
    return paths


def config(folder: Path, paths: dict[str, Path], **changes: Any) -> GepConfig:
    inputs = Inputs(**paths, tables=[folder / "emissions.csv"], with_beijing=False)  # type: ignore[arg-type]
    base: dict[str, Any] = {
        "year": 2024, "title": "测试核算", "output": folder / "out", "chunk": 256,
        "inputs": inputs, "scalars": {"hot_days": 90, "hot_share": 0.4, "dry_share": 0.3,
                                      "water_evaporation_mm": 1000},
    }  # fmt: skip
    base.update(changes)
    return GepConfig(**base)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("gepworld")
    return folder, write_world(folder)
