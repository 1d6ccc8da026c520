"""Accounts, their web sessions and the login attempts used for rate limiting.

Sessions are stored server-side: the cookie carries a random token, the table keeps only its
SHA-256, so a stolen database does not yield usable cookies and logout really ends a session.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, UTCDateTime, utcnow
from ecoplan.units.models import Unit

# admin: runs the system; coordinator: the 市生态环境局 office that runs the plan;
# leader: reads everything; unit: belongs to one unit (bureau or district government).
ROLES = ("admin", "coordinator", "leader", "unit")
ROLE_LABELS = {
    "admin": "系统管理员",
    "coordinator": "督办协调员",
    "leader": "领导",
    "unit": "单位用户",
}


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unit: Mapped[Unit | None] = relationship()

    @property
    def actor(self) -> str:
        """The name written to the audit log for this account's changes."""
        return f"user:{self.username}"


class WebSession(Base):
    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    account: Mapped[Account] = relationship()


class LoginAttempt(Base):
    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), index=True)
    client: Mapped[str] = mapped_column(String(60), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
