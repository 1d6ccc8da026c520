"""Backup and restore: one portable zip with every table and every evidence file.

Format (``FORMAT_VERSION`` 1):
- ``manifest.json``: format, Alembic revision, creation time, row count per table, and the
  SHA-256 of every other member;
- ``tables/<table>.jsonl``: one JSON object per row, in primary-key order; timestamps as ISO
  8601 with time zone, dates as ISO dates, JSON columns as JSON;
- ``evidence/<sha256>``: each file of the content-addressed store once: report evidence, and
  the clue photos, risk reports, project photos, 绿视率 per-image tables and checklist evidence
  that other tables name by their digest in their own columns.

The rows are read in one transaction (REPEATABLE READ on PostgreSQL), so the archive is a
consistent snapshot. A restore goes only into an empty database, checks every checksum before
writing anything, inserts all tables in one transaction in dependency order, and works across
SQLite and PostgreSQL in both directions. pg_dump and SQLite's ``.backup`` were rejected: each
serves one database only and neither carries the evidence files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Date, DateTime, Engine, Integer, MetaData, Table, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ecoplan import db
from ecoplan.errors import ConflictError, InputFileError
from ecoplan.supervision import evidence

FORMAT_VERSION = 1
MAX_EXPANDED = 2 * 1024**3
MAX_RATIO = 100
CHUNK = 2000


@dataclass
class Manifest:
    revision: str | None
    created_at: str
    rows: dict[str, int]
    evidence_files: int


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # timestamps are UTC throughout EcoPlan; SQLite hands them back without a zone
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column in table.columns:
        value = row.get(column.name)
        kind = getattr(column.type, "impl", column.type)  # UTCDateTime decorates DateTime
        if value is not None:
            if isinstance(kind, DateTime):
                value = dt.datetime.fromisoformat(value)
            elif isinstance(kind, Date):
                value = dt.date.fromisoformat(value)
        out[column.name] = value
    return out


def _tables(conn: Connection) -> list[Table]:
    """The tables as they are in this database (reflected, so an archive made at an older
    schema revision is read and written with that revision's columns), parents first."""
    metadata = MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def backup(engine: Engine, data_dir: Path, out: Path) -> Manifest:
    """Write the archive ``out`` (replaced atomically) and return its manifest."""
    tmp = out.with_suffix(out.suffix + ".part")
    try:
        manifest = _write(engine, data_dir, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written archive is left behind
        raise
    tmp.replace(out)
    return manifest


def _write(engine: Engine, data_dir: Path, tmp: Path) -> Manifest:
    checksums: dict[str, str] = {}
    rows: dict[str, int] = {}
    shas: set[str] = set()
    with engine.connect() as conn, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        # one snapshot for all tables: REPEATABLE READ on PostgreSQL; on SQLite an explicit
        # BEGIN (the driver would otherwise read each table outside any transaction)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        else:
            conn.exec_driver_sql("BEGIN")
        revision = _revision(conn)
        for table in _tables(conn):
            buffer = io.StringIO()
            count = 0
            order = list(table.primary_key.columns)
            for row in conn.execute(select(table).order_by(*order)).mappings():
                buffer.write(
                    json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False)
                )
                buffer.write("\n")
                count += 1
                if table.name == "evidence":
                    shas.add(row["sha256"])
            data = buffer.getvalue().encode("utf-8")
            name = f"tables/{table.name}.jsonl"
            archive.writestr(name, data)
            checksums[name] = hashlib.sha256(data).hexdigest()
            rows[table.name] = count
        # every stored file, not only the evidence table's: clue photos, project photos, risk
        # reports and others are named by digest in their own tables' columns
        shas |= _stored_digests(data_dir)
        for sha in sorted(shas):
            path = evidence.path_in(data_dir, sha)
            if not path.exists():
                raise InputFileError(path, "佐证材料文件缺失,无法备份")
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != sha:
                raise InputFileError(path, "佐证材料文件内容与摘要不符(文件已被改动),无法备份")
            archive.writestr(f"evidence/{sha}", data)
            checksums[f"evidence/{sha}"] = hashlib.sha256(data).hexdigest()
        created = dt.datetime.now(dt.UTC).isoformat()
        manifest = {"format": FORMAT_VERSION, "revision": revision, "created_at": created,
                    "rows": rows, "checksums": checksums}  # fmt: skip
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return Manifest(revision, created, rows, len(shas))


def _stored_digests(data_dir: Path) -> set[str]:
    """Digests of the files in the content-addressed store (``evidence/<sha[:2]>/<sha>``);
    anything else there (a temporary file of an interrupted write) is not a stored file."""
    root = data_dir / "evidence"
    if not root.is_dir():
        return set()
    hexdigits = set("0123456789abcdef")
    return {p.name for p in root.glob("??/*")
            if len(p.name) == 64 and set(p.name) <= hexdigits and p.parent.name == p.name[:2]}  # fmt: skip


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no alembic table: an empty database
        conn.rollback()
        return None


def _open(archive_path: Path) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(archive_path, "不是有效的备份文件(无法作为 zip 读取)") from exc
    infos = archive.infolist()
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in info.filename:
            raise InputFileError(archive_path, f"备份中含非法路径 {info.filename}")
    expanded = sum(i.file_size for i in infos)
    if expanded > MAX_EXPANDED or expanded > MAX_RATIO * max(archive_path.stat().st_size, 1):
        raise InputFileError(archive_path, "备份解压后体积异常(疑似压缩炸弹)")
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise InputFileError(archive_path, "备份缺少或损坏 manifest.json") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise InputFileError(archive_path, f"不支持的备份格式 {manifest.get('format')}")
    names = set(archive.namelist()) - {"manifest.json"}
    if not isinstance(manifest.get("checksums"), dict) or names != set(manifest["checksums"]):
        raise InputFileError(archive_path, "备份内容与清单不一致")
    if not isinstance(manifest.get("checksums"), dict) or not isinstance(
        manifest.get("rows"), dict
    ):
        raise InputFileError(archive_path, "备份清单结构不对")
    for name, expected in manifest["checksums"].items():
        if hashlib.sha256(archive.read(name)).hexdigest() != expected:
            raise InputFileError(archive_path, f"{name} 校验失败,备份已损坏或被改动")
    return archive, manifest


def _refuse_if_not_empty(conn: Connection) -> None:
    for table in _tables(conn):
        if conn.execute(select(func.count()).select_from(table)).scalar():
            raise ConflictError(f"目标数据库的 {table.name} 表已有数据:只能恢复到空数据库")


def restore(engine: Engine, data_dir: Path, archive_path: Path) -> Manifest:
    """Restore ``archive_path`` into an empty database and ``data_dir``.

    Order: verify the whole archive, check the database is empty, write the evidence files
    (content-addressed, so a file written for a restore that then fails harms nothing), then
    insert every table in one transaction.
    """
    archive, manifest = _open(archive_path)
    with archive:
        revision = manifest["revision"]
        with engine.connect() as conn:
            _refuse_if_not_empty(conn)  # before any migration touches the target
            if _revision(conn) not in (None, revision):
                raise ConflictError("目标数据库的结构版本与备份不同:只能恢复到空数据库")
        if revision:
            try:
                db.upgrade(engine, revision)
            except Exception as exc:  # an unknown revision: made by a newer EcoPlan
                raise InputFileError(archive_path, f"备份的数据库版本 {revision} 无法识别") from exc
        shas = [n.split("/", 1)[1] for n in archive.namelist() if n.startswith("evidence/")]
        for sha in shas:
            data = archive.read(f"evidence/{sha}")
            if hashlib.sha256(data).hexdigest() != sha:
                raise InputFileError(archive_path, f"evidence/{sha} 的内容与文件名摘要不符")
            path = evidence.path_in(data_dir, sha)  # raises unless the name is a SHA-256 digest
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        with engine.begin() as conn:
            _refuse_if_not_empty(conn)
            for table in _tables(conn):
                try:
                    lines = archive.read(f"tables/{table.name}.jsonl").decode("utf-8").splitlines()
                    batch = [_decode(table, json.loads(line)) for line in lines if line]
                    for start in range(0, len(batch), CHUNK):
                        conn.execute(table.insert(), batch[start : start + CHUNK])
                except (KeyError, ValueError, TypeError, AttributeError, DBAPIError) as exc:
                    raise InputFileError(
                        archive_path, f"{table.name} 表的数据无法恢复:{type(exc).__name__}"
                    ) from exc
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn)
    db.upgrade(engine)
    return Manifest(revision, manifest["created_at"], manifest["rows"], len(shas))


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids were inserted: move each id sequence past the largest one."""
    for table in _tables(conn):
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) and pk[0].autoincrement is not False:
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": pk[0].name}).scalar()  # fmt: skip
            if sequence:
                conn.execute(text(f"SELECT setval('{sequence}', COALESCE((SELECT MAX({pk[0].name}) "
                                  f"FROM {table.name}), 0) + 1, false)"))  # fmt: skip
