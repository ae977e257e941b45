"""Requests another system may send twice: a POST retried after a timeout must not log its
findings twice. The API gives such a request an ``Idempotency-Key``; the use case writes the
key with its result in its own transaction, and the same request sent again is given that
result (the IETF's Idempotency-Key header field, draft-ietf-httpapi-idempotency-key-header).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from cap.errors import InvalidInput
from cap.store.models import IdempotencyKey

#: How long a key is remembered: a retry comes within minutes, a day covers an outage.
KEPT = timedelta(hours=24)

T = TypeVar("T")


@dataclass(frozen=True)
class Once:
    """A request sent with an Idempotency-Key: the token that sent it, the key, and what was
    asked (a fingerprint of the operation and its body)."""

    token_id: int
    key: str
    fingerprint: str

    @classmethod
    def of(cls, token_id: int, key: str, operation: str, body: str | bytes) -> Once:
        digest = hashlib.sha256(f"{operation}\n".encode())
        digest.update(body.encode() if isinstance(body, str) else body)
        return cls(token_id, key, digest.hexdigest())


def earlier(session: Session, once: Once | None, now: datetime) -> dict[str, Any] | None:
    """What the same request gave before, if it was sent before (None: act on it). A key sent
    before with another request is refused: a new request needs a new key."""
    if once is None:
        return None
    session.execute(delete(IdempotencyKey).where(col(IdempotencyKey.created_at) < now - KEPT))
    row = session.execute(
        select(col(IdempotencyKey.fingerprint), col(IdempotencyKey.result)).where(
            col(IdempotencyKey.token_id) == once.token_id, col(IdempotencyKey.key) == once.key
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != once.fingerprint:
        raise InvalidInput(
            f"Idempotency-Key: {once.key[:60]!r} was sent with another request in the last "
            f"{KEPT.total_seconds() / 3600:.0f} hours; send a new key with a new request"
        )
    result: dict[str, Any] = row.result
    return result


def remember(session: Session, once: Once | None, result: dict[str, Any], now: datetime) -> None:
    """Keep ``result`` as what the request gave, in the transaction that acted on it."""
    if once is not None:
        session.add(IdempotencyKey(token_id=once.token_id, key=once.key,
                                   fingerprint=once.fingerprint, result=result,
                                   created_at=now))  # fmt: skip


def first_wins(once: Once | None, act: Callable[[], T]) -> T:
    """``act()``; when the same key was written by a request running at the same time (the
    database waited for it at the key's unique index, then refused ours), ``act()`` again,
    which now finds what that request gave."""
    try:
        return act()
    except IntegrityError:
        if once is None:
            raise
        return act()


__all__ = ["KEPT", "Once", "earlier", "first_wins", "remember"]
