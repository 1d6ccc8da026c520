"""GEP-R pages: a run's totals by service and district, a district map, year-on-year change,
the compensation allocation with its docx explanation."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from ecoplan.accounting.gep import runs
from ecoplan.accounting.gep.compensation import INDICATORS, report_docx
from ecoplan.accounting.gep.models import Compensation, GepRun
from ecoplan.errors import NotFoundError
from ecoplan.web.auth import Db, Id, current_account
from ecoplan.web.ei_charts import beijing_figure, beijing_geojson
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(current_account)])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def district_table(run: GepRun, before: GepRun | None) -> list[dict[str, Any]]:
    now = runs.totals(run, "district")
    old = {code: v for (code, _), v in runs.totals(before, "district").items()} if before else {}
    by_service: dict[str, dict[str, float]] = defaultdict(dict)
    for r in run.results:
        if r.level == "district":
            by_service[r.region_code][r.service] = r.value_yuan
    return [
        {"code": code, "name": name, "total": value, "services": by_service[code],
         "change": value - old[code] if code in old else None}
        for (code, name), value in sorted(now.items(), key=lambda kv: -kv[1])
    ]  # fmt: skip


def value_map(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    known = {f["id"] for f in beijing_geojson()["features"]}
    shown = [r for r in rows if r["code"] in known]
    if not shown:
        return None
    fig = go.Figure(
        go.Choroplethmap(
            geojson=beijing_geojson(), locations=[r["code"] for r in shown],
            z=[r["total"] / 1e8 for r in shown], colorscale="Greens",
            colorbar={"title": {"text": "亿元"}}, hoverinfo="text",
            text=[f"{r['name']}<br>GEP-R {r['total'] / 1e8:.2f} 亿元" for r in shown],
            marker={"line": {"width": 1, "color": "#ffffff"}, "opacity": 0.9},
        )
    )  # fmt: skip
    return beijing_figure(fig)


@router.get("/gep", response_class=HTMLResponse)
def gep_page(request: Request, session: Db, run: int | None = None) -> Response:
    all_runs = runs.list_runs(session)
    context: dict[str, object] = {"all_runs": all_runs, "indicators": INDICATORS}
    chosen = runs.get_run(session, run) if run else (all_runs[0] if all_runs else None)
    if chosen is not None:
        before = runs.previous_run(session, chosen)
        rows = district_table(chosen, before)
        city = [r for r in chosen.results if r.level == "city"]
        context |= {
            "run": chosen, "before": before, "city": city, "districts": rows,
            "city_total": sum(r.value_yuan for r in city), "map": value_map(rows),
            "unverified": any(not r.verified for r in chosen.results),
            "services": [(r.service, r.service_name) for r in city],
            "compensations": session.scalars(
                select(Compensation).where(Compensation.run_id == chosen.id).order_by(Compensation.id.desc())
            ).all(),
        }  # fmt: skip
    return render(request, "gep.html", context)


@router.get("/gep/compensations/{comp_id}.docx")
def compensation_docx(comp_id: Id, session: Db) -> Response:
    record = session.get(Compensation, comp_id)
    if record is None:
        raise NotFoundError(f"没有编号为 {comp_id} 的补偿测算")
    return Response(
        report_docx(record), media_type=DOCX,
        headers={"Content-Disposition": f"attachment; filename=compensation-{comp_id}.docx"},
    )  # fmt: skip
