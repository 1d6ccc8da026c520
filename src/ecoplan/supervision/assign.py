"""The lead unit (or the coordinator) designates the units behind 相关区政府 in a measure.

A thin permission wrapper over :func:`ecoplan.plans.designate.designate`, which checks the
scope (only districts may replace 相关区政府) and writes a new plan revision.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.plans.designate import designate
from ecoplan.plans.models import Measure
from ecoplan.supervision import access
from ecoplan.units.service import directory


def placeholder_roles(measure: Measure) -> list[str]:
    """Roles of the measure that still hold an undesignated placeholder."""
    return list(dict.fromkeys(a.role for a in measure.assignments if a.placeholder))


def designate_units(session: Session, account: Account, measure: Measure, role: str,
                    names: list[str]) -> list[str]:  # fmt: skip
    access.require(access.can_designate(account, measure), f"为措施 {measure.doc_id} 指定单位")
    return designate(session, measure.plan, measure.uid, names, role=role, actor=account.actor,
                     directory=directory(session))  # fmt: skip
