"""The reporting ledger (一表通): a unit downloads its period's rows as xlsx, fills them in
offline and uploads the file back.

One row per measure the unit reports on, with the measure's quantitative targets in fixed
pairs of columns (目标 n, 目标 n 完成值). A hidden ``_ecoplan`` sheet ties each row to its
measure, unit, period and the report version that was exported, so a re-sorted or edited row is
recognised and a report changed by someone else since the export is a conflict, not a silent
overwrite. Upload is all-or-nothing: every row is checked first, errors name the row and the
column, and nothing is saved unless the whole file is valid. Saving goes through
``reports.save_report``, so permissions, validation and the audit log are the same as on the
web form.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.config import get_settings
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.plans.models import Measure, Plan
from ecoplan.supervision import access, reports
from ecoplan.supervision.models import REPORT_STATUSES, REVIEW_STATES, Period, Report
from ecoplan.units.models import Unit

SHEET = "填报台账"
META = "_ecoplan"
ROLE_LABELS = {"responsible": "主责", "lead": "牵头汇总", "assisting": "协办"}
STATUS_BY_LABEL = {label: key for key, label in REPORT_STATUSES.items()}
FIXED = ["措施编号", "序号", "工作措施", "填报单位", "填报角色", "周期", "状态"]
TAIL = ["进展情况", "滞后原因", "整改措施", "审核状态", "退回理由"]
EDITABLE_FILL = PatternFill("solid", fgColor="FFF8E1")


@dataclass
class LedgerRow:
    measure: Measure
    unit: Unit
    role: str
    report: Report | None
    previous: Report | None


@dataclass
class RowResult:
    row: int
    uid: str
    outcome: str  # 已保存 | 已提交 | 将保存 | 将提交 (dry run) | 未变化 | 未填写


def _rows(session: Session, account: Account, plan: Plan, period: Period) -> list[LedgerRow]:
    measures = session.scalars(select(Measure).where(Measure.plan_id == plan.id,
                                                     Measure.removed.is_(False))
                               .order_by(Measure.position))  # fmt: skip
    earlier = session.scalar(select(Period).where(Period.plan_id == plan.id, Period.ends < period.starts)
                             .order_by(Period.starts.desc()).limit(1))  # fmt: skip
    unit = account.unit
    rows: list[LedgerRow] = []
    if unit is None:
        return rows
    for measure in measures:
        role = access.report_role(account, measure)
        if role is None:
            continue
        current = reports.find_report(session, measure, unit.id, period)
        previous = reports.find_report(session, measure, unit.id, earlier) if earlier else None
        rows.append(LedgerRow(measure, unit, role, current, previous))
    return rows


def _target_pairs(rows: list[LedgerRow]) -> int:
    return max((len(r.measure.targets or []) for r in rows), default=0)


def export_ledger(session: Session, account: Account, plan: Plan, period: Period) -> bytes:
    """The account's unit's ledger for ``period`` as xlsx bytes (pre-filled where possible)."""
    access.require(account.role == "unit", "下载填报台账(仅单位用户)")
    rows = _rows(session, account, plan, period)
    pairs = _target_pairs(rows)
    header = FIXED + [c for n in range(1, pairs + 1) for c in (f"目标{n}", f"目标{n}完成值")] + TAIL
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    meta = book.create_sheet(META)
    meta.append(["row", "uid", "unit_code", "period", "version"])
    statuses = DataValidation(type="list", formula1='"' + ",".join(REPORT_STATUSES.values()) + '"',
                              allow_blank=True, showErrorMessage=True,
                              error="请从下拉列表选择状态")  # fmt: skip
    sheet.add_data_validation(statuses)
    for index, row in enumerate(rows, start=2):
        source = row.report or row.previous  # 一表通: start from what was reported last time
        progress = (source.progress or {}) if source else {}
        values: list[Any] = [row.measure.uid, row.measure.doc_id, row.measure.text, row.unit.name,
                             ROLE_LABELS[row.role], period.label,
                             REPORT_STATUSES[source.status] if source else ""]  # fmt: skip
        for n in range(pairs):
            targets = row.measure.targets or []
            if n < len(targets):
                t = targets[n]
                values += [
                    f"{t['indicator']}(目标 {t['value']:g} {t['unit']})",
                    progress.get(str(n)),
                ]
            else:
                values += ["", None]
        report = row.report
        values += [report.narrative if report else "", report.reasons if report else "",
                   report.remedy if report else "",
                   REVIEW_STATES[report.state] if report else "未填报",
                   (report.return_reason or "") if report and report.state == "returned" else ""]  # fmt: skip
        sheet.append(values)
        statuses.add(f"G{index}")
        for col in [7, *[len(FIXED) + 2 * n + 2 for n in range(pairs)],
                    *range(len(header) - 4, len(header) - 1)]:  # fmt: skip
            sheet.cell(index, col).fill = EDITABLE_FILL
        meta.append([index, row.measure.uid, row.unit.code, period.key,
                     report.version if report else 0])  # fmt: skip
    for column, width in zip("ABCDEFG", (10, 7, 60, 18, 10, 12, 10), strict=True):
        sheet.column_dimensions[column].width = width
    for row_cells in sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        row_cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    meta.sheet_state = "hidden"
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _number(value: Any, where: str, problems: list[str]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        problems.append(f"{where}“{value}”不是数字")
        return None
    if not math.isfinite(number) or number < 0:
        problems.append(f"{where}须为非负数")
        return None
    return number


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def import_ledger(session: Session, account: Account, plan: Plan, data: bytes, name: str, *,
                  submit: bool, dry_run: bool = False) -> list[RowResult]:  # fmt: skip
    """Check every row, then save (or, with ``dry_run``, only report) the changed ones."""
    access.require(account.role == "unit", "上传填报台账(仅单位用户)")
    limit = get_settings().evidence_max_bytes
    if len(data) > limit:
        raise InputFileError(name, f"文件超过大小上限 {limit // (1024 * 1024)} MB")
    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise InputFileError(name, "无法作为 xlsx 读取(文件损坏或格式不对)") from exc
    if SHEET not in book.sheetnames or META not in book.sheetnames:
        raise InputFileError(name, f"不是 EcoPlan 导出的填报台账(缺少“{SHEET}”或隐藏页 {META})")
    sheet, meta = book[SHEET], book[META]
    header = [_text(c.value) for c in sheet[1]]
    missing = [c for c in FIXED + TAIL if c not in header]
    if missing:
        raise InputFileError(name, f"缺少列:{'、'.join(missing)}")
    col = {title: i for i, title in enumerate(header)}
    keys = {int(r[0]): r for r in meta.iter_rows(min_row=2, values_only=True) if r[0] is not None}
    units = {u.code: u for u in session.scalars(select(Unit))}
    problems: list[str] = []
    planned: list[tuple[int, Measure, Period, reports.ReportInput, int | None, bool]] = []
    results: list[RowResult] = []
    for number, cells in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if all(v is None or _text(v) == "" for v in cells):
            continue
        uid = _text(cells[col["措施编号"]])
        key = keys.get(number)
        row_problems: list[str] = []
        where = f"第 {number} 行"
        if key is None or key[1] != uid:
            problems.append(f"{where}:与导出时的行不对应(请勿增删、移动行或修改措施编号)")
            continue
        _, _, unit_code, period_key, version = key
        measure = session.scalar(
            select(Measure).where(Measure.plan_id == plan.id, Measure.uid == uid)
        )
        period = session.scalar(
            select(Period).where(Period.plan_id == plan.id, Period.key == period_key)
        )
        unit = units.get(str(unit_code))
        if measure is None or period is None or unit is None:
            problems.append(f"{where}:措施、周期或单位在本计划中不存在")
            continue
        if unit.id != account.unit_id or access.report_role(account, measure) is None:
            problems.append(f"{where}:不是本单位可以填报的事项({unit.name})")
            continue
        status_label = _text(cells[col["状态"]])
        narrative = _text(cells[col["进展情况"]])
        if not status_label and not narrative:
            results.append(RowResult(number, uid, "未填写"))
            continue
        if status_label not in STATUS_BY_LABEL:
            row_problems.append(f"{where}“状态”须为 {'/'.join(STATUS_BY_LABEL)}")
        progress: dict[str, float] = {}
        for n, _target in enumerate(measure.targets or []):
            title = f"目标{n + 1}完成值"
            if title in col:
                value = _number(cells[col[title]], f"{where}“{title}”", row_problems)
                if value is not None:
                    progress[str(n)] = value
        data_in = reports.ReportInput(status=STATUS_BY_LABEL.get(status_label, "in_progress"),
                                      narrative=narrative, reasons=_text(cells[col["滞后原因"]]),
                                      remedy=_text(cells[col["整改措施"]]), progress=progress)  # fmt: skip
        if data_in.status == "late" and (not data_in.reasons or not data_in.remedy):
            row_problems.append(f"{where}状态为滞后时必须填写“滞后原因”和“整改措施”")
        current = reports.find_report(session, measure, unit.id, period)
        expected = int(version or 0) or None
        # A row that says what is already stored is "unchanged", even from an old copy of the
        # ledger: only rows that would change something are checked against the export version.
        same = current is not None and (
            current.status, current.narrative, current.reasons, current.remedy, current.progress or {}
        ) == (data_in.status, data_in.narrative, data_in.reasons, data_in.remedy, progress)  # fmt: skip
        if same and current is not None and (not submit or current.filed):
            if not row_problems:
                results.append(RowResult(number, uid, "未变化"))
            problems.extend(row_problems)
            continue
        if current is not None and current.state == "accepted":
            row_problems.append(f"{where}:该报告已审核通过,不能再修改")
        elif current is not None and expected is not None and current.version != expected:
            row_problems.append(f"{where}:该报告在导出后已被修改,请重新下载台账")
        elif current is not None and expected is None:
            row_problems.append(f"{where}:导出后本单位已在网页上填报,请重新下载台账")
        problems.extend(row_problems)
        if row_problems:
            continue
        planned.append((number, measure, period, data_in, expected, current is not None))
    if problems:
        raise ValidationError(f"{name}: {len(problems)} 处错误,整个文件未导入", problems)
    for number, measure, period, data_in, expected, _exists in planned:
        if not dry_run:
            reports.save_report(session, account, measure, period, data_in, submit=submit,
                                expected_version=expected)  # fmt: skip
        done = ("将" if dry_run else "已") + ("提交" if submit else "保存")
        results.append(RowResult(number, measure.uid, done))
    return sorted(results, key=lambda r: r.row)
