"""REST API for EI runs: the same records the pages and ``ecoplan ei runs`` show."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ecoplan.accounting.ei import runs
from ecoplan.accounting.ei.method import SUBINDICES
from ecoplan.accounting.ei.models import EIRun
from ecoplan.web.auth import Db, Id, current_account

router = APIRouter(prefix="/api/v1/ei", tags=["生态环境质量EI"])


class RunOut(BaseModel):
    id: int
    year: int
    title: str
    state: str
    method_key: str
    method_standard: str
    unverified: list[str]
    is_demo: bool


class RegionOut(BaseModel):
    region_code: str
    region_name: str
    level: str
    area_km2: float
    subindices: dict[str, float]
    ei: float
    grade: str
    restriction_note: str
    approximation: bool
    previous_ei: float | None
    delta: float | None
    change_grade: str | None
    verdict: str | None
    verdict_met: bool | None
    inputs: dict[str, Any] | None


class RunDetailOut(RunOut):
    provenance: dict[str, Any]
    results: list[RegionOut]


def _run(run: EIRun) -> dict[str, Any]:
    return {"id": run.id, "year": run.year, "title": run.title, "state": run.state, "method_key": run.method_key,
            "method_standard": run.method_standard, "unverified": run.unverified, "is_demo": run.is_demo}  # fmt: skip


@router.get(
    "/runs",
    response_model=list[RunOut],
    summary="EI 核算列表",
    dependencies=[Depends(current_account)],
)
def list_runs(session: Db) -> list[dict[str, Any]]:
    return [_run(r) for r in runs.list_runs(session)]


@router.get(
    "/runs/{run_id}",
    response_model=RunDetailOut,
    summary="一次 EI 核算的结果、输入和来源",
    dependencies=[Depends(current_account)],
)
def run_detail(run_id: Id, session: Db) -> dict[str, Any]:
    run = runs.get_run(session, run_id)
    results = [
        {**{k: getattr(r, k) for k in RegionOut.model_fields if k != "subindices"},
         "subindices": {k: getattr(r, k) for k in SUBINDICES}}
        for r in run.results
    ]  # fmt: skip
    return {**_run(run), "provenance": run.provenance, "results": results}
