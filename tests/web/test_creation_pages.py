"""Demonstration creation pages through the app (SQLite and PostgreSQL): 市生态环境局 records
朝阳区's title; 朝阳区 reports a checklist value with an evidence file, imports its sheet (a bad
row refuses the file whole, named), files an annual project and its progress, writes and submits
a post-evaluation; 市生态环境局 reviews it; other districts see nothing of 朝阳区 and their writes
change nothing; the leader reads the whole city. The clock is the web fixtures' 2024-07-10."""

from __future__ import annotations

import html
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import func, select

from ecoplan import audit
from ecoplan.creation.models import ChecklistValue, CreationTask, PostEvaluation
from ecoplan.db import session_scope

from ..supervision.conftest import World
from .conftest import csrf_of

Login = Callable[[str], TestClient]
DISTRICT = "/creation/districts/110105"


def _counts(world: World) -> list[int]:
    with session_scope(world.engine) as session:
        return [int(session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (ChecklistValue, CreationTask, PostEvaluation, audit.AuditEntry)]  # fmt: skip


def _sheet(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [["指标编号", "数值", "来源"], *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _row(page: str, marker: str) -> str:
    rest = page[page.index(marker) :]
    return rest[: rest.index("</tr>")]


def test_district_reports_and_lead_unit_reviews(world: World, login: Login) -> None:
    sthjj, chaoyang, haidian = login("sthjj"), login("chaoyang"), login("haidian")
    done = sthjj.post(f"{DISTRICT}/title", data={"csrf": csrf_of(sthjj), "program": "demo_zone",
                                                  "year_awarded": "2020", "batch": "第四批"})  # fmt: skip
    assert done.status_code == 303, done.text

    # 朝阳区 sees its own row only, and the unverified thresholds are said so
    page = chaoyang.get("/creation?year=2024").text
    assert 'id="district-110105"' in page and 'id="district-110108"' not in page
    assert "未与生态环境部原文核对" in page and "示范区 2020" in page

    png = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 128, 0)).save(png, format="PNG")
    sent = chaoyang.post(f"{DISTRICT}/value", data={
        "csrf": csrf_of(chaoyang, DISTRICT), "year": "2024", "indicator": "D37", "value": "75",
        "source": "区财政局", "as_of": "2024-06-30", "evidence_text": "采购统计表"},
        files={"file": ("统计.png", png.getvalue(), "image/png")})  # fmt: skip
    assert sent.status_code == 303, sent.text
    page = chaoyang.get(f"{DISTRICT}?year=2024").text
    row = _row(page, 'id="ind-D37"')
    assert "未达标" in row and "75%" in row and "区财政局" in row and "统计.png" in row
    link = row.split('href="')[1].split('"')[0]
    assert chaoyang.get(link).content == png.getvalue()
    assert haidian.get(link).status_code == 404

    # the sheet with one bad row is refused whole; the good one goes in
    before = _counts(world)
    bad = chaoyang.post("/creation/import", data={"csrf": csrf_of(chaoyang), "district": "110105",
                                                  "year": "2024"},
                        files={"file": ("朝阳.xlsx", _sheet(["D01", "是", "文件"], ["D03", "很多", "考核"]),
                                        "application/octet-stream")})  # fmt: skip
    assert bad.status_code == 422 and "第 3 行" in html.unescape(bad.text)
    assert _counts(world) == before
    good = chaoyang.post("/creation/import", data={"csrf": csrf_of(chaoyang), "district": "110105",
                                                   "year": "2024"},
                         files={"file": ("朝阳.xlsx", _sheet(["D01", "是", "文件"], ["D03", 25, "考核"]),
                                         "application/octet-stream")})  # fmt: skip
    assert good.status_code == 303 and _counts(world)[0] == before[0] + 2

    # annual project and its progress
    sent = chaoyang.post(f"{DISTRICT}/tasks", data={
        "csrf": csrf_of(chaoyang), "program": "demo_zone", "year": "2024", "kind": "工程项目",
        "name": "温榆河湿地修复", "target": "修复 50 公顷", "due_on": "2024-06-30"})  # fmt: skip
    assert sent.status_code == 303, sent.text
    page = chaoyang.get(f"{DISTRICT}?year=2024").text
    assert "温榆河湿地修复" in page and "逾期" in page
    task_id = page.split('action="/creation/tasks/')[1].split("/")[0]
    sent = chaoyang.post(f"/creation/tasks/{task_id}/progress", data={
        "csrf": csrf_of(chaoyang), "state": "已完成", "note": "完工", "version": "1"})  # fmt: skip
    assert sent.status_code == 303

    # another district: nothing to see, nothing written
    before = _counts(world)
    assert haidian.get(DISTRICT).status_code == 404
    refused = haidian.post(f"{DISTRICT}/value", data={"csrf": csrf_of(haidian), "year": "2024",
                                                      "indicator": "D01", "value": "是", "source": "x"},
                           files={"file": ("x.png", png.getvalue(), "image/png")})  # fmt: skip
    assert refused.status_code == 404 and _counts(world) == before

    # post-evaluation: 朝阳区 writes and submits, 市生态环境局 reviews
    sent = chaoyang.post(f"{DISTRICT}/posteval", data={
        "csrf": csrf_of(chaoyang), "year": "2023", "program": "demo_zone",
        "problems": "数据来源不规范", "measures": "建立台账", "cases": "", "rectification": "整改中"})  # fmt: skip
    assert sent.status_code == 303, sent.text
    record = sent.headers["location"].split("#posteval-")[1]
    assert chaoyang.post(f"/creation/posteval/{record}/act", data={
        "csrf": csrf_of(chaoyang), "action": "review", "version": "1"}).status_code == 403  # fmt: skip
    assert chaoyang.post(f"/creation/posteval/{record}/act", data={
        "csrf": csrf_of(chaoyang), "action": "submit", "version": "1"}).status_code == 303  # fmt: skip
    page = sthjj.get(DISTRICT).text
    assert "已提交" in page and "审核通过" in page
    reviewed = sthjj.post(f"/creation/posteval/{record}/act", data={
        "csrf": csrf_of(sthjj), "action": "review", "note": "同意", "version": "2"})  # fmt: skip
    assert reviewed.status_code == 303
    page = chaoyang.get(DISTRICT).text
    assert "已审核" in page and "同意" in page and "更新整改情况" in page

    leader = login("leader")
    page = leader.get("/creation?year=2024").text
    assert page.count('id="district-') == 16 and 'action="' not in page.split("<h2>各区创建情况")[1]
