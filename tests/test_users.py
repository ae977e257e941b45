"""People of the desk: argon2 hashes, roles, signing in and its throttling (both databases)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlmodel import col

from cap.domain.model import StaffRole
from cap.errors import ActionRefused, AlreadyExists, InvalidInput, NotFound
from cap.store.models import LoginFailure, User
from cap.workflow import LoginRefusal, LoginResult, Workflow, to_json
from tests.conftest import ANNA, BO, NOW

# Cheap parameters keep the dozens of sign-ins below fast; the default's are tested once.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
STRONGER = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
PASSWORD = "correct horse battery"
WRONG = "incorrect horse battery"
HERE = "203.0.113.5"
ELSEWHERE = "198.51.100.7"
TYPED = "Anna.Manager@Region.example"  # ANNA as she typed it when added


@pytest.fixture
def users(workflow: Workflow) -> Workflow:
    workflow.password_hasher = CHEAP
    workflow.add_user(TYPED, StaffRole.CONTRACT_MANAGER, PASSWORD, name="Anna", now=NOW)
    return workflow


def _stored(workflow: Workflow, email: str = ANNA) -> User:
    with workflow.db.read() as session:
        user: User = session.execute(select(User).where(col(User.email_key) == email)).scalar_one()
        return user


def _failures(workflow: Workflow) -> int:
    with workflow.db.read() as session:
        return int(session.execute(select(func.count()).select_from(LoginFailure)).scalar_one())


def _fail(workflow: Workflow, times: int, *, start: datetime = NOW, email: str = ANNA) -> None:
    """``times`` wrong passwords from HERE, a minute apart from ``start``."""
    for i in range(times):
        result = workflow.authenticate(email, WRONG, HERE, start + timedelta(minutes=i))
        assert result.refusal is LoginRefusal.WRONG_CREDENTIALS, (i, result)


def test_the_password_is_kept_as_an_argon2_hash_and_never_shown(workflow: Workflow) -> None:
    view = workflow.add_user(ANNA, StaffRole.ADMIN, PASSWORD, now=NOW)  # default parameters
    stored = _stored(workflow).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "m=65536,t=3,p=4" in stored  # argon2-cffi's recommended parameters
    assert PasswordHasher().verify(stored, PASSWORD)
    shown = str(to_json(view)) + str(to_json(workflow.list_users()))
    assert "argon2" not in shown and PASSWORD not in shown and "hash" not in shown


def test_a_sign_in_rehashes_a_password_hashed_with_other_parameters(users: Workflow) -> None:
    before = _stored(users).password_hash
    assert users.authenticate(ANNA, PASSWORD, HERE, NOW).user is not None
    assert _stored(users).password_hash == before  # same parameters: kept

    users.password_hasher = STRONGER
    assert users.authenticate(ANNA, WRONG, HERE, NOW).user is None
    assert _stored(users).password_hash == before  # a failed attempt changes nothing
    result = users.authenticate(ANNA, PASSWORD, HERE, NOW)
    assert result.user is not None and result.user.session_version == 1  # not a new password
    after = _stored(users).password_hash
    assert after != before and "m=16,t=2,p=1" in after
    assert not STRONGER.check_needs_rehash(after) and STRONGER.verify(after, PASSWORD)


def test_the_email_is_kept_as_typed_and_compared_without_case(users: Workflow) -> None:
    assert [u.email for u in users.list_users()] == [TYPED]
    with pytest.raises(AlreadyExists, match=r"^email: a user Anna.Manager@Region.example"):
        users.add_user(ANNA.upper(), StaffRole.VIEWER, PASSWORD, now=NOW)
    result = users.authenticate(" ANNA.MANAGER@region.example ", PASSWORD, HERE, NOW)
    assert result.user is not None and result.user.email == TYPED
    assert users.set_role(ANNA.upper(), StaffRole.VIEWER).role is StaffRole.VIEWER
    assert len(users.list_users()) == 1


def test_a_password_has_twelve_characters_or_more_on_one_line(users: Workflow) -> None:
    for bad, why in (("eleven char", "too short"), ("twelve chars\nmore", "one line")):
        with pytest.raises(InvalidInput, match=f"^password: .*{why}") as refused:
            users.add_user(BO, StaffRole.VIEWER, bad, now=NOW)
        assert bad not in str(refused.value)
    assert [u.email for u in users.list_users()] == [TYPED]  # nothing written
    users.add_user(BO, StaffRole.VIEWER, "twelve chars", now=NOW)
    assert users.authenticate(BO, "twelve chars", HERE, NOW).user is not None


def test_an_unknown_address_is_refused_as_a_wrong_password(users: Workflow) -> None:
    wrong = users.authenticate(ANNA, WRONG, HERE, NOW)
    unknown = users.authenticate("nobody@region.example", PASSWORD, HERE, NOW)
    assert wrong == unknown == LoginResult(None, LoginRefusal.WRONG_CREDENTIALS)
    assert wrong.message == "wrong email or password"
    assert _failures(users) == 2  # both count towards the throttle


def test_five_failures_lock_an_account_for_fifteen_minutes(users: Workflow) -> None:
    _fail(users, 5)  # at NOW .. NOW+4min
    refused = users.authenticate(ANNA, PASSWORD, HERE, NOW + timedelta(minutes=5))
    assert refused == LoginResult(None, LoginRefusal.THROTTLED, 10)
    assert refused.message == "wrong email or password, or too many attempts; wait 10 minutes"
    assert _failures(users) == 5  # a refused attempt is not one more failure
    # From another address too: it is the account that is locked.
    last_second = NOW + timedelta(minutes=15) - timedelta(seconds=1)
    assert users.authenticate(ANNA, PASSWORD, ELSEWHERE, last_second).wait_minutes == 1
    # The first failure leaves the window: four remain, and the right password lets her in.
    result = users.authenticate(ANNA, PASSWORD, HERE, NOW + timedelta(minutes=15))
    assert result.user is not None and result.user.email == TYPED
    assert _failures(users) == 0  # her failures are cleared


def test_four_failures_do_not_lock_and_a_success_clears_them(users: Workflow) -> None:
    _fail(users, 4)
    _fail(users, 1, email="someone.else@region.example")
    assert users.authenticate(ANNA, PASSWORD, HERE, NOW + timedelta(minutes=4)).user is not None
    assert _failures(users) == 1  # only the other account's is left
    # Cleared: four more failures still do not lock her.
    _fail(users, 4, start=NOW + timedelta(minutes=5))
    assert users.authenticate(ANNA, PASSWORD, HERE, NOW + timedelta(minutes=9)).user is not None


def test_an_address_that_does_not_exist_is_locked_the_same_way(users: Workflow) -> None:
    ghost = "nobody@region.example"
    _fail(users, 5, email=ghost)
    result = users.authenticate(ghost, PASSWORD, HERE, NOW + timedelta(minutes=5))
    assert result.refusal is LoginRefusal.THROTTLED and result.wait_minutes == 10


def test_twenty_failures_from_one_client_address_lock_it(users: Workflow) -> None:
    for i in range(19):  # each on another account: no account reaches its limit
        _fail(users, 1, start=NOW + timedelta(seconds=i), email=f"guess{i}@region.example")
    at = NOW + timedelta(minutes=1)
    assert users.authenticate(ANNA, PASSWORD, HERE, at).user is not None  # 19: not yet
    _fail(users, 1, start=at, email="guess19@region.example")
    refused = users.authenticate(ANNA, PASSWORD, HERE, at)
    # The lock lifts when the oldest of the twenty leaves the window, 14 minutes from `at`.
    assert refused == LoginResult(None, LoginRefusal.THROTTLED, 14)
    assert users.authenticate(ANNA, PASSWORD, ELSEWHERE, at).user is not None
    assert users.authenticate(ANNA, PASSWORD, HERE, NOW + timedelta(minutes=15)).user is not None


def test_a_disabled_user_cannot_sign_in(users: Workflow) -> None:
    view = users.disable_user(ANNA, now=NOW)
    assert view.disabled_at == NOW and view.session_version == 2
    refused = users.authenticate(ANNA, PASSWORD, HERE, NOW)
    assert refused.refusal is LoginRefusal.DISABLED and refused.user is None
    assert refused.message == "this account is disabled; ask an administrator"
    # Only the right password learns that the account is disabled.
    wrong = users.authenticate(ANNA, WRONG, HERE, NOW)
    assert wrong.refusal is LoginRefusal.WRONG_CREDENTIALS
    with pytest.raises(ActionRefused, match=r"^email: .* already disabled \(since 2026-03-03\)"):
        users.disable_user(ANNA, now=NOW)
    assert _stored(users).session_version == 2


def test_the_session_version_moves_with_role_password_and_disabling(users: Workflow) -> None:
    assert _stored(users).session_version == 1
    assert users.set_role(ANNA, StaffRole.CONTRACT_MANAGER).session_version == 1  # no change
    assert users.set_role(ANNA, StaffRole.SUSTAINABILITY_MANAGER).session_version == 2
    assert users.set_password(ANNA, "a brand new passphrase").session_version == 3
    assert users.authenticate(ANNA, PASSWORD, HERE, NOW).user is None
    assert users.authenticate(ANNA, "a brand new passphrase", HERE, NOW).user is not None
    assert users.disable_user(ANNA, now=NOW).session_version == 4
    stored = _stored(users)
    assert (stored.role, stored.session_version) == (StaffRole.SUSTAINABILITY_MANAGER, 4)


def test_an_unknown_user_is_named(users: Workflow) -> None:
    with pytest.raises(NotFound, match=r"^email: no user bo.sustainability@region.example"):
        users.disable_user(BO, now=NOW)
    with pytest.raises(NotFound, match=r"^email: no user"):
        users.set_role(BO, StaffRole.ADMIN)
