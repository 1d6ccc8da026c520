"""Targets and projects pages through the app (SQLite and PostgreSQL): the coordinator generates
the indicators from the plan, the lead unit of 8.3 reports 森林覆盖率 and everyone reads the
status and its lineage; 市园林绿化局 imports its projects, moves one to 验收 and adds a photo,
and the new green space appears on the targets page with the projects it came from; refusals
(another unit's project, a unit that does not lead the measure, a bad file) change nothing.

The clock is the web fixtures' demo date, 2024-07-10.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable
from urllib.parse import unquote

import geopandas as gpd
import shapely
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import CRS
from sqlalchemy import func, select

from ecoplan import audit
from ecoplan.db import session_scope
from ecoplan.indicators.models import IndicatorValue, Project

from ..supervision.conftest import World
from .conftest import csrf_of

Login = Callable[[str], TestClient]
# equal-area CRS centred in 朝阳区: a 100 m square is 1 公顷
LOCAL = CRS.from_proj4("+proj=laea +lat_0=39.95 +lon_0=116.48 +ellps=WGS84 +units=m +no_defs")


def _projects_file(*features: tuple[dict[str, str], shapely.Geometry]) -> bytes:
    frame = gpd.GeoDataFrame([f for f, _ in features], geometry=[g for _, g in features], crs=LOCAL)
    return frame.to_crs(4326).to_json().encode("utf-8")


def _counts(world: World) -> list[int]:
    with session_scope(world.engine) as session:
        return [int(session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Project, IndicatorValue, audit.AuditEntry)]  # fmt: skip


def _row(page: str, marker: str) -> str:
    rest = page[page.index(marker) :]
    return rest[: rest.index("</tr>")]


def test_targets_are_generated_reported_and_traced(world: World, login: Login) -> None:
    coord = login("coord")
    page = coord.get("/targets").text
    assert "2024 年尚未登记指标" in page
    done = coord.post("/targets/sync", data={"csrf": csrf_of(coord)})
    assert done.status_code == 303 and "新增 9 个" in unquote(done.headers["location"])
    page = coord.get("/targets?year=2024").text
    assert page.count('class="light status"') == 9 and "无数据" in page

    # 市园林绿化局 leads 8.3: it reports the city's 森林覆盖率
    ylljj = login("ylljj")
    sent = ylljj.post("/targets/value", data={
        "csrf": csrf_of(ylljj), "key": "2024-forest_coverage", "region": "110000", "value": "45.1",
        "unit": "", "as_of": "2024-06-30", "source": "2024年森林资源年度监测", "note": "初步结果"})  # fmt: skip
    assert sent.status_code == 303 and sent.headers["location"].startswith(
        "/targets/2024-forest_coverage"
    )
    row = _row(ylljj.get("/targets").text, 'id="row-2024-forest_coverage"')
    assert "45.1 %" in row and "已达成" in row and "市园林绿化局填报" in row

    # 市生态环境局 does not lead 8.3: refused, nothing written
    sthjj = login("sthjj")
    before = _counts(world)
    refused = sthjj.post("/targets/value", data={"csrf": csrf_of(sthjj), "key": "2024-forest_coverage",
                                                 "value": "50", "source": "x"})  # fmt: skip
    assert refused.status_code == 403 and "牵头单位" in refused.text
    assert _counts(world) == before

    leader = login("leader")
    lineage = leader.get("/targets/2024-forest_coverage").text
    assert "(乔木林地面积 + 竹林地面积 + 特灌林地面积) ÷ 土地总面积" in html.unescape(lineage)
    assert "★ 45.1 %" in lineage and "2024年森林资源年度监测" in lineage and "初步结果" in lineage
    assert 'action="/targets/value"' not in lineage  # a leader reads, does not report
    assert leader.get("/targets/2024-nothing").status_code == 404


def test_bureau_imports_projects_that_feed_the_targets(world: World, login: Login) -> None:
    coord = login("coord")
    coord.post("/targets/sync", data={"csrf": csrf_of(coord)})
    ylljj = login("ylljj")
    data = _projects_file(
        ({"项目编号": "YL-1", "项目名称": "温榆河公园二期", "项目类型": "公园", "阶段": "验收",
          "验收日期": "2024-05-20", "申报面积": "15", "面积单位": "亩"}, shapely.box(0, 0, 100, 100)),
        ({"项目编号": "YL-2", "项目名称": "朝来口袋公园", "项目类型": "口袋公园", "阶段": "建成",
          "建成日期": "2024-06-01"}, shapely.box(300, 0, 350, 50)),
    )  # fmt: skip
    sent = ylljj.post("/projects/import", data={"csrf": csrf_of(ylljj), "crs": ""},
                      files={"file": ("projects.geojson", data, "application/geo+json")})  # fmt: skip
    assert sent.status_code == 303, sent.text
    listing = ylljj.get("/projects?district=110105").text
    assert "温榆河公园二期" in listing and "15 亩" in listing and "= 1.0000 公顷" in listing
    start = listing.index("data-figure='") + len("data-figure='")
    figure = json.loads(html.unescape(listing[start : listing.index("'", start)]))
    assert {t["type"] for t in figure["data"]} == {"choroplethmap", "scattermap"}

    # 朝阳区 may not move 市园林绿化局's project; the bureau may
    chaoyang = login("chaoyang")
    before = _counts(world)
    refused = chaoyang.post("/projects/stage", data={"csrf": csrf_of(chaoyang), "code": "YL-2",
                                                     "stage": "验收", "on": "2024-07-05"})  # fmt: skip
    assert refused.status_code == 403 and _counts(world) == before
    moved = ylljj.post("/projects/stage", data={"csrf": csrf_of(ylljj), "code": "YL-2", "stage": "验收",
                                                "on": "2024-07-05", "back": "/projects"})  # fmt: skip
    assert moved.status_code == 303

    # 1 公顷 + 50 m × 50 m = 1.25 公顷 accepted in 2024 in 朝阳区
    lineage = ylljj.get("/targets/2024-new_green_space").text
    assert "★ 1.25 公顷" in lineage and "YL-1</a>" in lineage and "YL-2</a>" in lineage
    assert "朝阳区" in lineage

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 160, 60)).save(buffer, format="PNG")
    photo = ylljj.post("/projects/YL-1/photos", data={"csrf": csrf_of(ylljj)},
                       files={"file": ("site.png", buffer.getvalue(), "image/png")})  # fmt: skip
    assert photo.status_code == 303
    page = ylljj.get("/projects/YL-1").text
    assert "site.png" in page and "新增城市绿地" in page and "阶段" in page
    digest = page.split("/projects/YL-1/photos/")[1].split('"')[0]
    assert ylljj.get(f"/projects/YL-1/photos/{digest}").content == buffer.getvalue()

    # a file with one bad feature is refused whole, with the feature named
    before = _counts(world)
    bad = _projects_file(
        ({"项目编号": "YL-3", "项目名称": "x", "项目类型": "花园"}, shapely.box(0, 500, 10, 510))
    )
    refused = ylljj.post("/projects/import", data={"csrf": csrf_of(ylljj)},
                         files={"file": ("bad.geojson", bad, "application/geo+json")})  # fmt: skip
    assert refused.status_code == 422 and "第 1 个要素(YL-3)" in html.unescape(refused.text)
    assert _counts(world) == before
