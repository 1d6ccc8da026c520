"""The indicator registry on the sample plan (SQLite and PostgreSQL): targets become indicators
once, values supersede without being overwritten, status follows the value, the target and the
supervision clock, "稳中有升" compares with last year on the same basis, and the registry feeds
the evidence of measures 8.3, 8.4, 8.5 and 14.1."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounting.feed import kinds_for
from ecoplan.config import get_settings
from ecoplan.db import session_scope
from ecoplan.errors import ValidationError
from ecoplan.indicators.feed import providers
from ecoplan.indicators.models import IndicatorValue
from ecoplan.indicators.registry import (
    get_indicator,
    record_computed,
    record_value,
    status,
    sync_from_plan,
    values,
)
from ecoplan.plans.models import Measure, Plan

from ..supervision.conftest import World, data_dir, world

__all__ = ["data_dir", "world"]
JULY = dt.date(2024, 7, 10)
NEXT_JANUARY = dt.date(2025, 1, 5)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOPLAN_TODAY", JULY.isoformat())
    get_settings.cache_clear()


def _sync(world: World) -> None:
    with session_scope(world.engine) as session:
        sync_from_plan(session, session.get_one(Plan, world.plan_id), "test")


def _record(session: Session, key: str, value: float, **kw: object) -> IndicatorValue:
    kw.setdefault("origin", "report")
    kw.setdefault("source", "测试报告")
    return record_value(session, get_indicator(session, key), value=value, actor="test",
                        today=JULY, **kw)  # type: ignore[arg-type]  # fmt: skip


def test_sync_turns_every_plan_target_into_one_indicator(world: World, clock: None) -> None:
    with session_scope(world.engine) as session:
        links = {m.doc_id: [k for k in kinds_for(m) if k.startswith("targets:")]
                 for m in session.scalars(select(Measure))}  # fmt: skip
        # the evidence of the registry lands on these four measures and no other
        assert {k: v for k, v in links.items() if v} == {
            "8.3": ["targets:forest"], "8.4": ["targets:green_space"],
            "8.5": ["targets:wetland"], "14.1": ["targets:green_view"]}  # fmt: skip
        assert all(p(session) is None for p in providers().values())  # nothing synced yet
        plan = session.get_one(Plan, world.plan_id)
        first = sync_from_plan(session, plan, "test")
        again = sync_from_plan(session, plan, "test")
        # 4.2: 1 target, 8.3: 3, 8.4: 3, 8.5: 1 → 8 numbers + 14.1's 绿视率 稳中有升 = 9
        assert len(first.added) == 9
        assert (again.added, again.updated, len(again.unchanged)) == ([], [], 9)
        forest = get_indicator(session, "2024-forest_coverage")
        assert (forest.unit, forest.target, forest.comparator, forest.pace, forest.source) == (
            "%", 44.95, ">=", "level", "plan")  # fmt: skip
        assert "乔木林地" in forest.method and forest.verified is False  # from indicators.toml
        view = get_indicator(session, "2024-green_view")
        assert (view.target, view.comparator, view.source, view.by_district) == (
            None, "稳中有升", "parameter", True)  # fmt: skip
        assert view.target_text == "全市各区建成区绿视率稳中有升"
        assert get_indicator(session, "2024-leisure_parks").name == "休闲公园、城市森林"
        # a target changed in the plan updates its indicator, audited with before and after
        wetland = session.scalar(select(Measure).where(Measure.doc_id == "8.5"))
        assert wetland is not None
        wetland.targets = [{**wetland.targets[0], "value": 82.0}]
        third = sync_from_plan(session, plan, "test")
        assert third.updated == ["2024-wetland_protection"]
        (entry,) = [e for e in audit.entries(session, entity_type="indicator")
                    if e.action == "indicator.update"]  # fmt: skip
        assert (entry.before["target"], entry.after["target"]) == (80.0, 82.0)
        _record(session, "2024-wetland_protection", 83.0)
        wetland = providers()["targets:wetland"](session)
        assert wetland is not None and wetland.met is True
        assert wetland.link == "/targets/2024-wetland_protection"
        assert wetland.table[0] | {"source": ""} == {"indicator": "湿地保护率", "target": ">= 82%",
            "value": "83%", "status": "已达成", "source": "", "as_of": "2024-07-10"}  # fmt: skip
        forest = providers()["targets:forest"](session)
        assert forest is not None and forest.met is None and len(forest.table) == 3


def test_values_supersede_and_status_follows_the_clock(world: World) -> None:
    _sync(world)
    with session_scope(world.engine) as session:
        forest = get_indicator(session, "2024-forest_coverage")
        assert status(session, forest, today=JULY).label == "无数据"
        _record(session, "2024-forest_coverage", 44.0, as_of=dt.date(2024, 6, 30))
        # a rate is compared with the target directly: below it while the year runs is a risk
        assert status(session, forest, today=JULY).label == "有风险"
        assert status(session, forest, today=NEXT_JANUARY).label == "未达成"
        newer = _record(session, "2024-forest_coverage", 45.1, as_of=dt.date(2024, 6, 30))
        # an older measurement entered later does not supersede the newer one
        _record(session, "2024-forest_coverage", 43.0, as_of=dt.date(2024, 3, 31))
        judged = status(session, forest, today=JULY)
        assert (judged.label, judged.lineage) == ("已达成", [newer])
        assert [v.value for v in values(session, forest)] == [45.1, 44.0, 43.0]  # history kept

        plots = get_indicator(session, "2024-conservation_plots")
        # even pace on 10 July 2024 (leap year): 31+29+31+30+31+30+10 = 192 days;
        # 100 处 × 192 / 366 = 52.46 处 expected
        _record(session, "2024-conservation_plots", 53)
        judged = status(session, plots, today=JULY)
        assert (judged.label, round(judged.expected or 0, 2)) == ("按进度", 52.46)
        _record(session, "2024-conservation_plots", 52)  # a correction the same day supersedes
        assert status(session, plots, today=JULY).label == "有风险"
        assert status(session, plots, today=NEXT_JANUARY).label == "未达成"
        _record(session, "2024-conservation_plots", 100)
        assert status(session, plots, today=JULY).label == "已达成"

        # 1500 亩 = 1500 / 15 公顷 = 100 公顷, converted and said so
        green = _record(session, "2024-new_green_space", 1500, unit="亩", region="朝阳区")
        assert (green.value, green.unit, green.region_code) == (100.0, "公顷", "110105")
        assert green.note == "1500 亩 已换算为 100 公顷"

        before = session.scalar(select(func.count()).select_from(IndicatorValue))
        for key, value, kw, message in [
            ("2024-new_green_space", 5, {"unit": "处"}, "无法换算"),
            ("2024-forest_coverage", 101, {}, "超过 100"),
            ("2024-germplasm_forest", 10, {"region": "朝阳区"}, "不分区"),
            ("2024-forest_coverage", 45, {"region": "雄安新区"}, "无法识别"),
            ("2024-forest_coverage", 45, {"as_of": dt.date(2024, 7, 11)}, "晚于今天"),
            ("2024-forest_coverage", 45, {"source": " "}, "须说明数值来源"),
        ]:
            with pytest.raises(ValidationError, match=message):
                _record(session, key, value, **kw)
        assert session.scalar(select(func.count()).select_from(IndicatorValue)) == before

        # the year-end report prints the registry's current values with their source
        from ecoplan.reports.annual import registry_targets

        rows = {r.indicator: r for r in registry_targets(session, 2024, JULY) or []}
        assert (rows["森林覆盖率"].value, rows["森林覆盖率"].status) == (45.1, "已达到")
        assert "测试报告" in rows["森林覆盖率"].source and rows["森林覆盖率"].measure == "8.3"
        assert registry_targets(session, 2023, JULY) is None  # nothing registered: the plan's own


def test_steady_rise_compares_with_last_year_on_the_same_basis(world: World) -> None:
    _sync(world)
    with session_scope(world.engine) as session:
        view = get_indicator(session, "2024-green_view")
        for region, last, now in [("朝阳区", 20.0, 20.4), ("海淀区", 30.0, 29.7)]:
            _record(session, "2024-green_view", last, region=region, year=2023)
            _record(session, "2024-green_view", now, region=region)
        # 朝阳 +0.4 and 海淀 −0.3 are both within the 0.5 tolerance: 稳, which 稳中有升 accepts;
        # the city verdict over "各区" is the worst district's
        city = status(session, view, today=JULY)
        assert [(p.region_name, p.label) for p in city.parts] == [
            ("朝阳区", "已达成"),
            ("海淀区", "已达成"),
        ]
        assert city.label == "已达成" and len(city.lineage) == 4
        assert "稳,变化在 ±0.5 内" in city.parts[1].reason
        _record(session, "2024-green_view", 29.0, region="海淀区")  # −1.0: beyond tolerance
        assert status(session, view, today=JULY).label == "未达成"
        # a computed value (stored as a computation's table) has no computed value of 2023 to
        # be compared with
        record_computed(session, "green_view", 2024, {"110105": 25.0}, source="绿视率计算",
                        source_sha256="0" * 64, actor="test", today=JULY)  # fmt: skip
        chaoyang = status(session, view, region="110105", today=JULY)
        assert chaoyang.label == "无数据" and "缺少上年同口径" in chaoyang.reason
