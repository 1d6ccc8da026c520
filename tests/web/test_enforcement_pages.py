"""Enforcement pages, API, feed and CLI (measures 5.3 陆生 / 5.4 水生) through the app, on SQLite
and PostgreSQL: what readers and actors see, a case filed and walked to 结案 through the forms,
refusals that change nothing, the 台账 import and download, the JSON API and the evidence text.

The clock is the web fixtures' demo date, 2024-07-10, so every date below is in 2024.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from ecoplan import audit
from ecoplan.accounts.service import account_by_username, create_account
from ecoplan.cases import enforcement as enf
from ecoplan.cases import enforcement_cli
from ecoplan.cases.enforcement_cli import enforcement_app
from ecoplan.cases.enforcement_feed import providers
from ecoplan.cases.register_models import EnforcementCase, Inspection
from ecoplan.db import session_scope

from ..supervision.conftest import PASSWORD, World
from .conftest import csrf_of

Login = Callable[[str], TestClient]
YANQING = (115.85, 40.45)  # 野鸭湖 area, 延庆区
CHAOYANG = (116.39, 40.02)  # 奥林匹克森林公园, 朝阳区
MIYUN = (116.98, 40.50)  # 密云水库, 密云区
FORMS = ('action="/enforcement/cases"', 'action="/enforcement/advance"',
         'action="/enforcement/import"', 'action="/enforcement/inspections"')  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["案件编号", "领域(陆生/水生)", "案件类型", "案由", "立案日期", "经度", "纬度", "发现方式",
           "物种(名称×数量)", "阶段", "处罚金额(元)", "处罚决定", "决定日期", "结案日期", "移送公安"]  # fmt: skip


@pytest.fixture
def eworld(world: World) -> World:
    """The seeded world plus 市农业农村局 (5.4's lead unit)."""
    with session_scope(world.engine) as session:
        create_account(session, username="nyncj", password=PASSWORD, role="unit",
                       unit_code="nyncj", actor="test")  # fmt: skip
    return world


def seed_case(world: World, no: str = "LS-001", user: str = "ylljj", **fields: Any) -> int:
    """A case filed through the domain (not the page), returning its id."""
    values: dict[str, Any] = {"domain": "terrestrial", "case_type": "破坏野生动物资源",
                              "title": "非法猎捕野生鸟类", "filed_on": dt.date(2024, 3, 1),
                              "discovered_by": "patrol"}  # fmt: skip
    values.update(fields)
    with session_scope(world.engine) as session:
        case = enf.open_case(session, account_by_username(session, user), case_no=no, **values)
        return case.id


def seed_inspection(world: World, user: str = "ylljj", **fields: Any) -> None:
    values: dict[str, Any] = {"domain": "terrestrial", "venue": "某花鸟鱼虫市场",
                              "venue_type": "market", "inspected_on": dt.date(2024, 4, 1),
                              "items_checked": 10, "violations": 2}  # fmt: skip
    values.update(fields)
    with session_scope(world.engine) as session:
        enf.record_inspection(session, account_by_username(session, user), **values)


def the_case(world: World, case_id: int) -> EnforcementCase:
    with session_scope(world.engine) as session:
        case = session.get(EnforcementCase, case_id)
        assert case is not None
        session.expunge(case)
        return case


def count(world: World, model: type[Any] = EnforcementCase) -> int:
    with session_scope(world.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def post(client: TestClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """A form post carrying the session's CSRF token, as the page's forms do."""
    return client.post(path, data={**data, "csrf": csrf_of(client, "/enforcement")}, **kwargs)


def api(client: TestClient) -> dict[str, str]:
    """Headers for a cookie-authenticated API write."""
    return {"X-CSRF-Token": csrf_of(client, "/enforcement")}


def card(page: str, label: str) -> str:
    """The number on the stat card with this label."""
    match = re.search(
        r'<div class="num"[^>]*>([^<]*)</div><div class="lbl">' + re.escape(label), page
    )
    assert match, label
    return match[1]


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "执法案件"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- pages ------------------------------------------------------------------------------------------


def test_page_for_readers_and_actors(eworld: World, login: Login) -> None:
    case_id = seed_case(eworld, lon=YANQING[0], lat=YANQING[1],
                        species=[{"name": "鸳鸯", "quantity": 2}])  # fmt: skip
    seed_inspection(eworld)
    for reader in ("coord", "leader"):
        page = login(reader).get("/enforcement")
        assert page.status_code == 200
        html = page.text
        assert "LS-001" in html and "延庆区" in html and "鸳鸯×2 · 国家二级" in html
        assert not [f for f in FORMS if f in html], reader  # reads everything, acts on nothing
        assert 'href="/enforcement/ledger.xlsx?year=2024"' in html
        # one case filed 2024-03-01 with 鸳鸯 (国家二级); one inspection, 10 items, 2 violations
        assert card(html, "2024 年立案") == "1" and card(html, "现处立案") == "1"
        assert card(html, "涉国家二级保护物种") == "1" and card(html, "涉国家一级保护物种") == "0"
        assert card(html, "交易监督检查") == "1" and card(html, "检查发现问题") == "2"
    actor = login("ylljj").get("/enforcement").text
    assert all(f in actor for f in FORMS) and "LS-001" in actor
    assert "ledger.xlsx" not in actor  # the 台账 holds other units' cases too
    # 市农业农村局 files aquatic cases and records inspections, but sees none of ylljj's cases
    nyncj = login("nyncj").get("/enforcement").text
    assert "LS-001" not in nyncj and "共 0 件" in nyncj
    assert 'action="/enforcement/cases"' in nyncj and 'action="/enforcement/advance"' not in nyncj
    assert (
        '<select id="c-domain" name="domain"><option value="aquatic">水生(5.4)</option></select>'
        in nyncj
    )
    chaoyang = login("chaoyang").get("/enforcement").text
    assert "LS-001" not in chaoyang and not [f for f in FORMS if f in chaoyang]
    # the figures are the city's, whoever looks
    assert card(chaoyang, "2024 年立案") == "1"
    # one case: readers see it without forms, the unit that handles it gets the next step
    coord_case = login("coord").get(f"/enforcement/cases/{case_id}").text
    assert "Aix galericulata" in coord_case and "推进到" not in coord_case
    assert "推进到“调查”" in login("ylljj").get(f"/enforcement/cases/{case_id}").text
    assert login("chaoyang").get(f"/enforcement/cases/{case_id}").status_code == 403
    assert login("coord").get("/enforcement?year=1800").status_code == 422
    assert login("coord").get("/enforcement/cases/999999").status_code == 404


def test_file_and_advance_to_closed_through_the_forms(eworld: World, login: Login) -> None:
    ylljj = login("ylljj")
    filed = post(ylljj, "/enforcement/cases", {
        "case_no": "LS-2024-007", "domain": "terrestrial", "case_type": "非法收购/运输/出售野生动物及制品",
        "title": "网络平台出售鸳鸯、豹猫", "filed_on": "2024-05-06", "discovered_by": "inspection",
        "lon": str(YANQING[0]), "lat": str(YANQING[1]), "species": "鸳鸯×2、豹猫×1只、灰喜鹊×3",
        "clue_id": "",
    })  # fmt: skip
    assert filed.status_code == 303, filed.text
    location = filed.headers["location"]
    case_id = int(re.findall(r"/enforcement/cases/(\d+)", location)[0])
    page = ylljj.get(location).text
    # 灰喜鹊 is not on the sample protection list: kept, flagged for review
    assert "已立案 LS-2024-007" in page and "延庆区" in page and "灰喜鹊" in page
    assert "未列入名录" in page and "Prionailurus bengalensis" in page
    # 立案 → 调查 from the list page's form (it returns to the list)
    step = post(ylljj, "/enforcement/advance", {"case_id": case_id, "to_stage": "inquiry",
                                                "on": "2024-05-10", "back": "list"})  # fmt: skip
    assert step.status_code == 303 and step.headers["location"].startswith("/enforcement?year=2024")
    # 调查 → 处罚决定 with the decision, from the case page's form
    page = ylljj.get(f"/enforcement/cases/{case_id}").text
    assert "推进到“处罚决定”" in page and 'name="decision"' in page
    step = post(ylljj, "/enforcement/advance", {
        "case_id": case_id, "to_stage": "decided", "on": "2024-06-20",
        "decision": "没收鸳鸯 2 只、豹猫 1 只,罚款 12000.5 元", "penalty_yuan": "12000.5",
        "transferred": "1",
    })  # fmt: skip
    assert step.status_code == 303
    assert "处罚金额 12,000.50 元,已移送公安" in ylljj.get(step.headers["location"]).text
    step = post(ylljj, "/enforcement/advance", {"case_id": case_id, "to_stage": "closed",
                                                "on": "2024-07-01"})  # fmt: skip
    assert step.status_code == 303
    case = the_case(eworld, case_id)
    assert (case.stage, case.filed_on, case.decided_on, case.closed_on) == (
        "closed", dt.date(2024, 5, 6), dt.date(2024, 6, 20), dt.date(2024, 7, 1))  # fmt: skip
    assert case.penalty_yuan == 12000.5 and case.transferred and case.district_name == "延庆区"
    assert [s["level"] for s in case.species] == ["国家二级", "国家二级", "未列入名录"]
    with session_scope(eworld.engine) as session:
        actions = [e.action for e in audit.entries(session, entity_type="enforcement_case",
                                                   entity_id=str(case_id))]  # fmt: skip
    assert actions == ["enforcement_case.open"] + ["enforcement_case.advance"] * 3
    page = ylljj.get(f"/enforcement/cases/{case_id}").text
    assert (
        "12,000.50 元" in page
        and "2024-07-01" in page
        and 'action="/enforcement/advance"' not in page
    )
    # the figures follow: 1 case, closed, 12 000.50 yuan, 移送公安 1
    board = login("coord").get("/enforcement?year=2024").text
    assert card(board, "现处结案") == "1" and card(board, "年内结案") == "1"
    assert card(board, "处罚金额(元)") == "12,000" and card(board, "移送公安") == "1"


def test_refusals_change_nothing(eworld: World, login: Login) -> None:
    case_id = seed_case(eworld)
    form = {"case_no": "X-1", "domain": "terrestrial", "case_type": "破坏野生动物资源",
            "title": "案由", "filed_on": "2024-05-06", "discovered_by": "patrol"}  # fmt: skip
    refused = post(login("leader"), "/enforcement/cases", form)
    assert refused.status_code == 403 and "领导账号只能查看执法案件" in refused.text
    refused = post(login("chaoyang"), "/enforcement/cases", form)
    assert refused.status_code == 403 and "不是陆生野生动植物执法的承办单位" in refused.text
    refused = post(login("nyncj"), "/enforcement/cases", form)  # 5.4's unit, terrestrial case
    assert refused.status_code == 403
    step = {"case_id": case_id, "to_stage": "inquiry", "on": "2024-05-10"}
    refused = post(login("coord"), "/enforcement/advance", step)
    assert refused.status_code == 403 and "案件由承办单位办理" in refused.text
    refused = post(login("nyncj"), "/enforcement/advance", step)  # another unit's case
    assert refused.status_code == 403 and "由市园林绿化局承办" in refused.text
    refused = post(login("leader"), "/enforcement/inspections", {
        "domain": "terrestrial", "venue": "某市场", "venue_type": "market",
        "inspected_on": "2024-05-06", "items_checked": "3", "violations": "0"})  # fmt: skip
    assert refused.status_code == 403
    # the right unit, a wrong step: skipping 调查 is refused with the reason
    skipped = post(login("ylljj"), "/enforcement/advance", {**step, "to_stage": "closed"})
    assert skipped.status_code == 422 and "只能推进到调查" in skipped.text
    # a form without the session's CSRF token
    forged = login("ylljj").post("/enforcement/advance", data=step)
    assert forged.status_code == 403 and "CSRF" in forged.text
    # the API says the same in JSON
    leader = login("leader")
    body = {"case_no": "X-2", "domain": "terrestrial", "case_type": "破坏野生动物资源",
            "title": "案由", "filed_on": "2024-05-06", "discovered_by": "patrol"}  # fmt: skip
    answer = leader.post("/api/v1/enforcement/cases", json=body, headers=api(leader))
    assert answer.status_code == 403 and "领导账号" in answer.json()["detail"]
    nyncj = login("nyncj")
    answer = nyncj.post(f"/api/v1/enforcement/cases/{case_id}/stage",
                        json={"to_stage": "inquiry", "on": "2024-05-10"}, headers=api(nyncj))  # fmt: skip
    assert answer.status_code == 403
    # text PostgreSQL cannot store is bad input (422), never a driver error
    ylljj = login("ylljj")
    nul = ylljj.post(
        "/api/v1/enforcement/cases", json={**body, "case_no": "X\x003"}, headers=api(ylljj)
    )
    assert nul.status_code == 422 and "NUL" in str(nul.json()["rows"])
    assert post(ylljj, "/enforcement/cases", {**form, "title": "案\x00由"}).status_code == 422
    assert count(eworld) == 1 and count(eworld, Inspection) == 0
    assert the_case(eworld, case_id).stage == "filed"


def test_import_through_the_form(eworld: World, login: Login) -> None:
    nyncj = login("nyncj")
    good = workbook([
        ["SS-001", "水生", "非法引进/释放/丢弃外来物种", "水库放生外来龟类", "2024-02-03", MIYUN[0],
         MIYUN[1], "巡护", "", "立案", None, None, None, None, None],
        ["SS-002", "水生", "破坏野生动物资源", "电鱼误捕中华秋沙鸭", dt.date(2024, 3, 4), None, None,
         "举报", "中华秋沙鸭×1", "结案", 800, "罚款 800 元", "2024-03-20", "2024-04-01", "否"],
    ])  # fmt: skip
    done = post(nyncj, "/enforcement/import", {}, files={"file": ("台账.xlsx", good, XLSX)})
    assert done.status_code == 303, done.text
    assert "已导入 2 件执法案件" in nyncj.get(done.headers["location"]).text
    with session_scope(eworld.engine) as session:
        cases = {c.case_no: c for c in session.scalars(select(EnforcementCase))}
        assert cases["SS-001"].district_name == "密云区" and cases["SS-001"].stage == "filed"
        assert cases["SS-002"].stage == "closed" and cases["SS-002"].penalty_yuan == 800
        assert cases["SS-002"].species[0]["level"] == "国家一级"
    page = nyncj.get("/enforcement?year=2024").text
    assert "SS-001" in page and "SS-002" in page and card(page, "涉国家一级保护物种") == "1"
    # all or nothing: one good row, a repeated number and a date after today → nothing stored
    bad = workbook([
        ["SS-003", "水生", "破坏野生动物资源", "非法捕捞", "2024-05-01", None, None, "巡护", "", "立案",
         None, None, None, None, None],
        ["SS-001", "水生", "破坏野生动物资源", "重复编号", "2024-05-01", None, None, "巡护", "", "立案",
         None, None, None, None, None],
        ["SS-004", "水生", "破坏野生动物资源", "日期在今天之后", "2024-09-01", None, None, "巡护", "",
         "立案", None, None, None, None, None],
    ])  # fmt: skip
    refused = post(nyncj, "/enforcement/import", {}, files={"file": ("坏台账.xlsx", bad, XLSX)})
    assert refused.status_code == 422
    assert "第 3 行 案件编号: SS-001 已登记" in refused.text and "第 4 行 立案日期" in refused.text
    assert count(eworld) == 2
    not_xlsx = post(
        nyncj, "/enforcement/import", {}, files={"file": ("台账.csv", b"a,b", "text/csv")}
    )
    assert not_xlsx.status_code == 422 and "须为 .xlsx" in not_xlsx.text
    refused = post(login("chaoyang"), "/enforcement/import", {},
                   files={"file": ("台账.xlsx", good, XLSX)})  # fmt: skip
    assert refused.status_code == 403 and count(eworld) == 2


def test_ledger_download_reads_back(eworld: World, login: Login) -> None:
    seed_case(eworld, lon=CHAOYANG[0], lat=CHAOYANG[1], species=[{"name": "金雕", "quantity": 1}])
    seed_inspection(eworld, venue="某电商平台店铺", venue_type="online", items_checked=5,
                    violations=1)  # fmt: skip
    coord = login("coord")
    for path in ("/enforcement/ledger.xlsx?year=2024", "/api/v1/enforcement/ledger.xlsx?year=2024"):
        answer = coord.get(path)
        assert answer.status_code == 200 and answer.headers["content-type"] == XLSX
        assert "filename*=UTF-8''" in answer.headers["content-disposition"]
        book = load_workbook(io.BytesIO(answer.content))
        assert book.sheetnames == ["执法案件", "监督检查"]
        cases = list(book["执法案件"].iter_rows(values_only=True))
        header, row = cases[0], dict(zip(cases[0], cases[1], strict=True))
        assert len(cases) == 2 and header[:3] == ("案件编号", "领域(陆生/水生)", "案件类型")
        assert (row["案件编号"], row["领域(陆生/水生)"], row["阶段"], row["所在区"]) == (
            "LS-001", "陆生", "立案", "朝阳区")  # fmt: skip
        assert row["物种(名称×数量)"] == "金雕×1" and row["保护级别"] == "国家一级"
        assert row["承办单位"] == "市园林绿化局"
        checks = list(book["监督检查"].iter_rows(values_only=True))
        assert checks[1][3:7] == ("某电商平台店铺", "网络平台", 5, 1)
    empty = load_workbook(io.BytesIO(coord.get("/enforcement/ledger.xlsx?year=2023").content))
    assert empty["执法案件"].max_row == 1  # the header only
    for path in ("/enforcement/ledger.xlsx", "/api/v1/enforcement/ledger.xlsx"):
        assert login("ylljj").get(path).status_code == 403  # every unit's cases are in it


# --- API ----------------------------------------------------------------------------------------------


def test_api_lists_details_and_stats(eworld: World, login: Login) -> None:
    ylljj, nyncj, coord = login("ylljj"), login("nyncj"), login("coord")
    made = ylljj.post("/api/v1/enforcement/cases", headers=api(ylljj), json={
        "case_no": "LS-9", "domain": "陆生", "case_type": "破坏野生动物栖息地", "title": "毁坏鸟类繁殖地",
        "filed_on": "2024-04-02", "lon": CHAOYANG[0], "lat": CHAOYANG[1], "discovered_by": "巡护",
        "species": [{"name": "Bubo bubo", "quantity": 1}, {"name": "鸿雁", "quantity": 4, "unit": "只"}],
    })  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["domain"], body["district_name"], body["stage_label"], body["unit"]) == (
        "terrestrial", "朝阳区", "立案", "市园林绿化局")  # fmt: skip
    assert [(s["name"], s["level"]) for s in body["species"]] == [
        ("雕鸮", "国家二级"),
        ("鸿雁", "国家二级"),
    ]
    stepped = ylljj.post(f"/api/v1/enforcement/cases/{body['id']}/stage", headers=api(ylljj),
                         json={"to_stage": "decided", "on": "2024-05-01"})  # fmt: skip
    assert stepped.status_code == 422 and "只能推进到调查" in stepped.json()["detail"]
    stepped = ylljj.post(f"/api/v1/enforcement/cases/{body['id']}/stage", headers=api(ylljj),
                         json={"to_stage": "inquiry", "on": "2024-05-01"})  # fmt: skip
    assert (
        stepped.json()["stage"] == "inquiry" and stepped.json()["stage_entered_on"] == "2024-05-01"
    )
    aquatic = nyncj.post("/api/v1/enforcement/cases", headers=api(nyncj), json={
        "case_no": "SS-9", "domain": "aquatic", "case_type": "破坏野生动物资源", "title": "非法捕捞",
        "filed_on": "2024-06-01", "discovered_by": "report", "species": [{"name": "大鲵", "quantity": 2}],
    })  # fmt: skip
    assert aquatic.status_code == 201
    checked = ylljj.post("/api/v1/enforcement/inspections", headers=api(ylljj), json={
        "domain": "terrestrial", "venue": "某花鸟市场", "venue_type": "market",
        "inspected_on": "2024-06-15", "items_checked": 12, "violations": 3, "case_id": body["id"],
    })  # fmt: skip
    assert checked.status_code == 201 and checked.json()["unit"] == "市园林绿化局"
    bad = ylljj.post("/api/v1/enforcement/inspections", headers=api(ylljj), json={
        "domain": "terrestrial", "venue": "某市场", "venue_type": "market",
        "inspected_on": "2024-06-15", "items_checked": 2, "violations": 5,
    })  # fmt: skip
    assert bad.status_code == 422 and "多于检查项数" in bad.json()["detail"]

    def nos(client: TestClient, query: str = "") -> list[str]:
        answer = client.get(f"/api/v1/enforcement/cases{query}")
        assert answer.status_code == 200, answer.text
        return [c["case_no"] for c in answer.json()["items"]]

    assert nos(coord) == ["LS-9", "SS-9"] and nos(ylljj) == ["LS-9"] and nos(nyncj) == ["SS-9"]
    assert nos(coord, "?domain=aquatic") == ["SS-9"] and nos(coord, "?stage=调查") == ["LS-9"]
    assert (
        nos(coord, "?stage=filed&domain=水生&year=2024") == ["SS-9"]
        and nos(coord, "?year=2023") == []
    )
    wrong = coord.get("/api/v1/enforcement/cases?stage=审理")
    assert (
        wrong.status_code == 422 and "不是 立案/调查/处罚决定/结案 之一" in wrong.json()["detail"]
    )
    assert coord.get("/api/v1/enforcement/cases?domain=海洋").status_code == 422
    assert (
        coord.get(f"/api/v1/enforcement/cases/{body['id']}").json()["legal_basis"]
        == "《中华人民共和国野生动物保护法》"
    )
    assert nyncj.get(f"/api/v1/enforcement/cases/{body['id']}").status_code == 403
    stats = coord.get("/api/v1/enforcement/stats?year=2024").json()
    # LS-9 (调查, 雕鸮×1 + 鸿雁×4, both 国家二级) and SS-9 (立案, 大鲵×2, 国家二级)
    assert stats["cases"] == 2 and stats["by_domain"] == {"terrestrial": 1, "aquatic": 1}
    assert stats["by_stage"] == {"filed": 1, "inquiry": 1, "decided": 0, "closed": 0}
    assert stats["species"]["国家二级"] == {"cases": 2, "individuals": 7}  # 1 + 4 + 2
    assert stats["inspections"]["terrestrial"] == {"count": 1, "items": 12, "violations": 3}
    assert stats["measures"]["5.4"]["national_protected_cases"] == 1
    assert login("chaoyang").get("/api/v1/enforcement/stats").json()["year"] == 2024  # today's year
    assert coord.get("/api/v1/enforcement/stats?year=1800").status_code == 422
    # the API import takes the same file as the page's form
    answer = nyncj.post("/api/v1/enforcement/import", headers=api(nyncj), files={"file": (
        "../../台账.xlsx", workbook([["SS-10", "水生", "破坏野生动物资源", "非法捕捞", "2024-06-02", None,
                                     None, "巡护", "鲤鱼×5千克", "立案", None, None, None, None, None]]),
        XLSX)})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"count": 1, "case_nos": ["SS-10"], "unlisted_species": ["鲤鱼"]}


# --- evidence for 5.3 / 5.4 and the command line ----------------------------------------------------


def test_feed_providers_evidence(eworld: World, demo_clock: None) -> None:
    closed = seed_case(eworld, "LS-1", species=[{"name": "鸳鸯", "quantity": 2}])
    seed_case(eworld, "LS-2", case_type="破坏野生动物栖息地", species=[{"name": "金雕"}])
    with session_scope(eworld.engine) as session:
        ylljj = account_by_username(session, "ylljj")
        for stage, on, extra in (("inquiry", dt.date(2024, 3, 5), {}),
                                 ("decided", dt.date(2024, 4, 1), {"decision": "罚款", "penalty_yuan": 1500}),
                                 ("closed", dt.date(2024, 5, 1), {})):  # fmt: skip
            enf.advance_case(session, ylljj, closed, to_stage=stage, on=on, **extra)
    seed_inspection(eworld)
    seed_inspection(eworld, venue="某餐馆", venue_type="restaurant", items_checked=4, violations=0)
    found = providers()
    assert set(found) == {"enforcement:terrestrial", "enforcement:aquatic"}
    with session_scope(eworld.engine) as session:
        land = found["enforcement:terrestrial"](session)
        water = found["enforcement:aquatic"](session)
    assert water is None  # nothing recorded for 5.4 in 2024
    assert (
        land is not None and land.kind == "enforcement:terrestrial" and land.link == "/enforcement"
    )
    assert land.lines == [
        "2024 年陆生野生动植物执法: 立案 2 件,结案 1 件,移送公安 0 件,处罚金额 1,500.00 元",
        "涉及国家一级、二级保护野生动植物的案件 2 件",  # 鸳鸯 (二级) in LS-1, 金雕 (一级) in LS-2
        "陆生野生动物及制品交易监督检查 2 次,检查 14 项,发现问题 2 个",  # 10 + 4 items, 2 + 0
    ]
    rows = {r["case_type"]: r for r in land.table}
    assert len(rows) == len(enf.CASE_TYPES) and [k for k, _ in land.columns][:3] == [
        "case_type",
        "law",
        "cases",
    ]
    assert rows["破坏野生动物资源"] == {"case_type": "破坏野生动物资源", "law": "《中华人民共和国野生动物保护法》",
                                        "cases": 1, "closed": 1, "penalty_yuan": 1500.0}  # fmt: skip
    assert rows["破坏野生动物栖息地"]["cases"] == 1 and rows["侵占破坏种质资源"]["cases"] == 0


def test_cli(
    eworld: World, demo_clock: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enforcement_cli, "cli_engine", lambda: eworld.engine)
    runner = CliRunner()
    source = tmp_path / "台账.xlsx"
    source.write_bytes(workbook([
        ["SS-1", "水生", "破坏野生动物资源", "非法捕捞[夜间]", "2024-06-02", MIYUN[0], MIYUN[1], "巡护",
         "大鲵×1", "处罚决定", 300, "罚款 300 元", "2024-06-20", None, "否"],
    ]))  # fmt: skip
    refused = runner.invoke(enforcement_app, ["import", str(source), "--as", "coord"])
    assert refused.exit_code == 2 and count(eworld) == 0
    done = runner.invoke(enforcement_app, ["import", str(source), "--as", "nyncj"])
    assert done.exit_code == 0, done.output
    assert (
        "已导入 1 件执法案件(承办单位: 市农业农村局)" in done.output
        and "非法捕捞[夜间]" in done.output
    )
    stats = runner.invoke(enforcement_app, ["stats", "--year", "2024"])
    assert stats.exit_code == 0, stats.output
    assert "2024 年立案 1 件" in stats.output and "处罚金额 300.00 元" in stats.output
    assert "5.4 水生: 立案 1 件" in stats.output and "密云区: 1 件" in stats.output
    listed = runner.invoke(enforcement_app, ["list"])  # the demo clock's year, 2024
    assert listed.exit_code == 0 and "SS-1" in listed.output and "处罚决定" in listed.output
    assert (
        "2024 年执法案件 0 件" in runner.invoke(enforcement_app, ["list", "--as", "ylljj"]).output
    )
    out = tmp_path / "out.xlsx"
    assert runner.invoke(enforcement_app, ["ledger", str(out), "--year", "2024"]).exit_code == 0
    rows = list(load_workbook(out)["执法案件"].iter_rows(values_only=True))
    assert rows[1][0] == "SS-1" and len(rows) == 2
