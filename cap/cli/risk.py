"""`cap risk list|show`: suppliers scored by the risk rules."""

from __future__ import annotations
