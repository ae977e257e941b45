"""Figures of how the follow-up works (KPIs), for `cap report` and the desk."""

from __future__ import annotations

from cap.workflow.base import UseCases


class Reports(UseCases):
    pass
