"""Roles the rules send to that have no address are found before anything is sent: the
health check and the status page list them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from pydantic import SecretStr

from cap.config import Settings
from cap.domain.model import Role
from cap.web.app import create_app
from cap.worker import Worker
from cap.workflow import UnaddressedRole, unaddressed_roles
from tests.cli_runner import Cap
from tests.conftest import DEFAULT_DEADLINES

#: What the shipped rules send to each buyer role without an address of its own.
SUSTAINABILITY = UnaddressedRole(
    Role.SUSTAINABILITY_MANAGER,
    "CAP_SUSTAINABILITY_MANAGER",
    (
        "E-plan-14d",
        "E-plan-7d-critical",
        "E-remediation-30d",
        "E-remediation-7d-critical",
        "E-report-14d",
        "E-report-30d",
        "N-critical-alert",
        "N-sanction-review",
    ),
)
DECISION_MAKERS = UnaddressedRole(
    Role.DECISION_MAKERS,
    "CAP_DECISION_MAKERS",
    (
        "E-plan-30d",
        "E-plan-14d-critical",
        "E-remediation-60d",
        "E-remediation-14d-critical",
        "E-report-30d",
        "N-sanction-review",
    ),
)


def staffed(decision_makers: str = "", sustainability_manager: str = "") -> Settings:
    """Settings with these people alone (Settings read the environment, which may set them)."""
    return Settings(decision_makers=decision_makers, sustainability_manager=sustainability_manager)


def test_each_role_without_an_address_is_listed_with_the_rules_that_send_to_it() -> None:
    assert unaddressed_roles(staffed()) == [SUSTAINABILITY, DECISION_MAKERS]
    assert unaddressed_roles(staffed(decision_makers="cecilia@region.example")) == [SUSTAINABILITY]
    everyone = staffed("cecilia@region.example", "bo@region.example")
    assert unaddressed_roles(everyone) == []
    assert str(DECISION_MAKERS) == (
        "CAP_DECISION_MAKERS is not set: the decision_makers get no email from rules "
        "E-plan-30d, E-plan-14d-critical, E-remediation-60d, E-remediation-14d-critical, "
        "E-report-30d, N-sanction-review"
    )


def test_rules_that_never_send_to_a_role_need_no_address_for_it(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "version = 1\n"
        + DEFAULT_DEADLINES
        + """
[[step]]
id = "E-plan-30d"
deadline = "plan"
offset = "+30 days"
to = ["decision_makers"]
template = "sanction_review_opened"
level = 3
action = "escalate"
""",
        encoding="utf-8",
    )
    assert unaddressed_roles(staffed().model_copy(update={"rules": rules})) == [
        UnaddressedRole(Role.DECISION_MAKERS, "CAP_DECISION_MAKERS", ("E-plan-30d",))
    ]


def test_the_health_check_warns_and_stays_healthy(cap: Cap, sqlite_url: str) -> None:
    worker = Worker(Settings(database_url=sqlite_url), owner="alive")
    worker.heartbeat("sweep", {})
    worker.db.engine.dispose()

    text = cap.run("worker", "--check")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("healthy: alive alive")
    assert text.stderr.splitlines() == [f"warning: {SUSTAINABILITY}", f"warning: {DECISION_MAKERS}"]

    staffed = {"CAP_DECISION_MAKERS": "cecilia@region.example"}
    as_json = cap.run("worker", "--check", "--json", env=staffed)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["healthy"] is True
    assert report["warnings"] == [str(SUSTAINABILITY)]

    everyone = {**staffed, "CAP_SUSTAINABILITY_MANAGER": "bo@region.example"}
    quiet = cap.run("worker", "--check", "--json", env=everyone)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["warnings"] == []

    # Rules broken since the workers started: they run on theirs, a new one would not start.
    (cap.tmp / "broken.toml").write_text('version = 1\n[[step]]\nid = "x"\n', encoding="utf-8")
    broken = cap.run("worker", "--check", env={"CAP_RULES": str(cap.tmp / "broken.toml")})
    assert broken.returncode == 0, broken.stderr
    [line] = broken.stderr.splitlines()
    assert line.startswith("warning: ") and "rule 'x'" in line, line
    assert line.endswith("(a worker started now would refuse to run)"), line


def status_page(settings: Settings) -> httpx.Response:
    keyed = settings.model_copy(update={"secret_key": SecretStr("k" * 32)})  # the app needs one

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(keyed))
        async with httpx.AsyncClient(transport=transport, base_url="http://cap") as client:
            return await client.get("/")

    return asyncio.run(get())


def test_the_status_page_lists_the_warnings(sqlite_url: str) -> None:
    unset = status_page(staffed().model_copy(update={"database_url": sqlite_url}))
    assert unset.status_code == 200
    assert '<ul id="warnings"' in unset.text
    assert f"<li>warning: {SUSTAINABILITY}</li>" in unset.text
    assert f"<li>warning: {DECISION_MAKERS}</li>" in unset.text

    everyone = staffed("cecilia@region.example", "bo@region.example")
    page = status_page(everyone.model_copy(update={"database_url": sqlite_url})).text
    assert 'id="warnings"' not in page and "<li>warning:" not in page
