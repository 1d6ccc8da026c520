"""Store, find and compare GEP-R accounting runs (one transaction each, audited)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoplan import audit
from ecoplan.accounting.gep.models import GepResult, GepRun
from ecoplan.accounting.gep.pipeline import Accounting
from ecoplan.errors import NotFoundError, ValidationError


def store_run(
    session: Session, accounting: Accounting, *, title: str, actor: str, is_demo: bool = False
) -> GepRun:
    p = accounting.provenance
    run = GepRun(
        year=accounting.year, title=title, parameters_key=p["parameters"]["key"],
        prices_key=p["prices"]["key"], services=accounting.services, provenance=p,
        rasters=accounting.rasters, warnings=accounting.warnings, is_demo=is_demo, created_by=actor,
    )  # fmt: skip
    for position, r in enumerate(accounting.rows):
        run.results.append(
            GepResult(
                position=position, level=r.level, region_code=r.region_code,
                region_name=r.region_name, service=r.service, service_name=r.service_name,
                quantity=r.quantity, unit=r.unit, value_yuan=r.value_yuan, variant=r.variant,
                verified=r.verified, components=r.components,
            )
        )  # fmt: skip
    session.add(run)
    session.flush()
    audit.record(
        session, actor=actor, action="gep.run.create", entity_type="gep_run", entity_id=run.id,
        after={"year": run.year, "title": title, "services": run.services, "rows": len(run.results),
               "parameters": run.parameters_key, "prices": run.prices_key},
        context={"inputs": p.get("inputs", {})},
    )  # fmt: skip
    return run


def get_run(session: Session, run_id: int) -> GepRun:
    run = session.scalars(
        select(GepRun).where(GepRun.id == run_id).options(selectinload(GepRun.results))
    ).first()
    if run is None:
        raise NotFoundError(f"没有编号为 {run_id} 的 GEP-R 核算")
    return run


def list_runs(session: Session) -> Sequence[GepRun]:
    return session.scalars(select(GepRun).order_by(GepRun.year.desc(), GepRun.id.desc())).all()


def previous_run(session: Session, run: GepRun) -> GepRun | None:
    """The latest run of an earlier year (for year-on-year change)."""
    return session.scalars(
        select(GepRun).where(GepRun.year < run.year).order_by(GepRun.year.desc(), GepRun.id.desc())
    ).first()


def totals(run: GepRun, level: str | None = None) -> dict[tuple[str, str], float]:
    """GEP-R value (元) per (region code, region name) summed over services."""
    out: dict[tuple[str, str], float] = defaultdict(float)
    for r in run.results:
        if level is None or r.level == level:
            out[(r.region_code, r.region_name)] += r.value_yuan
    return dict(out)


@dataclass(frozen=True)
class Change:
    """ΔV of one (region, service) split into the quantity part and the price part.

    Per priced component, with V = Q·P: quantity part ΔQ·(P₀+P₁)/2, price part ΔP·(Q₀+Q₁)/2
    (the midpoint split: the two parts add up exactly to ΔV, with no residual).
    """

    level: str
    region_code: str
    region_name: str
    service: str
    service_name: str
    value_before: float
    value_after: float
    quantity_part: float
    price_part: float

    @property
    def delta(self) -> float:
        return self.value_after - self.value_before


def compare(before: GepRun, after: GepRun) -> list[Change]:
    old = {(r.level, r.region_code, r.service): r for r in before.results}
    changes: list[Change] = []
    for r in after.results:
        o = old.get((r.level, r.region_code, r.service))
        if o is None:
            continue
        q_part = p_part = 0.0
        old_components = {c["name"]: c for c in o.components}
        for c in r.components:
            b: dict[str, Any] = old_components.get(
                c["name"], {"quantity": 0.0, "price": c["price"]}
            )
            q_part += (c["quantity"] - b["quantity"]) * (c["price"] + b["price"]) / 2
            p_part += (c["price"] - b["price"]) * (c["quantity"] + b["quantity"]) / 2
        changes.append(
            Change(r.level, r.region_code, r.region_name, r.service, r.service_name,
                   o.value_yuan, r.value_yuan, q_part, p_part)
        )  # fmt: skip
    if not changes:
        raise ValidationError(f"核算 {before.id} 与 {after.id} 没有相同的区域和服务，无法比较")
    return changes
