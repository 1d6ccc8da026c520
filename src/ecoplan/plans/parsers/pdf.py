"""PDF files: ruled tables through pdfplumber, else the text layer.

A plan published as PDF is usually a ruled table. pdfplumber rebuilds the grid from the
ruling lines; a table continued over several pages repeats its header (skipped) and may
split a row at the page break (the row reader joins it back using the page numbers).
Without ruling lines, the text layer goes to the same parser as pasted text. A PDF with
no text at all is a scan: it needs OCR first, which EcoPlan does not do.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ProcessPoolExecutor

from ecoplan.errors import InputFileError
from ecoplan.plans.parsers.assemble import ParsedPlan, first_title
from ecoplan.plans.parsers.tables import parse_rows
from ecoplan.plans.parsers.textfile import parse_text
from ecoplan.units.directory import UnitDirectory

# Pages per worker task when a long PDF is read in parallel; below twice this, one process.
_CHUNK = 25


def _open(data: bytes, name: str):  # type: ignore[no-untyped-def]
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        _ = pdf.pages  # forces the page tree to be read: truncation shows here
    except Exception as exc:  # pdfplumber wraps pdfminer's many error types
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
        if (
            isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError)
            or "crypt" in repr(cause).lower()
        ):
            raise InputFileError(name, "PDF文件已加密,请先解除密码保护再导入") from None
        if isinstance(cause, PDFSyntaxError | PSException):
            raise InputFileError(name, f"PDF文件已损坏或不完整({type(cause).__name__})") from None
        raise InputFileError(name, f"PDF文件已损坏,无法解析({type(cause).__name__})") from None
    return pdf


def _tables_and_text(
    data: bytes, start: int, stop: int
) -> list[tuple[int, list[list[str | None]], str]]:
    """For pages [start, stop): (page number, table rows, page text)."""
    import pdfplumber

    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for index in range(start, min(stop, len(pdf.pages))):
            page = pdf.pages[index]
            rows: list[list[str | None]] = []
            for table in page.extract_tables():
                rows += [list(row) for row in table]
            out.append((index + 1, rows, page.extract_text() or ""))
            page.close()
    return out


def _read_pages(data: bytes, count: int) -> list[tuple[int, list[list[str | None]], str]]:
    workers = min(os.cpu_count() or 1, 4)
    if count < 2 * _CHUNK or workers < 2:
        return _tables_and_text(data, 0, count)
    ranges = [(s, s + _CHUNK) for s in range(0, count, _CHUNK)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(_tables_and_text, [data] * len(ranges), *zip(*ranges, strict=True))
        return [page for part in parts for page in part]


def parse_pdf(data: bytes, name: str, directory: UnitDirectory) -> ParsedPlan:
    pdf = _open(data, name)
    try:
        count = len(pdf.pages)
        if count == 0:
            raise InputFileError(name, "PDF文件没有页面")
    finally:
        pdf.close()
    try:
        pages = _read_pages(data, count)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(name, f"PDF文件已损坏或不完整({type(exc).__name__})") from None
    text = "\n".join(page_text for _, _, page_text in pages)
    if not text.strip():
        raise InputFileError(name, "PDF没有文本层(可能是扫描件),请先进行文字识别(OCR)后再导入")
    rows: list[list[str | None]] = []
    row_pages: list[int] = []
    for number, page_rows, _ in pages:
        rows += page_rows
        row_pages += [number] * len(page_rows)
    title = first_title(text.splitlines()[:15])
    if rows:
        parsed = parse_rows(rows, directory, pages=row_pages, title=title)
        if parsed is not None and parsed.measures:
            return parsed
    parsed = parse_text(text, directory)
    if parsed.measures:
        parsed.warnings.append("PDF中没有带框线的表格,已按文本层读取;请核对单位所在的列")
    return parsed
