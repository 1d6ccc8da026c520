"""Stored 绿视率 surveys: a computed :class:`~ecoplan.greenview.survey.SurveyResult` becomes a
survey with its points (one transaction, audited), and its year's district and city GVI go into
the indicator registry (kind ``green_view``, origin ``computed``), where "稳中有升" is judged
against last year's value of the same origin.

- :func:`store_survey`  result → ``GreenViewSurvey`` + ``GreenViewPoint`` rows + registry values;
  a second survey of the same manifest (SHA-256) for the same year is refused;
- :func:`year_points`   the points of a year (several surveys of a year are merged: for a point
  surveyed twice the later survey wins, e.g. a corrected re-run);
- :func:`district_table` mean / median GVI per district and city from the stored points;
- :func:`register_year` records the year's values on the ``green_view`` indicators of plan
  years Y and Y+1 (Y+1's indicator needs them as its "上年同口径" value); idempotent;
- :func:`may_store`     who may store a survey: the coordinator, the admin, or a unit leading a
  measure that names 绿视率 (14.1: 市园林绿化局);
- :func:`compare_years` the paired verdict (:func:`ecoplan.greenview.compare.compare_points`) on
  the stored points of two years.

The per-image table is written as ``images.csv`` into the content-addressed file store (the
evidence store) and the survey keeps its SHA-256.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import today as clock
from ecoplan.errors import ConflictError, NotFoundError, ValidationError
from ecoplan.greenview.aggregate import CITY_CODE, district_summary
from ecoplan.greenview.compare import Comparison, compare_points
from ecoplan.greenview.method import GreenviewMethod, VerdictSpec, load_method
from ecoplan.greenview.models import GreenViewPoint, GreenViewSurvey
from ecoplan.greenview.survey import SurveyResult
from ecoplan.indicators import registry
from ecoplan.indicators.models import Indicator, IndicatorValue
from ecoplan.plans.models import Measure, MeasureUnit
from ecoplan.supervision import evidence

KIND = "green_view"
POINT_FRAME = ["point_id", "year", "lon", "lat", "n_images", "gvi", "complete", "district_code",
               "district", "flags", "survey_id"]  # fmt: skip


def _flags(row: Any, min_images: int) -> list[str]:
    out = []
    if int(row.n_images) < min_images:
        out.append(f"图片 {int(row.n_images)} 张(少于 {min_images} 张)")
    if row.missing_headings:
        out.append(f"缺方位角 {row.missing_headings}")
    if row.district_code is None or pd.isna(row.district_code):
        out.append("不在任何区内")
    return out


def _snapshot(s: GreenViewSurvey) -> dict[str, Any]:
    return {"year": s.year, "title": s.title, "method": s.method, "classifier": s.classifier,
            "manifest": s.manifest_name, "manifest_sha256": s.manifest_sha256,
            "images_sha256": s.images_sha256, "images": s.images, "points": s.points,
            "incomplete": s.incomplete, "outside": s.outside}  # fmt: skip


def store_survey(
    session: Session,
    result: SurveyResult,
    *,
    year: int,
    title: str,
    actor: str,
    method: GreenviewMethod | None = None,
    notes: str = "",
    today: dt.date | None = None,
) -> GreenViewSurvey:
    """Store ``result`` as the survey ``title`` of ``year`` (in the caller's transaction) and
    record the year's GVI per district and city in the registry. Refuses a result holding
    another year's images, a year after today, a manifest already stored for that year and a
    method other than the one of the year's earlier surveys."""
    method = method or load_method()
    today = today or clock()
    title = title.strip()
    if not title:
        raise ValidationError("请填写调查名称")
    if year > today.year:
        raise ValidationError(f"年度 {year} 晚于今年({today.year})")
    years = sorted({int(y) for y in result.points["year"]})
    if years != [year]:
        raise ValidationError(
            f"{result.manifest['path']}: 清单中图片的拍摄年份为 {'、'.join(map(str, years)) or '无'},"
            f"与所填年度 {year} 不符(一份清单只登记一个年度)"
        )
    sha = result.manifest["sha256"]
    name = evidence.clean_name(result.manifest["path"])
    earlier = session.scalar(select(GreenViewSurvey).where(GreenViewSurvey.year == year,
                                                           GreenViewSurvey.manifest_sha256 == sha))  # fmt: skip
    if earlier is not None:
        raise ConflictError(f"{name}: 这份清单(SHA-256 {sha[:12]}…)已登记为 {year} 年调查"
                            f"“{earlier.title}”(编号 {earlier.id}),不重复登记")  # fmt: skip
    other = session.scalar(select(GreenViewSurvey.method).where(
        GreenViewSurvey.year == year, GreenViewSurvey.method != result.method).limit(1))  # fmt: skip
    if other is not None:
        raise ValidationError(f"{year} 年已有按方法 {other} 计算的调查,本次为 {result.method}:"
                              "同一年度须用同一方法(同口径)")  # fmt: skip
    images_csv = result.images.to_csv(index=False).encode("utf-8-sig")
    survey = GreenViewSurvey(
        year=year, title=title[:200], method=result.method, method_sha256=result.method_sha256,
        classifier=result.classifier[:100], manifest_name=name[:255], manifest_sha256=sha,
        images_sha256=evidence.store(images_csv), images=len(result.images),
        points=len(result.points), incomplete=len(result.incomplete), outside=len(result.outside),
        details={"provenance": result.provenance(), "incomplete": list(result.incomplete),
                 "outside": list(result.outside),
                 "districts": result.to_records()["districts"]},
        notes=notes.strip(), created_by=actor,
    )  # fmt: skip
    min_images = method.point.min_images
    for r in result.points.itertuples():
        placed = r.district_code is not None and not pd.isna(r.district_code)
        survey.point_rows.append(GreenViewPoint(
            point_id=str(r.point_id), lon=float(r.lon), lat=float(r.lat),
            district_code=str(r.district_code) if placed else None,
            district_name=str(r.district) if placed else None, images=int(r.n_images),
            gvi=float(r.gvi), complete=bool(r.complete), flags=_flags(r, min_images)))  # fmt: skip
    session.add(survey)
    session.flush()
    audit.record(session, actor=actor, action="greenview.survey.create",
                 entity_type="greenview_survey", entity_id=survey.id, after=_snapshot(survey))  # fmt: skip
    register_year(session, year, actor=actor, method=method, today=today)
    return survey


def may_store(session: Session, account: Account) -> bool:
    """The coordinator and the admin; a unit that leads a current measure whose text names
    绿视率 (in the 2024 plan 14.1, led by 市园林绿化局)."""
    if account.role in ("admin", "coordinator"):
        return True
    if account.role != "unit" or account.unit_id is None:
        return False
    led = session.scalar(select(MeasureUnit.id).join(Measure, Measure.id == MeasureUnit.measure_id)
                         .where(Measure.removed.is_(False), Measure.text.contains("绿视率"),
                                MeasureUnit.role == "lead", MeasureUnit.unit_id == account.unit_id)
                         .limit(1))  # fmt: skip
    return led is not None


def surveys(session: Session, year: int | None = None) -> list[GreenViewSurvey]:
    """Stored surveys (of ``year``), newest year first, then in the order they were stored."""
    query = select(GreenViewSurvey).order_by(GreenViewSurvey.year.desc(), GreenViewSurvey.id)
    if year is not None:
        query = query.where(GreenViewSurvey.year == year)
    return list(session.scalars(query))


def survey_years(session: Session) -> list[int]:
    return list(session.scalars(select(GreenViewSurvey.year).distinct()
                                .order_by(GreenViewSurvey.year.desc())))  # fmt: skip


def year_points(session: Session, year: int) -> pd.DataFrame:
    """The stored points of ``year`` (:data:`POINT_FRAME`); a point stored by several surveys
    of the year is taken from the latest one."""
    rows = session.execute(
        select(GreenViewPoint, GreenViewSurvey.id)
        .join(GreenViewSurvey, GreenViewSurvey.id == GreenViewPoint.survey_id)
        .where(GreenViewSurvey.year == year)
        .order_by(GreenViewSurvey.id.desc(), GreenViewPoint.id)
    ).all()
    seen: set[str] = set()
    out = []
    for p, survey_id in rows:
        if p.point_id in seen:
            continue
        seen.add(p.point_id)
        out.append({"point_id": p.point_id, "year": year, "lon": p.lon, "lat": p.lat,
                    "n_images": p.images, "gvi": p.gvi, "complete": p.complete,
                    "district_code": p.district_code, "district": p.district_name,
                    "flags": list(p.flags or []), "survey_id": survey_id})  # fmt: skip
    return pd.DataFrame(out, columns=POINT_FRAME).sort_values("point_id", ignore_index=True)


def district_table(
    session: Session, year: int, method: GreenviewMethod | None = None
) -> pd.DataFrame:
    """Mean and median GVI (%) and point counts per district and city of ``year``
    (:data:`ecoplan.greenview.aggregate.DISTRICT_COLUMNS`), by the method's incomplete rule."""
    points = year_points(session, year)
    return district_summary(points, (method or load_method()).point)


def _indicators(session: Session, year: int) -> list[Indicator]:
    found = [registry.for_kind(session, KIND, y) for y in (year, year + 1)]
    return [i for i in found if i is not None]


def register_year(
    session: Session,
    year: int,
    *,
    actor: str,
    method: GreenviewMethod | None = None,
    today: dt.date | None = None,
) -> list[IndicatorValue]:
    """Record ``year``'s mean GVI per district and city (from every stored survey of the year)
    on the ``green_view`` indicators of plan years ``year`` and ``year + 1`` (the latter's
    "上年" value). A region whose value from the same latest survey is already there is left
    alone, so running it again writes nothing. Nothing is written when neither indicator is
    synced from a plan (run it again after ``ecoplan targets sync``)."""
    latest = session.scalar(select(GreenViewSurvey).where(GreenViewSurvey.year == year)
                            .order_by(GreenViewSurvey.id.desc()).limit(1))  # fmt: skip
    indicators = _indicators(session, year)
    if latest is None or not indicators:
        return []
    table = district_table(session, year, method)
    count = session.scalar(select(func.count()).select_from(GreenViewSurvey)
                           .where(GreenViewSurvey.year == year)) or 0  # fmt: skip
    source = (f"绿视率调查“{latest.title}”(编号 {latest.id},清单 {latest.manifest_name},"
              f"方法 {latest.method},分类器 {latest.classifier})"
              + (f",合并本年 {count} 次调查的样点" if count > 1 else ""))  # fmt: skip
    written: list[IndicatorValue] = []
    for ind in indicators:
        done = set(session.scalars(select(IndicatorValue.region_code).where(
            IndicatorValue.indicator_id == ind.id, IndicatorValue.year == year,
            IndicatorValue.origin == "computed",
            IndicatorValue.source_sha256 == latest.manifest_sha256)))  # fmt: skip
        for r in table.itertuples():
            code = str(r.district_code)
            if code in done or (code != CITY_CODE and not ind.by_district):
                continue
            details = {"survey_id": latest.id, "surveys": count, "n_points": int(r.n_points),
                       "median_gvi": float(r.median_gvi), "n_incomplete": int(r.n_incomplete),
                       "method": latest.method, "method_sha256": latest.method_sha256}  # fmt: skip
            written.append(registry.record_value(
                session, ind, value=float(r.mean_gvi), origin="computed", source=source,
                actor=actor, region=code, year=year, source_sha256=latest.manifest_sha256,
                details=details, today=today))  # fmt: skip
    return written


def compare_years(
    session: Session, year_a: int, year_b: int, *, spec: VerdictSpec | None = None
) -> Comparison:
    """The verdict 稳中有升 from ``year_a`` to ``year_b`` on the stored points surveyed in both
    years (paired by point id), per district and for the city. Both years must have been
    computed with the same method; incomplete points are left out when the method says so."""
    method = load_method()
    frames = []
    for year in (year_a, year_b):
        points = year_points(session, year)
        if points.empty:
            raise NotFoundError(f"{year} 年没有已登记的绿视率调查")
        if method.point.incomplete == "exclude":
            points = points[points["complete"]]
        frames.append(points)
    methods = [set(session.scalars(select(GreenViewSurvey.method).where(GreenViewSurvey.year == y)))
               for y in (year_a, year_b)]  # fmt: skip
    if methods[0] != methods[1]:
        raise ValidationError(f"{year_a} 年({'、'.join(sorted(methods[0]))})与 {year_b} 年"
                              f"({'、'.join(sorted(methods[1]))})的计算方法不同,不是同口径,不能比较")  # fmt: skip
    return compare_points(frames[0], frames[1], spec or method.verdict,
                          (f"{year_a} 年调查", f"{year_b} 年调查"))  # fmt: skip
