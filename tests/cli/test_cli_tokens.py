"""`cap token create|list|revoke`: the token printed once (and its warning on stderr), the list
without tokens, revoking, and one error line for each mistake."""

from __future__ import annotations

import re

from cap.clock import utcnow
from tests.cli_runner import Cap, workflow_for


def test_a_token_is_printed_once_and_listed_without_it(cap: Cap) -> None:
    out = cap.ok("token", "create", "--role", "contract_manager", "--name", "Audit firm feed",
                 "--expires", "90")  # fmt: skip
    heading, token = out.splitlines()
    assert re.fullmatch(r"token 1 for Audit firm feed \(contract_manager, until .+\):", heading)
    assert token.startswith("cap_")
    with workflow_for(cap.url) as workflow:
        assert workflow.token_user(token, now=utcnow()) is not None
    listed = cap.ok("token", "list")
    assert token not in listed and f"{token[:12]}…" in listed
    assert listed.splitlines()[0].split() == ["ID", "NAME", "ROLE", "STARTS", "CREATED",
                                              "EXPIRES", "REVOKED", "LAST", "USED"]  # fmt: skip
    [row] = cap.json("token", "list")
    assert (row["name"], row["role"], row["revoked_at"]) == ("Audit firm feed",
                                                             "contract_manager", None)  # fmt: skip
    assert cap.ok("token", "revoke", "1") == "revoked token 1 (Audit firm feed)\n"
    with workflow_for(cap.url) as workflow:
        assert workflow.token_user(token, now=utcnow()) is None
    issued = cap.json("token", "create", "--role", "viewer", "--name", "Register")
    assert issued["token"].startswith("cap_") and issued["view"]["role"] == "viewer"


def test_mistakes_are_one_line(cap: Cap) -> None:
    assert "expires: give a number of days from 1 to 3650" in cap.fails(
        "token", "create", "--role", "viewer", "--name", "Feed", "--expires", "0"
    )
    assert "'emperor' is not one of" in cap.fails(
        "token", "create", "--role", "emperor", "--name", "Feed"
    )
    assert "token: no token 9 (see `cap token list`)" in cap.fails("token", "revoke", "9")
    assert "name: give the token a name" in cap.fails(
        "token", "create", "--role", "viewer", "--name", "  "
    )
