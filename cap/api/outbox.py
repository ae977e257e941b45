"""The outbox over the API: the emails queued, sent and failed, and a failed one sent again."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["outbox"])
