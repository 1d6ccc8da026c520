"""The ``ecoplan`` command: parse, import, demo, units; bad input leaves the database untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from ecoplan import audit, db
from ecoplan.cli import app
from ecoplan.config import get_settings
from ecoplan.demo import sample_plan_path
from ecoplan.plans.document import validate_document

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ECOPLAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("ECOPLAN_TODAY", "2024-07-10")  # what `demo` would set; restored after
    monkeypatch.delenv("ECOPLAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


def _audit_rows(data_dir: Path) -> int:
    path = data_dir / "ecoplan.db"
    if not path.exists():
        return 0
    engine = db.make_engine(f"sqlite:///{path}")
    if "audit_log" not in inspect(engine).get_table_names():
        return 0
    with db.session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(audit.AuditEntry)) or 0)


def test_parse_prints_schema_valid_json() -> None:
    result = runner.invoke(app, ["plan", "parse", str(sample_plan_path()), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert validate_document(data) == []
    assert sum(len(t["measures"]) for s in data["sections"] for t in s["tasks"]) == 32


def test_demo_loads_once(data_dir: Path) -> None:
    first = runner.invoke(app, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "已创建计划" in first.stdout and "示例计划摘要" in first.stdout
    rows = _audit_rows(data_dir)
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert second.exit_code == 0 and "没有变化" in second.stdout
    assert _audit_rows(data_dir) == rows
    edit = runner.invoke(
        app, ["plan", "edit", "M004", "--lead", "市农业农村局", "--responsible", "市园林绿化局"]
    )
    assert edit.exit_code == 0 and "第2版" in edit.stdout
    diff = runner.invoke(app, ["plan", "diff"])
    assert "M004" in diff.stdout and "lead" in diff.stdout
    review = runner.invoke(app, ["plan", "review"])
    assert review.exit_code == 0 and "待核对" in review.stdout


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.pdf", b"", "文件为空"),
        ("noise.txt", bytes(range(256)) * 10, "二进制"),
        ("cut.xlsx", b"PK\x03\x04broken", "损坏"),
        ("prose.txt", "这是一段没有表格也没有编号的文字。".encode(), "没有找到计划表格"),
    ],
)
def test_bad_input_exits_nonzero_and_writes_nothing(
    data_dir: Path, tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    runner.invoke(app, ["units", "list"])  # a database with its schema and units
    before = _audit_rows(data_dir)
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["plan", "import", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and problem in lines[0]
    assert _audit_rows(data_dir) == before


def test_units_add_alias_load(data_dir: Path, tmp_path: Path) -> None:
    assert (
        runner.invoke(app, ["units", "add", "市民政局", "--alias", "北京市民政局"]).exit_code == 0
    )
    assert "市民政局" in runner.invoke(app, ["units", "resolve", "北京市民政局"]).stdout
    assert runner.invoke(app, ["units", "alias", "市民政局", "民政局"]).exit_code == 0
    again = runner.invoke(app, ["units", "add", "民政局"])
    assert again.exit_code == 2 and "已被其他单位使用" in again.stderr
    csv_file = tmp_path / "units.csv"
    csv_file.write_text("code,name,kind\nmzj2,市体育局,city_bureau\nbad,,city_bureau\n", "utf-8")
    before = _audit_rows(data_dir)
    result = runner.invoke(app, ["units", "load", str(csv_file)])
    assert result.exit_code == 2 and "第3行" in result.stderr
    assert _audit_rows(data_dir) == before  # all or nothing: 市体育局 was not added either
    csv_file.write_text("code,name,kind\nmzj2,市体育局,city_bureau\n", "utf-8")
    assert runner.invoke(app, ["units", "load", str(csv_file)]).exit_code == 0
    group = runner.invoke(app, ["units", "resolve", "各区政府(含北京经济技术开发区管委会)"])
    assert group.stdout.count("\n") == 1 + 17  # heading line + 17 member units


def test_supervision_commands(data_dir: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["demo", "--no-serve"]).exit_code == 0
    listed = runner.invoke(app, ["users", "list"])
    # 3 staff accounts + one per unit in the directory (37)
    assert listed.exit_code == 0 and "coordinator" in listed.stdout and "u110105" in listed.stdout
    added = runner.invoke(app, ["users", "add", "wang", "--role", "unit", "--unit", "110105"])
    assert added.exit_code == 0 and "初始密码" in added.stdout
    refused = runner.invoke(app, ["users", "add", "li", "--role", "unit"])
    assert refused.exit_code == 2 and "必须指定所属单位" in refused.output
    assert "新密码" in runner.invoke(app, ["users", "passwd", "wang"]).stdout
    # the demo already ran the job for 10 July: running it again sends nothing new
    again = runner.invoke(app, ["remind", "run", "--today", "2024-07-10"])
    assert again.exit_code == 0 and "新通知 0 条,新督办单 0 张" in again.stdout
    archive = tmp_path / "backup.zip"
    backed = runner.invoke(app, ["db", "backup", str(archive)])
    assert backed.exit_code == 0 and archive.exists() and "佐证文件" in backed.stdout
    # restoring over the live database is refused: it is not empty
    over = runner.invoke(app, ["db", "restore", str(archive)])
    assert over.exit_code == 2 and "只能恢复到空数据库" in over.output


def test_cycle_command(data_dir: Path) -> None:
    assert runner.invoke(app, ["plan", "import", str(sample_plan_path())]).exit_code == 0
    quarterly = runner.invoke(app, ["cycle", "--frequency", "quarterly", "--due-days", "10"])
    # Q1 2024 ends 31 March; due 10 days later
    assert (
        quarterly.exit_code == 0
        and "4 个填报周期" in quarterly.stdout
        and "2024-04-10" in quarterly.stdout
    )
    monthly = runner.invoke(app, ["cycle"])
    assert (
        monthly.exit_code == 0
        and "12 个填报周期" in monthly.stdout
        and "2024-02-05" in monthly.stdout
    )
    bad = runner.invoke(app, ["cycle", "--frequency", "weekly"])
    assert bad.exit_code == 2 and "填报周期只能是" in bad.output
