"""EI pages: results, region inputs, bulletin, publication by role, public page, measure feed."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient

from ecoplan.accounting.ei.pipeline import RunConfig, RunInputs, run_assessment
from ecoplan.db import session_scope

from ..accounting.conftest import record, write_table
from ..supervision.conftest import World
from .conftest import csrf_of


@pytest.fixture
def ei_world(world: World, tmp_path: Path) -> World:
    # 2023: NDVI 0.75 → EI 70.8; 2024: EI 69.3 (ΔEI −1.5) for 怀柔; city row with the same figures
    for year, ndvi in ((2023, 0.75), (2024, 0.7)):
        table = write_table(
            tmp_path / f"{year}.csv",
            [
                record("110000", "北京市", year, ndvi_mean=ndvi),
                record("110116", "怀柔区", year, ndvi_mean=ndvi),
            ],
        )
        config = RunConfig(year=year, title=f"{year}年评价", inputs=RunInputs(indicators=table))
        with session_scope(world.engine) as session:
            run_assessment(session, config, actor="test")
    return world


def test_results_page_and_region_inputs(
    ei_world: World, login: Callable[[str], TestClient]
) -> None:
    client = login("ylljj")  # any signed-in unit may read the results
    page = client.get("/ei")
    assert page.status_code == 200
    assert "2024年全市生态环境质量指数(EI)为 69.3" in page.text and "略微变差" in page.text
    assert "未达到" in page.text  # ΔEI −1.5 < −1: 稳中向好 not met
    assert "尚未与标准原文核对" in page.text
    region = client.get("/ei/runs/2/regions/110116")
    assert region.status_code == 200 and "ndvi_mean" in region.text and "0.7" in region.text
    assert client.get("/ei/runs/2/regions/999999").status_code == 404


def test_bulletin_docx(ei_world: World, login: Callable[[str], TestClient]) -> None:
    response = login("coord").get("/ei/runs/2/bulletin.docx")
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.content)).paragraphs)
    assert "2024年生态环境质量评价结果" in text and "69.3" in text and "HJ 192-2015" in text


def test_only_coordinator_or_admin_publishes(
    ei_world: World, login: Callable[[str], TestClient]
) -> None:
    unit = login("sthjj")
    denied = unit.post("/ei/runs/2/publish", data={"csrf": csrf_of(unit, "/ei")})
    assert denied.status_code == 403
    public = TestClient(login("coord").app)
    assert "暂无已发布" in public.get("/public/ei").text
    assert public.get("/public/ei/bulletin.docx").status_code == 404
    coord = login("coord")
    done = coord.post("/ei/runs/2/publish", data={"csrf": csrf_of(coord, "/ei")})
    assert done.status_code == 303
    shown = public.get("/public/ei").text
    assert "69.3" in shown and "/ei/runs/2/regions" not in shown  # no links into internal pages
    bulletin = public.get("/public/ei/bulletin.docx")
    assert bulletin.status_code == 200 and "69.3" in "".join(
        p.text for p in Document(io.BytesIO(bulletin.content)).paragraphs
    )
    again = coord.post("/ei/runs/2/publish", data={"csrf": csrf_of(coord, "/ei")})
    assert again.status_code == 409


def test_publish_needs_csrf(ei_world: World, login: Callable[[str], TestClient]) -> None:
    assert login("coord").post("/ei/runs/2/publish", data={}).status_code == 403


def test_measure_1_1_shows_the_computed_verdict(
    ei_world: World, login: Callable[[str], TestClient]
) -> None:
    page = login("sthjj").get("/measures/M001")
    assert "系统核算:2024 年 EI" in page.text and "未达成" in page.text


def test_api_lists_runs_and_details(ei_world: World, login: Callable[[str], TestClient]) -> None:
    client = login("ylljj")
    listed = client.get("/api/v1/ei/runs").json()
    assert [r["year"] for r in listed] == [2024, 2023]
    detail = client.get("/api/v1/ei/runs/2").json()
    huairou = next(r for r in detail["results"] if r["region_code"] == "110116")
    assert (huairou["ei"], huairou["delta"], huairou["change_grade"]) == (69.3, -1.5, "略微变差")
    assert (
        huairou["subindices"]["vegetation_cover"] == 84.8 and huairou["inputs"]["ndvi_mean"] == 0.7
    )
    assert client.get("/api/v1/ei/runs/99").status_code == 404


def test_pages_use_the_method_the_run_was_computed_with(
    world: World, login: Callable[[str], TestClient], tmp_path: Path
) -> None:
    from importlib import resources

    text = (
        resources.files("ecoplan.accounting.ei")
        .joinpath("methods/hj192-2015.toml")
        .read_text("utf-8")
    )
    text = text.replace('version = "2015"', 'version = "local"')
    text = text.replace("biological_abundance = 0.35", "biological_abundance = 0.30")
    text = text.replace("vegetation_cover = 0.25", "vegetation_cover = 0.30")
    method = tmp_path / "local.toml"
    method.write_text(text, encoding="utf-8")
    table = write_table(tmp_path / "t.csv", [record("110116", "怀柔区")])
    config = RunConfig(
        year=2024, title="本地方法", method=str(method), inputs=RunInputs(indicators=table)
    )
    with session_scope(world.engine) as session:
        run_id = run_assessment(session, config, actor="test").run.id
    page = login("coord").get(f"/ei/runs/{run_id}/regions/110116").text
    # the weights shown are the run's own (0.3 / 0.3), not HJ 192-2015's (0.35 / 0.25)
    assert '<td class="num">0.3</td>' in page and '<td class="num">0.35</td>' not in page
