"""Pick the parser for a file and assemble the plan document."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ecoplan.errors import InputFileError
from ecoplan.plans.document import PlanDocument, Source
from ecoplan.plans.parsers.assemble import ParsedPlan, assemble
from ecoplan.plans.parsers.sniff import Format, decode_text, sniff_format
from ecoplan.units.directory import UnitDirectory

# Stored with every imported revision: a parser change can explain a changed reading.
PARSER_VERSION = "1.0"


def parse_file(path: str | Path, directory: UnitDirectory | None = None) -> PlanDocument:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(path, "文件不存在") from None
    except IsADirectoryError:
        raise InputFileError(path, "这是一个目录,不是文件") from None
    except OSError as exc:
        raise InputFileError(path, f"无法读取文件({exc.strerror})") from None
    return parse_bytes(data, path.name, directory)


def parse_bytes(data: bytes, name: str, directory: UnitDirectory | None = None) -> PlanDocument:
    """Parse a plan from the bytes of a file called ``name``."""
    directory = directory or UnitDirectory.builtin()
    fmt = sniff_format(data, name)
    parsed = _parse(fmt, data, name, directory)
    if not parsed.measures:
        raise InputFileError(name, _no_measures_problem(fmt))
    source = Source(file=name, sha256=hashlib.sha256(data).hexdigest(), format=fmt)
    return assemble(parsed, source, directory, fallback_title=Path(name).stem)


def _parse(fmt: Format, data: bytes, name: str, directory: UnitDirectory) -> ParsedPlan:
    if fmt == "txt":
        from ecoplan.plans.parsers.textfile import parse_text

        return parse_text(decode_text(data, name), directory)
    if fmt == "csv":
        from ecoplan.plans.parsers.tables import parse_csv

        return parse_csv(decode_text(data, name), name, directory)
    if fmt == "xlsx":
        from ecoplan.plans.parsers.xlsx import parse_xlsx

        return parse_xlsx(data, name, directory)
    if fmt == "docx":
        from ecoplan.plans.parsers.docx import parse_docx

        return parse_docx(data, name, directory)
    from ecoplan.plans.parsers.pdf import parse_pdf

    return parse_pdf(data, name, directory)


def _no_measures_problem(fmt: Format) -> str:
    if fmt in ("txt", "pdf"):
        return "没有找到计划表格或编号的工作措施"
    return "表格中没有工作措施"
