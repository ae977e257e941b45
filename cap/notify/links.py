"""Links in emails to staff: the finding's page on the desk, which checks the login.
(A supplier's link is a record of its own: cap.workflow.links.)"""

from __future__ import annotations

from urllib.parse import quote

from cap.config import Settings


def finding_link(settings: Settings, ref: str) -> str:
    return f"{settings.base_url.rstrip('/')}/findings/{quote(ref)}"


def obligation_link(settings: Settings, obligation_id: int) -> str:
    return f"{settings.base_url.rstrip('/')}/obligations/{obligation_id}"
