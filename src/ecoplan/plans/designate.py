"""Designation: the lead unit names the actual units behind "相关区政府"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoplan.errors import ValidationError
from ecoplan.plans.models import Plan
from ecoplan.plans.store import current_revision, measures_by_uid, revise
from ecoplan.units.directory import UnitDirectory, normalize_name


def designate(
    session: Session,
    plan: Plan,
    uid: str,
    names: list[str],
    *,
    role: str,
    actor: str,
    directory: UnitDirectory,
) -> list[str]:
    """Replace the placeholder of ``role`` in measure ``uid`` by ``names``; returns the new list."""
    measures = measures_by_uid(current_revision(plan))
    if uid not in measures:
        raise ValidationError(f"计划中没有措施“{uid}”")
    current = measures[uid].units(role)
    placeholders = [n for n in current if directory.resolve(n).kind == "placeholder"]
    if not placeholders:
        raise ValidationError(f"措施{uid}的该栏没有待指定的单位(如“相关区政府”)")
    scope = {directory.resolve(p).group.scope for p in placeholders if directory.resolve(p).group}  # type: ignore[union-attr]
    chosen: list[str] = []
    for name in names:
        resolution = directory.resolve(name)
        if resolution.kind != "unit":
            raise ValidationError(f"“{name}”不是单位名录中的单个单位")
        unit = resolution.units[0]
        if "district" in scope and unit.kind not in ("district_gov", "econ_zone"):
            raise ValidationError(f"“{name}”不是区政府或经开区管委会,不能替代“{placeholders[0]}”")
        chosen.append(normalize_name(unit.name))
    if not chosen:
        raise ValidationError("至少指定一个单位")
    new = [n for n in current if n not in placeholders] + [n for n in chosen if n not in current]
    revise(session, plan, {uid: {role: new}}, actor=actor, kind="edit", directory=directory,
           note=f"指定{placeholders[0]}:{'、'.join(chosen)}")  # fmt: skip
    return new
