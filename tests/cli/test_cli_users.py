"""`cap user`: add (password from standard input or a hidden prompt), list, disable, enable,
set-role."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from cap.domain.model import StaffRole
from tests.cli_runner import Cap, user_error, workflow_for
from tests.conftest import ANNA, BO, NOW

PASSWORD = "correct horse battery"
Typed = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def typed(cap: Cap) -> Typed:
    """``cap ARGS`` with ``stdin`` as what is typed or piped in."""

    def run(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
        return cap.run(*args, stdin=stdin)

    return run


def _signs_in(cap: Cap, email: str, password: str) -> bool:
    with workflow_for(cap.url) as workflow:
        return workflow.authenticate(email, password, "127.0.0.1", NOW).user is not None


def test_add_reads_the_password_from_stdin(cap: Cap, typed: Typed) -> None:
    done = typed(f"{PASSWORD}\n", "user", "add", ANNA, "--role", "admin", "--name", "Anna",
                 "--password-stdin")  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, f"added user {ANNA} (admin)\n", "")
    assert _signs_in(cap, ANNA, PASSWORD)  # the final line break is not the password's
    assert not _signs_in(cap, ANNA, PASSWORD + "\n")


def test_add_asks_twice_without_showing_the_password(cap: Cap, typed: Typed) -> None:
    done = typed(f"{PASSWORD}\n{PASSWORD}\n", "user", "add", BO, "--role", "viewer")
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert "Password:" in done.stdout and "Repeat for confirmation:" in done.stdout
    assert done.stdout.endswith(f"added user {BO} (viewer)\n")
    assert _signs_in(cap, BO, PASSWORD)


def test_a_short_password_is_refused_without_being_repeated(cap: Cap, typed: Typed) -> None:
    done = typed("eleven char\n", "user", "add", ANNA, "--role", "admin", "--password-stdin")
    line = user_error(done, 2)
    assert line.startswith("error: password: too short") and "eleven char" not in line
    assert "(none)" in cap.ok("user", "list")


def test_list_set_role_and_disable(cap: Cap, typed: Typed) -> None:
    typed(PASSWORD, "user", "add", ANNA, "--role", "admin", "--password-stdin")
    typed(PASSWORD, "user", "add", BO, "--role", "viewer", "--name", "Bo", "--password-stdin")
    assert cap.ok("user", "set-role", BO.upper(), "sustainability_manager") == (
        f"{BO} is now sustainability_manager\n"
    )
    assert cap.ok("user", "disable", ANNA) == f"disabled user {ANNA}\n"
    listed = cap.ok("user", "list").splitlines()
    assert listed[0].split() == ["EMAIL", "NAME", "ROLE", "ADDED", "DISABLED"]
    assert listed[1].split()[:3] == [ANNA, "-", "admin"] and listed[1].split()[-1] != "-"
    assert listed[2].split()[:3] == [BO, "Bo", "sustainability_manager"]
    assert listed[2].split()[-1] == "-"
    rows = cap.json("user", "list")
    assert [(r["email"], r["role"], r["session_version"]) for r in rows] == [
        (ANNA, StaffRole.ADMIN, 2),
        (BO, StaffRole.SUSTAINABILITY_MANAGER, 2),
    ]
    assert rows[0]["disabled_at"] is not None and rows[1]["disabled_at"] is None
    assert "hash" not in str(rows) and "argon2" not in str(rows)


def test_errors_are_one_line_with_their_exit_code(cap: Cap, typed: Typed) -> None:
    typed(PASSWORD, "user", "add", ANNA, "--role", "admin", "--password-stdin")
    taken = typed(PASSWORD, "user", "add", ANNA.upper(), "--role", "viewer", "--password-stdin")
    assert user_error(taken, 5) == f"error: email: a user {ANNA} already exists"
    assert cap.fails("user", "disable", BO, code=4).startswith(f"error: email: no user {BO}")
    assert cap.fails("user", "set-role", BO, "viewer", code=4).startswith("error: email: no user")
    assert cap.fails("user", "set-role", ANNA, "boss", code=2).startswith("error: role: 'boss'")
    cap.ok("user", "disable", ANNA)
    assert "already disabled" in cap.fails("user", "disable", ANNA, code=6)
    assert cap.ok("user", "enable", ANNA) == f"enabled user {ANNA}: they can sign in again\n"
    assert cap.fails("user", "enable", ANNA, code=6) == f"error: email: {ANNA} is not disabled"
    assert cap.fails("user", "enable", BO, code=4).startswith(f"error: email: no user {BO}")
