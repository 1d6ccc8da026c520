"""Word documents: a 督办单 (supervision order) and the periodic 进展通报 (progress bulletin).

Both are built with python-docx from the same domain views as the web pages, so a printed
bulletin and the dashboard show the same numbers on the same date.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.plans.models import Plan
from ecoplan.supervision import access, dashboard, queries
from ecoplan.supervision.board import LIGHTS, worst
from ecoplan.supervision.models import SupervisionOrder
from ecoplan.supervision.rollup import target_progress
from ecoplan.supervision.scoring import unit_scores

FONT = "SimSun"  # 宋体, the usual body font of government documents
LATIN_FONT = "Times New Roman"


def set_fonts(
    style: Any, east_asian: str, size: float | None = None, latin: str = LATIN_FONT
) -> None:
    """Latin and East Asian fonts of a style. Word picks the East Asian font for CJK text from
    ``w:rFonts/@w:eastAsia``; the built-in heading styles carry theme attributes
    (``w:eastAsiaTheme`` …) that win over it, so those are removed."""
    style.font.name = latin
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:eastAsia"), east_asian)
    if size is not None:
        style.font.size = Pt(size)


def new_document() -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # CJK text uses the East Asian font
    return doc


def add_title(doc: Any, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(20)


def add_table(doc: Any, header: list[str], rows: list[list[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            cell.text = "" if value is None else str(value)


def to_bytes(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def supervision_order_docx(account: Account, order: SupervisionOrder) -> bytes:
    """督办通知单 for one overdue share."""
    access.require(account.role in access.READ_ALL_ROLES or account.unit_id == order.unit_id,
                   "查看该督办单")  # fmt: skip
    measure = order.measure
    doc = new_document()
    add_title(doc, "督办通知单")
    number = doc.add_paragraph(order.number)
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_table(doc, ["项目", "内容"], [
        ["责任单位", order.unit.name],
        ["督办事项", f"{measure.plan.title} 第 {measure.doc_id} 项:{measure.text}"],
        ["完成时限", measure.deadline_raw or "—"],
        ["督办事由", order.reason],
        ["签发日期", order.issued_on.isoformat()],
        ["办理时限", order.respond_by.isoformat()],
    ])  # fmt: skip
    doc.add_paragraph()
    doc.add_paragraph(
        f"请你单位高度重视,于 {order.respond_by.isoformat()} 前在 EcoPlan 中补报进展情况并上传"
        "佐证材料;确有困难的,须说明原因和整改措施。逾期仍未办理的,将纳入考评通报。"
    )
    signature = doc.add_paragraph("市生态环境局(督办办公室)\n" + order.issued_on.isoformat())
    signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return to_bytes(doc)


def progress_bulletin_docx(session: Session, account: Account, plan: Plan) -> bytes:
    """进展通报 for the plan on the supervision date: counts, tasks, targets, overdue, ranking."""
    access.require(account.role in access.READ_ALL_ROLES, "生成进展通报")
    board = queries.board_for(session, account, plan)
    summary = dashboard.summary(board)
    doc = new_document()
    add_title(doc, f"{plan.title}实施进展通报")
    lights = summary["share_lights"]
    doc.add_paragraph(
        f"截至 {summary['today']},计划共 {summary['measures']} 项工作措施、"
        f"{summary['shares']} 项责任单位事项;已办结销号 {summary['closed_shares']} 项,"
        f"全部办结的措施 {summary['closed_measures']} 项。亮灯情况:红灯 {lights['red']} 项、"
        f"黄灯 {lights['yellow']} 项、绿灯 {lights['green']} 项。"
        f"最近到期的填报周期为{summary['due_period'] or '无'}。"
    )
    doc.add_heading("一、重点任务推进情况", level=2)
    add_table(doc, ["重点任务", "措施", "事项", "办结", "红", "黄", "绿"],
           [[t.label, len(t.measures), t.shares, t.closed, t.lights["red"], t.lights["yellow"],
             t.lights["green"]] for t in dashboard.by_task(board)])  # fmt: skip
    doc.add_heading("二、量化目标进度", level=2)
    add_table(doc, ["措施", "指标", "目标", "已报", "进度"],
           [[t.measure.doc_id, t.indicator, f"{t.target:g} {t.unit}",
             "未报" if t.value is None else f"{t.value:.2f} {t.unit}",
             "" if t.percent is None else f"{t.percent:.1f}%"]
            for t in target_progress(session, board.measures, board.due_period)])  # fmt: skip
    doc.add_heading("三、逾期事项", level=2)
    overdue = dashboard.overdue(board)
    if overdue:
        add_table(doc, ["措施", "单位", "情况"],
               [[s.measure.doc_id, s.unit.name, ";".join(s.reasons)] for s in overdue])  # fmt: skip
    else:
        doc.add_paragraph("无逾期事项。")
    doc.add_heading("四、单位考评", level=2)
    by_unit = board.by_unit()
    add_table(doc, ["单位", "事项", "按时报送", "一次通过", "督办单", "得分", "亮灯"],
           [[s.unit_name, s.shares, f"{s.on_time}/{s.due_reports}", f"{s.first_pass}/{s.reviewed}",
             s.orders, s.score, LIGHTS[worst([x.light for x in by_unit.get(s.unit_id, [])])]]
            for s in unit_scores(session, board)])  # fmt: skip
    return to_bytes(doc)
