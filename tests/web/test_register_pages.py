"""Germplasm and station pages through the app (SQLite and PostgreSQL): a bureau imports its
accessions and reads its progress and the annual report; the coordinator registers the Miyun
station, imports a series with a spike, a missing value and a gap, judges the spike and exports
it; refusals (file type, corrupt files, roles, another unit's rows) change nothing.

The clock is the web fixtures' demo date, 2024-07-10.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoplan import audit
from ecoplan.db import session_scope
from ecoplan.monitoring.germplasm import seed_repositories
from ecoplan.monitoring.register_models import Accession, StationValue
from ecoplan.monitoring.stations import add_station, import_series
from ecoplan.units.models import Unit

from ..supervision.conftest import World
from .conftest import csrf_of

Login = Callable[[str], TestClient]
ACCESSIONS = (
    "种质编号,资源类别,中文名,材料类型,数量,采集日期,保存库\n"
    "LC-0001,林草,油松,种子,500,2024-03-05,GJLMK-1\n"
    "LC-0002,林草,侧柏,穗条,30,2024-05-12,GJLMK-1\n"
    "LC-0003,林草,元宝枫,种子,200,2024-06-20,GJLZJD-2\n"
    "NZ-0001,农作物,京西稻,种子,1000,2024-04-01,\n"
)
# hourly water temperature: a spike at 03:00, nothing from 06:00 to 08:00, no value at 10:00
SERIES = (
    "时间,水温(℃)\n"
    "2024-06-01 00:00,20.0\n2024-06-01 01:00,20.1\n2024-06-01 02:00,20.2\n"
    "2024-06-01 03:00,26.0\n2024-06-01 04:00,20.3\n2024-06-01 05:00,20.4\n"
    "2024-06-01 09:00,20.5\n2024-06-01 10:00,\n2024-06-01 11:00,20.6\n"
)
MIYUN = {"code": "MYSK", "name": "密云水库国家生态质量综合监测站", "kind": "综合监测站",
         "lon": "116.98", "lat": "40.50", "unit": "110118"}  # fmt: skip


def _post_file(client: TestClient, url: str, page: str, name: str, data: bytes,
               **fields: str) -> Any:  # fmt: skip
    return client.post(url, data={"csrf": csrf_of(client, page), **fields},
                       files={"file": (name, data, "text/csv")})  # fmt: skip


def _counts(world: World) -> list[int]:
    with session_scope(world.engine) as session:
        return [int(session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (Accession, StationValue, audit.AuditEntry)]  # fmt: skip


def _traces(page: str) -> set[str]:
    """Names of the traces of the page's chart."""
    start = page.index("data-figure='") + len("data-figure='")
    figure = json.loads(html.unescape(page[start : page.index("'", start)]))
    return {t.get("name", "") for t in figure["data"]}


def _row(page: str, marker: str) -> str:
    """The table row that starts at ``marker``."""
    rest = page[page.index(marker) :]
    return rest[: rest.index("</tr>")]


def test_bureau_imports_accessions_and_reads_progress_and_report(
    world: World, login: Login
) -> None:
    with session_scope(world.engine) as session:
        seed_repositories(session, actor="test")
    ylljj = login("ylljj")
    response = _post_file(ylljj, "/germplasm/import", "/germplasm", "a.csv", ACCESSIONS.encode())
    assert response.status_code == 303, response.text
    said = unquote(response.headers["location"])
    assert "已导入 4 份种质(林草 3 份、农作物 1 份)" in said and "物种名未匹配" in said
    with session_scope(world.engine) as session:  # rows naming no unit are the bureau's
        bureau = session.scalar(select(Unit.id).where(Unit.code == "ylljj"))
        assert {a.unit_id for a in session.scalars(select(Accession))} == {bureau}

    page = login("coord").get("/germplasm?year=2024").text
    # 林草 only: 3 of 600 → 3 / 600 = 0.5 %; the even pace by 10 July 2024 (day 192 of 366)
    # asks 600 × 192 / 366 = 314.75 → 315; the 农作物 accession does not count
    assert '<div class="num">3</div>' in page and "0.5%" in page and ">315<" in page
    assert "落后于进度" in page
    assert '<td>市园林绿化局</td><td class="num">3</td>' in page  # by unit, 0.5 % of target
    # cumulative by month: March 1, May 2, June 3, July 3; pace at 31 March: 600 × 91 / 366 = 149.2
    assert '<td>6 月</td><td class="num">1</td>\n  <td class="num">3</td>' in page
    assert '<td class="num">149.2</td>' in page
    assert page.count(">待核实</span>") == 5  # the five placeholder repositories
    assert "LC-0003" in page and "元宝枫" in page and 'id="progress-chart"' in page

    report = ylljj.get("/germplasm/report.docx?year=2024")
    assert report.status_code == 200
    assert "filename*=UTF-8''" in report.headers["content-disposition"]
    assert "种质资源保护年度报告" in unquote(report.headers["content-disposition"])
    text = "\n".join(p.text for p in Document(io.BytesIO(report.content)).paragraphs)
    assert "全市登记保存种质资源 4 份" in text
    assert "已完成 3 份,完成率 0.5%" in text and "应完成 315 份" in text


def test_coordinator_adds_station_judges_a_spike_and_exports(world: World, login: Login) -> None:
    coord = login("coord")
    added = coord.post("/stations", data={"csrf": csrf_of(coord, "/stations"), **MIYUN})
    assert added.status_code == 303 and added.headers["location"].startswith("/stations/MYSK")
    response = _post_file(coord, "/stations/MYSK/import", "/stations", "s.csv", SERIES.encode())
    assert response.status_code == 303, response.text
    said = unquote(response.headers["location"])
    assert "已导入 9 个值: 新增 9" in said and "缺测 1" in said and "水温 突变 1、缺测 1" in said
    listing = coord.get("/stations").text
    assert "密云水库国家生态质量综合监测站" in listing and "密云区政府" in listing
    assert '<td class="num">20.6</td>' in listing  # the latest value, 11:00

    with session_scope(world.engine) as session:
        spike_id = session.scalar(select(StationValue.id).where(StationValue.value == 26.0))
    url, marker = "/stations/MYSK?parameter=水温", f'<tr id="v{spike_id}">'
    page = coord.get(url).text
    spike = _row(page, marker)
    assert "2024-06-01 03:00" in spike and '<td class="num">26</td>' in spike
    assert "突变" in spike and "<b>无效</b>" in spike and "未判定" in spike
    assert "<td>2024-06-01 05:00</td><td>2024-06-01 09:00</td>" in page  # the gap
    assert '<td class="num">4.0</td><td class="num">3</td>' in page  # 4 h, 06–08 h missing
    # good values of the day: 20.0 … 20.4, 20.5, 20.6 (not the spike, not 10:00):
    # 142.1 / 7 = 20.30, 7 good of 9 rows
    assert '<td class="num">20.30</td>' in page
    assert '<td class="num">7</td><td class="num">9</td>' in page
    assert {"突变(SPIKE)", "缺测(MISSING)", "数据中断(GAP)"} <= _traces(page)
    judged = coord.post("/stations/MYSK/override", data={
        "csrf": csrf_of(coord, url), "value_id": str(spike_id), "verdict": "good",
        "note": "暴雨后入库水温实测突升", "parameter": "water_temp"})  # fmt: skip
    assert judged.status_code == 303 and "判定为有效" in unquote(judged.headers["location"])
    page = coord.get(url).text
    spike = _row(page, marker)
    assert "人工判定有效" in _traces(page) and "突变(SPIKE)" not in _traces(page)
    assert "<b>有效</b>(人工)" in spike and "coord · 暴雨后入库水温实测突升" in spike
    # the spike now counts: (142.1 + 26.0) / 8 = 21.0125 → 21.01, 8 good of 9
    assert '<td class="num">21.01</td>' in page
    assert '<td class="num">8</td><td class="num">9</td>' in page
    with session_scope(world.engine) as session:
        entries = audit.entries(session, entity_type="station_value", entity_id=str(spike_id))
        assert [(e.action, e.actor) for e in entries] == [("station.override", "user:coord")]
        assert entries[0].after["override"] == "good" and entries[0].context["value"] == 26.0

    export = coord.get("/stations/MYSK/export.csv?parameter=water_temp")
    assert export.status_code == 200
    assert "filename*=UTF-8''MYSK" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == 9
    row = next(r for r in rows if r["value"] == "26")
    judged_row = [row[k] for k in ("SPIKE", "override", "override_by", "override_note", "quality")]
    assert judged_row == ["1", "good", "user:coord", "暴雨后入库水温实测突升", "good"]


def test_refusals_change_nothing(world: World, login: Login, tmp_path: Path) -> None:
    with session_scope(world.engine) as session:
        add_station(session, actor="test", lon=116.98, lat=40.5, unit_code="110118",
                    **{k: MIYUN[k] for k in ("code", "name", "kind")})  # fmt: skip
        (tmp_path / "s.csv").write_text(SERIES, encoding="utf-8")
        import_series(session, tmp_path / "s.csv", station_code="MYSK", actor="test")
        spike_id = session.scalar(select(StationValue.id).where(StationValue.value == 26.0))
    ylljj, leader, haidian, coord = (login(u) for u in ("ylljj", "leader", "haidian", "coord"))
    before = _counts(world)

    def germplasm(client: TestClient, name: str, data: bytes) -> Any:
        return _post_file(client, "/germplasm/import", "/germplasm", name, data)

    wrong = germplasm(ylljj, "a.exe", b"MZ\x00\x00")
    assert wrong.status_code == 422 and "只接受 CSV 或 XLSX" in wrong.text
    corrupt = germplasm(ylljj, "a.xlsx", b"PK\x03\x04 not really a workbook")
    assert corrupt.status_code == 422 and "无法读取" in corrupt.text
    bad = germplasm(ylljj, "a.csv", (
        "种质编号,资源类别,中文名,材料类型,数量,采集日期,保存单位\n"
        "LC-0101,林草,油松,种子,500,2024-03-05,110108\n"  # 海淀区: a bureau imports for itself
        "LC-0102,林草,侧柏,穗条,30,2024-02-30,\n"  # no 30 February
    ).encode())  # fmt: skip
    assert bad.status_code == 422, bad.text
    assert "第 2 行: 单位“110108”不是本单位(市园林绿化局)" in bad.text
    assert "第 3 行: 采集日期“2024-02-30”无法识别" in bad.text
    assert germplasm(leader, "a.csv", ACCESSIONS.encode()).status_code == 403
    assert 'action="/germplasm/import"' not in leader.get("/germplasm").text

    # 海淀区 does not run the station; a leader reads only
    for client in (haidian, leader):
        token = csrf_of(client, "/stations")
        assert _post_file(client, "/stations/MYSK/import", "/stations", "s.csv",
                          SERIES.encode()).status_code == 403  # fmt: skip
        judged = client.post("/stations/MYSK/override", data={
            "csrf": token, "value_id": str(spike_id), "verdict": "good", "note": "x"})  # fmt: skip
        assert judged.status_code == 403
        added = client.post("/stations", data={"csrf": token, **MIYUN, "code": "X"})
        assert added.status_code == 403
    assert "/override" not in haidian.get("/stations/MYSK").text  # no verdict forms shown
    broken = _post_file(coord, "/stations/MYSK/import", "/stations", "s.csv",
                        "时间,水温(℃)\n2024-06-31 08:00,20\n2024-07-01 08:00,二十\n".encode())  # fmt: skip
    assert broken.status_code == 422
    assert "第 2 行: 时间“2024-06-31 08:00”无法识别" in broken.text
    assert "第 3 行: 值“二十”不是数字" in broken.text
    no_note = coord.post("/stations/MYSK/override", data={
        "csrf": csrf_of(coord, "/stations"), "value_id": str(spike_id), "verdict": "good"})  # fmt: skip
    assert no_note.status_code == 422 and "理由" in no_note.text
    assert _counts(world) == before  # no accession, value, verdict or audit entry written
    with session_scope(world.engine) as session:
        assert session.get(StationValue, spike_id).override is None  # type: ignore[union-attr]
