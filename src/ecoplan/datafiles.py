"""Data files: read a built-in TOML shipped in a package or a user's file, parse it and
validate it against a pydantic model, with errors a user can act on; fingerprint input files
for provenance records."""

from __future__ import annotations

import hashlib
import tomllib
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ecoplan.errors import InputFileError
from ecoplan.errors import ValidationError as UserValidationError

M = TypeVar("M", bound=BaseModel)


def read_source(
    package: str, folder: str, name: str | Path, built_in: Sequence[str], what: str
) -> tuple[bytes, str]:
    """Bytes of built-in ``folder/<name>.toml`` of ``package``, or of the user's file ``name``."""
    text = str(name)
    if text in built_in:
        return resources.files(package).joinpath(
            f"{folder}/{text}.toml"
        ).read_bytes(), f"内置{what} {text}"
    path = Path(text)
    if not path.is_file():
        raise InputFileError(path, f"{what}文件不存在(内置: {', '.join(built_in)})")
    return path.read_bytes(), str(path)


def parse_toml(raw: bytes, where: str | Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputFileError(where, f"不是有效的 TOML {what}文件: {exc}") from exc


def validated(model: type[M], data: dict[str, Any], where: str | Path, what: str) -> M:
    """``model.model_validate(data)`` with the problems listed by field path, in Chinese."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise UserValidationError(
            f"{what} {Path(str(where)).name} 有误: " + "; ".join(problems[:4]), problems
        ) from exc


def load_toml_model(
    model: type[M], package: str, folder: str, name: str | Path, built_in: Sequence[str], what: str
) -> M:
    """Read, parse and validate; the model receives ``sha256`` and ``source`` of the file."""
    raw, source = read_source(package, folder, name, built_in, what)
    data = parse_toml(raw, name, what)
    extra = {
        k: v
        for k, v in (("sha256", hashlib.sha256(raw).hexdigest()), ("source", source))
        if k in model.model_fields
    }
    return validated(model, {**data, **extra}, name, what)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB pieces (rasters can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, str]:
    """How provenance names an input file: its path and SHA-256."""
    return {"path": str(path), "sha256": file_sha256(path)}


def read_csv_text(path: Path) -> str:
    """A user's CSV as text: UTF-8 (with or without BOM), else GBK, which Excel on Chinese
    Windows writes; anything else is refused with the file named."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(path, "无法按 UTF-8 或 GBK 读取")


@contextmanager
def xlsx_rows(
    path: Path, text: Callable[[Any], str], limit: int
) -> Iterator[tuple[list[str], Iterator[tuple[int, tuple[Any, ...]]]]]:
    """The first sheet of an xlsx as (header texts, (row number, cells) of the non-blank rows),
    refused with a message naming the file when it is not a readable workbook, has no header,
    or has more than ``limit`` rows. The workbook is closed on leaving."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputFileError(path, "无法读取为 XLSX 文件(文件损坏或不是 Excel 格式)") from exc
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(path, "工作表为空")

        def numbered() -> Iterator[tuple[int, tuple[Any, ...]]]:
            for n, raw in enumerate(rows, start=2):  # the header is line 1
                if n > limit + 1:
                    raise InputFileError(path, f"行数超过上限 {limit}")
                if any(text(v) != "" for v in raw):
                    yield n, raw

        yield [text(h) for h in header], numbered()
    finally:
        book.close()
