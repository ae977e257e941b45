"""Suppliers scored by the risk rules, for `cap risk` and the follow-up plan."""

from __future__ import annotations

from cap.workflow.base import UseCases


class Risks(UseCases):
    pass
