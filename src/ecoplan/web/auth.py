"""Request plumbing shared by the pages and the API: a database session per request, the
signed-in account (session cookie or ``Authorization: Bearer``), and CSRF checks.

CSRF: every form carries the session's token in a hidden field; API calls authenticated by the
cookie must send it in ``X-CSRF-Token``. Bearer-token API calls need no CSRF token (a browser
never attaches them on its own). The cookie is HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ecoplan import db
from ecoplan.accounts.models import Account, WebSession
from ecoplan.accounts.service import session_for_token
from ecoplan.errors import EcoplanError, PermissionDenied

COOKIE = "ecoplan_session"
MAX_ID = 2_147_483_647
# Row ids are 32-bit on both databases: larger numbers are bad input (422), never sent to the
# driver (SQLite would overflow).
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
PlanQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class NotSignedIn(EcoplanError):
    """No valid session: pages redirect to the login page, the API answers 401."""


@dataclass(frozen=True)
class Viewer:
    """What templates show of the signed-in account; a plain copy that outlives the session
    (an error page is rendered after the request's transaction has been rolled back)."""

    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit: str | None

    @classmethod
    def of(cls, account: Account) -> Viewer:
        return cls(account.username, account.display_name, account.role, account.unit_id,
                   account.unit.name if account.unit else None)  # fmt: skip


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_db(request: Request) -> Iterator[Session]:
    """One session per request. Reads (GET) run in autocommit mode: no BEGIN/COMMIT round
    trips, and each statement still sees committed data (as under READ COMMITTED)."""
    state = request.app.state
    engine: Engine = state.read_engine if request.method in SAFE_METHODS else state.engine
    with db.session_scope(engine) as session:
        yield session


# scope="function": commit before the response leaves, so a redirect never outruns its write
# and a failing commit becomes an error response instead of a silent loss.
Db = Annotated[Session, Depends(get_db, scope="function")]


def request_token(request: Request) -> tuple[str | None, bool]:
    """The session token and whether it came as a Bearer header (else from the cookie)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), True
    return request.cookies.get(COOKIE), False


def web_session(request: Request, session: Db) -> WebSession | None:
    token, _ = request_token(request)
    return session_for_token(session, token)


def optional_account(request: Request, session: Db) -> Account | None:
    row = web_session(request, session)
    return row.account if row else None


async def form_csrf(request: Request) -> str | None:
    """The CSRF token sent in a form body, if any (parsed here so that the account lookup,
    which talks to the database, can stay a plain function run in the thread pool)."""
    if request.method in SAFE_METHODS or "form" not in request.headers.get("content-type", ""):
        return None
    form = await request.form()  # cached by Starlette; the endpoint reuses it
    value = form.get("csrf")
    return value if isinstance(value, str) else None


def current_account(
    request: Request, session: Db, sent_in_form: Annotated[str | None, Depends(form_csrf)]
) -> Account:
    token, bearer = request_token(request)
    row = session_for_token(session, token)
    if row is None:
        raise NotSignedIn("请先登录")
    if request.method not in SAFE_METHODS and not bearer:
        sent = request.headers.get("x-csrf-token") or sent_in_form
        if not sent or not hmac.compare_digest(sent, row.csrf_token):
            raise PermissionDenied("表单已过期或来源不明(CSRF 校验失败),请刷新页面后重试")
    request.state.csrf = row.csrf_token
    request.state.account = Viewer.of(row.account)
    return row.account


CurrentAccount = Annotated[Account, Depends(current_account)]
OptionalAccount = Annotated[Account | None, Depends(optional_account)]
