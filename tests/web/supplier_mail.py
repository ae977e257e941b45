"""The link in the latest email queued for a supplier's address, as the supplier follows it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import col

from cap.domain.lifecycle import Action, ActionRequest
from cap.store.models import Finding, OutboxMessage
from tests.conftest import ANNA, LI, NOW, World

_LINK = re.compile(r"https?://[^\s\"<>]+/s/[A-Za-z0-9_.\-]+")


def emailed_path(world: World, to: str = LI, about: str | None = None) -> str:
    """The path (``/s/<token>``) of the link in the latest email to ``to`` (``about`` the
    finding of that ref)."""
    query = select(col(OutboxMessage.text_body)).where(col(OutboxMessage.recipient) == to)
    if about is not None:
        query = query.join(Finding, col(Finding.id) == col(OutboxMessage.finding_id)).where(
            col(Finding.ref) == about
        )
    with world.workflow.db.read() as session:
        body = session.execute(query.order_by(col(OutboxMessage.id).desc())).scalars().first()
    assert body is not None, f"no email to {to}"
    found = _LINK.search(body)
    assert found, f"no supplier link in the email to {to}"
    return urlsplit(found.group(0)).path


def notified(world: World, **kwargs: object) -> str:
    """A finding logged and notified at the world's now; its ref."""
    ref = world.finding(**kwargs)  # type: ignore[arg-type]
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    return ref
