"""The desk's user use cases by id: the last active administrator keeps the role and the
access (the command line's, by email, still lets them go), a generated password."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from cap.domain.model import StaffRole
from cap.errors import ActionRefused, NotFound
from cap.workflow import Workflow
from cap.workflow.users import LastAdmin, check_password, generate_password
from tests.conftest import ANNA, BO, NOW

PASSWORD = "correct horse battery"


@pytest.fixture
def users(workflow: Workflow) -> Workflow:
    workflow.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    workflow.add_user(ANNA, StaffRole.ADMIN, PASSWORD, now=NOW)
    workflow.add_user(BO, StaffRole.VIEWER, PASSWORD, now=NOW)
    return workflow


def _id(workflow: Workflow, email: str) -> int:
    return next(u.id for u in workflow.list_users() if u.email == email)


def test_the_last_active_admin_keeps_the_role_and_the_access(users: Workflow) -> None:
    anna = _id(users, ANNA)
    with pytest.raises(LastAdmin, match=rf"^role: {ANNA} is the last active administrator"):
        users.set_role_by_id(anna, StaffRole.VIEWER)
    with pytest.raises(LastAdmin, match=rf"^user: {ANNA} is the last active administrator"):
        users.disable_user_by_id(anna, now=NOW)
    kept = users.user_by_id(anna)
    assert (kept.role, kept.disabled_at, kept.session_version) == (StaffRole.ADMIN, None, 1)
    assert users.set_role_by_id(anna, StaffRole.ADMIN).session_version == 1  # no change


def test_with_another_active_admin_either_may_go(users: Workflow) -> None:
    anna, bo = _id(users, ANNA), _id(users, BO)
    assert users.set_role_by_id(bo, StaffRole.ADMIN).session_version == 2
    assert users.disable_user_by_id(anna, now=NOW).disabled_at == NOW
    # A disabled administrator is no administrator: Bo is the last one now.
    with pytest.raises(LastAdmin):
        users.set_role_by_id(bo, StaffRole.CONTRACT_MANAGER)
    with pytest.raises(ActionRefused, match=rf"^user: {ANNA} is already disabled"):
        users.disable_user_by_id(anna, now=NOW)
    assert users.set_role_by_id(anna, StaffRole.VIEWER).role is StaffRole.VIEWER


def test_the_command_line_may_still_disable_the_last_admin(users: Workflow) -> None:
    assert users.disable_user(ANNA, now=NOW).disabled_at == NOW
    assert users.set_role(BO, StaffRole.ADMIN).role is StaffRole.ADMIN


def test_a_new_password_by_id_ends_the_sessions(users: Workflow) -> None:
    bo = _id(users, BO)
    assert users.set_password_by_id(bo, "a brand new passphrase").session_version == 2
    assert users.authenticate(BO, PASSWORD, "203.0.113.5", NOW).user is None
    assert users.authenticate(BO, "a brand new passphrase", "203.0.113.5", NOW).user is not None


def test_an_unknown_id_is_named(users: Workflow) -> None:
    unknown = r"^user: no user with id 999"
    with pytest.raises(NotFound, match=unknown):
        users.user_by_id(999)
    with pytest.raises(NotFound, match=unknown):
        users.set_role_by_id(999, StaffRole.ADMIN)
    with pytest.raises(NotFound, match=unknown):
        users.disable_user_by_id(999, now=NOW)
    with pytest.raises(NotFound, match=unknown):
        users.set_password_by_id(999, PASSWORD)


def test_a_generated_password_passes_the_rules_and_differs_each_time() -> None:
    made = {generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        check_password(password)
        assert len(password) == 23 and password.count("-") == 3
        assert not set(password) & set("0O1lI")
