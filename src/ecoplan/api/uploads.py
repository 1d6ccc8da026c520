"""An uploaded data file held on disk for a reader that wants a path (GDAL, openpyxl): read
with a size cap, kept under its own cleaned name in a private temporary folder that goes away
with the block."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.datastructures import FormData, UploadFile

from ecoplan.config import get_settings
from ecoplan.errors import ValidationError
from ecoplan.supervision import evidence


def required_upload(form: FormData, missing: str, field: str = "file") -> UploadFile:
    """The file posted in ``field``; refused with ``missing`` when none was chosen (browsers
    post an empty part with no file name then)."""
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationError(missing)
    return upload


@asynccontextmanager
async def uploaded_file(
    file: UploadFile, suffixes: Collection[str], refusal: str
) -> AsyncIterator[Path]:
    """The upload as a file; refused with "<name>: ``refusal``" unless its name ends in one of
    ``suffixes``, and refused when it is larger than ``import_max_bytes``."""
    name = evidence.clean_name(file.filename or "")
    if Path(name).suffix.lower() not in suffixes:
        raise ValidationError(f"{name}: {refusal}")
    limit = get_settings().import_max_bytes
    data = await file.read(limit + 1)  # one byte over the limit is enough to refuse
    if len(data) > limit:
        raise ValidationError(f"{name}: 文件超过大小上限")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name  # clean_name leaves no directory part
        path.write_bytes(data)
        yield path
