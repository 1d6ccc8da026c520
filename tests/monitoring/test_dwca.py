"""Darwin Core Archive writer and reader (ecoplan.monitoring.dwca).

Round trip, the same archive read by python-dwca-reader (an independent implementation),
archives built here the way other producers write them, and every kind of bad input.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from dwca.read import DwCAReader

from ecoplan.errors import ValidationError
from ecoplan.monitoring.dwca import (
    TERMS,
    BoundingBox,
    DatasetMetadata,
    DwcEvent,
    DwcOccurrence,
    Party,
    escape_value,
    event_date_bounds,
    generalise,
    read_archive,
    unescape_value,
    write_archive,
)

DWC = "http://rs.tdwg.org/dwc/terms/"

METADATA = DatasetMetadata(
    title="北京市2024年鸟类多样性调查(密云水库)",
    abstract="按全市统一标准开展的样线法鸟类调查。\n\n第二段:数据经专家审核。",
    publisher="北京市园林绿化局",
    creators=(Party(sur_name="张三", organisation="北京林业大学", email="zhang@example.cn"),),
    metadata_providers=(Party(given_name="Si", sur_name="Li", position="数据管理员"),),
    contacts=(Party(sur_name="王五", phone="010-12345678", organisation="密云区园林绿化局"),),
    associated_parties=(Party(sur_name="赵六", role="principalInvestigator"),),
    license="CC-BY-4.0",
    language="zho",
    pub_date=date(2024, 7, 10),
    geographic_description="北京市密云区",
)

EVENTS = [
    DwcEvent(
        "S2024-MY",
        eventDate="2024-05-01/2024-07-15",
        samplingProtocol="样线法 line transect",
        countryCode="CN",
        stateProvince="北京市",
        county="密云区",
    ),
    DwcEvent(
        "S2024-MY-T01",
        parentEventID="S2024-MY",
        eventDate="2024-05-01/03",
        samplingProtocol="样线法 line transect",
        sampleSizeValue=2000.0,
        sampleSizeUnit="metre",
        samplingEffort="2 observers × 3 h",
        locationID="MY-T01",
        decimalLatitude=40.4729,
        decimalLongitude=116.8372,
        geodeticDatum="WGS84",
        coordinateUncertaintyInMeters=30.0,
        countryCode="CN",
        stateProvince="北京市",
        county="密云区",
        locality="密云水库\t北岸\n白河入库口",
        habitat="湿地;水库消落带",
        eventRemarks="上午晴\r\n下午有雾",
        footprintWKT="LINESTRING (116.8372 40.4729, 116.8551 40.4802)",
        recordedBy="张三 | 李四",
    ),
    DwcEvent(
        "S2024-MY-T02",
        parentEventID="S2024-MY",
        eventDate="2024-07-15T08:30:00+08:00",
        decimalLatitude=40.5512,
        decimalLongitude=117.0208,
        # 0.1 + 0.2 is 0.30000000000000004 in binary: it must come back bit for bit
        coordinateUncertaintyInMeters=0.1 + 0.2,
        locality="  前后有空格  ",
        eventRemarks="C:\\data\\new\\tab",  # backslashes are data, never escapes
    ),
]

OCCURRENCES = [
    DwcOccurrence(
        "MY-T01-001",
        "S2024-MY-T01",
        basisOfRecord="HumanObservation",
        scientificName="Grus japonensis (Statius Müller, 1776)",
        vernacularName="丹顶鹤",
        taxonRank="species",
        kingdom="Animalia",
        occurrenceStatus="present",
        individualCount=3,
        lifeStage="adult",
        sex="male | female",
        recordedBy="张三",
        identifiedBy="李四",
        establishmentMeans="native",
        decimalLatitude=40.47311,
        decimalLongitude=116.84002,
    ),
    DwcOccurrence(
        "MY-T01-002",
        "S2024-MY-T01",
        basisOfRecord="HumanObservation",
        scientificName="Ciconia boyciana Swinhoe, 1873",
        vernacularName="东方白鹳",
        occurrenceStatus="absent",
        individualCount=0,
    ),
    DwcOccurrence(
        "MY-T02-001",
        "S2024-MY-T02",
        basisOfRecord="MachineObservation",
        scientificName="Phragmites australis",
        kingdom="Plantae",
        organismQuantity="35",
        organismQuantityType="% cover",
        dataGeneralizations="第一行\n第二行\t含制表符",
    ),
]


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_archive(tmp_path / "birds.zip", EVENTS, OCCURRENCES, METADATA)


def _rewrite(source: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """A copy of the archive with members replaced, added (bytes) or removed (None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename not in changes:
                new.writestr(info.filename, old.read(info))
        for name, data in changes.items():
            if data is not None:
                new.writestr(name, data)
    return target


def _zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- the term table and helpers --------------------------------------------------------------


def test_every_record_field_is_an_official_darwin_core_term() -> None:
    names = [*DwcEvent.__dataclass_fields__, *DwcOccurrence.__dataclass_fields__]
    assert {TERMS[name] for name in names} == {DWC + name for name in names}
    assert TERMS["Event"] == DWC + "Event"
    assert TERMS["Occurrence"] == DWC + "Occurrence"


def test_escaping_maps_exactly_three_characters() -> None:
    text = "a\tb\nc\rd\\n e"
    assert escape_value(text) == "a\u2409b\u240ac\u240dd\\n e"
    assert unescape_value(escape_value(text)) == text


def test_empty_text_is_none() -> None:
    assert DwcEvent("E", locality="").locality is None
    assert DwcOccurrence("O", eventID="", scientificName="").scientificName is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01", (date(2024, 5, 1), date(2024, 5, 1))),
        ("2024-05-01/03", (date(2024, 5, 1), date(2024, 5, 3))),  # shortened end
        ("2024-05-30/06-02", (date(2024, 5, 30), date(2024, 6, 2))),
        ("2024-02", (date(2024, 2, 1), date(2024, 2, 29))),  # leap year
        ("2024", (date(2024, 1, 1), date(2024, 12, 31))),
        ("2024-07-15T08:30:00+08:00", (date(2024, 7, 15), date(2024, 7, 15))),
        ("2024-07-15T08:30/10:45", (date(2024, 7, 15), date(2024, 7, 15))),
        ("2024-05-03/2024-05-01", None),  # ends before it starts
        ("2024-13-01", None),
        ("昨天", None),
        ("", None),
    ],
)
def test_event_date_bounds(value: str, expected: tuple[date, date] | None) -> None:
    assert event_date_bounds(value) == expected


# --- round trip ------------------------------------------------------------------------------


def test_round_trip_gives_the_same_records(archive: Path) -> None:
    metadata, events, occurrences = read_archive(archive)
    assert events == EVENTS
    assert occurrences == OCCURRENCES
    assert metadata is not None
    # Bounding box over every coordinate written, events and occurrences alike:
    # longitudes 116.8372, 117.0208, 116.84002 → west 116.8372, east 117.0208;
    # latitudes 40.4729, 40.5512, 40.47311 → north 40.5512, south 40.4729.
    assert metadata.bounding_box == BoundingBox(
        west=116.8372, east=117.0208, north=40.5512, south=40.4729
    )
    # eventDate 2024-05-01/2024-07-15, 2024-05-01/03 and 2024-07-15T08:30 → 1 May to 15 July.
    assert metadata.temporal_coverage == (date(2024, 5, 1), date(2024, 7, 15))
    assert metadata.package_id
    assert replace(metadata, bounding_box=None, temporal_coverage=None, package_id=None) == (
        METADATA
    )


def test_reading_accepts_a_file_object(archive: Path) -> None:
    _, events, occurrences = read_archive(io.BytesIO(archive.read_bytes()))
    assert (events, occurrences) == (EVENTS, OCCURRENCES)


def test_files_are_well_formed_tab_delimited_text(archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["eml.xml", "event.txt", "meta.xml", "occurrence.txt"]
        for member, width in (("event.txt", 20), ("occurrence.txt", 20)):
            text = zf.read(member).decode("utf-8")
            assert "\r" not in text
            lines = text.split("\n")
            assert lines[-1] == ""  # every line ends with \n, the last one too
            assert all(line.count("\t") == width - 1 for line in lines[:-1])
        event_text = zf.read("event.txt").decode("utf-8")
        assert "密云水库\u2409北岸\u240a白河入库口" in event_text
        assert "上午晴\u240d\u240a下午有雾" in event_text
        assert "0.30000000000000004" in event_text
        assert "C:\\data\\new\\tab" in event_text
        assert zf.read("event.txt").startswith(b"eventID\tparentEventID\teventDate\t")
        meta = zf.read("meta.xml").decode("utf-8")
        assert 'fieldsTerminatedBy="\\t"' in meta
        assert 'linesTerminatedBy="\\n"' in meta
        assert 'fieldsEnclosedBy=""' in meta
        assert 'ignoreHeaderLines="1"' in meta
        eml = zf.read("eml.xml").decode("utf-8")
        assert "http://rs.gbif.org/schema/eml-gbif-profile/1.1/eml.xsd" in eml
        assert "http://creativecommons.org/licenses/by/4.0/legalcode" in eml
        assert "<role>publisher</role>" in eml


def test_the_same_input_gives_the_same_bytes(tmp_path: Path, archive: Path) -> None:
    again = write_archive(tmp_path / "again.zip", EVENTS, OCCURRENCES, METADATA)
    assert again.read_bytes() == archive.read_bytes()


def test_records_may_be_streamed(tmp_path: Path) -> None:
    path = write_archive(tmp_path / "s.zip", iter(EVENTS), (o for o in OCCURRENCES), METADATA)
    assert read_archive(path)[1:] == (EVENTS, OCCURRENCES)


# --- an independent reader -------------------------------------------------------------------


def test_python_dwca_reader_reads_the_same_archive(archive: Path) -> None:
    with DwCAReader(str(archive)) as dwca:
        assert dwca.descriptor.core.type == DWC + "Event"
        assert [ext.type for ext in dwca.descriptor.extensions] == [DWC + "Occurrence"]
        rows = {row.id: row for row in dwca}
        assert list(rows) == [e.eventID for e in EVENTS]
        transect = rows["S2024-MY-T01"].data
        assert transect[DWC + "eventID"] == "S2024-MY-T01"
        assert transect[DWC + "parentEventID"] == "S2024-MY"
        assert transect[DWC + "eventDate"] == "2024-05-01/03"
        assert float(transect[DWC + "decimalLatitude"]) == 40.4729
        assert transect[DWC + "sampleSizeValue"] == "2000.0"
        # another reader sees the escaped text, visibly, not a broken row
        assert transect[DWC + "locality"] == "密云水库␉北岸␊白河入库口"
        assert unescape_value(transect[DWC + "locality"]) == EVENTS[1].locality
        assert rows["S2024-MY"].data[DWC + "locality"] == ""
        crane, stork = rows["S2024-MY-T01"].extensions
        assert crane.core_id == stork.core_id == "S2024-MY-T01"
        assert crane.data[DWC + "occurrenceID"] == "MY-T01-001"
        assert crane.data[DWC + "vernacularName"] == "丹顶鹤"
        assert crane.data[DWC + "individualCount"] == "3"
        assert stork.data[DWC + "occurrenceStatus"] == "absent"
        assert stork.data[DWC + "individualCount"] == "0"
        (reed,) = rows["S2024-MY-T02"].extensions
        assert reed.data[DWC + "organismQuantityType"] == "% cover"
        assert rows["S2024-MY"].extensions == []
        assert all(not orphans for orphans in dwca.orphaned_extension_rows().values())
        assert dwca.metadata is not None
        assert dwca.metadata.findtext("dataset/title") == METADATA.title
        west = dwca.metadata.findtext(
            "dataset/coverage/geographicCoverage/boundingCoordinates/westBoundingCoordinate"
        )
        assert west == "116.8372"


# --- archives from other producers ----------------------------------------------------------

FOREIGN_META = """<?xml version="1.0" encoding="UTF-8"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/">
  <core encoding="UTF-8" fieldsTerminatedBy="," linesTerminatedBy="\\r\\n" fieldsEnclosedBy='"'
        ignoreHeaderLines="1" rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>data/occurrences.csv</location></files>
    <id index="0"/>
    <field index="1" term="https://rs.tdwg.org/dwc/terms/scientificName"/>
    <field index="2" term="http://rs.tdwg.org/dwc/terms/decimalLongitude"/>
    <field index="3" term="http://rs.tdwg.org/dwc/terms/decimalLatitude"/>
    <field index="4" term="http://rs.tdwg.org/dwc/terms/eventDate"/>
    <field index="5" term="http://rs.tdwg.org/dwc/terms/individualCount"/>
    <field index="6" term="http://rs.tdwg.org/dwc/terms/family"/>
    <field index="7" term="http://rs.tdwg.org/dwc/terms/locality"/>
    <field index="8" term="http://rs.tdwg.org/dwc/terms/eventID"/>
    <field index="9" term="http://rs.tdwg.org/dwc/terms/countryCode" default="CN"/>
    <field term="http://rs.tdwg.org/dwc/terms/basisOfRecord" default="HumanObservation"/>
    <field term="http://purl.org/dc/terms/license" default="CC0-1.0"/>
  </core>
  <extension rowType="http://rs.gbif.org/terms/1.0/Multimedia" fieldsTerminatedBy="\\t"
             fieldsEnclosedBy="" ignoreHeaderLines="1">
    <files><location>data/multimedia.txt</location></files>
    <coreid index="0"/>
    <field index="1" term="http://purl.org/dc/terms/identifier"/>
  </extension>
</archive>
"""

# Columns in the producer's order; a quoted comma and a quoted line break; CRLF line ends; an
# empty countryCode cell that takes the default; a column (family) we do not model.
FOREIGN_CSV = (
    "id,scientificName,lon,lat,date,count,family,locality,eventID,countryCode\r\n"
    'occ-1,Passer montanus,116.40,39.90,2024-04-02,12,Passeridae,"天坛公园,北门",V1,\r\n'
    'occ-2,Pica serica,116.41,39.91,2024-04-02,2,Corvidae,"天坛公园,北门",V1,CN\r\n'
    'occ-3,Anas platyrhynchos,116.27,40.00,2024-04-05,7,Anatidae,"颐和园\r\n昆明湖",,CN\r\n'
)


def test_occurrence_core_from_another_producer(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "other.zip",
        {
            "export/meta.xml": FOREIGN_META,
            "export/data/occurrences.csv": FOREIGN_CSV,
            "export/data/multimedia.txt": "coreid\tidentifier\nocc-1\thttp://x/1.jpg\n",
        },
    )
    metadata, events, occurrences = read_archive(path)
    assert metadata is None  # no eml.xml
    assert occurrences == [
        DwcOccurrence(
            "occ-1",
            "V1",
            basisOfRecord="HumanObservation",
            scientificName="Passer montanus",
            individualCount=12,
            decimalLatitude=39.90,
            decimalLongitude=116.40,
        ),
        DwcOccurrence(
            "occ-2",
            "V1",
            basisOfRecord="HumanObservation",
            scientificName="Pica serica",
            individualCount=2,
            decimalLatitude=39.91,
            decimalLongitude=116.41,
        ),
        # no eventID but event-level terms: its own event, named after the occurrence
        DwcOccurrence(
            "occ-3",
            "occ-3",
            basisOfRecord="HumanObservation",
            scientificName="Anas platyrhynchos",
            individualCount=7,
            decimalLatitude=40.00,
            decimalLongitude=116.27,
        ),
    ]
    assert events == [
        # two rows of V1 agree on date, place and country but not on coordinates
        DwcEvent("V1", eventDate="2024-04-02", countryCode="CN", locality="天坛公园,北门"),
        DwcEvent(
            "occ-3",
            eventDate="2024-04-05",
            countryCode="CN",
            locality="颐和园\r\n昆明湖",
            decimalLatitude=40.00,
            decimalLongitude=116.27,
        ),
    ]


IPT_META = """<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">
  <core encoding="UTF-8" fieldsTerminatedBy="&#9;" linesTerminatedBy="\\n" fieldsEnclosedBy=""
        ignoreHeaderLines="0" rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>occurrence.txt</location></files>
    <id index="0"/>
    <field index="0" term="http://rs.tdwg.org/dwc/terms/occurrenceID"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/basisOfRecord"/>
    <field index="2" term="http://rs.tdwg.org/dwc/terms/scientificName"/>
  </core>
</archive>
"""

NO_EML_META = IPT_META.replace(' metadata="eml.xml"', "")

IPT_EML = """<?xml version="1.0" encoding="UTF-8"?>
<eml:eml xmlns:eml="eml://ecoinformatics.org/eml-2.1.1" packageId="1234/v1.2" system="http://gbif.org">
  <dataset>
    <title xml:lang="eng">Herbarium specimens of Beijing</title>
    <creator><organizationName>Some Herbarium</organizationName></creator>
    <metadataProvider><individualName><givenName>Ann</givenName><surName>Lee</surName></individualName></metadataProvider>
    <pubDate>2023-11-02</pubDate>
    <language>eng</language>
    <abstract><para>Sheets collected 1950–2020.</para></abstract>
    <intellectualRights><para>To the extent possible under law, the publisher has waived all rights to these data and has dedicated them to the <ulink url="https://creativecommons.org/publicdomain/zero/1.0/legalcode"><citetitle>Public Domain (CC0 1.0)</citetitle></ulink>.</para></intellectualRights>
    <coverage><temporalCoverage><singleDateTime><calendarDate>2020</calendarDate></singleDateTime></temporalCoverage></coverage>
    <contact><positionName>Curator</positionName></contact>
  </dataset>
</eml:eml>
"""


def test_occurrence_only_archive_with_another_producers_eml(tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "herbarium.zip",
        {
            "meta.xml": IPT_META,
            "eml.xml": IPT_EML,
            "occurrence.txt": "h-1\tPreservedSpecimen\tQuercus mongolica\n"
            "h-2\tPreservedSpecimen\tPinus tabuliformis\n\n",  # a trailing blank line
        },
    )
    metadata, events, occurrences = read_archive(path)
    assert events == []
    assert occurrences == [
        DwcOccurrence("h-1", basisOfRecord="PreservedSpecimen", scientificName="Quercus mongolica"),
        DwcOccurrence(
            "h-2", basisOfRecord="PreservedSpecimen", scientificName="Pinus tabuliformis"
        ),
    ]
    assert metadata == DatasetMetadata(
        title="Herbarium specimens of Beijing",
        abstract="Sheets collected 1950–2020.",
        creators=(Party(organisation="Some Herbarium"),),
        metadata_providers=(Party(given_name="Ann", sur_name="Lee"),),
        contacts=(Party(position="Curator"),),
        license="CC0-1.0",
        language="eng",
        pub_date=date(2023, 11, 2),
        package_id="1234/v1.2",
        temporal_coverage=(date(2020, 1, 1), date(2020, 12, 31)),
    )


def test_event_core_with_an_id_column_and_another_extension(tmp_path: Path) -> None:
    """IPT style: the id column is separate from the eventID term; a MeasurementOrFact
    extension is skipped; the Occurrence extension links by its coreid column."""
    meta = """<archive xmlns="http://rs.tdwg.org/dwc/text/">
  <core rowType="http://rs.tdwg.org/dwc/terms/Event" fieldsTerminatedBy="\\t" fieldsEnclosedBy="" ignoreHeaderLines="1">
    <files><location>event.txt</location></files>
    <id index="0"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/eventID"/>
    <field index="2" term="http://rs.tdwg.org/dwc/terms/eventDate"/>
    <field term="http://rs.tdwg.org/dwc/terms/samplingProtocol" default="point count"/>
  </core>
  <extension rowType="http://rs.tdwg.org/dwc/terms/Occurrence" fieldsTerminatedBy="\\t" fieldsEnclosedBy="" ignoreHeaderLines="1">
    <files><location>occurrence.txt</location></files>
    <coreid index="0"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/occurrenceID"/>
    <field index="2" term="http://rs.tdwg.org/dwc/terms/scientificName"/>
  </extension>
  <extension rowType="http://rs.iobis.org/obis/terms/ExtendedMeasurementOrFact" fieldsTerminatedBy="\\t" fieldsEnclosedBy="" ignoreHeaderLines="1">
    <files><location>emof.txt</location></files>
    <coreid index="0"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/measurementType"/>
  </extension>
</archive>"""
    path = _zip(
        tmp_path / "ipt.zip",
        {
            "meta.xml": meta,
            "event.txt": "id\teventID\teventDate\nP1\tP1\t2024-06-01\nP2\tP2\t2024-06-02\n",
            "occurrence.txt": "id\toccurrenceID\tname\nP2\to-9\tParus minor\n",
            "emof.txt": "id\ttype\nP1\twater depth\n",
        },
    )
    metadata, events, occurrences = read_archive(path)
    assert metadata is None
    assert events == [
        DwcEvent("P1", eventDate="2024-06-01", samplingProtocol="point count"),
        DwcEvent("P2", eventDate="2024-06-02", samplingProtocol="point count"),
    ]
    assert occurrences == [DwcOccurrence("o-9", "P2", scientificName="Parus minor")]


# --- bad input: reading ----------------------------------------------------------------------


def _refused(path: Path | io.BytesIO) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        read_archive(path)
    return caught.value


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "survey.zip"
    path.write_text("eventID\teventDate\n", encoding="utf-8")
    assert str(_refused(path)) == "survey.zip: 不是 ZIP 压缩包(Darwin Core Archive 须为 zip 文件)"


def test_missing_file(tmp_path: Path) -> None:
    assert str(_refused(tmp_path / "nowhere.zip")) == "nowhere.zip: 文件不存在"


def test_no_meta_xml(tmp_path: Path, archive: Path) -> None:
    path = _rewrite(archive, tmp_path / "bad.zip", {"meta.xml": None})
    assert "bad.zip: 压缩包中没有 meta.xml" in str(_refused(path))


@pytest.mark.parametrize("member", ["occurrence.txt", "event.txt", "eml.xml"])
def test_meta_xml_names_a_file_that_is_missing(tmp_path: Path, archive: Path, member: str) -> None:
    path = _rewrite(archive, tmp_path / "bad.zip", {member: None})
    message = str(_refused(path))
    assert message.startswith("bad.zip: meta.xml 列出的")
    assert f"{member} 不在压缩包中" in message


def test_wrong_column_count_names_file_and_line(tmp_path: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        lines = zf.read("occurrence.txt").decode("utf-8").split("\n")
    lines[2] = lines[2].replace("\t", "", 1)  # line 3 = the second occurrence loses a column
    lines[3] += "\textra"  # line 4 gains one
    path = _rewrite(archive, tmp_path / "bad.zip", {"occurrence.txt": "\n".join(lines).encode()})
    error = _refused(path)
    assert error.rows == [
        "bad.zip: occurrence.txt 第 3 行: 应有 20 列,实有 19 列",
        "bad.zip: occurrence.txt 第 4 行: 应有 20 列,实有 21 列",
    ]
    assert str(error) == (
        "bad.zip: occurrence.txt 第 3 行: 应有 20 列,实有 19 列(共 2 处错误,未读入任何记录)"
    )


def test_row_errors_name_file_and_line(tmp_path: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        events = zf.read("event.txt").decode("utf-8").split("\n")
        occurrences = zf.read("occurrence.txt").decode("utf-8").split("\n")
    events.insert(4, events[1])  # line 5 repeats line 2
    events[2] = events[2].replace("40.4729", "40,4729")  # not a number
    occurrences[1] = occurrences[1].replace("\tS2024-MY-T01\t", "\tS2099\t")  # orphan
    occurrences[2] = occurrences[2].replace("\t0\t", "\t2.5\t")  # not an integer count
    occurrences[3] = occurrences[3].replace("MY-T02-001", "MY-T01-002")  # duplicate ID
    path = _rewrite(
        archive,
        tmp_path / "bad.zip",
        {
            "event.txt": "\n".join(events).encode(),
            "occurrence.txt": "\n".join(occurrences).encode(),
        },
    )
    assert _refused(path).rows == [
        "bad.zip: event.txt 第 3 行: decimalLatitude“40,4729”不是数值",
        "bad.zip: event.txt 第 5 行: eventID“S2024-MY”重复(首次见于 bad.zip: event.txt 第 2 行)",
        "bad.zip: occurrence.txt 第 2 行: eventID“S2099”在核心文件中不存在",
        "bad.zip: occurrence.txt 第 3 行: individualCount“2.5”不是整数",
        "bad.zip: occurrence.txt 第 4 行: occurrenceID“MY-T01-002”重复"
        "(首次见于 bad.zip: occurrence.txt 第 3 行)",
    ]


def test_malformed_meta_xml(tmp_path: Path, archive: Path) -> None:
    path = _rewrite(archive, tmp_path / "bad.zip", {"meta.xml": b"<archive>\n<core>\n</archive>"})
    assert str(_refused(path)).startswith("bad.zip: meta.xml 第 3 行第 2 列不是格式正确的 XML")


def test_xml_entities_are_refused(tmp_path: Path, archive: Path) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><eml>&x;</eml>'
    path = _rewrite(archive, tmp_path / "bad.zip", {"eml.xml": bomb})
    assert str(_refused(path)) == "bad.zip: eml.xml 含 DTD 或实体声明,已拒收"


def test_unsupported_core(tmp_path: Path) -> None:
    meta = FOREIGN_META.replace("dwc/terms/Occurrence", "dwc/terms/Taxon")
    path = _zip(
        tmp_path / "taxa.zip",
        {"meta.xml": meta, "data/occurrences.csv": FOREIGN_CSV, "data/multimedia.txt": ""},
    )
    assert "核心类型 http://rs.tdwg.org/dwc/terms/Taxon 不受支持" in str(_refused(path))


def test_core_with_fewer_columns_than_meta_xml_uses(tmp_path: Path) -> None:
    path = _zip(tmp_path / "narrow.zip", {"meta.xml": NO_EML_META, "occurrence.txt": "h-1\tX\n"})
    assert str(_refused(path)) == (
        "narrow.zip: occurrence.txt 第 1 行: 只有 2 列,meta.xml 用到第 3 列"
    )


def test_text_in_the_wrong_encoding(tmp_path: Path) -> None:
    data = "h-1\tPreservedSpecimen\t油松\n".encode("gb18030")
    path = _zip(tmp_path / "gbk.zip", {"meta.xml": NO_EML_META, "occurrence.txt": data})
    assert (
        str(_refused(path)) == "gbk.zip: occurrence.txt 第 1 行附近: 不是有效的 utf-8-sig 编码文本"
    )
    declared = NO_EML_META.replace('encoding="UTF-8"', 'encoding="GB18030"')
    path = _zip(tmp_path / "gb.zip", {"meta.xml": declared, "occurrence.txt": data})
    assert read_archive(path)[2][0].scientificName == "油松"


@pytest.mark.parametrize(
    "location", ["../event.txt", "/etc/passwd", "C:/event.txt", "a/../../x.txt", "http://x/e.txt"]
)
def test_unsafe_locations_in_meta_xml(tmp_path: Path, location: str) -> None:
    meta = NO_EML_META.replace(
        "<location>occurrence.txt</location>", f"<location>{location}</location>"
    )
    path = _zip(tmp_path / "trav.zip", {"meta.xml": meta, "occurrence.txt": "h-1\tX\tY\n"})
    assert "不安全" in str(_refused(path))


def test_unsafe_member_names_in_the_zip(tmp_path: Path, archive: Path) -> None:
    path = _rewrite(archive, tmp_path / "trav.zip", {"../../evil.sh": b"rm -rf /"})
    assert str(_refused(path)) == (
        "trav.zip: 压缩包内的路径 '../../evil.sh' 不安全(绝对路径或含 ..),已拒收"
    )


def test_zip_bomb_by_ratio(tmp_path: Path, archive: Path) -> None:
    # 20 MB of zeros deflates to about 20 kB: a ratio near 1000, over the limit of 100
    path = _rewrite(archive, tmp_path / "bomb.zip", {"event.txt": bytes(20 * 1024 * 1024)})
    assert str(_refused(path)) == "bomb.zip: 压缩内容异常(疑似压缩炸弹),已拒收"


def test_zip_bomb_by_entry_count(tmp_path: Path, archive: Path) -> None:
    extra: dict[str, bytes | None] = {f"pad/{i}.txt": b"" for i in range(2001)}
    path = _rewrite(archive, tmp_path / "many.zip", extra)
    assert str(_refused(path)) == "many.zip: 压缩内容异常(疑似压缩炸弹),已拒收"


def test_corrupt_member_data(tmp_path: Path, archive: Path) -> None:
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("occurrence.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 10 : start + 40] = bytes(30)  # scribble over the compressed bytes
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(data))
    assert str(_refused(broken)) == "broken.zip: occurrence.txt 的压缩数据已损坏"


# --- bad input: writing ----------------------------------------------------------------------


def test_writer_refuses_bad_records_and_leaves_nothing(tmp_path: Path) -> None:
    events = [*EVENTS, EVENTS[0], DwcEvent("", locality="含保留字符\u240a")]
    occurrences = [
        OCCURRENCES[0],
        replace(OCCURRENCES[1], occurrenceID="MY-T01-001"),
        replace(OCCURRENCES[2], eventID="nowhere", decimalLatitude=float("nan")),
        replace(OCCURRENCES[2], occurrenceID="x", eventID=None),
    ]
    target = tmp_path / "out.zip"
    with pytest.raises(ValidationError) as caught:
        write_archive(target, events, occurrences, METADATA)
    assert caught.value.rows == [
        "out.zip: 第 4 个事件(eventID='S2024-MY'): eventID 重复",
        "out.zip: 第 5 个事件(eventID=''): eventID 为空",
        "out.zip: 第 5 个事件(eventID=''): locality 含保留字符 U+240A(用于表示制表符或换行,请删除)",
        "out.zip: 第 2 条出现记录(occurrenceID='MY-T01-001'): occurrenceID 重复",
        "out.zip: 第 3 条出现记录(occurrenceID='MY-T02-001'): eventID 'nowhere' 不是本数据集中的事件",
        "out.zip: 第 3 条出现记录(occurrenceID='MY-T02-001'): decimalLatitude 不是有限的数值(nan)",
        "out.zip: 第 4 条出现记录(occurrenceID='x'): eventID None 不是本数据集中的事件",
    ]
    assert str(caught.value).endswith("(共 7 处错误,未写出文件)")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_incomplete_metadata(tmp_path: Path) -> None:
    metadata = replace(METADATA, license="CC-BY-SA-4.0", contacts=(), publisher=" ")
    with pytest.raises(ValidationError) as caught:
        write_archive(tmp_path / "out.zip", EVENTS, OCCURRENCES, metadata)
    assert caught.value.rows == [
        "out.zip: 数据集元数据: 缺少发布机构 publisher(GBIF 必填)",
        "out.zip: 数据集元数据: 缺少联系人 contact(GBIF 必填)",
        "out.zip: 数据集元数据: 许可 'CC-BY-SA-4.0' 不是 GBIF 接受的许可(CC0-1.0、CC-BY-4.0、CC-BY-NC-4.0)",
    ]
    assert list(tmp_path.iterdir()) == []


# --- protected species -----------------------------------------------------------------------


def test_generalise_rounds_coordinates_and_says_so() -> None:
    crane = OCCURRENCES[0]  # 40.47311, 116.84002
    public = generalise(crane)
    # round(40.47311, 1) = 40.5; round(116.84002, 1) = 116.8
    assert (public.decimalLatitude, public.decimalLongitude) == (40.5, 116.8)
    assert public.informationWithheld is not None
    assert "precise coordinates withheld" in public.informationWithheld
    assert public.dataGeneralizations is not None
    assert "rounded to 1 decimal places" in public.dataGeneralizations
    assert (
        replace(
            public,
            decimalLatitude=crane.decimalLatitude,
            decimalLongitude=crane.decimalLongitude,
            informationWithheld=None,
            dataGeneralizations=None,
        )
        == crane
    )
    assert crane.decimalLatitude == 40.47311  # the precise record is untouched
    assert generalise(public) == public  # once is enough
    # round(40.47311, 2) = 40.47; round(116.84002, 2) = 116.84
    finer = generalise(crane, decimals=2)
    assert (finer.decimalLatitude, finer.decimalLongitude) == (40.47, 116.84)


def test_generalise_keeps_existing_notes_and_skips_records_without_coordinates() -> None:
    reed = OCCURRENCES[2]
    assert generalise(reed) == reed  # no coordinates: nothing to generalise
    noted = replace(OCCURRENCES[0], informationWithheld="采集人姓名不公开")
    withheld = generalise(noted).informationWithheld
    assert withheld is not None
    assert withheld.startswith("采集人姓名不公开 | ")
    with pytest.raises(ValueError):
        generalise(noted, decimals=-1)


def test_generalised_records_round_trip(tmp_path: Path) -> None:
    public = [generalise(o) for o in OCCURRENCES]
    path = write_archive(tmp_path / "public.zip", EVENTS, public, METADATA)
    assert read_archive(path)[2] == public
