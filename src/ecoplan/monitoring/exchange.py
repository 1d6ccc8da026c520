"""Stored surveys in and out as Darwin Core Archives (what GBIF's IPT publishes and what a
district sends to the city, task 5.2 数据共享).

Export: the survey's events (eventID, date, protocol, effort as sampleSizeValue/Unit, location,
county = district) and occurrences (the matched taxon's scientific and Chinese name, count,
presence/absence, basis of record). Coordinates of national or Beijing key protected species are
generalised to 0.1° (``dwca.generalise``), on the occurrence and, when the event holds any such
record, on the event too, so the archive does not give the place away.

Import: an archive becomes one table with the Darwin Core headers the survey import reads, and
goes through the same checks and flags (``surveys.import_frame``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.errors import NotFoundError
from ecoplan.monitoring.dwca import (
    DatasetMetadata,
    DwcEvent,
    DwcOccurrence,
    Party,
    generalise,
    read_archive,
    write_archive,
)
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent, Taxon
from ecoplan.monitoring.surveys import SurveyImport, import_frame

PROTECTED_DECIMALS = 1  # 0.1° ≈ 11 km: enough for a regional map, not to find a nest


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def export_survey(session: Session, survey_id: int, path: Path, *, publisher: str, contact: Party,
                  license: str = "CC-BY-4.0") -> Path:  # fmt: skip
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFoundError(f"调查 {survey_id} 不存在")
    events = session.scalars(
        select(SurveyEvent).where(SurveyEvent.survey_id == survey.id).order_by(SurveyEvent.id)
    ).all()
    rows = session.execute(
        select(Occurrence, Taxon).outerjoin(Taxon, Taxon.id == Occurrence.taxon_id)
        .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk).where(SurveyEvent.survey_id == survey.id)
        .order_by(Occurrence.id)
    ).all()  # fmt: skip
    by_pk = {e.id: e for e in events}
    occurrences = []
    sensitive = {
        occ.event_pk
        for occ, taxon in rows
        if taxon is not None and (taxon.national_level or taxon.beijing_level)
    }
    for occ, taxon in rows:
        record = DwcOccurrence(
            occurrenceID=occ.occurrence_id, eventID=by_pk[occ.event_pk].event_id, basisOfRecord=occ.basis_of_record,
            scientificName=taxon.scientific_name if taxon else occ.verbatim_name,
            vernacularName=taxon.name_cn if taxon else None, taxonRank=taxon.rank if taxon else None,
            kingdom=taxon.kingdom if taxon else None, occurrenceStatus=occ.status,
            individualCount=None if occ.individual_count is None else int(round(occ.individual_count)),
            decimalLatitude=_num(occ.lat), decimalLongitude=_num(occ.lon),
        )  # fmt: skip
        if (
            occ.event_pk in sensitive
        ):  # every record of the event: one precise point would betray it
            record = generalise(record, PROTECTED_DECIMALS)
        occurrences.append(record)
    dwc_events = []
    for e in events:
        lat, lon = _num(e.lat), _num(e.lon)
        if e.id in sensitive and lat is not None and lon is not None:
            lat, lon = round(lat, PROTECTED_DECIMALS), round(lon, PROTECTED_DECIMALS)
        dwc_events.append(DwcEvent(
            eventID=e.event_id, parentEventID=e.parent_event_id, eventDate=e.event_date, samplingProtocol=e.protocol,
            sampleSizeValue=e.effort_value, sampleSizeUnit=e.effort_unit if e.effort_value is not None else None,
            locationID=e.location_id, decimalLatitude=lat, decimalLongitude=lon,
            geodeticDatum="WGS84" if lat is not None else None, countryCode="CN", stateProvince="北京市",
            county=e.district_name, locality=e.locality, habitat=e.habitat, recordedBy=e.recorded_by,
        ))  # fmt: skip
    metadata = DatasetMetadata(
        title=survey.title, abstract=f"{survey.year} 年 {survey.source.get('protocol', survey.protocol)} 调查数据,由 EcoPlan 导出。",
        publisher=publisher, creators=(contact,), contacts=(contact,), metadata_providers=(contact,),
        license=license, pub_date=dt.date.today(), package_id=f"ecoplan-survey-{survey.id}",
        geographic_description="中国北京市",
    )  # fmt: skip
    return write_archive(path, dwc_events, occurrences, metadata)


def archive_frame(path: Path) -> pd.DataFrame:
    """One row per occurrence with the Darwin Core headers ``surveys.import_frame`` reads; the
    event's date, location, effort and recorder fill in what the occurrence leaves empty."""
    _, events, occurrences = read_archive(path)
    by_id = {e.eventID: e for e in events}
    rows = []
    for o in occurrences:
        e = by_id.get(o.eventID or "") or DwcEvent(eventID=o.eventID or o.occurrenceID)
        lat = o.decimalLatitude if o.decimalLatitude is not None else e.decimalLatitude
        lon = o.decimalLongitude if o.decimalLongitude is not None else e.decimalLongitude
        rows.append({
            "occurrenceID": o.occurrenceID, "eventID": e.eventID, "locationID": e.locationID or "",
            "eventDate": e.eventDate or "", "decimalLatitude": "" if lat is None else repr(lat),
            "decimalLongitude": "" if lon is None else repr(lon),
            "scientificName": o.scientificName or o.vernacularName or "",
            "individualCount": "" if o.individualCount is None else str(o.individualCount),
            "occurrenceStatus": o.occurrenceStatus or "", "basisOfRecord": o.basisOfRecord or "",
            "recordedBy": o.recordedBy or e.recordedBy or "",
            "samplingEffortValue": "" if e.sampleSizeValue is None else repr(e.sampleSizeValue),
            "habitat": e.habitat or "", "locality": e.locality or "",
        })  # fmt: skip
    return pd.DataFrame(rows, dtype=str)


def import_archive(session: Session, path: Path, *, protocol: str, title: str, year: int, actor: str,
                   unit_code: str | None = None, today: dt.date | None = None) -> SurveyImport:  # fmt: skip
    frame = archive_frame(path)
    result = import_frame(session, frame, path, protocol=protocol, title=title, year=year, actor=actor,
                          unit_code=unit_code, today=today)  # fmt: skip
    result.survey.source = {**result.survey.source, "format": "dwca",
                            "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}  # fmt: skip
    return result
