"""Ecological-land change clues from two land-use maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ecoplan.accounting.ei.changes import find_changes, store_batch, to_geojson, write_xlsx
from ecoplan.accounting.ei.mapping import load_mapping
from ecoplan.cases.models import Clue, ClueBatch
from ecoplan.cli import app
from ecoplan.db import session_scope
from ecoplan.errors import ValidationError
from ecoplan.geo.crs import EQUAL_AREA
from ecoplan.geo.regions import beijing_layers
from ecoplan.units.service import sync_builtin

from ..geo.conftest import write_tif

# a 30 m grid whose top-left corner lies in 朝阳区 (equal-area projection metres)
GRID = Affine(30.0, 0.0, 965_800.0, 0.0, -30.0, 4_350_300.0)


@pytest.fixture
def two_maps(tmp_path: Path) -> tuple[Path, Path]:
    before = np.full((40, 40), 21, dtype=np.uint8)  # all 有林地
    after = before.copy()
    after[2:6, 2:7] = 51  # 4 × 5 pixels → 城镇: 20 × 900 m² = 18,000 m²
    after[30:32, 30:32] = 12  # 2 × 2 → 旱地: 3,600 m² (exactly the minimum mapping unit)
    after[20, 20] = 53  # one pixel: 900 m², below the unit
    after[10:12, 30:32] = 31  # forest → grass: ecological to ecological, not a clue
    before[35:38, 2:5] = 12  # was cropland already: 3 × 3 turned to built is not ecological loss
    after[35:38, 2:5] = 51
    # the first patch spans the block edge at column 4 when blocks are 4 pixels wide
    return (
        write_tif(tmp_path / "lu_2023.tif", before, GRID, EQUAL_AREA),
        write_tif(tmp_path / "lu_2024.tif", after, GRID, EQUAL_AREA),
    )


def test_patches_by_hand(two_maps: tuple[Path, Path], tmp_path: Path) -> None:
    _, districts = beijing_layers()
    for chunk in (0, 4):  # whole raster at once, and 4-pixel blocks that cut the patches
        patches = find_changes(*two_maps, load_mapping("cas25"), districts, year=2024, chunk=chunk)
        assert [round(p.area_m2) for p in patches] == [18_000, 3_600]
        assert [p.after_name for p in patches] == ["51 城镇建设用地", "12 旱地"]
        assert patches[0].before_name == "21 有林地" and patches[0].code == "EL2024-00001"
        assert patches[0].district_name == "朝阳区"
    geojson = to_geojson(patches)
    assert geojson["features"][0]["properties"]["area_m2"] == 18000.0
    write_xlsx(patches, tmp_path / "c.xlsx")
    from openpyxl import load_workbook

    assert load_workbook(tmp_path / "c.xlsx").active["B2"].value == "朝阳区"


def test_grids_must_match(two_maps: tuple[Path, Path], tmp_path: Path) -> None:
    other = write_tif(tmp_path / "other.tif", np.zeros((10, 10), np.uint8), GRID, EQUAL_AREA)
    with pytest.raises(ValidationError, match="网格不一致"):
        find_changes(two_maps[0], other, load_mapping("cas25"), beijing_layers()[1])


def test_stored_as_a_clue_batch(engine: Engine, two_maps: tuple[Path, Path]) -> None:
    patches = find_changes(*two_maps, load_mapping("cas25"), beijing_layers()[1], year=2024)
    with session_scope(engine) as session:
        sync_builtin(session, actor="t")  # the clue goes to its district government
        store_batch(
            session, patches, title="2024年生态用地变化线索", source={"test": True}, actor="t"
        )
    with session_scope(engine) as session:
        batch = session.scalars(select(ClueBatch)).one()
        clues = session.scalars(select(Clue).order_by(Clue.code)).all()
        assert batch.kind == "eco_land_change" and len(clues) == 2
        assert clues[0].state == "pending" and clues[0].area_km2 == pytest.approx(0.018)
        assert clues[0].geometry["type"] == "Polygon"
        assert clues[0].district_name == "朝阳区" and clues[0].unit_id is not None


def test_cli(two_maps: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "clues.geojson"
    result = CliRunner().invoke(
        app, ["ei", "changes", "--before", str(two_maps[0]), "--after", str(two_maps[1]), "--out", str(out),
              "--year", "2024", "--xlsx", str(tmp_path / "c.xlsx")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "找到 2 个变化图斑" in result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["features"]) == 2
