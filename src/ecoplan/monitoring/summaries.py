"""What ecologists report from the stored records: diversity indices per place (transect, point
or plot: ``locationID``) or district and year, over the present records with a matched taxon
and a count. Records flagged as outside Beijing, with an invalid date or an unmatched taxon are
left out, so that a flagged record never changes a reported figure unnoticed."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from ecoplan.errors import ValidationError
from ecoplan.monitoring.indices import indices_by_group
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent

EXCLUDING = (
    "COORDINATE_OUTSIDE_BEIJING",
    "RECORDED_DATE_INVALID",
    "TAXON_MATCH_NONE",
    "INDIVIDUAL_COUNT_INVALID",
)


def records(session: Session, year: int | None = None) -> pd.DataFrame:
    """Present, counted, matched records: location, district, year, taxon, count."""
    # The excluding flags are tested on the stored JSON's text in SQL: decoding a million flag
    # lists in Python took most of the indices' time. A flag is a quoted word in that text on
    # SQLite (JSON) and PostgreSQL (JSONB cast to text) alike.
    flags_text = cast(Occurrence.flags, String)
    unflagged = [
        or_(Occurrence.flags.is_(None), ~flags_text.like(f'%"{flag}"%')) for flag in EXCLUDING
    ]
    query = (
        select(SurveyEvent.location_id, SurveyEvent.district_name, func.coalesce(Survey.year, 0), Occurrence.taxon_id,
               Occurrence.individual_count)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk).join(Survey, Survey.id == SurveyEvent.survey_id)
        .where(Occurrence.status == "present", Occurrence.taxon_id.is_not(None),
               Occurrence.individual_count.is_not(None), *unflagged)
    )  # fmt: skip
    if year is not None:
        query = query.where(Survey.year == year)
    names = ["location", "district", "year", "taxon", "count"]
    rows = session.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    # column-wise construction: building from a million row tuples is the slow path in pandas
    return pd.DataFrame({name: list(values) for name, values in zip(names, columns, strict=True)})


def diversity_table(
    session: Session, *, year: int | None = None, by: str = "district"
) -> pd.DataFrame:
    if by not in ("location", "district"):
        raise ValidationError("--by 只能是 location 或 district")
    frame = records(session, year)
    if frame.empty:
        return frame
    frame[by] = frame[by].fillna("未落区" if by == "district" else "未标注")
    frame["count"] = frame["count"].round().astype("int64")
    return indices_by_group(frame, [by, "year"], "taxon", "count")
