"""Who may do what: roles and each unit's role in a measure.

A measure's *shares* are the units that report on it: its responsible units, or its lead
units when the document names no responsible unit. Placeholders such as 相关区政府 have no
share until the lead unit designates real districts.

Rules (the matrix in ``docs/supervision.md`` lists them and the tests check every cell):
- admin, coordinator, leader read everything; the public reads only what is published;
- a unit user reads the measures its unit leads, is responsible for or assists; on a measure
  its unit does not lead it sees only its own unit's reports (a district sees its share);
- the reporting unit files and requests closure of its share; an assisting unit adds its part;
- a lead unit reviews the reports of the other units and designates 相关区政府; a lead unit's
  own share is reviewed by the coordinator, who also closes, reopens and publishes.
"""

from __future__ import annotations

from ecoplan.accounts.models import Account
from ecoplan.errors import PermissionDenied
from ecoplan.plans.models import Measure
from ecoplan.supervision.models import Report

READ_ALL_ROLES = frozenset({"admin", "coordinator", "leader"})


def unit_roles(measure: Measure, unit_id: int | None) -> set[str]:
    if unit_id is None:
        return set()
    return {a.role for a in measure.assignments if a.unit_id == unit_id and not a.placeholder}


def share_unit_ids(measure: Measure) -> list[int]:
    """The units that report on a measure, in document order, without repeats."""
    for role in ("responsible", "lead"):
        ids = [a.unit_id for a in measure.assignments if a.role == role and a.unit_id]
        if ids:
            return list(dict.fromkeys(ids))
    return []


def can_view_measure(account: Account, measure: Measure) -> bool:
    return account.role in READ_ALL_ROLES or bool(unit_roles(measure, account.unit_id))


def can_view_all_shares(account: Account, measure: Measure) -> bool:
    return account.role in READ_ALL_ROLES or "lead" in unit_roles(measure, account.unit_id)


def can_view_report(account: Account, report: Report) -> bool:
    if can_view_all_shares(account, report.measure):
        return True
    return account.role == "unit" and account.unit_id == report.unit_id


def report_role(account: Account, measure: Measure) -> str | None:
    """How the account's unit reports on the measure, or None when it may not.

    'responsible': its own share; 'lead': the lead unit's city-wide summary (汇总), which
    carries the values of targets that cannot be summed over units, such as 森林覆盖率;
    'assisting': the assisting unit's part.
    """
    if account.role != "unit" or account.unit_id is None:
        return None
    if account.unit_id in share_unit_ids(measure):
        return "responsible"
    roles = unit_roles(measure, account.unit_id)
    for role in ("lead", "assisting"):
        if role in roles:
            return role
    return None


def can_review(account: Account, report: Report) -> bool:
    """Lead units review other units' reports; the coordinator reviews a lead unit's own, and
    every report of a measure whose lead is still an undesignated placeholder."""
    lead_ids = {a.unit_id for a in report.measure.assignments if a.role == "lead" and a.unit_id}
    if not lead_ids or report.unit_id in lead_ids:
        return account.role == "coordinator"
    return account.role == "unit" and account.unit_id in lead_ids


def can_designate(account: Account, measure: Measure) -> bool:
    return account.role == "coordinator" or (
        account.role == "unit" and "lead" in unit_roles(measure, account.unit_id)
    )


def can_run_reminders(account: Account) -> bool:
    return account.role in ("coordinator", "admin")


def is_coordinator(account: Account) -> bool:
    return account.role == "coordinator"


def require(allowed: bool, what: str) -> None:
    """Raise PermissionDenied naming the action when ``allowed`` is false."""
    if not allowed:
        raise PermissionDenied(f"无权{what}")
