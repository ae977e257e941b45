"""A minimal web application: the version and the worker's health signal.

Pages are Jinja2 templates with autoescaping (cap/web/templates); there is no user input yet,
so there are no roles to check (the finding pages, with logins and signed supplier links, come
with the web issue).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from cap import __version__
from cap.clock import utcnow
from cap.config import Settings
from cap.store.db import Database
from cap.worker import check_health
from cap.workflow import unaddressed_roles

#: Autoescaping on for .html templates (Jinja2Templates' default, select_autoescape).
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def create_app(settings: Settings) -> FastAPI:
    db = Database(settings.database_url)
    app = FastAPI(title="cap", version=__version__, docs_url=None, redoc_url=None)
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
        return TEMPLATES.TemplateResponse(
            request,
            "status.html",
            {
                "version": __version__,
                "buyer_name": settings.buyer_name,
                "health": check_health(db, now=utcnow(), max_age=max_age),
                "warnings": warnings,
            },
        )

    return app
