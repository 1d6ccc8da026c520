"""Invasive-species pages (plan task 3, joint control with Tianjin and Hebei 10.2): per species
and year the figures, the occurrence map, the traps' phenology, the alerts, the control actions,
the import of sites and records, the 京津冀 exchange file; and the 外来物种引入审批 applications.

Thin: forms and uploads are handed to ``ecoplan.monitoring`` (``invasive``, ``invasive_alerts``,
``invasive_control``, ``invasive_exchange``, ``introduction``), which check, store and audit.
Who may handle an alert and who may take a step of an application is decided there; the page
only uses those rules to choose which forms to show. The domain has no rule on who may import
monitoring data, record control actions or import a partner's file: :func:`may_record` sets it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import filetype
import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from ecoplan.accounts.models import Account
from ecoplan.api.uploads import required_upload, uploaded_file
from ecoplan.config import BEIJING_TZ, get_settings
from ecoplan.config import today as current_day
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring import introduction as intro
from ecoplan.monitoring.invasive import (
    SITE_KINDS,
    get_species,
    import_records,
    import_sites,
    list_sites,
    list_species,
    sync_species,
)
from ecoplan.monitoring.invasive_alerts import handle_alert, may_handle, run_alerts, visible_alerts
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_control import (
    SitePhenology,
    add_control,
    occurrence_geojson,
    species_phenology,
    species_summary,
)
from ecoplan.monitoring.invasive_exchange import export_records_csv, import_exchange_csv
from ecoplan.monitoring.invasive_models import (
    ControlAction,
    InvasiveRecord,
    InvasiveSite,
    InvasiveSpecies,
)
from ecoplan.monitoring.invasive_rates import thresholds_of
from ecoplan.supervision import evidence
from ecoplan.units.models import Unit
from ecoplan.web.auth import CurrentAccount, Db, Id, current_account
from ecoplan.web.case_pages import base_map
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]
SpeciesKey = Annotated[str, Query(max_length=40)]
SHEETS = (".csv", ".xlsx")
ALERT_STATES = {"open": "待处理", "handled": "已处理"}
AREA_UNITS = ("公顷", "亩")
EVENT_LABELS = {"create": "创建申请", "edit": "修改申请"}  # the two events that are not steps
MAX_ALERTS_SHOWN = 200
POSITIVE, NEGATIVE = "#d64541", "#8a8f98"


def may_record(session: Session, account: Account) -> bool:
    """Who may import sites, records and a partner province's exchange file, and record control
    actions. ``ecoplan.monitoring`` has no rule for this (its functions take only the actor), so
    the page sets one: the coordinator and the admin, and a unit responsible for invasive
    monitoring, i.e. the responsible unit of a species (市农业农村局, 市园林绿化局 in
    ``invasive.toml``) or the unit of an active monitoring site (by default the district
    government the site lies in, which checks the trap). Leaders and other units read."""
    if account.role in ("coordinator", "admin"):
        return True
    if account.role != "unit" or account.unit_id is None:
        return False
    species = select(InvasiveSpecies.id).where(
        InvasiveSpecies.unit_id == account.unit_id, InvasiveSpecies.active.is_(True)
    )
    sites = select(InvasiveSite.id).where(
        InvasiveSite.unit_id == account.unit_id, InvasiveSite.active.is_(True)
    )
    return (
        session.scalar(species.limit(1)) is not None or session.scalar(sites.limit(1)) is not None
    )


def _scope(account: Account) -> tuple[int, str] | None:
    """A unit imports only its own records (its species, its sites, its district); the city
    office and the admin import for anyone."""
    if account.role != "unit" or account.unit is None:
        return None
    return account.unit.id, account.unit.code


def _require_record(session: Session, account: Account, what: str) -> None:
    if not may_record(session, account):
        raise PermissionDenied(f"无权{what}(限物种责任单位、监测点所在单位、市协调机构和管理员)")


# --- form fields -----------------------------------------------------------------------------


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, name: str, label: str) -> float | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"{label}“{text}”不是数字") from None
    if not math.isfinite(value):
        raise ValidationError(f"{label}须为有限数值")
    return value


def _date(form: FormData, name: str, label: str) -> dt.date | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{label}“{text}”不是有效日期(应为 YYYY-MM-DD)") from None


def _page(form: FormData) -> str:
    """Back to the view the form was posted from (species, year, alert filter); built with
    urlencode so a posted value can only ever be a query parameter of /invasive."""
    params = {k: _text(form, k) for k in ("species", "year", "state")}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/invasive?{query}" if query else "/invasive"


# --- figures -----------------------------------------------------------------------------------


def _occurrence_map(collection: dict[str, Any]) -> dict[str, Any]:
    fig = base_map(380)
    traces = []
    # negatives first: plotly draws later traces on top, so a positive is never hidden
    for positive, color, name in ((False, NEGATIVE, "阴性"), (True, POSITIVE, "阳性")):
        points = [f for f in collection["features"] if f["properties"]["positive"] is positive]
        if not points:
            continue
        text = [f"{p['properties']['date']} {p['properties']['method_label']} {p['properties']['value']:g} "
                f"{p['properties']['unit']} · {p['properties']['province']}{p['properties']['district'] or ''}"
                f"{p['properties']['township'] or ''} · {p['properties']['record_id']}" for p in points]  # fmt: skip
        trace = go.Scattermap(lon=[p["geometry"]["coordinates"][0] for p in points],
                              lat=[p["geometry"]["coordinates"][1] for p in points], mode="markers", name=name,
                              marker={"size": 9 if positive else 7, "color": color}, text=text)  # fmt: skip
        traces.append(trace.to_plotly_json())
    if traces:  # else keep base_map's empty trace: the outlines still draw
        fig["data"] = traces
        fig["layout"]["showlegend"] = True
    return fig


def _phenology_chart(series: list[SitePhenology]) -> dict[str, Any] | None:
    config = load_config()
    shown = [s for s in series if any(p.daily is not None for p in s.points)]
    if not shown:
        return None
    fig = go.Figure()
    for s in shown:
        rated = [p for p in s.points if p.daily is not None]
        spec = config.methods.get(s.method)
        fig.add_scatter(x=[p.day.isoformat() for p in rated], y=[p.daily for p in rated], mode="lines+markers",
                        name=f"{s.site_code} {spec.label if spec else s.method}")  # fmt: skip
    unit = config.methods[shown[0].method].unit if shown[0].method in config.methods else ""
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 30}, height=300, legend={"orientation": "h"},
                      yaxis={"title": {"text": f"日均诱虫量({unit}/日)"}, "rangemode": "tozero"},
                      xaxis={"tickformat": "%m-%d"},  # not plotly's English month names
                      font={"family": "WenQuanYi Zen Hei, sans-serif"})  # fmt: skip
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


def _years(session: Session, year: int) -> list[int]:
    first, last = session.execute(
        select(func.min(InvasiveRecord.observed_on), func.max(InvasiveRecord.observed_on))
    ).one()
    held = range(first.year, last.year + 1) if first and last else range(0)
    return sorted({current_day().year, year, *held}, reverse=True)


def _controls(
    session: Session, species_id: int, year: int
) -> list[tuple[ControlAction, str | None]]:
    query = (
        select(ControlAction, InvasiveSite.code)
        .outerjoin(InvasiveSite, InvasiveSite.id == ControlAction.site_id)
        .where(ControlAction.species_id == species_id,
               ControlAction.done_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        .order_by(ControlAction.done_on.desc(), ControlAction.id.desc())
    )  # fmt: skip
    return [(action, code) for action, code in session.execute(query)]


# --- the page ----------------------------------------------------------------------------------


@router.get("/invasive", response_class=HTMLResponse)
def invasive_page(request: Request, session: Db, account: CurrentAccount, year: Year = None,
                  species: SpeciesKey = "", state: str = "", msg: str = "") -> Response:  # fmt: skip
    config = load_config()
    year = year or current_day().year
    state = state if state in ALERT_STATES else ""
    all_species = list_species(session)
    units = {u.id: u for u in session.scalars(select(Unit))}
    names = {s.id: s.name_cn for s in list_species(session, active_only=False)}
    alerts = visible_alerts(session, account, state=state or None)
    rows = [{"alert": a, "species": names.get(a.species_id, ""),
             "rule": config.rules[a.rule].label if a.rule in config.rules else a.rule,
             "may_handle": a.state == "open" and may_handle(session, account, a)}
            for a in alerts[:MAX_ALERTS_SHOWN]]  # fmt: skip
    context: dict[str, Any] = {
        "year": year, "years": _years(session, year), "species_list": all_species, "units": units,
        "state": state, "ALERT_STATES": ALERT_STATES, "alerts": rows, "alert_count": len(alerts),
        "may_record": may_record(session, account), "may_run": account.role in ("coordinator", "admin"),
        "summary": species_summary(session, year), "msg": msg, "chosen": None, "SITE_KINDS": SITE_KINDS,
        "METHODS": config.methods, "CONTROL_METHODS": config.control.methods, "AREA_UNITS": AREA_UNITS,
        "provinces": [p for p in config.exchange.provinces if p != "北京"], "today": current_day(),
    }  # fmt: skip
    chosen = get_species(session, species) if species else (all_species[0] if all_species else None)
    if chosen is not None:
        phenology = species_phenology(session, chosen.key, year)
        context |= {
            "chosen": chosen, "figures": next((s for s in context["summary"] if s.key == chosen.key), None),
            "map": _occurrence_map(occurrence_geojson(session, chosen.key, year)),
            "phenology": phenology, "phenology_chart": _phenology_chart(phenology),
            "spec": config.species.get(chosen.key), "thresholds": thresholds_of(config, chosen),
            "sites": list_sites(session, chosen.key), "controls": _controls(session, chosen.id, year),
        }  # fmt: skip
    return render(request, "invasive.html", context)


@router.post("/invasive/species/sync")
async def sync_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        if account.role != "admin":
            raise PermissionDenied("只有系统管理员可以同步外来入侵物种名录")
        result = sync_species(session, actor=account.actor)
        url = _page(form)
    finally:
        await form.close()
    return back(url, f"物种名录已同步: 新增 {len(result.added)} 种,更新 {len(result.updated)} 种")


@router.post("/invasive/sites/import")
async def sites_import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        _require_record(session, account, "登记监测点")
        upload = required_upload(form, "请选择监测点表(CSV/XLSX)")
        async with uploaded_file(upload, SHEETS, "监测点表只接受 CSV 或 XLSX") as path:
            sites = import_sites(session, path, actor=account.actor)
        url = _page(form)
    finally:
        await form.close()
    return back(url, f"已登记 {len(sites)} 个监测点")


@router.post("/invasive/records/import")
async def records_import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        _require_record(session, account, "导入监测记录")
        upload = required_upload(form, "请选择监测记录表(CSV/XLSX)")
        async with uploaded_file(upload, SHEETS, "监测记录表只接受 CSV 或 XLSX") as path:
            result = import_records(session, path, actor=account.actor, today=current_day(),
                                    scope=_scope(account))  # fmt: skip
        url = _page(form)
    finally:
        await form.close()
    alerts = len(result.alerts.alerts) if result.alerts else 0
    return back(url, f"已导入 {len(result.records)} 条监测记录(阳性 {result.positives} 条),"
                     f"新预警 {alerts} 条")  # fmt: skip


@router.post("/invasive/alerts/run")
async def alerts_run_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        if account.role not in ("coordinator", "admin"):
            raise PermissionDenied("只有市协调机构和管理员可以重新运行预警规则")
        year_text = _text(form, "year")
        year = int(year_text) if year_text.isdigit() else None
        run = run_alerts(session, today=current_day(), actor=account.actor, year=year)
        url = _page(form)
    finally:
        await form.close()
    scope = f"{year} 年" if year else "全部"
    return back(url, f"已按现行规则重新判定{scope}本市记录: 新预警 {len(run.alerts)} 条")


@router.post("/invasive/alerts/{alert_id}/handle")
async def alert_handle_form(
    request: Request, alert_id: Id, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    try:
        alert = handle_alert(session, account, alert_id, _text(form, "note"))
        url = _page(form)
    finally:
        await form.close()
    return back(url, f"预警 {alert.id} 已标记为已处理")


@router.post("/invasive/controls")
async def control_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        _require_record(session, account, "登记防治措施")
        area = _number(form, "area", "防治面积")
        done_on = _date(form, "done_on", "防治日期")
        if area is None or done_on is None:
            raise ValidationError("须填写防治日期和防治面积")
        unit = _text(form, "area_unit") or "公顷"
        # the unit that did the work is the acting unit; the city office records for the
        # species' responsible unit (add_control's default)
        acting = account.unit.code if account.role == "unit" and account.unit else None
        action = add_control(session, species_key=_text(form, "species"), done_on=done_on,
                             method=_text(form, "method"), area=area, area_unit=unit, actor=account.actor,
                             site_code=_text(form, "site") or None, lon=_number(form, "lon", "经度"),
                             lat=_number(form, "lat", "纬度"), detail=_text(form, "detail"),
                             before_value=_number(form, "before_value", "防治前数值"),
                             after_value=_number(form, "after_value", "防治后数值"),
                             result=_text(form, "result"), unit_code=acting, today=current_day())  # fmt: skip
        url = _page(form)
    finally:
        await form.close()
    # say so when 亩 were converted: the stored figure is in hectares
    area_text = (f"{area:g} {unit},折合 {action.area_ha:.4g} 公顷" if unit.lower() in ("亩", "mu")
                 else f"{action.area_ha:.4g} 公顷")  # fmt: skip
    return back(url, f"已登记防治措施: {action.done_on} {area_text}")


@router.get("/invasive/exchange.csv")
def exchange_export(session: Db, species: SpeciesKey, year: Year = None) -> Response:
    year = year or current_day().year
    name_cn = get_species(session, species).name_cn
    data = export_records_csv(session, [species], year)
    name = quote(f"京津冀交换_{name_cn}_{year}.csv")
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip


@router.post("/invasive/exchange/import")
async def exchange_import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        _require_record(session, account, "导入京津冀交换数据")
        upload = required_upload(form, "请选择交换文件(CSV)")
        province = _text(form, "province")
        async with uploaded_file(upload, (".csv",), "交换文件只接受 CSV") as path:
            result = import_exchange_csv(session, path, actor=account.actor, province=province,
                                         today=current_day())  # fmt: skip
        url = _page(form)
    finally:
        await form.close()
    alerts = len(result.alerts.alerts) if result.alerts else 0
    return back(url, f"已导入{province}交换记录 {len(result.records)} 条(阳性 {result.positives} 条),"
                     f"本市范围内新预警 {alerts} 条")  # fmt: skip


# --- 外来物种引入审批 --------------------------------------------------------------------------


@router.get("/invasive/applications", response_class=HTMLResponse)
def applications_page(request: Request, session: Db, account: CurrentAccount, state: str = "",
                      msg: str = "") -> Response:  # fmt: skip
    state = state if state in intro.STATES else ""
    config = load_config().introduction
    units = {u.id: u for u in session.scalars(select(Unit))}
    by_code = {u.code: u for u in units.values()}
    reviewers = {
        c: by_code[code].name if code in by_code else code for c, code in config.reviewers.items()
    }
    return render(request, "invasive_applications.html", {
        "apps": intro.list_applications(session, account, state=state or None), "units": units,
        "state": state, "STATES": intro.STATES, "reviewers": reviewers,
        "may_apply": account.role == "unit" and account.unit_id is not None, "msg": msg,
    })  # fmt: skip


@router.post("/invasive/applications")
async def application_create(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        fields = {k: _text(form, k) for k in ("applicant", "scientific_name", "name_cn", "category",
                                              "purpose", "origin_country", "quantity", "destination",
                                              "containment")}  # fmt: skip
        app = intro.create_application(session, account, intro.ApplicationForm(**fields),
                                       today=current_day())  # fmt: skip
    finally:
        await form.close()
    return back(
        f"/invasive/applications/{app.id}", f"已创建引入申请 {app.number}(草稿),请核对后提交"
    )


@router.get("/invasive/applications/{app_id}", response_class=HTMLResponse)
def application_page(request: Request, app_id: Id, session: Db, account: CurrentAccount,
                     msg: str = "") -> Response:  # fmt: skip
    app = intro.get_application(session, account, app_id)
    units = {u.id: u for u in session.scalars(select(Unit))}
    actions = intro.actions_for(account, app)
    return render(request, "invasive_application.html", {
        "app": app, "units": units, "actions": actions, "ACTIONS": intro.ACTIONS, "STATES": intro.STATES,
        "EVENT_LABELS": EVENT_LABELS, "risk_levels": load_config().introduction.risk_levels,
        # the report is compulsory only for a first introduction: say so on the assess form
        "report_required": "assess" in actions and intro.first_introduction(session, app),
        "today": current_day(), "tz8": BEIJING_TZ, "msg": msg,
    })  # fmt: skip


@router.post("/invasive/applications/{app_id}/step")
async def application_step(
    request: Request, app_id: Id, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        version = _text(form, "version")
        if not version.isdigit():
            raise ValidationError("缺少申请的版本号,请刷新页面后重试")
        upload = form.get("risk_report")
        report = None
        if isinstance(upload, UploadFile) and upload.filename:
            # one byte over the cap is enough for step (evidence.sniff) to refuse the size
            data = await upload.read(get_settings().evidence_max_bytes + 1)
            report = intro.ReportFile(data, upload.filename)
        action = _text(form, "action")
        result = intro.step(session, account, app_id, action, note=_text(form, "note"),
                            risk_level=_text(form, "risk_level") or None,
                            risk_summary=_text(form, "risk_summary"), risk_report=report,
                            conditions=_text(form, "conditions"),
                            monitor_until=_date(form, "monitor_until", "跟踪监测截止日期"),
                            expected_version=int(version), today=current_day())  # fmt: skip
    finally:
        await form.close()
    app = result.application
    return back(f"/invasive/applications/{app.id}",
                f"{intro.ACTIONS[action].label}: 申请 {app.number} 现为“{intro.STATES[app.state]}”")  # fmt: skip


@router.get("/invasive/applications/{app_id}/risk-report")
def application_report(app_id: Id, session: Db, account: CurrentAccount) -> Response:
    app = intro.get_application(session, account, app_id)
    if not app.risk_report:
        raise NotFoundError(f"申请 {app.number} 没有风险评估报告")
    path = evidence.path_of(app.risk_report)
    if not path.is_file():
        raise NotFoundError(f"申请 {app.number} 的风险评估报告文件缺失")
    # the type comes from the bytes (they were checked against their name when uploaded)
    kind = filetype.guess(path.read_bytes())  # whole file: an Office type shows inside the zip
    ext = kind.extension if kind and kind.extension in evidence.ALLOWED else "bin"
    return FileResponse(path, media_type=evidence.ALLOWED.get(ext, "application/octet-stream"),
                        filename=f"{app.number}_风险评估报告.{ext}")  # fmt: skip
