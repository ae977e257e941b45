"""The rules in force over the API, and a simulation of a finding's whole future under them."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["rules"])
