"""What the clue registers tell the supervision of a measure (evidence beside the units'
reports): clue counts of a kind by district, state and lateness (6.1, 6.3, 6.4, 7.1, 11.2) and
the patrol frequency of protected areas (6.4). Which measure gets which evidence is data
(``accounting/data/measure_links.toml``, words of the measure text)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.cases.models import Clue
from ecoplan.cases.rules import load_rules
from ecoplan.config import today

WAITING = ("pending", "verifying")
WORKING = ("confirmed", "rectifying", "accepting", "rejected")
CLUE_COLUMNS = [("district", "区"), ("total", "线索"), ("waiting", "待核实/核实中"), ("working", "整改/验收中"),
                ("closed", "已销号"), ("late", "逾期")]  # fmt: skip


def clue_evidence(kind: str) -> Provider:
    def provider(session: Session) -> Evidence | None:
        day = today()
        rows = session.execute(
            select(Clue.district_name, Clue.state, Clue.due_on).where(Clue.kind == kind)
        ).all()
        if not rows:
            return None
        by_district: dict[str, Counter[str]] = {}
        for district, state, due in rows:
            c = by_district.setdefault(district or "未落区", Counter())
            c[state] += 1
            c["late"] += int(state != "closed" and due is not None and due < day)
        table: list[dict[str, Any]] = [
            {"district": d, "total": sum(v for k, v in c.items() if k != "late"),
             "waiting": sum(c[s] for s in WAITING), "working": sum(c[s] for s in WORKING),
             "closed": c["closed"], "late": c["late"]}
            for d, c in sorted(by_district.items(), key=lambda kv: -sum(kv[1].values()))
        ]  # fmt: skip
        total = len(rows)
        closed = sum(t["closed"] for t in table)
        late = sum(t["late"] for t in table)
        label = load_rules().kind(kind).label
        lines = [f"{label}: 共 {total} 条,已销号 {closed} 条,整改/验收中 {sum(t['working'] for t in table)} 条,"
                 f"待核实/核实中 {sum(t['waiting'] for t in table)} 条,逾期 {late} 条"]  # fmt: skip
        return Evidence(f"clues:{kind}", f"系统记录:{label}", lines, met=closed == total,
                        link=f"/clues?kind={kind}", table=table, columns=CLUE_COLUMNS)  # fmt: skip

    return provider


def _patrols(session: Session) -> Evidence | None:
    from ecoplan.cases.patrols import patrol_frequency

    day = today()
    months = patrol_frequency(session, day.year, today=day)
    if not months:
        return None
    judged = [m for m in months if m.met is not None]
    met = sum(1 for m in judged if m.met)
    areas = {m.feature_id for m in months}
    count = sum(m.patrols for m in months)
    lines = [
        f"{day.year} 年 {len(areas)} 个自然保护地巡查 {count} 次;已评判的 {len(judged)} 个“保护地×月”中 {met} 个达到规定频次"
    ]
    table = [{"area": m.name, "month": m.month, "patrols": m.patrols, "required": m.required,
              "met": "达标" if m.met else ("未达标" if m.met is False else "—")} for m in judged]  # fmt: skip
    return Evidence("patrols", "系统记录:自然保护区例行巡查频次", lines,
                    met=None if not judged else met == len(judged), link="/clues?kind=patrol_finding",
                    table=table, columns=[("area", "保护地"), ("month", "月份"), ("patrols", "巡查次数"),
                                          ("required", "规定次数"), ("met", "是否达标")])  # fmt: skip


def providers() -> dict[str, Provider]:
    out: dict[str, Provider] = {f"clues:{kind}": clue_evidence(kind) for kind in load_rules().kinds}
    out["patrols"] = _patrols
    return out
