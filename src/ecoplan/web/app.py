"""Application factory: one FastAPI app serving the Chinese web UI, ``/api/v1`` and
``/openapi.json``. Errors meant for users become a Chinese message (JSON for the API, a page
for the UI); anything else is logged and answered with a generic 500 without a stack trace.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecoplan import db
from ecoplan.accounts.service import purge_expired
from ecoplan.config import get_settings
from ecoplan.errors import (
    EcoplanError,
    ValidationError,
)
from ecoplan.web.auth import NotSignedIn
from ecoplan.web.errors import status_of
from ecoplan.web.templating import render

log = logging.getLogger("ecoplan.web")
STATIC_DIR = Path(__file__).parent / "static"

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class AccessLog:
    """Pure ASGI middleware: security headers on every response and one JSON log line per
    request (method, path, status, ms). Cheaper than Starlette's BaseHTTPMiddleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(json.dumps({"at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                                     "event": "request", "method": scope["method"],
                                     "path": scope["path"], "status": status,
                                     "ms": round(1000 * (time.perf_counter() - started), 1)}))  # fmt: skip


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _remind_all(engine: Engine) -> None:
    from sqlalchemy import select

    from ecoplan.config import today
    from ecoplan.plans.models import Plan
    from ecoplan.supervision.models import ReportingCycle
    from ecoplan.supervision.reminders import run_reminders

    with db.session_scope(engine) as session:
        purge_expired(session)
        for plan in session.scalars(select(Plan).join(ReportingCycle)):
            run = run_reminders(session, plan, today(), actor="system:scheduler")
            log.info(json.dumps({"event": "reminders", "plan": plan.id,
                                 "notifications": len(run.notifications), "orders": len(run.orders)}))  # fmt: skip
        from ecoplan.cases.reminders import run_clue_reminders

        clues = run_clue_reminders(session, today(), actor="system:scheduler")
        log.info(json.dumps({"event": "clue_reminders", "notifications": len(clues.notifications),
                             "orders": len(clues.orders), "resolved": clues.resolved}))  # fmt: skip


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the reminder job every ``remind_interval_minutes`` while the server is up."""
    minutes = get_settings().remind_interval_minutes
    # Handlers are CPU-bound Python: a few threads serve as many requests per second as 40
    # and keep queueing fair (40 threads fighting over the GIL give long tail latencies).
    anyio.to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads

    async def loop() -> None:
        while True:
            await asyncio.sleep(minutes * 60)
            try:
                await asyncio.to_thread(_remind_all, app.state.engine)
            except Exception:  # a failed run must not stop the next one
                log.exception("reminder job failed")

    task = asyncio.create_task(loop()) if minutes > 0 else None
    yield
    if task is not None:
        task.cancel()


def create_app(engine: Engine | None = None) -> FastAPI:
    from ecoplan.api.cases import router as cases_api_router
    from ecoplan.api.ei import router as ei_api_router
    from ecoplan.api.enforcement import router as enforcement_api_router
    from ecoplan.api.gep import router as gep_api_router
    from ecoplan.api.v1 import router as api_router
    from ecoplan.web.bio_pages import public_router as bio_public_router
    from ecoplan.web.bio_pages import router as bio_router
    from ecoplan.web.case_pages import router as case_router
    from ecoplan.web.creation_pages import router as creation_router
    from ecoplan.web.ei_pages import router as ei_router
    from ecoplan.web.enforcement_pages import router as enforcement_router
    from ecoplan.web.gep_pages import router as gep_router
    from ecoplan.web.greenview_pages import router as greenview_router
    from ecoplan.web.invasive_pages import router as invasive_router
    from ecoplan.web.pages import router as page_router
    from ecoplan.web.register_pages import router as register_router
    from ecoplan.web.target_pages import router as target_router

    app = FastAPI(
        lifespan=_lifespan,
        title="EcoPlan 生态保护行动计划督办系统",
        version="1.0",
        description="督办:填报、佐证、审核退回、提醒督办、办结销号、看板。所有接口返回中文错误信息。",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.engine = engine or db.make_engine()
    # the same pool, without BEGIN/COMMIT: used for GET requests (see web/auth.get_db)
    app.state.read_engine = app.state.engine.execution_options(isolation_level="AUTOCOMMIT")

    @app.exception_handler(EcoplanError)
    async def user_error(request: Request, exc: EcoplanError) -> Response:
        code = status_of(exc)
        if _wants_json(request):
            body: dict[str, object] = {"detail": str(exc)}
            if isinstance(exc, ValidationError) and exc.rows:
                body["rows"] = exc.rows
            return JSONResponse(body, status_code=code)
        if isinstance(exc, NotSignedIn):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        rows = exc.rows if isinstance(exc, ValidationError) else []
        return render(request, "error.html", {"message": str(exc), "code": code, "rows": rows},
                      status=code)  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": "请求参数有误", "rows": problems}, status_code=422)
        return render(request, "error.html", {"message": "请求参数有误:" + ";".join(problems),
                                              "code": 422}, status=422)  # fmt: skip

    @app.exception_handler(Exception)
    async def crash(request: Request, _exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "服务器内部错误,已记录日志"}, status_code=500)
        return render(request, "error.html", {"message": "服务器内部错误,已记录日志", "code": 500},
                      status=500)  # fmt: skip

    @app.get("/health", tags=["运维"], summary="健康检查")
    def health() -> dict[str, str]:
        with app.state.engine.connect() as conn:
            conn.execute(text("select 1"))
        engine = app.state.engine
        return {"status": "ok", "database": engine.dialect.name,
                "schema": db.current_revision(engine) or "none"}  # fmt: skip

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        # plotly ships its JavaScript inside the Python package: served offline, never a CDN.
        path = resources.files("plotly").joinpath("package_data/plotly.min.js")
        return FileResponse(str(path), media_type="text/javascript",
                            headers={"Cache-Control": "max-age=86400"})  # fmt: skip

    app.add_middleware(AccessLog)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api_router)
    app.include_router(cases_api_router)
    app.include_router(enforcement_api_router)
    app.include_router(ei_api_router)
    app.include_router(gep_api_router)
    app.include_router(page_router)
    app.include_router(case_router)
    app.include_router(enforcement_router)
    app.include_router(ei_router)
    app.include_router(gep_router)
    app.include_router(bio_router)
    app.include_router(invasive_router)
    app.include_router(register_router)
    app.include_router(target_router)
    app.include_router(creation_router)
    app.include_router(greenview_router)
    app.include_router(bio_public_router)
    return app
