"""The targets demo (``ecoplan.demo.targets``) on the minimum it builds on: the sample plan and
the demo accounts. The indicators show the statuses they were designed to show on the demo day,
the overlapping pair is counted once, and a second load adds nothing (SQLite, like the CLI demo).

The even pace on 2024-07-10: 1 January to 10 July is 31+29+31+30+31+30+10 = 192 of 366 days,
so 200 公顷 → 104.9, 50 处 → 26.2, 15 处 → 7.87, 5 处 → 2.62, 100 处 → 52.5."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ecoplan import audit, db
from ecoplan.accounts.service import create_account
from ecoplan.cli import import_plan_file
from ecoplan.config import get_settings
from ecoplan.demo import sample_plan_path
from ecoplan.demo.history import DEMO_TODAY
from ecoplan.demo.targets import LABEL, PREFIX, load_demo_targets
from ecoplan.indicators.models import IndicatorValue, Project
from ecoplan.indicators.project_feed import STAGES
from ecoplan.indicators.project_feed import providers as project_providers
from ecoplan.indicators.registry import for_kind, latest, status
from ecoplan.indicators.rollup import area_figures, counted
from ecoplan.plans.models import Plan
from ecoplan.units.models import Unit


@pytest.fixture
def demo_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("ECOPLAN_DATA_DIR", str(tmp_path / "var"))  # site photos land here
    monkeypatch.setenv("ECOPLAN_TODAY", DEMO_TODAY.isoformat())
    get_settings.cache_clear()
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        import_plan_file(session, sample_plan_path())
        for username, role in (("admin", "admin"), ("coordinator", "coordinator")):
            create_account(session, username=username, password="correct-horse-9", role=role,
                           actor="test")  # fmt: skip
        for code in session.scalars(select(Unit.code).order_by(Unit.code)).all():
            create_account(session, username=f"u{code}", password="correct-horse-9", role="unit",
                           unit_code=code, actor="test")  # fmt: skip
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _load(engine: Engine, workdir: Path) -> dict[str, int] | None:
    with db.session_scope(engine) as session:
        plan = session.scalars(select(Plan).order_by(Plan.id.desc())).first()
        assert plan is not None
        return load_demo_targets(session, plan, workdir)


def test_demo_targets_show_what_they_were_made_for(demo_engine: Engine, tmp_path: Path) -> None:
    counts = _load(demo_engine, tmp_path / "targets")
    assert counts == {
        "indicators": 9, "projects": 66, "stage_changes": 91, "photos": 11,
        # 2 × (16 districts + city) − 3 districts without wetland (东城, 西城, 石景山: no rate)
        "computed": 31, "reported": 2, "ledger_values": 132,
    }  # fmt: skip
    with db.session_scope(demo_engine) as session:

        def judged(kind: str) -> tuple[str, float, str]:
            indicator = for_kind(session, kind, 2024)
            assert indicator is not None
            s = status(session, indicator, today=DEMO_TODAY)
            assert s.value is not None
            return s.label, s.value.value, s.value.origin

        # ledger counts: behind the even pace (24 < 26.2) and on it (8 ≥ 7.87, 3 ≥ 2.62)
        assert judged("pocket_parks") == ("有风险", 24.0, "ledger")
        assert judged("leisure_parks") == ("按进度", 8.0, "ledger")
        assert judged("plain_forest_demo") == ("按进度", 3.0, "ledger")
        # 新增城市绿地: about 90 公顷, below the 104.9 the pace asks for
        label, green, origin = judged("new_green_space")
        assert (label, origin) == ("有风险", "ledger") and 88.0 < green < 98.0
        # the lead unit's June report (55 ≥ 52.5); no plot of the ledger is accepted yet
        assert judged("conservation_plots") == ("按进度", 55.0, "report")
        # computed on the synthetic layers
        label, forest, origin = judged("forest_coverage")
        assert (label, origin) == ("已达成", "computed") and 44.95 <= forest < 45.6
        label, wetland, origin = judged("wetland_protection")
        assert (label, origin) == ("有风险", "computed") and 70.0 < wetland < 80.0
        forest_ind = for_kind(session, "forest_coverage", 2024)
        assert forest_ind is not None
        by_district = {v.region_name: v.value for v in session.scalars(
            select(IndicatorValue).where(IndicatorValue.indicator_id == forest_ind.id))}  # fmt: skip
        assert len(by_district) == 17 and by_district["怀柔区"] > 55 > 25 > by_district["西城区"]

        # the overlapping pair in 大兴: 400 m × 300 m = 12 公顷 and 300 m × 300 m = 9 公顷 sharing
        # a 100 m × 300 m = 3 公顷 strip; union 12 + 9 − 3 = 18 公顷. The city value is the union
        # of every green project accepted in 2024, i.e. the sum of their areas minus those 3.
        pair = [p for p in session.scalars(select(Project).order_by(Project.code))
                if any("重叠" in n for n in p.notes)]  # fmt: skip
        assert [(p.district_name, round(p.area_ha or 0, 3), p.stage) for p in pair] == [
            ("大兴区", 12.0, "验收"), ("大兴区", 9.0, "验收")]  # fmt: skip
        assert area_figures(pair)["union_ha"] == pytest.approx(18.0, abs=1e-3)
        types = ["公园", "休闲公园", "城市森林", "口袋公园", "小微绿地"]
        accepted = counted(session, 2024, types, DEMO_TODAY)
        assert len(accepted) == 32  # 24 pocket parks + 8 parks and city forests
        assert green == pytest.approx(sum(p.area_ha or 0 for p in accepted) - 3.0, abs=1e-3)
        new_green = for_kind(session, "new_green_space", 2024)
        assert new_green is not None
        current = latest(session, new_green)
        assert current is not None and current.details["overlap_ha"] == pytest.approx(3.0, abs=1e-3)

        # every project lies in the district its name gives; one is declared in 亩 (÷ 15)
        projects = list(session.scalars(select(Project).where(Project.code.startswith(PREFIX))))
        assert all(p.district_name and p.district_name in p.name for p in projects)
        assert all(LABEL in p.name for p in projects)
        (mu,) = [p for p in projects if p.declared_unit == "亩"]
        assert mu.declared_area_ha == pytest.approx((mu.declared_area or 0) / 15)
        assert sum(bool(p.photos) for p in projects) == 11
        # the ledger's evidence on 8.2 (京西山水) and 8.1 (restoration projects under the plan)
        jingxi = project_providers()["projects:jingxi"](session)
        assert jingxi is not None and len(jingxi.table) == 4  # four in 门头沟 and 房山
        assert {r["district"] for r in jingxi.table} <= {"门头沟区", "房山区"}
        for r in jingxi.table:  # in progress and no news for more than 90 days: named
            quiet = (
                r["stage"] != "验收" and (DEMO_TODAY - dt.date.fromisoformat(r["last"])).days > 90
            )
            assert bool(r["note"]) == quiet
        restoration = project_providers()["projects:restoration"](session)
        assert restoration is not None
        # 4 京西山水修复 + 3 湿地恢复 + 6 生态保育小区 = 13 projects by type and stage
        assert sum(r[s] for r in restoration.table for s in STAGES) == 13
        # stages were moved by the districts' own accounts, on the days they happened
        moves = list(session.scalars(select(audit.AuditEntry).where(
            audit.AuditEntry.action == "project.stage", audit.AuditEntry.entity_id == pair[0].code)))  # fmt: skip
        assert {m.actor for m in moves} == {"user:u110115"}
        assert all(m.at.date() <= DEMO_TODAY for m in moves)
        (photo,) = session.scalars(select(audit.AuditEntry).where(
            audit.AuditEntry.action == "project.photo", audit.AuditEntry.entity_id == pair[0].code))  # fmt: skip
        assert photo.at.date() == pair[0].accepted_on  # the site photo of the acceptance day
        # both kinds of source, each saying it is synthetic
        written = list(session.scalars(select(IndicatorValue).where(
            IndicatorValue.origin.in_(["computed", "report"]))))  # fmt: skip
        assert {v.origin for v in written} == {"computed", "report"}
        assert all(v.source.startswith(LABEL) for v in written)
        values = session.scalar(select(func.count()).select_from(IndicatorValue))
        rows = session.scalar(select(func.count()).select_from(audit.AuditEntry))
    assert _load(demo_engine, tmp_path / "targets") is None
    with db.session_scope(demo_engine) as session:
        assert session.scalar(select(func.count()).select_from(IndicatorValue)) == values
        assert session.scalar(select(func.count()).select_from(audit.AuditEntry)) == rows
        assert session.scalar(select(func.count()).select_from(Project)) == 66
