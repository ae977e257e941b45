"""`cap audit add|list`, `cap plan audits|show` and `cap finding add --audit`: the tables, the
JSON, and one error line (naming the option, nothing written) for bad input."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli_runner import Cap
from tests.conftest import World
from tests.test_risk_scoring import rules_file

NORDIC = "556000-1234"
BALTIC = "304518772"
#: The CLI's day is the real one: an audit of ten days ago scores the same whenever it runs.
RECENT = date.today() - timedelta(days=10)
YEAR = str(RECENT.year)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The rules of tests/test_risk_scoring.py (weights adding up to 10)."""
    return {"CAP_RISK_RULES": str(rules_file(tmp_path))}


@pytest.fixture
def two(cap: Cap, world: World) -> Cap:
    """Nordic IT Supply AB (SE, a finding at a site in CN: 50 while never audited) with
    contract RS-2019-ICT-01 from 2019-05-01; Baltic Office Tech UAB (LT: 30 while never
    audited) with contract BO-1 from 2024-01-01."""
    world.finding()
    cap.ok("supplier", "add", "Baltic Office Tech UAB", "--org-number", BALTIC,
           "--country", "LT", "--email", "info@baltic.example")  # fmt: skip
    cap.ok("contract", "add", "BO-1", "--supplier", BALTIC, "--category", "Monitors",
           "--manager", "anna.manager@region.example", "--start", "2024-01-01")  # fmt: skip
    return cap


def add_audit(cap: Cap, org: str, *more: str, held_on: date = RECENT) -> str:
    return cap.ok("audit", "add", org, "--kind", "desktop", "--date", held_on.isoformat(),
                  "--auditor", "Ethica Consulting", "--report", "ETH-2025-03", *more)  # fmt: skip


def test_an_audit_is_added_and_listed(two: Cap) -> None:
    assert add_audit(two, BALTIC, "--contract", "BO-1", held_on=date(2025, 5, 2)) == (
        f"audit 1: desktop audit of Baltic Office Tech UAB ({BALTIC}) on 2025-05-02\n"
    )
    view = two.json("audit", "add", NORDIC, "--kind", "site", "--date", "2025-06-01",
                    "--auditor", "Amfori", "--report", "AM-7")  # fmt: skip
    assert {k: view[k] for k in ("id", "supplier_org_number", "contract", "kind", "held_on",
                                 "plan_year", "created_by")} == {
        "id": 2, "supplier_org_number": NORDIC, "contract": None, "kind": "site",
        "held_on": "2025-06-01", "plan_year": None, "created_by": "anna.manager@region.example",
    }  # fmt: skip
    lines = two.ok("audit", "list").splitlines()
    assert lines[0].split() == ["ID", "HELD", "ON", "KIND", "ORG", "NUMBER", "SUPPLIER",
                                "CONTRACT", "AUDITOR", "REPORT", "PLAN"]  # fmt: skip
    assert lines[1].split() == ["2", "2025-06-01", "site", NORDIC, "Nordic", "IT", "Supply",
                                "AB", "-", "Amfori", "AM-7", "-"]  # fmt: skip
    assert lines[2].split()[:4] == ["1", "2025-05-02", "desktop", BALTIC]
    assert [a["id"] for a in two.json("audit", "list", "--supplier", BALTIC)] == [1]


def test_a_plan_is_a_ranked_table_with_the_ones_left_out(two: Cap, env: dict[str, str]) -> None:
    add_audit(two, BALTIC)  # in BO-1's period: Baltic is left out (and scores 10)
    lines = two.ok("plan", "audits", "--year", YEAR, "--capacity", "100%", env=env)
    assert lines.splitlines() == [
        f"Audit plan {YEAR} (saved): capacity 100% of 2 suppliers with a contract in force, "
        "1 chosen",
        "RANK  ORG NUMBER   NAME                 SCORE  WHY",
        "1     556000-1234  Nordic IT Supply AB  50.0   score 50.0, top factor country; never "
        "audited",
        "left out (one desktop audit per contract period):",
        "  ORG NUMBER  NAME                    SCORE  REASON",
        "  304518772   Baltic Office Tech UAB  10.0   desktop audit already held in the period "
        f"of BO-1 (2024-01-01..open) on {RECENT.isoformat()}",
    ]
    shown = two.ok("plan", "show", "--year", YEAR).splitlines()
    assert shown[0].startswith(f"Audit plan {YEAR}: capacity 100%, 1 chosen; made ")
    assert shown[1].split() == ["RANK", "ORG", "NUMBER", "NAME", "SCORE", "AUDITS", "WHY"]
    assert shown[2].split()[:8] == ["1", NORDIC, "Nordic", "IT", "Supply", "AB", "50.0", "-"]


def test_the_plan_in_json(two: Cap, env: dict[str, str]) -> None:
    plan = two.json("plan", "audits", "--year", "2025", "--capacity", "1", env=env)
    assert (plan["year"], plan["capacity"], plan["saved"]) == (2025, "1", True)
    assert [{k: c[k] for k in ("org_number", "score", "why")} for c in plan["chosen"]] == [
        {"org_number": NORDIC, "score": 50.0,
         "why": "score 50.0, top factor country; never audited"},
    ]  # fmt: skip
    assert plan["left_out"] == []
    # An audit of the supplier chosen counts against the plan; the plan then stands.
    audit = two.json("audit", "add", NORDIC, "--kind", "site", "--date", "2025-09-01",
                     "--auditor", "Amfori", "--report", "AM-7")  # fmt: skip
    assert audit["plan_year"] == 2025
    shown = two.json("plan", "show", "--year", "2025")
    assert shown["chosen"][0]["audits"] == [audit["id"]]
    refused = two.fails("plan", "audits", "--year", "2025", "--capacity", "2", code=6, env=env)
    assert refused.startswith("error: year: the audit plan for 2025 has 1 audit recorded ")
    assert two.json("plan", "show", "--year", "2025")["capacity"] == "1"


def test_a_dry_run_saves_nothing(two: Cap, env: dict[str, str]) -> None:
    out = two.ok("plan", "audits", "--year", "2025", "--capacity", "1", "--dry-run", env=env)
    assert out.startswith("Audit plan 2025 (dry run, not saved): ")
    assert two.fails("plan", "show", "--year", "2025", code=4) == (
        "error: year: there is no audit plan for 2025 (see `cap plan audits --year 2025`)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--year", "2025", "--capacity", "150%"),
         "error: capacity: '150%' is not a share of the suppliers; give more than 0% and at "
         "most 100%"),
        (("--year", "2025", "--capacity", "0"),
         "error: capacity: '0' plans no audit; give 1 or more"),
        (("--year", "2025", "--capacity", "abc"),
         "error: capacity: 'abc' is neither a percentage (e.g. 15%) nor a number of audits "
         "(e.g. 12)"),
        (("--year", "2200", "--capacity", "1"),
         "error: year: 2200 is outside the years the calendar covers (1953-2100)"),
        (("--year", "next", "--capacity", "1"),
         "error: year: 'next' is not a whole number"),
    ],
)  # fmt: skip
def test_a_bad_plan_is_one_error_line_and_nothing_is_saved(
    two: Cap, env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    assert two.fails("plan", "audits", *args, code=2, env=env) == message
    two.fails("plan", "show", "--year", "2025", code=4)


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        (("--date", "2999-01-01"), 2,
         "error: date: 2999-01-01 is in the future (today is "),
        (("--date", "02/05/2025"), 2,
         "error: date: '02/05/2025' is not a date; write it as YYYY-MM-DD"),
        (("--kind", "factory"), 2, "error: kind: 'factory' is not one of desktop, site"),
        (("--contract", "RS-2019-ICT-01"), 2,
         "error: contract: RS-2019-ICT-01 is not a contract of Baltic Office Tech UAB "
         "(304518772)"),
        (("--contract", "NO-SUCH"), 4,
         "error: contract: NO-SUCH does not exist (see `cap contract list`)"),
    ],
)  # fmt: skip
def test_a_bad_audit_is_one_error_line_and_nothing_is_written(
    two: Cap, change: tuple[str, str], code: int, message: str
) -> None:
    options = {"--kind": "desktop", "--date": "2025-05-02", "--auditor": "Ethica",
               "--report": "ETH-1"}  # fmt: skip
    options.update([change])
    args = [part for pair in options.items() for part in pair]
    assert two.fails("audit", "add", BALTIC, *args, code=code).startswith(message)
    assert two.json("audit", "list") == []


def test_an_unknown_supplier_is_not_found(two: Cap) -> None:
    assert two.fails("audit", "list", "--supplier", "000000-0000", code=4) == (
        "error: supplier: no supplier with organisation number 000000-0000 "
        "(see `cap supplier list`)"
    )


def test_a_finding_names_its_audit(two: Cap) -> None:
    add_audit(two, BALTIC)  # audit 1
    add_audit(two, NORDIC)  # audit 2
    finding = ["finding", "add", "--contract", "RS-2019-ICT-01", "--severity", "major",
               "--area", "wages", "--source", "desktop_audit",
               "--title", "No payslips"]  # fmt: skip
    assert two.fails(*finding, "--audit", "1", code=2) == (
        f"error: audit: audit 1 is of Baltic Office Tech UAB ({BALTIC}), not of Nordic IT "
        f"Supply AB ({NORDIC}), the supplier of contract RS-2019-ICT-01"
    )
    assert two.fails(*finding, "--audit", "9", code=4) == (
        "error: audit: there is no audit 9 (see `cap audit list`)"
    )
    ref = two.ok(*finding, "--audit", "2").strip()
    assert ref.startswith("NC-")
