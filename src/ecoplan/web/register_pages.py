"""Register pages: germplasm (measures 4.2, 4.3) and monitoring stations (measure 9.1).

- ``/germplasm``: the year's 林草 collection against the plan's 600 份 by unit and by month
  against the even pace, the repositories (placeholders marked 待核实), recent accessions, the
  import of an accessions sheet and the 4.3 annual report as Word;
- ``/stations``: each station's parameters with their latest value and QC counts; adding a
  station; ``/stations/{code}``: one parameter's series as a chart with the flagged values
  marked, daily summary, gaps, the flagged values with a person's verdict, CSV export.

Thin: files and form fields go to ``ecoplan.monitoring.germplasm`` / ``stations``; who may
judge a station's values is decided there, here only which forms to show.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.datastructures import FormData

from ecoplan.accounts.models import Account
from ecoplan.api.uploads import required_upload, uploaded_file
from ecoplan.config import BEIJING_TZ
from ecoplan.config import today as current_day
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring import germplasm, qc
from ecoplan.monitoring import stations as st
from ecoplan.monitoring.register_models import Accession, GermplasmRepository, StationValue
from ecoplan.units.models import Unit
from ecoplan.web.auth import MAX_ID, CurrentAccount, Db, current_account
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]
Day = Annotated[dt.date | None, Query()]
Parameter = Annotated[str, Query(max_length=60)]
FONT = {"family": "WenQuanYi Zen Hei, sans-serif"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

FLAG_LABELS = {"RANGE": "超出范围", "SPIKE": "突变", "FLAT": "恒值", "MISSING": "缺测",
               "GAP": "数据中断"}  # fmt: skip
# colour and plotly marker symbol of each flag on the chart; a person's verdict has its own
MARKS = {"RANGE": ("#d64541", "x"), "SPIKE": ("#e8590c", "diamond"), "FLAT": ("#7048e8", "square-open"),
         "MISSING": ("#868e96", "triangle-up"), "GAP": ("rgba(214,69,65,0.35)", ""),
         "good": ("#2e9e5b", "circle-open"), "bad": ("#343a40", "x-thin-open")}  # fmt: skip
QUALITY_LABELS = {"good": "有效", "suspect": "可疑", "bad": "无效", "missing": "缺测"}
VERDICT_LABELS = {"good": "有效", "bad": "无效"}
DEFAULT_DAYS = 30  # a station page opens on the last month of data
MAX_LINE_POINTS = 3000  # a month of 10-minute data (~4,300) is thinned to this on the chart
MAX_MARKERS = 1000  # per flag on the chart
MAX_LISTED = 200  # flagged values listed with a verdict form
MAX_SHAPES = 200  # gaps shaded on the chart


# --- germplasm -----------------------------------------------------------------------------------


def may_import_accessions(account: Account) -> bool:
    """Units import their own collections; the city office and the admin import for any unit."""
    return account.role in ("unit", "coordinator", "admin")


def _shown_months(p: germplasm.Progress) -> int:
    """Months of the year up to the progress date: later months have no collection yet."""
    if p.as_of.year < p.year:  # a future year: as_of is the day before it starts
        return 0
    return p.as_of.month


def _progress_chart(p: germplasm.Progress, pace: list[float] | None) -> dict[str, Any]:
    months = [f"{m}月" for m in range(1, 13)]
    shown = _shown_months(p)
    fig = go.Figure()
    fig.add_bar(x=months[:shown], y=p.by_month[:shown], name="当月收集(份)", marker_color="#a5d8ff")
    fig.add_scatter(x=months[:shown], y=p.cumulative[:shown], mode="lines+markers",
                    name="累计收集(份)", line={"color": "#1c7ed6", "width": 3})  # fmt: skip
    if pace is not None:
        fig.add_scatter(x=months, y=[round(v, 1) for v in pace], mode="lines", name="均匀进度(份)",
                        line={"color": "#868e96", "dash": "dash"})  # fmt: skip
    fig.update_layout(margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=300,
                      legend={"orientation": "h"}, font=FONT)  # fmt: skip
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


@router.get("/germplasm", response_class=HTMLResponse)
def germplasm_page(request: Request, session: Db, account: CurrentAccount, year: Year = None,
                   msg: str = "") -> Response:  # fmt: skip
    today = current_day()
    year = year or today.year
    p = germplasm.progress(session, year, today=today)
    pace = germplasm.pace_by_month(p)
    first, last = session.execute(
        select(func.min(Accession.collected_on), func.max(Accession.collected_on))
    ).one()
    years = {today.year, year} | (set(range(first.year, last.year + 1)) if first else set())
    held = dict(session.execute(
        select(Accession.repository_id, func.count()).group_by(Accession.repository_id)).all())  # fmt: skip
    recent = session.execute(
        select(Accession, Unit.name, GermplasmRepository.name)
        .outerjoin(Unit, Accession.unit_id == Unit.id)
        .outerjoin(GermplasmRepository, Accession.repository_id == GermplasmRepository.id)
        .order_by(Accession.created_at.desc(), Accession.id.desc()).limit(50)).all()  # fmt: skip
    shown = _shown_months(p)
    months = [{"month": m + 1, "new": p.by_month[m], "cumulative": p.cumulative[m] if m < shown else None,
               "pace": pace[m] if pace else None} for m in range(12)]  # fmt: skip
    units = session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.code)).all()
    return render(request, "germplasm.html", {
        "year": year, "years": sorted(years, reverse=True), "p": p, "months": months,
        "chart": _progress_chart(p, pace), "repos": germplasm.repositories(session), "held": held,
        "is_placeholder": germplasm.is_placeholder, "recent": recent, "total": sum(held.values()),
        "STATUSES": germplasm.config().statuses, "may_import": may_import_accessions(account),
        "units": units, "msg": msg,
    })  # fmt: skip


@router.post("/germplasm/import")
async def germplasm_import(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        if not may_import_accessions(account):
            raise PermissionDenied("无权导入种质资源")
        upload = required_upload(form, "请选择种质资源登记表(CSV/XLSX)")
        # a unit imports for itself only; the city office names the unit of rows naming none
        own = account.role == "unit"
        if own and account.unit is None:
            raise PermissionDenied("账号未关联单位,不能导入")
        unit_code = (account.unit.code if own and account.unit
                     else str(form.get("unit", "")).strip() or None)  # fmt: skip
        async with uploaded_file(upload, (".csv", ".xlsx"),
                                 "只接受 CSV 或 XLSX 种质资源登记表") as path:  # fmt: skip
            result = germplasm.import_accessions(session, path, actor=account.actor,
                                                 unit_code=unit_code, today=current_day(),
                                                 own_unit=own)  # fmt: skip
    finally:
        await form.close()
    parts = "、".join(f"{c} {n} 份" for c, n in result.by_category.items())
    note = f";{len(result.unmatched)} 个物种名未匹配,按原文保存" if result.unmatched else ""
    return back("/germplasm", f"已导入 {result.added} 份种质({parts}){note}")


@router.get("/germplasm/report.docx")
def germplasm_report(session: Db, year: Year = None) -> Response:
    year = year or current_day().year
    data = germplasm.annual_report_docx(session, year, today=current_day())
    name = quote(f"北京市{year}年度种质资源保护年度报告.docx")
    return Response(data, media_type=DOCX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip


# --- stations ------------------------------------------------------------------------------------


def _parameters(session: Db, station_id: int) -> list[str]:
    """The station's parameters in the order of the parameter table."""
    order = list(qc.config().parameters)
    found = session.scalars(select(StationValue.parameter).where(
        StationValue.station_id == station_id).distinct()).all()  # fmt: skip
    return sorted(found, key=lambda k: (order.index(k) if k in order else len(order), k))


def _latest(session: Db, station_id: int) -> dict[str, StationValue]:
    newest = (select(StationValue.parameter, func.max(StationValue.at).label("at"))
              .where(StationValue.station_id == station_id).group_by(StationValue.parameter)
              .subquery())  # fmt: skip
    query = select(StationValue).join(newest, (StationValue.parameter == newest.c.parameter)
                                      & (StationValue.at == newest.c.at)).where(
        StationValue.station_id == station_id)  # fmt: skip
    return {v.parameter: v for v in session.scalars(query)}


@router.get("/stations", response_class=HTMLResponse)
def stations_page(
    request: Request, session: Db, account: CurrentAccount, msg: str = ""
) -> Response:
    rows = []
    for station in st.stations(session):
        summary = st.qc_summary(session, station.code)
        order = {k: i for i, k in enumerate(_parameters(session, station.id))}
        rows.append({"s": station, "unit": session.get(Unit, station.unit_id) if station.unit_id else None,
                     "params": sorted(summary.to_dict("records"), key=lambda r: order[r["parameter"]]),
                     "latest": _latest(session, station.id)})  # fmt: skip
    units = session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.code)).all()
    return render(request, "stations.html", {
        "rows": rows, "FLAGS": qc.FLAGS, "FLAG_LABELS": FLAG_LABELS, "BEIJING_TZ": BEIJING_TZ,
        "may_add": account.role in st.MANAGER_ROLES, "units": units, "msg": msg,
    })  # fmt: skip


def _coordinate(form: FormData, name: str, label: str) -> float | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"{label}“{text}”不是数字") from None


@router.post("/stations")
async def station_add(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()
    try:
        if account.role not in st.MANAGER_ROLES:
            raise PermissionDenied("只有系统管理员或督办协调员可以登记监测站")
        station = st.add_station(
            session, code=str(form.get("code", "")), name=str(form.get("name", "")),
            kind=str(form.get("kind", "")), lon=_coordinate(form, "lon", "经度"),
            lat=_coordinate(form, "lat", "纬度"), unit_code=str(form.get("unit", "")).strip() or None,
            actor=account.actor)  # fmt: skip
    finally:
        await form.close()
    return back(f"/stations/{quote(station.code, safe='')}", f"已登记监测站 {station.name}")


@router.post("/stations/{code}/import")
async def station_import(
    request: Request, code: str, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    try:
        station = st.get_station(session, code)
        if not st.may_operate(account, station):
            raise PermissionDenied("只有系统管理员、督办协调员或站点运维单位可以导入监测数据")
        upload = required_upload(form, "请选择监测数据 CSV")
        async with uploaded_file(upload, (".csv",), "监测数据只接受 CSV") as path:
            result = st.import_series(session, path, station_code=station.code, actor=account.actor)
    finally:
        await form.close()
    labels = qc.config().parameters
    flags = ";".join(
        f"{labels[k].label if k in labels else k} " + "、".join(f"{FLAG_LABELS[f]} {n}" for f, n in counts.items())
        for k, counts in result.flags.items() if counts)  # fmt: skip
    text = (f"已导入 {result.rows} 个值: 新增 {result.added},更新 {result.updated},"
            f"未变 {result.unchanged},缺测 {result.missing}")  # fmt: skip
    text += f"。全序列自动标记: {flags}" if flags else "。未发现可疑值"
    text += "".join(f"。{line}" for line in [*result.conversions, *result.notes])
    first = result.parameters[0] if result.parameters else ""
    return back(f"/stations/{quote(station.code, safe='')}?parameter={quote(first)}", text)


def _window(session: Db, station_id: int, key: str, start: dt.date | None,
            end: dt.date | None) -> tuple[dt.date | None, dt.date | None, dt.date | None, dt.date | None]:  # fmt: skip
    """(bounds handed to the domain, dates shown in the form). Without dates: the last
    ``DEFAULT_DAYS`` of data, open at both ends, so that the window's edges are no gaps."""
    if start is not None and end is not None and start > end:
        raise ValidationError(f"开始日期 {start} 晚于结束日期 {end}")
    if start is not None or end is not None:
        return start, end, start, end
    row = session.execute(select(func.min(StationValue.at), func.max(StationValue.at)).where(
        StationValue.station_id == station_id, StationValue.parameter == key)).one()  # fmt: skip
    first: dt.datetime | None = row[0]  # None when the parameter has no values
    last: dt.datetime | None = row[1]
    if first is None or last is None:
        return None, None, None, None
    first_day, last_day = (t.astimezone(BEIJING_TZ).date() for t in (first, last))
    since = last_day - dt.timedelta(days=DEFAULT_DAYS)
    if first_day >= since:
        return None, None, first_day, last_day
    return since, None, since, last_day


def _thin(x: list[str], y: np.ndarray[Any, np.dtype[np.float64]], limit: int) -> tuple[list[str], list[float]]:  # fmt: skip
    """At most ``limit`` points: each of limit/2 buckets keeps its lowest and highest value, so
    a thinned line still shows every excursion."""
    if len(y) <= limit:
        return x, y.tolist()
    edges = np.linspace(0, len(y), limit // 2 + 1).astype(int)
    keep: list[int] = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            segment = y[a:b]
            keep += sorted({a + int(np.argmin(segment)), a + int(np.argmax(segment))})
    return [x[i] for i in keep], [float(y[i]) for i in keep]


def _every(items: list[Any], limit: int) -> list[Any]:
    """At most ``limit`` items, evenly spread."""
    return items if len(items) <= limit else items[:: len(items) // limit + 1]


def _series_chart(frame: pd.DataFrame, label: str, unit: str, gap_list: list[st.Gap]) -> dict[str, Any]:  # fmt: skip
    stamp = "%Y-%m-%d %H:%M:%S"  # Beijing time without offset: plotly reads no offsets
    times = [t.strftime(stamp) for t in frame["time"]]
    quality = frame["quality"].tolist()
    flags = [f.split(";") if f else [] for f in frame["flags"]]
    overrides = frame["override"].tolist()
    values = frame["value"].to_numpy(dtype=np.float64)
    fig = go.Figure()
    on_line = [i for i, q in enumerate(quality) if q in ("good", "suspect")]
    x, y = _thin([times[i] for i in on_line], values[on_line], MAX_LINE_POINTS)
    points: list[tuple[str, float | None]] = list(zip(x, y, strict=True))
    if len(on_line) <= MAX_LINE_POINTS:  # break the line at missing values and gaps
        points += [(times[i], None) for i, q in enumerate(quality) if q == "missing"]
    points += [((g.after + (g.before - g.after) / 2).strftime(stamp), None) for g in gap_list]
    points.sort(key=lambda p: p[0])
    fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
                    name=f"{label}({unit})", line={"color": "#1c7ed6", "width": 1.5}, connectgaps=False)  # fmt: skip
    marked: dict[str, list[int]] = {}
    for i, (codes, verdict) in enumerate(zip(flags, overrides, strict=True)):
        if verdict in ("good", "bad") and codes:
            marked.setdefault(verdict, []).append(i)
        elif verdict == "bad":
            marked.setdefault("bad", []).append(i)
        elif codes:  # the first flag in qc.FLAGS order names the point
            marked.setdefault(next(c for c in qc.FLAGS if c in codes), []).append(i)
    bottom = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
    for key in (*qc.FLAGS, "good", "bad"):
        chosen = _every(marked.get(key, []), MAX_MARKERS)
        if not chosen:
            continue
        colour, symbol = MARKS[key]
        name = (
            f"{FLAG_LABELS[key]}({key})" if key in FLAG_LABELS else f"人工判定{VERDICT_LABELS[key]}"
        )
        # a missing value has no height: it is marked at the bottom of the chart
        ys = [bottom if key == "MISSING" else float(values[i]) for i in chosen]
        fig.add_scatter(x=[times[i] for i in chosen], y=ys, mode="markers", name=name,
                        marker={"color": colour, "symbol": symbol, "size": 11, "line": {"width": 2}})  # fmt: skip
    if gap_list:
        spans: list[str | None] = []
        for g in gap_list:
            spans += [g.after.strftime(stamp), g.before.strftime(stamp), None]
        fig.add_scatter(x=spans, y=[bottom if s else None for s in spans], mode="lines",
                        name=f"{FLAG_LABELS['GAP']}(GAP)", line={"color": MARKS["GAP"][0], "width": 8})  # fmt: skip
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": g.after.strftime(stamp),
               "x1": g.before.strftime(stamp), "y0": 0, "y1": 1, "line": {"width": 0},
               "fillcolor": "rgba(214,69,65,0.10)"} for g in gap_list[:MAX_SHAPES]]  # fmt: skip
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 30}, height=360, shapes=shapes,
                      legend={"orientation": "h"}, yaxis={"title": {"text": unit}}, font=FONT)  # fmt: skip
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


def _station_url(code: str, parameter: str, start: Any, end: Any, path: str = "") -> str:
    query = {k: str(v) for k, v in (("parameter", parameter), ("start", start), ("end", end)) if v}
    return f"/stations/{quote(code, safe='')}{path}" + (f"?{urlencode(query)}" if query else "")


@router.get("/stations/{code}", response_class=HTMLResponse)
def station_page(request: Request, code: str, session: Db, account: CurrentAccount,
                 parameter: Parameter = "", start: Day = None, end: Day = None,
                 msg: str = "") -> Response:  # fmt: skip
    station = st.get_station(session, code)
    cfg = qc.config()
    params = _parameters(session, station.id)
    key = st.parameter_key(parameter) if parameter else (params[0] if params else "")
    context: dict[str, Any] = {
        "s": station, "unit": session.get(Unit, station.unit_id) if station.unit_id else None,
        "params": params, "key": key, "cfg": cfg, "FLAG_LABELS": FLAG_LABELS,
        "QUALITY_LABELS": QUALITY_LABELS, "VERDICT_LABELS": VERDICT_LABELS,
        "may_operate": st.may_operate(account, station), "msg": msg, "MAX_LISTED": MAX_LISTED,
    }  # fmt: skip
    if not key:
        return render(request, "station.html", context | {"frame_rows": 0, "window": (None, None)})
    lo, hi, shown_start, shown_end = _window(session, station.id, key, start, end)
    frame = st.series(session, station.code, key, lo, hi, include_bad=True)
    gap_list = st.gaps(session, station.code, key, lo, hi) if key in cfg.parameters else []
    daily = st.daily_summary(session, station.code, key, lo, hi)
    spec = cfg.parameters.get(key)
    flagged = frame[(frame["flags"] != "") | frame["override"].notna()]
    return render(request, "station.html", context | {
        "spec": spec, "label": spec.label if spec else key, "frame_rows": len(frame),
        "window": (shown_start, shown_end),
        "chart": _series_chart(frame, spec.label if spec else key, spec.unit if spec else "", gap_list)
                 if len(frame) else None,
        "daily": [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
                  for row in daily.to_dict("records")],
        "gaps": gap_list, "flagged": flagged.head(MAX_LISTED).to_dict("records"),
        "flagged_total": len(flagged),
        "csv_url": _station_url(station.code, key, lo, hi, "/export.csv"),
        "back_query": {"parameter": key, "start": start or "", "end": end or ""},
    })  # fmt: skip


@router.post("/stations/{code}/override")
async def station_override(
    request: Request, code: str, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    try:
        station = st.get_station(session, code)
        text = str(form.get("value_id", "")).strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
            raise ValidationError("监测值编号无效")
        value = session.get(StationValue, int(text))
        if value is None or value.station_id != station.id:
            raise NotFoundError(f"监测站 {station.code} 没有编号为 {text} 的监测值")
        verdict = str(form.get("verdict", ""))
        st.override(session, account, value.id, verdict, str(form.get("note", "")))
        parameter, start, end = (str(form.get(k, "")) for k in ("parameter", "start", "end"))
    finally:
        await form.close()
    return back(_station_url(station.code, parameter, start, end),
                f"已将该监测值判定为{VERDICT_LABELS[verdict]}")  # fmt: skip


@router.get("/stations/{code}/export.csv")
def station_export(code: str, session: Db, parameter: Parameter = "", start: Day = None,
                   end: Day = None) -> Response:  # fmt: skip
    station = st.get_station(session, code)
    data = st.export_csv(session, station.code, parameter=parameter or None, start=start, end=end)
    name = quote(f"{station.code}_{parameter or '全部参数'}_{start or ''}_{end or ''}.csv")
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip
