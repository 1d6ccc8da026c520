"""The year-end report as PDF, with reportlab: the same sections, numbers and pictures as the
Word file (:mod:`ecoplan.reports.annual_docx`), on the GB/T 9704-2012 page.

Font: one CJK font is embedded, WenQuanYi Zen Hei (Debian ``fonts-wqy-zenhei``, a 黑体) from
its TrueType collection; reportlab cannot embed the OpenType/CFF Noto CJK fonts. Without it the
PDF uses the CID font STSong-Light, which PDF readers supply themselves (it is not embedded).
Free 仿宋 / 小标宋 fonts do not exist on the systems here, so the PDF keeps the sizes, line
spacing, indents, margins and page numbers of the standard with that one font; the Word file is
the one to edit and issue.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import cm, mm  # type: ignore[import-untyped]
from reportlab.lib.utils import ImageReader  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    CondPageBreak,
    Image,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
)
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable
from reportlab.platypus import TableStyle as RLTableStyle

from ecoplan.reports.annual import AnnualReport, Figure, Heading, Paragraph, Table
from ecoplan.reports.annual_docx import (
    LINE,
    MARGINS_CM,
    SIZE_2,
    SIZE_3,
    SIZE_4,
    SIZE_5,
    SIZE_SMALL_4,
    TEXT_WIDTH_CM,
)

TTF_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
TTF_NAME = "EcoPlanCJK"
CID_NAME = "STSong-Light"
TABLE_START = 4 * cm  # a table starts on a new page when less than this is left


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register and name the CJK font: the embedded TTF when present, else the CID font."""
    if TTF_PATH.exists():
        try:
            pdfmetrics.registerFont(TTFont(TTF_NAME, str(TTF_PATH), subfontIndex=0))
            return TTF_NAME
        except Exception:  # a damaged font file: fall back rather than fail the report
            pass
    pdfmetrics.registerFont(UnicodeCIDFont(CID_NAME))
    return CID_NAME


def _styles(font: str) -> dict[str, Any]:
    def style(name: str, size: float, leading: float, **extra: Any) -> Any:
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading,
                              wordWrap="CJK", **extra)  # fmt: skip

    indent = 2 * SIZE_3  # two characters of 3号
    return {
        "title": style("title", SIZE_2, 34, alignment=TA_CENTER),
        "subtitle": style("subtitle", SIZE_3, LINE, alignment=TA_CENTER),
        "dateline": style("dateline", SIZE_4, LINE, alignment=TA_CENTER, spaceAfter=LINE),
        "h1": style("h1", SIZE_3, LINE, firstLineIndent=indent, keepWithNext=1),
        "h2": style("h2", SIZE_3, LINE, firstLineIndent=indent, keepWithNext=1),
        "body": style("body", SIZE_3, LINE, firstLineIndent=indent, alignment=TA_JUSTIFY),
        "note": style("note", SIZE_4, 22, firstLineIndent=2 * SIZE_4, alignment=TA_JUSTIFY),
        "placeholder": style("placeholder", SIZE_3, LINE, firstLineIndent=indent,
                             textColor=colors.HexColor("#c00000"), backColor=colors.yellow),
        # no keepWithNext on a table's caption: reportlab would move a table taller than the
        # rest of the page to the next page whole; a CondPageBreak keeps caption and first rows
        "caption": style("caption", SIZE_SMALL_4, 18, alignment=TA_CENTER, spaceBefore=6,
                         spaceAfter=3),
        "figure_caption": style("figure_caption", SIZE_SMALL_4, 18, alignment=TA_CENTER,
                                spaceBefore=3, spaceAfter=6),
        "cell": style("cell", SIZE_5, 14, alignment=TA_LEFT),
        "cell_centre": style("cell_centre", SIZE_5, 14, alignment=TA_CENTER),
        "head": style("head", SIZE_5, 14, alignment=TA_CENTER),
    }  # fmt: skip


def _text(text: str, style: Any) -> Any:
    return RLParagraph(escape(text), style)


def _table(table: Table, styles: dict[str, Any]) -> list[Any]:
    total = sum(table.widths)
    widths = [TEXT_WIDTH_CM * cm * w / total for w in table.widths]
    # short columns (counts, percentages) centred, text columns left-aligned, as in the docx
    centred = [all(len(row[i]) <= 12 for row in table.rows) for i in range(len(table.header))]
    data = [[_text(h, styles["head"]) for h in table.header]]
    for row in table.rows:
        data.append([_text(v, styles["cell_centre" if centred[i] and i > 0 else "cell"])
                     for i, v in enumerate(row)])  # fmt: skip
    grid = RLTable(data, colWidths=widths, repeatRows=1, hAlign="CENTER")
    grid.setStyle(RLTableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))  # fmt: skip
    out = [CondPageBreak(TABLE_START), _text(table.caption, styles["caption"]), grid]
    if table.note:
        out += [Spacer(1, 3), _text("注：" + table.note, styles["note"])]
    return [*out, Spacer(1, 6)]


def _figure(figure: Figure, styles: dict[str, Any]) -> list[Any]:
    width_px, height_px = ImageReader(io.BytesIO(figure.png)).getSize()
    width = min(figure.width_cm * cm, TEXT_WIDTH_CM * cm)
    image = Image(io.BytesIO(figure.png), width=width, height=width * height_px / width_px)
    parts = [image, _text(figure.caption, styles["figure_caption"])]
    if figure.note:
        parts.append(_text("注：" + figure.note, styles["note"]))
    return [KeepTogether(parts)]


def _page_number(font: str) -> Any:
    """Page numbers "— n —" in 4号 below the 版心: odd pages right, even pages left, one character in."""

    def draw(canvas: Any, _doc: Any) -> None:
        number = canvas.getPageNumber()
        text = f"— {number} —"
        y = MARGINS_CM["bottom"] * cm - 7 * mm - SIZE_4
        canvas.saveState()
        canvas.setFont(font, SIZE_4)
        if number % 2:
            canvas.drawRightString(A4[0] - MARGINS_CM["right"] * cm - SIZE_4, y, text)
        else:
            canvas.drawString(MARGINS_CM["left"] * cm + SIZE_4, y, text)
        canvas.restoreState()

    return draw


def annual_report_pdf(report: AnnualReport) -> bytes:
    """The report as PDF bytes."""
    font = cjk_font()
    styles = _styles(font)
    story: list[Any] = [
        _text(report.title, styles["title"]),
        _text(report.subtitle, styles["subtitle"]),
        _text(report.dateline, styles["dateline"]),
    ]
    for warning in report.warnings:
        story.append(_text("【提示】" + warning, styles["note"]))
    for section in report.sections:
        story.append(_text(section.heading, styles["h1"]))
        for block in section.blocks:
            if isinstance(block, Heading):
                story.append(_text(block.text, styles["h2"]))
            elif isinstance(block, Paragraph):
                story.append(_text(block.text, styles[block.kind]))
            elif isinstance(block, Table):
                story.extend(_table(block, styles))
            else:
                story.extend(_figure(block, styles))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, title=report.title, subject=report.subtitle, author="EcoPlan",
        topMargin=MARGINS_CM["top"] * cm, bottomMargin=MARGINS_CM["bottom"] * cm,
        leftMargin=MARGINS_CM["left"] * cm, rightMargin=MARGINS_CM["right"] * cm,
        invariant=True,  # no creation date or random id: the same report gives the same bytes
    )  # fmt: skip
    numbering = _page_number(font)
    doc.build(story, onFirstPage=numbering, onLaterPages=numbering)
    return out.getvalue()
