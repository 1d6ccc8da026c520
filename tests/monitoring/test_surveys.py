"""Survey sheets: events from rows, districts, every GBIF-style flag on one record each, and
the errors that refuse a file whole (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecoplan import db
from ecoplan.errors import EcoplanError
from ecoplan.monitoring.models import Occurrence, SurveyEvent
from ecoplan.monitoring.surveys import import_survey
from ecoplan.monitoring.taxa import load_taxa_csv
from ecoplan.units.service import sync_builtin

TODAY = dt.date(2024, 7, 10)
HEADER = [
    "样线编号",
    "调查日期",
    "经度",
    "纬度",
    "物种",
    "数量",
    "记录人",
    "样线长度(km)",
    "记录编号",
]
GOOD = ["T1", "2024-05-12", "116.22", "40.05", "鸳鸯", "3", "王", "2.0"]  # 海淀区


@pytest.fixture
def listed(engine: Engine, tmp_path: Path) -> Engine:
    taxa = tmp_path / "taxa.csv"
    taxa.write_text(
        "学名,中文名\nAix galericulata,鸳鸯\nCiconia nigra,黑鹳\nParus minor,远东山雀\n",
        encoding="utf-8",
    )
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        load_taxa_csv(session, taxa, actor="test")
    return engine


def sheet(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def test_records_flags_and_events(listed: Engine, tmp_path: Path) -> None:
    rows = {
        "ok": GOOD,
        "same-event": ["T1", "2024-05-12", "116.22", "40.05", "Ciconia nigra", "1", "王", "2.0"],
        "zero": ["T2", "2024-05-13", "0", "0", "鸳鸯", "2", "王", "2.0"],
        "swapped": ["T3", "2024-05-13", "40.05", "116.22", "鸳鸯", "2", "王", "2.0"],
        "outside": ["T4", "2024-05-13", "121.47", "31.23", "鸳鸯", "2", "王", "2.0"],  # Shanghai
        "range": ["T5", "2024-05-13", "216.2", "40.0", "鸳鸯", "2", "王", "2.0"],
        "future": ["T6", "2025-01-01", "116.22", "40.05", "鸳鸯", "2", "王", "2.0"],
        "baddate": ["T7", "2024-13-45", "116.22", "40.05", "鸳鸯", "2", "王", "2.0"],
        "unknown": ["T1", "2024-05-12", "116.22", "40.05", "白鹳", "1", "王", "2.0"],
        "fuzzy": ["T1", "2024-05-12", "116.22", "40.05", "Ciconia nigro", "1", "王", "2.0"],
        "negative": ["T1", "2024-05-12", "116.22", "40.05", "鸳鸯", "-3", "王", "2.0"],
        "missing": ["T1", "2024-05-12", "116.22", "40.05", "鸳鸯", "", "王", "2.0"],
        "absent": ["T1", "2024-05-12", "116.22", "40.05", "远东山雀", "0", "王", "2.0"],
        "noeffort": ["T8", "2024-05-14", "116.22", "40.05", "鸳鸯", "1", "王", ""],
    }
    path = sheet(tmp_path / "birds.csv", [[*r, key] for key, r in rows.items()])
    with db.session_scope(listed) as session:
        result = import_survey(session, path, protocol="bird_transect", title="2024 鸟类样线", year=2024, actor="t",
                               unit_code="110108", today=TODAY)  # fmt: skip
        flags = {o.occurrence_id: o.flags for o in session.scalars(select(Occurrence))}
        swapped = session.scalar(select(Occurrence).where(Occurrence.occurrence_id == "swapped"))
        absent = session.scalar(select(Occurrence).where(Occurrence.occurrence_id == "absent"))
        events = {e.event_id: e for e in session.scalars(select(SurveyEvent))}
    expected = {
        "ok": [], "same-event": [], "zero": ["ZERO_COORDINATE"], "swapped": ["PRESUMED_SWAPPED_COORDINATE"],
        "outside": ["COORDINATE_OUTSIDE_BEIJING"], "range": ["COORDINATE_OUT_OF_RANGE"],
        "future": ["RECORDED_DATE_UNLIKELY"], "baddate": ["RECORDED_DATE_INVALID"],
        "unknown": ["TAXON_MATCH_NONE"], "fuzzy": ["TAXON_MATCH_FUZZY"], "negative": ["INDIVIDUAL_COUNT_INVALID"],
        "missing": ["INDIVIDUAL_COUNT_MISSING"], "absent": ["OCCURRENCE_STATUS_INFERRED_FROM_INDIVIDUAL_COUNT"],
        "noeffort": ["SAMPLING_EFFORT_MISSING"],
    }  # fmt: skip
    assert flags == expected
    assert swapped is not None and (swapped.lon, swapped.lat) == (116.22, 40.05)  # swapped back
    assert absent is not None and absent.status == "absent"
    # events are (transect, date): T1 on 05-12 holds 8 rows; T2…T8 one each → 8 events
    assert (result.events, result.occurrences) == (8, 14) and result.unmatched == {"白鹳": 1}
    assert (
        events["T1|2024-05-12"].district_name == "海淀区"
        and events["T1|2024-05-12"].effort_value == 2.0
    )
    assert events["T2|2024-05-13"].district_name is None  # (0, 0) is no position
    assert result.flags["TAXON_MATCH_NONE"] == 1


def test_files_refused_whole(listed: Engine, tmp_path: Path) -> None:
    no_effort_column = sheet(tmp_path / "a.csv", [GOOD[:7] + ["x1"]], HEADER[:7] + ["记录编号"])
    duplicate_ids = sheet(tmp_path / "b.csv", [[*GOOD, "d1"], [*GOOD, "d1"]])
    first = sheet(tmp_path / "c.csv", [GOOD])  # no 记录编号 column: ids come from the file's hash
    broken = tmp_path / "d.xlsx"
    broken.write_bytes(b"not a workbook")
    with db.session_scope(listed) as session:
        import_survey(
            session, first, protocol="bird_transect", title="t", year=2024, actor="t", today=TODAY
        )
    for path, message in ((no_effort_column, "缺少列: effort"), (duplicate_ids, "记录编号重复"),
                          (first, "已导入过"), (broken, "无法读取调查表")):  # fmt: skip
        with pytest.raises(EcoplanError, match=message), db.session_scope(listed) as session:
            import_survey(
                session,
                path,
                protocol="bird_transect",
                title="t",
                year=2024,
                actor="t",
                today=TODAY,
            )
    with db.session_scope(listed) as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == 1
    with pytest.raises(EcoplanError, match="未知的调查规程"), db.session_scope(listed) as session:
        import_survey(session, first, protocol="bird_survey", title="t", year=2024, actor="t")
