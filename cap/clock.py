"""The one place that reads the real clock. The domain never calls it: ``now`` is passed in."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
