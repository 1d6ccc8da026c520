"""Build PDF, DOCX and XLSX versions of a parsed plan, laid out like a published table.

Used by the round-trip tests and the import benchmark: each renders the seven-column
table (序号 / 重点任务 / 工作措施 / 完成时限 / 牵头部门 / 主责单位 / 协办单位) with section
rows spanning the table, task cells merged over their measures, unit names one per line and
"———" for an empty cell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from ecoplan.plans.document import PlanDocument

HEADER = ["序号", "重点任务", "工作措施", "完成时限", "牵头部门", "主责单位", "协办单位"]
EMPTY = "———"


@dataclass
class Row:
    kind: str  # "section" or "measure"
    cells: list[str]
    task_key: str = ""
    first_of_task: bool = False


def plan_rows(doc: PlanDocument) -> list[Row]:
    rows: list[Row] = []
    for section in doc.sections:
        if section.title:
            rows.append(Row("section", [f"{section.number}、{section.title}"] + [""] * 6))
        for task in section.tasks:
            for k, m in enumerate(task.measures):
                rows.append(
                    Row(
                        "measure",
                        [
                            task.number or "",
                            task.title or "",
                            m.text,
                            m.deadline.raw or "",
                            "\n".join(m.lead) or EMPTY,
                            "\n".join(m.responsible) or EMPTY,
                            "\n".join(m.assisting) or EMPTY,
                        ],
                        task_key=f"{section.number}/{task.number}",
                        first_of_task=k == 0,
                    )
                )
    return rows


def chunks(rows: list[Row], per_page: int) -> list[list[Row]]:
    """Rows per page; a task cut by a page break repeats its number and title (as in print)."""
    pages = [rows[i : i + per_page] for i in range(0, len(rows), per_page)]
    for page in pages:
        if page and page[0].kind == "measure":
            page[0].first_of_task = True
    return pages


def to_pdf(doc: PlanDocument, *, per_page: int = 5, repeat: int = 1) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cell", fontName="STSong-Light", fontSize=8, leading=10, wordWrap="CJK")
    title_style = ParagraphStyle("title", fontName="STSong-Light", fontSize=16, leading=20)
    widths = [10 * mm, 22 * mm, 95 * mm, 20 * mm, 35 * mm, 40 * mm, 35 * mm]
    story: list[object] = [Paragraph(doc.title, title_style)]
    rows = plan_rows(doc) * repeat
    for index, page in enumerate(chunks(rows, per_page)):
        data: list[list[object]] = [[Paragraph(h, style) for h in HEADER]]
        spans: list[tuple[object, ...]] = []
        start = 1
        for r, row in enumerate(page, start=1):
            if row.kind == "section":
                data.append([Paragraph(row.cells[0], style)] + [""] * 6)
                spans.append(("SPAN", (0, r), (6, r)))
                continue
            cells: list[object] = [Paragraph(c.replace("\n", "<br/>"), style) for c in row.cells]
            if row.first_of_task:
                start = r
            else:
                cells[0] = cells[1] = ""
                spans.append(("SPAN", (0, start), (0, r)))
                spans.append(("SPAN", (1, start), (1, r)))
            data.append(cells)
        table = Table(data, colWidths=widths)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), *spans]))
        if index:
            story.append(PageBreak())
        story.append(table)
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm
    ).build(
        story  # type: ignore[arg-type]
    )
    return buffer.getvalue()


def to_docx(doc: PlanDocument) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(doc.title)
    rows = plan_rows(doc)
    table = document.add_table(rows=1 + len(rows), cols=7)
    for c, h in enumerate(HEADER):
        table.cell(0, c).text = h
    start = 1
    for r, row in enumerate(rows, start=1):
        if row.kind == "section":
            merged = table.cell(r, 0).merge(table.cell(r, 6))
            merged.text = row.cells[0]
            continue
        for c, text in enumerate(row.cells):
            if c < 2 and not row.first_of_task:
                continue
            table.cell(r, c).text = text
        if row.first_of_task:
            start = r
        else:
            for c in (0, 1):
                top = table.cell(start, c)
                text = top.text
                top.merge(table.cell(r, c)).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def to_xlsx(doc: PlanDocument) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "行动计划"
    sheet.append([doc.title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=7)
    sheet.append(HEADER)
    start = 3
    for r, row in enumerate(plan_rows(doc), start=3):
        sheet.append(
            row.cells if row.first_of_task or row.kind == "section" else ["", ""] + row.cells[2:]
        )
        if row.kind == "section":
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=7)
        elif row.first_of_task:
            start = r
        else:
            for c in (1, 2):
                sheet.merge_cells(start_row=start, start_column=c, end_row=r, end_column=c)
                sheet.cell(start, c)  # keep the value in the top-left cell
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_text(doc: PlanDocument, *, repeat: int = 1, width: int = 22) -> str:
    """A text layer like the seed's: task cells broken into short lines, units one per line.

    Repeats renumber the tasks so that a long plan can be generated for benchmarks.
    """
    lines = [doc.title, "", " ".join(HEADER), ""]
    offset = 0
    for r in range(repeat):
        task_count = 0
        for section in doc.sections:
            lines += [f"{section.number}、{section.title}", ""]
            for task in section.tasks:
                task_count += 1
                lines.append(str(offset + task_count))
                title = task.title or ""
                lines += [title[i : i + 4] for i in range(0, len(title), 4)] + [""]
                for m in task.measures:
                    text = m.text
                    lines += [text[i : i + width] for i in range(0, len(text), width)]
                    lines.append(f"{m.deadline.raw or ''} {' '.join(m.lead[:1])}".strip())
                    lines += (
                        m.lead[1:] + [""] + m.responsible + [""] + (m.assisting or [EMPTY]) + [""]
                    )
            if r == 0 and section is doc.sections[0]:
                lines += ["—", "2", "—", " ".join(HEADER)]
        offset += task_count
    return "\n".join(lines)
