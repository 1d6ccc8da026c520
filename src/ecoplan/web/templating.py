"""Jinja2 environment and the ``render`` helper (adds the account, CSRF token and labels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ecoplan.accounts.models import ROLE_LABELS
from ecoplan.supervision.board import LIGHTS
from ecoplan.supervision.models import CLOSURE_STATES, REPORT_STATUSES, REVIEW_STATES

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals.update(
    LIGHTS=LIGHTS,
    REPORT_STATUSES=REPORT_STATUSES,
    REVIEW_STATES=REVIEW_STATES,
    CLOSURE_STATES=CLOSURE_STATES,
    ROLE_LABELS=ROLE_LABELS,
)


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    context.setdefault("account", getattr(request.state, "account", None))
    context.setdefault("csrf", getattr(request.state, "csrf", ""))
    return templates.TemplateResponse(request, name, context, status_code=status)
