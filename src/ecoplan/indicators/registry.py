"""The indicator registry: the plan's targets as indicators, their values, and a status per
indicator judged from the latest value, the target and the supervision clock.

- :func:`sync_from_plan` turns every target the plan importer extracted (``Measure.targets``)
  into an indicator, plus the direction-only targets the parameter file knows ("建成区绿视率稳
  中有升" of 14.1). Idempotent: an indicator is keyed by plan, measure and the plan's words.
- :func:`record_value` stores one value (computed, reported or rolled up from the ledger); a
  value is never changed: a newer one supersedes it (latest ``as_of``, then latest record).
- :func:`status` says 已达成 / 按进度 / 有风险 / 未达成 / 无数据 and carries the values the
  verdict came from (its lineage).

Definitions, formulas, units and pace rules come from ``data/indicators.toml``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import today as clock
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.indicators.models import CITY_CODE, ORIGINS, Indicator, IndicatorValue
from ecoplan.indicators.params import IndicatorSpec, config, convert
from ecoplan.plans.models import Measure, Plan
from ecoplan.units.models import Unit

STATUSES = ("已达成", "按进度", "有风险", "未达成", "无数据")
LIGHTS = {"已达成": "green", "按进度": "green", "有风险": "yellow", "未达成": "red",
          "无数据": "grey"}  # fmt: skip
# worst first: a combined (per-district) status is the worst of its parts
_SEVERITY = {"未达成": 0, "有风险": 1, "按进度": 2, "已达成": 3, "无数据": 4}
SOURCES = {"plan": "计划目标", "parameter": "参数文件"}
PACES = {"level": "水平值(与目标直接比较)", "cumulative": "累计值(全年均匀进度)",
         "direction": "方向性(与上年同口径比较)"}  # fmt: skip
_CLAUSE = re.compile(r"[^,。;;,]+")
CITY_NAMES = ("", "全市", "北京市", "市级", CITY_CODE)


# --------------------------------------------------------------------------- sync


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _snapshot(ind: Indicator) -> dict[str, Any]:
    return {"key": ind.key, "kind": ind.kind, "name": ind.name, "unit": ind.unit,
            "pace": ind.pace, "target": ind.target, "comparator": ind.comparator,
            "target_text": ind.target_text, "plan_year": ind.plan_year,
            "measure_uids": ind.measure_uids, "source": ind.source,
            "by_district": ind.by_district, "verified": ind.verified,
            "definition": ind.definition, "method": ind.method, "params": ind.params}  # fmt: skip


def _fields(spec: IndicatorSpec | None, name: str, unit: str) -> dict[str, Any]:
    """What the parameter file says about an indicator (or the defaults for an unknown one)."""
    cfg = config()
    if spec is None:
        pace = "level" if unit in ("%", "‰") else "cumulative"
        return {"kind": None, "unit": unit, "pace": pace, "by_district": False, "verified": False,
                "definition": "", "method": f"{name}: 计划未给出定义,参数文件中无此指标",
                "params": f"{cfg.id} {cfg.version}"}  # fmt: skip
    return {"kind": spec.kind, "unit": spec.unit, "pace": spec.pace,
            "by_district": spec.by_district, "verified": spec.verified,
            "definition": spec.definition, "method": f"{spec.method}。来源: {spec.source}",
            "params": f"{cfg.id} {cfg.version}"}  # fmt: skip


def _wanted(plan: Plan, measure: Measure, warnings: list[str]) -> list[dict[str, Any]]:
    """The indicators one measure asks for, as column values (key and ids added later)."""
    cfg = config()
    out: list[dict[str, Any]] = []
    for target in measure.targets or []:
        name = str(target["indicator"])
        year = int(target.get("year") or plan.year or clock().year)
        spec = cfg.match(name)
        value, unit, text = float(target["value"]), str(target["unit"]), str(target.get("text", ""))
        if spec is not None and unit != spec.unit:
            # a plan may write 3000 亩 for an indicator kept in 公顷: convert, and say so
            factor = cfg.factor(unit, spec.unit)
            if factor is None:
                warnings.append(f"措施 {measure.doc_id}“{name}”的单位 {unit} 与参数文件的 {spec.unit} "
                                "不一致且无法换算,按未知指标登记")  # fmt: skip
                spec = None
            else:
                text += f"(计划原文 {value:g} {unit},已换算为 {value * factor:.4g} {spec.unit})"
                value, unit = value * factor, spec.unit
        out.append({**_fields(spec, name, unit), "name": name, "target": value,
                    "comparator": str(target.get("comparator", ">=")), "target_text": text,
                    "plan_year": year, "source": "plan"})  # fmt: skip
    # direction-only targets ("建成区绿视率稳中有升"): no number for the importer to find, so the
    # parameter file names the words of the indicator and of the direction
    for clause in _CLAUSE.findall(measure.text):
        for word in cfg.direction:
            if word not in clause:
                continue
            for spec in cfg.indicator:
                if spec.pace == "direction" and all(w in clause for w in spec.match):
                    out.append({**_fields(spec, spec.name, spec.unit), "name": spec.name,
                                "target": None, "comparator": word, "target_text": clause.strip(),
                                "plan_year": plan.year or clock().year, "source": "parameter"})  # fmt: skip
    return out


def sync_from_plan(session: Session, plan: Plan, actor: str) -> SyncResult:
    """Create or update one indicator per target of the plan's current measures (audited)."""
    result = SyncResult()
    measures = session.scalars(select(Measure).where(Measure.plan_id == plan.id,
                                                      Measure.removed.is_(False))
                               .order_by(Measure.position)).all()  # fmt: skip
    existing = {(i.measure_uid, i.name): i
                for i in session.scalars(select(Indicator).where(Indicator.plan_id == plan.id))}  # fmt: skip
    keys = set(session.scalars(select(Indicator.key)))
    for measure in measures:
        for wanted in _wanted(plan, measure, result.warnings):
            indicator = existing.get((measure.uid, wanted["name"]))
            if indicator is None:
                key = _new_key(wanted, measure, keys)
                keys.add(key)
                indicator = Indicator(key=key, plan_id=plan.id, measure_uid=measure.uid,
                                      measure_uids=[measure.uid], created_by=actor, **wanted)  # fmt: skip
                session.add(indicator)
                session.flush()
                audit.record(session, actor=actor, action="indicator.create", entity_type="indicator",
                             entity_id=indicator.id, after=_snapshot(indicator))  # fmt: skip
                existing[(measure.uid, wanted["name"])] = indicator
                result.added.append(key)
                continue
            before = _snapshot(indicator)
            for name, value in wanted.items():
                setattr(indicator, name, value)
            if _snapshot(indicator) == before:
                result.unchanged.append(indicator.key)
                continue
            session.flush()
            audit.record(session, actor=actor, action="indicator.update", entity_type="indicator",
                         entity_id=indicator.id, before=before, after=_snapshot(indicator))  # fmt: skip
            result.updated.append(indicator.key)
    return result


def _new_key(wanted: dict[str, Any], measure: Measure, taken: set[str]) -> str:
    """``2024-forest_coverage`` for a known indicator, ``2024-4.2-收集…`` for another; the
    measure number is added when two measures of one year name the same indicator."""
    year = wanted["plan_year"]
    key = (
        f"{year}-{wanted['kind']}"
        if wanted["kind"]
        else f"{year}-{measure.doc_id}-{wanted['name']}"
    )
    if key in taken:
        key = f"{year}-{measure.doc_id}-{wanted['kind'] or wanted['name']}"
    n = 2
    base = key
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key[:120]


# --------------------------------------------------------------------------- reading


def indicators(session: Session, year: int | None = None) -> list[Indicator]:
    """Indicators of ``year`` (every year when None), in plan order (measure, then name)."""
    query = select(Indicator).order_by(Indicator.plan_year.desc(), Indicator.id)
    if year is not None:
        query = query.where(Indicator.plan_year == year)
    return list(session.scalars(query))


def years(session: Session) -> list[int]:
    return list(session.scalars(select(Indicator.plan_year).distinct()
                                .order_by(Indicator.plan_year.desc())))  # fmt: skip


def get_indicator(session: Session, key: str) -> Indicator:
    found = session.scalar(select(Indicator).where(Indicator.key == key))
    if found is None:
        raise NotFoundError(f"指标“{key}”不存在")
    return found


def for_kind(session: Session, kind: str, year: int) -> Indicator | None:
    """The indicator of a known kind (``forest_coverage`` …) for a plan year, if synced."""
    return session.scalar(select(Indicator).where(Indicator.kind == kind,
                                                  Indicator.plan_year == year)
                          .order_by(Indicator.id).limit(1))  # fmt: skip


def measure_numbers(session: Session, indicator: Indicator) -> list[str]:
    """The plan numbers (8.3 …) of the measures an indicator belongs to."""
    if indicator.plan_id is None:
        return []
    rows = session.execute(select(Measure.uid, Measure.doc_id).where(
        Measure.plan_id == indicator.plan_id, Measure.uid.in_(indicator.measure_uids))).all()  # fmt: skip
    by_uid = dict(rows)
    return [by_uid[u] for u in indicator.measure_uids if u in by_uid]


def regions(session: Session) -> dict[str, str]:
    """Region code → name: the city, then the districts of the unit directory (a district
    government's code is its district's administrative code)."""
    out = {CITY_CODE: "全市"}
    for code, name in session.execute(select(Unit.district_code, Unit.name)
                                      .where(Unit.kind == "district_gov",
                                             Unit.district_code.is_not(None))
                                      .order_by(Unit.district_code)):  # fmt: skip
        out[str(code)] = name.removesuffix("政府")
    return out


def resolve_region(session: Session, text: str | None) -> tuple[str, str]:
    """(code, name) of the city or a district given by code or name (朝阳区 / 朝阳区政府)."""
    text = (text or "").strip()
    if text in CITY_NAMES:
        return CITY_CODE, "全市"
    known = regions(session)
    for code, name in known.items():
        if text in (code, name, f"{name}政府"):
            return code, name
    raise ValidationError(f"区域“{text}”无法识别(填写区名如 朝阳区,或区划代码,或 全市)")


def values(session: Session, indicator: Indicator, *, region: str | None = None,
           year: int | None = None) -> list[IndicatorValue]:  # fmt: skip
    """Every value of an indicator, newest first (the first of a region and year is current)."""
    query = select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)
    if region is not None:
        query = query.where(IndicatorValue.region_code == region)
    if year is not None:
        query = query.where(IndicatorValue.year == year)
    order = (IndicatorValue.year.desc(), IndicatorValue.as_of.desc(), IndicatorValue.id.desc())
    return list(session.scalars(query.order_by(*order)))


def latest(session: Session, indicator: Indicator, *, region: str = CITY_CODE,
           year: int | None = None, origin: str | None = None) -> IndicatorValue | None:  # fmt: skip
    """The current value: latest ``as_of``, then the latest recorded (a correction entered
    later for the same date supersedes; an older measurement entered later does not)."""
    query = select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id,
                                         IndicatorValue.region_code == region,
                                         IndicatorValue.year == (year or indicator.plan_year))  # fmt: skip
    if origin is not None:
        query = query.where(IndicatorValue.origin == origin)
    order = (IndicatorValue.as_of.desc(), IndicatorValue.id.desc())
    return session.scalar(query.order_by(*order).limit(1))


def is_current(session: Session, value: IndicatorValue) -> bool:
    newest = latest(session, value.indicator, region=value.region_code, year=value.year)
    return newest is not None and newest.id == value.id


# --------------------------------------------------------------------------- writing


def may_record(session: Session, account: Account, indicator: Indicator) -> bool:
    """The coordinator and the admin record values of any indicator; a unit those of the
    indicators of measures it leads (the lead unit reports the city-wide figure)."""
    if account.role in ("admin", "coordinator"):
        return True
    if account.role != "unit" or account.unit_id is None or indicator.plan_id is None:
        return False
    from ecoplan.plans.models import MeasureUnit

    led = session.scalar(select(MeasureUnit.id).join(Measure, Measure.id == MeasureUnit.measure_id)
                         .where(Measure.plan_id == indicator.plan_id,
                                Measure.uid.in_(indicator.measure_uids),
                                MeasureUnit.role == "lead", MeasureUnit.unit_id == account.unit_id)
                         .limit(1))  # fmt: skip
    return led is not None


def record_value(
    session: Session,
    indicator: Indicator,
    *,
    value: float,
    unit: str | None = None,
    origin: str,
    source: str,
    actor: str,
    year: int | None = None,
    region: str | None = None,
    as_of: dt.date | None = None,
    source_sha256: str | None = None,
    details: dict[str, Any] | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> IndicatorValue:
    """Store one value of ``indicator`` (in ``unit``, converted to the indicator's unit with a
    note: 亩 → 公顷 …) for ``region`` (district code or name; the city when None) and ``year``
    (the plan year when None). Audited; raises ValidationError naming the field."""
    today = today or clock()
    what = f"指标“{indicator.name}”"
    if origin not in ORIGINS:
        raise ValidationError(f"{what}: 来源类型“{origin}”无效(可选: {'、'.join(ORIGINS)})")
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{what}: 数值“{value}”不是有限数")
    converted, conversion = convert(float(value), unit or indicator.unit, indicator.unit, what)
    if converted < 0:
        raise ValidationError(f"{what}: 数值不能为负")
    if indicator.unit in ("%",) and converted > 100:
        raise ValidationError(f"{what}: 百分比 {converted:g} 超过 100")
    code, name = resolve_region(session, region)
    if code != CITY_CODE and not indicator.by_district:
        raise ValidationError(f"{what}不分区统计,只能填写全市数值")
    year = year or indicator.plan_year
    as_of = as_of or today
    if as_of > today:
        raise ValidationError(f"{what}: 数值日期 {as_of.isoformat()} 晚于今天")
    if as_of < dt.date(year, 1, 1):
        raise ValidationError(f"{what}: 数值日期 {as_of.isoformat()} 早于所属年度 {year}")
    if not source.strip():
        raise ValidationError(f"{what}: 须说明数值来源(数据、报告或计算)")
    row = IndicatorValue(indicator_id=indicator.id, region_code=code, region_name=name, year=year,
                         value=converted, unit=indicator.unit, as_of=as_of, origin=origin,
                         source=source.strip(), source_sha256=source_sha256,
                         details={**(details or {}), **({"conversion": conversion} if conversion else {})},
                         note="; ".join(n for n in (note.strip(), conversion) if n),
                         recorded_by=actor)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="indicator.value", entity_type="indicator_value",
                 entity_id=row.id, after={"indicator": indicator.key, "region": code, "year": year,
                                          "value": converted, "unit": indicator.unit,
                                          "as_of": as_of.isoformat(), "origin": origin,
                                          "source": row.source, "note": row.note})  # fmt: skip
    return row


def record_computed(
    session: Session,
    kind: str,
    year: int,
    by_region: dict[str, float],
    *,
    source: str,
    actor: str,
    source_sha256: str | None = None,
    details: dict[str, Any] | None = None,
    as_of: dt.date | None = None,
    today: dt.date | None = None,
) -> list[IndicatorValue]:
    """Store one computation's result (e.g. 森林覆盖率 by district and city from a land-cover
    layer) on the indicator of ``kind`` for plan year ``year``: one ``computed`` value per
    region code (``110000`` for the city), all in the caller's transaction. Raises NotFoundError
    when the indicator has not been synced from a plan of that year."""
    indicator = for_kind(session, kind, year)
    if indicator is None:
        raise NotFoundError(f"{year} 年没有“{kind}”指标,请先从计划生成指标")
    return [record_value(session, indicator, value=value, origin="computed", source=source,
                         actor=actor, region=code, year=year, as_of=as_of,
                         source_sha256=source_sha256, details=details, today=today)
            for code, value in by_region.items()]  # fmt: skip


# --------------------------------------------------------------------------- status


@dataclass
class Status:
    """The verdict on one indicator for one region, with the values it came from."""

    indicator: Indicator
    region_code: str
    region_name: str
    label: str  # one of STATUSES
    reason: str
    value: IndicatorValue | None = None
    compared: IndicatorValue | None = None  # last year's value (direction indicators)
    expected: float | None = None  # what the even pace asks for by today (cumulative)
    parts: list[Status] = field(default_factory=list)  # per district, when combined

    @property
    def light(self) -> str:
        return LIGHTS[self.label]

    @property
    def lineage(self) -> list[IndicatorValue]:
        """The stored values this verdict was read from."""
        own = [v for v in (self.value, self.compared) if v is not None]
        return own + [v for p in self.parts for v in p.lineage]


def _meets(value: float, comparator: str, target: float) -> bool:
    if comparator == "<=":
        return value <= target
    if comparator == "=":
        # "稳定在 X": equal at the precision the plan wrote X with
        text = f"{target:g}"
        decimals = len(text.split(".")[1]) if "." in text else 0
        return abs(value - target) <= 0.5 * 10.0**-decimals
    return value >= target


def expected_by(target: float, year: int, today: dt.date) -> float:
    """The even pace: target × elapsed days (1 January counted, today counted) / days in the
    year; 0 before the year, the target after it (as germplasm ``progress`` does)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    as_of = min(max(today, first - dt.timedelta(days=1)), last)
    elapsed = (as_of - first).days + 1 if as_of >= first else 0
    return target * elapsed / (366 if calendar.isleap(year) else 365)


def status(session: Session, indicator: Indicator, *, region: str = CITY_CODE,
           today: dt.date | None = None) -> Status:  # fmt: skip
    """Judge the latest value of ``indicator`` in ``region`` for its plan year.

    - level (森林覆盖率 ≥ 44.95 %): the value against the target: 已达成, else 有风险 while the
      year runs and 未达成 after it;
    - cumulative (处, 公顷): 已达成 at the target; before that 按进度 when at or above the even
      pace of the year, 有风险 below it, 未达成 once the year is over;
    - direction (稳中有升): this year's value against last year's of the same origin; for an
      indicator split by district the city verdict is the worst district's.
    """
    today = today or clock()
    names = regions(session) if region != CITY_CODE else {CITY_CODE: "全市"}
    name = names.get(region, region)
    year = indicator.plan_year
    year_over = today > dt.date(year, 12, 31)
    if indicator.pace == "direction":
        if region == CITY_CODE and indicator.by_district:
            combined = _combined(session, indicator)
            if combined is not None:
                return combined
        return _direction(session, indicator, region, name)
    value = latest(session, indicator, region=region)
    if value is None:
        return Status(indicator, region, name, "无数据", "尚无数值")
    if indicator.target is None:
        return Status(indicator, region, name, "无数据", "无量化目标", value)
    target, comparator = indicator.target, indicator.comparator
    met = _meets(value.value, comparator, target)
    shown = f"{value.value:.4g}{indicator.unit}"
    goal = f"{comparator} {target:g}{indicator.unit}"
    if indicator.pace == "level":
        if met:
            return Status(indicator, region, name, "已达成", f"{shown} 达到目标 {goal}", value)
        label = "未达成" if year_over else "有风险"
        return Status(indicator, region, name, label, f"{shown} 未达到目标 {goal}", value)
    # cumulative
    if comparator == "<=":
        if not met:
            return Status(indicator, region, name, "未达成", f"{shown} 超过上限 {target:g}", value)
        label = "已达成" if year_over else "按进度"
        return Status(indicator, region, name, label, f"{shown} 未超过上限 {target:g}", value)
    if met:
        return Status(indicator, region, name, "已达成", f"{shown} 达到目标 {goal}", value)
    if year_over:
        return Status(indicator, region, name, "未达成", f"年度结束时 {shown},目标 {goal}", value)
    expected = expected_by(target, year, today)
    label = "按进度" if value.value >= expected else "有风险"
    reason = (f"{shown},截至 {today.isoformat()} 按全年均匀进度应完成 {expected:.4g}{indicator.unit}"
              f"({'不低于' if label == '按进度' else '低于'}均匀进度)")  # fmt: skip
    return Status(indicator, region, name, label, reason, value, expected=expected)


def _direction(session: Session, indicator: Indicator, region: str, name: str) -> Status:
    value = latest(session, indicator, region=region)
    if value is None:
        return Status(indicator, region, name, "无数据", "本年尚无数值")
    # same basis: last year's value from the same kind of source (a computed 绿视率 is not
    # compared with a reported one; methods differ)
    before = latest(session, indicator, region=region, year=indicator.plan_year - 1,
                    origin=value.origin)  # fmt: skip
    if before is None:
        return Status(indicator, region, name, "无数据",
                      f"本年 {value.value:.4g}{indicator.unit},缺少上年同口径数值,无法判断{indicator.comparator}",
                      value)  # fmt: skip
    rule = config().direction.get(indicator.comparator)
    tolerance = rule.tolerance if rule else 0.0
    delta = value.value - before.value
    text = f"本年 {value.value:.4g}{indicator.unit},上年 {before.value:.4g}{indicator.unit},变化 {delta:+.4g}"
    if delta > tolerance:
        return Status(indicator, region, name, "已达成", f"{text}(升)", value, before)
    if -delta <= tolerance:
        # within the tolerance is 稳, which "稳中有升" accepts for a district: the same rule as
        # the 绿视率 survey's paired verdict (greenview.toml), so the two pages agree
        return Status(indicator, region, name, "已达成", f"{text}(稳,变化在 ±{tolerance:g} 内)",
                      value, before)  # fmt: skip
    return Status(indicator, region, name, "未达成", f"{text}(下降超过容差 {tolerance:g})",
                  value, before)  # fmt: skip


def _combined(session: Session, indicator: Indicator) -> Status | None:
    """The worst district verdict, over the districts that have a value this year."""
    names = regions(session)
    codes = sorted({v.region_code for v in values(session, indicator, year=indicator.plan_year)
                    if v.region_code != CITY_CODE})  # fmt: skip
    if not codes:
        return None
    parts = [_direction(session, indicator, c, names.get(c, c)) for c in codes]
    judged = [p for p in parts if p.label != "无数据"] or parts
    worst = min(judged, key=lambda p: _SEVERITY[p.label])
    counts = {label: sum(p.label == label for p in parts) for label in STATUSES}
    reason = "按区判断(取最差): " + "、".join(f"{k} {n} 个区" for k, n in counts.items() if n)
    return Status(indicator, CITY_CODE, "全市", worst.label, reason, parts=parts)


def statuses(session: Session, year: int, today: dt.date | None = None) -> list[Status]:
    return [status(session, ind, today=today) for ind in indicators(session, year)]


# the year-end report's words for the same verdicts
REPORT_STATUS = {"已达成": "已达到", "按进度": "进展正常", "有风险": "有风险", "未达成": "未达到",
                 "无数据": "暂无监测值"}  # fmt: skip


def report_rows(session: Session, year: int, today: dt.date | None = None) -> list[Any]:
    """The numeric targets of ``year`` as ``ecoplan.reports.annual.TargetRow`` for the
    year-end report (direction-only targets have no number to print and are left out)."""
    from ecoplan.reports.annual import TargetRow

    rows: list[Any] = []
    for s in statuses(session, year, today=today):
        ind, v = s.indicator, s.value
        if ind.target is None:
            continue
        rows.append(TargetRow(indicator=ind.name, target=ind.target, unit=ind.unit,
                              value=v.value if v else None, status=REPORT_STATUS[s.label],
                              source=f"{ORIGINS[v.origin]}: {v.source}" if v else s.reason,
                              as_of=v.as_of if v else None,
                              measure="、".join(measure_numbers(session, ind)),
                              comparator=ind.comparator))  # fmt: skip
    return rows
