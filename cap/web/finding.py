"""One finding's page, its action forms and evidence; the form to log a finding."""

from __future__ import annotations

from fastapi import APIRouter

from cap.web.site import Site


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    return router
