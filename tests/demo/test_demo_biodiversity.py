"""The biodiversity demo (``ecoplan.demo.biodiversity``) on the minimum it builds on: the sample
plan (for the 600 份 target), the demo accounts and the demo reserve of ``demo.cases``. What it
was designed to show does show, and a second load adds nothing (SQLite, like the CLI demo)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecoplan import audit, db
from ecoplan.accounts.service import create_account
from ecoplan.cases.layers import load_layer
from ecoplan.cli import import_plan_file
from ecoplan.config import get_settings
from ecoplan.demo import sample_plan_path
from ecoplan.demo.biodiversity import LABEL, STATION_CODE, load_demo_biodiversity
from ecoplan.demo.cases import write_layers
from ecoplan.demo.history import DEMO_TODAY
from ecoplan.monitoring import germplasm, observations, stations
from ecoplan.monitoring.invasive_models import (
    IntroductionApplication,
    InvasiveAlert,
    InvasiveRecord,
)
from ecoplan.monitoring.models import Occurrence, Survey, SurveyEvent
from ecoplan.units.models import Unit

FLAGS = {"PRESUMED_SWAPPED_COORDINATE", "TAXON_MATCH_NONE", "TAXON_MATCH_FUZZY",
         "INDIVIDUAL_COUNT_MISSING"}  # fmt: skip


@pytest.fixture
def demo_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("ECOPLAN_DATA_DIR", str(tmp_path / "var"))  # the risk report lands here
    monkeypatch.setenv("ECOPLAN_TODAY", DEMO_TODAY.isoformat())
    monkeypatch.delenv("ECOPLAN_INVASIVE_RULES", raising=False)
    get_settings.cache_clear()
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        import_plan_file(session, sample_plan_path())
        create_account(session, username="coordinator", password="correct-horse-9", role="coordinator",
                       actor="test")  # fmt: skip
        for code in session.scalars(select(Unit.code).order_by(Unit.code)).all():
            create_account(session, username=f"u{code}", password="correct-horse-9", role="unit",
                           unit_code=code, actor="test")  # fmt: skip
        _, reserve = write_layers(tmp_path / "layers")
        load_layer(session, reserve, kind="reserve", name="演示自然保护区", actor="test")
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_demo_biodiversity_shows_what_it_was_made_for(demo_engine: Engine, tmp_path: Path) -> None:
    with db.session_scope(demo_engine) as session:
        counts = load_demo_biodiversity(session, tmp_path / "bio")
    assert counts is not None
    assert {k: v for k, v in counts.items() if k not in ("events", "occurrences")} == {
        "taxa": 150, "surveys": 24, "invasive_sites": 14, "invasive_records": 358, "controls": 5,
        "applications": 2, "alerts": 12, "accessions": 296, "station_values": 3570,
    }  # fmt: skip
    assert counts["events"] == 170 and 1500 < counts["occurrences"] < 2500
    with db.session_scope(demo_engine) as session:
        # indicator species: the designed trends, as encounter rates per km of transect
        trends = {t.species.name_cn: t for t in observations.indicator_trends(session)}
        verdicts = {name: t.verdict for name, t in trends.items()}
        assert verdicts == {
            "黑鹳": "上升",
            "勺鸡": "下降",
            "鸳鸯": "稳定",
            "大天鹅": "稳定",
            "白枕鹤": "稳定",
        }
        assert {y.effort_unit for t in trends.values() for y in t.years} == {"km"}
        # the flawed rows are flagged, every event lies in its district
        flags = Counter(f for (fl,) in session.execute(select(Occurrence.flags)) for f in fl or [])
        assert set(flags) == FLAGS and all(n == 1 for n in flags.values())
        assert session.scalar(select(func.count()).where(SurveyEvent.district_name.is_(None))) == 0
        assert observations.public_species(session)  # the published 2023 survey
        assert all(
            not s.districts
            for s in observations.public_species(session)
            if s.protection.startswith("国家")
        )
        # invasive: 2023's first finds handled; in 2024 each rule once
        alerts = session.execute(select(InvasiveAlert.rule, InvasiveRecord.observed_on, InvasiveAlert.state)
                                 .join(InvasiveRecord, InvasiveRecord.id == InvasiveAlert.record_id)).all()  # fmt: skip
        this_year = Counter(rule for rule, day, _ in alerts if day.year == 2024)
        assert this_year == {
            "quarantine": 1,
            "new_township": 1,
            "threshold": 1,
            "near_protected": 1,
        }
        assert all(state == "handled" for _, day, state in alerts if day.year == 2023)
        states = set(session.scalars(select(IntroductionApplication.state)))
        assert states == {"assessing", "submitted"}
        # germplasm: on the way to the plan's 600, behind the even pace in July
        progress = germplasm.progress(session, 2024, today=DEMO_TODAY)
        assert progress.target == 600 and 0 < progress.collected < 600
        assert progress.verdict == "落后于进度" and progress.by_month[6:] == [0] * 6
        # station: every QC flag and the 6-hour gap
        summary = stations.qc_summary(session, STATION_CODE).set_index("parameter")
        assert summary.loc["water_temp", "SPIKE"] == 1 and summary.loc["pm25", "SPIKE"] == 1
        assert summary.loc["do", "FLAT"] == 10
        assert summary.loc["rh", "RANGE"] == 1 and summary.loc["rh", "MISSING"] == 1
        gaps = stations.gaps(session, STATION_CODE, "气温")
        assert [(g.after.replace(tzinfo=None), g.missing) for g in gaps] == [
            (dt.datetime(2024, 6, 22), 6)
        ]
        # labelled as synthetic wherever the domain keeps a title or a note
        assert all(LABEL in title for title in session.scalars(select(Survey.title)))
        assert all(
            "演示数据" in a for a in session.scalars(select(IntroductionApplication.applicant))
        )
        rows = session.scalar(select(func.count()).select_from(audit.AuditEntry))
    with db.session_scope(demo_engine) as session:
        assert load_demo_biodiversity(session, tmp_path / "bio") is None
    with db.session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(audit.AuditEntry)) == rows
