"""Scoring a supplier, pure: known facts give the figures written here; both sides of each band;
more findings, money or riskier sites never lower a score."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cap.domain.model import Severity
from cap.domain.risk import (
    RiskRules,
    RiskScore,
    Site,
    SupplierFacts,
    load_risk_rules,
    score_supplier,
)
from tests.test_risk_rules import SHIPPED

#: Rules whose weights add up to 10, so a factor's points are 10 x its weight x its level.
RULES = """
version = 1

[factor.country]
weight = 2
default = 0.5
countries = { SE = 0.0, CN = 1.0, VN = 0.75 }

[factor.contract_value]
weight = 1
bands = [{ from = 0, level = 0.0 }, { from = 1_000_000, level = 0.5 },
         { from = 10_000_000, level = 1.0 }]

[factor.open_findings]
weight = 4
points = { minor = 1, major = 2, critical = 8 }
full_at = 8

[factor.past_findings]
weight = 1
points = { major = 1, critical = 2 }
full_at = 4

[factor.last_audit]
weight = 2
never = 1.0
bands = [{ from = 0, level = 0.0 }, { from = 365, level = 0.5 }, { from = 730, level = 1.0 }]
"""

TODAY = date(2026, 3, 3)


def rules_file(folder: Path) -> Path:
    path = folder / "risk.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RiskRules:
    return load_risk_rules(rules_file(tmp_path_factory.mktemp("risk")))


#: A Swedish reseller producing in Shenzhen and Hanoi, audited 400 days ago.
RESELLER = SupplierFacts(
    country="SE",
    sites=(Site("CN", "Final assembly, Shenzhen"), Site("VN", "Hanoi"), Site("CN", None)),
    contract_value=Decimal("2500000.00"),
    open_findings={Severity.MAJOR: 1, Severity.MINOR: 1},
    past_findings={Severity.CRITICAL: 1},
    last_audit=TODAY - timedelta(days=400),
)


def scored(facts: SupplierFacts, rules: RiskRules) -> RiskScore:
    return score_supplier(facts, rules, today=TODAY)


def figures(result: RiskScore) -> dict[str, tuple[object, float, float, float]]:
    return {f.factor: (f.raw, f.scaled, f.weight, f.points) for f in result.factors}


def test_it_gives_the_score_and_breakdown_of_known_facts(rules: RiskRules) -> None:
    result = scored(RESELLER, rules)
    assert figures(result) == {
        "country": ("CN", 1.0, 2, 20.0),
        "contract_value": (Decimal("2500000.00"), 0.5, 1, 5.0),
        "open_findings": (3.0, 0.375, 4, 15.0),  # 1 major (2) + 1 minor (1) of 8
        "past_findings": (2.0, 0.5, 1, 5.0),  # 1 critical (2) of 4
        "last_audit": (400, 0.5, 2, 10.0),
    }
    assert result.score == 55.0
    assert result.top_factor == "country"
    details = {f.factor: f.detail for f in result.factors}
    assert details == {
        "country": "CN (site Final assembly, Shenzhen)",
        "contract_value": "2,500,000 in contracts in force",
        "open_findings": "1 major, 1 minor",
        "past_findings": "1 critical",
        "last_audit": "400 days since 2025-01-27",
    }


def test_it_lists_each_country_of_production_with_its_sites(rules: RiskRules) -> None:
    countries = scored(RESELLER, rules).countries
    assert [(c.country, c.registered, c.sites, dict(c.levels), c.points) for c in countries] == [
        ("CN", False, ("Final assembly, Shenzhen",), {"country": 1.0}, 20.0),
        ("SE", True, (), {"country": 0.0}, 0.0),
        ("VN", False, ("Hanoi",), {"country": 0.75}, 15.0),
    ]


def test_a_supplier_with_nothing_against_it_scores_only_its_country(rules: RiskRules) -> None:
    quiet = SupplierFacts(country="SE", last_audit=TODAY)
    result = scored(quiet, rules)
    assert result.score == 0.0 and result.top_factor is None
    assert {f.factor: f.detail for f in result.factors}["open_findings"] == "none"
    unlisted = scored(SupplierFacts(country="LT", last_audit=TODAY), rules)
    assert figures(unlisted)["country"] == ("LT", 0.5, 2, 10.0)  # the default
    assert unlisted.score == 10.0 and unlisted.top_factor == "country"


def test_never_audited_counts_at_the_never_level(rules: RiskRules) -> None:
    result = scored(replace(RESELLER, last_audit=None), rules)
    assert figures(result)["last_audit"] == (None, 1.0, 2, 20.0)
    assert {f.factor: f.detail for f in result.factors}["last_audit"] == "never audited"
    assert result.score == 65.0


@pytest.mark.parametrize(
    ("days", "level"), [(0, 0.0), (364, 0.0), (365, 0.5), (729, 0.5), (730, 1.0), (5000, 1.0)]
)
def test_it_takes_the_audit_band_a_day_falls_in(rules: RiskRules, days: int, level: float) -> None:
    facts = replace(RESELLER, last_audit=TODAY - timedelta(days=days))
    assert figures(scored(facts, rules))["last_audit"][:2] == (days, level)


def test_an_audit_dated_after_today_counts_as_today(rules: RiskRules) -> None:
    facts = replace(RESELLER, last_audit=TODAY + timedelta(days=3))
    assert figures(scored(facts, rules))["last_audit"][:2] == (0, 0.0)


@pytest.mark.parametrize(
    ("value", "level"),
    [("0", 0.0), ("999999.99", 0.0), ("1000000", 0.5), ("9999999.99", 0.5), ("10000000", 1.0)],
)
def test_it_takes_the_value_band_an_amount_falls_in(
    rules: RiskRules, value: str, level: float
) -> None:
    facts = replace(RESELLER, contract_value=Decimal(value))
    assert figures(scored(facts, rules))["contract_value"][1] == level


def test_findings_count_in_full_from_full_at_and_no_further(rules: RiskRules) -> None:
    one = scored(replace(RESELLER, open_findings={Severity.CRITICAL: 1}), rules)
    three = scored(replace(RESELLER, open_findings={Severity.CRITICAL: 3}), rules)
    assert figures(one)["open_findings"] == (8.0, 1.0, 4, 40.0)
    assert figures(three)["open_findings"] == (24.0, 1.0, 4, 40.0)
    assert one.score == three.score == 80.0
    assert one.top_factor == "open_findings"


def test_between_equal_factors_the_first_in_order_is_the_top_one(rules: RiskRules) -> None:
    # Country (2 x 1.0) and last audit (2 x 1.0, never) give 20 points each.
    facts = SupplierFacts(country="CN")
    result = scored(facts, rules)
    assert figures(result)["country"][3] == figures(result)["last_audit"][3] == 20.0
    assert result.top_factor == "country"


def test_the_same_facts_give_the_same_figures_in_any_site_order(rules: RiskRules) -> None:
    shuffled = replace(RESELLER, sites=tuple(reversed(RESELLER.sites)))
    assert scored(shuffled, rules) == scored(RESELLER, rules)


def test_the_shipped_rules_score_from_0_to_100() -> None:
    shipped = load_risk_rules(SHIPPED)
    worst = SupplierFacts(
        country="CN",
        sites=(Site("IN"), Site("CN")),
        contract_value=Decimal(10**9),
        open_findings={Severity.CRITICAL: 5},
        past_findings={Severity.CRITICAL: 5},
    )
    assert 90 < score_supplier(worst, shipped, today=TODAY).score <= 100
    best = SupplierFacts(country="SE", last_audit=TODAY)
    assert 0 <= score_supplier(best, shipped, today=TODAY).score < 5


# -- monotonic: more of anything risky never lowers a score ------------------------------------

_COUNTRIES = st.sampled_from(["SE", "CN", "VN", "MY", "IN", "DE", "LT", "US"])
_COUNTS = st.dictionaries(st.sampled_from(list(Severity)), st.integers(0, 20))
_FACTS = st.builds(
    SupplierFacts,
    country=_COUNTRIES,
    sites=st.lists(st.builds(Site, _COUNTRIES, st.none()), max_size=3).map(tuple),
    contract_value=st.decimals(0, 10**9, places=2),
    open_findings=_COUNTS,
    past_findings=_COUNTS,
    last_audit=st.none() | st.dates(date(2015, 1, 1), TODAY),
)
_RULES = [load_risk_rules(SHIPPED)]


@settings(max_examples=200, deadline=None)
@given(facts=_FACTS, severity=st.sampled_from(list(Severity)), site=_COUNTRIES,
       more=st.decimals(0, 10**8, places=2), days=st.integers(0, 3000))  # fmt: skip
def test_more_risk_never_lowers_the_score(
    facts: SupplierFacts, severity: Severity, site: str, more: Decimal, days: int
) -> None:
    shipped = _RULES[0]
    before = score_supplier(facts, shipped, today=TODAY).score
    worse = [
        replace(facts, open_findings={**facts.open_findings,
                                      severity: facts.open_findings.get(severity, 0) + 1}),
        replace(facts, past_findings={**facts.past_findings,
                                      severity: facts.past_findings.get(severity, 0) + 1}),
        replace(facts, sites=(*facts.sites, Site(site, "New site"))),
        replace(facts, contract_value=facts.contract_value + more),
        replace(facts, last_audit=None if facts.last_audit is None
                else facts.last_audit - timedelta(days=days)),
    ]  # fmt: skip
    for other in worse:
        after = score_supplier(other, shipped, today=TODAY)
        assert after.score >= before, other
        assert 0 <= after.score <= 100


@settings(max_examples=100, deadline=None)
@given(facts=_FACTS)
def test_the_points_add_up_to_the_score(facts: SupplierFacts) -> None:
    result = score_supplier(facts, _RULES[0], today=TODAY)
    assert sum(f.points for f in result.factors) == pytest.approx(result.score, abs=0.05)
    assert all(0 <= f.scaled <= 1 for f in result.factors)
