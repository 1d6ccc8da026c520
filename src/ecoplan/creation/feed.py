"""What demonstration creation tells the supervision of measures 13.1 (guide districts to create
示范区 and “两山”基地: titles held, checklist completeness and binding gaps per district), 13.2
(annual target tasks and projects of titled districts: done, late) and 13.3 (post-evaluation
records by state and rectification). Which measure gets which evidence is data
(``accounting/data/measure_links.toml``).

``met`` stays None: whether the guidance, the annual work or the post-evaluation mechanism is
done is for the supervisor to judge; the evidence gives the figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.config import today
from ecoplan.creation.access import districts
from ecoplan.creation.models import (
    PROGRAM_SHORT,
    ChecklistValue,
    CreationTask,
    CreationTitle,
    PostEvaluation,
)
from ecoplan.creation.params import config
from ecoplan.creation.posteval import STATES
from ecoplan.creation.status import district_status
from ecoplan.creation.titles import is_late


def _checklists(session: Session) -> Evidence | None:
    year = today().year
    held = list(session.scalars(select(CreationTitle)))
    reported = set(session.scalars(select(ChecklistValue.district_code)
                                   .where(ChecklistValue.year == year)))  # fmt: skip
    if not held and not reported:
        return None
    names = districts(session)
    table: list[dict[str, Any]] = []
    for code in sorted(reported | {t.district_code for t in held}):
        if code not in names:
            continue
        s = district_status(session, code, names[code], year)
        for program, checklist in s.checklists.items():
            title = s.titles.get(program)
            table.append({"district": names[code], "program": PROGRAM_SHORT[program],
                          "title": f"{title.year_awarded} 年命名" if title else "未获称号",
                          "filled": f"{checklist.filled}/{len(checklist.rows)}",
                          "met": checklist.counts["达标"],
                          "binding_missed": checklist.binding_missed})  # fmt: skip
    counts = {p: sum(t.program == p for t in held) for p in PROGRAM_SHORT}
    lines = ["已登记称号: " + "、".join(f"{PROGRAM_SHORT[p]} {n} 个区" for p, n in counts.items()),
             f"{year} 年填报创建指标的区 {len(reported)} 个;指标体系 {config().label},阈值未经核实"]  # fmt: skip
    return Evidence("creation:checklist", "系统记录:生态文明建设示范区和“两山”基地创建指标", lines,
                    met=None, link=f"/creation?year={year}", table=table,
                    columns=[("district", "区"), ("program", "类型"), ("title", "称号"),
                             ("filled", "已填报"), ("met", "达标"),
                             ("binding_missed", "约束性未达标")])  # fmt: skip


def _annual(session: Session) -> Evidence | None:
    year = today().year
    found = list(session.scalars(select(CreationTask).where(CreationTask.year == year)))
    if not found:
        return None
    day = today()
    by: dict[tuple[str, str], list[CreationTask]] = {}
    for t in found:
        by.setdefault((t.district_name, t.program), []).append(t)
    table: list[dict[str, Any]] = [{"district": d, "program": PROGRAM_SHORT[p], "tasks": len(ts),
              "done": sum(t.state == "已完成" for t in ts),
              "late": sum(is_late(t, day) for t in ts)}
             for (d, p), ts in sorted(by.items())]  # fmt: skip
    done, late = sum(t.state == "已完成" for t in found), sum(is_late(t, day) for t in found)
    lines = [
        f"{year} 年年度目标任务和工程项目 {len(found)} 项,已完成 {done} 项,逾期未完成 {late} 项"
    ]
    return Evidence("creation:annual", "系统记录:已获称号的区年度目标任务和工程项目", lines, met=None,
                    link=f"/creation?year={year}", table=table,
                    columns=[("district", "区"), ("program", "类型"), ("tasks", "任务"),
                             ("done", "已完成"), ("late", "逾期")])  # fmt: skip


def _post_evaluation(session: Session) -> Evidence | None:
    rows = session.execute(select(PostEvaluation.state, PostEvaluation.rectification, func.count())
                           .group_by(PostEvaluation.state, PostEvaluation.rectification)).all()  # fmt: skip
    if not rows:
        return None
    by_state: dict[str, int] = {}
    by_fix: dict[str, int] = {}
    for state, fix, n in rows:
        by_state[state] = by_state.get(state, 0) + n
        by_fix[fix] = by_fix.get(fix, 0) + n
    table = [{"state": STATES[s], "count": by_state[s]} for s in STATES if s in by_state]
    lines = ["后评估记录: " + "、".join(f"{r['state']} {r['count']} 份" for r in table),
             "整改情况: " + "、".join(f"{k} {v} 份" for k, v in sorted(by_fix.items()))]  # fmt: skip
    return Evidence("creation:post_eval", "系统记录:生态文明示范创建后评估", lines, met=None,
                    link="/creation", table=table, columns=[("state", "状态"), ("count", "份数")])  # fmt: skip


def providers() -> dict[str, Provider]:
    return {"creation:checklist": _checklists, "creation:annual": _annual,
            "creation:post_eval": _post_evaluation}  # fmt: skip
