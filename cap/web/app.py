"""A minimal web application: the version and the worker's health signal.

Pages escape everything they show; there is no user input yet, so there are no roles to check
(the finding pages, with logins and signed supplier links, come with the web issue).
"""

from __future__ import annotations

import html
from datetime import timedelta

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse

from cap import __version__
from cap.clock import utcnow
from cap.config import Settings
from cap.store.db import Database
from cap.worker import check_health
from cap.workflow import unaddressed_roles


def create_app(settings: Settings) -> FastAPI:
    db = Database(settings.database_url)
    app = FastAPI(title="cap", version=__version__, docs_url=None, redoc_url=None)
    max_age = timedelta(seconds=3 * max(settings.sweep_every, settings.deliver_every) + 30)
    # The settings and rules of a process do not change while it runs: neither do these.
    warnings = "".join(
        f"<li>warning: {html.escape(str(role))}</li>" for role in unaddressed_roles(settings)
    )

    @app.get("/health")
    def health() -> JSONResponse:
        state = check_health(db, now=utcnow(), max_age=max_age)
        return JSONResponse(
            {"healthy": state.healthy, "message": state.message, "version": __version__},
            status_code=200 if state.healthy else 503,
        )

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        state = check_health(db, now=utcnow(), max_age=max_age)
        colour = "#1b7f3b" if state.healthy else "#b3261e"
        rows = "".join(
            f"<tr><td>{html.escape(str(w['worker']))}</td><td>{html.escape(str(w['job']))}</td>"
            f"<td>{w['age_seconds']} s ago</td></tr>"
            for w in state.workers
        )
        return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cap {__version__}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;">
<h1>cap <small>{__version__}</small></h1>
<p>{html.escape(settings.buyer_name)}: corrective action plans for supply contracts.</p>
<p id="health" style="color: {colour}; font-weight: bold;">{
            "healthy" if state.healthy else "unhealthy"
        }: {html.escape(state.message)}</p>
<table><tr><th>worker</th><th>last pass</th><th>when</th></tr>{rows}</table>
{f'<ul id="warnings" style="color: #8a5a00;">{warnings}</ul>' if warnings else ""}
</body></html>"""

    return app
