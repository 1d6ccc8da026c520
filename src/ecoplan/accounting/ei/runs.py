"""Store, find and publish EI assessment runs (one transaction each, audited).

Time series never mix methods: the previous year's EI for ΔEI is looked up only among runs
with the same method key, and a run of another method is reported as not comparable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoplan import audit
from ecoplan.accounting.ei.compute import EIResult
from ecoplan.accounting.ei.method import Method
from ecoplan.accounting.ei.models import EIResultRow, EIRun
from ecoplan.accounting.ei.table import IndicatorRow
from ecoplan.db import utcnow
from ecoplan.errors import ConflictError, NotFoundError


def store_run(
    session: Session,
    *,
    results: Sequence[EIResult],
    rows: Sequence[IndicatorRow],
    method: Method,
    year: int,
    title: str,
    provenance: dict[str, Any],
    actor: str,
    is_demo: bool = False,
) -> EIRun:
    inputs = {r.region_code: r.values for r in rows}
    run = EIRun(
        year=year,
        title=title,
        method_key=method.key,
        method_standard=method.method.standard,
        method_name=method.method.name,
        method_sha256=method.sha256,
        method_definition=method.model_dump(mode="json"),
        unverified=list(method.unverified),
        provenance=provenance,
        is_demo=is_demo,
        state="draft",
        created_by=actor,
    )
    for position, r in enumerate(results):
        run.results.append(
            EIResultRow(
                position=position,
                region_code=r.region_code,
                region_name=r.region_name,
                level=r.level,
                area_km2=r.area_km2,
                **r.subindices,
                habitat_quality=None if math.isnan(r.habitat_quality) else r.habitat_quality,
                ei_unrestricted=r.ei_unrestricted,
                ei=r.ei,
                grade=r.grade,
                restriction_level=r.restriction_level,
                restriction_note=r.restriction_note,
                approximation=r.approximation,
                previous_ei=r.previous_ei,
                delta=r.delta,
                change_grade=r.change_grade,
                verdict=r.verdict,
                verdict_met=r.verdict_met,
                inputs=inputs.get(r.region_code),
            )
        )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ei.run.create",
        entity_type="ei_run",
        entity_id=run.id,
        after={"year": year, "method": method.key, "regions": len(results), "title": title},
        context={"inputs": provenance.get("inputs", {})},
    )
    return run


def previous_year_ei(
    session: Session, year: int, method: Method
) -> tuple[dict[str, float], str | None]:
    """Last year's EI by region from the latest run of the *same* method, and a note.

    Published runs are preferred over drafts. If last year was assessed only with another
    method, nothing is returned and the note says why (never mix methods in one series).
    """
    runs = session.scalars(
        select(EIRun).where(EIRun.year == year - 1).order_by(EIRun.state.desc(), EIRun.id.desc())
    ).all()
    same = [r for r in runs if r.method_key == method.key]
    if same:
        chosen = sorted(same, key=lambda r: (r.state == "published", r.id))[-1]
        return {
            row.region_code: row.ei for row in chosen.results
        }, f"上年数据: 第 {chosen.id} 次核算({chosen.title})"
    if runs:
        return (
            {},
            f"{year - 1} 年只有方法 {runs[0].method_key} 的结果，与 {method.key} 不可比，未计算变化",
        )
    return {}, None


def method_of(run: EIRun) -> Method:
    """The method a run was computed with, as stored with it."""
    return Method.model_validate(run.method_definition)


def get_run(session: Session, run_id: int) -> EIRun:
    run = session.scalars(
        select(EIRun).where(EIRun.id == run_id).options(selectinload(EIRun.results))
    ).one_or_none()
    if run is None:
        raise NotFoundError(f"没有第 {run_id} 次 EI 核算")
    return run


def list_runs(session: Session) -> list[EIRun]:
    return list(session.scalars(select(EIRun).order_by(EIRun.year.desc(), EIRun.id.desc())))


def latest_run(session: Session, *, published_only: bool = False) -> EIRun | None:
    query = (
        select(EIRun)
        .options(selectinload(EIRun.results))
        .order_by(EIRun.year.desc(), EIRun.id.desc())
    )
    if published_only:
        query = query.where(EIRun.state == "published")
    return session.scalars(query.limit(1)).first()


def publish_run(session: Session, run_id: int, actor: str) -> EIRun:
    run = get_run(session, run_id)
    if run.state == "published":
        raise ConflictError(f"第 {run_id} 次核算已发布")
    run.state = "published"
    run.published_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="ei.run.publish",
        entity_type="ei_run",
        entity_id=run.id,
        before={"state": "draft"},
        after={"state": "published"},
    )
    return run
