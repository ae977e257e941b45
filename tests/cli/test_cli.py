"""The ``cap`` command line, run through its entry point against real databases.

Every test asserts effects a user sees: exit codes, stdout, stderr and the finding as
``cap finding show --json`` prints it. Setup that is not under test (a supplier and contract,
findings in a given state) goes through the workflow in-process, which is the same code the
CLI calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cap.domain.inputs import ContractInput, FindingInput, PlanInput, SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, Severity, Source, State
from cap.workflow import EvidenceFile, Workflow
from tests.cli_runner import Cap, user_error, workflow_for
from tests.conftest import ANNA, BO, CECILIA, DAVID, LI, World, empty_pg, make_world

REF = re.compile(r"^NC-(\d{4})-(\d{4})$")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ACTIONS = (
    "notify",
    "submit-plan",
    "accept-plan",
    "reject-plan",
    "report-remediation",
    "verify",
    "reject-remediation",
    "escalate",
    "request-extension",
    "extend",
    "decline-extension",
    "resume",
    "warn",
    "penalise",
    "terminate",
    "approve-termination",
    "withdraw",
)
PLAN = {
    "root_cause": "Peak-season orders were accepted without checking line capacity.",
    "actions": [
        {
            "description": "Cap overtime at 60 hours a week, including overtime.",
            "owner": "Factory HR manager",
            "due": "2027-06-30",
        },
        {
            "description": "Monthly hours report to the buyer.",
            "owner": LI,
            "due": "2027-07-31",
        },
    ],
}

DESCRIPTION = "80-hour weeks\nin peak season"


# -- helpers ---------------------------------------------------------------------------------


def ago(days: float = 0) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def iso(instant: datetime) -> str:
    """An ISO 8601 instant with the Stockholm offset, as a user would type it."""
    return instant.astimezone(STOCKHOLM).isoformat(timespec="seconds")


def today() -> date:
    return datetime.now(STOCKHOLM).date()


@dataclass
class Setup:
    """In-process setup of the state a test starts from."""

    world: World

    @property
    def wf(self) -> Workflow:
        return self.world.workflow

    def finding(self, found_days_ago: int = 120, title: str = "Forced overtime") -> str:
        return self.world.finding(
            title=title, found_on=today() - timedelta(days=found_days_ago), now=ago()
        )

    def act(self, ref: str, action: Action, at: datetime, actor: str = ANNA, **kw: Any) -> None:
        plan = PlanInput.model_validate(PLAN) if action is Action.SUBMIT_PLAN else None
        request = ActionRequest(action, actor, at, **kw)
        self.wf.act(ref, request, now=ago(), plan=plan)

    def notified(self, days_ago: float = 30, title: str = "Forced overtime") -> str:
        ref = self.finding(title=title)
        self.act(ref, Action.NOTIFY, ago(days_ago))
        return ref


@pytest.fixture
def setup(sqlite_url: str) -> Iterator[Setup]:
    with workflow_for(sqlite_url) as wf:
        yield Setup(make_world(wf))


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# -- init and the schema check ---------------------------------------------------------------


def test_init_creates_then_reports_up_to_date_and_other_commands_need_it(tmp_path: Path) -> None:
    db_file = tmp_path / "new" / "cap.db"
    db_file.parent.mkdir()
    fresh = Cap(f"sqlite:///{db_file}", tmp_path)
    # A file that is no cap database yet (a missing file is refused before: test_cli_no_database).
    (tmp_path / "empty.db").touch()
    uninitialised = Cap(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)

    first, listing = (fresh.run("init"), uninitialised.run("supplier", "list"))
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    assert db_file.exists()
    assert "up to date" in fresh.ok("init")
    line = user_error(listing, code=3)
    assert "not initialised" in line
    assert "run `cap init`" in line


def test_an_unreachable_database_is_one_line_naming_it(tmp_path: Path) -> None:
    # psycopg's message has a second line ("Is the server running...?"): only the first shows.
    nobody = Cap("postgresql+psycopg://postgres@127.0.0.1:1/cap", tmp_path)
    line = user_error(nobody.run("supplier", "list"), code=3)
    assert line.startswith("error: cannot open the database postgresql+psycopg://postgres@")
    assert "Connection refused" in line


# -- suppliers and contracts -----------------------------------------------------------------


def test_suppliers_and_contracts(cap: Cap) -> None:
    supplier = ["supplier", "add", "Nordic IT Supply AB", "--org-number", "556000-1234"]
    out = cap.ok(*supplier, "--country", "se", "--email", LI, "--contact-name", "Li Wei",
                 "--language", "en")  # fmt: skip
    assert out.strip() == "added supplier Nordic IT Supply AB (556000-1234)"

    contract = ["--category", "Personal computers", "--manager", ANNA, "--start", "2019-05-01"]
    duplicate, table, as_json, no_supplier = (
        cap.run(*supplier, "--country", "SE", "--email", "other@nordic.example"),
        cap.ok("supplier", "list"),
        cap.json("supplier", "list"),
        cap.run("contract", "add", "RS-1", "--supplier", "556999-0000", *contract),
    )
    line = user_error(duplicate, code=5)
    assert "org-number" in line
    assert "556000-1234" in line
    header, row = table.splitlines()
    assert header.split() == ["ORG", "NUMBER", "NAME", "COUNTRY", "CONTACTS"]
    assert row.startswith("556000-1234")
    assert "Nordic IT Supply AB" in row
    assert f"{LI} (en)" in row
    assert as_json == [
        {
            "name": "Nordic IT Supply AB",
            "org_number": "556000-1234",
            "country": "SE",
            "contacts": [{"name": "Li Wei", "email": LI, "language": "en"}],
        }
    ]
    line = user_error(no_supplier, code=4)
    assert "supplier" in line
    assert "556999-0000" in line

    out = cap.ok("contract", "add", "RS-2019-ICT-01", "--supplier", "556000-1234", *contract)
    assert out.strip() == "added contract RS-2019-ICT-01 with Nordic IT Supply AB"
    duplicate, as_json = (
        cap.run("contract", "add", "RS-2019-ICT-01", "--supplier", "556000-1234",
                        *contract),
        cap.json("contract", "list"),
    )  # fmt: skip
    line = user_error(duplicate, code=5)
    assert "reference" in line
    assert "RS-2019-ICT-01" in line
    assert [(c["reference"], c["supplier_org_number"], c["start"], c["end"]) for c in as_json] == [
        ("RS-2019-ICT-01", "556000-1234", "2019-05-01", None)
    ]


# -- the whole lifecycle ---------------------------------------------------------------------


def test_full_lifecycle_through_the_cli(cap: Cap, setup: Setup, tmp_path: Path) -> None:
    add = ["finding", "add", "--contract", setup.world.contract, "--severity", "major",
           "--area", "working_hours", "--source", "factory_audit",
           "--found-on", (today() - timedelta(days=90)).isoformat()]  # fmt: skip
    first = cap.ok(*add, "--title", "Forced overtime at final assembly", "--site", "Dongguan",
                   "--site-country", "cn", "--description", DESCRIPTION)  # fmt: skip
    ref = first.rstrip("\n")
    assert REF.match(ref), first
    assert first == ref + "\n", "the ref alone on stdout"
    plan = write_json(tmp_path / "plan.json", PLAN)
    (tmp_path / "audit-photos.pdf").write_bytes(b"%PDF-1.4 photos")
    (tmp_path / "payroll.csv").write_bytes(b"week;hours\n12;58\n")

    second, out = (
        cap.ok(*add, "--title", "Unpaid overtime"),
        cap.ok("finding", "notify", ref, "--at", iso(ago(60))),
    )
    m1, m2 = REF.match(ref), REF.match(second.strip())
    assert m1 and m2, second
    assert second == m2.group(0) + "\n"
    assert m2.group(1) == m1.group(1)
    assert int(m2.group(2)) == int(m1.group(2)) + 1

    assert "open -> awaiting_plan" in out
    found = dict(re.findall(r"^  (plan|remediation) due (\d{4}-\d{2}-\d{2})", out, re.M))
    assert set(found) == {"plan", "remediation"}, out
    cap.ok("finding", "submit-plan", ref, "--file", str(plan), "--at", iso(ago(50)), actor=LI)
    out = cap.ok("finding", "reject-plan", ref, "--reason", "No root cause analysis",
                 "--at", iso(ago(49)), actor=BO)  # fmt: skip
    assert "plan_review -> awaiting_plan" in out
    revision = re.search(r"^  plan due (\d{4}-\d{2}-\d{2})", out, re.M)
    assert revision, out
    assert found["plan"] != revision.group(1)
    cap.ok("finding", "submit-plan", ref, "--file", str(plan), "--at", iso(ago(45)), actor=LI)
    cap.ok("finding", "accept-plan", ref, "--note", "Good plan", "--at", iso(ago(44)), actor=BO)
    cap.ok("finding", "report-remediation", ref, "--evidence", str(tmp_path / "audit-photos.pdf"),
           "--at", iso(ago(20)), actor=LI)  # fmt: skip
    cap.ok("finding", "reject-remediation", ref, "--reason", "Photos show the old rota",
           "--at", iso(ago(19)), actor=BO)  # fmt: skip
    reported = cap.json("finding", "report-remediation", ref, "--evidence",
                        str(tmp_path / "payroll.csv"), "--note", "Payroll attached",
                        "--at", iso(ago(10)), actor=LI)  # fmt: skip
    out = cap.ok("finding", "verify", ref, "--note", "Verified on site", actor=BO)
    assert "verifying -> closed" in out

    copy = tmp_path / "copy.csv"
    evidence_id = str(reported["evidence"][-1]["id"])
    saved = cap.ok("finding", "evidence", ref, evidence_id, "--out", str(copy))
    view = cap.show(ref)
    assert saved.startswith("wrote payroll.csv")
    assert copy.read_bytes() == (tmp_path / "payroll.csv").read_bytes()
    assert {"ref", "state", "severity", "area", "plan_due", "remediation_due",
            "escalation_level", "events"} <= view.keys()  # fmt: skip
    assert (view["ref"], view["state"], view["severity"], view["area"]) == (
        ref,
        "closed",
        "major",
        "working_hours",
    )
    assert view["plan_due"] == revision.group(1)
    assert view["remediation_due"] == found["remediation"]
    assert date.fromisoformat(view["plan_due"]) and date.fromisoformat(view["remediation_due"])
    assert view["escalation_level"] == 0
    assert view["site_country"] == "CN"
    assert view["description"] == DESCRIPTION
    assert view["allowed_actions"] == []
    trail = [(e["kind"], e["actor"], e["from_state"], e["to_state"]) for e in view["events"]]
    assert trail == [
        ("logged", ANNA, None, "open"),
        ("notify", ANNA, "open", "awaiting_plan"),
        ("submit_plan", LI, "awaiting_plan", "plan_review"),
        ("reject_plan", BO, "plan_review", "awaiting_plan"),
        ("submit_plan", LI, "awaiting_plan", "plan_review"),
        ("accept_plan", BO, "plan_review", "remediating"),
        ("report_remediation", LI, "remediating", "verifying"),
        ("reject_remediation", BO, "verifying", "remediating"),
        ("report_remediation", LI, "remediating", "verifying"),
        ("verify", BO, "verifying", "closed"),
    ]
    for event in view["events"]:
        assert {"at", "actor", "kind", "from_state", "to_state"} <= event.keys()
        assert datetime.fromisoformat(event["at"]).tzinfo is not None
    # Actions are stamped with when they happened (--at), in the order they happened; the
    # logged event carries the time the finding was recorded.
    action_times = [datetime.fromisoformat(e["at"]) for e in view["events"][1:]]
    assert action_times == sorted(action_times)
    assert view["events"][3]["data"]["reason"] == "No root cause analysis"
    assert [(p["version"], p["review_outcome"]) for p in view["plans"]] == [
        (1, "rejected"),
        (2, "accepted"),
    ]
    assert view["plans"][0]["actions"][0]["owner"] == "Factory HR manager"
    assert [(e["file_name"], e["size"], e["uploaded_by"]) for e in view["evidence"]] == [
        ("audit-photos.pdf", (tmp_path / "audit-photos.pdf").stat().st_size, LI),
        ("payroll.csv", (tmp_path / "payroll.csv").stat().st_size, LI),
    ]


def test_sanction_review_decisions(cap: Cap, setup: Setup) -> None:
    terminated, returning = setup.notified(title="Child labour"), setup.notified()
    # A termination proposal dropped when the review ended without approval.
    dropped = setup.notified(title="Excessive overtime")
    setup.act(dropped, Action.ESCALATE, ago(), reason="Late plan")
    setup.act(dropped, Action.TERMINATE, ago(), actor=CECILIA, reason="Repeat offence")
    setup.act(dropped, Action.RESUME, ago(), actor=DAVID, reason="Plan arrived")

    def terminate() -> tuple[str, dict[str, Any], str]:
        out = cap.ok("finding", "escalate", terminated, "--reason", "No plan after two reminders")
        assert "awaiting_plan -> sanction_review" in out
        out = cap.ok("finding", "terminate", terminated, "--reason", "Child labour",
                     actor=CECILIA)  # fmt: skip
        assert "still sanction_review" in out
        refused = cap.fails("finding", "approve-termination", terminated, code=6,
                            actor=CECILIA.upper())  # fmt: skip
        view = cap.json("finding", "approve-termination", terminated, actor=DAVID)
        return refused, view, cap.ok("finding", "show", terminated)

    refused, view, shown = terminate()
    shown_dropped = cap.ok("finding", "show", dropped)
    # On another finding: each decision returns to the state it came from.
    returned = []
    for before, decision in (
        (None, "warn"),
        (Action.SUBMIT_PLAN, "penalise"),
        (Action.ACCEPT_PLAN, "resume"),
    ):
        if before is not None:
            setup.act(returning, before, ago(), actor=LI)
        setup.act(returning, Action.ESCALATE, ago(), reason="Late")
        decided = cap.json("finding", decision, returning, "--reason", f"Decided: {decision}")
        returned.append((decided["events"][-1]["from_state"], decided["state"]))
    setup.act(returning, Action.ESCALATE, ago(), reason="Late")
    until = date.fromisoformat(decided["remediation_due"]) + timedelta(days=21)
    extended = cap.json("finding", "extend", returning, "--until", until.isoformat(),
                        "--reason", "Factory fire", actor=CECILIA)  # fmt: skip

    assert "different person" in refused
    assert view["state"] == "terminated"
    assert view["allowed_actions"] == []
    assert [(d["outcome"], d["proposed_by"], d["approved_by"]) for d in view["decisions"]] == [
        ("termination", CECILIA, DAVID)
    ]
    assert [(e["kind"], e["actor"]) for e in view["events"][-3:]] == [
        ("escalate", ANNA),
        ("terminate", CECILIA),
        ("approve_termination", DAVID),
    ]
    assert "awaiting approval" not in shown
    assert f"approved by {DAVID}" in shown
    assert f"termination ({CECILIA}, not approved): Repeat offence" in shown_dropped
    assert "awaiting approval" not in shown_dropped

    assert returned == [
        ("sanction_review", "awaiting_plan"),
        ("sanction_review", "plan_review"),
        ("sanction_review", "remediating"),
    ]
    assert (extended["state"], extended["extensions"]) == ("remediating", 1)
    assert date.fromisoformat(extended["remediation_due"]) >= until
    assert [(d["outcome"], d["proposed_by"]) for d in extended["decisions"]] == [
        ("warning", ANNA),
        ("penalty", ANNA),
        ("resumed", ANNA),
        ("extension", CECILIA),
    ]


# -- refusals and user errors ----------------------------------------------------------------


def test_refused_action_changes_nothing(cap: Cap, setup: Setup) -> None:
    ref = setup.finding()
    before = setup.wf.show_finding(ref, now=ago())
    line = cap.fails("finding", "accept-plan", ref, code=6)
    assert "accept-plan" in line
    assert "open" in line
    assert "allowed now: notify, withdraw" in line
    after = cap.show(ref)
    assert after["version"] == before.version
    assert len(after["events"]) == len(before.events) == 1
    assert after["state"] == "open"


def test_user_errors_are_one_line_without_traceback(cap: Cap, setup: Setup, tmp_path: Path) -> None:
    opened = setup.finding()
    awaiting = setup.notified(days_ago=20)
    remediating = setup.notified(days_ago=20)
    setup.act(remediating, Action.SUBMIT_PLAN, ago(15), actor=LI)
    setup.act(remediating, Action.ACCEPT_PLAN, ago(14))
    (attached,) = setup.wf.add_evidence(
        remediating, [EvidenceFile("rota.pdf", b"%PDF")], actor=LI, now=ago()
    )
    not_json = tmp_path / "plan.json"
    not_json.write_text("root_cause: overtime\n", encoding="utf-8")
    no_actions = write_json(tmp_path / "empty-plan.json", {"root_cause": "x", "actions": []})
    big = tmp_path / "big.pdf"
    big.write_bytes(b"x" * 5000)
    add = ["finding", "add", "--contract", setup.world.contract, "--area", "wages",
           "--source", "other"]  # fmt: skip

    # (arguments, run options, expected exit code, words the message must contain)
    cases: list[tuple[Sequence[str], dict[str, Any], int | None, Sequence[str]]] = [
        (["finding", "notify", opened, "--at", "2026-03-02T10:00:00"], {}, 2,
         ["at:", "no UTC offset"]),
        (["finding", "notify", opened, "--at", "last tuesday"], {}, 2, ["at:", "ISO 8601"]),
        (["finding", "extend", awaiting, "--until", "2026-02-30", "--reason", "x"], {}, 2,
         ["until:", "2026-02-30", "YYYY-MM-DD"]),
        (["finding", "show", "NC-1999-0001"], {}, 4, ["NC-1999-0001", "does not exist"]),
        (["finding", "notify", opened], {"actor": None}, 2, ["--as", "CAP_ACTOR"]),
        (["finding", "notify", opened, "--at", iso(ago(-2))], {}, 2, ["at:", "in the future"]),
        (["finding", "submit-plan", awaiting, "--file", str(not_json)], {"actor": LI}, 2,
         ["file:", "not valid JSON"]),
        (["finding", "submit-plan", awaiting, "--file", str(no_actions)], {"actor": LI}, 2,
         ["actions"]),
        (["finding", "report-remediation", remediating, "--evidence", str(big)],
         {"actor": LI, "env": {"CAP_EVIDENCE_MAX_BYTES": "1000"}}, 2,
         ["big.pdf", "5,000", "1,000", "CAP_EVIDENCE_MAX_BYTES"]),
        ([*add, "--severity", "major", "--title", "Overtime\r\nBcc: x@y"], {}, 2,
         ["title:", "one line"]),
        (["finding", "list"], {"env": {"CAP_EVIDENCE_MAX_BYTES": "lots"}}, 2,
         ["CAP_EVIDENCE_MAX_BYTES"]),
        (["finding", "list"], {"env": {"CAP_DECISION_MAKERS": f"{ANNA}, cecilia"}}, 2,
         ["CAP_DECISION_MAKERS: 'cecilia' is not an email address"]),
        (["outbox", "send"], {"env": {"CAP_MAIL_FROM": "cap@region.example\r\nBcc: x@y"}}, 2,
         ["CAP_MAIL_FROM:", "is not a sender address"]),
        (["finding", "evidence", remediating, str(attached.id), "--out",
          str(tmp_path / "no-such-dir" / "rota.pdf")], {}, 2, ["out:", "cannot write"]),
    ]  # fmt: skip

    def check(case: tuple[Sequence[str], dict[str, Any], int | None, Sequence[str]]) -> None:
        args, options, code, words = case
        line = cap.fails(*args, code=code, **options)
        for word in words:
            assert word in line, (args, line)

    for case in cases:
        check(case)
    bad_enum = cap.run(*add, "--severity", "catastrophic", "--title", "Overtime")
    assert bad_enum.returncode == 2
    assert "catastrophic" in bad_enum.stderr
    assert "Traceback" not in bad_enum.stderr

    rows = cap.json("finding", "list")
    assert [(r["ref"], r["state"]) for r in rows] == [
        (opened, "open"),
        (awaiting, "awaiting_plan"),
        (remediating, "remediating"),
    ]


def test_if_version_refuses_a_stale_version(cap: Cap, setup: Setup) -> None:
    ref = setup.finding()
    seen = setup.wf.show_finding(ref, now=ago()).version
    setup.act(ref, Action.NOTIFY, ago())  # someone else acts after the user looked
    line = cap.fails("finding", "withdraw", ref, "--reason", "Duplicate", "--if-version",
                     str(seen), code=7)  # fmt: skip
    assert ref in line
    assert f"changed since version {seen}" in line
    after = cap.show(ref)
    assert (after["version"], after["state"]) == (seen + 1, "awaiting_plan")
    assert [e["kind"] for e in after["events"]] == ["logged", "notify"]
    view = cap.json("finding", "withdraw", ref, "--reason", "Duplicate", "--if-version",
                    str(after["version"]))  # fmt: skip
    assert (view["version"], view["state"]) == (seen + 2, "withdrawn")


# -- listing ---------------------------------------------------------------------------------


def test_finding_list_filters(cap: Cap, setup: Setup) -> None:
    late = setup.finding(found_days_ago=120, title="Late plan")
    setup.act(late, Action.NOTIFY, ago(days=91))
    fresh = setup.notified(days_ago=0, title="Fresh notice")
    setup.wf.add_supplier(
        SupplierInput(name="Bright Displays Ltd", org_number="GB-0987", country="GB",
                      email="qa@bright.example"),
        now=ago(),
    )  # fmt: skip
    setup.wf.add_contract(
        ContractInput(reference="RS-2021-ICT-07", supplier="GB-0987", category="Monitors",
                      manager=ANNA),
        now=ago(),
    )  # fmt: skip
    other = setup.wf.log_finding(
        FindingInput(
            contract="RS-2021-ICT-07",
            severity=Severity.CRITICAL,
            area=Area.HEALTH_AND_SAFETY,
            source=Source.WORKER_COMPLAINT,
            title="Blocked fire exits",
        ),
        actor=BO,
        now=ago(),
    )

    awaiting, supplier, overdue, table, unknown = (
        cap.json("finding", "list", "--state", "awaiting_plan"),
        cap.json("finding", "list", "--supplier", "GB-0987"),
        cap.json("finding", "list", "--overdue"),
        cap.ok("finding", "list", "--overdue"),
        cap.run("finding", "list", "--supplier", "XX-0000"),
    )
    assert [r["ref"] for r in awaiting] == [late, fresh]
    assert [(r["ref"], r["supplier"], r["state"]) for r in supplier] == [
        (other, "Bright Displays Ltd", "open")
    ]
    assert [(r["ref"], r["overdue"], r["current_deadline"]) for r in overdue] == [
        (late, True, "plan")
    ]
    assert date.fromisoformat(overdue[0]["due"]) < today()
    header, *rows = table.splitlines()
    assert header.split()[:3] == ["REF", "STATE", "SEVERITY"]
    assert len(rows) == 1
    assert rows[0].startswith(late)
    assert " yes " in rows[0]
    assert "XX-0000" in user_error(unknown, code=4)


# -- messages name what the user typed -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["supplier", "add", "Acme", "--org-number", "556000-9999", "--country", "SWE",
             "--email", "qa@acme.example"],
            "error: country: 'SWE' is not a two-letter country code",
            id="country",
        ),
        pytest.param(
            ["supplier", "add", "Acme", "--org-number", "556000-9999", "--country", "SE",
             "--email", "björn@acme.example"],
            "error: email: 'björn@acme.example' has letters outside ASCII",
            id="non-ascii-email",
        ),
        pytest.param(
            ["contract", "add", "RS-9", "--supplier", "556000-1234", "--category", "PCs",
             "--manager", "anna"],
            "error: manager: 'anna' is not an email address",
            id="manager-email",
        ),
        pytest.param(
            ["contract", "add", "RS-9", "--supplier", "556000-1234", "--category", "PCs",
             "--manager", ANNA, "--start", "2026-05-01", "--end", "2026-01-01"],
            "error: end: ",
            id="end-before-start",
        ),
        pytest.param(
            ["finding", "add", "--contract", "RS-0000-NOPE", "--severity", "major", "--area",
             "wages", "--source", "other", "--title", "Overtime"],
            "error: contract: RS-0000-NOPE does not exist",
            id="unknown-contract",
        ),
        pytest.param(
            ["finding", "add", "--contract", "RS-2019-ICT-01", "--severity", "major", "--area",
             "wages", "--source", "other", "--title", "x" * 201],
            "error: title: is too long; at most 200 characters",
            id="title-too-long",
        ),
    ],
)  # fmt: skip
def test_messages_name_the_option(cap: Cap, setup: Setup, args: list[str], expected: str) -> None:
    assert setup.world.contract == "RS-2019-ICT-01"
    line = cap.fails(*args)
    assert line.startswith(expected), line


# -- help and the diagram --------------------------------------------------------------------


def test_help_and_lifecycle_diagram(cap: Cap) -> None:
    top, finding, diagram = (
        cap.ok("--help"),
        cap.ok("finding", "--help"),
        cap.ok("lifecycle", "diagram"),
    )
    for group in ("init", "supplier", "contract", "finding", "lifecycle"):
        assert re.search(rf"^\s+{group}\s", top, re.M), group
    for command in ("add", "list", "show", "import", "attach", *ACTIONS):
        assert re.search(rf"^\s+{command}\s", finding, re.M), command

    assert "stateDiagram-v2" in diagram
    for state in State:
        assert state.name in diagram, state
    assert re.search(r"^\s*OPEN --> AWAITING_PLAN: notify$", diagram, re.M)


# -- both databases --------------------------------------------------------------------------


@pytest.mark.parametrize("database", ["sqlite_url", "pg_url"])
def test_add_notify_show_on_each_database(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: str = request.getfixturevalue(database)
    if database == "pg_url":
        empty_pg(url)
    with workflow_for(url) as wf:
        world = make_world(wf)
    cap = Cap(url, tmp_path, actor=ANNA)
    ref = cap.ok("finding", "add", "--contract", world.contract, "--severity", "critical",
                 "--area", "child_labour", "--source", "worker_complaint",
                 "--title", "Child labour at Åsa's sub-supplier",
                 "--found-on", (today() - timedelta(days=10)).isoformat()).strip()  # fmt: skip
    assert REF.match(ref)
    out = cap.ok("finding", "notify", ref, "--at", iso(ago(days=5)), actor=BO)
    assert "plan due" in out
    view = cap.show(ref)
    assert (view["state"], view["severity"], view["title"]) == (
        "awaiting_plan",
        "critical",
        "Child labour at Åsa's sub-supplier",
    )
    assert view["plan_due"] and view["remediation_due"]
    assert [(e["kind"], e["actor"]) for e in view["events"]] == [("logged", ANNA), ("notify", BO)]
