"""The dashboard's figures, counted in SQL: states, overdue, due soon, waiting for review,
suppliers' traffic lights, findings opened and closed per month."""

from __future__ import annotations

from cap.workflow.base import UseCases


class Dashboards(UseCases):
    pass
