"""Stored 绿视率 surveys (SQLite and PostgreSQL): two years of a tiny synthetic survey are stored
with their points, their district and city GVI land in the registry as the indicator
"建成区绿视率" (2024 plan) of 2023 and 2024, "稳中有升" is judged by the registry and on the
paired points; a manifest stored twice or given the wrong year is refused with nothing written.

Every image of a point has the same share of LEAF rows out of 40, so the point GVI is that share:

    point   district  2023          2024
    D1      东城区    10 rows 25 %  12 rows 30 %
    D2      东城区    20 rows 50 %  20 rows 50 %
    H1      海淀区     8 rows 20 %   8 rows 20 %
    H2      海淀区    16 rows 40 %  14 rows 35 % (5 images: incomplete, still counted)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from ecoplan import audit, db
from ecoplan.cli import app
from ecoplan.db import session_scope
from ecoplan.errors import ConflictError, ValidationError
from ecoplan.greenview.compare import DROP, RISE, STEADY, TOO_FEW
from ecoplan.greenview.method import load_method
from ecoplan.greenview.models import GreenViewPoint, GreenViewSurvey
from ecoplan.greenview.store import compare_years, register_year, store_survey
from ecoplan.greenview.survey import SurveyResult, run_survey
from ecoplan.indicators.models import IndicatorValue
from ecoplan.indicators.registry import get_indicator, status, sync_from_plan, values
from ecoplan.plans.models import Plan
from ecoplan.supervision import evidence
from tests.conftest import run_cli
from tests.greenview.synth import banded, png_bytes, point_rows, write_manifest

from ..supervision.conftest import World, data_dir, world

__all__ = ["data_dir", "world"]
METHOD = load_method()
JULY = dt.date(2024, 7, 10)
DONG, HAI = (116.41, 39.93), (116.30, 39.99)
Y2023 = {"D1": (DONG, 10, 6), "D2": (DONG, 20, 6), "H1": (HAI, 8, 6), "H2": (HAI, 16, 6)}
Y2024 = {"D1": (DONG, 12, 6), "D2": (DONG, 20, 6), "H1": (HAI, 8, 6), "H2": (HAI, 14, 5)}


def build(folder: Path, year: int, points: dict[str, tuple[tuple[float, float], int, int]]) -> Path:
    """A manifest with ``n`` images of ``rows`` green rows per point, taken on 15 June."""
    (folder / "img").mkdir(parents=True)
    rows = []
    for k, (pid, ((lon, lat), green, n)) in enumerate(points.items()):
        names = []
        for h in range(n):
            name = f"img/{pid}_{h}.png"
            (folder / name).write_bytes(png_bytes(banded(green)))
            names.append(name)
        rows += point_rows(pid, lon, lat + 0.002 * k, f"{year}-06-15", names)
    return write_manifest(folder / "manifest.csv", rows)


def placer(lon: np.ndarray, lat: np.ndarray) -> list[tuple[str | None, str | None]]:
    return [("110101", "东城区") if x > 116.35 else ("110108", "海淀区") for x in lon]


def survey(folder: Path, year: int, points: dict[str, tuple[tuple[float, float], int, int]]) -> SurveyResult:  # fmt: skip
    return run_survey(build(folder, year, points), METHOD, placer=placer, workers=1)


def counts(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return [int(session.scalar(select(func.count()).select_from(m)) or 0)
                for m in (GreenViewSurvey, GreenViewPoint, IndicatorValue, audit.AuditEntry)]  # fmt: skip


def test_two_years_stored_recorded_and_judged(world: World, tmp_path: Path) -> None:
    first, second = survey(tmp_path / "a", 2023, Y2023), survey(tmp_path / "b", 2024, Y2024)
    with session_scope(world.engine) as session:
        sync_from_plan(session, session.get_one(Plan, world.plan_id), "test")
        s23 = store_survey(session, first, year=2023, title="2023 年绿视率调查", actor="test", today=JULY)  # fmt: skip
        s24 = store_survey(session, second, year=2024, title="2024 年绿视率调查", actor="test", today=JULY)  # fmt: skip
        assert (s23.images, s23.points, s24.images, s24.incomplete) == (24, 4, 23, 1)
        h2 = session.scalar(select(GreenViewPoint).where(GreenViewPoint.survey_id == s24.id,
                                                         GreenViewPoint.point_id == "H2"))  # fmt: skip
        assert h2 is not None and (h2.gvi, h2.district_code, h2.complete) == (35.0, "110108", False)
        assert h2.flags == ["图片 5 张(少于 6 张)", "缺方位角 300"]
        # the per-image table is kept content-addressed: header + 23 images
        lines = (
            evidence.path_of(s24.images_sha256 or "").read_text(encoding="utf-8-sig").splitlines()
        )
        assert len(lines) == 24 and lines[0].startswith("line,point_id,year")
        assert [e.action for e in audit.entries(session, entity_type="greenview_survey")] == [
            "greenview.survey.create"] * 2  # fmt: skip

        # 2023 and 2024 both land on the 2024 plan's indicator (2023 as its "上年" value):
        # 东城 (25 + 50) / 2 = 37.5 → (30 + 50) / 2 = 40; 海淀 (20 + 40) / 2 = 30 → (20 + 35) / 2
        # = 27.5; city (25 + 50 + 20 + 40) / 4 = 33.75 → (30 + 50 + 20 + 35) / 4 = 33.75
        view = get_indicator(session, "2024-green_view")
        got = {(v.year, v.region_code): v.value for v in values(session, view)}
        assert got == {(2023, "110101"): 37.5, (2023, "110108"): 30.0, (2023, "110000"): 33.75,
                       (2024, "110101"): 40.0, (2024, "110108"): 27.5, (2024, "110000"): 33.75}  # fmt: skip
        value = values(session, view, region="110108", year=2024)[0]
        assert value.origin == "computed" and value.source_sha256 == s24.manifest_sha256
        assert (
            "2024 年绿视率调查" in value.source
            and "greenview-treepedia-pixel@2024.1" in value.source
        )
        assert value.details["n_points"] == 2 and value.details["n_incomplete"] == 1
        # the registry: 东城 +2.5 已达成, 海淀 −2.5 beyond the 0.5 tolerance 未达成; city = worst
        city = status(session, view, today=JULY)
        assert [(p.region_name, p.label) for p in city.parts] == [
            ("东城区", "已达成"),
            ("海淀区", "未达成"),
        ]
        assert city.label == "未达成"
        assert register_year(session, 2024, actor="test", today=JULY) == []  # idempotent

        # paired verdict (min 2 pairs): 东城 changes +5, 0 → +2.5 升; 海淀 0, −5 → −2.5 降;
        # city (5 + 0 + 0 − 5) / 4 = 0 稳; 稳中有升 fails on 海淀
        spec = METHOD.verdict.model_copy(update={"min_points": 2})
        result = compare_years(session, 2023, 2024, spec=spec)
        assert (result.city.label, result.city.n_pairs, result.city.mean_change) == (STEADY, 4, 0.0)
        assert [(v.district, v.label, v.mean_change) for v in result.districts] == [
            ("东城区", RISE, 2.5), ("海淀区", DROP, -2.5)]  # fmt: skip
        assert not result.steady_rise and result.reasons == ["海淀区: 降(平均变化 -2.50 个百分点)"]
        # the shipped rule wants 30 pairs: nothing is judged
        default = compare_years(session, 2023, 2024)
        assert {v.label for v in [default.city, *default.districts]} == {TOO_FEW}
        assert not default.steady_rise

    before = counts(world.engine)
    with session_scope(world.engine) as session, pytest.raises(ConflictError, match="已登记为 2023 年调查"):  # fmt: skip
        store_survey(session, first, year=2023, title="again", actor="test", today=JULY)
    with session_scope(world.engine) as session, pytest.raises(ValidationError, match="2023,与所填年度 2024 不符"):  # fmt: skip
        store_survey(session, first, year=2024, title="wrong year", actor="test", today=JULY)
    assert counts(world.engine) == before


def test_cli_store_and_verdict(cli_home: Path, tmp_path: Path) -> None:
    """``greenview store`` with Beijing's real districts and no plan (the values wait for the
    indicators), ``verdict``, and a bad manifest that stores nothing."""
    a = build(tmp_path / "a", 2023, Y2023)
    b = build(tmp_path / "b", 2024, Y2024)
    out = run_cli("greenview", "store", str(a), "--year", "2023", "--title", "甲", "--workers", "1")
    assert "东城区" in out and "37.50" in out and "尚无 2023 或 2024 年" in out
    run_cli("greenview", "store", str(b), "--year", "2024", "--title", "乙", "--workers", "1")
    out = run_cli("greenview", "verdict", "--year", "2024")
    assert "2023 → 2024" in out and "样点不足" in out and "稳中有升: 否" in out
    (tmp_path / "b/img/D1_0.png").unlink()
    bad = CliRunner().invoke(app, ["greenview", "store", str(b), "--year", "2024", "--title", "丙"])
    assert bad.exit_code != 0 and "D1_0.png 不存在" in bad.output
    engine = db.make_engine(f"sqlite:///{cli_home / 'ecoplan.db'}")
    assert counts(engine)[:2] == [2, 8]
    engine.dispose()
