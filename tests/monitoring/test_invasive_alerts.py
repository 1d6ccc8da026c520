"""Alert rules on invasive-species records: each fires exactly when it should (both sides of
every threshold and distance), reruns raise nothing twice, notifications reach the species'
unit and the district, and alerts are handled by those who may (SQLite and PostgreSQL)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import shapely
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ecoplan import audit, db
from ecoplan.cases.layers import load_layer
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring.invasive import add_site, import_records, sync_species
from ecoplan.monitoring.invasive_alerts import handle_alert, run_alerts, visible_alerts
from ecoplan.monitoring.invasive_config import ENV
from ecoplan.monitoring.invasive_models import InvasiveAlert, InvasiveRecord
from ecoplan.plans.models import Measure
from ecoplan.supervision.models import Notification
from ecoplan.units.models import Unit
from tests.monitoring.invasive_fixtures import (
    HAIDIAN,
    MENTOUGOU,
    TODAY,
    YANQING,
    account,
    iworld,
    layer_file,
    row,
    sheet,
)
from tests.supervision.conftest import build_world

__all__ = ["iworld"]

# 1° of latitude at 40.52° N on WGS84: a(1−e²)/(1−e²·sin²φ)^1.5 × π/180 = 111 045 m
M_PER_DEG_LAT = 111_045.0
RESERVE = shapely.box(115.90, 40.50, 115.94, 40.52)  # in 延庆区; its north edge is at 40.52° N


def fired(session: Session, rule: str) -> set[str]:
    """record_id of every alert of ``rule``."""
    query = select(InvasiveRecord.record_id).join(
        InvasiveAlert, InvasiveAlert.record_id == InvasiveRecord.id
    )
    return set(session.scalars(query.where(InvasiveAlert.rule == rule)))


def load(engine: Engine, path: Path, rows: list[list[str]]) -> None:
    with db.session_scope(engine) as session:
        import_records(session, sheet(path, rows), actor="t", today=TODAY)


def test_quarantine_any_positive_of_a_quarantine_species(iworld: Engine, tmp_path: Path) -> None:
    load(iworld, tmp_path / "q.csv", [
        row("q1", "松材线虫", "positive_sample", "2024-06-01", "阳性", at=MENTOUGOU),  # 疫点
        row("q2", "松材线虫", "positive_sample", "2024-06-01", "0", at=MENTOUGOU),  # negative
        row("q3", "松材线虫", "dead_trees", "2024-06-01", "10", at=MENTOUGOU),  # a symptom, not a find
        row("q4", "松材线虫", "dead_trees", "2024-06-01", "11", at=MENTOUGOU),
        row("c1", "苹果蠹蛾", "trap_catch", "2024-06-01", "1", effort="7", at=HAIDIAN),  # any catch
        row("c0", "苹果蠹蛾", "trap_catch", "2024-06-01", "0", effort="7", at=HAIDIAN),
        row("w1", "美国白蛾", "nest_trees", "2024-06-01", "3"),  # not a quarantine pest
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        assert fired(session, "quarantine") == {"q1", "c1"}
        # dead trees: 10 is not above the threshold of 10 株, 11 is; the moth: 1 ÷ 7 days =
        # 0.14 a day, under 1.0
        assert fired(session, "threshold") == {"q4"}
        message = session.scalar(select(InvasiveAlert.message).where(InvasiveAlert.key.like("quarantine:%"))
                                 .join(InvasiveRecord).where(InvasiveRecord.record_id == "q1"))  # fmt: skip
        assert (
            message is not None and "疫点" in message and "门头沟区" in message and "q1" in message
        )


def test_threshold_both_sides(iworld: Engine, tmp_path: Path) -> None:
    with db.session_scope(iworld) as session:
        for code in ("YQ-T1", "YQ-T2"):
            add_site(session, code=code, name=code, species_key="hyphantria_cunea", kind="trap",
                     lon=YANQING[0], lat=YANQING[1], actor="t")  # fmt: skip
    load(iworld, tmp_path / "t.csv", [
        # 美国白蛾 trap_catch, threshold 5 a day
        row("e35", "美国白蛾", "trap_catch", "2024-06-01", "35", effort="7"),  # 35 ÷ 7 = 5.0: not above
        row("e36", "美国白蛾", "trap_catch", "2024-06-01", "36", effort="7"),  # 36 ÷ 7 = 5.14 > 5
        # no effort: days since the previous check at the site
        row("s0", "美国白蛾", "trap_catch", "2024-06-01", "0", site="YQ-T1"),  # first check: 0
        row("s1", "美国白蛾", "trap_catch", "2024-06-08", "35", site="YQ-T1"),  # 35 ÷ 7 days = 5.0
        row("s2", "美国白蛾", "trap_catch", "2024-06-15", "36", site="YQ-T1"),  # 36 ÷ 7 = 5.14
        # no effort, no earlier check: counted as one day's catch
        row("n5", "美国白蛾", "trap_catch", "2024-06-01", "5"),  # 5 ÷ 1 = 5: not above
        row("n6", "美国白蛾", "trap_catch", "2024-06-01", "6"),  # 6 > 5
        # last year's check does not start this season: 6 ÷ 1 day (not 6 ÷ 214 days)
        row("y0", "美国白蛾", "trap_catch", "2023-10-31", "0", site="YQ-T2"),
        row("y1", "美国白蛾", "trap_catch", "2024-06-01", "6", site="YQ-T2"),
        # per-check methods
        row("nest5", "美国白蛾", "nest_trees", "2024-06-01", "5"),  # threshold 5 株: not above
        row("nest6", "美国白蛾", "nest_trees", "2024-06-01", "6"),
        row("d2", "福寿螺", "density", "2024-06-01", "2.0", at=HAIDIAN),  # threshold 2 头/m²
        row("d25", "福寿螺", "density", "2024-06-01", "2.5", at=HAIDIAN),
        row("g10", "福寿螺", "egg_masses", "2024-06-01", "10", at=HAIDIAN),  # threshold 10 块
        row("g11", "福寿螺", "egg_masses", "2024-06-01", "11", at=HAIDIAN),
        row("f", "牛蛙", "sighting", "2024-06-01", "1000", at=HAIDIAN),  # no threshold for bullfrogs
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        assert fired(session, "threshold") == {"e36", "s2", "n6", "y1", "nest6", "d25", "g11"}
        messages = set(
            session.scalars(select(InvasiveAlert.message).where(InvasiveAlert.rule == "threshold"))
        )
        assert any("5.143 头/日,按 7 天计" in m for m in messages)  # 36 ÷ 7 = 5.142857
        assert any("未给出诱测天数,按 1 天计" in m for m in messages)


def test_new_township_first_positive_per_place(iworld: Engine, tmp_path: Path) -> None:
    load(iworld, tmp_path / "a.csv", [
        row("a1", "美国白蛾", "nest_trees", "2024-06-01", "2", township="康庄镇"),  # first in 康庄镇
        row("a2", "美国白蛾", "nest_trees", "2024-06-05", "3", township="康庄镇"),  # a1 came first
        row("a3", "美国白蛾", "nest_trees", "2024-06-03", "0", township="八达岭镇"),  # negative
        row("a4", "美国白蛾", "nest_trees", "2024-06-04", "1", township="八达岭镇"),  # first positive
        row("a5", "美国白蛾", "nest_trees", "2024-06-02", "1"),  # no township: 延庆区 had a1
        row("h1", "美国白蛾", "nest_trees", "2024-06-02", "1", at=HAIDIAN),  # first in 海淀区
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        assert fired(session, "new_township") == {"a1", "a4", "h1"}
        keys = set(
            session.scalars(select(InvasiveAlert.key).where(InvasiveAlert.rule == "new_township"))
        )
        assert keys == {"new_township:hyphantria_cunea:110119:康庄镇", "new_township:hyphantria_cunea:110119:八达岭镇",
                        "new_township:hyphantria_cunea:110108:*"}  # fmt: skip
    load(iworld, tmp_path / "b.csv", [
        row("b1", "美国白蛾", "nest_trees", "2024-05-20", "1", township="康庄镇"),  # back-filled: already alerted
        row("b2", "美国白蛾", "nest_trees", "2024-06-10", "1", township="永宁镇"),  # new township
        row("b3", "牛蛙", "sighting", "2024-06-10", "1", township="永宁镇"),  # another species: new
        row("b4", "松材线虫", "dead_trees", "2024-06-10", "3", township="永宁镇"),  # a symptom: no
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        assert fired(session, "new_township") == {"a1", "a4", "h1", "b2", "b3"}


def test_near_protected_inside_and_both_sides_of_the_distance(
    iworld: Engine, tmp_path: Path
) -> None:
    north = 40.52  # the reserve's north edge
    rows = [
        row("p_in", "牛蛙", "sighting", "2024-06-01", "2", at=(115.92, 40.51)),  # inside
        row(
            "p900", "牛蛙", "sighting", "2024-06-01", "1", at=(115.92, north + 900 / M_PER_DEG_LAT)
        ),
        row(
            "p1100",
            "牛蛙",
            "sighting",
            "2024-06-01",
            "1",
            at=(115.92, north + 1100 / M_PER_DEG_LAT),
        ),
        row("n_in", "牛蛙", "sighting", "2024-06-01", "0", at=(115.92, 40.51)),  # negative, inside
    ]  # 900 m ÷ 111 045 m/° = 0.008105°; 1 100 m ÷ 111 045 = 0.009906°
    load(iworld, tmp_path / "r.csv", rows)
    with db.session_scope(iworld) as session:
        assert fired(session, "near_protected") == set()  # no reserve layer loaded yet
        load_layer(session, layer_file(tmp_path / "reserve.geojson", [("R1", "松山自然保护区", RESERVE)]),
                   kind="reserve", name="自然保护区", actor="t")  # fmt: skip
    with db.session_scope(iworld) as session:
        run = run_alerts(session, today=TODAY, actor="t")
        assert {a.rule for a in run.alerts} == {"near_protected"}
        assert fired(session, "near_protected") == {"p_in", "p900"}  # 900 ≤ 1 000 m < 1 100 m
        messages = sorted(a.message for a in run.alerts)
        assert any("位于松山自然保护区内" in m for m in messages)
        assert any("距松山自然保护区约 900 m(预警距离 1000 m)" in m for m in messages)
    with db.session_scope(iworld) as session:
        notes = session.scalar(select(func.count()).select_from(Notification))
        again = run_alerts(session, today=TODAY, actor="t")
        assert (again.alerts, again.notifications) == ([], [])
        assert session.scalar(select(func.count()).select_from(Notification)) == notes


def test_notifications_reach_species_unit_and_district_once(iworld: Engine, tmp_path: Path) -> None:
    load(iworld, tmp_path / "r.csv", [
        row("w", "美国白蛾", "nest_trees", "2024-06-01", "6", township="康庄镇"),  # 延庆: new + threshold
        row("s", "福寿螺", "density", "2024-06-01", "2.5", at=HAIDIAN, township="西北旺镇"),  # 海淀
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        code = {u.id: u.code for u in session.scalars(select(Unit))}
        alerts = session.scalars(select(InvasiveAlert).order_by(InvasiveAlert.id)).all()
        assert [(a.rule, code[a.unit_id or 0]) for a in alerts] == [
            ("new_township", "ylljj"), ("new_township", "nyncj"), ("threshold", "ylljj"), ("threshold", "nyncj")]  # fmt: skip
        sent = {(n.key, code[n.unit_id or 0]) for n in session.scalars(select(Notification))}
        expected = set()
        for a in alerts:
            district = "110119" if code[a.unit_id or 0] == "ylljj" else "110108"
            expected |= {(f"invasive-alert:{a.id}:{a.unit_id}", code[a.unit_id or 0]),
                         (f"invasive-alert:{a.id}:{next(k for k, v in code.items() if v == district)}", district)}  # fmt: skip
        assert sent == expected and all(len(k) <= 120 for k, _ in sent)
        assert all(n.message.startswith("【外来入侵物种预警】") and n.kind == "alert"
                   for n in session.scalars(select(Notification)))  # fmt: skip
        assert len(audit.entries(session, entity_type="invasive_alert")) == 4
    with db.session_scope(iworld) as session:
        assert run_alerts(session, today=TODAY, actor="t").alerts == []
        assert session.scalar(select(func.count()).select_from(Notification)) == 8


def test_a_rule_switched_off_in_the_rule_file(
    iworld: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = resources.files("ecoplan.monitoring").joinpath("data/invasive.toml").read_text("utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text(text.replace('[rules.quarantine]\nenabled = true', '[rules.quarantine]\nenabled = false'),
                     encoding="utf-8")  # fmt: skip
    monkeypatch.setenv(ENV, str(rules))
    load(
        iworld,
        tmp_path / "r.csv",
        [row("q1", "松材线虫", "positive_sample", "2024-06-01", "1", at=MENTOUGOU)],
    )
    with db.session_scope(iworld) as session:
        assert fired(session, "quarantine") == set() and fired(session, "new_township") == {"q1"}


def test_handling_an_alert(iworld: Engine, tmp_path: Path) -> None:
    load(iworld, tmp_path / "r.csv", [
        row("w1", "美国白蛾", "nest_trees", "2024-06-01", "1", township="康庄镇"),
        row("w2", "美国白蛾", "nest_trees", "2024-06-01", "1", township="八达岭镇"),
        row("w3", "美国白蛾", "nest_trees", "2024-06-01", "1", township="永宁镇"),
        row("w4", "美国白蛾", "nest_trees", "2024-06-01", "1", township="张山营镇"),
    ])  # fmt: skip
    with db.session_scope(iworld) as session:
        ids = list(session.scalars(select(InvasiveAlert.id).order_by(InvasiveAlert.id)))
        assert len(ids) == 4  # one new-township alert each, for 市园林绿化局 and 延庆区
        swj, haidian, leader = (account(session, u) for u in ("swj", "haidian", "leader"))
        for outsider in (swj, haidian):  # neither the species' unit nor the district
            with pytest.raises(NotFoundError):
                handle_alert(session, outsider, ids[0], "已处置")
            assert visible_alerts(session, outsider) == []
        with pytest.raises(PermissionDenied):
            handle_alert(session, leader, ids[0], "已处置")  # leaders read
        assert len(visible_alerts(session, leader)) == 4
        with pytest.raises(ValidationError, match="处置情况"):
            handle_alert(session, account(session, "ylljj"), ids[0], "  ")
        for alert_id, who in zip(ids, ("ylljj", "yanqing", "coord", "admin"), strict=True):
            user = account(session, who)
            assert len(visible_alerts(session, user, state="open")) >= 1
            alert = handle_alert(session, user, alert_id, f"{who} 已剪除网幕并上报")
            assert (alert.state, alert.handled_by) == ("handled", f"user:{who}")
        with pytest.raises(ValidationError, match="已由 user:ylljj 处理"):
            handle_alert(session, account(session, "yanqing"), ids[0], "再次")
        handled = [
            e
            for e in audit.entries(session, entity_type="invasive_alert")
            if e.action.endswith("handle")
        ]
        assert [e.actor for e in handled] == [
            "user:ylljj",
            "user:yanqing",
            "user:coord",
            "user:admin",
        ]


def test_alerts_point_at_the_measure_of_task_3(engine: Engine, tmp_path: Path) -> None:
    """With the plan loaded, a notification names the measure that asked for the monitoring."""
    build_world(engine)
    with db.session_scope(engine) as session:
        sync_species(session, actor="t")
        import_records(session, sheet(tmp_path / "r.csv", [
            row("q1", "松材线虫", "positive_sample", "2024-06-01", "1", at=MENTOUGOU)]), actor="t", today=TODAY)  # fmt: skip
        measures = {
            n.measure_id
            for n in session.scalars(select(Notification).where(Notification.kind == "alert"))
        }
        (measure_id,) = measures
        measure = session.get(Measure, measure_id)
        assert measure is not None and "外来入侵物种" in measure.text and "苹果蠹蛾" in measure.text
