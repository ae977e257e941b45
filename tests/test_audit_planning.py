"""The yearly follow-up plan, pure: the capacity, the highest scores first and ties by name, the
one-desktop-audit-per-contract-period rule, and the reasons given."""

from __future__ import annotations

from datetime import date

import pytest

from cap.domain.planning import (
    AuditKind,
    Candidate,
    Capacity,
    ContractPeriod,
    HeldAudit,
    choose,
    parse_capacity,
)
from cap.errors import InvalidInput

#: A contract in force from 2024 on, with no end.
OPEN = (ContractPeriod("C-OPEN", date(2024, 1, 1), None),)


def supplier(
    org: str,
    score: float,
    name: str | None = None,
    *,
    contracts: tuple[ContractPeriod, ...] = OPEN,
    top: str | None = "open_findings",
    last: date | None = None,
) -> Candidate:
    return Candidate(org, name or f"Supplier {org}", score, top, last, contracts)


def desktop(org: str, held_on: date) -> HeldAudit:
    return HeldAudit(org, AuditKind.DESKTOP, held_on)


@pytest.mark.parametrize(
    ("text", "capacity"),
    [
        ("15%", Capacity("15%", percent=parse_capacity("15%").percent)),
        (" 12.5 % ", Capacity("12.5%", percent=parse_capacity("12.5%").percent)),
        ("100%", Capacity("100%", percent=parse_capacity("100%").percent)),
        ("12", Capacity("12", count=12)),
        ("1", Capacity("1", count=1)),
    ],
)
def test_a_capacity_is_a_percentage_or_a_number(text: str, capacity: Capacity) -> None:
    assert parse_capacity(text) == capacity
    assert (capacity.percent is None) == (capacity.count is not None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("150%", "capacity: '150%' is not a share of the suppliers; give more than 0% and at "
                 "most 100%"),
        ("0%", "capacity: '0%' is not a share of the suppliers; give more than 0% and at most "
               "100%"),
        ("0", "capacity: '0' plans no audit; give 1 or more"),
        ("abc", "capacity: 'abc' is neither a percentage (e.g. 15%) nor a number of audits "
                "(e.g. 12)"),
        ("-3", "capacity: '-3' is neither a percentage (e.g. 15%) nor a number of audits "
               "(e.g. 12)"),
        ("1.5", "capacity: '1.5' is neither a percentage (e.g. 15%) nor a number of audits "
                "(e.g. 12)"),
        ("", "capacity: '' is neither a percentage (e.g. 15%) nor a number of audits "
             "(e.g. 12)"),
    ],
)  # fmt: skip
def test_a_bad_capacity_is_refused_naming_it(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_capacity(text)
    assert info.value.message == message


@pytest.mark.parametrize(
    ("text", "in_force", "slots"),
    [
        ("15%", 20, 3),  # 3.0
        ("15%", 10, 2),  # 1.5: halves up
        ("15%", 9, 1),  # 1.35
        ("10%", 4, 1),  # 0.4, but a plan audits someone
        ("10%", 0, 0),  # nobody in force: nobody to audit
        ("100%", 7, 7),
        ("12", 3, 12),  # a number is a number (the plan chooses at most the eligible)
    ],
)
def test_the_number_of_audits(text: str, in_force: int, slots: int) -> None:
    assert parse_capacity(text).slots(in_force) == slots


def test_it_chooses_the_highest_scores_within_the_capacity() -> None:
    candidates = [
        supplier("1", 40.0),
        supplier("2", 71.3),
        supplier("3", 12.0),
        supplier("4", 55.5),
        supplier("5", 55.4),
    ]
    plan = choose(2026, candidates, parse_capacity("40%"), [])  # 40% of 5 = 2
    assert plan.in_force == 5
    assert [(c.org_number, c.score) for c in plan.chosen] == [("2", 71.3), ("4", 55.5)]
    assert plan.left_out == ()
    every = choose(2026, candidates, parse_capacity("9"), [])
    assert [c.org_number for c in every.chosen] == ["2", "4", "5", "1", "3"]


def test_equal_scores_are_chosen_by_name() -> None:
    candidates = [
        supplier("1", 50.0, "Zeta Components UAB"),
        supplier("2", 50.0, "Baltic Office Tech UAB"),
        supplier("3", 50.0, "Acme Electronics AB"),
    ]
    plan = choose(2026, candidates, parse_capacity("2"), [])
    assert [c.name for c in plan.chosen] == ["Acme Electronics AB", "Baltic Office Tech UAB"]


def test_only_suppliers_with_a_contract_in_force_that_year_count() -> None:
    candidates = [
        supplier("ended", 90.0, contracts=(ContractPeriod("E", date(2020, 1, 1),
                                                          date(2025, 12, 31)),)),
        supplier("later", 80.0, contracts=(ContractPeriod("L", date(2027, 1, 1), None),)),
        supplier("none", 70.0, contracts=()),
        supplier("last-day", 20.0, contracts=(ContractPeriod("D", None, date(2026, 1, 1)),)),
        supplier("first-day", 10.0, contracts=(ContractPeriod("F", date(2026, 12, 31), None),)),
    ]  # fmt: skip
    plan = choose(2026, candidates, parse_capacity("100%"), [])
    assert plan.in_force == 2
    assert [c.org_number for c in plan.chosen] == ["last-day", "first-day"]


def test_a_desktop_audit_in_every_contract_period_leaves_a_supplier_out() -> None:
    two = (
        ContractPeriod("RS-1", date(2024, 1, 1), date(2027, 12, 31)),
        ContractPeriod("RS-2", date(2025, 6, 1), None),
    )
    candidates = [
        supplier("covered", 90.0, "Covered AB", contracts=two),
        supplier("half", 80.0, "Half AB", contracts=two),
        supplier("site", 70.0, "Site AB"),
        supplier("before", 60.0, "Before AB", contracts=(
            ContractPeriod("B", date(2025, 1, 1), None),)),
        supplier("next", 50.0, "Next AB"),
    ]  # fmt: skip
    audits = [
        desktop("covered", date(2025, 4, 2)),  # RS-1 only: before RS-2 began
        desktop("covered", date(2025, 9, 1)),  # both
        desktop("half", date(2025, 4, 2)),  # RS-1 only
        HeldAudit("site", AuditKind.SITE, date(2025, 4, 2)),  # a visit is not a desktop audit
        desktop("before", date(2024, 12, 31)),  # the day before its contract began
    ]
    plan = choose(2026, candidates, parse_capacity("3"), audits)
    assert [c.org_number for c in plan.chosen] == ["half", "site", "before"]
    assert [(o.org_number, o.name, o.score, o.reason) for o in plan.left_out] == [
        ("covered", "Covered AB", 90.0, "desktop audit already held in the period of "
         "RS-1 (2024-01-01..2027-12-31) on 2025-09-01; RS-2 (2025-06-01..open) on 2025-09-01"),
    ]  # fmt: skip
    # The one left out still counts in the base of a percentage: 60% of 5 is 3.
    assert plan.in_force == 5
    assert len(choose(2026, candidates, parse_capacity("60%"), audits).chosen) == 3


def test_an_audit_on_the_last_day_of_a_period_counts_and_the_day_after_does_not() -> None:
    period = (ContractPeriod("P", date(2022, 1, 1), date(2026, 6, 30)),)
    on_the_day = choose(2026, [supplier("x", 10.0, contracts=period)], parse_capacity("1"),
                        [desktop("x", date(2026, 6, 30))])  # fmt: skip
    assert on_the_day.chosen == () and len(on_the_day.left_out) == 1
    after = choose(2026, [supplier("x", 10.0, contracts=period)], parse_capacity("1"),
                   [desktop("x", date(2026, 7, 1))])  # fmt: skip
    assert [c.org_number for c in after.chosen] == ["x"] and after.left_out == ()


def test_each_choice_says_why() -> None:
    candidates = [
        supplier("1", 71.25, top="open_findings", last=date(2024, 5, 2)),
        supplier("2", 40.0, top="country"),
        supplier("3", 0.0, top=None),
    ]
    plan = choose(2026, candidates, parse_capacity("3"), [])
    assert [c.why for c in plan.chosen] == [
        "score 71.2, top factor open_findings; last audit 2024-05-02",
        "score 40.0, top factor country; never audited",
        "score 0.0, no factor scored; never audited",
    ]


def test_the_same_facts_give_the_same_plan() -> None:
    candidates = [supplier(str(n), float(n % 3), f"S{n:02d}") for n in range(12)]
    first = choose(2026, candidates, parse_capacity("25%"), [])
    assert choose(2026, list(reversed(candidates)), parse_capacity("25%"), []) == first
    assert [c.name for c in first.chosen] == ["S02", "S05", "S08"]
