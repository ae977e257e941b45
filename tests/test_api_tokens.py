"""API tokens (both databases): made with a role and a name, shown once and stored as a hash;
a token works until it expires (both sides of the instant) or is revoked; its last use is
recorded to the minute; anything else presented as a token is refused alike."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from cap.domain.model import StaffRole
from cap.errors import InvalidInput, NotFound
from cap.store.models import ApiToken
from cap.workflow import Workflow
from cap.workflow.tokens import MAX_DAYS, PREFIX, USE_RESOLUTION
from tests.conftest import NOW


def test_a_token_is_shown_once_and_kept_as_its_hash(workflow: Workflow) -> None:
    issued = workflow.create_token(" Audit firm feed ", StaffRole.CONTRACT_MANAGER,
                                   expires_days=None, now=NOW)  # fmt: skip
    assert issued.token.startswith(PREFIX) and len(issued.token) == len(PREFIX) + 43
    assert (issued.view.name, issued.view.role) == ("Audit firm feed", StaffRole.CONTRACT_MANAGER)
    assert issued.token.startswith(issued.view.prefix) and len(issued.view.prefix) == 12
    with workflow.db.read() as session:
        [row] = session.execute(select(ApiToken)).scalars()
        assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
        assert issued.token not in repr(row.__dict__)
    other = workflow.create_token("Other", StaffRole.VIEWER, expires_days=1, now=NOW)
    assert other.token != issued.token
    assert [t.id for t in workflow.list_tokens()] == [other.view.id, issued.view.id]


def test_a_token_works_until_it_expires_or_is_revoked(workflow: Workflow) -> None:
    issued = workflow.create_token("Feed", StaffRole.VIEWER, expires_days=30, now=NOW)
    end = NOW + timedelta(days=30)
    assert issued.view.expires_at == end
    seen = workflow.token_user(issued.token, now=end - timedelta(seconds=1))
    assert seen is not None and seen.id == issued.view.id
    assert workflow.token_user(issued.token, now=end) is None
    lasting = workflow.create_token("Register", StaffRole.ADMIN, expires_days=None, now=NOW)
    assert workflow.token_user(lasting.token, now=NOW + timedelta(days=3000)) is not None
    revoked = workflow.revoke_token(lasting.view.id, now=NOW + timedelta(days=1))
    assert revoked.revoked_at == NOW + timedelta(days=1)
    assert workflow.token_user(lasting.token, now=NOW + timedelta(days=1)) is None
    again = workflow.revoke_token(lasting.view.id, now=NOW + timedelta(days=2))
    assert again.revoked_at == NOW + timedelta(days=1)  # revoked once, when it was


def test_the_last_use_is_recorded_to_the_minute(workflow: Workflow) -> None:
    issued = workflow.create_token("Feed", StaffRole.VIEWER, expires_days=None, now=NOW)

    def last_used() -> object:
        [view] = workflow.list_tokens()
        return view.last_used_at

    assert last_used() is None
    workflow.token_user(issued.token, now=NOW)
    assert last_used() == NOW
    workflow.token_user(issued.token, now=NOW + USE_RESOLUTION - timedelta(seconds=1))
    assert last_used() == NOW  # not a write on every request
    workflow.token_user(issued.token, now=NOW + USE_RESOLUTION)
    assert last_used() == NOW + USE_RESOLUTION


@pytest.mark.parametrize(
    "presented",
    ["", "cap_", "cap_" + "A" * 43, "Bearer cap_x", "not-a-token", "cap_" + "x" * 500],
)
def test_anything_else_is_no_token(workflow: Workflow, presented: str) -> None:
    workflow.create_token("Feed", StaffRole.VIEWER, expires_days=None, now=NOW)
    assert workflow.token_user(presented, now=NOW) is None


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [
        ("", None, "name: give the token a name (who or what uses it)"),
        ("two\nlines", None, "name: must be one line of at most 200 characters"),
        ("x" * 201, None, "name: must be one line of at most 200 characters"),
        ("Feed", 0, f"expires: give a number of days from 1 to {MAX_DAYS}"),
        ("Feed", MAX_DAYS + 1, f"expires: give a number of days from 1 to {MAX_DAYS}"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_made(
    workflow: Workflow, name: str, days: int | None, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        workflow.create_token(name, StaffRole.VIEWER, expires_days=days, now=NOW)
    assert str(refused.value) == message
    assert workflow.list_tokens() == []
    with pytest.raises(NotFound, match=r"^token: no token 7 \(see `cap token list`\)$"):
        workflow.revoke_token(7, now=NOW)
