"""Deadlines as iCalendar feeds, for `cap calendar` and the desk's feed URLs."""

from __future__ import annotations

from cap.workflow.base import UseCases


class Calendars(UseCases):
    pass
