"""What ecologists report from the stored records: diversity indices per place (transect, point
or plot: ``locationID``) or district and year, over the present records with a matched taxon
and a count. Records flagged as outside Beijing, with an invalid date or an unmatched taxon are
left out, so that a flagged record never changes a reported figure unnoticed."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
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
    query = (
        select(SurveyEvent.location_id, SurveyEvent.district_name, func.coalesce(Survey.year, 0), Occurrence.taxon_id,
               Occurrence.individual_count, Occurrence.flags)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk).join(Survey, Survey.id == SurveyEvent.survey_id)
        .where(Occurrence.status == "present", Occurrence.taxon_id.is_not(None),
               Occurrence.individual_count.is_not(None))
    )  # fmt: skip
    if year is not None:
        query = query.where(Survey.year == year)
    rows = [r for r in session.execute(query) if not any(f in EXCLUDING for f in r[5] or [])]
    return pd.DataFrame(
        [r[:5] for r in rows], columns=["location", "district", "year", "taxon", "count"]
    )


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
