"""The reporting ledger (一表通) round trip and the docx outputs, on SQLite and PostgreSQL.

朝阳区政府 reports on 23 measures of the sample plan; 8.4 (M020) has three targets.
"""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from ecoplan import db
from ecoplan.accounts.service import account_by_username
from ecoplan.errors import InputFileError, PermissionDenied, ValidationError
from ecoplan.plans.models import Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.reports.documents import progress_bulletin_docx, supervision_order_docx
from ecoplan.supervision import ledger, reports
from ecoplan.supervision.models import Report, SupervisionOrder
from ecoplan.supervision.periods import periods
from ecoplan.supervision.reminders import run_reminders

from .conftest import World

JUNE = 5


def _export(world: World, username: str = "chaoyang") -> bytes:
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        return ledger.export_ledger(session, account_by_username(session, username), plan,
                                    periods(session, plan)[JUNE])  # fmt: skip


def _import(world: World, data: bytes, *, submit: bool = True, dry_run: bool = False,
            username: str = "chaoyang") -> list[ledger.RowResult]:  # fmt: skip
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        return ledger.import_ledger(session, account_by_username(session, username), plan, data,
                                    "台账.xlsx", submit=submit, dry_run=dry_run)  # fmt: skip


def _edit(data: bytes, changes: dict[tuple[str, str], object]) -> bytes:
    """Set cells by (措施编号, column title)."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[ledger.SHEET]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        for (uid, title), value in changes.items():
            if row[0].value == uid:
                row[header.index(title)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _reports(world: World) -> int:
    with db.session_scope(world.engine) as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


def test_ledger_round_trip(world: World) -> None:
    data = _export(world)
    sheet = load_workbook(io.BytesIO(data))[ledger.SHEET]
    uids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "M020" in uids and "M021" not in uids  # 8.5 is 相关区政府 until designated
    header = [c.value for c in sheet[1]]
    # at most three targets per measure (8.3 and 8.4) → three pairs of target columns
    assert header[7:13] == ["目标1", "目标1完成值", "目标2", "目标2完成值", "目标3", "目标3完成值"]
    filled = _edit(data, {("M020", "状态"): "推进中", ("M020", "目标1完成值"): 12.5,
                          ("M020", "进展情况"): "新增绿地 12.5 公顷",
                          ("M001", "状态"): "滞后", ("M001", "滞后原因"): "数据未到",
                          ("M001", "整改措施"): "7 月补报"})  # fmt: skip
    assert [
        r.outcome for r in _import(world, filled, dry_run=True) if r.uid in ("M001", "M020")
    ] == ["将提交"] * 2
    assert _reports(world) == 0  # a dry run saves nothing
    results = _import(world, filled)
    saved = {r.uid: r.outcome for r in results}
    assert (saved["M001"], saved["M020"], saved["M025"]) == ("已提交", "已提交", "未填写")
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        report = reports.find_report(session, measure_by_uid(session, plan, "M020"),
                                     account_by_username(session, "chaoyang").unit_id or 0,
                                     periods(session, plan)[JUNE])  # fmt: skip
        assert report is not None
        assert (report.state, report.progress, report.narrative) == (
            "submitted", {"0": 12.5}, "新增绿地 12.5 公顷")  # fmt: skip
    # the same file again: its rows say what is stored, so nothing changes and nothing fails
    assert {r.uid: r.outcome for r in _import(world, filled)}["M020"] == "未变化"
    # but a changed row from that old copy carries a stale version: refused
    stale_edit = _edit(filled, {("M020", "进展情况"): "改过的说明"})
    with pytest.raises(ValidationError) as stale:
        _import(world, stale_edit)
    assert any("重新下载" in row for row in stale.value.rows)
    # a fresh export is pre-filled with what was filed, and unchanged rows stay unchanged
    again = _export(world)
    assert {r.uid: r.outcome for r in _import(world, again)}["M020"] == "未变化"


def test_one_bad_row_rejects_the_whole_file(world: World) -> None:
    bad = _edit(_export(world), {("M020", "状态"): "推进中", ("M020", "目标1完成值"): "十二",
                                 ("M001", "状态"): "快完成了",
                                 ("M025", "状态"): "滞后"})  # fmt: skip
    with pytest.raises(ValidationError) as error:
        _import(world, bad)
    rows = error.value.rows
    assert len(rows) == 3
    assert any(r.startswith("第") and "目标1完成值" in r and "不是数字" in r for r in rows)
    assert any("状态" in r and "未启动/推进中/已完成/滞后" in r for r in rows)
    assert any("滞后原因" in r for r in rows)
    assert _reports(world) == 0


def test_ledger_refuses_other_units_rows_and_junk(world: World) -> None:
    chaoyang = _edit(_export(world), {("M020", "状态"): "推进中"})
    with pytest.raises(ValidationError) as error:
        _import(world, chaoyang, username="haidian")
    assert any("不是本单位" in r for r in error.value.rows)
    with pytest.raises(PermissionDenied):
        _export(world, "coord")
    with pytest.raises(InputFileError, match="无法作为 xlsx"):
        _import(world, b"PK\x03\x04 not really")
    assert _reports(world) == 0


def test_order_and_bulletin_documents(world: World) -> None:
    import datetime as dt

    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        run_reminders(session, plan, dt.date(2024, 7, 6), actor="test")  # every June report late
        order = session.scalars(select(SupervisionOrder).order_by(SupervisionOrder.id)).first()
        assert order is not None
        text = "\n".join(
            cell.text for table in Document(io.BytesIO(supervision_order_docx(
                account_by_username(session, "coord"), order))).tables
            for row in table.rows for cell in row.cells)  # fmt: skip
        assert order.number in Document(io.BytesIO(supervision_order_docx(
            account_by_username(session, "coord"), order))).paragraphs[1].text  # fmt: skip
        assert order.unit.name in text and order.measure.text in text and "2024-07-09" in text
        with pytest.raises(PermissionDenied):
            supervision_order_docx(
                account_by_username(session, "swj"), order
            ) if order.unit.code != "swj" else None
        bulletin = Document(io.BytesIO(progress_bulletin_docx(
            session, account_by_username(session, "coord"), plan)))  # fmt: skip
        body = "\n".join(p.text for p in bulletin.paragraphs)
        assert "实施进展通报" in body and "32 项工作措施" in body
        # tasks table has 14 rows plus its header: one per 重点任务
        assert len(bulletin.tables[0].rows) == 15
