"""Clue pages and API through the app: lists per account, the clustered map layer, a step with
a photo uploaded as a form, photo download rights, the 台账, batch import rights and the
measure evidence (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from ecoplan.accounts.service import create_account
from ecoplan.cases import queries
from ecoplan.cases.batches import file_batch
from ecoplan.cases.importing import ClueRecords
from ecoplan.cases.models import Clue
from ecoplan.cases.photos import make_photo
from ecoplan.db import frozen_now, session_scope
from ecoplan.plans.models import Measure

from ..supervision.conftest import PASSWORD, World
from .conftest import csrf_of

CHAOYANG = [(116.52, 39.93), (116.53, 39.94), (116.50, 39.95)]
HAIDIAN = [(116.22, 40.05)]


@pytest.fixture
def clue_world(world: World) -> World:
    with session_scope(world.engine) as session:
        create_account(session, username="ghzrzyw", password=PASSWORD, role="unit", unit_code="ghzrzyw",
                       actor="test")  # fmt: skip
        points = CHAOYANG + HAIDIAN
        records = ClueRecords(
            [f"W-{i + 1}" for i in range(len(points))],
            np.asarray([shapely.box(x - 0.001, y - 0.001, x + 0.001, y + 0.001) for x, y in points], dtype=object),
            [{"activity_type": "housing", "source": "", "period": "2024Q2", "legal_basis": "", "note": ""}] * len(points),
            [{}] * len(points),
        )  # fmt: skip
        token = frozen_now.set(dt.datetime(2024, 7, 1, 2, tzinfo=dt.UTC))  # issued on 2024-07-01
        try:
            file_batch(session, records, kind="redline_activity", title="2024Q2 红线线索", actor="test",
                       source={}, today=dt.date(2024, 7, 1))  # fmt: skip
        finally:
            frozen_now.reset(token)
    return world


def clue_id(world: World, code: str) -> int:
    with session_scope(world.engine) as session:
        return int(session.scalar(select(Clue.id).where(Clue.code == code)) or 0)


def test_lists_follow_the_account(clue_world: World, login: Callable[[str], TestClient]) -> None:
    chaoyang, haidian = login("chaoyang"), login("haidian")
    page = chaoyang.get("/clues").text
    assert "W-1" in page and "W-4" not in page and "共 3 条" in page
    assert "W-4" in haidian.get("/clues").text and "W-1" not in haidian.get("/clues").text
    api = login("ghzrzyw").get("/api/v1/clues?limit=10").json()
    assert api["total"] == 4 and {c["state"] for c in api["items"]} == {"pending"}
    detail = chaoyang.get(f"/api/v1/clues/{clue_id(clue_world, 'W-1')}").json()
    assert detail["actions"] == ["start"] and detail["district_name"] == "朝阳区"
    assert haidian.get(f"/api/v1/clues/{clue_id(clue_world, 'W-1')}").status_code == 404


def test_map_layer_points_and_clusters(clue_world: World, login: Callable[[str], TestClient],
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    coord = login("coord")
    city = "115.4,39.4,117.5,41.1"
    points = coord.get(f"/api/v1/clues/map?bbox={city}").json()
    assert points["mode"] == "points" and points["count"] == 4
    monkeypatch.setattr(queries, "MAP_POINT_LIMIT", 1)
    clusters = coord.get(f"/api/v1/clues/map?bbox={city}").json()
    assert clusters["mode"] == "clusters"
    # 48 cells over 2.1° of longitude: cells of 0.04375°; the three 朝阳 squares (116.50–116.53 E,
    # 39.93–39.95 N) fall into one or two cells, 海淀 into another: counts add up to 4
    assert sum(c["count"] for c in clusters["clusters"]) == 4 and len(clusters["clusters"]) in (
        2,
        3,
    )
    assert sum(c["states"]["pending"] for c in clusters["clusters"]) == 4
    # a district sees its own clues only, on the map as in lists
    assert login("haidian").get(f"/api/v1/clues/map?bbox={city}").json()["count"] == 1
    assert coord.get("/api/v1/clues/map?bbox=117,40,116,41").status_code == 422


def test_step_with_photo_through_the_form(
    clue_world: World, login: Callable[[str], TestClient]
) -> None:
    chaoyang = login("chaoyang")
    cid = clue_id(clue_world, "W-1")
    token = csrf_of(chaoyang, f"/clues/{cid}")
    response = chaoyang.post(f"/clues/{cid}/step", data={"csrf": token, "action": "start"})
    assert (
        response.status_code == 303 and "核实中" in chaoyang.get(response.headers["location"]).text
    )
    taken = dt.datetime(2024, 7, 9, 1, 0, tzinfo=dt.UTC)  # the demo clock stands on 2024-07-10
    # 0.004° of latitude north of the centre ≈ 444 m, ≈ 333 m beyond the square's edge: flagged
    jpg = make_photo(116.52, 39.934, taken)
    response = chaoyang.post(f"/clues/{cid}/step", data={"csrf": token, "action": "confirm", "reason": "属实"},
                             files=[("photos", ("现场.jpg", jpg, "image/jpeg"))])  # fmt: skip
    assert response.status_code == 303, response.text[-3000:]
    page = chaoyang.get(response.headers["location"]).text
    assert "属实" in page and "拍摄位置距线索超过 300 米" in page
    detail = chaoyang.get(f"/api/v1/clues/{cid}").json()
    assert detail["state"] == "confirmed" and detail["photos"][0]["flags"] == ["far"]
    photo_id = detail["photos"][0]["id"]
    assert chaoyang.get(f"/api/v1/clue-photos/{photo_id}").content == jpg
    assert login("haidian").get(f"/api/v1/clue-photos/{photo_id}").status_code == 404
    # a step that is not this account's to take changes nothing
    verifier = login("ghzrzyw")
    refused = verifier.post(
        f"/clues/{cid}/step", data={"csrf": csrf_of(verifier, "/clues"), "action": "plan"}
    )
    assert refused.status_code == 403 and "无权" in refused.text
    assert chaoyang.get(f"/api/v1/clues/{cid}").json()["state"] == "confirmed"


def test_ledger_and_measure_evidence(clue_world: World, login: Callable[[str], TestClient]) -> None:
    leader = login("leader")
    response = leader.get("/clues/ledger.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("线索编号", "类型", "批次") and len(rows) == 1 + 4
    assert {r[5] for r in rows[1:]} == {"朝阳区", "海淀区"}
    own = load_workbook(io.BytesIO(login("chaoyang").get("/clues/ledger.xlsx").content)).active
    assert own.max_row == 1 + 3
    with session_scope(clue_world.engine) as session:
        measure = next(
            m for m in session.scalars(select(Measure)) if "生态保护红线人类活动问题线索" in m.text
        )
        uid = measure.uid
    page = leader.get(f"/measures/{uid}").text
    assert "系统记录:生态保护红线人类活动问题线索" in page and "共 4 条,已销号 0 条" in page


def test_batch_import_rights_and_errors(
    clue_world: World, login: Callable[[str], TestClient], tmp_path: Path
) -> None:
    geojson = json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
                          "features": [{"type": "Feature", "properties": {"线索编号": "U-1"},
                                        "geometry": shapely.geometry.mapping(shapely.Point(116.3, 40.0))}]})  # fmt: skip
    verifier = login("ghzrzyw")
    files = {"file": ("第三季度.geojson", geojson.encode(), "application/geo+json")}
    data = {"csrf": csrf_of(verifier, "/clues"), "kind": "mining", "title": "举报线索"}
    response = verifier.post("/clues/import", data=data, files=files)
    assert response.status_code == 303, response.text
    assert "已导入批次" in verifier.get(response.headers["location"]).text
    again = verifier.post("/clues/import", data=data, files=files)
    assert again.status_code == 422 and "该文件已作为批次" in again.text
    district = login("chaoyang")
    refused = district.post(
        "/clues/import", data={**data, "csrf": csrf_of(district, "/clues")}, files=files
    )
    assert refused.status_code == 403
    # 市生态环境局 issues ecological-land and reserve clues, not mining ones
    sthjj = login("sthjj")
    assert (
        sthjj.post(
            "/clues/import", data={**data, "csrf": csrf_of(sthjj, "/clues")}, files=files
        ).status_code
        == 403
    )


def _gpx(start: dt.datetime, marks: str = "") -> bytes:
    # a 1 km walk east along 40.05° N inside the test reserve (116.20–116.24 E), 10 points
    points = "".join(f'<trkpt lat="40.05" lon="{116.205 + 0.00117 * i:.5f}"><time>{start + dt.timedelta(minutes=3 * i):%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
                     for i in range(10))  # fmt: skip
    return (f'<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
            f'{marks}<trk><trkseg>{points}</trkseg></trk></gpx>').encode()  # fmt: skip


def test_patrol_upload_files_its_waypoints_as_clues(clue_world: World, login: Callable[[str], TestClient],
                                                   tmp_path: Path) -> None:  # fmt: skip
    from ecoplan.cases.layers import load_layer

    reserve = tmp_path / "reserve.geojson"
    reserve.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
        "features": [{"type": "Feature", "properties": {"code": "R-1", "name": "测试保护区", "功能区": "实验区"},
                      "geometry": shapely.geometry.mapping(shapely.box(116.20, 40.03, 116.24, 40.07))}]}), encoding="utf-8")  # fmt: skip
    with session_scope(clue_world.engine) as session:
        feature_id = (
            load_layer(session, reserve, kind="reserve", name="测试保护区", actor="test")
            .features[0]
            .id
        )
    haidian = login("haidian")
    mark = '<wpt lat="40.051" lon="116.21"><name>棚屋</name><desc>新建简易棚屋一处</desc></wpt>'
    files = {
        "file": (
            "6月巡查.gpx",
            _gpx(dt.datetime(2024, 6, 3, 1, 0, tzinfo=dt.UTC), mark),
            "application/gpx+xml",
        )
    }
    data = {"csrf": csrf_of(haidian, "/patrols"), "area": str(feature_id), "patroller": "王巡护"}
    response = haidian.post("/patrols/import", data=data, files=files)
    assert response.status_code == 303, response.text[-2000:]
    page = haidian.get(response.headers["location"]).text
    # 9 steps of 0.00117° of longitude at 40.05° N: 9 × 0.00117 × 111.32 km × cos 40.05° ≈ 0.90 km
    assert "航点记为巡查发现线索 1 条" in page and "0.90 km" in page
    # June (the only patrol) is 1 of the default 4 a month; the page is judged on 2024-07-10
    assert "1/4" in page
    clues = haidian.get("/api/v1/clues?kind=patrol_finding").json()
    assert clues["total"] == 1 and clues["items"][0]["district_name"] == "海淀区"
    assert (
        haidian.post("/patrols/import", data=data, files=files).status_code == 422
    )  # same file twice
    leader = login("leader")
    assert leader.post("/patrols/import", data={**data, "csrf": csrf_of(leader, "/patrols")},
                       files=files).status_code == 403  # fmt: skip
    assert "临时用地台账" in leader.get("/templand").text


def test_reference_layer_check_api(
    clue_world: World, login: Callable[[str], TestClient], tmp_path: Path
) -> None:
    from ecoplan.cases.layers import load_layer

    red = tmp_path / "red.geojson"
    red.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
        "features": [{"type": "Feature", "properties": {"code": "HX-1", "name": "西山片区"},
                      "geometry": shapely.geometry.mapping(shapely.box(116.20, 40.03, 116.24, 40.07))}]}), encoding="utf-8")  # fmt: skip
    with session_scope(clue_world.engine) as session:
        load_layer(session, red, kind="redline", name="生态保护红线", actor="test")
    client = login("haidian")
    assert [layer["kind"] for layer in client.get("/api/v1/ref-layers").json()] == ["redline"]
    token = csrf_of(client, "/clues")
    # a 0.01° × 0.01° square straddling the layer's east edge at 116.24 E: half inside,
    # 0.005° × 111.32 km × cos 40.05° ≈ 426 m by 0.01° × 111.0 km ≈ 1 110 m ≈ 473 000 ㎡
    half = shapely.box(116.235, 40.045, 116.245, 40.055)
    touched = client.post("/api/v1/ref-layers/check", json={"geometry": shapely.geometry.mapping(half)},
                          headers={"X-CSRF-Token": token}).json()  # fmt: skip
    assert touched[0]["kind"] == "redline" and not touched[0]["inside"]
    assert touched[0]["overlap_m2"] == pytest.approx(473_000, rel=0.01)
    bad = client.post(
        "/api/v1/ref-layers/check",
        json={"geometry": {"type": "Polygon"}},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 422
