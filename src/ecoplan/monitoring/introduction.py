"""外来物种引入审批: an application to introduce an alien species, as a state machine.

《外来入侵物种管理办法》(2022) says nobody may introduce an alien species without approval, and
that a first introduction needs a risk-assessment report. The steps and their names are this
platform's design (field.md §2.1); the table is ``ACTIONS`` and docs/monitoring-invasive.md shows
it; tests/monitoring/test_introduction.py checks every (state, action, who) cell.

    draft ─submit→ submitted ─accept→ accepted ─assess→ assessing ─approve→ approved
                       │                 │                  ├─refuse→ refused
                       └──────return─────┴──────────────────┘ → returned ─resubmit→ submitted
    approved ─report→ monitoring ─report→ monitoring ─close (on/after monitor_until)→ closed
    draft / submitted / accepted / assessing / returned ─withdraw→ withdrawn

Who acts: the **applicant** (a unit account of the applicant unit) submits, resubmits after
补正, withdraws before the decision and files follow-up monitoring reports; the **reviewer** (the
unit of the category in ``invasive.toml``: 市农业农村局 for 农业/水产, 市园林绿化局 for 林草)
accepts, assesses, returns, decides, may add inspection reports and closes the follow-up.
Admin, coordinator and leaders read every application and act on none; any other unit sees
none (NotFoundError, as if it did not exist).

Each step checks the expected version (optimistic locking), sets the new state's deadline
(``due_on``, calendar days from ``[introduction.due_days]``), writes an IntroductionEvent and an
audit entry, all in the caller's transaction; a refused step changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import today as clock_today
from ecoplan.db import check_version, flush_versioned
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_models import IntroductionApplication, IntroductionEvent
from ecoplan.monitoring.taxa import NameMatcher, clean
from ecoplan.supervision import evidence
from ecoplan.units.models import Unit

Who = Literal["applicant", "reviewer", "applicant_or_reviewer"]
STATES = {
    "draft": "草稿",
    "submitted": "已申请",
    "accepted": "已受理",
    "assessing": "风险评估",
    "returned": "退回补正",
    "approved": "已批准",
    "refused": "不予批准",
    "monitoring": "跟踪监测",
    "closed": "已结束跟踪",
    "withdrawn": "已撤回",
}
READ_ALL = frozenset({"admin", "coordinator", "leader"})
STALE = "申请已被他人更新,请刷新后重试"
EDITABLE = frozenset({"draft", "returned"})  # the applicant may change the application
DONE_BEFORE = frozenset({"approved", "monitoring", "closed"})  # an introduction took place
Q = TypeVar("Q", bound="Select[Any]")


@dataclass(frozen=True)
class Action:
    label: str
    targets: dict[str, str]  # from state -> to state
    who: Who
    needs_reason: bool = False  # a note saying why / what
    needs_risk: bool = False  # risk level, summary (and report for a first introduction)
    needs_decision: bool = False  # conditions and the end of follow-up monitoring


ACTIONS: dict[str, Action] = {
    "submit": Action("提交申请", {"draft": "submitted"}, "applicant"),
    "resubmit": Action("补正后重新提交", {"returned": "submitted"}, "applicant"),
    "withdraw": Action(
        "撤回申请",
        {
            "draft": "withdrawn",
            "submitted": "withdrawn",
            "accepted": "withdrawn",
            "assessing": "withdrawn",
            "returned": "withdrawn",
        },
        "applicant",
    ),  # fmt: skip
    "accept": Action("受理", {"submitted": "accepted"}, "reviewer"),
    "assess": Action("风险评估", {"accepted": "assessing"}, "reviewer", needs_risk=True),
    "approve": Action("批准引入", {"assessing": "approved"}, "reviewer", needs_decision=True),
    "refuse": Action("不予批准", {"assessing": "refused"}, "reviewer", needs_reason=True),
    "return": Action(
        "退回补正",
        {"submitted": "returned", "accepted": "returned", "assessing": "returned"},
        "reviewer",
        needs_reason=True,
    ),  # fmt: skip
    "report": Action(
        "跟踪监测报告",
        {"approved": "monitoring", "monitoring": "monitoring"},
        "applicant_or_reviewer",
        needs_reason=True,
    ),  # fmt: skip
    "close": Action("结束跟踪监测", {"monitoring": "closed"}, "reviewer"),
}


@dataclass
class ReportFile:
    """An uploaded risk-assessment report (PDF, DOCX, …), stored content-addressed."""

    data: bytes
    name: str


@dataclass
class StepResult:
    application: IntroductionApplication
    event: IntroductionEvent


# ---------------------------------------------------------------------------- who and what


def can_view(account: Account, app: IntroductionApplication) -> bool:
    if account.role in READ_ALL:
        return True
    return (
        account.role == "unit"
        and account.unit_id is not None
        and account.unit_id in (app.applicant_unit_id, app.reviewer_unit_id)
    )


def visible(query: Q, account: Account) -> Q:
    """Restrict a query over IntroductionApplication to what the account may read."""
    if account.role in READ_ALL:
        return query
    if account.role != "unit" or account.unit_id is None:
        return query.where(IntroductionApplication.id.is_(None))
    return query.where(or_(IntroductionApplication.applicant_unit_id == account.unit_id,
                           IntroductionApplication.reviewer_unit_id == account.unit_id))  # fmt: skip


def may_act(account: Account, app: IntroductionApplication, who: Who) -> bool:
    unit = account.unit_id if account.role == "unit" else None
    if unit is None:
        return False
    applicant, reviewer = unit == app.applicant_unit_id, unit == app.reviewer_unit_id
    return {"applicant": applicant, "reviewer": reviewer,
            "applicant_or_reviewer": applicant or reviewer}[who]  # fmt: skip


def actions_for(account: Account, app: IntroductionApplication) -> list[str]:
    """The actions this account may take now (drives the buttons on the page)."""
    return [key for key, a in ACTIONS.items()
            if app.state in a.targets and may_act(account, app, a.who)]  # fmt: skip


def get_application(session: Session, account: Account, app_id: int) -> IntroductionApplication:
    app = session.get(IntroductionApplication, app_id)
    if app is None or not can_view(account, app):
        raise NotFoundError(f"引入申请 {app_id} 不存在或无权查看")
    return app


def list_applications(
    session: Session, account: Account, *, state: str | None = None
) -> list[IntroductionApplication]:
    query = select(IntroductionApplication).order_by(IntroductionApplication.id.desc())
    if state:
        query = query.where(IntroductionApplication.state == state)
    return list(session.scalars(visible(query, account)))


def first_introduction(session: Session, app: IntroductionApplication) -> bool:
    """No earlier application of the same species was approved (the 管理办法 asks a risk report
    of a first introduction). Compared by taxon when the name is on the species list, else by
    the scientific name as written."""
    same = (
        IntroductionApplication.taxon_id == app.taxon_id
        if app.taxon_id is not None
        else func.lower(IntroductionApplication.scientific_name) == app.scientific_name.lower()
    )
    query = select(IntroductionApplication.id).where(
        same, IntroductionApplication.id != app.id, IntroductionApplication.state.in_(DONE_BEFORE)
    )
    return session.scalar(query.limit(1)) is None


def _due(state: str, today: dt.date) -> dt.date | None:
    days = load_config().introduction.due_days.get(state)
    return today + dt.timedelta(days=days) if days is not None else None


# --------------------------------------------------------------------------------- create


@dataclass
class ApplicationForm:
    """What an applicant fills in (申请表)."""

    applicant: str  # the organisation that will introduce the species
    scientific_name: str
    name_cn: str
    category: str  # 农业 | 水产 | 林草 | 其他
    purpose: str
    origin_country: str
    quantity: str
    destination: str
    containment: str = ""  # 隔离 / 防逃逸措施

    def problems(self) -> list[str]:
        config = load_config().introduction
        labels = {"applicant": "申请单位", "scientific_name": "学名", "name_cn": "中文名",
                  "purpose": "引入用途", "origin_country": "原产地/输出国", "quantity": "数量",
                  "destination": "引入地点"}  # fmt: skip
        out = [f"须填写{label}" for key, label in labels.items() if not clean(getattr(self, key))]
        if self.category not in config.reviewers:
            out.append(f"类别“{self.category}”无法识别(可选: {'、'.join(config.reviewers)})")
        return out


def _snapshot(app: IntroductionApplication) -> dict[str, Any]:
    return {"state": app.state, "version": app.version, "due_on": app.due_on.isoformat() if app.due_on else None,
            "risk_level": app.risk_level, "monitor_until": app.monitor_until.isoformat() if app.monitor_until
            else None}  # fmt: skip


def create_application(
    session: Session, account: Account, form: ApplicationForm, *, today: dt.date | None = None
) -> IntroductionApplication:
    """A draft application of the account's unit; the reviewer follows from the category."""
    if account.role != "unit" or account.unit_id is None:
        raise PermissionDenied("只有单位用户可以提出引入申请")
    problems = form.problems()
    if problems:
        raise ValidationError("；".join(problems), problems)
    reviewer_code = load_config().introduction.reviewers[form.category]
    reviewer = session.scalar(select(Unit).where(Unit.code == reviewer_code))
    if reviewer is None:
        raise ValidationError(f"审批单位 {reviewer_code} 不在单位名录中")
    if reviewer.id == account.unit_id:
        raise ValidationError(f"{reviewer.name}是该类别的审批单位,不能自行申请自行审批")
    today = today or clock_today()
    count = session.scalar(select(func.count()).select_from(IntroductionApplication).where(
        IntroductionApplication.number.like(f"引〔{today.year}〕%"))) or 0  # fmt: skip
    match = NameMatcher.from_db(session).match(form.scientific_name)
    app = IntroductionApplication(
        number=f"引〔{today.year}〕{count + 1}号", applicant=clean(form.applicant), applicant_unit_id=account.unit_id,
        reviewer_unit_id=reviewer.id, scientific_name=clean(form.scientific_name), name_cn=clean(form.name_cn),
        taxon_id=match.taxon_id if match.kind in ("exact", "synonym") else None, category=form.category,
        purpose=form.purpose.strip(), origin_country=clean(form.origin_country), quantity=clean(form.quantity),
        destination=form.destination.strip(), containment=form.containment.strip(), state="draft",
        created_by=account.actor,
    )  # fmt: skip
    app.events.append(
        IntroductionEvent(action="create", from_state=None, to_state="draft", actor=account.actor)
    )
    session.add(app)
    session.flush()
    audit.record(session, actor=account.actor, action="introduction.create", entity_type="introduction",
                 entity_id=app.id, after={**_snapshot(app), "number": app.number, "category": app.category,
                                          "scientific_name": app.scientific_name})  # fmt: skip
    return app


def update_application(
    session: Session,
    account: Account,
    app_id: int,
    form: ApplicationForm,
    *,
    expected_version: int | None = None,
) -> IntroductionApplication:
    """The applicant corrects a draft or a returned application (补正). The category, and with
    it the reviewer, cannot change once the application was sent."""
    app = get_application(session, account, app_id)
    check_version(app, expected_version, STALE)
    if app.state not in EDITABLE:
        raise ValidationError(f"申请 {app.number} 当前为“{STATES[app.state]}”,不能修改")
    if not may_act(account, app, "applicant"):
        raise PermissionDenied(f"无权修改申请 {app.number}")
    problems = form.problems()
    if app.state != "draft" and form.category != app.category:
        problems.append("已提交过的申请不能更改类别(审批单位随类别而定)")
    if problems:
        raise ValidationError("；".join(problems), problems)
    before = {
        "scientific_name": app.scientific_name,
        "quantity": app.quantity,
        "destination": app.destination,
    }
    reviewer_code = load_config().introduction.reviewers[form.category]
    reviewer_id = session.scalar(select(Unit.id).where(Unit.code == reviewer_code))
    if reviewer_id is None or reviewer_id == account.unit_id:
        raise ValidationError(f"审批单位 {reviewer_code} 无效")
    match = NameMatcher.from_db(session).match(form.scientific_name)
    app.applicant, app.scientific_name, app.name_cn = (
        clean(form.applicant),
        clean(form.scientific_name),
        clean(form.name_cn),
    )
    app.taxon_id = match.taxon_id if match.kind in ("exact", "synonym") else None
    app.category, app.reviewer_unit_id, app.purpose = (
        form.category,
        reviewer_id,
        form.purpose.strip(),
    )
    app.origin_country, app.quantity = clean(form.origin_country), clean(form.quantity)
    app.destination, app.containment = form.destination.strip(), form.containment.strip()
    with session.no_autoflush:  # see step(): loading the events must not flush the edit early
        app.events.append(
            IntroductionEvent(
                action="edit", from_state=app.state, to_state=app.state, actor=account.actor
            )
        )
    flag_modified(app, "state")  # an edit that changes nothing still takes a version
    flush_versioned(session, STALE)
    audit.record(session, actor=account.actor, action="introduction.edit", entity_type="introduction",
                 entity_id=app.id, before=before, after={"scientific_name": app.scientific_name,
                                                         "quantity": app.quantity, "destination": app.destination})  # fmt: skip
    return app


# ----------------------------------------------------------------------------------- step


def step(
    session: Session,
    account: Account,
    app_id: int,
    action: str,
    *,
    note: str = "",
    risk_level: str | None = None,
    risk_summary: str = "",
    risk_report: ReportFile | None = None,
    conditions: str = "",
    monitor_until: dt.date | None = None,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> StepResult:
    """Take one step; raises (and changes nothing) when it is not allowed or something it needs
    is missing: a reason to return or refuse, a note for a monitoring report, a risk level and
    summary (and, for a first introduction, the report) to assess, conditions and a monitoring
    end after today to approve; closing waits until ``monitor_until``."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationError(f"未知的操作“{action}”")
    app = get_application(session, account, app_id)
    check_version(app, expected_version, STALE)
    if app.state not in spec.targets:
        raise ValidationError(
            f"申请 {app.number} 当前为“{STATES[app.state]}”,不能执行“{spec.label}”"
        )
    if not may_act(account, app, spec.who):
        raise PermissionDenied(f"无权对申请 {app.number} 执行“{spec.label}”")
    today = today or clock_today()
    note = note.strip()
    if spec.needs_reason and not note:
        raise ValidationError(f"“{spec.label}”须填写{'监测情况' if action == 'report' else '理由'}")
    if spec.needs_risk:
        _check_risk(session, app, risk_level, risk_summary, risk_report)
    if spec.needs_decision:
        if not conditions.strip():
            raise ValidationError("批准引入须写明批准条件(隔离、防逃逸、监测要求等)")
        if monitor_until is None or monitor_until <= today:
            raise ValidationError("批准引入须设定晚于今天的跟踪监测截止日期")
    if action == "close" and app.monitor_until is not None and today < app.monitor_until:
        raise ValidationError(f"跟踪监测期至 {app.monitor_until},期满后方可结束跟踪")
    data: dict[str, Any] = {}
    if spec.needs_risk and risk_report is not None:  # checked before anything changes
        data["report"] = {"name": evidence.sniff(risk_report.data, risk_report.name)[0]}
    before = _snapshot(app)
    if spec.needs_risk:
        app.risk_level, app.risk_summary = risk_level, risk_summary.strip()
        if risk_report is not None:
            app.risk_report = data["report"]["sha256"] = evidence.store(risk_report.data)
    if spec.needs_decision:
        app.conditions, app.monitor_until = conditions.strip(), monitor_until
    if action in ("approve", "refuse", "return"):
        app.decision_note = note or conditions.strip()
    if action in ("submit", "resubmit"):
        app.submitted_on = today
    target = spec.targets[app.state]
    app.state = target
    app.due_on = _due(target, today)
    text = note
    if data.get("report"):
        text = f"{risk_summary.strip()}(评估报告 {data['report']['name']})"
    elif spec.needs_risk:
        text = risk_summary.strip()
    elif spec.needs_decision:
        text = f"批准条件: {conditions.strip()}; 跟踪监测至 {monitor_until}" + (
            f"; {note}" if note else ""
        )
    event = IntroductionEvent(action=action, from_state=before["state"], to_state=target, note=text,
                              actor=account.actor)  # fmt: skip
    # the events may not be loaded yet (a fresh session, as in a web request): their lazy load
    # would autoflush the changes above as a version of their own, outside flush_versioned,
    # and the step would take two versions
    with session.no_autoflush:
        app.events.append(event)
    flag_modified(app, "state")  # a report keeps the state: every step still bumps the version
    flush_versioned(session, STALE)
    audit.record(session, actor=account.actor, action=f"introduction.{action}", entity_type="introduction",
                 entity_id=app.id, before=before, after={**_snapshot(app), "note": text, **data})  # fmt: skip
    return StepResult(app, event)


def _check_risk(session: Session, app: IntroductionApplication, level: str | None, summary: str,
                report: ReportFile | None) -> None:  # fmt: skip
    levels = load_config().introduction.risk_levels
    problems = []
    if level not in levels:
        problems.append(f"须选择风险等级({'、'.join(levels)})")
    if not summary.strip():
        problems.append("须填写风险评估结论摘要")
    if report is None and first_introduction(session, app):
        problems.append("首次引入须上传风险评估报告(《外来入侵物种管理办法》)")
    if problems:
        raise ValidationError("；".join(problems), problems)
