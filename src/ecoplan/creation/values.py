"""Reported checklist values: one form entry (:func:`record_value`, with an optional evidence
file kept in the evidence store) and the import of a district's checklist from an xlsx sheet
(:func:`import_checklist`: every row checked first, all stored or none, each bad row named).

A value is a number (quantitative indicators; "45.2" or "45.2%") or yes/no (qualitative: 是 /
否, 完成 / 未完成, 开展 / 未开展 …). One row per district, indicator and year: a new report
replaces the old one, and the audit log keeps both (before / after).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.cases.importing import find_column
from ecoplan.config import today as clock
from ecoplan.creation import access
from ecoplan.creation.models import ChecklistValue
from ecoplan.creation.params import IndicatorSpec, config
from ecoplan.datafiles import xlsx_rows
from ecoplan.errors import InputFileError, PermissionDenied, ValidationError
from ecoplan.supervision import evidence

YES = frozenset({"是", "完成", "已完成", "开展", "已开展", "建立", "已建立", "实施", "已实施",
                 "达标", "符合", "yes", "y", "true", "1", "√", "✓"})  # fmt: skip
NO = frozenset({"否", "未完成", "未开展", "未建立", "未实施", "未达标", "不符合", "no", "n",
                "false", "0", "×", "✗"})  # fmt: skip
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("指标编号", "编号", "code"),
    "value": ("数值", "值", "填报值", "value"),
    "previous": ("上年值", "上年数值", "previous"),
    "source": ("来源", "数据来源", "source"),
    "as_of": ("日期", "数值日期", "as_of", "date"),
    "evidence": ("佐证说明", "佐证", "佐证材料", "evidence"),
    "district": ("区", "区名", "district"),
}
MAX_ROWS = 2000


@dataclass
class EvidenceFile:
    data: bytes
    name: str


@dataclass
class Parsed:
    number: float | None
    flag: bool | None


def parse_value(spec: IndicatorSpec, raw: Any) -> Parsed:
    """A cell or form text as the indicator's kind of value; ValueError says what is wrong."""
    if isinstance(raw, bool):
        if spec.qualitative:
            return Parsed(None, raw)
        raise ValueError("应填数值")
    if isinstance(raw, int | float) and not spec.qualitative:
        number = float(raw)
    else:
        text = str(raw if raw is not None else "").strip()
        if not text:
            raise ValueError("数值为空")
        if spec.qualitative:
            word = text.lower()
            if word in YES:
                return Parsed(None, True)
            if word in NO:
                return Parsed(None, False)
            raise ValueError(f"“{text}”应填 是 或 否(定性指标:{spec.required_text()})")
        cleaned = text.replace(",", "").removesuffix("%").removesuffix("%").strip()
        try:
            number = float(cleaned)
        except ValueError:
            raise ValueError(f"“{text}”不是数字") from None
    if not math.isfinite(number):
        raise ValueError(f"“{raw}”不是有限数")
    if spec.unit == "%" and not -100.0 <= number <= 100.0:
        raise ValueError(f"百分比 {number:g} 超出 -100~100")
    return Parsed(number, None)


def _snapshot(v: ChecklistValue) -> dict[str, Any]:
    return {"district": v.district_code, "indicator": v.indicator_code, "year": v.year,
            "number": v.value_number, "flag": v.value_bool, "previous": v.previous_number,
            "source": v.source, "as_of": v.as_of.isoformat(), "evidence": v.evidence_text,
            "file": v.evidence_file}  # fmt: skip


def _check_year(year: int, today: dt.date) -> None:
    if not 2000 <= year <= today.year + 1:
        raise ValidationError(f"年度 {year} 无效(2000–{today.year + 1})")


def _spec(code: str) -> IndicatorSpec:
    spec = config().spec(code.strip())
    if spec is None:
        raise ValidationError(f"指标编号“{code}”不存在(见 creation.toml,如 D01、L01)")
    return spec


def _write(session: Session, *, code: str, name: str, spec: IndicatorSpec, year: int,
           parsed: Parsed, previous: float | None, source: str, as_of: dt.date,
           evidence_text: str, file: dict[str, Any] | None, actor: str,
           is_demo: bool) -> ChecklistValue:  # fmt: skip
    row = session.scalar(select(ChecklistValue).where(ChecklistValue.district_code == code,
                                                      ChecklistValue.indicator_code == spec.code,
                                                      ChecklistValue.year == year))  # fmt: skip
    before = _snapshot(row) if row is not None else None
    if row is None:
        row = ChecklistValue(district_code=code, district_name=name, indicator_code=spec.code,
                             year=year)  # fmt: skip
        session.add(row)
    elif file is None and row.evidence_file and not evidence_text:
        evidence_text = row.evidence_text  # a new number without new evidence keeps the file
    row.value_number, row.value_bool, row.previous_number = parsed.number, parsed.flag, previous
    row.source, row.as_of, row.evidence_text = source, as_of, evidence_text
    if file is not None:
        row.evidence_file = file
    row.recorded_by, row.is_demo = actor, is_demo
    session.flush()
    audit.record(session, actor=actor, action="creation.value", entity_type="creation_value",
                 entity_id=row.id, before=before, after=_snapshot(row))  # fmt: skip
    return row


def _stored_file(upload: EvidenceFile) -> dict[str, Any]:
    name, mime = evidence.sniff(upload.data, upload.name)
    return {"sha256": evidence.store(upload.data), "name": name, "mime": mime,
            "size": len(upload.data)}  # fmt: skip


def record_value(
    session: Session,
    account: Account,
    *,
    district: str,
    code: str,
    value: Any,
    source: str,
    year: int | None = None,
    as_of: dt.date | None = None,
    previous: Any = None,
    evidence_text: str = "",
    file: EvidenceFile | None = None,
    actor: str | None = None,
    today: dt.date | None = None,
    is_demo: bool = False,
) -> ChecklistValue:
    """Store a district's value of one checklist indicator (audited, in the caller's
    transaction). Raises PermissionDenied for another district's account and ValidationError
    naming the field."""
    today = today or clock()
    district_code, district_name = access.resolve_district(session, district)
    access.require(access.may_write_values(session, account, district_code),
                   f"无权填报{district_name}的创建指标(区政府填报本区,督办协调员和市生态环境局可填报各区)")  # fmt: skip
    spec = _spec(code)
    year = year or today.year
    _check_year(year, today)
    what = f"指标 {spec.code}“{spec.name}”"
    try:
        parsed = parse_value(spec, value)
    except ValueError as exc:
        raise ValidationError(f"{what} 数值: {exc}") from None
    before = _previous(spec, previous, what)
    as_of = as_of or today
    if as_of > today:
        raise ValidationError(f"{what} 日期 {as_of.isoformat()} 晚于今天")
    if not source.strip():
        raise ValidationError(f"{what} 来源: 须说明数值来源(统计公报、监测报告、文件等)")
    stored = _stored_file(file) if file is not None else None
    return _write(session, code=district_code, name=district_name, spec=spec, year=year,
                  parsed=parsed, previous=before, source=source.strip(), as_of=as_of,
                  evidence_text=evidence_text.strip(), file=stored,
                  actor=actor or account.actor, is_demo=is_demo)  # fmt: skip


def _previous(spec: IndicatorSpec, raw: Any, what: str) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.qualitative:
        raise ValidationError(f"{what} 上年值: 定性指标不填上年值")
    try:
        return parse_value(spec, raw).number
    except ValueError as exc:
        raise ValidationError(f"{what} 上年值: {exc}") from None


def evidence_path(value: ChecklistValue) -> tuple[Path, dict[str, Any]]:
    """Where the value's evidence file is stored, and its record (name, MIME type)."""
    from ecoplan.errors import NotFoundError

    if not value.evidence_file:
        raise NotFoundError("该指标值没有佐证文件")
    return evidence.path_of(value.evidence_file["sha256"]), value.evidence_file


# --------------------------------------------------------------------------- xlsx import


@dataclass
class ImportResult:
    file: str
    values: list[ChecklistValue] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date_cell(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"日期“{value}”格式应为 YYYY-MM-DD") from None


def read_sheet(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(row number, cells by our field name) of the first sheet's non-empty rows."""
    if path.suffix.lower() != ".xlsx":
        raise InputFileError(path, "只接受 XLSX 文件")
    out: list[tuple[int, dict[str, Any]]] = []
    with xlsx_rows(path, _text, MAX_ROWS) as (columns, rows):
        found = {ours: find_column(columns, names) for ours, names in COLUMNS.items()}
        missing = [COLUMNS[k][0] for k in ("code", "value", "source") if found[k] is None]
        if missing:
            raise InputFileError(path, f"缺少列: {'、'.join(missing)}(现有列: "
                                 f"{'、'.join(c for c in columns if c) or '无'})")  # fmt: skip
        for n, raw in rows:
            cells = dict(zip(columns, raw, strict=False))
            out.append((n, {k: cells.get(c) if c is not None else None for k, c in found.items()}))
    if not out:
        raise InputFileError(path, "没有数据行")
    return out


def import_checklist(
    session: Session,
    path: Path,
    *,
    account: Account,
    district: str | None = None,
    year: int | None = None,
    actor: str | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Import checklist values from an xlsx sheet: columns 指标编号, 数值, 来源 (required), 日期,
    上年值, 佐证说明, and 区 (else every row is for ``district``). Every row is checked before
    anything is written; any bad row refuses the whole file with each problem named by row."""
    today = today or clock()
    year = year or today.year
    _check_year(year, today)
    rows = read_sheet(path)
    default = access.resolve_district(session, district) if district else None
    problems: list[str] = []
    ready: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, cells in rows:
        where = f"第 {n} 行"
        try:
            text = _text(cells["district"])
            code_name = access.resolve_district(session, text) if text else default
            if code_name is None:
                raise ValidationError("未填写区(文件无“区”列时须指定区)")
            if not access.may_write_values(session, account, code_name[0]):
                raise PermissionDenied(f"无权填报{code_name[1]}的创建指标")
            spec = _spec(_text(cells["code"]))
            what = f"{spec.code}“{spec.name}”"
            try:
                parsed = parse_value(spec, cells["value"])
            except ValueError as exc:
                raise ValidationError(f"{what} 数值: {exc}") from None
            previous = _previous(spec, cells["previous"], what)
            try:
                as_of = _date_cell(cells["as_of"]) or today
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
            if as_of > today:
                raise ValidationError(f"日期 {as_of.isoformat()} 晚于今天")
            source = _text(cells["source"])
            if not source:
                raise ValidationError(f"{what} 来源为空")
            key = (code_name[0], spec.code)
            if key in seen:
                raise ValidationError(f"{code_name[1]} {spec.code} 与第 {seen[key]} 行重复")
            seen[key] = n
        except (ValidationError, PermissionDenied) as exc:
            problems.append(f"{where}: {exc}")
            continue
        ready.append({"code": code_name[0], "name": code_name[1], "spec": spec,
                      "parsed": parsed, "previous": previous, "as_of": as_of,
                      "source": source, "evidence_text": _text(cells["evidence"])})  # fmt: skip
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} 行有误,未导入任何数值", problems)
    result = ImportResult(path.name)
    who = actor or account.actor
    for item in ready:
        result.values.append(_write(session, year=year, file=None, actor=who, is_demo=False,
                                    **item))  # fmt: skip
    result.districts = sorted({v.district_name for v in result.values})
    audit.record(session, actor=who, action="creation.import", entity_type="creation_import",
                 entity_id=path.name, after={"rows": len(result.values), "year": year,
                                             "districts": result.districts})  # fmt: skip
    return result
