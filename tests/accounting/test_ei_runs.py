"""Stored EI runs on SQLite and PostgreSQL: provenance, ΔEI from last year's run of the same
method only, publication, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ecoplan.accounting.ei.models import EIRun
from ecoplan.accounting.ei.pipeline import load_config, run_assessment
from ecoplan.accounting.ei.runs import get_run, publish_run
from ecoplan.audit import AuditEntry
from ecoplan.db import session_scope
from ecoplan.errors import ConflictError, InputFileError, ValidationError

from .conftest import record, write_table


def _config(folder: Path, year: int, method: str = "hj192-2015", **changes: float) -> Path:
    write_table(folder / f"ind_{year}.csv", [record("110116", "怀柔区", year, **changes)])
    path = folder / f"run_{year}_{method.replace('/', '_')[-20:]}.toml"
    path.write_text(
        f'year = {year}\ntitle = "{year}年评价"\nmethod = "{method}"\n[inputs]\nindicators = "ind_{year}.csv"\n',
        encoding="utf-8",
    )
    return path


def test_run_is_stored_with_provenance_and_compared_to_last_year(
    engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        first = run_assessment(
            session, load_config(_config(tmp_path, 2023, ndvi_mean=0.75)), actor="t"
        ).run
        assert first.results[0].ei == 70.8 and first.results[0].delta is None  # see test_ei_compute
        publish_run(session, first.id, actor="t")
    with session_scope(engine) as session:
        outcome = run_assessment(session, load_config(_config(tmp_path, 2024)), actor="t")
        row = outcome.run.results[0]
        # 69.3 this year against the stored 70.8: ΔEI −1.5 (略微变差)
        assert (row.previous_ei, row.delta, row.change_grade, row.verdict_met) == (
            70.8,
            -1.5,
            "略微变差",
            False,
        )
        assert row.inputs["ndvi_mean"] == 0.7
        assert len(outcome.run.provenance["inputs"]["indicators"]["sha256"]) == 64
        assert any("上年数据" in n for n in outcome.notes)
        run_id = outcome.run.id
    with session_scope(engine) as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "ei_run")
        ).all()
        assert actions.count("ei.run.create") == 2 and "ei.run.publish" in actions
        assert get_run(session, run_id).method_key == "hj192-2015@2015"
        with pytest.raises(ConflictError):
            publish_run(session, first.id, actor="t")


def test_methods_are_never_mixed_in_a_series(engine: Engine, tmp_path: Path) -> None:
    from importlib import resources

    text = (
        resources.files("ecoplan.accounting.ei")
        .joinpath("methods/hj192-2015.toml")
        .read_text("utf-8")
    )
    (tmp_path / "local.toml").write_text(
        text.replace('version = "2015"', 'version = "local-1"'), encoding="utf-8"
    )
    with session_scope(engine) as session:
        run_assessment(
            session, load_config(_config(tmp_path, 2023, method="local.toml")), actor="t"
        )
    with session_scope(engine) as session:
        outcome = run_assessment(session, load_config(_config(tmp_path, 2024)), actor="t")
        assert outcome.run.results[0].delta is None
        assert any("不可比" in n for n in outcome.notes)


def test_bad_config_stores_nothing(engine: Engine, tmp_path: Path) -> None:
    bad = _config(tmp_path, 2024, area_km2=0)
    with pytest.raises(ValidationError, match="area_km2 为 0"), session_scope(engine) as session:
        run_assessment(session, load_config(bad), actor="t")
    broken = tmp_path / "broken.toml"
    broken.write_text("year = 2024\n[inputs]\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="title"):
        load_config(broken)
    with pytest.raises(InputFileError):
        load_config(tmp_path / "missing.toml")
    with session_scope(engine) as session:
        assert session.scalars(select(EIRun)).all() == []


def test_cli_run_then_compute_against_the_stored_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from ecoplan.cli import app
    from ecoplan.config import get_settings

    monkeypatch.setenv("ECOPLAN_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    runner = CliRunner()
    stored = runner.invoke(app, ["ei", "run", str(_config(tmp_path, 2023, ndvi_mean=0.75))])
    assert stored.exit_code == 0, stored.output
    assert "怀柔区: EI 70.8 良" in stored.output
    computed = runner.invoke(
        app, ["ei", "compute", "--indicators", str(tmp_path / "ind_2023.csv"), "--stored-previous"]
    )
    assert computed.exit_code == 0  # no 2022 run: computed without change, no error
    write_table(tmp_path / "ind_2024.csv", [record("110116", "怀柔区", 2024)])
    computed = runner.invoke(
        app, ["ei", "compute", "--indicators", str(tmp_path / "ind_2024.csv"), "--stored-previous"]
    )
    assert computed.exit_code == 0, computed.output
    [row] = json.loads(computed.stdout)["results"]
    assert row["delta"] == -1.5  # 69.3 − 70.8 from the stored 2023 run
    listed = runner.invoke(app, ["ei", "runs"])
    assert "2023" in listed.output and "草稿" in listed.output
    get_settings.cache_clear()
