"""Data files: read a built-in TOML shipped in a package or a user's file, parse it and
validate it against a pydantic model, with errors a user can act on; fingerprint input files
for provenance records."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
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
