"""Unit directory in the database: seed it from the built-in list, let users extend it.

The built-in CSV gives Beijing's bureaus, districts and 经开区; a deployment adds its own
units and aliases (``ecoplan units add | alias | load``). Group expressions stay rules
(``groups.toml``) applied over whatever units exist, so a new district unit joins
"各区政府" without editing the rule.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoplan import audit
from ecoplan.errors import ConflictError, InputFileError, NotFoundError, ValidationError
from ecoplan.units.directory import (
    UnitDirectory,
    UnitInfo,
    builtin_groups,
    builtin_units,
    normalize_name,
)
from ecoplan.units.models import Unit, UnitAlias

KINDS = ("city_bureau", "district_gov", "econ_zone", "other")
_CSV_COLUMNS = ("code", "name")


def _snapshot(unit: Unit) -> dict[str, object]:
    return {
        "code": unit.code,
        "name": unit.name,
        "full_name": unit.full_name,
        "kind": unit.kind,
        "aliases": [a.alias for a in unit.aliases],
    }


def list_units(session: Session) -> list[Unit]:
    query = select(Unit).options(selectinload(Unit.aliases)).order_by(Unit.kind, Unit.code)
    return list(session.scalars(query))


def _taken(session: Session, name: str) -> bool:
    return bool(
        session.scalar(select(Unit.id).where(Unit.name == name))
        or session.scalar(select(UnitAlias.id).where(UnitAlias.alias == name))
    )


def _insert(session: Session, info: UnitInfo, actor: str, action: str) -> Unit:
    unit = Unit(
        code=info.code,
        name=info.name,
        full_name=info.full_name or info.name,
        kind=info.kind,
        district_code=info.district_code,
        eco_conservation=info.eco_conservation,
    )
    unit.aliases = [UnitAlias(alias=a) for a in dict.fromkeys(info.aliases) if a != info.name]
    session.add(unit)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="unit",
        entity_id=unit.code,
        after=_snapshot(unit),
    )
    return unit


def sync_builtin(session: Session, *, actor: str) -> int:
    """Insert the built-in units not yet present; returns how many were added (idempotent)."""
    existing = set(session.scalars(select(Unit.code)))
    added = 0
    for info in builtin_units():
        if info.code not in existing and not _taken(session, info.name):
            _insert(session, info, actor, "unit.builtin")
            added += 1
    return added


def add_unit(
    session: Session,
    *,
    name: str,
    kind: str,
    actor: str,
    code: str | None = None,
    full_name: str | None = None,
    aliases: tuple[str, ...] = (),
) -> Unit:
    name = normalize_name(name)
    if not name:
        raise ValidationError("单位名称不能为空")
    if kind not in KINDS:
        raise ValidationError(f"单位类型“{kind}”无效,应为 {' / '.join(KINDS)}")
    for label in (name, *aliases):
        if _taken(session, normalize_name(label)):
            raise ConflictError(f"名称“{label}”已被其他单位使用")
    code = (
        code
        or f"u{(session.scalar(select(Unit.id).order_by(Unit.id.desc()).limit(1)) or 0) + 1:04d}"
    )
    if session.scalar(select(Unit.id).where(Unit.code == code)):
        raise ConflictError(f"单位编码“{code}”已存在")
    info = UnitInfo(
        code=code,
        name=name,
        full_name=normalize_name(full_name or name),
        kind=kind,
        aliases=tuple(normalize_name(a) for a in aliases),
    )
    return _insert(session, info, actor, "unit.add")


def unit_index(session: Session) -> dict[str, Unit]:
    """Units by code, name, full name and alias: for file columns that name a unit any way."""
    index: dict[str, Unit] = {}
    for unit in session.scalars(select(Unit)):
        for name in (unit.code, unit.name, unit.full_name):
            index[name] = unit
    for alias in session.scalars(select(UnitAlias)):
        index.setdefault(alias.alias, alias.unit)
    return index


def find_unit(session: Session, name: str) -> Unit:
    key = normalize_name(name)
    unit = session.scalar(select(Unit).where((Unit.name == key) | (Unit.code == key)))
    if unit is None:
        alias = session.scalar(select(UnitAlias).where(UnitAlias.alias == key))
        unit = alias.unit if alias else None
    if unit is None:
        raise NotFoundError(f"单位名录中没有“{name}”")
    return unit


def add_alias(session: Session, unit_name: str, alias: str, *, actor: str) -> Unit:
    unit = find_unit(session, unit_name)
    alias = normalize_name(alias)
    if not alias:
        raise ValidationError("别名不能为空")
    if _taken(session, alias):
        raise ConflictError(f"名称“{alias}”已被其他单位使用")
    before = _snapshot(unit)
    unit.aliases.append(UnitAlias(alias=alias))
    session.flush()
    audit.record(
        session, actor=actor, action="unit.alias", entity_type="unit", entity_id=unit.code,
        before=before, after=_snapshot(unit),
    )  # fmt: skip
    return unit


def load_units_csv(session: Session, path: Path, *, actor: str) -> int:
    """Add every unit of a CSV (columns as the built-in ``units.csv``); all or nothing."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"无法读取为UTF-8文本({type(exc).__name__})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputFileError(path, f"缺少列:{'、'.join(missing)}")
    errors: list[str] = []
    rows = list(reader)
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        name = normalize_name(row.get("name") or "")
        kind = (row.get("kind") or "other").strip()
        if not name or not (row.get("code") or "").strip():
            errors.append(f"第{number}行: 编码和名称不能为空")
        elif kind not in KINDS:
            errors.append(f"第{number}行: 单位类型“{kind}”无效")
        elif name in seen or _taken(session, name):
            errors.append(f"第{number}行: 名称“{name}”已存在")
        elif session.scalar(select(Unit.id).where(Unit.code == row["code"].strip())):
            errors.append(f"第{number}行: 编码“{row['code'].strip()}”已存在")
        seen.add(name)
    if errors:
        raise ValidationError(f"{path.name}: {len(errors)}行有错误,未导入任何单位", errors)
    from ecoplan.units.directory import load_units_csv as parse_rows

    for info in parse_rows(rows):
        _insert(session, info, actor, "unit.load")
    return len(rows)


def directory(session: Session) -> UnitDirectory:
    """The directory the importer and the store use: database units + built-in group rules."""
    units = list_units(session)
    if not units:
        return UnitDirectory.builtin()
    infos = [
        UnitInfo(
            code=u.code,
            name=u.name,
            full_name=u.full_name,
            kind=u.kind,
            district_code=u.district_code,
            eco_conservation=u.eco_conservation,
            aliases=tuple(a.alias for a in u.aliases),
        )
        for u in units
        if u.active
    ]
    return UnitDirectory(infos, builtin_groups())
