"""绿视率 page (measure 14.1 "全市各区建成区绿视率稳中有升"): the year's sample points on a map
coloured by GVI, the per-district table with the change on paired points and the verdict, the
city verdict 稳中有升, the stored surveys and an upload form (manifest + zip of images).

Thin: the survey is computed by :func:`ecoplan.greenview.survey.run_survey` (in a worker thread:
it is CPU work) and stored by :mod:`ecoplan.greenview.store`, which also decides who may store.
"""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any

import anyio.to_thread
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from ecoplan.api.uploads import required_upload, uploaded_file
from ecoplan.config import BEIJING_TZ
from ecoplan.config import today as current_day
from ecoplan.errors import EcoplanError, NotFoundError, PermissionDenied, ValidationError
from ecoplan.greenview import store
from ecoplan.greenview.compare import Comparison
from ecoplan.greenview.method import load_method
from ecoplan.greenview.models import GreenViewSurvey
from ecoplan.greenview.survey import run_survey
from ecoplan.indicators import registry
from ecoplan.supervision import evidence
from ecoplan.web.auth import CurrentAccount, Db, current_account
from ecoplan.web.case_pages import base_map
from ecoplan.web.pages import back
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
Year = Annotated[int | None, Query(ge=2000, le=2100)]
SCALE = [[0.0, "#f3efc9"], [0.5, "#8cc665"], [1.0, "#1b6e35"]]  # pale → deep green


def points_map(points: pd.DataFrame, height: int = 440) -> dict[str, Any]:
    """The points coloured by GVI (%) on the district outlines; no tiles (offline)."""
    fig = base_map(height)
    if points.empty:
        return fig
    top = max(50.0, float(points["gvi"].max()))
    text = [f"{r.point_id} · {r.district or '区外'}<br>绿视率 {r.gvi:.1f}%"
            + ("<br>" + ";".join(r.flags) if r.flags else "") for r in points.itertuples()]  # fmt: skip
    trace = go.Scattermap(
        lon=list(points["lon"]), lat=list(points["lat"]), mode="markers", text=text,
        customdata=list(points["point_id"]), hoverinfo="text", name="样点",
        marker={"size": 9, "color": list(points["gvi"]), "colorscale": SCALE, "cmin": 0,
                "cmax": top, "colorbar": {"title": {"text": "绿视率 %"}, "thickness": 12}},
    )  # fmt: skip
    fig["data"] = [trace.to_plotly_json()]
    fig["layout"]["map"]["center"] = {"lon": float(points["lon"].mean()),
                                      "lat": float(points["lat"].mean())}  # fmt: skip
    span = max(float(np.ptp(points["lon"])), float(np.ptp(points["lat"])), 0.01)
    # ~0.7° fills the frame at zoom 9 (as case_pages.clue_map); closer for a few districts
    fig["layout"]["map"]["zoom"] = max(8.0, min(14.0, 9.0 - math.log2(span / 0.7)))
    return fig


def _rows(table: pd.DataFrame, comparison: Comparison | None) -> list[dict[str, Any]]:
    verdicts = {}
    if comparison is not None:
        verdicts = {v.district_code: v for v in [comparison.city, *comparison.districts]}
    rows = []
    for r in table.itertuples():
        v = verdicts.get(str(r.district_code))
        change = v.mean_change if v is not None and not math.isnan(v.mean_change) else None
        rows.append({"code": r.district_code, "name": r.district, "n": r.n_points,
                     "mean": r.mean_gvi, "median": r.median_gvi, "incomplete": r.n_incomplete,
                     "pairs": v.n_pairs if v else 0, "change": change,
                     "ci": (v.ci_low, v.ci_high) if v and not math.isnan(v.ci_low) else None,
                     "label": v.label if v else "—"})  # fmt: skip
    return rows


@router.get("/greenview", response_class=HTMLResponse)
def greenview_page(request: Request, session: Db, account: CurrentAccount, year: Year = None,
                   msg: str = "") -> Response:  # fmt: skip
    today = current_day()
    years = store.survey_years(session)
    year = year or (today.year if today.year in years or not years else years[0])
    method = load_method()
    points = store.year_points(session, year)
    table = store.district_table(session, year, method)
    comparison, why = None, ""
    try:
        comparison = store.compare_years(session, year - 1, year)
    except EcoplanError as exc:  # no survey last year, no common points, other method
        why = str(exc)
    indicator = next((i for i in (registry.for_kind(session, store.KIND, y) for y in (year, year + 1))
                      if i is not None), None)  # fmt: skip
    return render(request, "greenview.html", {
        "year": year, "years": sorted(set(years) | {year}, reverse=True), "rows": _rows(table, comparison),
        "comparison": comparison, "why": why, "map": points_map(points), "n_points": len(points),
        "surveys": store.surveys(session), "may_store": store.may_store(session, account),
        "indicator": indicator, "verdict": method.verdict, "method": method, "msg": msg,
        "today": today, "tz8": BEIJING_TZ,
    })  # fmt: skip


@router.post("/greenview/upload")
async def upload_form(request: Request, session: Db, account: CurrentAccount) -> Response:
    form = await request.form()  # read (and closed below) before any refusal: no file left open
    try:
        if not store.may_store(session, account):
            raise PermissionDenied("无权登记绿视率调查(由督办协调员或措施 14.1 的牵头单位登记)")
        manifest = required_upload(form, "请选择图片清单(CSV 或 XLSX)", "manifest")
        images = required_upload(form, "请选择图片压缩包(.zip)", "images")
        title, year_text = str(form.get("title", "")).strip(), str(form.get("year", "")).strip()
        if not title or not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
            raise ValidationError("请填写调查名称和年度")
        year, method = int(year_text), load_method()
        async with (
            uploaded_file(manifest, (".csv", ".xlsx"), "清单只接受 CSV 或 XLSX 文件") as path,
            uploaded_file(images, (".zip",), "图片只接受 zip 压缩包") as archive,
        ):
            run = functools.partial(run_survey, path, method, images=archive, executor="thread")
            result = await anyio.to_thread.run_sync(run)
        survey = store.store_survey(session, result, year=year, title=title, actor=account.actor,
                                    method=method, notes=str(form.get("note", "")),
                                    today=current_day())  # fmt: skip
    finally:
        await form.close()
    return back(f"/greenview?year={year}",
                f"已登记调查“{survey.title}”: 图片 {survey.images} 张,样点 {survey.points} 个"
                + (f"(不完整 {survey.incomplete} 个)" if survey.incomplete else ""))  # fmt: skip


@router.get("/greenview/surveys/{survey_id}/images.csv")
def images_file(survey_id: int, session: Db) -> FileResponse:
    survey = session.get(GreenViewSurvey, survey_id)
    if survey is None or survey.images_sha256 is None:
        raise NotFoundError(f"绿视率调查 {survey_id} 不存在或没有逐图结果")
    path = evidence.path_of(survey.images_sha256)
    if not path.is_file():
        raise NotFoundError("逐图结果文件缺失")
    return FileResponse(path, media_type="text/csv; charset=utf-8",
                        filename=f"greenview-{survey.year}-{survey.id}-images.csv")  # fmt: skip
