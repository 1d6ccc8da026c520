"""Titles (13.1 results) and the annual tasks of titled districts (13.2).

- :func:`record_title`: a district holds 国家生态文明建设示范区 or “两山”基地 since a year, in a
  batch (recorded by the coordinator, the admin or the lead unit; one per district and
  programme, a second record corrects the first);
- :func:`add_task`: an annual target task (目标任务) or engineering project (工程项目) of a
  district under its 生态文明建设规划 / “两山”基地建设实施方案; only a district holding the
  programme's title has them (13.2 names the titled districts);
- :func:`report_progress`: the district (or the coordinator / admin) reports progress and a
  state 未开始 / 推进中 / 已完成 / 滞后; notes are appended, never rewritten.

Every write is audited in the caller's transaction; a task carries a version for optimistic
locking (two reporters at once: the second is told to reload).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import today as clock
from ecoplan.creation import access
from ecoplan.creation.models import PROGRAM_SHORT, CreationTask, CreationTitle
from ecoplan.creation.params import config
from ecoplan.db import check_version, flush_versioned
from ecoplan.errors import NotFoundError, ValidationError

TASK_KINDS = ("目标任务", "工程项目")
TASK_STATES = ("未开始", "推进中", "已完成", "滞后")
STALE = "任务已被他人更新,请刷新后重试"


def program_of(text: str) -> str:
    """``demo_zone`` / ``two_mountains`` from the key or its Chinese name (示范区 / 两山基地)."""
    text = (text or "").strip()
    for key, program in config().program.items():
        if text in (key, program.short, program.name):
            return key
    choices = "、".join(p.short for p in config().program.values())
    raise ValidationError(f"创建类型“{text}”无效(可选: {choices})")


def _title_snapshot(t: CreationTitle) -> dict[str, Any]:
    return {"district": t.district_code, "program": t.program, "year_awarded": t.year_awarded,
            "batch": t.batch, "note": t.note}  # fmt: skip


def record_title(session: Session, account: Account, *, district: str, program: str,
                 year_awarded: int, batch: str = "", note: str = "", actor: str | None = None,
                 today: dt.date | None = None, is_demo: bool = False) -> CreationTitle:  # fmt: skip
    today = today or clock()
    access.require(access.may_record_titles(session, account),
                   "只有督办协调员、管理员或市生态环境局可以登记创建称号")  # fmt: skip
    code, name = access.resolve_district(session, district)
    key = program_of(program)
    if not 2000 <= year_awarded <= today.year:
        raise ValidationError(f"命名年度 {year_awarded} 无效(2000–{today.year})")
    row = session.scalar(select(CreationTitle).where(CreationTitle.district_code == code,
                                                     CreationTitle.program == key))  # fmt: skip
    before = _title_snapshot(row) if row is not None else None
    if row is None:
        row = CreationTitle(district_code=code, district_name=name, program=key,
                            created_by=actor or account.actor)  # fmt: skip
        session.add(row)
    row.year_awarded, row.batch, row.note, row.is_demo = (
        year_awarded,
        batch.strip(),
        note.strip(),
        is_demo,
    )
    session.flush()
    audit.record(session, actor=actor or account.actor, action="creation.title",
                 entity_type="creation_title", entity_id=row.id, before=before,
                 after=_title_snapshot(row))  # fmt: skip
    return row


def has_title(session: Session, code: str, program: str) -> bool:
    return session.scalar(select(CreationTitle.id).where(CreationTitle.district_code == code,
                                                         CreationTitle.program == program)) is not None  # fmt: skip


def tasks(session: Session, code: str | None = None, year: int | None = None) -> list[CreationTask]:
    query = select(CreationTask).order_by(CreationTask.district_code, CreationTask.program,
                                          CreationTask.due_on, CreationTask.id)  # fmt: skip
    if code is not None:
        query = query.where(CreationTask.district_code == code)
    if year is not None:
        query = query.where(CreationTask.year == year)
    return list(session.scalars(query))


def is_late(task: CreationTask, today: dt.date) -> bool:
    return task.state != "已完成" and task.due_on is not None and task.due_on < today


def _task_snapshot(t: CreationTask) -> dict[str, Any]:
    return {"district": t.district_code, "program": t.program, "year": t.year, "kind": t.kind,
            "name": t.name, "target": t.target,
            "due_on": t.due_on.isoformat() if t.due_on else None, "state": t.state,
            "notes": len(t.progress or [])}  # fmt: skip


def add_task(session: Session, account: Account, *, district: str, program: str, year: int,
             kind: str, name: str, target: str = "", due_on: dt.date | None = None,
             actor: str | None = None, today: dt.date | None = None,
             is_demo: bool = False) -> CreationTask:  # fmt: skip
    today = today or clock()
    code, district_name = access.resolve_district(session, district)
    access.require(access.may_write_tasks(session, account, code),
                   f"无权登记{district_name}的年度任务(区政府登记本区,督办协调员可登记各区)")  # fmt: skip
    key = program_of(program)
    if not has_title(session, code, key):
        raise ValidationError(f"{district_name}尚未登记{PROGRAM_SHORT[key]}称号:年度目标任务和工程项目"
                              "只为已获称号的区登记(措施 13.2)")  # fmt: skip
    if kind not in TASK_KINDS:
        raise ValidationError(f"类别“{kind}”无效(可选: {'、'.join(TASK_KINDS)})")
    if not name.strip():
        raise ValidationError("任务名称为空")
    if not 2000 <= year <= today.year + 1:
        raise ValidationError(f"年度 {year} 无效")
    if due_on is not None and due_on.year < year:
        raise ValidationError(f"完成时限 {due_on.isoformat()} 早于任务年度 {year}")
    task = CreationTask(district_code=code, district_name=district_name, program=key, year=year,
                        kind=kind, name=name.strip(), target=target.strip(), due_on=due_on,
                        state="未开始", progress=[], is_demo=is_demo,
                        created_by=actor or account.actor)  # fmt: skip
    session.add(task)
    session.flush()
    audit.record(session, actor=actor or account.actor, action="creation.task.create",
                 entity_type="creation_task", entity_id=task.id, after=_task_snapshot(task))  # fmt: skip
    return task


def get_task(session: Session, account: Account, task_id: int) -> CreationTask:
    task = session.get(CreationTask, task_id)
    if task is None or not access.may_view(session, account, task.district_code):
        raise NotFoundError(f"年度任务 {task_id} 不存在")
    return task


def report_progress(session: Session, account: Account, task_id: int, *, state: str, note: str,
                    expected_version: int | None = None, actor: str | None = None,
                    today: dt.date | None = None) -> CreationTask:  # fmt: skip
    today = today or clock()
    task = get_task(session, account, task_id)
    access.require(access.may_write_tasks(session, account, task.district_code),
                   f"无权报告{task.district_name}年度任务的进展(由该区政府报告)")  # fmt: skip
    check_version(task, expected_version, STALE)
    if state not in TASK_STATES:
        raise ValidationError(f"状态“{state}”无效(可选: {'、'.join(TASK_STATES)})")
    if not note.strip():
        raise ValidationError("进展说明为空")
    before = _task_snapshot(task)
    task.state = state
    task.progress = [*(task.progress or []), {"on": today.isoformat(), "by": actor or account.actor,
                                              "state": state, "text": note.strip()}]  # fmt: skip
    flag_modified(task, "progress")
    flush_versioned(session, STALE)
    audit.record(session, actor=actor or account.actor, action="creation.task.progress",
                 entity_type="creation_task", entity_id=task.id, before=before,
                 after={**_task_snapshot(task), "note": note.strip()})  # fmt: skip
    return task
