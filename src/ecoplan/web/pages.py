"""Pages of the web UI. Like the API, each handler calls the domain and renders the result;
a form that fails validation shows the domain's Chinese message and changes nothing."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.datastructures import FormData, UploadFile

from ecoplan import audit
from ecoplan.accounting.feed import evidence_for
from ecoplan.accounts import service as accounts
from ecoplan.accounts.models import Account
from ecoplan.config import get_settings, today
from ecoplan.errors import ValidationError
from ecoplan.plans.models import Measure, Plan
from ecoplan.plans.store import (
    current_revision,
    mark_reviewed,
    measures_by_uid,
    review_queue,
    revise,
)
from ecoplan.plans.unitcells import split_unit_cell
from ecoplan.supervision import (
    access,
    assign,
    closure,
    dashboard,
    ledger,
    publish,
    queries,
    reports,
    views,
)
from ecoplan.supervision.models import Closure, Report, SupervisionOrder
from ecoplan.supervision.periods import latest_due_period, periods
from ecoplan.supervision.reminders import run_reminders
from ecoplan.supervision.reports import ReportInput
from ecoplan.supervision.rollup import target_progress
from ecoplan.supervision.scoring import scoring_rules, unit_scores
from ecoplan.units.models import Unit
from ecoplan.units.service import directory
from ecoplan.web.auth import (
    COOKIE,
    MAX_ID,
    CurrentAccount,
    Db,
    Id,
    OptionalAccount,
    PlanQuery,
    Viewer,
    current_account,
)
from ecoplan.web.errors import status_of
from ecoplan.web.templating import render, templates

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "ecoplan_login_csrf"


def back(url: str, message: str = "") -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{sep}msg={quote(message)}" if message else url, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": next if next.startswith("/") else "/",
                                              "login_csrf": token})  # fmt: skip
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict",
                        secure=get_settings().secure_cookies)  # fmt: skip
    return response


@router.post("/login")
def login(request: Request, session: Db, username: Annotated[str, Form(max_length=60)],
          password: Annotated[str, Form(max_length=200)], csrf: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # fmt: skip
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf):
        return render(request, "login.html", {"error": "登录表单已过期,请重试", "next": next,
                                              "login_csrf": ""}, status=403)  # fmt: skip
    client = request.client.host if request.client else "unknown"
    try:
        account = accounts.authenticate(session, username, password, client)
    except accounts.LoginError as exc:
        session.commit()  # keep the failed attempt: it is what the rate limit counts
        return render(request, "login.html", {"error": str(exc), "next": next,
                                              "login_csrf": expected}, status=status_of(exc))  # fmt: skip
    token, _ = accounts.open_session(session, account)
    response = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/",
                                status_code=303)  # fmt: skip
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax",
                        secure=get_settings().secure_cookies, max_age=12 * 3600)  # fmt: skip
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout", dependencies=[Depends(current_account)])
def logout(request: Request, session: Db) -> Response:
    accounts.close_session(session, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _plan(session: Db, plan_id: int | None) -> Plan:
    return queries.plan_or_latest(session, plan_id)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: Db, account: CurrentAccount, plan: PlanQuery = None
) -> Response:
    the_plan = _plan(session, plan)

    def body() -> str:
        view = views.dashboard_view(session, account, the_plan)
        # read_all is part of the cache scope (views._scope), so the body may depend on it
        context = {"plan": the_plan, **view, "overdue": view["overdue"][:50],
                   "overdue_total": len(view["overdue"]),
                   "read_all": account.role in access.READ_ALL_ROLES}  # fmt: skip
        return templates.get_template("dashboard_body.html").render(context)

    html = views.cached(session, account, the_plan, "dashboard-html", body)
    return render(request, "dashboard.html", {"plan": the_plan, "body": html})


@router.get("/measures", response_class=HTMLResponse)
def measure_list(request: Request, session: Db, account: CurrentAccount, plan: PlanQuery = None,
                 light: str = "", q: str = "", unit: str = "") -> Response:  # fmt: skip
    the_plan = _plan(session, plan)
    rows = [
        row for row in views.measure_rows(session, account, the_plan)
        if (not light or row["light"] == light)
        and (not q or q in row["text"] or q in row["doc_id"])
        and (not unit or unit in row["units"])
    ]  # fmt: skip

    def table() -> str:
        return templates.get_template("measures_table.html").render({"rows": rows})

    filtered = bool(light or q or unit)
    html = table() if filtered else views.cached(session, account, the_plan, "measures-html", table)
    return render(request, "measures.html", {"plan": the_plan, "table": html, "light": light,
                                             "q": q, "unit": unit})  # fmt: skip


@router.get("/measures/{uid}", response_class=HTMLResponse)
def measure_page(request: Request, uid: str, session: Db, account: CurrentAccount,
                 plan: PlanQuery = None, period: str = "", msg: str = "") -> Response:  # fmt: skip
    the_plan = _plan(session, plan)
    measure = queries.measure_by_uid_for(session, account, the_plan, uid)
    board = queries.board_for(session, account, the_plan, only={measure.id})
    all_periods = periods(session, the_plan)
    chosen = next((p for p in all_periods if p.key == period), None) or board.due_period or (
        all_periods[0] if all_periods else None)  # fmt: skip
    role = access.report_role(account, measure)
    mine = None
    if role and chosen is not None and account.unit_id is not None:
        mine = reports.find_report(session, measure, account.unit_id, chosen)
    shares = board.shares_of(measure)  # each carries its closure: no second query
    my_closure = next((s.closure for s in shares if s.unit.id == account.unit_id), None)
    return render(request, "measure.html", {
        "plan": the_plan, "m": measure, "board": board, "shares": shares,
        "light": board.measure_light(measure), "periods": all_periods, "period": chosen,
        "role": role, "mine": mine, "my_closure": my_closure,
        "reports": queries.reports_for(session, account, measure, chosen),
        "targets": target_progress(session, [measure], chosen),
        "can_review": lambda r: access.can_review(account, r),
        "can_designate": access.can_designate(account, measure),
        "placeholder_roles": assign.placeholder_roles(measure),
        "is_coordinator": access.is_coordinator(account), "msg": msg,
        "computed": evidence_for(session, measure),
    })  # fmt: skip


def _progress_fields(form: Any, count: int) -> dict[str, float]:
    values: dict[str, float] = {}
    for index in range(count):
        raw = str(form.get(f"progress_{index}", "")).strip()
        if raw:
            try:
                values[str(index)] = float(raw)
            except ValueError as exc:
                raise ValidationError(f"第 {index + 1} 个目标的完成值“{raw}”不是数字") from exc
    return values


async def _attach_uploads(session: Db, account: Account, report: Report, form: FormData) -> int:
    """Attach every uploaded ``evidence`` file; reads at most limit + 1 bytes of each."""
    added = 0
    try:
        for upload in form.getlist("evidence"):
            if isinstance(upload, UploadFile) and upload.filename:
                payload = await upload.read(get_settings().evidence_max_bytes + 1)
                reports.attach_evidence(session, account, report, upload.filename, payload)
                added += 1
    finally:
        await form.close()  # spooled upload files are deleted now, not at garbage collection
    return added


@router.post("/measures/{uid}/report")
async def file_report(request: Request, uid: str, session: Db, account: CurrentAccount,
                      plan: PlanQuery = None) -> Response:  # fmt: skip
    form = await request.form()
    the_plan = _plan(session, plan)
    measure = queries.measure_by_uid_for(session, account, the_plan, uid)
    period = queries.period_by_key(session, the_plan, str(form.get("period", "")))
    version = str(form.get("version", "")).strip()
    data = ReportInput(status=str(form.get("status", "")), narrative=str(form.get("narrative", "")),
                       reasons=str(form.get("reasons", "")), remedy=str(form.get("remedy", "")),
                       progress=_progress_fields(form, len(measure.targets or [])))  # fmt: skip
    submit = form.get("action") == "submit"
    report = reports.save_report(session, account, measure, period, data, submit=submit,
                                 expected_version=int(version) if version.isdigit() else None)  # fmt: skip
    await _attach_uploads(session, account, report, form)
    done = "已提交,等待牵头单位审核" if submit else "已保存草稿"
    return back(f"/measures/{uid}?period={period.key}", done)


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, report_id: Id, session: Db, account: CurrentAccount,
                msg: str = "") -> Response:  # fmt: skip
    report = queries.report_for(session, account, report_id)
    history = audit.entries(session, entity_type="report", entity_id=str(report.id))
    return render(request, "report.html", {"r": report, "history": history, "msg": msg,
                                           "can_review": access.can_review(account, report),
                                           "own": account.unit_id == report.unit_id})  # fmt: skip


@router.post("/reports/{report_id}/evidence")
async def add_evidence(
    request: Request, report_id: Id, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    report = queries.report_for(session, account, report_id)
    added = await _attach_uploads(session, account, report, form)
    if not added:
        raise ValidationError("请选择要上传的文件")
    return back(f"/reports/{report_id}", f"已上传 {added} 个文件")


@router.post("/reports/{report_id}/review")
def review(report_id: Id, session: Db, account: CurrentAccount,
           decision: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
           version: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None) -> Response:  # fmt: skip
    report = queries.report_for(session, account, report_id)
    reports.review_report(session, account, report, accept=decision == "accept", reason=reason,
                          expected_version=version)  # fmt: skip
    return back(f"/reports/{report_id}", "已通过" if decision == "accept" else "已退回")


@router.post("/measures/{uid}/closure")
def ask_closure(uid: str, session: Db, account: CurrentAccount, note: Annotated[str, Form()] = "",
                plan: PlanQuery = None) -> Response:  # fmt: skip
    measure = queries.measure_by_uid_for(session, account, _plan(session, plan), uid)
    closure.request_closure(session, account, measure, note)
    return back(f"/measures/{uid}", "已申请办结,等待协调员审批")


@router.post("/closures/{closure_id}/decision")
def decide(closure_id: Id, session: Db, account: CurrentAccount,
           decision: Annotated[str, Form()], note: Annotated[str, Form()] = "",
           version: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None) -> Response:  # fmt: skip
    item = closure.get_closure(session, closure_id)
    closure.decide_closure(session, account, item, approve=decision == "approve", note=note,
                           expected_version=version)  # fmt: skip
    return back("/inbox", "已办结销号" if decision == "approve" else "已驳回办结申请")


@router.post("/closures/{closure_id}/reopen")
def reopen(closure_id: Id, session: Db, account: CurrentAccount,
           reason: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    item = closure.get_closure(session, closure_id)
    closure.reopen_closure(session, account, item, reason)
    uid = queries.measure_for(session, account, item.measure_id).uid
    return back(f"/measures/{uid}", "已重新打开")


@router.post("/measures/{uid}/designate")
def designate_page(uid: str, session: Db, account: CurrentAccount, role: Annotated[str, Form()],
                   units: Annotated[str, Form(max_length=1000)] = "",
                   plan: PlanQuery = None) -> Response:  # fmt: skip
    measure = queries.measure_by_uid_for(session, account, _plan(session, plan), uid)
    names = split_unit_cell(units, directory(session)).names
    chosen = assign.designate_units(session, account, measure, role, names)
    return back(f"/measures/{uid}", f"已指定:{'、'.join(chosen)}")


@router.post("/measures/{uid}/publish")
def publish_measure(uid: str, session: Db, account: CurrentAccount,
                    summary: Annotated[str, Form(max_length=2000)] = "",
                    plan: PlanQuery = None) -> Response:  # fmt: skip
    the_plan = _plan(session, plan)
    measure = queries.measure_by_uid_for(session, account, the_plan, uid)
    publish.publish(session, account, measure, summary)
    return back(f"/measures/{uid}", "已发布到公开页面")


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, session: Db, account: CurrentAccount, plan: PlanQuery = None,
          msg: str = "") -> Response:  # fmt: skip
    the_plan = _plan(session, plan)
    board = queries.board_for(session, account, the_plan)
    to_file = [s for s in board.shares if account.unit_id == s.unit.id and not s.closed
               and (s.report is None or s.report.state in ("draft", "returned"))]  # fmt: skip
    # this plan's waiting reports, with the assignments can_review reads loaded in one go
    submitted = session.scalars(
        select(Report).join(Measure).where(Report.state == "submitted", Measure.plan_id == the_plan.id)
        .options(selectinload(Report.measure).selectinload(Measure.assignments)).order_by(Report.id)
    )  # fmt: skip
    to_review = [r for r in submitted if access.can_review(account, r)]
    requests: list[Closure] = []
    if access.is_coordinator(account):
        requests = list(session.scalars(select(Closure).join(Measure, Measure.id == Closure.measure_id)
                                        .where(Closure.state == "requested", Measure.plan_id == the_plan.id)))  # fmt: skip
    return render(request, "inbox.html", {"plan": the_plan, "board": board, "to_file": to_file,
                                          "to_review": to_review, "requests": requests,
                                          "notes": queries.notifications_for(session, account, 30), "msg": msg})  # fmt: skip


@router.get("/ledger", response_class=HTMLResponse, dependencies=[Depends(current_account)])
def ledger_page(request: Request, session: Db, plan: PlanQuery = None, msg: str = "") -> Response:
    the_plan = _plan(session, plan)
    all_periods = periods(session, the_plan)
    board_period = latest_due_period(all_periods, today())
    return render(request, "ledger.html", {"plan": the_plan, "periods": all_periods, "msg": msg,
                                           "default": board_period.key if board_period else ""})  # fmt: skip


@router.post("/ledger", response_class=HTMLResponse)
async def ledger_upload(request: Request, session: Db, account: CurrentAccount,
                        plan: PlanQuery = None) -> Response:  # fmt: skip
    form = await request.form()
    the_plan = _plan(session, plan)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError("请选择填好的台账文件")
        data = await upload.read(get_settings().evidence_max_bytes + 1)  # ledger checks the size
        results = ledger.import_ledger(session, account, the_plan, data, upload.filename,
                                       submit=form.get("submit") == "1",
                                       dry_run=form.get("action") == "check")  # fmt: skip
    finally:
        await form.close()
    checked = form.get("action") == "check"
    return render(request, "ledger.html", {"plan": the_plan, "periods": periods(session, the_plan),
                                           "results": results, "checked": checked, "default": ""})  # fmt: skip


@router.get("/orders", response_class=HTMLResponse)
def orders(request: Request, session: Db, account: CurrentAccount, msg: str = "") -> Response:
    query = select(SupervisionOrder).order_by(SupervisionOrder.id.desc())
    if account.role == "unit":
        query = query.where(SupervisionOrder.unit_id == account.unit_id)
    return render(request, "orders.html", {"orders": list(session.scalars(query)), "msg": msg,
                                           "is_coordinator": access.is_coordinator(account)})  # fmt: skip


@router.post("/remind")
def remind(session: Db, account: CurrentAccount, plan: PlanQuery = None) -> Response:
    access.require(access.can_run_reminders(account), "运行提醒任务")
    run = run_reminders(session, _plan(session, plan), today(), actor=account.actor)
    return back("/orders", f"新通知 {len(run.notifications)} 条,新督办单 {len(run.orders)} 张,"
                           f"已解除 {run.resolved} 张")  # fmt: skip


@router.get("/units", response_class=HTMLResponse)
def units_page(
    request: Request, session: Db, account: CurrentAccount, plan: PlanQuery = None
) -> Response:
    the_plan = _plan(session, plan)
    board = queries.board_for(session, account, the_plan)
    return render(request, "units.html", {"plan": the_plan, "scores": unit_scores(session, board),
                                          "rules": scoring_rules(),
                                          "tallies": {t.label: t for t in dashboard.by_unit(board)}})  # fmt: skip


@router.get("/public", response_class=HTMLResponse)
def public_page(
    request: Request, session: Db, viewer: OptionalAccount, plan: PlanQuery = None
) -> Response:
    the_plan = _plan(session, plan)
    return render(request, "public.html", {"plan": the_plan, "items": publish.published(session, the_plan),
                                           "account": Viewer.of(viewer) if viewer else None})  # fmt: skip


@router.get("/plan-review", response_class=HTMLResponse)
def plan_review(request: Request, session: Db, account: CurrentAccount, plan: PlanQuery = None,
                msg: str = "") -> Response:  # fmt: skip
    access.require(account.role in access.READ_ALL_ROLES, "查看计划核对队列")
    the_plan = _plan(session, plan)
    queue = review_queue(session, the_plan, get_settings().review_threshold)
    by_uid = measures_by_uid(current_revision(the_plan))
    items = [{"item": item, "doc": by_uid[item.uid]} for item in queue if item.uid in by_uid]
    return render(request, "plan_review.html", {"plan": the_plan, "items": items, "msg": msg,
                                                "editable": access.is_coordinator(account)})  # fmt: skip


@router.post("/plan-review/{uid}")
def plan_review_save(uid: str, session: Db, account: CurrentAccount,
                     text: Annotated[str, Form(max_length=5000)],
                     lead: Annotated[str, Form(max_length=1000)] = "",
                     responsible: Annotated[str, Form(max_length=1000)] = "",
                     assisting: Annotated[str, Form(max_length=1000)] = "",
                     deadline: Annotated[str, Form(max_length=200)] = "",
                     action: Annotated[str, Form()] = "save",
                     plan: PlanQuery = None) -> Response:  # fmt: skip
    access.require(access.is_coordinator(account), "修改计划")
    the_plan = _plan(session, plan)
    if action == "accept":
        mark_reviewed(session, the_plan, [uid], actor=account.actor)
        return back("/plan-review", f"{uid} 已确认无误")
    units = directory(session)
    fields: dict[str, Any] = {"text": text.strip(), "deadline": deadline.strip()}
    for role, value in (("lead", lead), ("responsible", responsible), ("assisting", assisting)):
        fields[role] = split_unit_cell(value, units).names
    revision = revise(session, the_plan, {uid: fields}, actor=account.actor, kind="edit",
                      directory=units, note="网页核对")  # fmt: skip
    done = "没有变化" if revision is None else f"已保存为第 {revision.number} 版"
    return back("/plan-review", f"{uid} {done}")


def _admin_only(account: Account) -> None:
    access.require(account.role == "admin", "管理账号(仅系统管理员)")


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, session: Db, account: CurrentAccount, msg: str = ""
) -> Response:
    _admin_only(account)
    units = session.scalars(select(Unit).order_by(Unit.kind, Unit.code))
    return render(request, "accounts.html", {"accounts": accounts.list_accounts(session),
                                             "units": list(units), "msg": msg})  # fmt: skip


@router.post("/admin/accounts", response_class=HTMLResponse)
def accounts_create(request: Request, session: Db, account: CurrentAccount,
                    username: Annotated[str, Form(max_length=60)],
                    role: Annotated[str, Form(max_length=20)],
                    display_name: Annotated[str, Form(max_length=100)] = "",
                    unit_code: Annotated[str, Form(max_length=40)] = "",
                    email: Annotated[str, Form(max_length=200)] = "") -> Response:  # fmt: skip
    _admin_only(account)
    password = secrets.token_urlsafe(12)
    accounts.create_account(session, username=username.strip(), password=password, role=role,
                            display_name=display_name.strip() or None,
                            unit_code=unit_code or None, email=email.strip() or None,
                            actor=account.actor)  # fmt: skip
    return accounts_page(request, session, account,
                         msg=f"已创建 {username},初始密码(只显示这一次):{password}")  # fmt: skip


@router.post("/admin/accounts/{username}/password", response_class=HTMLResponse)
def accounts_reset(
    request: Request, username: str, session: Db, account: CurrentAccount
) -> Response:
    _admin_only(account)
    password = secrets.token_urlsafe(12)
    accounts.set_password(session, accounts.account_by_username(session, username), password,
                          actor=account.actor)  # fmt: skip
    return accounts_page(request, session, account,
                         msg=f"{username} 的新密码(只显示这一次):{password}")  # fmt: skip


@router.post("/admin/accounts/{username}/active")
def accounts_toggle(username: str, session: Db, account: CurrentAccount,
                    active: Annotated[str, Form()]) -> Response:  # fmt: skip
    _admin_only(account)
    target = accounts.account_by_username(session, username)
    if target.id == account.id:
        raise ValidationError("不能停用自己的账号")
    accounts.set_active(session, target, active == "1", actor=account.actor)
    return back("/admin/accounts", f"{username} 已{'启用' if active == '1' else '停用'}")
