"""Notifications: rendering the emails the tracker sends to suppliers and buyer staff."""

from __future__ import annotations

from cap.notify.render import (
    KINDS,
    RenderedEmail,
    Renderer,
    default_template_dir,
    format_date,
    sample_context,
)

__all__ = [
    "KINDS",
    "RenderedEmail",
    "Renderer",
    "default_template_dir",
    "format_date",
    "sample_context",
]
