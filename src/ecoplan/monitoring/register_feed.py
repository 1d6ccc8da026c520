"""What the invasive-species, germplasm and station registers tell the supervision of measures
3 (invasive species: introduction approval, monitoring and control of six named species), 4.2
(collect 600 林草 germplasm accessions), 4.3 (the annual germplasm report), 9 (the 密云水库
national ecological-quality monitoring station) and 10.2 (joint control of 美国白蛾 and 松材线虫
with Tianjin and Hebei). Which measure gets which evidence is data
(``accounting/data/measure_links.toml``).

A provider says ``met`` only where the plan gives something the data can decide: the 600
accessions, and the report of 4.3 (decided by a person, so never). Monitoring "strengthened" or
a station "built" is for the supervisor to judge; the evidence gives the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.config import today
from ecoplan.monitoring.germplasm import config as germplasm_config
from ecoplan.monitoring.germplasm import progress
from ecoplan.monitoring.introduction import STATES
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_control import SpeciesYear, species_summary
from ecoplan.monitoring.invasive_models import IntroductionApplication, InvasiveRecord
from ecoplan.monitoring.register_models import Accession, Station, StationValue
from ecoplan.monitoring.stations import qc_summary

# 10.2 names these two pests for joint control with the neighbouring provinces
JOINT_SPECIES = ("hyphantria_cunea", "bursaphelenchus_xylophilus")
SPECIES_COLUMNS = [("name", "物种"), ("sites", "监测点"), ("records", "记录"),
                   ("positives", "阳性记录"), ("districts", "发生区"), ("alerts", "预警"),
                   ("open_alerts", "未处置预警"), ("controls", "防治(次)"), ("area", "防治面积(公顷)")]  # fmt: skip


def _species_rows(figures: list[SpeciesYear]) -> list[dict[str, Any]]:
    return [{"name": f.name_cn, "sites": f.sites, "records": f.records, "positives": f.positives,
             "districts": "、".join(f.districts) or "—", "alerts": f.alerts,
             "open_alerts": f.open_alerts, "controls": f.controls, "area": round(f.area_ha, 2)}
            for f in figures]  # fmt: skip


def _invasive(session: Session) -> Evidence | None:
    year = today().year
    named = set(load_config().species)
    figures = [f for f in species_summary(session, year) if f.key in named]
    if not any(f.sites or f.records or f.controls for f in figures):
        return None
    unwatched = [f.name_cn for f in figures if not f.records]
    apps = dict(session.execute(select(IntroductionApplication.state, func.count())
                                .group_by(IntroductionApplication.state)).all())  # fmt: skip
    lines = [
        f"{year} 年重点外来入侵物种 {len(figures) - len(unwatched)}/{len(figures)} 种有监测记录"
        + (f"(尚无记录: {'、'.join(unwatched)})" if unwatched else ""),
        f"阳性记录 {sum(f.positives for f in figures)} 条,预警 {sum(f.alerts for f in figures)} 条"
        f"(未处置 {sum(f.open_alerts for f in figures)} 条),防治 {sum(f.controls for f in figures)} 次、"
        f"{sum(f.area_ha for f in figures):.2f} 公顷",
        "外来物种引入审批: " + ("、".join(f"{STATES.get(s, s)} {n} 件" for s, n in sorted(apps.items()))
                         if apps else "本年无申请"),
    ]  # fmt: skip
    return Evidence("invasive", "系统记录:外来入侵物种监测、预警、防治与引入审批", lines,
                    met=None, link=f"/invasive?year={year}", table=_species_rows(figures),
                    columns=SPECIES_COLUMNS)  # fmt: skip


def _joint_control(session: Session) -> Evidence | None:
    year = today().year
    figures = [f for f in species_summary(session, year) if f.key in JOINT_SPECIES]
    received = dict(session.execute(
        select(InvasiveRecord.province, func.count()).where(InvasiveRecord.province != "北京",
            InvasiveRecord.observed_on.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        .group_by(InvasiveRecord.province)).all())  # fmt: skip
    if not any(f.records or f.controls for f in figures) and not received:
        return None
    lines = [
        "本市: " + ",".join(f"{f.name_cn}阳性 {f.positives} 条、防治 {f.area_ha:.2f} 公顷"
                          for f in figures),
        "收到周边省市交换记录: " + (",".join(f"{p} {n} 条" for p, n in sorted(received.items()))
                           if received else "本年尚无"),
    ]  # fmt: skip
    return Evidence("joint_control", "系统记录:京津冀协同防控美国白蛾、松材线虫", lines,
                    met=None, link=f"/invasive?year={year}&species={JOINT_SPECIES[0]}",
                    table=_species_rows(figures), columns=SPECIES_COLUMNS)  # fmt: skip


def _germplasm_collection(session: Session) -> Evidence | None:
    result = progress(session, today().year, category="林草")
    if result.target is None and not result.collected:
        return None
    lines = [f"{result.year} 年已收集林草种质资源 {result.collected} 份"
             + (f",目标 {result.target:g} 份,完成 {100 * (result.share or 0):.1f}%,"
                f"按均匀进度应完成 {result.expected:.0f} 份,{result.verdict}"
                if result.target is not None and result.expected is not None else "")]  # fmt: skip
    table = [{"unit": name, "count": n} for name, n in result.by_unit]
    return Evidence("germplasm_collection", "系统记录:林草种质资源收集进度", lines,
                    met=result.share >= 1 if result.share is not None else None,
                    link=f"/germplasm?year={result.year}", table=table,
                    columns=[("unit", "单位"), ("count", "收集(份)")])  # fmt: skip


def _germplasm_report(session: Session) -> Evidence | None:
    year = today().year
    counts = dict(session.execute(select(Accession.category, func.count())
                                  .group_by(Accession.category)).all())  # fmt: skip
    if not counts:
        return None
    table = [{"category": c, "count": counts.get(c, 0)} for c in germplasm_config().categories]
    lines = ["登记保存种质资源: " + "、".join(f"{r['category']} {r['count']} 份" for r in table),
             f"{year} 年度报告可从种质资源页面生成(docx),提交由牵头部门确认"]  # fmt: skip
    # whether the year's report was completed is a person's statement, not a count
    return Evidence("germplasm_report", "系统记录:种质资源保护年度报告数据", lines, met=None,
                    link=f"/germplasm?year={year}", table=table,
                    columns=[("category", "类别"), ("count", "保存(份)")])  # fmt: skip


def _station(session: Session) -> Evidence | None:
    table: list[dict[str, Any]] = []
    total = 0
    for station in session.scalars(select(Station).order_by(Station.code)):
        values = (
            session.scalar(select(func.count()).where(StationValue.station_id == station.id)) or 0
        )
        total += values
        summary = qc_summary(session, station.code) if values else None
        good = int(summary["good"].sum()) if summary is not None else 0
        table.append({"station": station.name, "parameters": 0 if summary is None else len(summary),
                      "values": values, "good": f"{100 * good / values:.1f}%" if values else "—",
                      "gaps": 0 if summary is None else int(summary["gaps"].sum())})  # fmt: skip
    if not table:
        return None
    lines = [f"已接入监测站 {len(table)} 个,观测值 {total} 条"
             "(质量控制: 范围、突变、恒值、缺测与中断)"]  # fmt: skip
    return Evidence("station", "系统记录:生态质量监测站数据接入", lines, met=None,
                    link="/stations", table=table,
                    columns=[("station", "监测站"), ("parameters", "参数"), ("values", "观测值"),
                             ("good", "质量良好"), ("gaps", "数据中断")])  # fmt: skip


def providers() -> dict[str, Provider]:
    return {"invasive": _invasive, "joint_control": _joint_control,
            "germplasm_collection": _germplasm_collection, "germplasm_report": _germplasm_report,
            "station": _station}  # fmt: skip
