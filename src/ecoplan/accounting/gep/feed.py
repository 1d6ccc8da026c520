"""GEP-R evidence for the supervision of measures 12.1 (annual accounting for the city and
every district) and 12.2 (use in the 生态涵养区 compensation)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.accounting.gep import runs
from ecoplan.accounting.gep.models import Compensation

BEIJING_DISTRICTS = 16


def _accounting(session: Session) -> Evidence | None:
    found = runs.list_runs(session)
    if not found:
        return None
    run = runs.get_run(session, found[0].id)
    city = sum(r.value_yuan for r in run.results if r.level == "city")
    districts = {r.region_code for r in run.results if r.level == "district"}
    lines = [f"全市 GEP-R {city / 1e8:.2f} 亿元，已核算 {len(districts)} 个区"]
    before = runs.previous_run(session, run)
    if before is not None:
        old = sum(r.value_yuan for r in before.results if r.level == "city")
        lines.append(f"比 {before.year} 年(第 {before.id} 次){(city - old) / 1e8:+.2f} 亿元")
    if any(not r.verified for r in run.results):
        lines.append("含未与标准原文核对的参数或价格")
    if run.is_demo:
        lines.append("(演示数据)")
    return Evidence(
        "gep_accounting", f"系统核算:{run.year} 年 GEP-R(第 {run.id} 次)", lines,
        met=len(districts) >= BEIJING_DISTRICTS, link=f"/gep?run={run.id}",
    )  # fmt: skip


def _compensation(session: Session) -> Evidence | None:
    record = session.scalars(select(Compensation).order_by(Compensation.id.desc()).limit(1)).first()
    if record is None:
        return None
    shares = "、".join(
        f"{r['name']} {r['allocation_yuan'] / 1e4:.0f} 万元" for r in record.allocation
    )
    lines = [
        f"{record.title}:资金 {record.budget_yuan / 1e8:.2f} 亿元，依据 GEP-R 第 {record.run_id} 次核算",
        shares,
    ]
    return Evidence("gep_compensation", "系统记录:GEP-R 结果用于生态保护补偿", lines,
                    met=True, link=f"/gep?run={record.run_id}")  # fmt: skip


PROVIDERS: dict[str, Provider] = {"gep_accounting": _accounting, "gep_compensation": _compensation}
