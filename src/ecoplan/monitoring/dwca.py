"""Darwin Core Archive (DwC-A) writer and reader for survey data, on plain records (issue 8).

Star schema (field.md §1.1, GBIF sampling-event datasets): one **Event core** (``event.txt``,
one row per survey, site or visit, nested upwards by ``parentEventID``) and an **Occurrence
extension** (``occurrence.txt``, one row per taxon recorded in an event, pointing at its event
by ``eventID``, which is the extension's ``coreid``). ``meta.xml`` maps the columns to Darwin
Core term URIs (:data:`TERMS`); ``eml.xml`` is the dataset metadata in the GBIF EML 2.1.1
profile. No database is touched: records in, zip out, and back.

**Escaping rule.** Our data files are UTF-8, tab delimited, ``\\n`` line ends, no quote
character, one header line. A TAB, LF or CR inside a value would break its row, so the writer
replaces them with the Unicode control pictures U+2409 ``␉``, U+240A ``␊`` and U+240D ``␍``
and the reader turns those three characters back (in any archive it reads). Nothing else is
escaped: a backslash is always a backslash, and every other reader shows the value readably
(GBIF's IPT replaces them with spaces instead, which loses them). So that the mapping is exact
in both directions, the writer refuses a value that already contains one of the three pictures.
An empty value and a missing one are the same in a DwC-A: records hold ``None`` for both.

The reader also takes archives from other producers that follow the DwC text guide: column
order, delimiters, quoting, encoding and ``ignoreHeaderLines`` from ``meta.xml``, ``<field
default=…>`` values, an Event or an Occurrence core. Terms we do not model are skipped. Bad
input raises :class:`ecoplan.errors.ValidationError` naming the file and line; nothing is
returned half read. The zip is checked like evidence uploads (entry count, expanded size,
expansion ratio; see :mod:`ecoplan.supervision.evidence`) and never extracted to disk; member
names with ``..`` or an absolute path are refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import IO, Any, BinaryIO

from ecoplan.errors import ValidationError
from ecoplan.supervision.evidence import MAX_ZIP_ENTRIES, MAX_ZIP_RATIO, clean_name

__all__ = [
    "LICENCES",
    "TERMS",
    "BoundingBox",
    "DatasetMetadata",
    "DwcEvent",
    "DwcOccurrence",
    "Party",
    "escape_value",
    "event_date_bounds",
    "generalise",
    "read_archive",
    "unescape_value",
    "write_archive",
]

# ---------------------------------------------------------------------------------------------
# The one table of Darwin Core term URIs (https://dwc.tdwg.org/terms/). Record fields carry the
# term names; the two classes are the rowTypes of the core and the extension.
TERMS: dict[str, str] = {
    "Event": "http://rs.tdwg.org/dwc/terms/Event",
    "Occurrence": "http://rs.tdwg.org/dwc/terms/Occurrence",
    "eventID": "http://rs.tdwg.org/dwc/terms/eventID",
    "parentEventID": "http://rs.tdwg.org/dwc/terms/parentEventID",
    "eventDate": "http://rs.tdwg.org/dwc/terms/eventDate",
    "samplingProtocol": "http://rs.tdwg.org/dwc/terms/samplingProtocol",
    "sampleSizeValue": "http://rs.tdwg.org/dwc/terms/sampleSizeValue",
    "sampleSizeUnit": "http://rs.tdwg.org/dwc/terms/sampleSizeUnit",
    "samplingEffort": "http://rs.tdwg.org/dwc/terms/samplingEffort",
    "locationID": "http://rs.tdwg.org/dwc/terms/locationID",
    "decimalLatitude": "http://rs.tdwg.org/dwc/terms/decimalLatitude",
    "decimalLongitude": "http://rs.tdwg.org/dwc/terms/decimalLongitude",
    "geodeticDatum": "http://rs.tdwg.org/dwc/terms/geodeticDatum",
    "coordinateUncertaintyInMeters": "http://rs.tdwg.org/dwc/terms/coordinateUncertaintyInMeters",
    "countryCode": "http://rs.tdwg.org/dwc/terms/countryCode",
    "stateProvince": "http://rs.tdwg.org/dwc/terms/stateProvince",
    "county": "http://rs.tdwg.org/dwc/terms/county",
    "locality": "http://rs.tdwg.org/dwc/terms/locality",
    "habitat": "http://rs.tdwg.org/dwc/terms/habitat",
    "eventRemarks": "http://rs.tdwg.org/dwc/terms/eventRemarks",
    "footprintWKT": "http://rs.tdwg.org/dwc/terms/footprintWKT",
    "recordedBy": "http://rs.tdwg.org/dwc/terms/recordedBy",
    "occurrenceID": "http://rs.tdwg.org/dwc/terms/occurrenceID",
    "basisOfRecord": "http://rs.tdwg.org/dwc/terms/basisOfRecord",
    "scientificName": "http://rs.tdwg.org/dwc/terms/scientificName",
    "vernacularName": "http://rs.tdwg.org/dwc/terms/vernacularName",
    "taxonRank": "http://rs.tdwg.org/dwc/terms/taxonRank",
    "kingdom": "http://rs.tdwg.org/dwc/terms/kingdom",
    "occurrenceStatus": "http://rs.tdwg.org/dwc/terms/occurrenceStatus",
    "individualCount": "http://rs.tdwg.org/dwc/terms/individualCount",
    "organismQuantity": "http://rs.tdwg.org/dwc/terms/organismQuantity",
    "organismQuantityType": "http://rs.tdwg.org/dwc/terms/organismQuantityType",
    "lifeStage": "http://rs.tdwg.org/dwc/terms/lifeStage",
    "sex": "http://rs.tdwg.org/dwc/terms/sex",
    "identifiedBy": "http://rs.tdwg.org/dwc/terms/identifiedBy",
    "establishmentMeans": "http://rs.tdwg.org/dwc/terms/establishmentMeans",
    "informationWithheld": "http://rs.tdwg.org/dwc/terms/informationWithheld",
    "dataGeneralizations": "http://rs.tdwg.org/dwc/terms/dataGeneralizations",
}
_NAME_OF_URI = {uri: name for name, uri in TERMS.items()}
_FLOAT_TERMS = frozenset(
    {"sampleSizeValue", "decimalLatitude", "decimalLongitude", "coordinateUncertaintyInMeters"}
)
_INT_TERMS = frozenset({"individualCount"})
_UNIQUE_TERMS = frozenset({"occurrenceID", "eventRemarks", "footprintWKT"})  # not interned

TEXT_NS = "http://rs.tdwg.org/dwc/text/"
EML_NS = "eml://ecoinformatics.org/eml-2.1.1"
EML_SCHEMA = "http://rs.gbif.org/schema/eml-gbif-profile/1.1/eml.xsd"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# GBIF publishes under these three only: id -> (legal code URL, title, sentence before it).
LICENCES: dict[str, tuple[str, str, str]] = {
    "CC0-1.0": (
        "http://creativecommons.org/publicdomain/zero/1.0/legalcode",
        "Public Domain (CC0 1.0)",
        "The publisher has waived all rights to these data and dedicated them to the",
    ),
    "CC-BY-4.0": (
        "http://creativecommons.org/licenses/by/4.0/legalcode",
        "Creative Commons Attribution (CC-BY) 4.0 License",
        "This dataset is licensed under a",
    ),
    "CC-BY-NC-4.0": (
        "http://creativecommons.org/licenses/by-nc/4.0/legalcode",
        "Creative Commons Attribution Non Commercial (CC-BY-NC) 4.0 License",
        "This dataset is licensed under a",
    ),
}
_LICENCE_URL_KEYS = (  # most specific first: "by-nc" before "by"
    ("publicdomain/zero/1.0", "CC0-1.0"),
    ("licenses/by-nc/4.0", "CC-BY-NC-4.0"),
    ("licenses/by/4.0", "CC-BY-4.0"),
)

# Files we write, and limits for what we read. The entry count and expansion ratio are the
# evidence-upload limits; the total is larger because a season's archive is legitimately big.
EVENT_FILE = "event.txt"
OCCURRENCE_FILE = "occurrence.txt"
META_FILE = "meta.xml"
EML_FILE = "eml.xml"
MAX_ARCHIVE_EXPANDED = 2 * 1024**3
MAX_XML_BYTES = 16 * 1024 * 1024
MAX_PROBLEMS = 200

# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class DwcEvent:
    """One sampling event (a survey, a transect, a visit); ``eventDate`` is ISO 8601, a date or
    an interval such as ``2024-05-01/2024-05-03``. Coordinates are WGS84 decimal degrees,
    ``coordinateUncertaintyInMeters`` in metres, ``sampleSizeValue`` in ``sampleSizeUnit``."""

    eventID: str
    parentEventID: str | None = None
    eventDate: str | None = None
    samplingProtocol: str | None = None
    sampleSizeValue: float | None = None
    sampleSizeUnit: str | None = None
    samplingEffort: str | None = None
    locationID: str | None = None
    decimalLatitude: float | None = None
    decimalLongitude: float | None = None
    geodeticDatum: str | None = None
    coordinateUncertaintyInMeters: float | None = None
    countryCode: str | None = None
    stateProvince: str | None = None
    county: str | None = None
    locality: str | None = None
    habitat: str | None = None
    eventRemarks: str | None = None
    footprintWKT: str | None = None
    recordedBy: str | None = None

    def __post_init__(self) -> None:
        _blank_to_none(self)


@dataclass(frozen=True, slots=True)
class DwcOccurrence:
    """One taxon recorded (or recorded absent) in an event; coordinates in WGS84 degrees."""

    occurrenceID: str
    eventID: str | None = None
    basisOfRecord: str | None = None
    scientificName: str | None = None
    vernacularName: str | None = None
    taxonRank: str | None = None
    kingdom: str | None = None
    occurrenceStatus: str | None = None
    individualCount: int | None = None
    organismQuantity: str | None = None
    organismQuantityType: str | None = None
    lifeStage: str | None = None
    sex: str | None = None
    recordedBy: str | None = None
    identifiedBy: str | None = None
    establishmentMeans: str | None = None
    informationWithheld: str | None = None
    dataGeneralizations: str | None = None
    decimalLatitude: float | None = None
    decimalLongitude: float | None = None

    def __post_init__(self) -> None:
        _blank_to_none(self)


def _blank_to_none(record: DwcEvent | DwcOccurrence) -> None:
    """Optional text that is empty becomes None: a DwC-A cannot tell the two apart."""
    names = _OPTIONAL_FIELDS[type(record)]
    if "" in attrgetter(*names)(record):
        for name in names:
            if getattr(record, name) == "":
                object.__setattr__(record, name, None)


EVENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DwcEvent))
OCCURRENCE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DwcOccurrence))
_OPTIONAL_FIELDS = {DwcEvent: EVENT_FIELDS[1:], DwcOccurrence: OCCURRENCE_FIELDS[1:]}
# In an occurrence core, these terms describe the event rather than the occurrence.
_EVENT_ONLY = tuple(n for n in EVENT_FIELDS if n not in OCCURRENCE_FIELDS)
_SHARED = tuple(n for n in EVENT_FIELDS if n in OCCURRENCE_FIELDS and n != "eventID")


@dataclass(frozen=True)
class Party:
    """A person, position or organisation in EML. A Chinese full name goes in ``sur_name``
    (EML requires a surname for a person). ``role`` is used for associated parties only."""

    sur_name: str | None = None
    given_name: str | None = None
    organisation: str | None = None
    position: str | None = None
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class BoundingBox:
    """Geographic coverage in WGS84 decimal degrees."""

    west: float
    east: float
    north: float
    south: float


@dataclass(frozen=True)
class DatasetMetadata:
    """What ``eml.xml`` says about the dataset (GBIF's required metadata: title, description,
    publishing organisation, licence, contact, creator, metadata provider).

    ``license`` is a key of :data:`LICENCES`; reading another producer's archive it holds the
    rights text when the licence is not one of those. ``language`` is ISO 639-2 (``zho``).
    ``abstract`` paragraphs are separated by a blank line. ``bounding_box`` and
    ``temporal_coverage`` are filled by :func:`read_archive`; :func:`write_archive` computes
    them from the records and ignores these two fields.
    """

    title: str
    abstract: str = ""
    publisher: str | None = None
    creators: tuple[Party, ...] = ()
    metadata_providers: tuple[Party, ...] = ()
    contacts: tuple[Party, ...] = ()
    associated_parties: tuple[Party, ...] = ()
    license: str | None = None
    language: str = "zho"
    pub_date: date | None = None
    package_id: str | None = None
    geographic_description: str | None = None
    bounding_box: BoundingBox | None = None
    temporal_coverage: tuple[date, date] | None = None


# ---------------------------------------------------------------------------------------------
# Escaping and small helpers

_ESCAPES = {"\t": "\u2409", "\n": "\u240a", "\r": "\u240d"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)
_UNESCAPE_TABLE = str.maketrans({v: k for k, v in _ESCAPES.items()})
_RESERVED = re.compile("[\u2409\u240a\u240d]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape_value(text: str) -> str:
    """TAB, LF, CR → ␉ ␊ ␍ (U+2409, U+240A, U+240D); everything else unchanged."""
    return text.translate(_ESCAPE_TABLE)


def unescape_value(text: str) -> str:
    """The inverse of :func:`escape_value`."""
    return text.translate(_UNESCAPE_TABLE)


def _format_float(value: float) -> str:
    """Shortest text that reads back as the same float, never in exponent notation."""
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def _cell(value: str | float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_value(value)
    if isinstance(value, float):
        return _format_float(value)
    return str(value)


_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _partial_date_bounds(parts: list[str]) -> tuple[date, date] | None:
    match = _PARTIAL_DATE.fullmatch("-".join(parts))
    if not match:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        if month is None:
            return date(year, 1, 1), date(year, 12, 31)
        if day is None:
            first = date(year, month, 1)
            after = date(year + month // 12, month % 12 + 1, 1)
            return first, date.fromordinal(after.toordinal() - 1)
        return date(year, month, day), date(year, month, day)
    except ValueError:
        return None


def event_date_bounds(value: str | None) -> tuple[date, date] | None:
    """First and last day covered by an ISO 8601 ``eventDate``, or None if it cannot be read.

    Handles ``2024``, ``2024-05``, ``2024-05-01``, a time after ``T`` (ignored), and intervals
    ``start/end`` whose end may be shortened (``2024-05-01/03`` ends on 3 May).
    """
    if not value or not value.strip():
        return None
    start_text, _, end_text = value.strip().partition("/")
    start_text = start_text.split("T")[0]
    if not end_text:
        end_text = start_text
    elif "T" not in end_text and ":" in end_text:
        end_text = start_text  # "2024-05-01T08:00/10:30": same day
    else:
        end_text = end_text.split("T")[0]
    start_parts, end_parts = start_text.split("-"), end_text.split("-")
    if len(end_parts) < len(start_parts) and len(end_parts[0]) != 4:
        end_parts = start_parts[: len(start_parts) - len(end_parts)] + end_parts
    start, end = _partial_date_bounds(start_parts), _partial_date_bounds(end_parts)
    if start is None or end is None or start[0] > end[1]:
        return None
    return start[0], end[1]


class _Problems:
    """Per-row messages gathered while reading or writing; raised together at the end."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.rows) < MAX_PROBLEMS:
            self.rows.append(message)

    def raise_if_any(self, what: str) -> None:
        if not self.count:
            return
        if self.count == 1:
            raise ValidationError(self.rows[0], self.rows)
        raise ValidationError(f"{self.rows[0]}(共 {self.count} 处错误,{what})", self.rows)


# ---------------------------------------------------------------------------------------------
# Protected species


def generalise(occurrence: DwcOccurrence, decimals: int = 1) -> DwcOccurrence:
    """A copy for publication with coordinates rounded to ``decimals`` places (1 → 0.1°, about
    11 km north–south) and ``informationWithheld`` / ``dataGeneralizations`` saying so
    (field.md §1.1). The precise record stays with the caller. Calling it twice changes
    nothing more. The event row carries its own coordinates and ``footprintWKT``: publish a
    protected species under an event that is generalised too.
    """
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    if occurrence.decimalLatitude is None and occurrence.decimalLongitude is None:
        return replace(occurrence)
    withheld = "精确坐标不公开(保护物种)/ precise coordinates withheld (protected species)"
    generalised = (
        f"坐标已四舍五入至小数点后 {decimals} 位 / coordinates rounded to {decimals} decimal places"
    )

    def note(existing: str | None, text: str) -> str:
        if not existing:
            return text
        return existing if text in existing else f"{existing} | {text}"

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, decimals)

    return replace(
        occurrence,
        decimalLatitude=rounded(occurrence.decimalLatitude),
        decimalLongitude=rounded(occurrence.decimalLongitude),
        informationWithheld=note(occurrence.informationWithheld, withheld),
        dataGeneralizations=note(occurrence.dataGeneralizations, generalised),
    )


# ---------------------------------------------------------------------------------------------
# Writing


def _claim(ident: str, seen: set[str], where: str, label: str, problems: _Problems) -> None:
    """Record an identifier as used, or say why it cannot be: empty, or already used."""
    if not ident:
        problems.add(f"{where}: {label} 为空")
    elif ident in seen:
        problems.add(f"{where}: {label} 重复")
    else:
        seen.add(ident)


def write_archive(
    path: str | os.PathLike[str],
    events: Iterable[DwcEvent],
    occurrences: Iterable[DwcOccurrence],
    metadata: DatasetMetadata,
) -> Path:
    """Write an Event-core DwC-A with an Occurrence extension to ``path`` and return it.

    Records are streamed (memory holds their identifiers, not the rows). Refused, with one
    message per record: an empty or repeated ``eventID`` / ``occurrenceID``, an occurrence
    whose ``eventID`` names no event, a value containing ␉ ␊ ␍, a coordinate or number that is
    not finite; and metadata missing what GBIF requires. Nothing is left at ``path`` then; on
    success the file appears whole (written beside it, then renamed).
    """
    target = Path(path)
    name = target.name
    _check_metadata(metadata, name)
    pub_date = metadata.pub_date or date.today()
    problems = _Problems()
    coverage = _Coverage()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            stamp = (pub_date.year, pub_date.month, pub_date.day, 0, 0, 0)
            _write_member(archive, META_FILE, stamp, _meta_xml())
            event_ids: set[str] = set()
            with _text_member(archive, EVENT_FILE, stamp) as out:
                out.write("\t".join(EVENT_FIELDS) + "\n")
                values = attrgetter(*EVENT_FIELDS)
                for number, event in enumerate(events, start=1):
                    where = f"{name}: 第 {number} 个事件(eventID={event.eventID!r})"
                    _claim(event.eventID, event_ids, where, "eventID", problems)
                    row = values(event)
                    _check_values(EVENT_FIELDS, row, where, problems)
                    coverage.add(event.decimalLatitude, event.decimalLongitude, event.eventDate)
                    out.write("\t".join(map(_cell, row)) + "\n")
            occurrence_ids: set[str] = set()
            with _text_member(archive, OCCURRENCE_FILE, stamp) as out:
                out.write("\t".join(OCCURRENCE_FIELDS) + "\n")
                values = attrgetter(*OCCURRENCE_FIELDS)
                for number, occ in enumerate(occurrences, start=1):
                    where = f"{name}: 第 {number} 条出现记录(occurrenceID={occ.occurrenceID!r})"
                    _claim(occ.occurrenceID, occurrence_ids, where, "occurrenceID", problems)
                    if occ.eventID is None or occ.eventID not in event_ids:
                        problems.add(f"{where}: eventID {occ.eventID!r} 不是本数据集中的事件")
                    row = values(occ)
                    _check_values(OCCURRENCE_FIELDS, row, where, problems)
                    coverage.add(occ.decimalLatitude, occ.decimalLongitude, None)
                    out.write("\t".join(map(_cell, row)) + "\n")
            problems.raise_if_any("未写出文件")
            _write_member(archive, EML_FILE, stamp, _eml_xml(metadata, pub_date, coverage))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _check_values(
    names: tuple[str, ...], row: tuple[Any, ...], where: str, problems: _Problems
) -> None:
    for term, value in zip(names, row, strict=True):
        if isinstance(value, str):
            found = _RESERVED.search(value)
            if found:
                problems.add(
                    f"{where}: {term} 含保留字符 U+{ord(found.group()):04X}"
                    "(用于表示制表符或换行,请删除)"
                )
        elif isinstance(value, float) and not math.isfinite(value):
            problems.add(f"{where}: {term} 不是有限的数值({value})")


def _check_metadata(metadata: DatasetMetadata, name: str) -> None:
    problems = _Problems()
    where = f"{name}: 数据集元数据"
    for label, text in (
        ("标题 title", metadata.title),
        ("摘要 abstract", metadata.abstract),
        ("发布机构 publisher", metadata.publisher),
        ("语言 language", metadata.language),
    ):
        if not text or not text.strip():
            problems.add(f"{where}: 缺少{label}(GBIF 必填)")
    for label, parties in (
        ("创建者 creator", metadata.creators),
        ("联系人 contact", metadata.contacts),
        ("元数据提供者 metadataProvider", metadata.metadata_providers),
    ):
        if not parties:
            problems.add(f"{where}: 缺少{label}(GBIF 必填)")
    for party in (
        *metadata.creators,
        *metadata.contacts,
        *metadata.metadata_providers,
        *metadata.associated_parties,
    ):
        if not (party.sur_name or party.organisation or party.position):
            problems.add(f"{where}: 人员或机构 {party!r} 缺少姓名、机构或职位之一")
    if metadata.license not in LICENCES:
        problems.add(
            f"{where}: 许可 {metadata.license!r} 不是 GBIF 接受的许可({'、'.join(LICENCES)})"
        )
    texts: list[str | None] = [
        metadata.title,
        metadata.abstract,
        metadata.publisher,
        metadata.language,
        metadata.package_id,
        metadata.geographic_description,
    ]
    for party in (
        *metadata.creators,
        *metadata.contacts,
        *metadata.metadata_providers,
        *metadata.associated_parties,
    ):
        texts.extend(getattr(party, f.name) for f in fields(party))
    if any(text and _XML_ILLEGAL.search(text) for text in texts):
        problems.add(f"{where}: 含 XML 不允许的控制字符")
    problems.raise_if_any("未写出文件")


class _Coverage:
    """Bounding box of the coordinates and date range of the events, gathered while writing.
    Coordinates out of range (flagged elsewhere) and unreadable dates are left out."""

    def __init__(self) -> None:
        self.box: list[float] | None = None  # west, east, north, south
        self.first: date | None = None
        self.last: date | None = None

    def add(self, lat: float | None, lon: float | None, event_date: str | None) -> None:
        if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
            if self.box is None:
                self.box = [lon, lon, lat, lat]
            else:
                box = self.box
                box[0], box[1] = min(box[0], lon), max(box[1], lon)
                box[2], box[3] = max(box[2], lat), min(box[3], lat)
        bounds = event_date_bounds(event_date)
        if bounds:
            self.first = bounds[0] if self.first is None else min(self.first, bounds[0])
            self.last = bounds[1] if self.last is None else max(self.last, bounds[1])


def _zip_info(member: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_member(
    archive: zipfile.ZipFile, member: str, stamp: tuple[int, int, int, int, int, int], data: bytes
) -> None:
    archive.writestr(_zip_info(member, stamp), data)


def _text_member(
    archive: zipfile.ZipFile, member: str, stamp: tuple[int, int, int, int, int, int]
) -> io.TextIOWrapper:
    raw = archive.open(_zip_info(member, stamp), "w")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=False)


def _xml_bytes(root: ET.Element, indent: bool = True) -> bytes:
    if indent:
        ET.indent(root, space="  ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def _meta_xml() -> bytes:
    # Unprefixed tags with an explicit default namespace, as every producer writes it.
    root = ET.Element("archive", {"xmlns": TEXT_NS, "metadata": EML_FILE})

    def section(tag: str, row_type: str, location: str, names: tuple[str, ...], key: str) -> None:
        element = ET.SubElement(
            root,
            tag,
            {
                "encoding": "UTF-8",
                "fieldsTerminatedBy": "\\t",
                "linesTerminatedBy": "\\n",
                "fieldsEnclosedBy": "",
                "ignoreHeaderLines": "1",
                "rowType": TERMS[row_type],
            },
        )
        files = ET.SubElement(element, "files")
        ET.SubElement(files, "location").text = location
        id_tag = "id" if tag == "core" else "coreid"
        ET.SubElement(element, id_tag, {"index": str(names.index(key))})
        for index, term in enumerate(names):
            ET.SubElement(element, "field", {"index": str(index), "term": TERMS[term]})

    section("core", "Event", EVENT_FILE, EVENT_FIELDS, "eventID")
    section("extension", "Occurrence", OCCURRENCE_FILE, OCCURRENCE_FIELDS, "eventID")
    return _xml_bytes(root)


def _party_xml(parent: ET.Element, tag: str, party: Party, with_role: bool = False) -> None:
    element = ET.SubElement(parent, tag)
    if party.sur_name or party.given_name:
        name = ET.SubElement(element, "individualName")
        if party.given_name:
            ET.SubElement(name, "givenName").text = party.given_name
        ET.SubElement(name, "surName").text = party.sur_name or ""
    for child, value in (
        ("organizationName", party.organisation),
        ("positionName", party.position),
        ("phone", party.phone),
        ("electronicMailAddress", party.email),
    ):
        if value:
            ET.SubElement(element, child).text = value
    if with_role and party.role:
        ET.SubElement(element, "role").text = party.role


def _eml_xml(metadata: DatasetMetadata, pub_date: date, coverage: _Coverage) -> bytes:
    ET.register_namespace("eml", EML_NS)
    ET.register_namespace("xsi", _XSI_NS)
    package_id = metadata.package_id or str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"ecoplan:dwca:{metadata.title}")
    )
    root = ET.Element(
        f"{{{EML_NS}}}eml",
        {
            f"{{{_XSI_NS}}}schemaLocation": f"{EML_NS} {EML_SCHEMA}",
            "packageId": package_id,
            "system": "http://gbif.org",
            "scope": "system",
            _XML_LANG: metadata.language,
        },
    )
    dataset = ET.SubElement(root, "dataset")
    ET.SubElement(dataset, "alternateIdentifier").text = package_id
    ET.SubElement(dataset, "title", {_XML_LANG: metadata.language}).text = metadata.title
    for party in metadata.creators:
        _party_xml(dataset, "creator", party)
    for party in metadata.metadata_providers:
        _party_xml(dataset, "metadataProvider", party)
    if metadata.publisher:
        _party_xml(
            dataset,
            "associatedParty",
            Party(organisation=metadata.publisher, role="publisher"),
            True,
        )
    for party in metadata.associated_parties:
        _party_xml(dataset, "associatedParty", party, True)
    ET.SubElement(dataset, "pubDate").text = pub_date.isoformat()
    ET.SubElement(dataset, "language").text = metadata.language
    abstract = ET.SubElement(dataset, "abstract")
    for paragraph in metadata.abstract.split("\n\n"):
        if paragraph.strip():
            ET.SubElement(abstract, "para").text = paragraph.strip()
    assert metadata.license is not None  # checked by _check_metadata
    url, title, sentence = LICENCES[metadata.license]
    para = ET.SubElement(ET.SubElement(dataset, "intellectualRights"), "para")
    para.text = f"{sentence} "
    link = ET.SubElement(para, "ulink", {"url": url})
    citetitle = ET.SubElement(link, "citetitle")
    citetitle.text = title
    link.tail = "."
    if coverage.box is not None or coverage.first is not None:
        cover = ET.SubElement(dataset, "coverage")
        if coverage.box is not None:
            geographic = ET.SubElement(cover, "geographicCoverage")
            ET.SubElement(geographic, "geographicDescription").text = (
                metadata.geographic_description
                or "记录坐标的外包矩形 (bounding box of the records)"
            )
            bounds = ET.SubElement(geographic, "boundingCoordinates")
            for tag, value in zip(("west", "east", "north", "south"), coverage.box, strict=True):
                ET.SubElement(bounds, f"{tag}BoundingCoordinate").text = _format_float(value)
        if coverage.first is not None and coverage.last is not None:
            temporal = ET.SubElement(cover, "temporalCoverage")
            if coverage.first == coverage.last:
                single = ET.SubElement(temporal, "singleDateTime")
                ET.SubElement(single, "calendarDate").text = coverage.first.isoformat()
            else:
                dates = ET.SubElement(temporal, "rangeOfDates")
                for tag, day in (("beginDate", coverage.first), ("endDate", coverage.last)):
                    ET.SubElement(ET.SubElement(dates, tag), "calendarDate").text = day.isoformat()
    for party in metadata.contacts:
        _party_xml(dataset, "contact", party)
    gbif = ET.SubElement(
        ET.SubElement(ET.SubElement(root, "additionalMetadata"), "metadata"), "gbif"
    )
    ET.SubElement(gbif, "dateStamp").text = f"{pub_date.isoformat()}T00:00:00"
    ET.SubElement(gbif, "hierarchyLevel").text = "dataset"
    ET.indent(root, space="  ")
    link.text = citetitle.tail = None  # mixed content: no indentation inside the sentence
    return _xml_bytes(root, indent=False)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class _FileSpec:
    """One ``<core>`` or ``<extension>`` of meta.xml."""

    row_type: str
    locations: list[str]
    encoding: str
    delimiter: str
    terminator: str
    quote: str
    header_lines: int
    key_index: int | None
    columns: dict[str, int]
    defaults: dict[str, str]
    max_index: int


def read_archive(
    source: str | os.PathLike[str] | BinaryIO,
) -> tuple[DatasetMetadata | None, list[DwcEvent], list[DwcOccurrence]]:
    """Read a DwC-A: (metadata or None when it has no eml, events, occurrences).

    Event core: events from the core, occurrences from every Occurrence extension (their
    ``eventID`` is the ``coreid``). Occurrence core: occurrences from the core, and events
    gathered from the event-level terms in it (``eventDate``, ``samplingProtocol``,
    ``locality`` …): one per ``eventID``, or one per occurrence (``eventID`` =
    ``occurrenceID``) for rows that name none; a row with neither gives no event, so an
    occurrence-only archive reads as ``[]`` events. Coordinates and ``recordedBy`` stay on
    the occurrence and go to the event only when all its rows agree. Other extensions are
    skipped. Raises ValidationError on anything malformed (see the module docstring).
    """
    if isinstance(source, (str, os.PathLike)):
        name = clean_name(os.fspath(source))
    else:
        name = clean_name(getattr(source, "name", "") or "archive.zip")
    with _open_zip(source, name) as archive:
        members = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        base = _find_meta(members, name)
        meta_root = _parse_xml(
            _read_member(archive, members, base + META_FILE, name), name, META_FILE
        )
        core, extensions, eml_location = _parse_meta(meta_root, name)
        for spec in (core, *extensions):
            for location in spec.locations:
                if base + location not in members:
                    raise ValidationError(f"{name}: meta.xml 列出的文件 {location} 不在压缩包中")
        if eml_location is None and base + EML_FILE in members:
            eml_location = EML_FILE
        metadata = None
        if eml_location is not None:
            if base + eml_location not in members:
                raise ValidationError(
                    f"{name}: meta.xml 列出的元数据文件 {eml_location} 不在压缩包中"
                )
            data = _read_member(archive, members, base + eml_location, name)
            metadata = _parse_eml(_parse_xml(data, name, eml_location), name, eml_location)
        problems = _Problems()
        reader = _RowReader(archive, base, name, problems)
        if core.row_type == TERMS["Event"]:
            events, event_lines = _read_event_core(reader, core)
            occurrences: list[DwcOccurrence] = []
            seen: dict[str, str] = {}
            for spec in extensions:
                if spec.row_type == TERMS["Occurrence"]:
                    occurrences.extend(_read_occurrence_extension(reader, spec, event_lines, seen))
        elif core.row_type == TERMS["Occurrence"]:
            occurrences, events = _read_occurrence_core(reader, core)
        else:
            raise ValidationError(
                f"{name}: meta.xml 的核心类型 {core.row_type} 不受支持(应为 Event 或 Occurrence)"
            )
        problems.raise_if_any("未读入任何记录")
    return metadata, events, occurrences


def _open_zip(source: str | os.PathLike[str] | BinaryIO, name: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(source)
    except FileNotFoundError as exc:
        raise ValidationError(f"{name}: 文件不存在") from exc
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationError(
            f"{name}: 不是 ZIP 压缩包(Darwin Core Archive 须为 zip 文件)"
        ) from exc
    try:
        _check_zip(archive, name)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_zip(archive: zipfile.ZipFile, name: str) -> None:
    """The evidence checks (entries, expanded size, ratio) plus unsafe member names."""
    infos = archive.infolist()
    expanded = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    if (
        len(infos) > MAX_ZIP_ENTRIES
        or expanded > MAX_ARCHIVE_EXPANDED
        or expanded > MAX_ZIP_RATIO * max(compressed, 1)
    ):
        raise ValidationError(f"{name}: 压缩内容异常(疑似压缩炸弹),已拒收")
    for info in infos:
        if not _safe_location(info.filename):
            raise ValidationError(
                f"{name}: 压缩包内的路径 {info.filename!r} 不安全(绝对路径或含 ..),已拒收"
            )
        if info.flag_bits & 0x1:
            raise ValidationError(f"{name}: {info.filename} 已加密,无法读取")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValidationError(
                f"{name}: {info.filename} 的压缩方式不受支持(只接受 stored 或 deflate)"
            )


def _safe_location(location: str) -> bool:
    if not location or location.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", location):
        return False
    return ".." not in re.split(r"[\\/]", location)


def _find_meta(members: dict[str, zipfile.ZipInfo], name: str) -> str:
    """Folder prefix holding meta.xml: the root, or a single top-level folder."""
    if META_FILE in members:
        return ""
    candidates = [m for m in members if m.count("/") == 1 and m.endswith("/" + META_FILE)]
    tops = {m.split("/", 1)[0] for m in members if "/" in m}
    if len(candidates) == 1 and len(tops) == 1:
        return candidates[0][: -len(META_FILE)]
    raise ValidationError(f"{name}: 压缩包中没有 meta.xml,不是 Darwin Core Archive")


def _zip_errors(name: str, member: str) -> ValidationError:
    return ValidationError(f"{name}: {member} 的压缩数据已损坏")


def _read_member(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], member: str, name: str
) -> bytes:
    info = members[member]
    if info.file_size > MAX_XML_BYTES:
        raise ValidationError(f"{name}: {member} 超过 {MAX_XML_BYTES // 1024**2} MB")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _zip_errors(name, member) from exc


def _parse_xml(data: bytes, name: str, member: str) -> ET.Element:
    if re.search(rb"<!(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise ValidationError(f"{name}: {member} 含 DTD 或实体声明,已拒收")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ValidationError(
            f"{name}: {member} 第 {line} 行第 {column} 列不是格式正确的 XML"
        ) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, tag: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == tag]


def _child(element: ET.Element | None, tag: str) -> ET.Element | None:
    if element is None:
        return None
    found = _children(element, tag)
    return found[0] if found else None


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    return "".join(element.itertext()).strip() or None


_ATTRIBUTE_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\", '\\"': '"', "\\'": "'"}


def _attribute(element: ET.Element, key: str, default: str) -> str:
    """A delimiter attribute: ``\\t`` written as backslash-t or as a character reference."""
    value = element.get(key)
    if value is None:
        return default
    return re.sub(r"\\[tnr\\\"']", lambda m: _ATTRIBUTE_ESCAPES[m.group()], value)


def _term_name(uri: str) -> str | None:
    uri = uri.strip()
    if uri.startswith("https://"):
        uri = "http://" + uri[len("https://") :]
    return _NAME_OF_URI.get(uri)


def _index(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        index = int(value)
    except ValueError:
        index = -1
    if index < 0:
        raise ValidationError(f"{what} 的 index “{value}” 不是非负整数")
    return index


def _parse_meta(root: ET.Element, name: str) -> tuple[_FileSpec, list[_FileSpec], str | None]:
    where = f"{name}: meta.xml"
    if _local(root.tag) != "archive":
        raise ValidationError(f"{where} 的根元素应为 archive")
    cores = _children(root, "core")
    if len(cores) != 1:
        raise ValidationError(f"{where} 应有且只有一个 core(实有 {len(cores)} 个)")
    core = _file_spec(cores[0], f"{where} core", True)
    extensions = [
        _file_spec(element, f"{where} extension", False) for element in _children(root, "extension")
    ]
    metadata = root.get("metadata")
    if metadata is not None:
        metadata = metadata.strip()
        if "://" in metadata:
            metadata = None  # a remote EML: nothing is fetched at run time
        elif not _safe_location(metadata):
            raise ValidationError(f"{where} 中的元数据位置 {metadata!r} 不安全,已拒收")
    return core, extensions, metadata or None


def _file_spec(element: ET.Element, where: str, is_core: bool) -> _FileSpec:
    row_type = (element.get("rowType") or "").strip()
    if not row_type:
        raise ValidationError(f"{where} 缺少 rowType")
    where = f"{where}({row_type.rsplit('/', 1)[-1]})"
    files = _child(element, "files")
    locations = (
        [(_text(loc) or "") for loc in _children(files, "location")] if files is not None else []
    )
    if not locations:
        raise ValidationError(f"{where} 没有列出数据文件(files/location)")
    for location in locations:
        if "://" in location or not _safe_location(location):
            raise ValidationError(f"{where} 中的文件位置 {location!r} 不安全或不在压缩包内,已拒收")
    encoding = (element.get("encoding") or "UTF-8").strip()
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ValidationError(f"{where} 的编码 {encoding!r} 无法识别") from exc
    delimiter = _attribute(element, "fieldsTerminatedBy", ",")
    terminator = _attribute(element, "linesTerminatedBy", "\n")
    quote = _attribute(element, "fieldsEnclosedBy", '"')
    if len(delimiter) != 1 or delimiter in "\r\n":
        raise ValidationError(f"{where} 的分隔符 fieldsTerminatedBy={delimiter!r} 不受支持")
    if terminator not in ("\n", "\r\n", "\r"):
        raise ValidationError(f"{where} 的行结束符 linesTerminatedBy={terminator!r} 不受支持")
    if len(quote) > 1:
        raise ValidationError(f"{where} 的引号 fieldsEnclosedBy={quote!r} 不受支持")
    header = element.get("ignoreHeaderLines", "0").strip() or "0"
    if not header.isdigit():
        raise ValidationError(f"{where} 的 ignoreHeaderLines “{header}” 不是非负整数")
    key_tag = "id" if is_core else "coreid"
    key = _child(element, key_tag)
    if key is None and not is_core:
        raise ValidationError(f"{where} 缺少 coreid")
    key_index = _index(key.get("index"), f"{where} {key_tag}") if key is not None else None
    columns: dict[str, int] = {}
    defaults: dict[str, str] = {}
    used = [key_index] if key_index is not None else []
    for field_element in _children(element, "field"):
        term = field_element.get("term")
        if not term:
            raise ValidationError(f"{where} 有 field 缺少 term")
        index = _index(field_element.get("index"), f"{where} field {term}")
        term_name = _term_name(term)
        if index is not None:
            used.append(index)
        if term_name is None:
            continue
        if index is not None:
            columns[term_name] = index
        default = field_element.get("default")
        if default is not None:
            defaults[term_name] = default
    return _FileSpec(
        row_type=row_type,
        locations=locations,
        encoding="utf-8-sig" if codec == "utf-8" else codec,
        delimiter=delimiter,
        terminator=terminator,
        quote=quote,
        header_lines=int(header),
        key_index=key_index,
        columns=columns,
        defaults=defaults,
        max_index=max(used, default=-1),
    )


class _RowReader:
    """Yields (where, key, values) for each data row of a spec's files, checking columns."""

    def __init__(self, archive: zipfile.ZipFile, base: str, name: str, problems: _Problems) -> None:
        self.archive = archive
        self.base = base
        self.name = name
        self.problems = problems

    def rows(self, spec: _FileSpec) -> Iterator[tuple[str, str, dict[str, str]]]:
        for location in spec.locations:
            yield from self._file_rows(spec, location)

    def _file_rows(
        self, spec: _FileSpec, location: str
    ) -> Iterator[tuple[str, str, dict[str, str]]]:
        member = self.base + location
        prefix = f"{self.name}: {location}"
        expected: int | None = None
        line = 0
        try:
            with self.archive.open(member) as raw:
                for line, cells, header in self._split(spec, raw):
                    if expected is None:
                        expected = len(cells)
                        if expected <= spec.max_index:
                            raise ValidationError(
                                f"{prefix} 第 {line} 行: 只有 {expected} 列,"
                                f"meta.xml 用到第 {spec.max_index + 1} 列"
                            )
                    if header:
                        continue
                    if len(cells) != expected:
                        self.problems.add(
                            f"{prefix} 第 {line} 行: 应有 {expected} 列,实有 {len(cells)} 列"
                        )
                        continue
                    key = cells[spec.key_index] if spec.key_index is not None else ""
                    yield f"{prefix} 第 {line} 行", key, self._values(spec, cells)
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{prefix} 第 {line + 1} 行附近: 不是有效的 {spec.encoding} 编码文本"
            ) from exc
        except csv.Error as exc:
            raise ValidationError(f"{prefix} 第 {line + 1} 行附近: 无法按 CSV 读取({exc})") from exc
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise _zip_errors(self.name, location) from exc

    @staticmethod
    def _split(spec: _FileSpec, raw: IO[bytes]) -> Iterator[tuple[int, list[str], bool]]:
        """(physical line number, unescaped cells, is a header line) for each line; blank data
        lines are dropped. With a quote character a record may span lines: its number is the
        last."""
        if spec.quote:
            text = io.TextIOWrapper(raw, encoding=spec.encoding, newline="")
            reader = csv.reader(text, delimiter=spec.delimiter, quotechar=spec.quote, strict=True)
            for record_number, cells in enumerate(reader, start=1):
                header = record_number <= spec.header_lines
                if header or (cells and cells != [""]):
                    yield reader.line_num, [unescape_value(c) for c in cells], header
            return
        text = io.TextIOWrapper(raw, encoding=spec.encoding, newline=spec.terminator)
        terminator = spec.terminator
        for number, row in enumerate(text, start=1):
            if row.endswith(terminator):
                row = row[: -len(terminator)]
            if terminator == "\n" and row.endswith("\r"):
                row = row[:-1]  # CRLF files that declare \n
            header = number <= spec.header_lines
            if header or row != "":
                cells = row.split(spec.delimiter)
                if _RESERVED.search(row):
                    cells = [unescape_value(c) for c in cells]
                yield number, cells, header

    @staticmethod
    def _values(spec: _FileSpec, cells: list[str]) -> dict[str, str]:
        values = {term: cells[index] for term, index in spec.columns.items()}
        for term, default in spec.defaults.items():
            if not values.get(term):
                values[term] = default
        return values


def _convert(
    names: tuple[str, ...], values: dict[str, str], where: str, problems: _Problems
) -> dict[str, Any] | None:
    """Text → the record's types; None (and a problem) when a number cannot be read.

    Text that repeats across rows (names, vocabularies, the event an occurrence belongs to) is
    interned, so a million occurrences of a few hundred species hold each name once."""
    kwargs: dict[str, Any] = {}
    ok = True
    for term in names:
        raw = values.get(term)
        if raw is None or raw == "":
            kwargs[term] = None
        elif term in _FLOAT_TERMS or term in _INT_TERMS:
            number = _number(raw, term in _INT_TERMS)
            if number is None:
                kind = "整数" if term in _INT_TERMS else "数值"
                problems.add(f"{where}: {term}“{raw}”不是{kind}")
                ok = False
            kwargs[term] = number
        elif term in _UNIQUE_TERMS:
            kwargs[term] = raw
        else:
            kwargs[term] = sys.intern(raw)
    return kwargs if ok else None


def _number(raw: str, integer: bool) -> float | int | None:
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    if integer:
        return int(value) if value.is_integer() else None
    return value


def _key(
    key: str, values: dict[str, str], term: str, where: str, problems: _Problems
) -> str | None:
    """The row's identifier from the id/coreid column or the term, which must agree."""
    declared = values.get(term) or ""
    if key and declared and key != declared:
        problems.add(f"{where}: id 列“{key}”与 {term}“{declared}”不一致")
        return None
    identifier = key or declared
    if not identifier:
        problems.add(f"{where}: {term} 为空")
        return None
    return identifier


def _read_event_core(reader: _RowReader, spec: _FileSpec) -> tuple[list[DwcEvent], dict[str, str]]:
    events: list[DwcEvent] = []
    lines: dict[str, str] = {}  # eventID -> where it was read
    for where, key, values in reader.rows(spec):
        event_id = _key(key, values, "eventID", where, reader.problems)
        if event_id is None:
            continue
        if event_id in lines:
            reader.problems.add(f"{where}: eventID“{event_id}”重复(首次见于 {lines[event_id]})")
            continue
        lines[event_id] = where
        values["eventID"] = event_id
        kwargs = _convert(EVENT_FIELDS, values, where, reader.problems)
        if kwargs is not None:
            events.append(DwcEvent(**kwargs))
    return events, lines


def _read_occurrence_extension(
    reader: _RowReader, spec: _FileSpec, events: dict[str, str], seen: dict[str, str]
) -> list[DwcOccurrence]:
    occurrences: list[DwcOccurrence] = []
    for where, key, values in reader.rows(spec):
        event_id = _key(key, values, "eventID", where, reader.problems)
        if event_id is None:
            continue
        if event_id not in events:
            reader.problems.add(f"{where}: eventID“{event_id}”在核心文件中不存在")
            continue
        values["eventID"] = event_id
        occurrence = _occurrence(values, where, seen, reader.problems)
        if occurrence is not None:
            occurrences.append(occurrence)
    return occurrences


def _occurrence(
    values: dict[str, str], where: str, seen: dict[str, str], problems: _Problems
) -> DwcOccurrence | None:
    occurrence_id = values.get("occurrenceID") or ""
    if not occurrence_id:
        problems.add(f"{where}: occurrenceID 为空")
        return None
    if occurrence_id in seen:
        problems.add(f"{where}: occurrenceID“{occurrence_id}”重复(首次见于 {seen[occurrence_id]})")
        return None
    seen[occurrence_id] = where
    kwargs = _convert(OCCURRENCE_FIELDS, values, where, problems)
    return DwcOccurrence(**kwargs) if kwargs is not None else None


def _read_occurrence_core(
    reader: _RowReader, spec: _FileSpec
) -> tuple[list[DwcOccurrence], list[DwcEvent]]:
    occurrences: list[DwcOccurrence] = []
    seen: dict[str, str] = {}
    event_values: dict[str, dict[str, str]] = {}  # eventID -> event-level values, in order
    event_lines: dict[str, str] = {}
    disagree: dict[str, set[str]] = {}
    for where, key, values in reader.rows(spec):
        occurrence_id = _key(key, values, "occurrenceID", where, reader.problems)
        if occurrence_id is None:
            continue
        values["occurrenceID"] = occurrence_id
        occurrence = _occurrence(values, where, seen, reader.problems)
        if occurrence is None:
            continue
        own = {t: values[t] for t in _EVENT_ONLY if values.get(t)}
        event_id = occurrence.eventID
        if event_id is None and own:
            event_id = occurrence_id
            occurrence = replace(occurrence, eventID=event_id)
        occurrences.append(occurrence)
        if event_id is None:
            continue
        shared = {t: values.get(t) or "" for t in _SHARED}
        if event_id not in event_values:
            event_values[event_id] = {**own, **shared}
            event_lines[event_id] = where
            disagree[event_id] = set()
            continue
        stored = event_values[event_id]
        for term, value in own.items():
            if stored.get(term) and stored[term] != value:
                reader.problems.add(
                    f"{where}: 同一事件“{event_id}”的 {term}“{value}”"
                    f"与 {event_lines[event_id]} 的“{stored[term]}”不一致"
                )
            else:
                stored[term] = value
        for term, value in shared.items():
            if stored.get(term, "") != value:
                disagree[event_id].add(term)
    events: list[DwcEvent] = []
    for event_id, values in event_values.items():
        values = {t: v for t, v in values.items() if t not in disagree[event_id]}
        values["eventID"] = event_id
        kwargs = _convert(EVENT_FIELDS, values, event_lines[event_id], reader.problems)
        if kwargs is not None:
            events.append(DwcEvent(**kwargs))
    return occurrences, events


def _parties(dataset: ET.Element, tag: str) -> list[Party]:
    result = []
    for element in _children(dataset, tag):
        name = _child(element, "individualName")
        result.append(
            Party(
                sur_name=_text(_child(name, "surName")),
                given_name=_text(_child(name, "givenName")),
                organisation=_text(_child(element, "organizationName")),
                position=_text(_child(element, "positionName")),
                email=_text(_child(element, "electronicMailAddress")),
                phone=_text(_child(element, "phone")),
                role=_text(_child(element, "role")) if tag == "associatedParty" else None,
            )
        )
    return result


def _licence(rights: ET.Element | None) -> str | None:
    if rights is None:
        return None
    urls = [e.get("url") or "" for e in rights.iter() if _local(e.tag) == "ulink"]
    text = _text(rights) or ""
    for haystack in (*urls, text):
        for fragment, key in _LICENCE_URL_KEYS:
            if fragment in haystack:
                return key
    return text or None


def _eml_date(text: str | None) -> date | None:
    bounds = event_date_bounds(text)
    return bounds[0] if bounds else None


def _parse_eml(root: ET.Element, name: str, member: str) -> DatasetMetadata:
    dataset = _child(root, "dataset")
    if dataset is None:
        raise ValidationError(f"{name}: {member} 不是 EML(缺少 dataset 元素)")
    associated = _parties(dataset, "associatedParty")
    publisher = next((p for p in associated if (p.role or "").lower() == "publisher"), None)
    if publisher is not None:
        associated.remove(publisher)
    abstract = _child(dataset, "abstract")
    paragraphs = [_text(p) for p in _children(abstract, "para")] if abstract is not None else []
    if abstract is not None and not paragraphs:
        paragraphs = [_text(abstract)]
    box = None
    temporal = None
    coverage = _child(dataset, "coverage")
    description = None
    geographic = _child(coverage, "geographicCoverage")
    if geographic is not None:
        description = _text(_child(geographic, "geographicDescription"))
        bounds = _child(geographic, "boundingCoordinates")
        sides = [
            _number(_text(_child(bounds, f"{side}BoundingCoordinate")) or "", False)
            for side in ("west", "east", "north", "south")
        ]
        if all(isinstance(value, float) for value in sides):
            west, east, north, south = (float(v or 0) for v in sides)
            box = BoundingBox(west=west, east=east, north=north, south=south)
    time = _child(coverage, "temporalCoverage")
    if time is not None:
        single = event_date_bounds(_text(_child(_child(time, "singleDateTime"), "calendarDate")))
        dates = _child(time, "rangeOfDates")
        begin = event_date_bounds(_text(_child(_child(dates, "beginDate"), "calendarDate")))
        end = event_date_bounds(_text(_child(_child(dates, "endDate"), "calendarDate")))
        if begin is not None and end is not None:
            temporal = (begin[0], end[1])  # "2019" to "2020": 1 Jan 2019 to 31 Dec 2020
        elif single is not None:
            temporal = single
    return DatasetMetadata(
        title=_text(_child(dataset, "title")) or "",
        abstract="\n\n".join(p for p in paragraphs if p),
        publisher=publisher.organisation if publisher is not None else None,
        creators=tuple(_parties(dataset, "creator")),
        metadata_providers=tuple(_parties(dataset, "metadataProvider")),
        contacts=tuple(_parties(dataset, "contact")),
        associated_parties=tuple(associated),
        license=_licence(_child(dataset, "intellectualRights")),
        language=_text(_child(dataset, "language")) or "",
        pub_date=_eml_date(_text(_child(dataset, "pubDate"))),
        package_id=root.get("packageId"),
        geographic_description=description,
        bounding_box=box,
        temporal_coverage=temporal,
    )
