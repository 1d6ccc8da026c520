"""REST API for GEP-R runs and compensation allocations (the records the pages show)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ecoplan.accounting.gep import runs
from ecoplan.accounting.gep.models import GepRun
from ecoplan.web.auth import Db, Id, current_account

router = APIRouter(
    prefix="/api/v1/gep", tags=["GEP-R核算"], dependencies=[Depends(current_account)]
)


class RunOut(BaseModel):
    id: int
    year: int
    title: str
    parameters_key: str
    prices_key: str
    services: list[str]
    is_demo: bool


class ResultOut(BaseModel):
    level: str
    region_code: str
    region_name: str
    service: str
    service_name: str
    quantity: float
    unit: str
    value_yuan: float
    variant: str
    verified: bool
    components: list[dict[str, Any]]


class RunDetailOut(RunOut):
    provenance: dict[str, Any]
    warnings: list[str]
    results: list[ResultOut]


def _run(run: GepRun) -> dict[str, Any]:
    return {k: getattr(run, k) for k in RunOut.model_fields}


@router.get("/runs", response_model=list[RunOut], summary="GEP-R 核算列表")
def list_runs(session: Db) -> list[dict[str, Any]]:
    return [_run(r) for r in runs.list_runs(session)]


@router.get(
    "/runs/{run_id}", response_model=RunDetailOut, summary="一次 GEP-R 核算的结果、价格和来源"
)
def run_detail(run_id: Id, session: Db) -> dict[str, Any]:
    run = runs.get_run(session, run_id)
    results = [{k: getattr(r, k) for k in ResultOut.model_fields} for r in run.results]
    return {**_run(run), "provenance": run.provenance, "warnings": run.warnings, "results": results}
