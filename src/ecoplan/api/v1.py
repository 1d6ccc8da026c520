"""REST API v1. Each route validates, calls one domain function and serialises the result;
permissions, validation and the audit log are the domain's."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from ecoplan.accounts import service as accounts
from ecoplan.api.schemas import (
    ClosureOut,
    DecisionIn,
    DesignateIn,
    LedgerRowOut,
    LoginIn,
    LoginOut,
    Me,
    MeasureOut,
    NoteIn,
    NotificationOut,
    PublishIn,
    ReminderOut,
    ReportIn,
    ReportOut,
    ReviewIn,
    ShareOut,
)
from ecoplan.config import get_settings, today
from ecoplan.errors import NotFoundError
from ecoplan.plans.models import Measure
from ecoplan.reports import documents
from ecoplan.supervision import (
    access,
    assign,
    closure,
    evidence,
    ledger,
    publish,
    queries,
    reports,
    views,
)
from ecoplan.supervision.board import Board
from ecoplan.supervision.models import Closure, SupervisionOrder
from ecoplan.supervision.reminders import run_reminders
from ecoplan.supervision.reports import ReportInput
from ecoplan.web.auth import CurrentAccount, Db, Id, current_account, request_token

router = APIRouter(prefix="/api/v1")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/auth/login", response_model=LoginOut, tags=["登录"], summary="登录,返回令牌")
def login(body: LoginIn, request: Request, session: Db) -> LoginOut:
    account = accounts.authenticate(session, body.username, body.password, client_of(request))
    token, row = accounts.open_session(session, account)
    return LoginOut(token=token, csrf_token=row.csrf_token, username=account.username,
                    role=account.role)  # fmt: skip


@router.post("/auth/logout", status_code=204, tags=["登录"], summary="退出登录",
             dependencies=[Depends(current_account)])  # fmt: skip
def logout(request: Request, session: Db) -> Response:
    accounts.close_session(session, request_token(request)[0])
    return Response(status_code=204)


@router.get("/me", response_model=Me, tags=["登录"], summary="当前用户")
def me(account: CurrentAccount) -> Me:
    return Me(username=account.username, display_name=account.display_name, role=account.role,
              unit=account.unit.name if account.unit else None)  # fmt: skip


def measure_out(board: Board, measure: Measure) -> MeasureOut:
    units: dict[str, list[str]] = {}
    for a in measure.assignments:
        units.setdefault(a.role, []).append(a.written)
    shares = [
        ShareOut(
            unit=s.unit.name,
            unit_code=s.unit.code,
            light=s.light,
            reasons=s.reasons,
            report_state=s.report.state if s.report else None,
            report_status=s.report.status if s.report else None,
            closure=s.closure.state if s.closure else "open",
        )  # fmt: skip
        for s in board.shares_of(measure)
    ]
    return MeasureOut(
        id=measure.id, uid=measure.uid, doc_id=measure.doc_id, section=measure.section_title,
        task=measure.task_title, text=measure.text, deadline=measure.deadline_raw,
        due=measure.due, light=board.measure_light(measure),
        units={k: list(dict.fromkeys(v)) for k, v in units.items()}, targets=measure.targets or [],
        shares=shares,
    )  # fmt: skip


@router.get("/plans", tags=["计划"], summary="计划列表", dependencies=[Depends(current_account)])
def list_plans(session: Db) -> list[dict[str, Any]]:
    return [{"id": p.id, "title": p.title, "year": p.year} for p in queries.plans(session)]


@router.get("/plans/{plan_id}/measures", response_model=list[MeasureOut], tags=["计划"],
            summary="措施及其亮灯(按当前用户可见范围)")  # fmt: skip
def list_measures(plan_id: Id, session: Db, account: CurrentAccount) -> Response:
    plan = queries.plan_or_latest(session, plan_id)

    def build() -> list[dict[str, Any]]:
        board = queries.board_for(session, account, plan)
        return [measure_out(board, m).model_dump(mode="json") for m in board.measures]

    body = views.cached(
        session, account, plan, "api-measures", lambda: bytes(JSONResponse(build()).body)
    )
    return Response(body, media_type="application/json")


@router.get("/measures/{measure_id}", response_model=MeasureOut, tags=["计划"], summary="措施详情")
def get_measure(measure_id: Id, session: Db, account: CurrentAccount) -> MeasureOut:
    measure = queries.measure_for(session, account, measure_id)
    return measure_out(
        queries.board_for(session, account, measure.plan, only={measure.id}), measure
    )


@router.get("/measures/{measure_id}/reports", response_model=list[ReportOut], tags=["填报"],
            summary="措施的报告(按权限过滤)")  # fmt: skip
def list_reports(measure_id: Id, session: Db, account: CurrentAccount,
                 period: Annotated[str | None, Query(max_length=10)] = None) -> list[ReportOut]:  # fmt: skip
    measure = queries.measure_for(session, account, measure_id)
    row = queries.period_by_key(session, measure.plan, period) if period else None
    return [ReportOut.of(r) for r in queries.reports_for(session, account, measure, row)]


@router.put("/measures/{measure_id}/reports/{period_key}", response_model=ReportOut,
            tags=["填报"], summary="保存或提交本单位的报告")  # fmt: skip
def put_report(measure_id: Id, period_key: str, body: ReportIn, session: Db,
               account: CurrentAccount) -> ReportOut:  # fmt: skip
    measure = queries.measure_for(session, account, measure_id)
    period = queries.period_by_key(session, measure.plan, period_key)
    data = ReportInput(status=body.status, narrative=body.narrative, reasons=body.reasons,
                       remedy=body.remedy, progress=body.progress)  # fmt: skip
    report = reports.save_report(session, account, measure, period, data, submit=body.submit,
                                 expected_version=body.version)  # fmt: skip
    return ReportOut.of(report)


@router.post("/reports/{report_id}/review", response_model=ReportOut, tags=["审核"],
             summary="牵头单位审核:通过或退回")  # fmt: skip
def review(report_id: Id, body: ReviewIn, session: Db, account: CurrentAccount) -> ReportOut:
    report = queries.report_for(session, account, report_id)
    reports.review_report(session, account, report, accept=body.accept, reason=body.reason,
                          expected_version=body.version)  # fmt: skip
    return ReportOut.of(report)


@router.post("/reports/{report_id}/evidence", response_model=ReportOut, tags=["填报"],
             summary="上传佐证材料(PDF/图片/XLSX/DOCX)")  # fmt: skip
async def upload_evidence(report_id: Id, file: Annotated[UploadFile, File()], session: Db,
                          account: CurrentAccount) -> ReportOut:  # fmt: skip
    report = queries.report_for(session, account, report_id)
    data = await file.read(get_settings().evidence_max_bytes + 1)
    reports.attach_evidence(session, account, report, file.filename or "", data)
    session.refresh(report, ["evidence"])
    return ReportOut.of(report)


@router.get("/evidence/{evidence_id}", tags=["填报"], summary="下载佐证材料",
            response_class=FileResponse)  # fmt: skip
def download_evidence(evidence_id: Id, session: Db, account: CurrentAccount) -> FileResponse:
    item = reports.get_evidence(session, account, evidence_id)
    return FileResponse(evidence.path_of(item.sha256), media_type=item.content_type,
                        filename=item.original_name, content_disposition_type="attachment")  # fmt: skip


def closure_out(item: Closure) -> ClosureOut:
    return ClosureOut(id=item.id, measure_id=item.measure_id, unit_id=item.unit_id,
                      state=item.state, version=item.version)  # fmt: skip


@router.post("/measures/{measure_id}/closure", response_model=ClosureOut, tags=["办结"],
             summary="申请本单位承担部分办结")  # fmt: skip
def request_closure(measure_id: Id, body: NoteIn, session: Db,
                    account: CurrentAccount) -> ClosureOut:  # fmt: skip
    measure = queries.measure_for(session, account, measure_id)
    return closure_out(closure.request_closure(session, account, measure, body.note))


@router.post("/closures/{closure_id}/decision", response_model=ClosureOut, tags=["办结"],
             summary="协调员审批办结销号")  # fmt: skip
def decide(closure_id: Id, body: DecisionIn, session: Db, account: CurrentAccount) -> ClosureOut:
    item = closure.get_closure(session, closure_id)
    closure.decide_closure(session, account, item, approve=body.approve, note=body.note,
                           expected_version=body.version)  # fmt: skip
    return closure_out(item)


@router.post("/closures/{closure_id}/reopen", response_model=ClosureOut, tags=["办结"],
             summary="重新打开已办结事项")  # fmt: skip
def reopen(closure_id: Id, body: NoteIn, session: Db, account: CurrentAccount) -> ClosureOut:
    item = closure.get_closure(session, closure_id)
    return closure_out(closure.reopen_closure(session, account, item, body.note))


@router.post("/measures/{measure_id}/designate", response_model=MeasureOut, tags=["计划"],
             summary="牵头单位指定“相关区政府”等待定单位")  # fmt: skip
def designate(
    measure_id: Id, body: DesignateIn, session: Db, account: CurrentAccount
) -> MeasureOut:
    measure = queries.measure_for(session, account, measure_id)
    assign.designate_units(session, account, measure, body.role, body.units)
    session.expire(measure)
    return measure_out(
        queries.board_for(session, account, measure.plan, only={measure.id}), measure
    )


@router.post("/measures/{measure_id}/publish", tags=["公开"], summary="发布措施进展到公开页面")
def publish_measure(measure_id: Id, body: PublishIn, session: Db,
                    account: CurrentAccount) -> dict[str, Any]:  # fmt: skip
    measure = queries.measure_for(session, account, measure_id)
    item = publish.publish(session, account, measure, body.summary)
    return dict(item.content)


@router.get("/plans/{plan_id}/dashboard", tags=["看板"], summary="看板数据")
def get_dashboard(plan_id: Id, session: Db, account: CurrentAccount) -> Response:
    plan = queries.plan_or_latest(session, plan_id)

    def build() -> bytes:
        view = views.dashboard_view(session, account, plan)
        data = {k: v for k, v in view.items() if not k.startswith(("chart_", "district_tiles"))}
        return bytes(JSONResponse(data).body)

    body = views.cached(session, account, plan, "api-dashboard", build)
    return Response(body, media_type="application/json")


@router.post("/plans/{plan_id}/reminders/run", response_model=ReminderOut, tags=["督办"],
             summary="运行提醒与督办(协调员)")  # fmt: skip
def remind(plan_id: Id, session: Db, account: CurrentAccount) -> ReminderOut:
    access.require(access.can_run_reminders(account), "运行提醒任务")
    run = run_reminders(session, queries.plan_or_latest(session, plan_id), today(),
                        actor=account.actor)  # fmt: skip
    return ReminderOut(notifications=len(run.notifications), orders=[o.number for o in run.orders],
                       resolved=run.resolved, emailed=run.emailed)  # fmt: skip


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment(data: bytes, media_type: str, filename: str) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/plans/{plan_id}/ledger", tags=["填报"], summary="下载本单位填报台账(xlsx,一表通)",
            response_class=Response)  # fmt: skip
def download_ledger(plan_id: Id, session: Db, account: CurrentAccount,
                    period: Annotated[str, Query(max_length=10)]) -> Response:  # fmt: skip
    plan = queries.plan_or_latest(session, plan_id)
    data = ledger.export_ledger(
        session, account, plan, queries.period_by_key(session, plan, period)
    )
    return attachment(data, XLSX, f"填报台账-{period}.xlsx")


@router.post("/plans/{plan_id}/ledger", response_model=list[LedgerRowOut], tags=["填报"],
             summary="上传填好的填报台账(整表校验,全部通过才保存)")  # fmt: skip
async def upload_ledger(plan_id: Id, file: Annotated[UploadFile, File()], session: Db,
                        account: CurrentAccount, submit: bool = False,
                        dry_run: bool = False) -> list[LedgerRowOut]:  # fmt: skip
    plan = queries.plan_or_latest(session, plan_id)
    data = await file.read(get_settings().evidence_max_bytes + 1)  # the ledger checks the size
    rows = ledger.import_ledger(session, account, plan, data, file.filename or "台账.xlsx",
                                submit=submit, dry_run=dry_run)  # fmt: skip
    return [LedgerRowOut(row=r.row, uid=r.uid, outcome=r.outcome) for r in rows]


@router.get(
    "/orders/{order_id}/docx", tags=["督办"], summary="督办单(docx)", response_class=Response
)
def order_docx(order_id: Id, session: Db, account: CurrentAccount) -> Response:
    order = session.get(SupervisionOrder, order_id)
    if order is None:
        raise NotFoundError(f"督办单 {order_id} 不存在")
    data = documents.supervision_order_docx(account, order)
    return attachment(data, DOCX, f"督办单-{order.number}.docx")


@router.get("/plans/{plan_id}/bulletin", tags=["看板"], summary="进展通报(docx)",
            response_class=Response)  # fmt: skip
def bulletin_docx(plan_id: Id, session: Db, account: CurrentAccount) -> Response:
    plan = queries.plan_or_latest(session, plan_id)
    data = documents.progress_bulletin_docx(session, account, plan)
    return attachment(data, DOCX, f"进展通报-{today().isoformat()}.docx")


@router.get("/plans/{plan_id}/annual-report", tags=["看板"], response_class=Response,
            summary="年度总结报告(docx 或 pdf;协调、领导、管理员)")  # fmt: skip
def annual_report(plan_id: Id, session: Db, account: CurrentAccount,
                  format: Annotated[Literal["docx", "pdf"], Query()] = "docx",
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:  # fmt: skip
    from ecoplan.reports import annual  # matplotlib and reportlab load on first use only

    plan = queries.plan_or_latest(session, plan_id)
    data, name = annual.render_for(session, account, plan, fmt=format, year=year)
    return attachment(data, annual.FORMATS[format], name)


@router.get("/notifications", response_model=list[NotificationOut], tags=["督办"],
            summary="我的通知")  # fmt: skip
def notifications(session: Db, account: CurrentAccount) -> list[NotificationOut]:
    return [NotificationOut(id=n.id, kind=n.kind, message=n.message, created_at=n.created_at)
            for n in queries.notifications_for(session, account, 200)]  # fmt: skip


@router.get("/public/plans/{plan_id}", tags=["公开"], summary="公开信息(无需登录)")
def public_view(plan_id: Id, session: Db) -> list[dict[str, Any]]:
    plan = queries.plan_or_latest(session, plan_id)
    return [p.content | {"published_at": p.published_at.isoformat()}
            for p in publish.published(session, plan)]  # fmt: skip
