"""Invasive-species pages through the app (SQLite and PostgreSQL): 市园林绿化局 imports its sites
and records, the alerts reach it and the district, it handles one and records a control action;
the 京津冀 exchange file goes out and a Hebei file comes in; an introduction application goes
through its steps with a stale version refused; refusals change nothing.

The clock is the web fixtures' demo date, 2024-07-10. Places (cnmaps district outlines, as in
tests/monitoring/invasive_fixtures.py): (116.10, 39.94) is in 门头沟区, (116.22, 40.05) in 海淀区.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoplan import audit
from ecoplan.db import session_scope
from ecoplan.monitoring.invasive import import_records, import_sites, sync_species
from ecoplan.monitoring.invasive_models import (
    ControlAction,
    IntroductionApplication,
    InvasiveAlert,
    InvasiveRecord,
    InvasiveSite,
)

from ..supervision.conftest import World
from .conftest import csrf_of

Login = Callable[[str], TestClient]
PINE, MOTH = (
    "bursaphelenchus_xylophilus",
    "hyphantria_cunea",
)  # 松材线虫, 美国白蛾: both 市园林绿化局's
SITES = (
    "监测点编号,名称,物种,类型,经度,纬度\n"
    "MTG-1,门头沟松林样地,松材线虫,样地,116.10,39.94\n"
    "HD-T1,海淀美国白蛾诱捕器,美国白蛾,诱捕器,116.22,40.05\n"
)
RECORDS = (
    "记录编号,物种,监测方法,日期,数值,诱捕天数,监测点编号\n"
    "p1,松材线虫,取样镜检,2024-06-01,阳性,,MTG-1\n"  # quarantine + first in 门头沟区: 2 alerts
    "p2,松材线虫,取样镜检,2024-06-02,0,,MTG-1\n"  # negative
    "w1,美国白蛾,性诱捕器诱捕,2024-06-01,0,7,HD-T1\n"  # negative, 7 trap-days
    "w2,美国白蛾,性诱捕器诱捕,2024-06-08,42,,HD-T1\n"  # 42 ÷ 7 days = 6/day > 5, first in 海淀区: 2
    "w3,美国白蛾,性诱捕器诱捕,2024-06-15,14,,HD-T1\n"  # 14 ÷ 7 = 2/day: no alert
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _species(world: World) -> None:
    with session_scope(world.engine) as session:
        sync_species(session, actor="test")


def _monitoring(world: World) -> None:
    """The species, SITES and RECORDS stored through the domain (the pages are tested in the
    first test)."""
    _species(world)
    with tempfile.TemporaryDirectory() as tmp, session_scope(world.engine) as session:
        (Path(tmp) / "sites.csv").write_text(SITES, encoding="utf-8")
        (Path(tmp) / "records.csv").write_text(RECORDS, encoding="utf-8")
        import_sites(session, Path(tmp) / "sites.csv", actor="test")
        import_records(session, Path(tmp) / "records.csv", actor="test")


def _counts(world: World) -> tuple[int, ...]:
    tables = (InvasiveSite, InvasiveRecord, InvasiveAlert, ControlAction, audit.AuditEntry)
    with session_scope(world.engine) as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


def _upload(client: TestClient, url: str, name: str, data: bytes, **fields: str) -> Any:
    form = {"csrf": csrf_of(client, "/invasive"), "year": "2024", **fields}
    return client.post(url, data=form, files={"file": (name, data, "text/csv")})


def _figure(html: str, element_id: str) -> dict[str, Any]:
    match = re.search(rf"id=\"{element_id}\" data-figure='([^']*)'", html)
    assert match, element_id
    return dict(json.loads(match[1]))


def _points(html: str, name: str) -> list[tuple[float, float]]:
    traces = [t for t in _figure(html, "occurrence-map")["data"] if t.get("name") == name]
    return [(lon, lat) for t in traces for lon, lat in zip(t["lon"], t["lat"], strict=True)]


def test_unit_imports_alerts_fire_and_are_handled(world: World, login: Login) -> None:
    _species(world)
    ylljj = login("ylljj")
    assert 'action="/invasive/records/import"' in ylljj.get("/invasive").text  # a species' unit
    sites = _upload(ylljj, "/invasive/sites/import", "sites.csv", SITES.encode("utf-8"))
    assert sites.status_code == 303 and "已登记 2 个监测点" in unquote(sites.headers["location"])
    records = _upload(ylljj, "/invasive/records/import", "records.csv", RECORDS.encode("gbk"),
                      species=PINE)  # fmt: skip
    assert records.status_code == 303, records.text
    location = unquote(records.headers["location"])
    # 5 rows; positives p1, w2, w3; alerts 2 (p1) + 2 (w2)
    assert location.startswith(f"/invasive?species={PINE}&year=2024")
    assert "已导入 5 条监测记录(阳性 3 条),新预警 4 条" in location

    page = ylljj.get(f"/invasive?species={PINE}&year=2024").text
    # 松材线虫: 1 site, 2 records, 1 positive, 2 alerts both open
    assert '<div class="num">1</div><div class="lbl">监测点(个)</div>' in page
    assert '<div class="num">2</div><div class="lbl">预警(条,待处理 2)</div>' in page
    assert _points(page, "阳性") == [(116.10, 39.94)] and _points(page, "阴性") == [(116.10, 39.94)]
    assert page.count('action="/invasive/alerts/') == 4  # the unit of both species handles all
    moth = ylljj.get(f"/invasive?species={MOTH}&year=2024").text
    assert _points(moth, "阳性") == [(116.22, 40.05)] * 2  # w2, w3
    # HD-T1's daily catch: w1 0 ÷ 7 trap-days = 0, w2 42 ÷ 7 = 6, w3 14 ÷ 7 = 2
    assert _figure(moth, "phenology-chart")["data"][0]["y"] == [0.0, 6.0, 2.0]
    # 始见期 and peak on 06-08 at 6/day; total 0 + 42 + 14 = 56
    assert (
        '<td>2024-06-08</td><td>2024-06-08</td><td class="num">6</td><td class="num">56</td>'
        in moth
    )

    # 海淀区 sees the two alerts on its district's record (w2), not 门头沟区's 疫点
    haidian = login("haidian").get("/invasive?state=open").text
    assert haidian.count('action="/invasive/alerts/') == 2 and "疑似新疫点" not in haidian
    assert "没有可见的预警" in login("swj").get("/invasive").text

    with session_scope(world.engine) as session:
        alert_id = session.scalar(
            select(InvasiveAlert.id).where(InvasiveAlert.key.like("quarantine:%"))
        )
    handled = ylljj.post(f"/invasive/alerts/{alert_id}/handle", data={
        "csrf": csrf_of(ylljj, "/invasive"), "note": "复检确认,疫木已伐除", "species": PINE, "year": "2024"})  # fmt: skip
    assert handled.status_code == 303 and "已标记为已处理" in unquote(handled.headers["location"])
    done = ylljj.get(f"/invasive?species={PINE}&year=2024&state=handled").text
    assert "复检确认,疫木已伐除" in done and done.count('action="/invasive/alerts/') == 0

    control = ylljj.post("/invasive/controls", data={
        "csrf": csrf_of(ylljj, "/invasive"), "species": PINE, "year": "2024", "done_on": "2024-07-01",
        "method": "chemical", "area": "15", "area_unit": "亩", "site": "MTG-1", "detail": "伐除疫木并熏蒸"})  # fmt: skip
    assert control.status_code == 303, control.text
    # 15 亩 ÷ 15 亩/公顷 = 1 公顷
    assert "2024-07-01 15 亩,折合 1 公顷" in unquote(control.headers["location"])
    with session_scope(world.engine) as session:
        action = session.scalars(select(ControlAction)).one()
        assert (action.area_ha, action.district_name) == (1.0, "门头沟区")
        assert session.get(InvasiveAlert, alert_id).state == "handled"  # type: ignore[union-attr]
    after = ylljj.get(f"/invasive?species={PINE}&year=2024").text
    assert '<div class="num">1</div><div class="lbl">防治面积(公顷)</div>' in after
    assert '<div class="num">2</div><div class="lbl">预警(条,待处理 1)</div>' in after


def test_exchange_out_and_a_hebei_file_in(world: World, login: Login) -> None:
    _monitoring(world)
    coord, ylljj = login("coord"), login("ylljj")
    first = coord.get(f"/invasive/exchange.csv?species={MOTH}&year=2024")
    assert first.status_code == 200 and first.content.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    name = quote("京津冀交换_美国白蛾_2024.csv")
    assert first.headers["content-disposition"] == f"attachment; filename*=UTF-8''{name}"
    rows = list(csv.DictReader(io.StringIO(first.content.decode("utf-8-sig"))))
    assert [(r["record_id"], r["province"], r["site_code"], r["district_name"]) for r in rows] == [
        (f"w{i}", "北京", "HD-T1", "海淀区") for i in (1, 2, 3)]  # fmt: skip
    before = _counts(world)
    # Beijing's own file sent back as Hebei's: every row names another province, all refused
    refused = _upload(ylljj, "/invasive/exchange/import", "w.csv", first.content, province="河北")
    assert refused.status_code == 422 and "与本次导入的来源“河北”不符" in refused.text
    assert _counts(world) == before

    # what Hebei sends: the same layout, its IDs, a place in 保定 (inside the 京津冀 box)
    for r in rows:
        r |= {"record_id": f"HB-{r['record_id']}", "province": "河北", "lon": "115.48", "lat": "38.87",
              "district_code": "130600", "district_name": "保定市"}  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    hebei = _upload(ylljj, "/invasive/exchange/import", "hebei.csv", out.getvalue().encode("utf-8"),
                    province="河北", species=MOTH)  # fmt: skip
    assert hebei.status_code == 303, hebei.text
    # w2 (42) and w3 (14) are catches; partner records raise no Beijing alert
    assert "已导入河北交换记录 3 条(阳性 2 条),本市范围内新预警 0 条" in unquote(
        hebei.headers["location"]
    )
    sites, records, alerts, controls, _ = _counts(world)
    assert (sites, records, alerts, controls) == (before[0], before[1] + 3, before[2], before[3])
    with session_scope(world.engine) as session:
        stored = session.scalars(
            select(InvasiveRecord).where(InvasiveRecord.record_id == "HB-w2")
        ).one()
        # their trap code is not linked to our HD-T1: kept in the remarks
        assert (stored.province, stored.site_id, stored.remarks) == (
            "河北",
            None,
            "[对方监测点 HD-T1]",
        )
    page = coord.get(f"/invasive?species={MOTH}&year=2024").text
    assert _points(page, "阳性").count((115.48, 38.87)) == 2  # the joint map shows Hebei's finds
    # the export holds Beijing's records only: the same bytes as before the Hebei import
    assert coord.get(f"/invasive/exchange.csv?species={MOTH}&year=2024").content == first.content


def _version(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, "no step form on the page"
    return match[1]


def _step(client: TestClient, app_id: int, action: str, version: str | None = None,
          files: dict[str, Any] | None = None, **fields: str) -> Any:  # fmt: skip
    url = f"/invasive/applications/{app_id}"
    page = client.get(url).text
    data = {
        "csrf": csrf_of(client, url),
        "action": action,
        "version": version or _version(page),
        **fields,
    }
    return client.post(f"{url}/step", data=data, files=files)


def _state(world: World, app_id: int) -> tuple[str, int, int]:
    with session_scope(world.engine) as session:
        app = session.get(IntroductionApplication, app_id)
        assert app is not None
        return app.state, app.version, len(app.events)


def test_introduction_application_through_its_steps(world: World, login: Login) -> None:
    haidian, ylljj = login("haidian"), login("ylljj")
    created = haidian.post("/invasive/applications", data={
        "csrf": csrf_of(haidian, "/invasive/applications"), "applicant": "海淀某园林公司",
        "scientific_name": "Lantana camara", "name_cn": "马缨丹", "category": "林草", "purpose": "园林观赏",
        "origin_country": "美国", "quantity": "200 株", "destination": "海淀区某苗圃温室", "containment": "温室隔离"})  # fmt: skip
    assert created.status_code == 303, created.text
    location = unquote(created.headers["location"])
    assert "已创建引入申请 引〔2024〕1号(草稿)" in location
    app_id = int(location.split("?")[0].rsplit("/", 1)[1])

    assert "提交申请" in haidian.get(f"/invasive/applications/{app_id}").text
    submitted = _step(haidian, app_id, "submit")
    assert "提交申请: 申请 引〔2024〕1号 现为“已申请”" in unquote(submitted.headers["location"])
    reviewer_page = ylljj.get(f"/invasive/applications/{app_id}").text  # 林草: 市园林绿化局 reviews
    assert ">受理</button>" in reviewer_page and ">提交申请</button>" not in reviewer_page
    assert _step(ylljj, app_id, "accept").status_code == 303
    accepted = _state(world, app_id)
    # no earlier approved 马缨丹: a first introduction needs the report file
    assert "(首次引入,必传)" in ylljj.get(f"/invasive/applications/{app_id}").text
    missing = _step(ylljj, app_id, "assess", risk_level="中", risk_summary="逃逸风险可控")
    assert missing.status_code == 422 and "首次引入须上传风险评估报告" in missing.text
    assert _state(world, app_id) == accepted
    assessed = _step(ylljj, app_id, "assess", risk_level="中", risk_summary="逃逸风险可控",
                     files={"risk_report": ("评估报告.pdf", PDF, "application/pdf")})  # fmt: skip
    assert assessed.status_code == 303, assessed.text

    # a second reviewer's tab still holds the version before the assessment
    stale = _step(ylljj, app_id, "refuse", version=str(accepted[1]), note="风险过高")
    assert stale.status_code == 409 and "申请已被他人更新,请刷新后重试" in stale.text
    assert _state(world, app_id)[0] == "assessing"
    assessing = _state(world, app_id)
    approved = _step(
        ylljj, app_id, "approve", conditions="温室隔离,禁止露地种植", monitor_until="2025-07-10"
    )
    assert approved.status_code == 303 and _state(world, app_id)[0] == "approved"
    # create, submit, accept, assess, approve: 5 events; each step took one version
    assert _state(world, app_id)[1:] == (assessing[1] + 1, 5)

    page = haidian.get(f"/invasive/applications/{app_id}").text
    for label in (
        "创建申请",
        "提交申请",
        "受理",
        "风险评估",
        "批准引入",
        "逃逸风险可控(评估报告 评估报告.pdf)",
    ):
        assert label in page
    assert "跟踪监测报告" in page and ">批准引入</button>" not in page  # the applicant reports now
    report = haidian.get(f"/invasive/applications/{app_id}/risk-report")
    assert report.content == PDF and report.headers["content-type"] == "application/pdf"
    coord = login("coord")
    assert "引〔2024〕1号" in coord.get("/invasive/applications").text  # reads every application
    assert "/step" not in coord.get(f"/invasive/applications/{app_id}").text  # acts on none
    swj = login("swj")
    assert "引〔2024〕1号" not in swj.get("/invasive/applications").text
    assert swj.get(f"/invasive/applications/{app_id}").status_code == 404

    # no species synced in this world yet: the page says so, and only the admin may sync
    assert "尚未登记外来入侵物种" in swj.get("/invasive").text
    assert (
        swj.post("/invasive/species/sync", data={"csrf": csrf_of(swj, "/invasive")}).status_code
        == 403
    )
    admin = login("admin")
    synced = admin.post("/invasive/species/sync", data={"csrf": csrf_of(admin, "/invasive")})
    assert "新增 6 种,更新 0 种" in unquote(synced.headers["location"])  # the six of the plan
    assert '<option value="lithobates_catesbeianus"' in admin.get("/invasive").text


def test_refusals_change_nothing(world: World, login: Login) -> None:
    _monitoring(world)
    ylljj, chaoyang, leader, haidian, swj = (
        login(u) for u in ("ylljj", "chaoyang", "leader", "haidian", "swj")
    )
    # 海淀区 holds HD-T1 (a site's unit defaults to its district): it may import; 朝阳区 has none
    assert 'action="/invasive/records/import"' in haidian.get("/invasive").text
    assert 'action="/invasive/records/import"' not in chaoyang.get("/invasive").text
    with session_scope(world.engine) as session:
        alert_id = session.scalar(
            select(InvasiveAlert.id).where(InvasiveAlert.key.like("quarantine:%"))
        )
    before = _counts(world)

    assert (
        _upload(chaoyang, "/invasive/records/import", "r.csv", RECORDS.encode()).status_code == 403
    )
    assert _upload(swj, "/invasive/sites/import", "s.csv", SITES.encode()).status_code == 403
    exe = _upload(ylljj, "/invasive/records/import", "run.exe", b"MZ\x90\x00")
    assert exe.status_code == 422 and "只接受 CSV 或 XLSX" in exe.text
    broken = _upload(ylljj, "/invasive/records/import", "bad.xlsx", b"PK\x03\x04garbage")
    assert broken.status_code == 422 and "无法读取" in broken.text
    corrupt = (
        "记录编号,物种,监测方法,日期,数值,经度,纬度\n"
        "x1,红火蚁,目视调查,2024-06-01,1,116.22,40.05\n"  # not a watched species
        "x2,牛蛙,目视调查,2024-13-01,1,116.22,40.05\n"  # no 13th month
        "x3,牛蛙,目视调查,2024-06-01,1,40.05,116.22\n"  # lon and lat swapped
        "x4,牛蛙,目视调查,2024-06-01,2,116.22,40.05\n"
    )  # fine, but the file goes whole or not at all
    bad = _upload(ylljj, "/invasive/records/import", "bad.csv", corrupt.encode("utf-8"))
    assert bad.status_code == 422 and "3 处错误,未导入任何记录" in bad.text
    assert "红火蚁" in bad.text and "2024-13-01" in bad.text and "经纬度可能颠倒" in bad.text
    # 海淀区 may record its own site and its district, not 松材线虫 at 门头沟's MTG-1 (市园林绿化局's
    # species, a site of 门头沟区): the whole file is refused and the bad row named
    others = ("记录编号,物种,监测方法,日期,数值,诱捕天数,监测点编号\n"
              "h1,美国白蛾,性诱捕器诱捕,2024-06-22,0,7,HD-T1\n"
              "h2,松材线虫,取样镜检,2024-06-22,0,,MTG-1\n")  # fmt: skip
    scoped = _upload(haidian, "/invasive/records/import", "hd.csv", others.encode())
    assert (
        scoped.status_code == 422 and "第 3 行: 松材线虫在门头沟区的记录不属本单位" in scoped.text
    )
    assert "第 2 行" not in scoped.text
    province = _upload(ylljj, "/invasive/exchange/import", "x.csv", b"record_id\n", province="山东")
    assert province.status_code == 422 and "来源省份“山东”无法识别" in province.text

    def control(client: TestClient, **fields: str) -> Any:
        return client.post("/invasive/controls", data={
            "csrf": csrf_of(client, "/invasive"), "species": PINE, "done_on": "2024-07-01", "method": "物理",
            "area": "2", "area_unit": "公顷", "site": "MTG-1", **fields})  # fmt: skip

    assert control(leader).status_code == 403  # leaders read
    unit = control(ylljj, area_unit="平方米")
    assert unit.status_code == 422 and "面积单位“平方米”无法识别" in unit.text
    future = control(ylljj, done_on="2024-08-01")
    assert future.status_code == 422 and "晚于今天" in future.text

    def handle(client: TestClient, note: str = "已处置") -> Any:
        return client.post(f"/invasive/alerts/{alert_id}/handle",
                           data={"csrf": csrf_of(client, "/invasive"), "note": note})  # fmt: skip

    assert handle(chaoyang).status_code == 404  # not its district: the alert does not exist for it
    assert handle(leader).status_code == 403  # sees it, may not handle it
    assert 'action="/invasive/alerts/' not in leader.get("/invasive").text
    empty = handle(ylljj, note="  ")
    assert empty.status_code == 422 and "须填写处置情况" in empty.text
    token = csrf_of(leader, "/invasive")
    assert leader.post("/invasive/alerts/run", data={"csrf": token}).status_code == 403
    assert _counts(world) == before
    with session_scope(world.engine) as session:
        assert session.get(InvasiveAlert, alert_id).state == "open"  # type: ignore[union-attr]
    # the city office reruns the rules: every alert was raised already, nothing twice
    coord = login("coord")
    rerun = coord.post(
        "/invasive/alerts/run", data={"csrf": csrf_of(coord, "/invasive"), "year": "2024"}
    )
    assert rerun.status_code == 303 and "新预警 0 条" in unquote(rerun.headers["location"])
    assert _counts(world)[:4] == before[:4]
