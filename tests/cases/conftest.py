"""A seeded world for clue tests: the sample plan and units, one account per role that acts
on clues, and Beijing's districts read from the shared reference data (real boundaries)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import Engine

from ecoplan import db
from ecoplan.accounts.models import Account
from ecoplan.accounts.service import account_by_username, create_account
from ecoplan.cases.spatial import Districts
from ecoplan.geo.regions import build_layer
from tests.supervision.conftest import World, build_world, data_dir

__all__ = ["data_dir"]  # a fixture shared with the supervision tests

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
BOUNDARIES = SHARED_DATA / "boundaries" / "beijing_districts_cnmaps_wgs84.geojson"
TODAY = dt.date(2024, 6, 3)

# username -> (role, unit code); chaoyang / haidian / coord / leader come from the supervision world
CLUE_ACCOUNTS = {
    "ghzrzyw": ("unit", "ghzrzyw"),  # 市规划自然资源委: verifies red-line and mining clues
    "mentougou": ("unit", "110109"),  # 门头沟区政府
}


@pytest.fixture(scope="session")
def districts() -> Districts:
    """The 16 districts from ../shared/data/boundaries (WGS84), not from cnmaps."""
    frame = gpd.read_file(BOUNDARIES)
    code = next(c for c in ("adcode", "code", "region_code") if c in frame.columns)
    name = next(c for c in ("name", "region_name") if c in frame.columns)
    layer = build_layer("district", [str(c) for c in frame[code]], [str(n) for n in frame[name]],
                        np.asarray(frame.geometry.values))  # fmt: skip
    city = build_layer("city", ["110000"], ["北京市"],
                       np.asarray([shapely.union_all(layer.geometries)], dtype=object))  # fmt: skip
    return Districts.of(city, layer)


@pytest.fixture
def cworld(engine: Engine, data_dir: Path) -> World:
    world = build_world(engine)
    with db.session_scope(engine) as session:
        for username, (role, unit) in CLUE_ACCOUNTS.items():
            create_account(session, username=username, password="correct-horse-9", role=role,
                           unit_code=unit, actor="test")  # fmt: skip
    return world


def account(session: Any, username: str) -> Account:
    return account_by_username(session, username)


def geojson_file(
    path: Path, features: list[tuple[str, Any, dict[str, Any]]], crs: str = "EPSG:4326"
) -> Path:
    """Write (code, shapely geometry, properties) features as GeoJSON with a declared CRS."""
    frame = gpd.GeoDataFrame(
        [{"线索编号": code, **props} for code, _, props in features],
        geometry=[g for _, g, _ in features], crs=crs,
    )  # fmt: skip
    frame.to_file(path, driver="GeoJSON")
    return path


def square(lon: float, lat: float, half_deg: float = 0.001) -> shapely.Polygon:
    return shapely.box(lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
