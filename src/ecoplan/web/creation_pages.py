"""Demonstration creation pages (task 13): the city overview (districts × titles × checklist
completeness × gaps × annual tasks × post-evaluations) and a district's page (both checklists
with verdict lights, evidence and the lineage of computed values; titles; annual tasks with
progress; post-evaluation records with their actions and history); the xlsx import.

Thin: forms go to ``ecoplan.creation``; who may write what is decided there and here only to
choose which forms to show. Every POST reads its form first and closes it before any refusal.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from ecoplan.accounts.models import Account
from ecoplan.api.uploads import required_upload, uploaded_file
from ecoplan.config import BEIJING_TZ, get_settings
from ecoplan.config import today as current_day
from ecoplan.creation import access, posteval, titles, values
from ecoplan.creation.checklist import LIGHTS
from ecoplan.creation.models import PROGRAM_SHORT, ChecklistValue
from ecoplan.creation.params import config
from ecoplan.creation.status import district_status, overview
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.web.auth import CurrentAccount, Db, Id, current_account
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]
LIGHT_COLORS = {"green": "var(--green)", "red": "var(--red)", "grey": "#8a99a8"}
STATE_COLORS = {"draft": "#8a99a8", "submitted": "#1c7ed6", "returned": "#e0a800",
                "reviewed": "#2e9e5b", "closed": "#555"}  # fmt: skip


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _date(text: str, what: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{what}“{text}”格式应为 YYYY-MM-DD") from None


def _int(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValidationError(f"{what}“{text}”应为整数")
    return int(text)


def _version(form: FormData) -> int | None:
    text = _text(form, "version")
    return int(text) if text.isdigit() else None


def _back(url: str, message: str, anchor: str = "") -> Response:
    """``back`` with an anchor after the message (a fragment must end the URL)."""
    response = back(url, message)
    if anchor:
        response.headers["location"] += f"#{anchor}"
    return response


def _district(session: Db, account: Account, code: str) -> tuple[str, str]:
    names = access.districts(session)
    if code not in names:
        raise NotFoundError(f"没有区划代码为 {code} 的区")
    access.check_view(session, account, code)
    return code, names[code]


# --------------------------------------------------------------------------- pages


@router.get("/creation", response_class=HTMLResponse)
def creation_page(request: Request, session: Db, account: CurrentAccount, year: Year = None,
                  msg: str = "") -> Response:  # fmt: skip
    today = current_day()
    year = year or today.year
    rows = overview(session, account, year, today)
    return render(request, "creation.html", {
        "year": year, "years": list(range(today.year, today.year - 5, -1)), "rows": rows,
        "cfg": config(), "SHORT": PROGRAM_SHORT, "STATES": posteval.STATES, "today": today,
        "STATE_COLORS": STATE_COLORS, "msg": msg,
        "titled": sum(bool(r.titles) for r in rows),
    })  # fmt: skip


@router.get("/creation/districts/{code}", response_class=HTMLResponse)
def district_page(request: Request, code: str, session: Db, account: CurrentAccount,
                  year: Year = None, msg: str = "") -> Response:  # fmt: skip
    code, name = _district(session, account, code)
    today = current_day()
    year = year or today.year
    s = district_status(session, code, name, year, today)
    evals: list[dict[str, Any]] = [
        {"p": p, "actions": posteval.allowed_actions(session, account, p),
         "history": posteval.history(session, p)}
        for p in s.post_evaluations
    ]  # fmt: skip
    own = access.own_district(session, account) == code
    return render(request, "creation_district.html", {
        "s": s, "year": year, "years": list(range(today.year, today.year - 5, -1)),
        "cfg": config(), "SHORT": PROGRAM_SHORT, "LIGHTS": LIGHTS, "LIGHT_COLORS": LIGHT_COLORS,
        "STATES": posteval.STATES, "STATE_COLORS": STATE_COLORS, "ACTIONS": posteval.ACTIONS,
        "RECTIFICATION": posteval.RECTIFICATION, "TASK_KINDS": titles.TASK_KINDS,
        "TASK_STATES": titles.TASK_STATES, "is_late": titles.is_late, "evals": evals,
        "may_values": access.may_write_values(session, account, code),
        "may_tasks": access.may_write_tasks(session, account, code),
        "may_titles": access.may_record_titles(session, account), "own": own,
        "editable": posteval.EDITABLE, "today": today, "tz8": BEIJING_TZ, "msg": msg,
    })  # fmt: skip


@router.get("/creation/values/{value_id}/evidence")
def evidence_file(value_id: Id, session: Db, account: CurrentAccount) -> FileResponse:
    row = session.get(ChecklistValue, value_id)
    if row is None or not access.may_view(session, account, row.district_code):
        raise NotFoundError(f"指标值 {value_id} 不存在")
    path, record = values.evidence_path(row)
    if not path.is_file():
        raise NotFoundError("佐证文件缺失")
    return FileResponse(path, media_type=record["mime"], filename=record["name"])


# --------------------------------------------------------------------------- writes


@router.post("/creation/districts/{code}/value")
async def value_form(request: Request, code: str, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        code, name = _district(session, account, code)
        upload = form.get("file")
        file = None
        if isinstance(upload, UploadFile) and upload.filename:
            # one byte over the limit is enough for the evidence check to refuse it
            data = await upload.read(get_settings().evidence_max_bytes + 1)
            file = values.EvidenceFile(data, upload.filename)
        year = _int(_text(form, "year"), "年度")
        row = values.record_value(
            session, account, district=code, code=_text(form, "indicator"),
            value=_text(form, "value"), previous=_text(form, "previous"),
            source=_text(form, "source"), year=year,
            as_of=_date(_text(form, "as_of"), "数值日期"),
            evidence_text=_text(form, "evidence_text"), file=file, today=current_day())  # fmt: skip
    finally:
        await form.close()
    return _back(f"/creation/districts/{code}?year={year}",
                 f"已记录{name} {row.indicator_code} {year} 年数值", f"ind-{row.indicator_code}")  # fmt: skip


@router.post("/creation/import")
async def import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        district = _text(form, "district")
        if district:
            code, _ = access.resolve_district(session, district)
            access.check_view(session, account, code)
        year_text = _text(form, "year")
        year = _int(year_text, "年度") if year_text else None
        upload = required_upload(form, "请选择创建指标表(XLSX)")
        async with uploaded_file(upload, (".xlsx",), "只接受 XLSX 文件") as path:
            result = values.import_checklist(session, path, account=account,
                                             district=district or None, year=year,
                                             today=current_day())  # fmt: skip
    finally:
        await form.close()
    where = f"/creation/districts/{code}" if district else "/creation"
    return back(f"{where}?year={year or current_day().year}",
                f"已导入 {len(result.values)} 个指标数值({'、'.join(result.districts)})")  # fmt: skip


@router.post("/creation/districts/{code}/title")
async def title_form(request: Request, code: str, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        code, name = _district(session, account, code)
        row = titles.record_title(session, account, district=code, program=_text(form, "program"),
                                  year_awarded=_int(_text(form, "year_awarded"), "命名年度"),
                                  batch=_text(form, "batch"), note=_text(form, "note"),
                                  today=current_day())  # fmt: skip
    finally:
        await form.close()
    return back(f"/creation/districts/{code}",
                f"已登记{name}{PROGRAM_SHORT[row.program]}称号({row.year_awarded} 年)")  # fmt: skip


@router.post("/creation/districts/{code}/tasks")
async def task_form(request: Request, code: str, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        code, _ = _district(session, account, code)
        year = _int(_text(form, "year"), "年度")
        task = titles.add_task(session, account, district=code, program=_text(form, "program"),
                               year=year, kind=_text(form, "kind"), name=_text(form, "name"),
                               target=_text(form, "target"),
                               due_on=_date(_text(form, "due_on"), "完成时限"),
                               today=current_day())  # fmt: skip
    finally:
        await form.close()
    return _back(
        f"/creation/districts/{code}?year={year}", f"已登记{task.kind}“{task.name}”", "tasks"
    )


@router.post("/creation/tasks/{task_id}/progress")
async def progress_form(request: Request, task_id: Id, session: Db,
                        account: CurrentAccount) -> Response:  # fmt: skip
    form = await request.form()
    try:
        task = titles.report_progress(session, account, task_id, state=_text(form, "state"),
                                      note=_text(form, "note"), expected_version=_version(form),
                                      today=current_day())  # fmt: skip
    finally:
        await form.close()
    return _back(f"/creation/districts/{task.district_code}?year={task.year}",
                 f"已报告“{task.name}”进展:{task.state}", "tasks")  # fmt: skip


@router.post("/creation/districts/{code}/posteval")
async def posteval_form(request: Request, code: str, session: Db,
                        account: CurrentAccount) -> Response:  # fmt: skip
    form = await request.form()
    try:
        code, _ = _district(session, account, code)
        row = posteval.create(session, account, district=code,
                              year=_int(_text(form, "year"), "评估年度"),
                              program=_text(form, "program"), problems=_text(form, "problems"),
                              measures=_text(form, "measures"), cases=_text(form, "cases"),
                              rectification=_text(form, "rectification") or "未整改")  # fmt: skip
    finally:
        await form.close()
    return _back(f"/creation/districts/{code}", f"已建立 {row.year} 年后评估记录(草稿)",
                 f"posteval-{row.id}")  # fmt: skip


@router.post("/creation/posteval/{record_id}/update")
async def posteval_update(request: Request, record_id: Id, session: Db,
                          account: CurrentAccount) -> Response:  # fmt: skip
    form = await request.form()
    try:

        def field(name: str) -> str | None:
            return _text(form, name) if name in form else None

        row = posteval.update(session, account, record_id, problems=field("problems"),
                              measures=field("measures"), cases=field("cases"),
                              rectification=field("rectification"),
                              expected_version=_version(form))  # fmt: skip
    finally:
        await form.close()
    return _back(
        f"/creation/districts/{row.district_code}", "已保存后评估记录", f"posteval-{row.id}"
    )


@router.post("/creation/posteval/{record_id}/act")
async def posteval_act(request: Request, record_id: Id, session: Db,
                       account: CurrentAccount) -> Response:  # fmt: skip
    form = await request.form()
    try:
        action = _text(form, "action")
        row = posteval.act(session, account, record_id, action, note=_text(form, "note"),
                           expected_version=_version(form))  # fmt: skip
    finally:
        await form.close()
    return _back(f"/creation/districts/{row.district_code}",
                 f"{row.district_name} {row.year} 年后评估:{posteval.ACTIONS[action].label},"
                 f"现为{posteval.STATES[row.state]}", f"posteval-{row.id}")  # fmt: skip
