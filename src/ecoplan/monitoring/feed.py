"""What the survey data tell the supervision of measures 5.1 (the 2024 surveys of birds, fish
and large fungi; indicator-species observation) and 5.2 (district baseline surveys under the
city's unified methods, shared with the city). Which measure gets which evidence is data
(``accounting/data/measure_links.toml``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.config import today
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent
from ecoplan.monitoring.observations import (
    district_coverage,
    indicator_trends,
    protected_counts,
    protected_recorded,
)
from ecoplan.monitoring.surveys import protocols

# The taxon groups task 5.1 names, and the protocols whose surveys count for each.
GROUPS = {
    "鸟类": ("bird_transect", "bird_point"),
    "鱼类": ("fish_gear",),
    "大型真菌": ("fungi_plot",),
}


def survey_year(session: Session) -> int | None:
    """The supervision year's surveys, else the latest earlier year that has any."""
    return session.scalar(select(func.max(Survey.year)).where(Survey.year <= today().year))


def _group_stats(session: Session, year: int) -> list[dict[str, Any]]:
    rows = []
    for group, keys in GROUPS.items():
        surveys, events, records, taxa = session.execute(
            select(func.count(func.distinct(Survey.id)), func.count(func.distinct(SurveyEvent.id)),
                   func.count(Occurrence.id), func.count(func.distinct(Occurrence.taxon_id)))
            .select_from(Survey).join(SurveyEvent, SurveyEvent.survey_id == Survey.id, isouter=True)
            .join(Occurrence, Occurrence.event_pk == SurveyEvent.id, isouter=True)
            .where(Survey.year == year, Survey.protocol.in_(keys))
        ).one()  # fmt: skip
        rows.append({"group": group, "surveys": surveys, "events": events, "records": records,
                     "species": taxa, "done": "已开展" if surveys else "未见数据"})  # fmt: skip
    return rows


def _surveys(session: Session) -> Evidence | None:
    year = survey_year(session)
    if year is None:
        return None
    groups = _group_stats(session, year)
    counts = protected_counts(protected_recorded(session, year))
    trends = [t for t in indicator_trends(session) if t.years]
    lines = [
        f"{year} 年调查: " + ",".join(
            f"{g['group']} {g['surveys']} 份/{g['records']} 条记录/{g['species']} 种" for g in groups),
        f"记录到国家一级保护物种 {counts['国家一级']} 种、国家二级 {counts['国家二级']} 种、北京市重点保护 {counts['北京市重点']} 种",
    ]  # fmt: skip
    if trends:
        lines.append("指示物种观测: " + ",".join(f"{t.species.name_cn}{t.verdict}" for t in trends))
    else:
        lines.append("指示物种观测: 尚无观测记录")
    return Evidence(
        "surveys", "系统记录:生物多样性调查与指示物种观测", lines,
        met=all(g["surveys"] for g in groups) and bool(trends), link=f"/biodiversity?year={year}",
        table=groups, columns=[("group", "类群"), ("surveys", "调查(份)"), ("events", "采样事件"),
                               ("records", "记录"), ("species", "物种数"), ("done", "状态")],
    )  # fmt: skip


def _baseline(session: Session) -> Evidence | None:
    year = survey_year(session)
    if year is None:
        return None
    coverage = district_coverage(session, year)
    labels = {key: p.label for key, p in protocols().items()}
    table = [{"district": d, "protocols": "、".join(labels.get(k, k) for k in keys)}
             for d, keys in coverage.items()]  # fmt: skip
    lines = [f"{year} 年 {len(coverage)} 个区有按全市统一调查规程提交并汇入全市数据集的调查数据"]
    # "有条件的区" is not a list the plan gives, so the system cannot say the measure is met
    return Evidence("baseline", "系统记录:区级本底调查数据共享", lines, met=None,
                    link=f"/biodiversity?year={year}", table=table,
                    columns=[("district", "区"), ("protocols", "调查规程")])  # fmt: skip


def providers() -> dict[str, Provider]:
    return {"surveys": _surveys, "baseline": _baseline}
