"""Clue pages, built for a field officer's phone as much as for a desk: a map of clues by state
(clustered by the server when many), filters, statistics, one clue with its map, photos,
history and the actions the signed-in account may take, photo upload from the camera, batch
import and the 台账 download."""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any
from urllib.parse import quote

import plotly.graph_objects as go
import shapely
import shapely.geometry
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from ecoplan.accounts.models import Account
from ecoplan.api.cases import import_upload, may_import, read_photos
from ecoplan.api.uploads import required_upload
from ecoplan.cases import queries, workflow
from ecoplan.cases.models import CLUE_STATES, LAYER_KINDS, ZONES, ClueBatch, RefFeature, RefLayer
from ecoplan.cases.register_models import Patrol
from ecoplan.cases.rules import load_rules
from ecoplan.config import BEIJING_TZ, get_settings
from ecoplan.config import today as current_day
from ecoplan.errors import ValidationError
from ecoplan.units.models import Unit
from ecoplan.web.auth import CurrentAccount, Db, Id, current_account
from ecoplan.web.ei_charts import beijing_geojson
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_COLORS = {"pending": "#e0a800", "verifying": "#f08c00", "confirmed": "#d64541", "rejected": "#6b7785",
                "rectifying": "#7b4fd6", "accepting": "#1c7ed6", "closed": "#2e9e5b"}  # fmt: skip


def _filter(
    kind: str | None, state: str | None, district: str | None, late: bool
) -> queries.ClueFilter:
    return queries.ClueFilter(
        kind=kind or None, state=state or None, district_code=district or None, late=late
    )


def base_map(height: int = 360) -> dict[str, Any]:
    """District outlines on a white background (no tiles: works offline); the page adds the
    clue layer it fetches from /api/v1/clues/map for the current view."""
    fig = go.Figure(go.Scattermap(lon=[], lat=[], mode="markers"))
    fig.update_layout(
        map={"style": "white-bg", "center": {"lon": 116.4, "lat": 40.2}, "zoom": 7,
             "layers": [{"source": beijing_geojson(), "type": "line", "color": "#8a99a8", "line": {"width": 1}}]},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=height, showlegend=False,
    )  # fmt: skip
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


def clue_map(geometry: dict[str, Any], photos: list[Any]) -> dict[str, Any]:
    """One clue's outline (or point) and where its photos were taken."""
    geom = shapely.geometry.shape(geometry)
    traces: list[Any] = []
    for part in getattr(geom, "geoms", [geom]):
        if part.geom_type == "Polygon":
            xs, ys = part.exterior.xy
            traces.append(go.Scattermap(lon=list(xs), lat=list(ys), mode="lines", fill="toself",
                                        line={"color": "#d64541", "width": 2}, name="线索范围"))  # fmt: skip
    point = geom.representative_point()
    traces.append(go.Scattermap(lon=[point.x], lat=[point.y], mode="markers", marker={"size": 10, "color": "#d64541"},
                                name="线索位置"))  # fmt: skip
    shot = [p for p in photos if p.lon is not None]
    if shot:
        traces.append(go.Scattermap(lon=[p.lon for p in shot], lat=[p.lat for p in shot], mode="markers",
                                    marker={"size": 9, "color": "#1c7ed6"}, text=[p.name for p in shot],
                                    name="照片拍摄点"))  # fmt: skip
    minx, miny, maxx, maxy = geom.bounds
    span = max(maxx - minx, maxy - miny, 0.002)
    # ~0.7° fills a phone-wide frame at zoom 9; show the patch at a quarter of the frame
    zoom = max(8.0, min(16.0, 9.0 - math.log2(4 * span / 0.7)))
    fig = go.Figure(traces)
    fig.update_layout(
        map={"style": "white-bg", "center": {"lon": point.x, "lat": point.y}, "zoom": zoom,
             "layers": [{"source": beijing_geojson(), "type": "line", "color": "#8a99a8", "line": {"width": 1}}]},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=260, showlegend=False,
    )  # fmt: skip
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


@router.get("/clues", response_class=HTMLResponse)
def clues_page(request: Request, session: Db, account: CurrentAccount, kind: str = "", state: str = "",
               district: str = "", late: bool = False, page: int = 1, msg: str = "") -> Response:  # fmt: skip
    today = current_day()
    flt = _filter(kind, state, district, late)
    page = max(1, page)
    total, rows = queries.list_clues(session, account, flt, today, offset=(page - 1) * 30, limit=30)
    rules = load_rules()
    summary = queries.stats(session, account, today, queries.ClueFilter(kind=flt.kind))
    districts = sorted({(u.district_code, u.name) for u in session.scalars(
        select(Unit).where(Unit.kind == "district_gov"))})  # fmt: skip
    importable = [(k, r.label) for k, r in rules.kinds.items() if may_import(account, k)]
    return render(request, "clues.html", {
        "rows": rows, "total": total, "page": page, "pages": max(1, (total + 29) // 30), "today": today,
        "summary": summary, "rules": rules, "STATES": CLUE_STATES, "COLORS": STATE_COLORS,
        "districts": districts, "flt": {"kind": kind, "state": state, "district": district, "late": late},
        "map": base_map(), "importable": importable, "msg": msg,
    })  # fmt: skip


@router.get("/clues/ledger.xlsx")
def ledger(session: Db, account: CurrentAccount, kind: str = "", state: str = "", district: str = "",
           late: bool = False) -> Response:  # fmt: skip
    buffer = io.BytesIO()
    queries.export_ledger(
        session, account, buffer, current_day(), _filter(kind, state, district, late)
    )
    name = quote(f"线索台账_{current_day().isoformat()}.xlsx")
    return Response(buffer.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip


@router.post("/clues/import")
async def import_batch_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        upload = required_upload(form, "请选择线索文件")
        result = await import_upload(session, account, upload, str(form.get("kind", "")),
                                    str(form.get("title", "")), str(form.get("crs", "")) or None)  # fmt: skip
    finally:
        await form.close()
    return back(f"/clues?kind={form.get('kind', '')}",
                f"已导入批次 {result['batch_id']}: {result['count']} 条线索,{result['same_place']} 条与早期线索同位置")  # fmt: skip


@router.get("/clues/{clue_id}", response_class=HTMLResponse)
def clue_page(
    request: Request, clue_id: Id, session: Db, account: CurrentAccount, msg: str = ""
) -> Response:
    clue = workflow.get_clue(session, account, clue_id)
    rules = load_rules()
    units = queries.unit_names(session)
    actions = workflow.actions_for(account, clue)
    can_reassign = clue.state != "closed" and workflow.may_act(
        account, clue, "verifier_or_coordinator"
    )
    district_units = session.scalars(
        select(Unit).where(Unit.kind.in_(("district_gov", "econ_zone"))).order_by(Unit.code)
    )
    return render(request, "clue.html", {
        "c": clue, "batch": session.get(ClueBatch, clue.batch_id), "rules": rules, "units": units,
        "STATES": CLUE_STATES, "COLORS": STATE_COLORS, "ACTIONS": workflow.ACTIONS, "actions": actions,
        "ZONES": ZONES, "LAYER_KINDS": LAYER_KINDS, "map": clue_map(clue.geometry, clue.photos),
        "today": current_day(), "min_deadline": (current_day() + dt.timedelta(days=1)).isoformat(),
        "can_reassign": can_reassign, "district_units": list(district_units), "msg": msg,
        "FLAG_LABELS": _flag_labels(), "tz8": BEIJING_TZ,
    })  # fmt: skip


def _flag_labels() -> dict[str, str]:
    from ecoplan.cases.fieldphotos import flag_labels

    return flag_labels(load_rules())


@router.post("/clues/{clue_id}/step")
async def clue_step_form(
    request: Request, clue_id: Id, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    try:
        action = str(form.get("action", ""))
        uploads = await read_photos(
            [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
        )
        plan = None
        raw = str(form.get("deadline", "")).strip()
        if action == "plan" and raw:  # without a date the workflow says what the plan lacks
            try:
                deadline = dt.date.fromisoformat(raw)
            except ValueError:
                raise ValidationError(f"整改完成时限“{raw}”不是日期") from None
            plan = workflow.RectificationPlan(
                str(form.get("responsible", "")), str(form.get("measures", "")), deadline
            )
        version = str(form.get("version", "")).strip()
        result = workflow.step(session, account, clue_id, action, reason=str(form.get("reason", "")), plan=plan,
                               photos=uploads, expected_version=int(version) if version.isdigit() else None,
                               today=current_day())  # fmt: skip
    finally:
        await form.close()
    done = f"已{workflow.ACTIONS[action].label},线索现为“{CLUE_STATES[result.clue.state]}”"
    if result.flags:
        done += f"。注意照片: {'、'.join(_flag_labels().get(f, f) for f in result.flags)}"
    return back(f"/clues/{clue_id}", done)


@router.post("/clues/{clue_id}/reassign")
async def reassign_form(
    request: Request, clue_id: Id, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    clue = workflow.reassign(
        session, account, clue_id, str(form.get("unit", "")), reason=str(form.get("reason", ""))
    )
    units = queries.unit_names(session)
    return back(f"/clues/{clue_id}", f"已改派给 {units.get(clue.unit_id or 0, '')}")


def may_patrol(account: Account) -> bool:
    """District governments and bureaus record their patrols; the coordinator and admin too."""
    return account.role in ("unit", "coordinator", "admin")


@router.get("/patrols", response_class=HTMLResponse)
def patrols_page(request: Request, session: Db, account: CurrentAccount, year: int | None = None,
                 msg: str = "") -> Response:  # fmt: skip
    from ecoplan.cases.patrols import PATROL_KINDS, patrol_frequency

    day = current_day()
    months = patrol_frequency(session, year or day.year, today=day)
    areas: dict[int, dict[str, Any]] = {}
    for m in months:
        row = areas.setdefault(
            m.feature_id, {"name": m.name, "code": m.code, "layer": m.layer, "months": {}}
        )
        row["months"][m.month] = m
    recent = session.scalars(select(Patrol).order_by(Patrol.started_at.desc()).limit(30)).all()
    features = session.scalars(select(RefFeature).join(RefLayer).where(
        RefLayer.active.is_(True), RefLayer.kind.in_(PATROL_KINDS)).order_by(RefFeature.id)).all()  # fmt: skip
    return render(request, "patrols.html", {
        "areas": list(areas.values()), "year": year or day.year, "recent": recent, "features": features,
        "can_import": may_patrol(account), "msg": msg, "tz8": BEIJING_TZ, "ZONES": ZONES,
    })  # fmt: skip


@router.post("/patrols/import")
async def patrol_import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    from ecoplan.cases.patrol_findings import import_patrol_with_findings
    from ecoplan.errors import PermissionDenied

    form = await request.form()
    try:
        if not may_patrol(account):
            raise PermissionDenied("无权导入巡查轨迹")
        upload = required_upload(form, "请选择 GPX 轨迹文件")
        raw = str(form.get("area", ""))
        if not raw.isdigit():
            raise ValidationError("请选择巡查的保护地")
        data = await upload.read(get_settings().evidence_max_bytes + 1)
        result = import_patrol_with_findings(session, data, upload.filename or "", area_feature_id=int(raw),
                                             patroller=str(form.get("patroller", "")), unit_id=account.unit_id,
                                             actor=account.actor, today=current_day())  # fmt: skip
    finally:
        await form.close()
    found = f",航点记为巡查发现线索 {result.findings.count} 条" if result.findings else ""
    return back(
        "/patrols", f"已导入巡查: {result.patrol.area_name} {result.patrol.length_km:.2f} km{found}"
    )


@router.get("/templand", response_class=HTMLResponse)
def templand_page(request: Request, session: Db) -> Response:
    from ecoplan.cases.templand import permit_status

    rows = permit_status(session, current_day())
    return render(request, "templand.html", {"rows": rows, "today": current_day()})
