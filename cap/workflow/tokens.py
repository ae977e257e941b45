"""The tokens other systems call the API with: made, listed, revoked, and checked.

A token is ``cap_`` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored:
a token is as random as a key, so a fast hash suffices (a password's slow hash exists for
guessable secrets), and it lets a request's token be found by an index instead of checking
each stored hash in turn. It carries a role of the desk (cap.domain.permissions) and may
expire; revoking it ends it at its next request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session, col

from cap.domain.model import StaffRole
from cap.errors import InvalidInput, NotFound
from cap.store.models import ApiToken
from cap.workflow.base import UseCases
from cap.workflow.results import IssuedToken, TokenView

PREFIX = "cap_"
#: Characters of a token shown in lists: enough to tell tokens apart, far from enough to use.
SHOWN = 12
#: The longest lifetime a token may be given.
MAX_DAYS = 3650
#: last_used_at is written at most this often per token: not a write on every request.
USE_RESOLUTION = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_view(row: ApiToken) -> TokenView:
    assert row.id is not None
    return TokenView(
        id=row.id, name=row.name, role=row.role, prefix=row.prefix, created_at=row.created_at,
        expires_at=row.expires_at, revoked_at=row.revoked_at, last_used_at=row.last_used_at,
    )  # fmt: skip


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the token a name (who or what uses it)")
    if len(name) > 200 or any(ord(ch) < 32 for ch in name):
        raise InvalidInput("name: must be one line of at most 200 characters")
    return name


def _token(session: Session, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token: no token {token_id}", see="cap token list")
    return row


class Tokens(UseCases):
    def create_token(
        self, name: str, role: StaffRole, *, expires_days: int | None, now: datetime
    ) -> IssuedToken:
        """A new token for ``name`` in ``role``, ending after ``expires_days`` (None: until
        revoked). The token is in the result only."""
        if expires_days is not None and not 1 <= expires_days <= MAX_DAYS:
            raise InvalidInput(f"expires: give a number of days from 1 to {MAX_DAYS}")
        token = PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(
            name=_name(name), role=role, token_hash=token_hash(token), prefix=token[:SHOWN],
            created_at=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
        )  # fmt: skip
        with self.db.write() as session:
            session.add(row)
            session.flush()
            return IssuedToken(token_view(row), token)

    def list_tokens(self) -> list[TokenView]:
        """Every token, revoked and expired ones too, the newest first."""
        with self.db.read() as session:
            rows = session.execute(select(ApiToken).order_by(col(ApiToken.id).desc())).scalars()
            return [token_view(row) for row in rows]

    def revoke_token(self, token_id: int, *, now: datetime) -> TokenView:
        """End the token ``token_id`` (one revoked before stays as it was)."""
        with self.db.write() as session:
            row = _token(session, token_id)
            if row.revoked_at is None:
                row.revoked_at = now
            session.flush()
            return token_view(row)

    def token_user(self, token: str, *, now: datetime) -> TokenView | None:
        """The token ``token`` if it is one that works at ``now`` (its use recorded, to the
        minute), else None, whatever the reason."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        with self.db.read() as session:
            row = session.execute(
                select(ApiToken).where(col(ApiToken.token_hash) == token_hash(token))
            ).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            if row.expires_at is not None and row.expires_at <= now:
                return None
            view = token_view(row)
        if view.last_used_at is None or now - view.last_used_at >= USE_RESOLUTION:
            with self.db.write() as session:
                session.execute(
                    update(ApiToken).where(col(ApiToken.id) == view.id).values(last_used_at=now)
                )
        return view
