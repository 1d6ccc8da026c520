"""The year-end report as a Word document, typeset after GB/T 9704-2012《党政机关公文格式》.

What the standard fixes and how it is done here:
- A4 paper; 天头 (top margin) 37 mm, 订口 (left) 28 mm, 版心 156 mm × 225 mm, hence bottom
  35 mm and right 26 mm (GB/T 9704-2012 5.2.1, 5.2.2).
- 标题: 2号 (22 pt) 小标宋体, centred (7.3.1): 方正小标宋简体.
- 正文: 3号 (16 pt) 仿宋体 (7.3.3): 仿宋_GB2312, each line 28 pt (22 lines of 28 characters
  on the 225 mm × 156 mm 版心, the usual Word setting "固定值 28 磅"), first line indented two
  characters, justified.
- 结构层次 (7.3.3): 一、 in 黑体, （一） in 楷体 (楷体_GB2312), both 3号 and indented like body
  text.
- 页码 (7.5): 4号 (14 pt) 半角宋体 Arabic numerals with a 一字线 on each side ("— 1 —"), below
  the 版心; odd pages on the right, even pages on the left, one character in from the edge.
Tables use 5号 (10.5 pt) 仿宋 with single spacing (the standard does not fix table text).

East Asian fonts are named in ``w:rFonts/@w:eastAsia``; Word substitutes a missing font (on a
machine without 仿宋_GB2312 or 方正小标宋简体 it falls back to 宋体, as offices expect).
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ecoplan.reports.annual import AnnualReport, Figure, Heading, Paragraph, Table
from ecoplan.reports.documents import set_fonts, to_bytes

TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
PAGE_NUMBER_FONT = "宋体"

SIZE_2, SIZE_3, SIZE_4, SIZE_SMALL_4, SIZE_5 = 22, 16, 14, 12, 10.5  # 号 → pt
LINE = 28  # pt, exact line spacing of body text
PAGE_WIDTH_CM, PAGE_HEIGHT_CM = 21.0, 29.7
MARGINS_CM = {"top": 3.7, "bottom": 3.5, "left": 2.8, "right": 2.6}
TEXT_WIDTH_CM = PAGE_WIDTH_CM - MARGINS_CM["left"] - MARGINS_CM["right"]  # 15.6 = 版心 156 mm


def _indent_chars(paragraph_format: Any, chars: int, size: float) -> None:
    """First-line indent of ``chars`` characters: ``w:firstLineChars`` (in 1/100 character,
    what Word's "首行缩进 2 字符" writes) and the same in points for other readers."""
    paragraph_format.first_line_indent = Pt(chars * size)
    ind = paragraph_format.element.get_or_add_pPr().get_or_add_ind()
    ind.set(qn("w:firstLineChars"), str(chars * 100))


def _outline_level(style: Any, level: int) -> None:
    """Outline level, so Word's navigation pane lists the headings."""
    ppr = style.element.get_or_add_pPr()
    element = OxmlElement("w:outlineLvl")
    element.set(qn("w:val"), str(level))
    ppr.append(element)


def _paragraph_style(doc: Any, name: str, font: str, size: float, *, line: float | None = None,
                     indent: bool = False, align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
                     bold: bool = False) -> Any:  # fmt: skip
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    set_fonts(style, font, size)
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.space_before = fmt.space_after = Pt(0)
    if line is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    if indent:
        _indent_chars(fmt, 2, size)
    return style


def _setup(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.top_margin, section.bottom_margin = Cm(MARGINS_CM["top"]), Cm(MARGINS_CM["bottom"])
    section.left_margin, section.right_margin = Cm(MARGINS_CM["left"]), Cm(MARGINS_CM["right"])
    # the page number sits about 7 mm below the 版心 (GB/T 9704-2012 7.5)
    section.footer_distance = Cm(MARGINS_CM["bottom"] - 0.7 - 0.5)
    normal = doc.styles["Normal"]
    set_fonts(normal, BODY_FONT, SIZE_3)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    _paragraph_style(doc, "EP Title", TITLE_FONT, SIZE_2, line=36, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, "EP Subtitle", SUBHEADING_FONT, SIZE_3, line=LINE,
                     align=WD_ALIGN_PARAGRAPH.CENTER)  # fmt: skip
    _paragraph_style(doc, "EP Dateline", BODY_FONT, SIZE_4, line=LINE,
                     align=WD_ALIGN_PARAGRAPH.CENTER)  # fmt: skip
    _paragraph_style(doc, "EP Body", BODY_FONT, SIZE_3, line=LINE, indent=True)
    _paragraph_style(doc, "EP Note", BODY_FONT, SIZE_4, line=22, indent=True)
    _paragraph_style(doc, "EP Caption", HEADING_FONT, SIZE_SMALL_4, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, "EP Table", BODY_FONT, SIZE_5, align=WD_ALIGN_PARAGRAPH.LEFT)
    _paragraph_style(doc, "EP Figure", BODY_FONT, SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
    doc.styles["EP Caption"].paragraph_format.space_before = Pt(6)
    doc.styles["EP Caption"].paragraph_format.space_after = Pt(3)
    doc.styles["EP Caption"].paragraph_format.keep_with_next = True
    for name, font, level in (("Heading 1", HEADING_FONT, 0), ("Heading 2", SUBHEADING_FONT, 1)):
        style = doc.styles[name]
        set_fonts(style, font, SIZE_3)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        fmt = style.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE)
        fmt.keep_with_next = True
        _indent_chars(fmt, 2, SIZE_3)
        _outline_level(style, level)
    _page_numbers(doc)


def _field(run: Any, instruction: str) -> None:
    """A Word field (PAGE) in ``run``: begin, instruction, end."""
    for kind, text in (("begin", None), (None, instruction), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def _page_numbers(doc: Any) -> None:
    """Page numbers "— n —" in 4号 宋体: odd pages right, even pages left, one character in (GB/T 9704 7.5)."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):  # fmt: skip
        paragraph = footer.paragraphs[0]
        paragraph.alignment = align
        one_char = Pt(SIZE_4)
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            paragraph.paragraph_format.right_indent = one_char
        else:
            paragraph.paragraph_format.left_indent = one_char
        for part in ("— ", None, " —"):
            run = paragraph.add_run(part or "")
            run.font.size = Pt(SIZE_4)
            run.font.name = PAGE_NUMBER_FONT
            run._r.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), PAGE_NUMBER_FONT)
            if part is None:
                _field(run, "PAGE")


def _repeat_header(row: Any) -> None:
    """The header row repeats at the top of every page the table runs over."""
    element = OxmlElement("w:tblHeader")
    element.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(element)


def _style_id(name: str) -> str:
    """The id python-docx gives a style (its name without spaces: "EP Body" → "EPBody",
    "Heading 1" → "Heading1")."""
    return name.replace(" ", "")


def _add(doc: Any, text: str, style: str) -> Any:
    """A paragraph in a style. The style id is written to the XML directly: python-docx finds
    a style by name by scanning every style, which cost a second per report."""
    paragraph = doc.add_paragraph(text)
    paragraph._p.style = _style_id(style)
    return paragraph


def _table(doc: Any, table: Table) -> None:
    _add(doc, table.caption, "EP Caption")
    total = sum(table.widths)
    widths = [Cm(TEXT_WIDTH_CM * w / total) for w in table.widths]
    # short columns (counts, percentages) are centred, text columns left-aligned
    centred = [all(len(row[i]) <= 12 for row in table.rows) for i in range(len(table.header))]
    cell_style = _style_id("EP Table")
    grid = doc.add_table(rows=1, cols=len(table.header))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False  # fixed layout: the column widths below are kept
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width
    for i, (cell, text) in enumerate(zip(grid.rows[0].cells, table.header, strict=True)):
        # a fixed-layout table takes its widths from the grid and the first row
        cell.width = widths[i]
        paragraph = cell.paragraphs[0]
        paragraph._p.style = cell_style
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run(text)
        run.bold = True
        run._r.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), HEADING_FONT)
    _repeat_header(grid.rows[0])
    for values in table.rows:
        cells = grid.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, values, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph._p.style = cell_style
            if centred[i] and i > 0:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            paragraph.add_run(text)
    if table.note:
        _add(doc, "注：" + table.note, "EP Note")


def _figure(doc: Any, figure: Figure) -> None:
    paragraph = _add(doc, "", "EP Figure")
    paragraph.add_run().add_picture(io.BytesIO(figure.png), width=Cm(figure.width_cm))
    paragraph.paragraph_format.keep_with_next = True
    _add(doc, figure.caption, "EP Caption")
    if figure.note:
        _add(doc, "注：" + figure.note, "EP Note")


def _paragraph(doc: Any, block: Paragraph) -> None:
    if block.kind == "note":
        _add(doc, block.text, "EP Note")
        return
    paragraph = _add(doc, "", "EP Body")
    run = paragraph.add_run(block.text)
    if block.kind == "placeholder":  # to be rewritten by the coordinator: impossible to miss
        run.bold = True
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        run.font.color.rgb = RGBColor(0xC0, 0, 0)


def annual_report_docx(report: AnnualReport) -> bytes:
    """The report as .docx bytes."""
    doc = Document()
    _setup(doc)
    doc.core_properties.title = report.title
    doc.core_properties.subject = report.subtitle
    doc.core_properties.author = "EcoPlan"
    _add(doc, report.title, "EP Title")
    _add(doc, report.subtitle, "EP Subtitle")
    _add(doc, report.dateline, "EP Dateline")
    _add(doc, "", "EP Body")
    for warning in report.warnings:
        _add(doc, "【提示】" + warning, "EP Note")
    for section in report.sections:
        _add(doc, section.heading, "Heading 1")
        for block in section.blocks:
            if isinstance(block, Heading):
                _add(doc, block.text, "Heading 2")
            elif isinstance(block, Paragraph):
                _paragraph(doc, block)
            elif isinstance(block, Table):
                _table(doc, block)
            else:
                _figure(doc, block)
    return to_bytes(doc)
