"""Account management and authentication.

Passwords are hashed with argon2id (argon2-cffi defaults, RFC 9106 low-memory profile).
Login is throttled per user name and per client address: after ``MAX_FAILURES`` failures in
``WINDOW`` further attempts are refused without checking the password, so a guesser learns
nothing and the hash cost cannot be used to load the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from ecoplan import audit
from ecoplan.accounts.models import ROLES, Account, LoginAttempt, WebSession
from ecoplan.db import utcnow
from ecoplan.errors import ConflictError, EcoplanError, NotFoundError, ValidationError
from ecoplan.units.models import Unit

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()


class LoginError(EcoplanError):
    """Wrong user name or password, or too many attempts."""


class RateLimited(LoginError):
    """Too many failed attempts for this user name or client."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    return _hasher.hash(password)


def _snapshot(account: Account) -> dict[str, object]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "unit_id": account.unit_id,
        "email": account.email,
        "active": account.active,
    }


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    unit_code: str | None = None,
    email: str | None = None,
    actor: str,
) -> Account:
    """Create an account; a unit user must name an existing unit, other roles must not."""
    if role not in ROLES:
        raise ValidationError(f"未知角色 {role}(可选:{'/'.join(ROLES)})")
    if not username or len(username) > 60 or not username.isprintable():
        raise ValidationError("用户名须为 1–60 个可见字符")
    if session.scalar(select(Account).where(Account.username == username)):
        raise ConflictError(f"用户名 {username} 已存在")
    unit = None
    if role == "unit":
        if not unit_code:
            raise ValidationError("单位用户必须指定所属单位")
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise NotFoundError(f"未知单位代码 {unit_code}")
    elif unit_code:
        raise ValidationError(f"角色 {role} 不属于某个单位")
    account = Account(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        unit=unit,
        email=email,
    )
    session.add(account)
    session.flush()
    audit.record(session, actor=actor, action="account.create", entity_type="account",
                 entity_id=account.id, after=_snapshot(account))  # fmt: skip
    return account


def set_password(session: Session, account: Account, password: str, *, actor: str) -> None:
    account.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    audit.record(session, actor=actor, action="account.password", entity_type="account",
                 entity_id=account.id)  # fmt: skip


def set_active(session: Session, account: Account, active: bool, *, actor: str) -> None:
    """Enable or disable an account; disabling also ends its sessions."""
    before = _snapshot(account)
    account.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    audit.record(session, actor=actor, action="account.activate" if active else "account.disable",
                 entity_type="account", entity_id=account.id, before=before,
                 after=_snapshot(account))  # fmt: skip


def _recent_failures(session: Session, column: InstrumentedAttribute[str], value: str) -> int:
    since = utcnow() - WINDOW
    query = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    )
    return int(session.scalar(query) or 0)


def _record_failure(session: Session, username: str, client: str) -> None:
    """Store a failed attempt in its own transaction: the caller's rolls back on the error,
    and the rate limit must still count it."""
    with Session(bind=session.get_bind()) as own:
        own.add(LoginAttempt(username=username, client=client, success=False))
        own.commit()


def authenticate(session: Session, username: str, password: str, client: str) -> Account:
    """Check a password; records the attempt. Raises LoginError with a message for users."""
    client = client[:60]
    username = username[:60]
    if (
        _recent_failures(session, LoginAttempt.username, username) >= MAX_FAILURES
        or _recent_failures(session, LoginAttempt.client, client) >= MAX_FAILURES * 4
    ):
        raise RateLimited("登录失败次数过多,请 15 分钟后再试")
    account = session.scalar(select(Account).where(Account.username == username))
    ok = False
    if account is not None and account.active:
        try:
            ok = _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok or account is None:
        _record_failure(session, username, client)
        raise LoginError("用户名或密码错误")
    session.add(LoginAttempt(username=username, client=client, success=True))
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.last_login_at = utcnow()
    audit.record(session, actor=account.actor, action="account.login", entity_type="account",
                 entity_id=account.id, context={"client": client})  # fmt: skip
    return account


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, account: Account) -> tuple[str, WebSession]:
    """Start a web session; returns the cookie token (shown once) and the stored row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_token_hash(token),
        account=account,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return token, row


def session_for_token(session: Session, token: str | None) -> WebSession | None:
    """The live session a cookie token belongs to, or None (unknown, expired, inactive user)."""
    if not token or len(token) > 100:
        return None
    query = (
        select(WebSession)
        .where(WebSession.token_hash == _token_hash(token))
        .options(joinedload(WebSession.account).joinedload(Account.unit))
    )
    row = session.scalar(query)
    if row is None or row.expires_at < utcnow() or not row.account.active:
        return None
    return row


def close_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.role, Account.username)))


def account_by_username(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError(f"未知用户 {username}")
    return account


def purge_expired(session: Session) -> tuple[int, int]:
    """Delete expired web sessions and login attempts older than a day (housekeeping: neither
    is business data, and the attempts only matter inside the throttling window)."""
    now = utcnow()
    sessions = session.execute(delete(WebSession).where(WebSession.expires_at < now))
    attempts = session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(days=1))
    )
    return int(getattr(sessions, "rowcount", 0) or 0), int(getattr(attempts, "rowcount", 0) or 0)
