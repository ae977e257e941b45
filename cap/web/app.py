"""The web application: the status page, signing in to the desk, and what they stand on.

Pages are Jinja2 templates with autoescaping (cap/web/templates) and no inline script or style
(the Content-Security-Policy forbids both; styles are in cap/web/static). Every form carries a
CSRF token and is refused when sent from another site (cap/web/security.py); sessions are
signed cookies (cap/web/desk.py).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from cap import __version__
from cap.api.app import create_api
from cap.api.problems import problem
from cap.config import Settings
from cap.domain.model import Language
from cap.errors import InvalidInput
from cap.store.db import Database
from cap.store.simulation import clock_of
from cap.web import (
    account_calendar,
    dashboard,
    directory,
    finding,
    findings,
    obligations,
    outbox,
    planning,
    reports,
    rules,
    supplier,
    users,
)
from cap.web.desk import sign_in_routes
from cap.web.language import Languages
from cap.web.security import derived_key, protect
from cap.web.site import Site, install_error_pages
from cap.worker import check_health
from cap.workflow import Workflow, unaddressed_roles

HERE = Path(__file__).parent
#: A session ends this long after the last page seen (each response renews the cookie).
SESSION_MAX_AGE = timedelta(hours=12)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    database: Database | None = None,
    settle: bool = False,
) -> ASGIApp:
    """The web application over ``settings``' database. ``clock`` is its now (default: the
    database's, simulated on a demo database, else the real one); ``database`` an open one to
    use (its owner disposes of it), else one is opened and closed with the application.
    ``settle``: the process serves this application until it ends (``cap serve``); see
    :func:`settle_process`."""
    if settings.secret_key is None:
        raise InvalidInput(
            "CAP_SECRET_KEY: not set; the web desk signs its sessions and forms with it. Make "
            "one with `cap init --secret-file cap.env`"
        )
    secret = settings.secret_key.get_secret_value()
    secure = settings.base_url.lower().startswith("https:")
    languages = Languages(
        default_language(settings), secure=secure, tz=settings.rule_set.calendar.tz
    )
    # Autoescaping on for .html templates (Jinja2Templates' default, select_autoescape).
    templates = languages.templates(HERE / "templates", buyer_name=settings.buyer_name)
    db = database or Database(settings.database_url)
    workflow = Workflow(db=db, settings=settings)
    site = Site(workflow, templates, languages, settings, clock or clock_of(db))
    utcnow = site.now

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settle:
            settle_process(templates)
        yield
        if database is None:
            db.engine.dispose()  # the pool's connections, at shutdown

    app = FastAPI(
        title="cap",
        version=__version__,
        # The desk is pages for people: no schema or docs pages of its own to serve.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=derived_key(secret, "session"),
        session_cookie="cap_session",
        max_age=int(SESSION_MAX_AGE.total_seconds()),
        same_site="lax",
        https_only=secure,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # The API for other systems: tokens, not sessions (cap/api).
    app.mount("/api/v1", create_api(workflow, utcnow))
    # On the application's own router: FastAPI analyses an included router's routes again,
    # at the first request that reaches them.
    sign_in_routes(site, app.router)
    for pages in (dashboard, findings, finding, directory, reports, planning, obligations,
                  outbox, rules, users, supplier):  # fmt: skip
        pages.routes(site, app.router)
    account_calendar.routes(site, app.router)
    install_error_pages(app, site)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if request.url.path.startswith("/api/"):
            # A path the API's mount does not take (a line break in it): still the API's.
            return problem(error.status_code, str(error.detail), headers=dict(error.headers or {}))
        site.signed_in(request)  # the page's language is the user's
        return site.render(request, "error.html", {"status": error.status_code},
                           status_code=error.status_code, headers=error.headers)  # fmt: skip

    max_age = timedelta(seconds=3 * max(settings.sweep_every, settings.deliver_every) + 30)
    # The settings and rules of a process do not change while it runs: neither do these.
    warnings = [str(role) for role in unaddressed_roles(settings)]

    @app.get("/health")
    def health() -> JSONResponse:
        state = check_health(db, now=utcnow(), max_age=max_age)
        return JSONResponse(
            {"healthy": state.healthy, "message": state.message, "version": __version__},
            status_code=200 if state.healthy else 503,
        )

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "status.html",
            {
                "version": __version__,
                "buyer_name": settings.buyer_name,
                "health": check_health(db, now=utcnow(), max_age=max_age),
                "warnings": warnings,
            },
        )

    return protect(app, secret=secret, base_url=settings.base_url,
                   evidence_max_bytes=settings.evidence_max_bytes)  # fmt: skip


def settle_process(templates: Jinja2Templates) -> None:
    """Before the first request of a serving process: every page's template compiled, then
    what the process holds so far (modules, compiled templates, the application) moved out of
    the garbage collector's sight (gc.freeze). Its oldest generation is then collected over
    what requests leave behind only, not over everything imported: no request waits on a full
    collection of the whole process (bench/web.py shows the tail it cuts)."""
    env = templates.env
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        env.get_template(name)
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()


def default_language(settings: Settings) -> Language:
    """CAP_DEFAULT_LANGUAGE, the pages' language for a browser that asks for neither."""
    try:
        return Language(settings.default_language)
    except ValueError:
        raise InvalidInput(
            f"CAP_DEFAULT_LANGUAGE: {settings.default_language!r} is not a language of the "
            "desk; use sv or en"
        ) from None


def app_from_env() -> ASGIApp:
    """The application over the CAP_* environment: what each web process of ``cap serve
    --web-processes N`` builds (uvicorn's factory)."""
    # `cap serve` checked the environment before starting the processes.
    return create_app(Settings(), settle=True)
