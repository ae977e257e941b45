"""`cap report`: how the follow-up works, as figures (KPIs)."""

from __future__ import annotations
