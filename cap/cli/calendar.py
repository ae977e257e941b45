"""`cap calendar`: upcoming deadlines as an iCalendar file."""

from __future__ import annotations
