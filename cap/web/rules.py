"""The rules in force as a table, and the lifecycle diagram."""

from __future__ import annotations

from fastapi import APIRouter

from cap.web.site import Site


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    return router
