"""Tell the format of an uploaded file from its bytes, and decode text files.

File names lie (a ``.xls`` that is HTML, a ``.txt`` in GBK), so the format is decided by
magic bytes first and the extension second.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Literal

from ecoplan.errors import InputFileError

Format = Literal["txt", "pdf", "docx", "xlsx", "csv"]
_TEXT_ENCODINGS = ("utf-8-sig", "gb18030", "utf-16")


def sniff_format(data: bytes, name: str) -> Format:
    """The format of ``data``; raises :class:`InputFileError` for empty or unknown files."""
    suffix = Path(name).suffix.lower()
    if not data.strip():
        raise InputFileError(name, "文件为空")
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            members = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            raise InputFileError(name, "文件已损坏(压缩包不完整),无法读取") from None
        if "word/document.xml" in members:
            return "docx"
        if "xl/workbook.xml" in members:
            return "xlsx"
        raise InputFileError(name, "压缩包既不是Word(.docx)也不是Excel(.xlsx)文件")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputFileError(name, "旧版Office格式(.doc/.xls)不受支持,请另存为.docx或.xlsx")
    if suffix in (".pdf", ".docx", ".xlsx"):
        raise InputFileError(name, f"文件内容不是{suffix[1:].upper()}格式(可能已损坏或被截断)")
    text = decode_text(data, name)
    if suffix == ".csv" or (suffix not in (".txt", ".text", ".md") and _looks_like_csv(text)):
        return "csv"
    return "txt"


def decode_text(data: bytes, name: str) -> str:
    """Decode a text file written in UTF-8, GBK/GB18030 or UTF-16; reject binary data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = _TEXT_ENCODINGS[:2]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _is_text(text):
            return text
    raise InputFileError(name, "不是可识别的文本、PDF、Word或Excel文件(内容像是二进制数据)")


def _is_text(text: str) -> bool:
    if not text:
        return False
    control = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    odd = sum(1 for ch in text if 0xE000 <= ord(ch) <= 0xF8FF or ch == "\ufffd")
    return (control + odd) / len(text) < 0.01


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    counts = [line.count(",") for line in lines]
    return min(counts) >= 3 and max(counts) - min(counts) <= 2
