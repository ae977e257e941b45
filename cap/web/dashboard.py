"""The dashboard at /desk: what is overdue, due soon, waiting for me; suppliers' traffic lights."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cap.web.site import Site


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/desk", response_class=HTMLResponse)
    def desk(request: Request) -> HTMLResponse:
        site.user(request)
        return site.render(request, "desk.html")

    return router
