"""A seeded world for the invasive-species tests: the built-in units, the six species of the
rule file, one account per role that matters, and helpers to write record sheets and reference
layers (SQLite and PostgreSQL through the ``engine`` fixture).

Places (checked against the cnmaps district outlines the code uses):
- YANQING (115.97, 40.46) is in 延庆区 (110119), HAIDIAN (116.22, 40.05) in 海淀区 (110108),
  MENTOUGOU (116.10, 39.94) in 门头沟区 (110109).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine

from ecoplan import db
from ecoplan.accounts.models import Account
from ecoplan.accounts.service import account_by_username, create_account
from ecoplan.config import get_settings
from ecoplan.monitoring.invasive import sync_species
from ecoplan.units.service import sync_builtin

TODAY = dt.date(2024, 7, 10)
YANQING = (115.97, 40.46)
HAIDIAN = (116.22, 40.05)
MENTOUGOU = (116.10, 39.94)
PASSWORD = "correct-horse-9"
# username -> (role, unit code)
ACCOUNTS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "coord": ("coordinator", None),
    "leader": ("leader", None),
    "nyncj": ("unit", "nyncj"),  # 市农业农村局: 苹果蠹蛾, 草地贪夜蛾, 福寿螺; reviews 农业/水产
    "ylljj": ("unit", "ylljj"),  # 市园林绿化局: 松材线虫, 美国白蛾, 牛蛙; reviews 林草
    "yanqing": ("unit", "110119"),  # 延庆区政府
    "haidian": ("unit", "110108"),  # 海淀区政府
    "swj": ("unit", "swj"),  # 市水务局: no part in any of this
}
HEADER = [
    "记录编号",
    "物种",
    "监测方法",
    "日期",
    "数值",
    "诱捕天数",
    "经度",
    "纬度",
    "乡镇",
    "监测点编号",
]


@pytest.fixture
def iworld(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Units, the six species and the ACCOUNTS; a private data dir (risk reports land there)."""
    monkeypatch.setenv("ECOPLAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("ECOPLAN_INVASIVE_RULES", raising=False)
    get_settings.cache_clear()
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        sync_species(session, actor="test")
        for username, (role, unit) in ACCOUNTS.items():
            create_account(session, username=username, password=PASSWORD, role=role, unit_code=unit,
                           actor="test")  # fmt: skip
    yield engine
    get_settings.cache_clear()


def account(session: Any, username: str) -> Account:
    return account_by_username(session, username)


def row(record_id: str, species: str, method: str, day: str, value: str, *, effort: str = "",
        at: tuple[float, float] | None = YANQING, township: str = "", site: str = "") -> list[str]:  # fmt: skip
    """A record row in HEADER's order; ``at=None`` leaves the position empty (a site's is used)."""
    lon, lat = (str(at[0]), str(at[1])) if at else ("", "")
    return [record_id, species, method, day, value, effort, lon, lat, township, site]


def sheet(
    path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows([header, *rows])
    return path


def layer_file(path: Path, features: list[tuple[str, str, shapely.Geometry]]) -> Path:
    """(code, name, polygon) features as a WGS84 GeoJSON file."""
    frame = gpd.GeoDataFrame(
        [{"code": code, "name": name} for code, name, _ in features],
        geometry=[g for _, _, g in features], crs="EPSG:4326",
    )  # fmt: skip
    frame.to_file(path, driver="GeoJSON")
    return path
