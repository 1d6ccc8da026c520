"""Who may read and write what in demonstration creation, and the districts it is kept for.

- admin, coordinator and leader read every district; the lead unit of task 13 (市生态环境局,
  ``lead_unit`` in ``creation.toml``) reads every district too;
- a district government's account reads and writes its own district only: checklist values,
  annual tasks and their progress, post-evaluation records (drafts and submission);
- the coordinator and the admin write checklist values and tasks of any district and record
  titles; the lead unit records titles and checklist values too (13.1 is its guidance work);
- post-evaluations are reviewed, returned and closed by the lead unit only (the coordinator and
  the admin read them, as with other reviews of a lead unit's own work);
- leaders and every other unit write nothing here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.creation.params import config
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.units.models import Unit

READ_ALL = frozenset({"admin", "coordinator", "leader"})
CITY_WRITERS = frozenset({"admin", "coordinator"})


def districts(session: Session) -> dict[str, str]:
    """District code → name (朝阳区 …) of the district governments in the unit directory."""
    rows = session.execute(select(Unit.district_code, Unit.name)
                           .where(Unit.kind == "district_gov", Unit.district_code.is_not(None),
                                  Unit.active.is_(True))
                           .order_by(Unit.district_code))  # fmt: skip
    return {str(code): name.removesuffix("政府") for code, name in rows}


def resolve_district(session: Session, text: str) -> tuple[str, str]:
    """(code, name) of a district given as 110119, 延庆区 or 延庆区政府."""
    text = (text or "").strip()
    for code, name in districts(session).items():
        if text in (code, name, f"{name}政府", name.removesuffix("区")):
            return code, name
    raise ValidationError(f"区“{text}”无法识别(填写区名如 延庆区,或区划代码如 110119)")


def terrain_of(session: Session, code: str) -> str:
    """The terrain class of a district for thresholds by terrain (see ``[terrain]``)."""
    mark = session.scalar(select(Unit.eco_conservation).where(Unit.kind == "district_gov",
                                                              Unit.district_code == code))  # fmt: skip
    return config().terrain.get(mark or "none", config().terrain.get("none", ""))


def _unit(session: Session, account: Account) -> Unit | None:
    return session.get(Unit, account.unit_id) if account.unit_id is not None else None


def own_district(session: Session, account: Account) -> str | None:
    """The district code of a district government's account, else None."""
    if account.role != "unit":
        return None
    unit = _unit(session, account)
    if unit is None or unit.kind != "district_gov":
        return None
    return unit.district_code


def is_lead(session: Session, account: Account) -> bool:
    """The account belongs to the lead unit of task 13 (市生态环境局)."""
    if account.role != "unit":
        return False
    unit = _unit(session, account)
    return unit is not None and unit.code == config().lead_unit


def may_view(session: Session, account: Account, code: str) -> bool:
    return (account.role in READ_ALL or is_lead(session, account)
            or own_district(session, account) == code)  # fmt: skip


def visible_districts(session: Session, account: Account) -> dict[str, str]:
    return {c: n for c, n in districts(session).items() if may_view(session, account, c)}


def check_view(session: Session, account: Account, code: str) -> None:
    if not may_view(session, account, code):
        # a unit that is not this district learns nothing about it
        raise NotFoundError(f"没有区划代码为 {code} 的示范创建记录")


def may_write_values(session: Session, account: Account, code: str) -> bool:
    """Checklist values: the district itself, the coordinator, the admin, the lead unit."""
    return (account.role in CITY_WRITERS or is_lead(session, account)
            or own_district(session, account) == code)  # fmt: skip


def may_write_tasks(session: Session, account: Account, code: str) -> bool:
    """Annual tasks and their progress: the district itself, the coordinator, the admin."""
    return account.role in CITY_WRITERS or own_district(session, account) == code


def may_record_titles(session: Session, account: Account) -> bool:
    return account.role in CITY_WRITERS or is_lead(session, account)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)
