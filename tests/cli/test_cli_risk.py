"""`cap risk list|show`: the ranked table and its JSON, one supplier's breakdown, and one error
line for an unknown supplier or broken risk rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import Cap
from tests.conftest import World
from tests.test_risk_scoring import rules_file


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The rules of tests/test_risk_scoring.py (weights adding up to 10). The CLI's day is the
    real one: nobody here has been audited, so no figure depends on it."""
    return {"CAP_RISK_RULES": str(rules_file(tmp_path))}


@pytest.fixture
def two(cap: Cap, world: World, env: dict[str, str]) -> Cap:
    """Nordic IT Supply AB (SE) with one open major finding at a site in CN: 50 = CN (20) + one
    major of 8 points (10) + never audited (20); Baltic Office Tech UAB (LT, unlisted): 30 =
    10 + 20."""
    world.finding()
    cap.ok("supplier", "add", "Baltic Office Tech UAB", "--org-number", "304518772",
           "--country", "LT", "--email", "info@baltic.example")  # fmt: skip
    return cap


def test_the_list_is_a_ranked_table(two: Cap, env: dict[str, str]) -> None:
    lines = two.ok("risk", "list", env=env).splitlines()
    assert lines[0].split() == ["RANK", "ORG", "NUMBER", "NAME", "SCORE", "TOP", "FACTOR"]
    assert lines[1].split() == [
        "1",
        "556000-1234",
        "Nordic",
        "IT",
        "Supply",
        "AB",
        "50.0",
        "country:",
        "CN",
        "(site",
        "Final",
        "assembly,",
        "Dongguan)",
    ]
    assert lines[2].split() == ["2", "304518772", "Baltic", "Office", "Tech", "UAB", "30.0",
                                "last_audit:", "never", "audited"]  # fmt: skip
    assert len(lines) == 3


def test_equal_scores_share_a_rank(two: Cap, env: dict[str, str]) -> None:
    two.ok("supplier", "add", "Aurora Parts UAB", "--org-number", "304518000",
           "--country", "LT", "--email", "info@aurora.example")  # fmt: skip
    rows = [line.split()[:2] for line in two.ok("risk", "list", env=env).splitlines()[1:]]
    assert rows == [["1", "556000-1234"], ["2", "304518000"], ["2", "304518772"]]


def test_the_list_in_json(two: Cap, env: dict[str, str]) -> None:
    risks = two.json("risk", "list", env=env)
    assert [(r["org_number"], r["score"], r["top_factor"]) for r in risks] == [
        ("556000-1234", 50.0, "country"),
        ("304518772", 30.0, "last_audit"),
    ]
    assert [f["factor"] for f in risks[0]["factors"]] == [
        "country", "contract_value", "open_findings", "past_findings", "last_audit"
    ]  # fmt: skip


def test_show_gives_the_breakdown(two: Cap, env: dict[str, str]) -> None:
    out = two.ok("risk", "show", "556000-1234", env=env)
    lines = out.splitlines()
    assert lines[0].startswith("Nordic IT Supply AB (556000-1234, SE): risk 50.0 of 100 on ")
    assert lines[1].split() == ["FACTOR", "MEASURED", "LEVEL", "WEIGHT", "POINTS"]
    rows = {line.split()[0]: line.split()[-3:] for line in lines[2:7]}
    assert rows == {
        "country": ["1.00", "2", "20.0"],
        "contract_value": ["0.00", "1", "0.0"],
        "open_findings": ["0.25", "4", "10.0"],
        "past_findings": ["0.00", "1", "0.0"],
        "last_audit": ["1.00", "2", "20.0"],
    }
    assert "1 major" in lines[4] and "never audited" in lines[6]
    assert lines[7] == "countries of production (the riskiest counts):"
    assert lines[8].split() == ["COUNTRY", "WHERE", "PRODUCTION", "POINTS"]
    assert lines[9].split() == ["CN", "Final", "assembly,", "Dongguan", "1.00", "20.0"]
    assert lines[10].split() == ["SE", "registered", "0.00", "0.0"]

    view = two.json("risk", "show", "556000-1234", env=env)
    assert view["score"] == 50.0 and view["country"] == "SE"
    assert view["factors"][2] == {
        "factor": "open_findings", "raw": 2.0, "detail": "1 major", "scaled": 0.25,
        "weight": 4.0, "points": 10.0,
    }  # fmt: skip
    assert view["countries"][0] == {
        "country": "CN", "registered": False, "sites": ["Final assembly, Dongguan"],
        "levels": {"country": 1.0}, "points": 20.0,
    }  # fmt: skip


def test_the_shipped_rules_are_used_by_default(two: Cap) -> None:
    risks = two.json("risk", "list")
    assert {f["factor"] for f in risks[0]["factors"]} >= {"freedom_of_association", "working_time"}
    assert "ASSOCIATION" in two.ok("risk", "show", "304518772")


def test_an_unknown_supplier_is_one_error_line(two: Cap, env: dict[str, str]) -> None:
    assert two.fails("risk", "show", "000000-0000", code=4, env=env) == (
        "error: supplier: no supplier with organisation number 000000-0000 "
        "(see `cap supplier list`)"
    )


def test_broken_risk_rules_are_one_error_line(cap: Cap, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[factor.country]\nweight = 'heavy'\ndefault = 0.5\n", encoding="utf-8")
    env = {"CAP_RISK_RULES": str(broken)}
    assert cap.fails("risk", "list", code=2, env=env) == (
        f"error: {broken}: factor 'country': weight: 'heavy' is not a number"
    )
    missing = tmp_path / "missing.toml"
    assert cap.fails("risk", "list", code=2, env={"CAP_RISK_RULES": str(missing)}) == (
        f"error: {missing}: no such risk rules file (CAP_RISK_RULES)"
    )


def test_no_suppliers_is_said(cap: Cap) -> None:
    assert cap.ok("risk", "list") == "(none)\n"
    assert cap.json("risk", "list") == []
