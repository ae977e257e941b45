"""The findings list at /findings: filters in the URL, search, sort, pages, CSV export."""

from __future__ import annotations

from fastapi import APIRouter

from cap.web.site import Site


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    return router
