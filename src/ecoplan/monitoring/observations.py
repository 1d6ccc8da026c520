"""What the surveys of 5.1/5.2 report beyond diversity indices: the protected species recorded,
the indicator species' encounter rates across years, which districts have submitted surveys
under the city's protocols, and the publication of a survey to the public species page.

Figures use the same records as the indices (``summaries.records``'s exclusions): a record
flagged outside Beijing, with an invalid date or count, or an unmatched name, never counts.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent, Taxon
from ecoplan.monitoring.summaries import EXCLUDING

LEVEL_LABELS = {"I": "一级", "II": "二级"}


@dataclass(frozen=True)
class IndicatorSpecies:
    scientific_name: str
    name_cn: str
    habitat: str
    protocols: tuple[str, ...]


@dataclass(frozen=True)
class IndicatorConfig:
    species: tuple[IndicatorSpecies, ...]
    stable_band: float
    min_years: int


@lru_cache(maxsize=1)
def indicator_config() -> IndicatorConfig:
    raw = tomllib.loads(
        resources.files("ecoplan.monitoring").joinpath("data/indicators.toml").read_text("utf-8")
    )
    species = tuple(
        IndicatorSpecies(s["scientific_name"], s["name_cn"], s.get("habitat", ""),
                         tuple(s.get("protocols", [])))
        for s in raw["species"]
    )  # fmt: skip
    return IndicatorConfig(species, float(raw["stable_band"]), int(raw["min_years"]))


def _usable(flags: list[str] | None) -> bool:
    return not any(f in EXCLUDING for f in flags or [])


# --- protected species ---------------------------------------------------------------------------


@dataclass
class ProtectedRecord:
    taxon_id: int
    name_cn: str
    scientific_name: str
    national_level: str | None
    beijing_level: str | None
    records: int
    individuals: float
    districts: list[str]


def protected_recorded(session: Session, year: int) -> list[ProtectedRecord]:
    """National (一级/二级) and Beijing key protected species recorded present in ``year``."""
    query = (
        select(Taxon, SurveyEvent.district_name, Occurrence.individual_count, Occurrence.flags)
        .join(Occurrence, Occurrence.taxon_id == Taxon.id)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk)
        .join(Survey, Survey.id == SurveyEvent.survey_id)
        .where(Survey.year == year, Occurrence.status == "present",
               (Taxon.national_level.is_not(None)) | (Taxon.beijing_level.is_not(None)))
    )  # fmt: skip
    found: dict[int, ProtectedRecord] = {}
    for taxon, district, count, flags in session.execute(query):
        if not _usable(flags):
            continue
        item = found.setdefault(taxon.id, ProtectedRecord(
            taxon.id, taxon.name_cn, taxon.scientific_name, taxon.national_level,
            taxon.beijing_level, 0, 0.0, []))  # fmt: skip
        item.records += 1
        item.individuals += count or 0.0
        if district and district not in item.districts:
            item.districts.append(district)
    order = {"I": 0, "II": 1, None: 2}
    return sorted(found.values(), key=lambda p: (order[p.national_level], p.name_cn))


def protected_counts(items: list[ProtectedRecord]) -> dict[str, int]:
    """Distinct species by protection class: 国家一级, 国家二级, 北京市重点 (any level)."""
    return {
        "国家一级": sum(1 for p in items if p.national_level == "I"),
        "国家二级": sum(1 for p in items if p.national_level == "II"),
        "北京市重点": sum(1 for p in items if p.beijing_level),
    }


# --- indicator species -----------------------------------------------------------------------------


@dataclass
class IndicatorYear:
    year: int
    individuals: float
    records: int
    sites: int  # distinct locations where present
    effort: float  # total effort of the year's events under the indicator's protocols
    effort_unit: str
    rate: float | None  # individuals per unit of effort


@dataclass
class IndicatorTrend:
    species: IndicatorSpecies
    taxon_id: int | None
    years: list[IndicatorYear]
    change: float | None  # relative change of the rate, last year vs first
    verdict: str  # 上升 | 稳定 | 下降 | 数据不足 | 未列入名录


def _effort_by_year(session: Session, protocols: tuple[str, ...]) -> tuple[dict[int, float], str]:
    """The year's total effort in one unit, and that unit: the unit of the most sampling events
    over all years. Protocols measure effort differently (km of transect, minutes of point
    count); adding kilometres to minutes would make a meaningless rate, and reading years in
    different units a meaningless trend. (Totals cannot pick the unit: 30 min is not more than
    25 km.)"""
    query = (
        select(Survey.year, SurveyEvent.effort_unit, func.sum(SurveyEvent.effort_value), func.count())
        .join(Survey, Survey.id == SurveyEvent.survey_id)
        .where(Survey.protocol.in_(protocols), SurveyEvent.effort_value.is_not(None))
        .group_by(Survey.year, SurveyEvent.effort_unit)
    )  # fmt: skip
    rows = [
        (year, unit or "", float(total or 0), n) for year, unit, total, n in session.execute(query)
    ]
    events: dict[str, int] = {}
    for _, unit, _, n in rows:
        events[unit] = events.get(unit, 0) + n
    if not events:
        return {}, ""
    unit = max(sorted(events), key=lambda u: events[u])
    return {year: total for year, u, total, _ in rows if u == unit}, unit


def _verdict(years: list[IndicatorYear], config: IndicatorConfig) -> tuple[float | None, str]:
    rated = [y for y in years if y.rate is not None]
    if len(rated) < config.min_years:
        return None, "数据不足"
    first, last = rated[0].rate or 0.0, rated[-1].rate or 0.0
    if first == 0:
        return None, "上升" if last > 0 else "稳定"
    change = (last - first) / first
    if change > config.stable_band:
        return change, "上升"
    if change < -config.stable_band:
        return change, "下降"
    return change, "稳定"


def indicator_trends(session: Session) -> list[IndicatorTrend]:
    """Per indicator species and year: individuals, records, sites and the encounter rate
    (individuals ÷ the year's total effort under the indicator's protocols, e.g. per km of
    transect), with the first-to-last-year change read as 上升/稳定/下降. Only events whose
    effort is in the species' main effort unit count (``_effort_by_year``)."""
    config = indicator_config()
    out = []
    for sp in config.species:
        taxon = session.scalar(select(Taxon).where(Taxon.scientific_name == sp.scientific_name))
        if taxon is None:
            out.append(IndicatorTrend(sp, None, [], None, "未列入名录"))
            continue
        effort, unit = _effort_by_year(session, sp.protocols)
        query = (
            select(Survey.year, SurveyEvent.location_id, Occurrence.individual_count,
                   Occurrence.flags)
            .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk)
            .join(Survey, Survey.id == SurveyEvent.survey_id)
            .where(Occurrence.taxon_id == taxon.id, Occurrence.status == "present",
                   Survey.protocol.in_(sp.protocols), SurveyEvent.effort_unit == unit)
        )  # fmt: skip
        acc: dict[int, dict[str, Any]] = {y: {"n": 0.0, "r": 0, "sites": set()} for y in effort}
        for year, location, count, flags in session.execute(query):
            if not _usable(flags):
                continue
            a = acc.setdefault(year, {"n": 0.0, "r": 0, "sites": set()})
            a["n"] += count or 0.0
            a["r"] += 1
            a["sites"].add(location)
        years = []
        for year in sorted(acc):
            total = effort.get(year, 0.0)
            a = acc[year]
            rate = a["n"] / total if total > 0 else None
            years.append(IndicatorYear(year, a["n"], a["r"], len(a["sites"]), total, unit, rate))
        change, verdict = _verdict(years, config)
        out.append(IndicatorTrend(sp, taxon.id, years, change, verdict))
    return out


# --- surveys: listing, district coverage, publication ------------------------------------------------


@dataclass
class SurveyRow:
    survey: Survey
    events: int
    records: int
    flagged: int
    species: int
    districts: list[str]


def survey_rows(session: Session, year: int | None = None) -> list[SurveyRow]:
    query = select(Survey).order_by(Survey.year.desc(), Survey.id.desc())
    if year is not None:
        query = query.where(Survey.year == year)
    surveys = session.scalars(query).all()
    if not surveys:
        return []
    ids = [s.id for s in surveys]
    events = dict(
        session.execute(
            select(SurveyEvent.survey_id, func.count())
            .where(SurveyEvent.survey_id.in_(ids))
            .group_by(SurveyEvent.survey_id)
        ).all()
    )
    districts: dict[int, set[str]] = {}
    for sid, name in session.execute(
        select(SurveyEvent.survey_id, SurveyEvent.district_name)
        .where(SurveyEvent.survey_id.in_(ids))
        .distinct()
    ):
        if name:
            districts.setdefault(sid, set()).add(name)
    stats: dict[int, dict[str, Any]] = {}
    for sid, taxon_id, flags in session.execute(
        select(SurveyEvent.survey_id, Occurrence.taxon_id, Occurrence.flags)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk)
        .where(SurveyEvent.survey_id.in_(ids))
    ):
        s = stats.setdefault(sid, {"n": 0, "flagged": 0, "taxa": set()})
        s["n"] += 1
        s["flagged"] += int(bool(flags))
        if taxon_id is not None:
            s["taxa"].add(taxon_id)
    return [
        SurveyRow(s, events.get(s.id, 0), stats.get(s.id, {}).get("n", 0),
                  stats.get(s.id, {}).get("flagged", 0), len(stats.get(s.id, {}).get("taxa", ())),
                  sorted(districts.get(s.id, set())))
        for s in surveys
    ]  # fmt: skip


def district_coverage(session: Session, year: int) -> dict[str, list[str]]:
    """District name → the protocols (labels' keys) of the year's surveys with events there:
    which districts have data under the city's unified methods (5.2)."""
    out: dict[str, set[str]] = {}
    for name, protocol in session.execute(
        select(SurveyEvent.district_name, Survey.protocol)
        .join(Survey, Survey.id == SurveyEvent.survey_id)
        .where(Survey.year == year, SurveyEvent.district_name.is_not(None))
        .distinct()
    ):
        out.setdefault(name or "", set()).add(protocol)
    return {k: sorted(v) for k, v in sorted(out.items())}


def may_publish(account: Account) -> bool:
    """The city (coordinator, admin) publishes; a unit submits, it does not publish."""
    return account.role in ("coordinator", "admin")


def set_published(session: Session, account: Account, survey_id: int, publish: bool,
                  *, now: dt.datetime | None = None) -> Survey:  # fmt: skip
    if not may_publish(account):
        raise PermissionDenied("只有督办协调员或系统管理员可以发布调查数据")
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFoundError(f"调查 {survey_id} 不存在")
    if publish and survey.published_at is not None:
        raise ValidationError(f"调查“{survey.title}”已经发布")
    if not publish and survey.published_at is None:
        raise ValidationError(f"调查“{survey.title}”尚未发布")
    before = {"published_at": survey.published_at.isoformat() if survey.published_at else None}
    survey.published_at = (now or dt.datetime.now(dt.UTC)) if publish else None
    survey.published_by = account.actor if publish else None
    audit.record(session, actor=account.actor, action="survey.publish" if publish else "survey.unpublish",
                 entity_type="survey", entity_id=survey.id, before=before,
                 after={"published_at": survey.published_at.isoformat() if survey.published_at else None})  # fmt: skip
    return survey


@dataclass
class PublicSpecies:
    name_cn: str
    scientific_name: str
    group: str
    protection: str  # 国家一级 | 国家二级 | 北京市重点 | 三有 | ""
    years: list[int]
    districts: list[str]  # empty for protected species: the place is withheld
    records: int


def public_species(session: Session) -> list[PublicSpecies]:
    """Species recorded in published surveys. Protected species are listed without districts:
    the public page must not help anyone find them (the archive export generalises to 0.1°
    for the same reason)."""
    query = (
        select(Taxon, Survey.year, SurveyEvent.district_name, Occurrence.flags)
        .join(Occurrence, Occurrence.taxon_id == Taxon.id)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk)
        .join(Survey, Survey.id == SurveyEvent.survey_id)
        .where(Survey.published_at.is_not(None), Occurrence.status == "present")
    )
    found: dict[int, PublicSpecies] = {}
    for taxon, year, district, flags in session.execute(query):
        if not _usable(flags):
            continue
        protected = bool(taxon.national_level or taxon.beijing_level)
        label = (
            f"国家{LEVEL_LABELS[taxon.national_level]}" if taxon.national_level
            else "北京市重点" if taxon.beijing_level else "三有" if taxon.sanyou else ""
        )  # fmt: skip
        item = found.setdefault(taxon.id, PublicSpecies(
            taxon.name_cn, taxon.scientific_name, taxon.group, label, [], [], 0))  # fmt: skip
        item.records += 1
        if year not in item.years:
            item.years.append(year)
        if not protected and district and district not in item.districts:
            item.districts.append(district)
    for item in found.values():
        item.years.sort()
        item.districts.sort()
    return sorted(found.values(), key=lambda s: (s.group, s.name_cn))
