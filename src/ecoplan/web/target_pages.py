"""Targets and projects pages (tasks 8, 14): every indicator of the plan with its target, current
value, status light and source, one click from its lineage (every value, its origin and source,
and for ledger values the projects they were rolled up from); the project ledger with a map,
filters, the import of a file, stage changes and site photos.

Thin: forms are handed to ``ecoplan.indicators``; who may record, import or move a project is
decided there and here only to choose which forms to show.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import plotly.graph_objects as go
import shapely.geometry
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.api.uploads import required_upload, uploaded_file
from ecoplan.config import BEIJING_TZ, get_settings
from ecoplan.config import today as current_day
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.indicators import ledger, registry
from ecoplan.indicators.models import CITY_CODE, ORIGINS, Indicator, IndicatorValue, Project
from ecoplan.indicators.params import config
from ecoplan.indicators.rollup import ledger_projects, rollup
from ecoplan.plans.models import Plan
from ecoplan.units.models import Unit
from ecoplan.web.auth import CurrentAccount, Db, current_account
from ecoplan.web.case_pages import base_map
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]
LIGHT_COLORS = {"green": "var(--green)", "yellow": "var(--yellow)", "red": "var(--red)",
                "grey": "#8a99a8"}  # fmt: skip
STAGE_COLORS = {"规划": "#8a99a8", "在建": "#e0a800", "建成": "#1c7ed6", "验收": "#2e9e5b"}
CITY_ROLES = ("admin", "coordinator")


def _manages(account: Account) -> bool:
    """Syncing indicators from the plan and rerunning roll-ups is the city office's job."""
    return account.role in CITY_ROLES


def _date(text: str, what: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{what}“{text}”格式应为 YYYY-MM-DD") from None


def _goal(ind: Indicator) -> str:
    return (
        f"{ind.comparator} {ind.target:g} {ind.unit}" if ind.target is not None else ind.comparator
    )


# --------------------------------------------------------------------------- targets


@router.get("/targets", response_class=HTMLResponse)
def targets_page(request: Request, session: Db, account: CurrentAccount, year: Year = None,
                 msg: str = "") -> Response:  # fmt: skip
    today = current_day()
    years = registry.years(session)
    year = year or (today.year if today.year in years or not years else years[0])
    rows = []
    for ind in registry.indicators(session, year):
        s = registry.status(session, ind, today=today)
        rows.append({"s": s, "ind": ind, "measures": registry.measure_numbers(session, ind),
                     "may_record": registry.may_record(session, account, ind)})  # fmt: skip
    return render(request, "targets.html", {
        "year": year, "years": sorted(set(years) | {year}, reverse=True), "rows": rows, "today": today,
        "recordable": [r["ind"] for r in rows if r["may_record"]], "regions": registry.regions(session),
        "manages": _manages(account), "LIGHT_COLORS": LIGHT_COLORS, "ORIGINS": ORIGINS,
        "goal": _goal, "msg": msg, "plans": session.scalars(select(Plan).order_by(Plan.id.desc())).all(),
    })  # fmt: skip


@router.post("/targets/value")
async def record_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        indicator = registry.get_indicator(session, str(form.get("key", "")))
        if not registry.may_record(session, account, indicator):
            raise PermissionDenied(
                f"无权填报指标“{indicator.name}”(由督办协调员或该措施的牵头单位填报)"
            )
        raw = str(form.get("value", "")).strip()
        try:
            value = float(raw)
        except ValueError:
            raise ValidationError(f"数值“{raw}”不是数字") from None
        source = str(form.get("source", "")).strip()
        who = account.unit.name if account.unit else account.display_name
        year_text = str(form.get("year", "")).strip()
        row = registry.record_value(
            session, indicator, value=value, unit=str(form.get("unit", "")).strip() or None,
            origin="report", source=f"{who}填报" + (f": {source}" if source else ""),
            actor=account.actor, region=str(form.get("region", "")) or None,
            year=int(year_text) if year_text.isdigit() else None,
            as_of=_date(str(form.get("as_of", "")), "数值日期"), note=str(form.get("note", "")),
            today=current_day())  # fmt: skip
    finally:
        await form.close()
    done = f"已记录 {indicator.name} {row.region_name} {row.year} 年 {row.value:.4g}{row.unit}"
    return back(f"/targets/{indicator.key}", done + (f"({row.note})" if row.note else ""))


@router.post("/targets/sync")
async def sync_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        if not _manages(account):
            raise PermissionDenied("只有督办协调员或管理员可以从计划生成指标")
        plan_text = str(form.get("plan", "")).strip()
        plan = (session.get(Plan, int(plan_text)) if plan_text.isdigit()
                else session.scalar(select(Plan).order_by(Plan.id.desc()).limit(1)))  # fmt: skip
        if plan is None:
            raise NotFoundError("没有计划,请先导入计划")
        result = registry.sync_from_plan(session, plan, account.actor)
    finally:
        await form.close()
    note = f"{plan.title}: 新增 {len(result.added)} 个、更新 {len(result.updated)} 个、未变 {len(result.unchanged)} 个指标"
    return back(f"/targets?year={plan.year}" if plan.year else "/targets", note)


@router.post("/targets/rollup")
async def rollup_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        if not _manages(account):
            raise PermissionDenied("只有督办协调员或管理员可以重新汇总项目台账")
        text = str(form.get("year", "")).strip()
        year = int(text) if text.isdigit() else current_day().year
        result = rollup(session, year, actor=account.actor, today=current_day())
    finally:
        await form.close()
    return back(f"/targets?year={year}",
                f"{year} 年: 写入 {len(result.written)} 个数值,{result.unchanged} 个未变")  # fmt: skip


def _value_rows(session: Db, ind: Indicator) -> list[dict[str, Any]]:
    """Every value with whether it is current for its region and year, newest first."""
    rows: list[dict[str, Any]] = []
    current: set[tuple[str, int]] = set()
    for v in sorted(registry.values(session, ind),
                    key=lambda v: (v.year, v.region_code, v.as_of, v.id), reverse=True):  # fmt: skip
        key = (v.region_code, v.year)
        rows.append({"v": v, "current": key not in current,
                     "projects": ledger_projects(session, v) if v.origin == "ledger" else []})  # fmt: skip
        current.add(key)
    return rows


@router.get("/targets/{key}", response_class=HTMLResponse)
def target_page(request: Request, key: str, session: Db, account: CurrentAccount,
                msg: str = "") -> Response:  # fmt: skip
    ind = registry.get_indicator(session, key)
    today = current_day()
    s = registry.status(session, ind, today=today)
    rows = _value_rows(session, ind)
    codes = sorted({r["v"].region_code for r in rows
                    if r["v"].region_code != CITY_CODE and r["v"].year == ind.plan_year})  # fmt: skip
    districts = [registry.status(session, ind, region=c, today=today) for c in codes]
    lineage_ids = {v.id for v in s.lineage}
    return render(request, "target.html", {
        "ind": ind, "s": s, "rows": rows, "districts": districts, "lineage_ids": lineage_ids,
        "measures": registry.measure_numbers(session, ind), "goal": _goal(ind),
        "may_record": registry.may_record(session, account, ind), "regions": registry.regions(session),
        "LIGHT_COLORS": LIGHT_COLORS, "ORIGINS": ORIGINS, "SOURCES": registry.SOURCES,
        "PACES": registry.PACES, "today": today, "msg": msg, "tz8": BEIJING_TZ,
        "expected": registry.expected_by(ind.target, ind.plan_year, today)
        if ind.target is not None and ind.pace == "cumulative" else None,
    })  # fmt: skip


# --------------------------------------------------------------------------- projects


def _projects_map(projects: list[Project], height: int = 420) -> dict[str, Any]:
    """Project polygons filled by stage and a marker per project (points too), on the district
    outlines; no tiles, so it works offline."""
    fig = base_map(height)
    polygons = [p for p in projects if p.geometry.get("type") != "Point"]
    stages = config().stages
    traces: list[Any] = []
    if polygons:
        n = len(stages)
        scale = []  # stepped: stage k gets its colour over [k/n, (k+1)/n]
        for k, st in enumerate(stages):
            scale += [
                [k / n, STAGE_COLORS.get(st, "#888")],
                [(k + 1) / n, STAGE_COLORS.get(st, "#888")],
            ]
        geojson = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": p.code, "properties": {}, "geometry": p.geometry} for p in polygons]}  # fmt: skip
        traces.append(go.Choroplethmap(geojson=geojson, locations=[p.code for p in polygons],
                                       z=[stages.index(p.stage) for p in polygons], zmin=-0.5,
                                       zmax=n - 0.5, colorscale=scale, showscale=False,
                                       marker={"opacity": 0.6, "line": {"width": 1, "color": "#333"}},
                                       text=[f"{p.code} {p.name}" for p in polygons], hoverinfo="text",
                                       name="项目范围").to_plotly_json())  # fmt: skip
    if projects:
        traces.append(go.Scattermap(lon=[p.lon for p in projects], lat=[p.lat for p in projects],
                                    mode="markers", marker={"size": 8, "color": [STAGE_COLORS.get(p.stage, "#888") for p in projects]},
                                    customdata=[p.code for p in projects],
                                    text=[f"{p.code} {p.name}<br>{p.type} · {p.stage}" for p in projects],
                                    hoverinfo="text", name="项目位置").to_plotly_json())  # fmt: skip
    if traces:
        fig["data"] = traces
    if len(projects) == 1:
        fig["layout"]["map"]["center"] = {"lon": projects[0].lon, "lat": projects[0].lat}
        fig["layout"]["map"]["zoom"] = 14
    return fig


def _may_import(account: Account) -> bool:
    return account.role in ("unit", "coordinator", "admin")


@router.get("/projects", response_class=HTMLResponse)
def projects_page(request: Request, session: Db, account: CurrentAccount, type: str = "",
                  stage: str = "", district: str = "", year: Year = None, msg: str = "") -> Response:  # fmt: skip
    flt = ledger.ProjectFilter(type or None, stage or None, district or None, year)
    projects = ledger.list_projects(session, flt)
    units = dict(session.execute(select(Unit.id, Unit.name)).all())
    movable = [p for p in projects if ledger.may_edit(account, p)]
    return render(request, "projects.html", {
        "projects": projects, "flt": {"type": type, "stage": stage, "district": district, "year": year or ""},
        "cfg": config(), "districts": [(c, n) for c, n in registry.regions(session).items() if c != CITY_CODE],
        "units": units, "map": _projects_map(projects), "STAGE_COLORS": STAGE_COLORS,
        "may_import": _may_import(account), "movable": movable, "today": current_day(), "msg": msg,
        "total_ha": sum(p.area_ha or 0 for p in projects),
    })  # fmt: skip


@router.post("/projects/import")
async def import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        if not _may_import(account):
            raise PermissionDenied("无权导入项目台账")
        upload = required_upload(
            form, "请选择项目文件(GeoJSON、Shapefile 压缩包、GeoPackage 或 XLSX)"
        )
        async with uploaded_file(upload, ledger.SUFFIXES,
                                 "只接受 GeoJSON、Shapefile 压缩包(.zip)、GeoPackage 或 XLSX 文件") as path:  # fmt: skip
            result = ledger.import_projects(session, path, actor=account.actor, account=account,
                                            crs=str(form.get("crs", "")).strip() or None,
                                            today=current_day())  # fmt: skip
    finally:
        await form.close()
    notes = [*result.notes, *result.warnings]
    return back(
        "/projects",
        f"已导入 {len(result.projects)} 个项目" + (";" + ";".join(notes[:5]) if notes else ""),
    )


@router.post("/projects/stage")
async def stage_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        code = str(form.get("code", "")).strip()
        version = str(form.get("version", "")).strip()
        item = ledger.change_stage(session, code, str(form.get("stage", "")), account=account,
                                   on=_date(str(form.get("on", "")), "阶段日期"),
                                   note=str(form.get("note", "")),
                                   expected_version=int(version) if version.isdigit() else None,
                                   today=current_day())  # fmt: skip
    finally:
        await form.close()
    where = str(form.get("back", "")) or f"/projects/{item.code}"
    return back(where if where.startswith("/projects") else "/projects",
                f"项目 {item.code} 已变更为{item.stage}")  # fmt: skip


@router.get("/projects/{code}", response_class=HTMLResponse)
def project_page(request: Request, code: str, session: Db, account: CurrentAccount,
                 msg: str = "") -> Response:  # fmt: skip
    item = ledger.get_project(session, code)
    history = audit.entries(session, entity_type="project", entity_id=code)
    # the indicators whose current city value was rolled up from this project
    fed = select(IndicatorValue.indicator_id).where(IndicatorValue.origin == "ledger")
    counted = []
    for ind in session.scalars(select(Indicator).where(Indicator.id.in_(fed))):
        v = registry.latest(session, ind)
        if (
            v is not None
            and v.origin == "ledger"
            and any(p["code"] == code for p in (v.details or {}).get("projects", []))
        ):
            counted.append(v)
    return render(request, "project.html", {
        "p": item, "history": history, "map": _projects_map([item], 300), "cfg": config(),
        "may_edit": ledger.may_edit(account, item), "STAGE_COLORS": STAGE_COLORS,
        "STAGE_DATES": ledger.STAGE_DATES, "DATE_LABELS": ledger.DATE_LABELS, "counted": counted,
        "tz8": BEIJING_TZ, "today": current_day(), "msg": msg,
        "shape": shapely.geometry.shape(item.geometry).geom_type,
    })  # fmt: skip


@router.post("/projects/{code}/photos")
async def photo_form(request: Request, code: str, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        upload = required_upload(form, "请选择照片")
        # one byte over the limit is enough for the evidence check to refuse it
        data = await upload.read(get_settings().evidence_max_bytes + 1)
        photo = ledger.add_photo(session, code, data, upload.filename or "", account=account)
    finally:
        await form.close()
    return back(f"/projects/{code}", f"已上传照片 {photo['name']}")


@router.get("/projects/{code}/photos/{digest}")
def photo_file(code: str, digest: str, session: Db) -> FileResponse:
    path, photo = ledger.photo_path(ledger.get_project(session, code), digest)
    if not path.is_file():
        raise NotFoundError("照片文件缺失")
    return FileResponse(path, media_type=photo["mime"], filename=photo["name"])
