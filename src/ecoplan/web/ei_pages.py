"""EI pages: results of an assessment run (map, table, change, verdict), a region's inputs,
the bulletin (docx), publication, and the public view of the published run."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ecoplan.accounting.ei import runs
from ecoplan.accounting.ei.method import SUBINDEX_NAMES, SUBINDICES
from ecoplan.accounting.ei.models import RUN_STATES, EIRun
from ecoplan.errors import NotFoundError, PermissionDenied
from ecoplan.reports.ei_bulletin import city_row, ei_bulletin_docx, headline
from ecoplan.web.auth import CurrentAccount, Db, Id, OptionalAccount, Viewer, current_account
from ecoplan.web.ei_charts import GRADE_COLORS, grade_map
from ecoplan.web.templating import render

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _context(run: EIRun) -> dict[str, object]:
    grades = [g.label for g in runs.method_of(run).grades]
    return {
        "run": run, "city": city_row(run), "headline": headline(run),
        "districts": [r for r in run.results if r.level in ("district", "zone")],
        "others": [r for r in run.results if r.level not in ("district", "zone")],
        "subindices": [(k, SUBINDEX_NAMES[k]) for k in SUBINDICES], "colors": GRADE_COLORS,
        "map": grade_map(list(run.results), grades), "states": RUN_STATES,
    }  # fmt: skip


@router.get("/ei", response_class=HTMLResponse)
def ei_page(
    request: Request, session: Db, account: CurrentAccount, run: int | None = None, msg: str = ""
) -> Response:
    chosen = runs.get_run(session, run) if run else runs.latest_run(session)
    context: dict[str, object] = {"all_runs": runs.list_runs(session), "msg": msg,
                                  "can_publish": account.role in ("coordinator", "admin")}  # fmt: skip
    if chosen is not None:
        context |= _context(chosen)
    return render(request, "ei.html", context)


@router.get(
    "/ei/runs/{run_id}/regions/{code}",
    response_class=HTMLResponse,
    dependencies=[Depends(current_account)],
)
def ei_region(request: Request, run_id: Id, code: str, session: Db) -> Response:
    run = runs.get_run(session, run_id)
    row = next((r for r in run.results if r.region_code == code), None)
    if row is None:
        raise NotFoundError(f"第 {run_id} 次核算中没有区域 {code}")
    return render(request, "ei_region.html", {"run": run, "row": row, "method": runs.method_of(run),
                                              "subindices": [(k, SUBINDEX_NAMES[k]) for k in SUBINDICES]})  # fmt: skip


@router.get("/ei/runs/{run_id}/bulletin.docx", dependencies=[Depends(current_account)])
def ei_bulletin(run_id: Id, session: Db) -> Response:
    return _docx(runs.get_run(session, run_id))


def _docx(run: EIRun) -> Response:
    return Response(ei_bulletin_docx(run), media_type=DOCX,
                    headers={"Content-Disposition": f"attachment; filename=ei-{run.year}-{run.id}.docx"})  # fmt: skip


@router.post("/ei/runs/{run_id}/publish")
def ei_publish(run_id: Id, session: Db, account: CurrentAccount) -> Response:
    if account.role not in ("coordinator", "admin"):
        raise PermissionDenied("只有统筹协调人员或管理员可以发布评价结果")
    runs.publish_run(session, run_id, account.username)
    return RedirectResponse(f"/ei?run={run_id}&msg=已发布，公开页面将显示本次结果", status_code=303)


@router.get("/public/ei", response_class=HTMLResponse)
def public_ei(request: Request, session: Db, viewer: OptionalAccount) -> Response:
    run = runs.latest_run(session, published_only=True)
    context: dict[str, object] = {"account": Viewer.of(viewer) if viewer else None}
    if run is not None:
        context |= _context(run)
    return render(request, "public_ei.html", context)


@router.get("/public/ei/bulletin.docx")
def public_bulletin(session: Db) -> Response:
    """The bulletin of the latest published run, for anyone (task 11.1 对社会公布)."""
    run = runs.latest_run(session, published_only=True)
    if run is None:
        raise NotFoundError("暂无已发布的生态环境质量评价结果")
    return _docx(run)
