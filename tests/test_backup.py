"""Backup and restore: every row and every evidence file come back, across SQLite and
PostgreSQL in both directions; bad archives and non-empty targets change nothing."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy import Engine, select, text

from ecoplan import db
from ecoplan.accounts.service import account_by_username
from ecoplan.errors import ConflictError, InputFileError
from ecoplan.models import Base
from ecoplan.ops.backup import backup, restore
from ecoplan.plans.models import Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.supervision import evidence, reports
from ecoplan.supervision.periods import periods
from ecoplan.supervision.reports import ReportInput

from .conftest import pg_schema_engine
from .supervision.conftest import World, data_dir, world

__all__ = ["data_dir", "world"]


def _pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "evidence")
    page.save()
    return buffer.getvalue()


def _dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {t.name: [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
                for t in Base.metadata.sorted_tables}  # fmt: skip


@contextmanager
def _empty(kind: str, tmp_path: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / f'restored-{uuid.uuid4().hex[:6]}.db'}")
        yield engine
        engine.dispose()
        return
    with pg_schema_engine("r") as engine:
        yield engine


def _fill(world: World) -> bytes:
    pdf = _pdf()
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        report = reports.save_report(session, account_by_username(session, "chaoyang"),
                                     measure_by_uid(session, plan, "M020"), periods(session, plan)[5],
                                     ReportInput(status="in_progress", narrative="绿地 12.5 公顷",
                                                 progress={"0": 12.5}), submit=True)  # fmt: skip
        reports.attach_evidence(
            session, account_by_username(session, "chaoyang"), report, "验收.pdf", pdf
        )
    return pdf


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_backup_restore_round_trip(
    world: World, data_dir: Path, tmp_path: Path, target: str
) -> None:
    pdf = _fill(world)
    # a file of the store that no evidence row names (a clue photo, a project photo …) and a
    # leftover temporary file, which is not a stored file
    photo = b"\xff\xd8\xff\xe0 a clue photo"
    photo_sha = evidence.store(photo)
    (data_dir / "evidence" / photo_sha[:2] / f"{photo_sha}.tmp123").write_bytes(b"partial")
    archive = tmp_path / "ecoplan-backup.zip"
    manifest = backup(world.engine, data_dir, archive)
    # 8 accounts + 1 report with 1 evidence file; 32 measures of the sample plan
    assert (manifest.rows["account"], manifest.rows["report"], manifest.rows["measure"]) == (
        8,
        1,
        32,
    )
    assert manifest.evidence_files == 2  # the report's PDF and the photo; not the .tmp file
    restored_dir = tmp_path / "restored-var"
    with _empty(target, tmp_path) as engine:
        restore(engine, restored_dir, archive)
        assert _dump(engine) == _dump(world.engine)
        assert db.current_revision(engine) == db.head_revision()
        sha = _dump(engine)["evidence"][0]["sha256"]
        assert (restored_dir / "evidence" / sha[:2] / sha).read_bytes() == pdf
        assert (restored_dir / "evidence" / photo_sha[:2] / photo_sha).read_bytes() == photo
        # ids continue after the restored ones (PostgreSQL sequences were moved on)
        with db.session_scope(engine) as session:
            from ecoplan.audit import record

            entry = record(session, actor="test", action="x", entity_type="x", entity_id=1)
            session.flush()
            assert entry.id == manifest.rows["audit_log"] + 1
        # a second restore into the now non-empty database is refused
        with pytest.raises(ConflictError, match="只能恢复到空数据库"):
            restore(engine, restored_dir, archive)


def test_tampered_or_hostile_archives_are_refused(
    world: World, data_dir: Path, tmp_path: Path
) -> None:
    _fill(world)
    archive = tmp_path / "b.zip"
    backup(world.engine, data_dir, archive)
    with zipfile.ZipFile(archive) as original:
        members = {n: original.read(n) for n in original.namelist()}

    def variant(name: str, change: dict[str, bytes]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as out:
            for member, data in (members | change).items():
                out.writestr(member, data)
        return path

    report_rows = members["tables/report.jsonl"].replace("绿地 12.5".encode(), "绿地 99.5".encode())
    cases = {
        variant("tampered.zip", {"tables/report.jsonl": report_rows}): "校验失败",
        variant("traversal.zip", {"../../etc/cron.d/x": b"boom"}): "非法路径",
        tmp_path / "junk.zip": "不是有效的备份文件",
    }
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    for path, problem in cases.items():
        with _empty("sqlite", tmp_path) as engine:
            with pytest.raises(InputFileError, match=problem):
                restore(engine, tmp_path / "target", path)
            assert not (tmp_path / "target").exists()  # nothing written


def test_archive_from_an_older_schema_is_restored_and_migrated(tmp_path: Path) -> None:
    """A backup taken at revision 0001 restores at 0001, then the target is migrated to head."""
    old = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.upgrade(old, "0001")
    with old.begin() as conn:
        conn.execute(text("INSERT INTO unit (id, code, name, full_name, kind, active, created_at) "
                          "VALUES (1, 'x1', '测试局', '北京市测试局', 'city_bureau', 1, "
                          "'2024-01-02 03:04:05.000000')"))  # fmt: skip
    archive = tmp_path / "old.zip"
    manifest = backup(old, tmp_path / "old-var", archive)
    assert (manifest.revision, manifest.rows["unit"]) == ("0001", 1)
    assert "account" not in manifest.rows  # that table came with 0002
    with _empty("sqlite", tmp_path) as engine:
        restore(engine, tmp_path / "new-var", archive)
        assert db.current_revision(engine) == db.head_revision()
        with engine.connect() as conn:
            row = conn.execute(text("SELECT name, created_at FROM unit")).one()
        assert row[0] == "测试局" and str(row[1]).startswith("2024-01-02 03:04:05")
    old.dispose()
