"""HTTP status of each kind of user error, shared by the API, the pages and the login form."""

from __future__ import annotations

from ecoplan.accounts.service import LoginError, RateLimited
from ecoplan.errors import (
    ConflictError,
    EcoplanError,
    InputFileError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from ecoplan.web.auth import NotSignedIn

# first match wins: subclasses before their bases
_STATUS: list[tuple[type[EcoplanError], int]] = [
    (RateLimited, 429),
    (LoginError, 401),
    (NotSignedIn, 401),
    (PermissionDenied, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ValidationError, 422),
    (InputFileError, 422),
    (EcoplanError, 400),
]


def status_of(exc: EcoplanError) -> int:
    return next(code for cls, code in _STATUS if isinstance(exc, cls))
