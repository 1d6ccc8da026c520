"""Export a stored plan (xlsx / csv / json) and read back a person's edits to the xlsx.

The xlsx carries the stable measure IDs (措施编号) and a hidden ``_ecoplan`` sheet naming the
plan and revision, so an edited copy can be matched to what is stored. Reading it back
applies only the fields that differ, all or nothing, and reports per row.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ecoplan.db import utcnow
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.plans.document import ROLES
from ecoplan.plans.models import Plan
from ecoplan.plans.store import (
    active_measures,
    current_revision,
    mark_reviewed,
    plan_by_ref,
    revise,
)
from ecoplan.plans.unitcells import split_unit_cell
from ecoplan.units.directory import UnitDirectory

COLUMNS = [
    "措施编号",
    "序号",
    "重点任务",
    "工作措施",
    "完成时限",
    "牵头部门",
    "主责单位",
    "协办单位",
    "可信度",
    "提示",
    "已核对",
]
ROLE_COLUMNS = {"lead": "牵头部门", "responsible": "主责单位", "assisting": "协办单位"}
META_SHEET = "_ecoplan"
YES = ("是", "√", "✓", "y", "yes", "1", "true")


def _rows(session: Session, plan: Plan) -> list[list[Any]]:
    rows = []
    for m in active_measures(session, plan):
        roles = {
            role: list(dict.fromkeys(a.written for a in m.assignments if a.role == role))
            for role in ROLES
        }
        rows.append([
            m.uid, m.doc_id, m.task_title or "", m.text, m.deadline_raw or "",
            "、".join(roles["lead"]), "、".join(roles["responsible"]), "、".join(roles["assisting"]),
            round(m.confidence, 2), ";".join(m.warnings), "是" if m.reviewed else "",
        ])  # fmt: skip
    return rows


def export_plan(session: Session, plan: Plan, fmt: str, path: Path) -> int:
    """Write the plan's current measures to ``path``; returns the number of measures."""
    rows = _rows(session, plan)
    if fmt == "json":
        document = current_revision(plan).document
        path.write_text(json.dumps(document, ensure_ascii=False, indent=2), "utf-8")
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), "utf-8-sig")
    elif fmt == "xlsx":
        _write_xlsx(plan, rows, path)
    else:
        raise ValidationError(f"不支持的导出格式“{fmt}”,可选 xlsx / csv / json")
    return len(rows)


def _write_xlsx(plan: Plan, rows: list[list[Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "工作措施"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJK", (10, 7, 16, 60, 12, 24, 30, 30, 8, 40, 8), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    meta = workbook.create_sheet(META_SHEET)
    revision = current_revision(plan)
    for key, value in (("plan_key", plan.key), ("plan_title", plan.title), ("revision", revision.number),
                       ("exported_at", utcnow().isoformat())):  # fmt: skip
        meta.append([key, value])
    meta.sheet_state = "hidden"
    workbook.save(path)


@dataclass
class RowReport:
    row: int
    uid: str
    status: str  # 未变 | 已更新 | 错误
    message: str = ""


def apply_edited_xlsx(
    session: Session, path: Path, *, actor: str, directory: UnitDirectory
) -> tuple[Plan, list[RowReport]]:
    """Apply the edits in an exported xlsx; any bad row → ValidationError, nothing written."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:
        raise InputFileError(path, f"Excel文件无法打开({type(exc).__name__})") from None
    if META_SHEET not in workbook.sheetnames:
        raise InputFileError(path, "不是EcoPlan导出的计划表(缺少隐藏的_ecoplan工作表)")
    meta = {str(r[0]): r[1] for r in workbook[META_SHEET].iter_rows(values_only=True) if r and r[0]}
    plan = plan_by_ref(session, str(meta.get("plan_key") or ""))
    sheet = workbook.worksheets[0]
    header = [
        str(c or "").strip() for c in next(sheet.iter_rows(min_row=1, max_row=1, values_only=True))
    ]
    if "措施编号" not in header:
        raise InputFileError(path, "缺少“措施编号”列")
    index = {name: header.index(name) for name in COLUMNS if name in header}
    stored = {m.uid: m for m in active_measures(session, plan)}
    reports: list[RowReport] = []
    errors: list[str] = []
    edits: dict[str, dict[str, Any]] = {}
    reviewed: list[str] = []
    for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        values_by_name = {
            name: "" if values[i] is None else str(values[i]).strip() for name, i in index.items()
        }
        cell = values_by_name.get
        uid = cell("措施编号", "")
        if not uid:
            continue
        row = stored.get(uid)
        if row is None:
            errors.append(f"第{number}行: 计划中没有措施编号“{uid}”")
            continue
        fields: dict[str, Any] = {}
        if "工作措施" in index and cell("工作措施", "") and cell("工作措施", "") != row.text:
            fields["text"] = cell("工作措施", "")
        if "完成时限" in index and cell("完成时限", "") != (row.deadline_raw or ""):
            fields["deadline"] = cell("完成时限", "")
        for role, column in ROLE_COLUMNS.items():
            if column not in index:
                continue
            names = split_unit_cell(cell(column, ""), directory).names
            current = list(dict.fromkeys(a.written for a in row.assignments if a.role == role))
            if names != current:
                unknown = [n for n in names if not directory.is_known(n)]
                if unknown:
                    errors.append(f"第{number}行: {column}中的“{'、'.join(unknown)}”不在单位名录中")
                fields[role] = names
        if fields:
            edits[uid] = fields
            reports.append(
                RowReport(number, uid, "已更新", "、".join(_FIELD_LABELS[f] for f in fields))
            )
        elif cell("已核对", "").lower() in YES and not row.reviewed:
            reviewed.append(uid)
            reports.append(RowReport(number, uid, "已更新", "已核对"))
        else:
            reports.append(RowReport(number, uid, "未变"))
    if errors:
        raise ValidationError(f"{path.name}: {len(errors)}行有错误,未做任何修改", errors)
    if edits:
        revise(
            session,
            plan,
            edits,
            actor=actor,
            kind="xlsx",
            directory=directory,
            note=f"由{path.name}导入的修改",
        )
    mark_reviewed(session, plan, reviewed, actor=actor)
    return plan, reports


_FIELD_LABELS = {"text": "工作措施", "deadline": "完成时限", **ROLE_COLUMNS}
