"""The findings list of the desk: filters, search, sort, pages, and its CSV export."""

from __future__ import annotations

from cap.workflow.base import UseCases


class Listings(UseCases):
    pass
