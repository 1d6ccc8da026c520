"""Deterministic demo history: accounts for every role and unit, and six months of reports
(January–June 2024) with the mix a real coordinator sees: most on time and accepted, some
late, some returned and fixed, some returned and still open, a few missing, some shares closed.

Every record is written through the domain functions (so permissions, validation and the audit
log apply) with the clock set to the day the action happened. The demo clock then stands at
``DEMO_TODAY`` so the traffic lights and reminders show a plan in mid-year.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.accounts.service import create_account
from ecoplan.db import frozen_now
from ecoplan.demo.files import acceptance_pdf, site_photo_png
from ecoplan.plans.models import Measure, Plan
from ecoplan.supervision import closure, reports
from ecoplan.supervision.access import share_unit_ids
from ecoplan.supervision.models import Period, Report
from ecoplan.supervision.periods import configure_cycle, cycle_of, periods
from ecoplan.supervision.reminders import run_reminders
from ecoplan.supervision.reports import ReportInput
from ecoplan.units.models import Unit

DEMO_TODAY = dt.date(2024, 7, 10)
COUNTED = frozenset({"处", "份", "个", "项", "株"})
SEED = 2024
MONTHS_REPORTED = 6

STAFF = [("admin", "admin", "系统管理员"), ("coordinator", "coordinator", "市生态环境局督办室"),
         ("leader", "leader", "分管领导")]  # fmt: skip
NARRATIVES = ["按计划推进,已完成本月工作任务。", "召开专题会议部署,完成现场调研。",
              "完成方案编制,正在组织实施。", "完成阶段性任务,数据已核实。"]  # fmt: skip


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    unit: str


def at_beijing(day: dt.date, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock Beijing time on ``day``, in UTC (how the demo dates what it writes)."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=8)


def _accounts(session: Session, rng: random.Random) -> list[DemoLogin]:
    logins = []
    for username, role, name in STAFF:
        password = secrets.token_urlsafe(9)
        create_account(session, username=username, password=password, role=role,
                       display_name=name, actor="demo")  # fmt: skip
        logins.append(DemoLogin(username, password, role, ""))
    for unit in session.scalars(select(Unit).order_by(Unit.code)):
        password = secrets.token_urlsafe(9)
        username = f"u{unit.code}"
        create_account(session, username=username, password=password, role="unit",
                       display_name=f"{unit.name}联络员", unit_code=unit.code,
                       email=f"{username}@demo.invalid", actor="demo")  # fmt: skip
        logins.append(DemoLogin(username, password, "unit", unit.name))
    rng.random()  # keep the stream stable if accounts change order
    return logins


def _progress(measure: Measure, month: int, shares: int, rng: random.Random) -> dict[str, float]:
    """Cumulative values that grow towards each target over the year."""
    values = {}
    for index, target in enumerate(measure.targets or []):
        if target["unit"] in ("%", "‰"):
            continue  # rates are reported by the lead unit's summary
        per_unit = float(target["value"]) / max(shares, 1)
        value = per_unit * month / 12 * rng.uniform(0.7, 1.2)
        # things are counted in whole numbers (处, 份); areas keep two decimals (公顷)
        values[str(index)] = float(round(value)) if target["unit"] in COUNTED else round(value, 2)
    return values


def _attach(session: Session, account: Account, report: Report, measure: Measure, month: int,
            rng: random.Random) -> None:  # fmt: skip
    """One evidence file: a site photo or an acceptance record (both made in code)."""
    if rng.random() < 0.6:
        reports.attach_evidence(session, account, report, f"现场照片-{measure.doc_id}-{month}月.png",
                                site_photo_png(rng.randrange(1000)))  # fmt: skip
    else:
        reports.attach_evidence(session, account, report, f"验收记录-{measure.doc_id}-{month}月.pdf",
                                acceptance_pdf(f"Measure {measure.doc_id} acceptance, month {month}"))  # fmt: skip


def _file_month(session: Session, accounts: dict[int, Account], leads: dict[int, Account],
                measure: Measure, period: Period, month: int, rng: random.Random) -> None:  # fmt: skip
    shares = share_unit_ids(measure)
    lead_ids = [a.unit_id for a in measure.assignments if a.role == "lead" and a.unit_id]
    reviewer = leads.get(lead_ids[0]) if lead_ids else None
    coordinator = leads[-1]
    for unit_id in shares:
        roll = rng.random()
        if roll < 0.04 and month >= 5:
            continue  # missing: the reminder job will issue a 督办单
        day = period.report_due - dt.timedelta(days=rng.randint(0, 4))
        if roll > 0.93:
            day = period.report_due + dt.timedelta(days=rng.randint(1, 6))  # filed late
        late = rng.random() < 0.08
        data = ReportInput(
            status="late" if late else ("in_progress" if month < 6 or rng.random() < 0.7 else "done"),
            narrative=rng.choice(NARRATIVES),
            reasons="受汛期和前期手续影响,进度慢于计划。" if late else "",
            remedy="已倒排工期,下月加派力量追赶进度。" if late else "",
            progress=_progress(measure, month, len(shares), rng),
        )  # fmt: skip
        token = frozen_now.set(at_beijing(day))
        try:
            report = reports.save_report(
                session, accounts[unit_id], measure, period, data, submit=True
            )
            if rng.random() < 0.15:
                _attach(session, accounts[unit_id], report, measure, month, rng)
        finally:
            frozen_now.reset(token)
        who = coordinator if unit_id in lead_ids or reviewer is None else reviewer
        if month == MONTHS_REPORTED and rng.random() < 0.35:
            continue  # June reports still waiting for review
        token = frozen_now.set(at_beijing(day + dt.timedelta(days=2), 15))
        try:
            if rng.random() < 0.12:
                reports.review_report(session, who, report, accept=False,
                                      reason="佐证材料不足,请补充现场照片和验收文件。")  # fmt: skip
                if month < MONTHS_REPORTED or rng.random() < 0.5:
                    frozen_now.set(at_beijing(day + dt.timedelta(days=4)))
                    data.narrative += "已补充现场照片和验收文件。"
                    reports.save_report(
                        session, accounts[unit_id], measure, period, data, submit=True
                    )
                    frozen_now.set(at_beijing(day + dt.timedelta(days=5), 15))
                    reports.review_report(session, who, report, accept=True)
            else:
                reports.review_report(session, who, report, accept=True)
        finally:
            frozen_now.reset(token)


def _lead_summaries(session: Session, leads: dict[int, Account], measure: Measure,
                    period: Period, month: int) -> None:  # fmt: skip
    """Lead units file the city-wide value of rate targets (e.g. 森林覆盖率)."""
    rates = {str(i): t for i, t in enumerate(measure.targets or []) if t["unit"] in ("%", "‰")}
    lead_ids = [a.unit_id for a in measure.assignments if a.role == "lead" and a.unit_id]
    if not rates or not lead_ids or lead_ids[0] in share_unit_ids(measure):
        return
    progress = {k: round(float(t["value"]) - 0.6 + 0.08 * month, 2) for k, t in rates.items()}
    token = frozen_now.set(at_beijing(period.report_due))
    try:
        reports.save_report(session, leads[lead_ids[0]], measure, period,
                            ReportInput(status="in_progress", narrative="全市汇总数据。",
                                        progress=progress), submit=True)  # fmt: skip
    finally:
        frozen_now.reset(token)


def load_history(session: Session, plan: Plan) -> list[DemoLogin] | None:
    """Create the demo accounts and history once; None when the plan already has them."""
    if cycle_of(session, plan) is not None:
        return None
    rng = random.Random(SEED)
    token = frozen_now.set(at_beijing(dt.date(2024, 1, 2)))
    try:
        configure_cycle(session, plan, actor="demo")
        logins = _accounts(session, rng)
    finally:
        frozen_now.reset(token)
    by_unit = {a.unit_id: a for a in session.scalars(select(Account).where(Account.role == "unit"))}
    coordinator = session.scalar(select(Account).where(Account.role == "coordinator"))
    assert coordinator is not None
    leads: dict[int, Account] = {k: v for k, v in by_unit.items() if k is not None}
    leads[-1] = coordinator
    accounts = {k: v for k, v in by_unit.items() if k is not None}
    measures = list(session.scalars(select(Measure).where(Measure.plan_id == plan.id)
                                    .order_by(Measure.position)))  # fmt: skip
    for month, period in enumerate(periods(session, plan)[:MONTHS_REPORTED], start=1):
        for measure in measures:
            _file_month(session, accounts, leads, measure, period, month, rng)
            _lead_summaries(session, leads, measure, period, month)
        token = frozen_now.set(at_beijing(period.report_due + dt.timedelta(days=1), 9))
        try:
            run_reminders(session, plan, period.report_due + dt.timedelta(days=1), actor="demo")
        finally:
            frozen_now.reset(token)
    _closures(session, accounts, coordinator, measures, rng)
    token = frozen_now.set(at_beijing(DEMO_TODAY, 8))
    try:
        run_reminders(session, plan, DEMO_TODAY, actor="demo")
    finally:
        frozen_now.reset(token)
    return logins


def _closures(session: Session, accounts: dict[int, Account], coordinator: Account,
              measures: list[Measure], rng: random.Random) -> None:  # fmt: skip
    """Some shares finished early: requested in June, most approved, one still pending."""
    for measure in measures:
        for unit_id in share_unit_ids(measure):
            if rng.random() > 0.08:
                continue
            token = frozen_now.set(at_beijing(dt.date(2024, 6, 20)))
            try:
                item = closure.request_closure(session, accounts[unit_id], measure,
                                               "本单位承担任务已全部完成,佐证材料已上传。")  # fmt: skip
                if rng.random() < 0.8:
                    frozen_now.set(at_beijing(dt.date(2024, 6, 25)))
                    closure.decide_closure(session, coordinator, item, approve=True,
                                           note="经核实,同意办结销号。")  # fmt: skip
            finally:
                frozen_now.reset(token)
