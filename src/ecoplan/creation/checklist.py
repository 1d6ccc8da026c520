"""A district's checklist for 生态文明建设示范区 or “两山”基地: per indicator the value (reported, or
computed by EcoPlan), the verdict 达标 / 未达标 / 待填报 and its reason, and the gap list.

- :func:`judge` is the pure rule: a value against the indicator's requirement (see below);
- :func:`computed_value` reads what EcoPlan computes itself, with its lineage: 生态环境状况指数
  from the district's row of the latest EI run (:mod:`ecoplan.accounting.ei`), 森林覆盖率 from
  the indicator registry's latest value for the district, GEP-R from the latest accounting;
- :func:`district_checklists` assembles both programmes' checklists of one district and year;
- :func:`gaps` lists what is not 达标, binding (约束性) indicators not met first.

Rules of :func:`judge`:
- no value → 待填报;
- qualitative (完成 / 开展): yes → 达标, no → 未达标;
- quantitative: ``≥`` / ``≤`` against the threshold (the terrain's, for 林草覆盖率); with
  ``not_decrease`` the value must also not be below the previous year's, and without a previous
  value the verdict stays 待填报 (the level alone does not decide);
- a computed value that is only a lower bound of the indicator (森林覆盖率 for 林草覆盖率)
  decides 达标 for ``≥`` when it reaches the threshold, else the district must report (待填报).

When both a reported and a computed value exist, the later ``as_of`` is used (a tie goes to the
report: a person's deliberate statement); a lower-bound computed value never replaces a report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.ei.models import EIResultRow, EIRun
from ecoplan.accounting.gep.models import GepResult, GepRun
from ecoplan.config import BEIJING_TZ
from ecoplan.creation.models import ChecklistValue
from ecoplan.creation.params import PROGRAMS_ORDER, IndicatorSpec, config

VERDICTS = ("达标", "未达标", "待填报")
LIGHTS = {"达标": "green", "未达标": "red", "待填报": "grey"}
_GAP_ORDER = {"未达标": 0, "待填报": 1}
_EPS = 1e-9  # float noise only: 100.0 reported as 99.99999999999 is still 100


@dataclass(frozen=True)
class Reading:
    """A value to judge: a number or a yes/no, last year's number (for 不降低), and whether the
    number is only a lower bound of the indicator."""

    number: float | None = None
    flag: bool | None = None
    previous: float | None = None
    lower_bound: bool = False


def judge(spec: IndicatorSpec, reading: Reading | None, terrain: str) -> tuple[str, str]:
    """(verdict, reason in Chinese) of one value against one indicator; pure."""
    if reading is None:
        return "待填报", "尚未填报"
    if spec.qualitative:
        if reading.flag is None:
            return "待填报", "须填写 是 / 否"
        if reading.flag:
            return "达标", "已达到要求"
        return "未达标", f"未达到要求({spec.required_text()})"
    if reading.number is None:
        return "待填报", "须填写数值"
    threshold = spec.threshold(terrain)
    if threshold is None:
        return "待填报", f"参数文件未给出{terrain or '该区'}的阈值"
    value, unit = reading.number, spec.unit
    shown = f"{value:.4g}{unit}"
    goal = f"{spec.comparator} {threshold:g}{unit}"
    met = value >= threshold - _EPS if spec.comparator == "≥" else value <= threshold + _EPS
    if reading.lower_bound:
        # the indicator is at least `value`: only "≥ reached" or "≤ exceeded" are decided
        if spec.comparator == "≥" and met:
            return "达标", f"计算值 {shown}(下限)已达到 {goal}"
        if spec.comparator == "≤" and not met:
            return "未达标", f"计算值 {shown}(下限)已超过 {goal}"
        return "待填报", f"计算值 {shown} 只是下限,不能判断是否 {goal},须填报本指标数值"
    if not met:
        return "未达标", f"{shown} 未达到 {goal}"
    if spec.not_decrease:
        if reading.previous is None:
            return "待填报", f"{shown} 达到 {goal},缺少上年值,无法判断是否降低"
        if value < reading.previous - _EPS:
            return "未达标", (f"{shown} 达到 {goal},但较上年 {reading.previous:.4g}{unit} "
                             f"下降 {reading.previous - value:.4g}")  # fmt: skip
        return "达标", f"{shown} 达到 {goal},且不低于上年 {reading.previous:.4g}{unit}"
    return "达标", f"{shown} 达到 {goal}"


# --------------------------------------------------------------------------- computed values


@dataclass
class Computed:
    """A value EcoPlan computes itself, with where it came from."""

    reading: Reading
    display: str
    source: str
    as_of: dt.date | None
    lineage: dict[str, Any]


def _local_date(at: dt.datetime | None) -> dt.date | None:
    return at.astimezone(BEIJING_TZ).date() if at is not None else None


def _from_ei(session: Session, code: str, year: int) -> Computed | None:
    """The district's EI in the latest run of a year up to ``year`` (published runs first)."""
    found = session.execute(select(EIResultRow, EIRun).join(EIRun, EIRun.id == EIResultRow.run_id)
                            .where(EIResultRow.region_code == code, EIRun.year <= year)).all()  # fmt: skip
    if not found:
        return None
    row, run = max(found, key=lambda p: (p[1].year, p[1].state == "published", p[1].id))
    demo = ",演示数据" if run.is_demo else ""
    change = "" if row.previous_ei is None else f",上年 {row.previous_ei:.2f}"
    return Computed(
        Reading(number=row.ei, previous=row.previous_ei),
        f"{row.ei:.2f}({row.grade}{change})",
        f"EI 第 {run.id} 次核算:{run.year} 年 {run.title}({run.method_key}{demo})",
        _local_date(run.published_at or run.created_at),
        {"kind": "ei", "label": "EI 核算", "run_id": run.id, "year": run.year,
         "method": run.method_key, "state": run.state, "ei": row.ei, "grade": row.grade,
         "previous_ei": row.previous_ei, "delta": row.delta, "demo": run.is_demo,
         "link": f"/ei/runs/{run.id}/regions/{code}"},
    )  # fmt: skip


def _from_registry(session: Session, code: str, year: int, kind: str,
                   spec: IndicatorSpec) -> Computed | None:  # fmt: skip
    from ecoplan.indicators.models import ORIGINS
    from ecoplan.indicators.registry import for_kind, latest

    indicator = for_kind(session, kind, year)
    if indicator is None:
        return None
    value = latest(session, indicator, region=code, year=year)
    if value is None:
        return None
    bound = spec.fill_bound == "lower"
    return Computed(
        Reading(number=value.value, lower_bound=bound),
        f"{value.value:.4g}{value.unit}" + (f"({indicator.name},作下限)" if bound else ""),
        f"指标登记:{indicator.name} {value.region_name} {value.year} 年,"
        f"{ORIGINS.get(value.origin, value.origin)}: {value.source}",
        value.as_of,
        {"kind": "registry", "label": "计划指标", "indicator": indicator.key,
         "name": indicator.name, "value_id": value.id, "origin": value.origin,
         "source": value.source, "as_of": value.as_of.isoformat(),
         "link": f"/targets/{indicator.key}"},
    )  # fmt: skip


def _from_gep(session: Session, code: str, year: int) -> Computed | None:
    """A GEP-R accounting (regulating services) covering the district: 生态产品价值核算 开展."""
    found = session.execute(select(GepResult, GepRun).join(GepRun, GepRun.id == GepResult.run_id)
                            .where(GepResult.region_code == code, GepRun.year <= year)).all()  # fmt: skip
    if not found:
        return None
    run = max((r for _, r in found), key=lambda r: (r.year, r.id))
    total = sum(res.value_yuan for res, r in found if r.id == run.id)
    demo = ",演示数据" if run.is_demo else ""
    return Computed(
        Reading(flag=True),
        f"已开展(GEP-R {total / 1e8:.2f} 亿元)",
        f"GEP-R 第 {run.id} 次核算:{run.year} 年 {run.title}{demo}(仅调节服务价值)",
        _local_date(run.created_at),
        {"kind": "gep", "label": "GEP-R 核算", "run_id": run.id, "year": run.year,
         "total_yuan": total, "demo": run.is_demo, "link": f"/gep?run={run.id}"},
    )  # fmt: skip


def computed_value(session: Session, spec: IndicatorSpec, code: str, year: int) -> Computed | None:
    """What EcoPlan computes for ``spec`` in district ``code`` (None when it computes nothing)."""
    if spec.fill == "ei":
        return _from_ei(session, code, year)
    if spec.fill == "gep":
        return _from_gep(session, code, year)
    if spec.fill and spec.fill.startswith("registry:"):
        return _from_registry(session, code, year, spec.fill.split(":", 1)[1], spec)
    return None


# --------------------------------------------------------------------------- checklists


def stored_reading(value: ChecklistValue, previous: ChecklistValue | None) -> Reading:
    """A report as a reading; last year's report supplies the previous number when the report
    itself gives none."""
    before = value.previous_number
    if before is None and previous is not None:
        before = previous.value_number
    return Reading(number=value.value_number, flag=value.value_bool, previous=before)


def shown(spec: IndicatorSpec, value: ChecklistValue) -> str:
    if spec.qualitative:
        return "—" if value.value_bool is None else ("是" if value.value_bool else "否")
    return "—" if value.value_number is None else f"{value.value_number:.4g}{spec.unit}"


@dataclass
class Row:
    spec: IndicatorSpec
    required: str
    verdict: str
    reason: str
    value: str = "—"
    origin: str = ""  # 填报 | 计算 | ""
    source: str = ""
    as_of: dt.date | None = None
    stored: ChecklistValue | None = None
    computed: Computed | None = None
    used: str = ""  # "stored" | "computed" | ""

    @property
    def light(self) -> str:
        return LIGHTS[self.verdict]


@dataclass
class Checklist:
    district_code: str
    district_name: str
    program: str
    year: int
    terrain: str
    rows: list[Row] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {v: sum(r.verdict == v for r in self.rows) for v in VERDICTS}

    @property
    def filled(self) -> int:
        """Indicators with a verdict (达标 or 未达标)."""
        return sum(r.verdict != "待填报" for r in self.rows)

    @property
    def completeness(self) -> float:
        return self.filled / len(self.rows) if self.rows else 0.0

    @property
    def binding_missed(self) -> int:
        return sum(r.spec.binding and r.verdict == "未达标" for r in self.rows)

    @property
    def gaps(self) -> list[Row]:
        return gaps(self.rows)


def gaps(rows: list[Row]) -> list[Row]:
    """Rows not 达标: binding (约束性) before reference (参考性), 未达标 before 待填报, then in
    the parameter file's order."""
    order = {s.code: i for i, s in enumerate(config().indicator)}
    return sorted((r for r in rows if r.verdict != "达标"),
                  key=lambda r: (not r.spec.binding, _GAP_ORDER[r.verdict], order[r.spec.code]))  # fmt: skip


def _row(spec: IndicatorSpec, terrain: str, stored: ChecklistValue | None,
         previous: ChecklistValue | None, computed: Computed | None) -> Row:  # fmt: skip
    row = Row(spec, spec.required_text(terrain), "待填报", "尚未填报", stored=stored,
              computed=computed)  # fmt: skip
    use_stored = stored is not None and (
        computed is None
        or spec.fill_bound == "lower"
        or computed.as_of is None
        or stored.as_of >= computed.as_of
    )
    if use_stored and stored is not None:
        row.verdict, row.reason = judge(spec, stored_reading(stored, previous), terrain)
        row.value, row.origin, row.used = shown(spec, stored), "填报", "stored"
        row.source, row.as_of = stored.source, stored.as_of
    elif computed is not None:
        row.verdict, row.reason = judge(spec, computed.reading, terrain)
        row.value, row.origin, row.used = computed.display, "计算", "computed"
        row.source, row.as_of = computed.source, computed.as_of
    return row


def district_checklists(session: Session, code: str, name: str, year: int,
                        terrain: str) -> dict[str, Checklist]:  # fmt: skip
    """Both programmes' checklists of one district and year (computed values read once)."""
    cfg = config()
    stored = {(v.indicator_code, v.year): v for v in session.scalars(
        select(ChecklistValue).where(ChecklistValue.district_code == code,
                                     ChecklistValue.year.in_((year, year - 1))))}  # fmt: skip
    fills: dict[tuple[str, str | None], Computed | None] = {}
    out: dict[str, Checklist] = {}
    for program in PROGRAMS_ORDER:
        if program not in cfg.program:
            continue
        checklist = Checklist(code, name, program, year, terrain)
        for spec in cfg.of(program):
            computed = None
            if spec.fill:
                key = (spec.fill, spec.fill_bound)  # EI feeds 示范区 and 两山基地: read once
                if key not in fills:
                    fills[key] = computed_value(session, spec, code, year)
                computed = fills[key]
            checklist.rows.append(_row(spec, terrain, stored.get((spec.code, year)),
                                       stored.get((spec.code, year - 1)), computed))  # fmt: skip
        out[program] = checklist
    return out
