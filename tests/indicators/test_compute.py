"""``ecoplan targets compute forest|wetland``: the coverage engines on the tiny layers of
test_coverage.py, stored as computed values of the 2024 plan's 森林覆盖率 and 湿地保护率 per
district and city (SQLite and PostgreSQL for the functions, SQLite for the commands).

The two districts of test_coverage.py get real district codes (东城区 110101, 海淀区 110108) so
that the registry knows them; the boxes stay where they are (the engines do not care).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import func, select

from ecoplan.db import session_scope
from ecoplan.errors import NotFoundError
from ecoplan.indicators.compute import compute_forest, compute_wetland
from ecoplan.indicators.models import IndicatorValue
from ecoplan.indicators.registry import get_indicator, sync_from_plan, values
from ecoplan.plans.models import Plan
from tests.conftest import run_cli

from ..supervision.conftest import World, data_dir, world
from .test_coverage import GRID, UTM, box, landcover_values, write_tif

__all__ = ["data_dir", "world"]
JULY = dt.date(2024, 7, 10)


def layers(folder: Path) -> dict[str, Path]:
    """Land cover, districts, wetlands and protected areas as files (GeoTIFF, GeoPackage)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "districts": gpd.GeoDataFrame({"code": ["110101", "110108"], "name": ["东城区", "海淀区"]},
                                      geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=UTM),
        "wetlands": gpd.GeoDataFrame({"类型": ["河流湿地", "湖泊湿地"]},
                                     geometry=[box(1, 1, 5, 3), box(12, 1, 14, 3)], crs=UTM),
        "protected": gpd.GeoDataFrame({"kind": ["自然保护区", "湿地公园", "森林公园", "湿地保护小区"]},
                                      geometry=[box(0, 0, 3, 4), box(2, 0, 4, 4), box(4, 0, 6, 4),
                                                box(13, 2, 20, 10)], crs=UTM),
    }  # fmt: skip
    out = {"landcover": write_tif(folder / "landcover.tif", landcover_values(), GRID, UTM)}
    for name, frame in frames.items():
        out[name] = folder / f"{name}.gpkg"
        frame.to_file(out[name], driver="GPKG")
    return out


def by_region(found: list[IndicatorValue]) -> dict[str, float]:
    return {v.region_code: round(v.value, 4) for v in found}


def test_computed_values_are_stored(world: World, tmp_path: Path) -> None:
    files = layers(tmp_path)
    with session_scope(world.engine) as session:
        with pytest.raises(NotFoundError, match="没有“forest_coverage”指标"):
            compute_forest(session, files["landcover"], mapping="esa-worldcover", year=2024,
                           actor="test", districts=files["districts"], today=JULY)  # fmt: skip
        assert session.scalar(select(func.count()).select_from(IndicatorValue)) == 0
        sync_from_plan(session, session.get_one(Plan, world.plan_id), "test")
        forest = compute_forest(session, files["landcover"], mapping="esa-worldcover", year=2024,
                                actor="test", districts=files["districts"], today=JULY)  # fmt: skip
        wetland = compute_wetland(session, files["wetlands"], files["protected"], kind_field="kind",
                                  class_field="类型", mapping="wetland-types", year=2024,
                                  actor="test", districts=files["districts"], today=JULY)  # fmt: skip
        # forest (test_coverage.py): 东城 37 / 100 px = 37 %, 海淀 50 / 100 = 50 %, city 87 / 200
        # = 43.5 %; wetland: 东城 6 of 8 px = 75 %, 海淀 1 of 4 = 25 %, city 7 / 12 = 58.33 %
        assert by_region(forest.values) == {"110101": 37.0, "110108": 50.0, "110000": 43.5}
        assert by_region(wetland.values) == {"110101": 75.0, "110108": 25.0, "110000": 58.3333}
        stored = values(session, get_indicator(session, "2024-forest_coverage"), region="110000")
        (city,) = stored
        assert city.origin == "computed" and city.source_sha256 == forest.frame.attrs["inputs"]["landcover"]["sha256"]  # fmt: skip
        assert "landcover.tif(SHA-256" in city.source and "esa-worldcover" in city.source
        assert "coverage@" in city.source and city.details["areas_km2"]["110101"]["forest_km2"] == pytest.approx(0.0333, rel=1e-3)  # fmt: skip
        (rate,) = values(
            session, get_indicator(session, "2024-wetland_protection"), region="110108"
        )
        assert "protected.gpkg" in rate.source and "保护形式字段 kind" in rate.source


def test_compute_commands(cli_home: Path, tmp_path: Path) -> None:
    from ecoplan.demo import sample_plan_path

    files = layers(tmp_path)
    run_cli("plan", "import", str(sample_plan_path()))
    run_cli("targets", "sync")
    out = run_cli("targets", "compute", "forest", str(files["landcover"]), "--mapping",
                  "esa-worldcover", "--year", "2024", "--districts", str(files["districts"]))  # fmt: skip
    assert "43.50" in out and "已记录 3 个数值" in out
    out = run_cli("targets", "compute", "wetland", str(files["wetlands"]), str(files["protected"]),
                  "--kind-field", "kind", "--year", "2024", "--districts", str(files["districts"]))  # fmt: skip
    # every wetland polygon counts (no class field): same as above
    assert "58.33" in out and "75.00" in out
    out = run_cli("targets", "list", "--year", "2024", "--today", "2024-07-10")
    assert "43.5%" in out
