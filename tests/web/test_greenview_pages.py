"""The 绿视率 page through the app (SQLite and PostgreSQL): 市园林绿化局 (lead of 14.1) uploads
the 2023 and 2024 surveys of tests/greenview/test_store.py (manifest + zip of images), the map
carries the points, the district table the paired change and verdict, the city verdict says
稳中有升 no; 市生态环境局 is refused with nothing written.

The verdict rule is the shipped one with ``min_points = 2`` (a method file given by
ECOPLAN_GREENVIEW_METHOD), so that four points are judged.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoplan.db import session_scope
from ecoplan.greenview.models import GreenViewSurvey
from ecoplan.indicators.models import IndicatorValue
from ecoplan.indicators.registry import sync_from_plan
from ecoplan.plans.models import Plan
from tests.greenview.synth import shipped_method_text
from tests.greenview.test_store import Y2023, Y2024, build

from ..supervision.conftest import World
from .conftest import csrf_of

Login = Callable[[str], TestClient]


def files(folder: Path, year: int, points: dict[str, tuple[tuple[float, float], int, int]]) -> dict[str, tuple[str, bytes, str]]:  # fmt: skip
    manifest = build(folder, year, points)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted((folder / "img").iterdir()):
            z.write(path, f"img/{path.name}")
    return {"manifest": ("manifest.csv", manifest.read_bytes(), "text/csv"),
            "images": ("images.zip", buffer.getvalue(), "application/zip")}  # fmt: skip


def counts(world: World) -> list[int]:
    with session_scope(world.engine) as session:
        return [int(session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (GreenViewSurvey, IndicatorValue)]  # fmt: skip


def test_upload_map_table_and_refusal(world: World, login: Login, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    method = tmp_path / "greenview.toml"
    method.write_text(shipped_method_text().replace("min_points = 30", "min_points = 2"), "utf-8")
    monkeypatch.setenv("ECOPLAN_GREENVIEW_METHOD", str(method))
    with session_scope(world.engine) as session:
        sync_from_plan(session, session.get_one(Plan, world.plan_id), "test")
    ylljj = login("ylljj")
    for year, points in ((2023, Y2023), (2024, Y2024)):
        sent = ylljj.post("/greenview/upload", files=files(tmp_path / str(year), year, points),
                          data={"csrf": csrf_of(ylljj), "year": str(year), "title": f"{year} 年调查"})  # fmt: skip
        assert sent.status_code == 303, sent.text
    page = ylljj.get("/greenview?year=2024").text
    figure = json.loads(html.unescape(page.split("data-figure='")[1].split("'")[0]))
    assert sorted(figure["data"][0]["customdata"]) == ["D1", "D2", "H1", "H2"]
    # 东城 (30 − 25 + 0) / 2 = +2.5 升, 海淀 (0 − 5) / 2 = −2.5 降, city 0 稳 (test_store.py)
    row = page[page.index('id="gv-110101"') :]
    assert "40.00" in row[: row.index("</tr>")] and "+2.50" in row and "<td>升</td>" in row
    row = page[page.index('id="gv-110108"') :]
    assert "<td>降</td>" in row[: row.index("</tr>")]
    assert "稳中有升: 否" in page and "海淀区: 降" in page
    assert ylljj.get("/greenview/surveys/2/images.csv").status_code == 200
    assert 'href="/greenview?year=2024"' in ylljj.get("/targets/2024-green_view").text

    before = counts(world)
    sthjj = login("sthjj")  # 市生态环境局 does not lead 14.1
    assert "登记调查" not in sthjj.get("/greenview").text
    refused = sthjj.post("/greenview/upload", files=files(tmp_path / "x", 2024, Y2024),
                         data={"csrf": csrf_of(sthjj), "year": "2024", "title": "x"})  # fmt: skip
    assert refused.status_code == 403 and "14.1" in refused.text
    assert counts(world) == before
