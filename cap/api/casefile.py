"""A finding's case file over the API: its timeline and its evidence files (upload, download)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["findings"])
