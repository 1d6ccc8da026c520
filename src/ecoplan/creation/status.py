"""Where each district stands in demonstration creation in one year: titles, both checklists
(completeness, gaps), annual tasks (late ones counted against the supervision clock) and
post-evaluation records. Used by the page, the CLI and the evidence feed alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.config import today as clock
from ecoplan.creation import access
from ecoplan.creation.checklist import Checklist, district_checklists
from ecoplan.creation.models import CreationTask, CreationTitle, PostEvaluation
from ecoplan.creation.titles import is_late, tasks


@dataclass
class DistrictStatus:
    code: str
    name: str
    terrain: str
    checklists: dict[str, Checklist]
    titles: dict[str, CreationTitle] = field(default_factory=dict)
    tasks: list[CreationTask] = field(default_factory=list)
    late: int = 0
    post_evaluations: list[PostEvaluation] = field(default_factory=list)

    @property
    def done_tasks(self) -> int:
        return sum(t.state == "已完成" for t in self.tasks)


def district_status(session: Session, code: str, name: str, year: int,
                    today: dt.date | None = None) -> DistrictStatus:  # fmt: skip
    today = today or clock()
    terrain = access.terrain_of(session, code)
    out = DistrictStatus(
        code, name, terrain, district_checklists(session, code, name, year, terrain)
    )
    out.titles = {t.program: t for t in session.scalars(
        select(CreationTitle).where(CreationTitle.district_code == code))}  # fmt: skip
    out.tasks = tasks(session, code, year)
    out.late = sum(is_late(t, today) for t in out.tasks)
    out.post_evaluations = list(session.scalars(
        select(PostEvaluation).where(PostEvaluation.district_code == code)
        .order_by(PostEvaluation.year.desc(), PostEvaluation.id)))  # fmt: skip
    return out


def overview(session: Session, account: Account, year: int,
             today: dt.date | None = None) -> list[DistrictStatus]:  # fmt: skip
    """Every district the account may see, in district-code order."""
    return [district_status(session, code, name, year, today)
            for code, name in access.visible_districts(session, account).items()]  # fmt: skip
