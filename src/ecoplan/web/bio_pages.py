"""Biodiversity pages (measures 5.1, 5.2): the year's surveys with their quality, diversity by
district, protected and indicator species, the import of a district's sheet or archive, the
city's publication of a survey; one survey with its sampling points and flags; the species list;
and the public species page of published surveys.

Thin: uploads and form fields are handed to ``ecoplan.monitoring``; who may import or publish
is decided there and here only to choose which forms to show.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from ecoplan.accounts.models import Account
from ecoplan.api.uploads import required_upload, uploaded_file
from ecoplan.config import today as current_day
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring import observations as obs
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent, Taxon
from ecoplan.monitoring.summaries import diversity_table
from ecoplan.monitoring.surveys import protocols
from ecoplan.units.models import Unit
from ecoplan.web.auth import CurrentAccount, Db, Id, OptionalAccount, Viewer, current_account
from ecoplan.web.case_pages import base_map
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
public_router = APIRouter(include_in_schema=False)
Year = Annotated[int | None, Query(ge=2000, le=2100)]
FLAG_LABELS = {
    "ZERO_COORDINATE": "坐标为 0,0", "COORDINATE_OUT_OF_RANGE": "坐标超出范围",
    "PRESUMED_SWAPPED_COORDINATE": "经纬度颠倒(已纠正)", "COORDINATE_OUTSIDE_BEIJING": "坐标不在北京",
    "RECORDED_DATE_INVALID": "日期无效", "RECORDED_DATE_UNLIKELY": "日期晚于导入日",
    "TAXON_MATCH_NONE": "物种名未匹配", "TAXON_MATCH_FUZZY": "物种名模糊匹配",
    "INDIVIDUAL_COUNT_INVALID": "数量无效", "INDIVIDUAL_COUNT_MISSING": "缺少数量",
    "OCCURRENCE_STATUS_INFERRED_FROM_INDIVIDUAL_COUNT": "数量为 0,记为未见",
    "BASIS_OF_RECORD_INVALID": "记录依据无效", "SAMPLING_EFFORT_MISSING": "缺少努力量",
}  # fmt: skip
INDEX_COLUMNS = [("S", "物种数"), ("N", "个体数"), ("shannon", "Shannon H′"), ("gini_simpson", "Simpson 1−D"),
                 ("pielou", "Pielou J"), ("margalef", "Margalef"), ("chao1", "Chao1")]  # fmt: skip
TREND_COLORS = {"上升": "#2e9e5b", "稳定": "#1c7ed6", "下降": "#d64541"}


def may_import(account: Account) -> bool:
    """Units submit their own surveys; the city office and the admin import for any unit."""
    return account.role in ("unit", "coordinator", "admin")


def _indicator_chart(trends: list[obs.IndicatorTrend]) -> dict[str, Any] | None:
    shown = [t for t in trends if any(y.rate is not None for y in t.years)]
    if not shown:
        return None
    fig = go.Figure()
    for t in shown:
        rated = [y for y in t.years if y.rate is not None]
        unit = rated[0].effort_unit or "单位努力量"
        fig.add_scatter(x=[y.year for y in rated], y=[y.rate for y in rated], mode="lines+markers",
                        name=f"{t.species.name_cn}(只/{unit})")  # fmt: skip
    fig.update_layout(margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=280,
                      xaxis={"dtick": 1}, legend={"orientation": "h"},
                      font={"family": "WenQuanYi Zen Hei, sans-serif"})  # fmt: skip
    data = fig.to_plotly_json()
    return {"data": data["data"], "layout": data["layout"]}


def _diversity(session: Db, year: int) -> list[dict[str, Any]]:
    table = diversity_table(session, year=year, by="district")
    if table.empty:
        return []
    keep = ["district", *[k for k, _ in INDEX_COLUMNS]]
    # NaN (an index undefined for one species) shows as a dash, not "nan"
    return [{k: (None if v != v else v) for k, v in row.items()}
            for row in table[keep].to_dict("records")]  # fmt: skip


@router.get("/biodiversity", response_class=HTMLResponse)
def biodiversity_page(request: Request, session: Db, account: CurrentAccount, year: Year = None,
                      msg: str = "") -> Response:  # fmt: skip
    years = sorted({y for (y,) in session.execute(select(Survey.year).distinct())}, reverse=True)
    year = year or (years[0] if years else current_day().year)
    protected = obs.protected_recorded(session, year)
    trends = obs.indicator_trends(session)
    units = session.scalars(select(Unit).where(Unit.active).order_by(Unit.kind, Unit.code)).all()
    return render(request, "biodiversity.html", {
        "year": year, "years": years or [year], "rows": obs.survey_rows(session, year),
        "protected": protected, "counts": obs.protected_counts(protected), "trends": trends,
        "trend_chart": _indicator_chart(trends), "TREND_COLORS": TREND_COLORS,
        "diversity": _diversity(session, year), "INDEX_COLUMNS": INDEX_COLUMNS,
        "coverage": obs.district_coverage(session, year), "PROTOCOLS": protocols(),
        "may_import": may_import(account), "may_publish": obs.may_publish(account),
        "units": units, "msg": msg,
    })  # fmt: skip


@router.post("/biodiversity/import")
async def import_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    from ecoplan.monitoring.exchange import import_archive
    from ecoplan.monitoring.surveys import import_survey

    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        if not may_import(account):
            raise PermissionDenied("无权导入调查数据")
        upload = required_upload(form, "请选择调查表(CSV/XLSX)或达尔文核心存档(.zip)")
        title, protocol = str(form.get("title", "")).strip(), str(form.get("protocol", ""))
        year_text = str(form.get("year", "")).strip()
        if not title or not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
            raise ValidationError("请填写调查名称和年度")
        # a unit submits for itself; the city office names the submitting unit
        unit_code = (account.unit.code if account.role == "unit" and account.unit
                     else str(form.get("unit", "")) or None)  # fmt: skip
        async with uploaded_file(upload, (".csv", ".xlsx", ".zip"),
                                 "只接受 CSV、XLSX 调查表或达尔文核心存档(.zip)") as path:  # fmt: skip
            reader = import_archive if path.suffix.lower() == ".zip" else import_survey
            result = reader(session, path, protocol=protocol, title=title, year=int(year_text),
                            actor=account.actor, unit_code=unit_code, today=current_day())  # fmt: skip
    finally:
        await form.close()
    flagged = sum(result.flags.values())
    note = f",{len(result.unmatched)} 个物种名未匹配(见调查详情)" if result.unmatched else ""
    return back(f"/biodiversity/surveys/{result.survey.id}",
                f"已导入: {result.events} 个采样事件,{result.occurrences} 条记录,质量标注 {flagged} 处{note}")  # fmt: skip


def _survey(session: Db, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFoundError(f"调查 {survey_id} 不存在")
    return survey


def _events_map(events: list[SurveyEvent]) -> dict[str, Any]:
    fig = base_map(320)
    placed = [e for e in events if e.lon is not None and e.lat is not None]
    trace = go.Scattermap(lon=[e.lon for e in placed], lat=[e.lat for e in placed], mode="markers",
                          marker={"size": 8, "color": ["#d64541" if e.flags else "#2e9e5b" for e in placed]},
                          text=[f"{e.location_id or e.event_id} {e.event_date}" for e in placed])  # fmt: skip
    fig["data"] = [trace.to_plotly_json()]
    return fig


@router.get("/biodiversity/surveys/{survey_id}", response_class=HTMLResponse)
def survey_page(request: Request, survey_id: Id, session: Db, account: CurrentAccount,
                msg: str = "") -> Response:  # fmt: skip
    survey = _survey(session, survey_id)
    events = list(session.scalars(
        select(SurveyEvent).where(SurveyEvent.survey_id == survey.id).order_by(SurveyEvent.id)))  # fmt: skip
    flags: dict[str, int] = {}
    unmatched: dict[str, int] = {}
    by_taxon: dict[int, list[Any]] = {}
    for occ, taxon in session.execute(
        select(Occurrence, Taxon).outerjoin(Taxon, Taxon.id == Occurrence.taxon_id)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk).where(SurveyEvent.survey_id == survey.id)
    ):  # fmt: skip
        for f in occ.flags or []:
            flags[f] = flags.get(f, 0) + 1
        if occ.taxon_id is None:
            unmatched[occ.verbatim_name] = unmatched.get(occ.verbatim_name, 0) + 1
        elif occ.status == "present":
            item = by_taxon.setdefault(taxon.id, [taxon, 0, 0.0])
            item[1] += 1
            item[2] += occ.individual_count or 0
    unit = session.get(Unit, survey.unit_id) if survey.unit_id else None
    return render(request, "survey.html", {
        "s": survey, "unit": unit, "events": events[:300], "event_count": len(events),
        "flags": sorted(flags.items(), key=lambda kv: -kv[1]), "FLAG_LABELS": FLAG_LABELS,
        "unmatched": sorted(unmatched.items(), key=lambda kv: -kv[1]),
        "taxa": sorted(by_taxon.values(), key=lambda t: -t[2]), "map": _events_map(events),
        "protocol": protocols().get(survey.protocol), "may_publish": obs.may_publish(account), "msg": msg,
    })  # fmt: skip


@router.get("/biodiversity/surveys/{survey_id}/dwca.zip")
def survey_archive(survey_id: Id, session: Db, account: CurrentAccount) -> Response:
    from ecoplan.monitoring.dwca import Party
    from ecoplan.monitoring.exchange import export_survey

    survey = _survey(session, survey_id)
    unit = session.get(Unit, survey.unit_id) if survey.unit_id else None
    publisher = unit.full_name if unit else "北京市生态环境局"
    with tempfile.TemporaryDirectory() as tmp:
        path = export_survey(session, survey.id, Path(tmp) / "dwca.zip", publisher=publisher,
                             contact=Party(sur_name=account.display_name, organisation=publisher,
                                           email=account.email))  # fmt: skip
        data = path.read_bytes()
    name = quote(f"{survey.title}_dwca.zip")
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip


@router.post("/biodiversity/surveys/{survey_id}/publish")
async def publish_form(
    request: Request, survey_id: Id, session: Db, account: CurrentAccount
) -> Response:
    form = await request.form()
    publish = str(form.get("publish", "1")) == "1"
    survey = obs.set_published(session, account, survey_id, publish)
    return back(f"/biodiversity/surveys/{survey.id}",
                "已发布到公开物种名录" if publish else "已撤回发布")  # fmt: skip


# --- species list --------------------------------------------------------------------------------


@router.get("/species", response_class=HTMLResponse)
def species_page(request: Request, session: Db, account: CurrentAccount, q: str = "", group: str = "",
                 level: str = "", msg: str = "") -> Response:  # fmt: skip
    query = select(Taxon).order_by(Taxon.group, Taxon.name_cn)
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(Taxon.name_cn.like(like) | Taxon.scientific_name.ilike(like))
    if group:
        query = query.where(Taxon.group == group)
    if level in ("I", "II"):
        query = query.where(Taxon.national_level == level)
    elif level == "beijing":
        query = query.where(Taxon.beijing_level.is_not(None))
    elif level == "invasive":
        query = query.where(Taxon.invasive)
    taxa = session.scalars(query.limit(500)).all()
    counts = dict(session.execute(
        select(Occurrence.taxon_id, func.count()).where(Occurrence.taxon_id.in_([t.id for t in taxa]))
        .group_by(Occurrence.taxon_id)).all())  # fmt: skip
    groups = [g for (g,) in session.execute(select(Taxon.group).distinct().order_by(Taxon.group))]
    total = session.scalar(select(func.count()).select_from(Taxon)) or 0
    return render(request, "species.html", {
        "taxa": taxa, "counts": counts, "groups": groups, "total": total,
        "flt": {"q": q, "group": group, "level": level}, "may_load": account.role == "admin", "msg": msg,
    })  # fmt: skip


@router.post("/species/import")
async def species_import(request: Request, session: Db, account: CurrentAccount) -> Response:
    from ecoplan.monitoring.taxa import load_taxa_csv

    form = await request.form()
    try:
        if account.role != "admin":
            raise PermissionDenied("只有系统管理员可以维护物种名录")
        upload = required_upload(form, "请选择物种名录 CSV")
        async with uploaded_file(upload, (".csv",), "物种名录只接受 CSV") as path:
            result = load_taxa_csv(session, path, actor=account.actor)
    finally:
        await form.close()
    return back(
        "/species", f"新增 {result.added} 个、更新 {result.updated} 个物种,异名 {result.names} 个"
    )


@public_router.get("/public/species", response_class=HTMLResponse)
def public_species_page(request: Request, session: Db, viewer: OptionalAccount) -> Response:
    species = obs.public_species(session)
    published = session.scalars(
        select(Survey).where(Survey.published_at.is_not(None)).order_by(Survey.year.desc())
    ).all()
    return render(request, "public_species.html", {
        "species": species, "surveys": published, "account": Viewer.of(viewer) if viewer else None,
    })  # fmt: skip
