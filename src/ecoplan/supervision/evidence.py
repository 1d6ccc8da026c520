"""Evidence files (佐证材料): checked, then stored content-addressed outside the web root.

The type is decided from the file's bytes (``filetype`` magic numbers), never from its name
or the browser's Content-Type; the extension must agree with what the bytes are. Office files
are ZIP archives, so they are also checked for zip bombs (total expanded size, expansion
ratio, entry count) without being expanded. Files are stored as
``<data_dir>/evidence/<sha256[:2]>/<sha256>``; the original name is kept only as data.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

import filetype

from ecoplan.config import get_settings
from ecoplan.errors import ValidationError

# extension -> MIME type we serve it as; the sniffed type must give the same extension.
ALLOWED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_EXTENSION_ALIASES = {"jpeg": "jpg"}
MAX_ZIP_EXPANDED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 100
MAX_ZIP_ENTRIES = 2000


def clean_name(name: str) -> str:
    """The last path component with control characters removed (kept for display only)."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    return base[:200] or "未命名"


def _check_zip(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"{name}: 文件已损坏,无法作为 Office 文档读取") from exc
    expanded = sum(info.file_size for info in infos)
    if (
        len(infos) > MAX_ZIP_ENTRIES
        or expanded > MAX_ZIP_EXPANDED
        or expanded > MAX_ZIP_RATIO * max(len(data), 1)
    ):
        raise ValidationError(f"{name}: 压缩内容异常(疑似压缩炸弹),已拒收")


def sniff(data: bytes, original_name: str) -> tuple[str, str]:
    """Return (clean name, MIME type) or raise ValidationError saying why the file is refused."""
    name = clean_name(original_name)
    limit = get_settings().evidence_max_bytes
    if not data:
        raise ValidationError(f"{name}: 文件为空")
    if len(data) > limit:
        raise ValidationError(f"{name}: 文件超过大小上限 {limit // (1024 * 1024)} MB")
    claimed = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = _EXTENSION_ALIASES.get(claimed, claimed)
    if claimed not in ALLOWED:
        raise ValidationError(f"{name}: 只接受 PDF、图片(JPG/PNG/WebP)、XLSX、DOCX 文件")
    kind = filetype.guess(data)
    actual = kind.extension if kind else None
    if actual != claimed:
        raise ValidationError(f"{name}: 文件内容与扩展名 .{claimed} 不符,已拒收")
    if claimed in ("xlsx", "docx"):
        _check_zip(data, name)
    return name, ALLOWED[claimed]


def store(data: bytes) -> str:
    """Write the bytes once under their SHA-256 and return the digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = path_of(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a file
    return digest


def path_of(digest: str) -> Path:
    """Where a stored file lives under the configured data directory."""
    return path_in(get_settings().data_dir, digest)


def path_in(data_dir: Path, digest: str) -> Path:
    """``<data_dir>/evidence/<sha[:2]>/<sha>``; refuses anything that is not a SHA-256 digest."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValidationError("无效的文件摘要")
    return data_dir / "evidence" / digest[:2] / digest
