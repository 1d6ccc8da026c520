"""Field photos attached to a clue step: each file is checked as evidence (its bytes, not its
name, decide the type), must carry its EXIF position (``photos.require_position``), is compared
with the clue (distance, time) and stored content-addressed beside the other evidence files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ecoplan.cases.models import Clue, CluePhoto
from ecoplan.cases.photos import PHOTO_FLAGS, check_photo, read_exif, require_position
from ecoplan.cases.rules import ClueRules
from ecoplan.db import utcnow
from ecoplan.errors import ValidationError
from ecoplan.supervision import evidence

if TYPE_CHECKING:
    from ecoplan.cases.workflow import PhotoUpload


def flag_labels(rules: ClueRules) -> dict[str, str]:
    """Every photo flag's Chinese label, with the distance limit in force."""
    return {k: v.format(max_distance_m=rules.photo_max_distance_m) for k, v in PHOTO_FLAGS.items()}


def attach_photos(session: Session, clue: Clue, uploads: Sequence[PhotoUpload], *, actor: str,
                  rules: ClueRules) -> list[CluePhoto]:  # fmt: skip
    """Check every upload first, then store them all: one bad photo refuses the step."""
    checked = []
    for upload in uploads:
        name, mime = evidence.sniff(upload.data, upload.name)
        if not mime.startswith("image/"):
            raise ValidationError(f"{name}: 现场照片须为 JPG、PNG 或 WebP 图片")
        facts = read_exif(upload.data, name)
        require_position(facts, name)
        distance, flags = check_photo(facts, clue.geometry, clue.created_at,
                                      max_distance_m=rules.photo_max_distance_m,
                                      min_days_after_issue=rules.photo_min_days_after_issue,
                                      uploaded_at=utcnow())  # fmt: skip
        checked.append((upload, name, mime, facts, distance, flags))
    stored = []
    for upload, name, mime, facts, distance, flags in checked:
        photo = CluePhoto(sha256=evidence.store(upload.data), name=name, mime=mime, size=len(upload.data),
                          taken_at=facts.taken_at, lon=facts.lon, lat=facts.lat, distance_m=distance,
                          flags=flags, uploaded_by=actor)  # fmt: skip
        clue.photos.append(photo)
        stored.append(photo)
    session.flush()
    return stored
