"""Protected species recorded, indicator-species trends, district coverage and publication of
surveys to the public species page (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecoplan import audit, db
from ecoplan.accounts.models import Account
from ecoplan.errors import PermissionDenied, ValidationError
from ecoplan.monitoring.models import Survey
from ecoplan.monitoring.observations import (
    district_coverage,
    indicator_trends,
    protected_counts,
    protected_recorded,
    public_species,
    set_published,
    survey_rows,
)
from ecoplan.monitoring.surveys import import_survey
from ecoplan.monitoring.taxa import load_taxa_csv
from ecoplan.units.service import sync_builtin

TODAY = dt.date(2025, 12, 1)
HEADER = ["样线编号", "调查日期", "经度", "纬度", "物种", "数量", "记录人", "样线长度(km)"]
HAIDIAN = ("116.22", "40.05")
MIYUN = ("116.85", "40.45")


@pytest.fixture
def listed(engine: Engine, tmp_path: Path) -> Engine:
    taxa = tmp_path / "taxa.csv"
    taxa.write_text(
        "学名,中文名,国家保护级别,北京保护级别,三有,类群\n"
        "Ciconia nigra,黑鹳,国家一级,,否,鸟类\n"
        "Aix galericulata,鸳鸯,国家二级,,否,鸟类\n"
        "Parus minor,远东山雀,,,是,鸟类\n"
        "Pica serica,喜鹊,,二级,是,鸟类\n",
        encoding="utf-8",
    )
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="test")
        load_taxa_csv(session, taxa, actor="test")
    return engine


def _import(engine: Engine, path: Path, rows: list[list[str]], year: int) -> int:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *rows])
    with db.session_scope(engine) as session:
        r = import_survey(session, path, protocol="bird_transect", title=f"{year} 鸟类", year=year,
                          actor="t", unit_code="sthjj", today=TODAY)  # fmt: skip
        return r.survey.id


def _row(site: str, day: str, where: tuple[str, str], name: str, n: str, km: str) -> list[str]:
    return [site, day, *where, name, n, "王", km]


@pytest.fixture
def two_years(listed: Engine, tmp_path: Path) -> tuple[Engine, int, int]:
    first = _import(listed, tmp_path / "a.csv", [
        _row("T1", "2023-05-01", HAIDIAN, "黑鹳", "2", "4"),
        _row("T1", "2023-05-01", HAIDIAN, "远东山雀", "10", "4"),
        _row("T2", "2023-05-02", MIYUN, "鸳鸯", "6", "6"),
        _row("T2", "2023-05-02", MIYUN, "黑鹳", "5", "6"),  # same event as the row above
        _row("T3", "2023-05-03", ("121.47", "31.23"), "黑鹳", "50", "5"),  # Shanghai: excluded
    ], 2023)  # fmt: skip
    second = _import(listed, tmp_path / "b.csv", [
        _row("T1", "2024-05-01", HAIDIAN, "黑鹳", "3", "5"),
        _row("T1", "2024-05-01", HAIDIAN, "远东山雀", "8", "5"),
        _row("T2", "2024-05-02", MIYUN, "喜鹊", "4", "5"),
        _row("T2", "2024-05-02", MIYUN, "鸳鸯", "2", "5"),
    ], 2024)  # fmt: skip
    return listed, first, second


def test_protected_species_recorded(two_years: tuple[Engine, int, int]) -> None:
    engine, _, _ = two_years
    with db.session_scope(engine) as session:
        y23 = protected_recorded(session, 2023)
        y24 = protected_recorded(session, 2024)
    # 2023: 黑鹳 (I) 2 + 5 individuals in 海淀 and 密云 (the Shanghai record is flagged out),
    # 鸳鸯 (II) 6; 远东山雀 is only 三有
    assert [(p.name_cn, p.records, p.individuals) for p in y23] == [
        ("黑鹳", 2, 7.0),
        ("鸳鸯", 1, 6.0),
    ]
    assert sorted(y23[0].districts) == ["密云区", "海淀区"]
    assert protected_counts(y23) == {"国家一级": 1, "国家二级": 1, "北京市重点": 0}
    # 2024: 黑鹳, 鸳鸯 and 喜鹊 (Beijing level II only)
    assert protected_counts(y24) == {"国家一级": 1, "国家二级": 1, "北京市重点": 1}


def test_indicator_trends(two_years: tuple[Engine, int, int]) -> None:
    engine, _, _ = two_years
    with db.session_scope(engine) as session:
        trends = {t.species.name_cn: t for t in indicator_trends(session)}
    stork = trends["黑鹳"]
    # effort per year = sum over events (transect, date) of their km:
    #   2023: T1 4 + T2 6 + T3 5 = 15 km (the Shanghai event still took effort);
    #   2024: T1 5 + T2 5 = 10 km
    # 黑鹳 individuals: 2023 2 + 5 = 7 (Shanghai's 50 flagged out) → 7/15 = 0.4667 per km;
    #                   2024 3 → 3/10 = 0.3 per km; change (0.3 − 0.4667)/0.4667 = −35.7 % → 下降
    assert [(y.year, y.individuals, y.effort) for y in stork.years] == [
        (2023, 7.0, 15.0),
        (2024, 3.0, 10.0),
    ]
    assert stork.years[0].rate == pytest.approx(7 / 15)
    assert stork.change == pytest.approx((0.3 - 7 / 15) / (7 / 15))
    assert stork.verdict == "下降"
    # 鸳鸯: 6/15 = 0.4 → 2/10 = 0.2, −50 % → 下降; sites: T2 in both years
    assert trends["鸳鸯"].verdict == "下降" and trends["鸳鸯"].years[1].sites == 1
    # species of the default indicator list not in this test's species list
    assert trends["大天鹅"].verdict == "未列入名录" and trends["大天鹅"].years == []


def test_indicator_rate_keeps_one_effort_unit(
    two_years: tuple[Engine, int, int], tmp_path: Path
) -> None:
    """A point count (effort in minutes) in 2024 with 20 黑鹳 over 30 min must not be added to
    the transect kilometres: before the fix the year's effort became the larger total (30 min)
    and the individuals all 23, a rate of 23/30 = 0.77 per "min" against 0.47 per km."""
    engine, _, _ = two_years
    path = tmp_path / "points.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["样点编号", "调查日期", "经度", "纬度", "物种", "数量", "记录人",
                                  "观测时长(min)"], ["P1", "2024-05-03", *MIYUN, "黑鹳", "20", "王", "30"]])  # fmt: skip
    with db.session_scope(engine) as session:
        import_survey(session, path, protocol="bird_point", title="2024 样点", year=2024,
                      actor="t", unit_code="sthjj", today=TODAY)  # fmt: skip
        stork = next(t for t in indicator_trends(session) if t.species.name_cn == "黑鹳")
    # transect events (T1, T2, T3 in 2023; T1, T2 in 2024) outnumber the one point count, so
    # km is the unit and the rates stay 7/15 and 3/10 as in test_indicator_trends
    assert [(y.year, y.individuals, y.effort, y.effort_unit) for y in stork.years] == [
        (2023, 7.0, 15.0, "km"),
        (2024, 3.0, 10.0, "km"),
    ]
    assert stork.verdict == "下降"


def test_district_coverage_and_rows(two_years: tuple[Engine, int, int]) -> None:
    engine, first, _ = two_years
    with db.session_scope(engine) as session:
        assert district_coverage(session, 2024) == {
            "密云区": ["bird_transect"],
            "海淀区": ["bird_transect"],
        }
        rows = {r.survey.id: r for r in survey_rows(session)}
    # 2023: events T1, T2, T3; 5 records of which 1 flagged; 3 distinct species
    assert (rows[first].events, rows[first].records, rows[first].flagged, rows[first].species) == (
        3,
        5,
        1,
        3,
    )


def _account(role: str) -> Account:
    return Account(username=role, display_name=role, password_hash="x", role=role)


def test_publication_and_public_page(two_years: tuple[Engine, int, int]) -> None:
    engine, first, second = two_years
    with db.session_scope(engine) as session:
        with pytest.raises(PermissionDenied):
            set_published(session, _account("unit"), first, True)
        assert public_species(session) == []  # nothing published yet
        set_published(session, _account("coordinator"), second, True)
    with db.session_scope(engine) as session:
        with pytest.raises(ValidationError, match="已经发布"):
            set_published(session, _account("coordinator"), second, True)
        species = {s.name_cn: s for s in public_species(session)}
        entries = audit.entries(session, entity_type="survey", entity_id=str(second))
        published = session.scalar(select(Survey).where(Survey.id == second))
        assert published is not None and published.published_by == "user:coordinator"
    # only the 2024 survey is public; protected species come without districts, others with
    assert sorted(species) == ["喜鹊", "远东山雀", "鸳鸯", "黑鹳"]
    assert species["远东山雀"].protection == "三有" and species["远东山雀"].districts == ["海淀区"]
    assert species["黑鹳"].protection == "国家一级" and species["黑鹳"].districts == []
    assert species["喜鹊"].protection == "北京市重点" and species["喜鹊"].districts == []
    assert species["鸳鸯"].years == [2024]
    assert [e.action for e in entries] == ["survey.import", "survey.publish"]


def test_measure_evidence(two_years: tuple[Engine, int, int]) -> None:
    from ecoplan.monitoring.feed import providers

    engine, _, _ = two_years
    with db.session_scope(engine) as session:
        surveys = providers()["surveys"](session)
        baseline = providers()["baseline"](session)
    assert surveys is not None and baseline is not None
    # the latest year with surveys is 2024: one bird survey, events T1 and T2, 4 records of
    # 4 species (黑鹳, 远东山雀, 喜鹊, 鸳鸯); no fish or fungi survey, so 5.1 is not yet met
    birds = surveys.table[0]
    assert (birds["surveys"], birds["events"], birds["records"], birds["species"]) == (1, 2, 4, 4)
    assert [g["done"] for g in surveys.table[1:]] == ["未见数据", "未见数据"]
    assert surveys.met is False
    assert "国家一级保护物种 1 种" in surveys.lines[1] and "黑鹳下降" in surveys.lines[2]
    assert baseline.lines == ["2024 年 2 个区有按全市统一调查规程提交并汇入全市数据集的调查数据"]


def test_flagged_records_stay_out_of_the_indices(two_years: tuple[Engine, int, int]) -> None:
    """The flag test runs in SQL on the stored JSON's text (SQLite JSON, PostgreSQL JSONB)."""
    from ecoplan.monitoring.summaries import diversity_table, records

    engine, _, _ = two_years
    with db.session_scope(engine) as session:
        frame = records(session, 2023)
        table = diversity_table(session, year=2023, by="district")
    # 2023: 黑鹳 2 + 远东山雀 10 (海淀), 鸳鸯 6 + 黑鹳 5 (密云); Shanghai's 50 黑鹳 carry
    # COORDINATE_OUTSIDE_BEIJING and stay out: 4 records, 23 individuals
    assert len(frame) == 4 and frame["count"].sum() == 23
    assert dict(zip(table["district"], table["N"], strict=True)) == {"密云区": 11, "海淀区": 12}
