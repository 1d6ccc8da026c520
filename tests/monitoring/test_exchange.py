"""A stored survey out as a Darwin Core Archive and back into another database: the same
records, protected species' places generalised, and the archive readable by python-dwca-reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecoplan import db
from ecoplan.monitoring.dwca import Party
from ecoplan.monitoring.exchange import export_survey, import_archive
from ecoplan.monitoring.models import Occurrence, SurveyEvent, Taxon
from ecoplan.monitoring.surveys import import_survey
from ecoplan.monitoring.taxa import load_taxa_csv
from ecoplan.units.service import sync_builtin
from tests.monitoring.test_surveys import HEADER, sheet

TODAY = dt.date(2024, 7, 10)
TAXA = "学名,中文名,国家保护级别\nAix galericulata,鸳鸯,国家二级\nParus minor,远东山雀,\n"


def seeded(engine: Engine, tmp_path: Path) -> Engine:
    (tmp_path / "taxa.csv").write_text(TAXA, encoding="utf-8")
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        load_taxa_csv(session, tmp_path / "taxa.csv", actor="test")
    return engine


def records(engine: Engine) -> list[tuple[object, ...]]:
    with db.session_scope(engine) as session:
        query = (select(Occurrence.occurrence_id, Taxon.name_cn, Occurrence.individual_count, Occurrence.status,
                        SurveyEvent.event_id, SurveyEvent.start_date, SurveyEvent.effort_value)
                 .join(SurveyEvent, SurveyEvent.id == Occurrence.event_pk)
                 .outerjoin(Taxon, Taxon.id == Occurrence.taxon_id).order_by(Occurrence.occurrence_id))  # fmt: skip
        return [tuple(r) for r in session.execute(query)]


def test_round_trip_between_two_databases(engine: Engine, tmp_path: Path) -> None:
    rows = [["T1", "2024-05-12", "116.22", "40.05", "鸳鸯", "3", "王", "2.0", "r1"],
            ["T1", "2024-05-12", "116.22", "40.05", "远东山雀", "0", "王", "2.0", "r2"],
            ["T2", "2024-05-13", "116.30", "40.10", "远东山雀", "5", "李", "1.5", "r3"]]  # fmt: skip
    source = seeded(engine, tmp_path)
    with db.session_scope(source) as session:
        survey = import_survey(session, sheet(tmp_path / "s.csv", rows, HEADER), protocol="bird_transect",
                               title="2024 鸟类样线", year=2024, actor="t", today=TODAY).survey  # fmt: skip
        archive = export_survey(session, survey.id, tmp_path / "survey.zip", publisher="海淀区园林绿化局",
                                contact=Party(sur_name="王明", organisation="海淀区园林绿化局", email="w@example.cn"))  # fmt: skip
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    target = db.make_engine(f"sqlite:///{other_dir / 'b.db'}")  # another installation
    db.upgrade(target)
    seeded(target, other_dir)
    assert records(target) == []
    with db.session_scope(target) as session:
        back = import_archive(session, archive, protocol="bird_transect", title="来自海淀区", year=2024, actor="t",
                              today=TODAY)  # fmt: skip
    assert (back.events, back.occurrences) == (2, 3)
    # the same records; the flags describe the sheet they came from, and the archive states
    # 'absent' outright where the sheet only had a count of 0
    assert records(target) == records(source)
    assert back.flags == {}
    with db.session_scope(target) as session:
        places = {o.occurrence_id: (o.lon, o.lat) for o in session.scalars(select(Occurrence))}
    # 鸳鸯 is 国家二级: its place is rounded to 0.1° (116.22, 40.05 → 116.2, 40.0 or 40.1 by rounding);
    # the other record of the same event is rounded too, because the event's place would give it away
    assert places["r1"] == places["r2"] == (116.2, round(40.05, 1)) and places["r3"] == (
        116.30,
        40.10,
    )


def test_archive_reads_in_python_dwca_reader(engine: Engine, tmp_path: Path) -> None:
    reader = pytest.importorskip("dwca.read")
    source = seeded(engine, tmp_path)
    with db.session_scope(source) as session:
        survey = import_survey(session, sheet(tmp_path / "s.csv", [["T1", "2024-05-12", "116.22", "40.05", "远东山雀", "2", "王", "2.0", "x1"]]),
                               protocol="bird_transect", title="t", year=2024, actor="t", today=TODAY).survey  # fmt: skip
        path = export_survey(
            session,
            survey.id,
            tmp_path / "a.zip",
            publisher="某单位",
            contact=Party(sur_name="王明"),
        )
    with reader.DwCAReader(str(path)) as dwca:
        (core,) = list(dwca)
        assert core.data["http://rs.tdwg.org/dwc/terms/eventID"] == "T1|2024-05-12"
        (occ,) = core.extensions
        assert occ.data["http://rs.tdwg.org/dwc/terms/scientificName"] == "Parus minor"
        assert occ.data["http://rs.tdwg.org/dwc/terms/individualCount"] == "2"
