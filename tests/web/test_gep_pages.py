"""GEP-R pages: run totals, district change, compensation with its docx, measure 12.x feed."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import select

from ecoplan.accounting.gep.compensation import CompensationConfig, store
from ecoplan.accounting.gep.pipeline import Accounting, account
from ecoplan.accounting.gep.runs import store_run
from ecoplan.db import session_scope
from ecoplan.plans.models import Measure

from ..gep.conftest import config, layers, write_world
from ..supervision.conftest import World


@pytest.fixture(scope="module")
def accountings(tmp_path_factory: pytest.TempPathFactory) -> list[Accounting]:
    folder = tmp_path_factory.mktemp("gepweb")
    paths = write_world(folder)
    return [
        account(config(folder, paths, year=year, output=folder / f"out{year}",
                       services=["water_conservation", "carbon_fixation"]), layers=layers())
        for year in (2023, 2024)
    ]  # fmt: skip


@pytest.fixture
def gep_world(world: World, accountings: list[Accounting]) -> World:
    with session_scope(world.engine) as session:
        ids = [store_run(session, a, title=f"{a.year}年核算", actor="test").id for a in accountings]
        plan = CompensationConfig(
            year=2024, title="2024年补偿测算", budget_yuan=1e7, run=ids[1], previous_run=ids[0],
            districts=["100001", "100002"], weights={"gep_level": 1.0},
        )  # fmt: skip
        store(session, plan, actor="test")
    return world


def test_run_page_shows_totals_change_and_compensation(
    gep_world: World, login: Callable[[str], TestClient]
) -> None:
    page = login("ylljj").get("/gep")
    assert page.status_code == 200
    text = page.text
    assert "第 2 次核算" in text and "水源涵养" in text and "固碳" in text
    assert "与第 1 次核算 2023 年相比" in text and "西区" in text
    assert "未与 DB11/T 2059-2022" in text  # unverified parameters are said so
    assert "2024年补偿测算" in text
    assert login("ylljj").get("/gep?run=99").status_code == 404


def test_compensation_docx_explains_each_share(
    gep_world: World, login: Callable[[str], TestClient]
) -> None:
    response = login("coord").get("/gep/compensations/1.docx")
    assert response.status_code == 200
    doc = Document(io.BytesIO(response.content))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "西区" in cells and "东区" in cells
    # the west district is all forest, the east mostly grass and urban: west gets more
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "分配公式" in text and "0.1000 亿元" in text


def test_pages_need_sign_in(gep_world: World, login: Callable[[str], TestClient]) -> None:
    anonymous = TestClient(login("coord").app)
    assert anonymous.get("/gep", follow_redirects=False).status_code in (303, 401)


def test_measures_12_show_gep_evidence(
    gep_world: World, login: Callable[[str], TestClient]
) -> None:
    with session_scope(gep_world.engine) as session:
        uids = {m.text[:12]: m.uid for m in session.scalars(select(Measure)) if "GEP-R" in m.text}
    assert len(uids) == 2
    client = login("sthjj")
    texts = [client.get(f"/measures/{uid}").text for uid in uids.values()]
    assert any("系统核算:2024 年 GEP-R" in t for t in texts)
    assert any("GEP-R 结果用于生态保护补偿" in t and "2024年补偿测算" in t for t in texts)


def test_api_lists_runs_with_components(
    gep_world: World, login: Callable[[str], TestClient]
) -> None:
    client = login("ylljj")
    assert [r["year"] for r in client.get("/api/v1/gep/runs").json()] == [2024, 2023]
    detail = client.get("/api/v1/gep/runs/2").json()
    west = next(
        r
        for r in detail["results"]
        if r["region_code"] == "100001" and r["service"] == "water_conservation"
    )
    # 148 × 300 forest pixels × 900 m² × 0.19202 m (see tests/gep/test_gep_run.py)
    assert west["quantity"] == pytest.approx(39_960_000 * 0.19202, rel=1e-6)
    assert west["components"][0]["price_unit"] == "元/m3" and west["verified"] is False
    assert client.get("/api/v1/gep/runs/99").status_code == 404
