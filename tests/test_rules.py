"""Rules as data: the shipped rules, every kind of broken file, folders, specificity, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap.domain.calendar import Period
from cap.domain.model import Action, Area, DeadlineKind, Limit, Role, Severity
from cap.domain.rules import (
    Rules,
    RulesError,
    StepRule,
    load_rules,
    parse_offset,
    parse_period,
)
from cap.notify.render import KINDS
from tests.conftest import DEFAULT_DEADLINES

DEFAULT = Path(__file__).resolve().parent.parent / "rules" / "default.toml"
DEFAULT_TEXT = DEFAULT.read_text(encoding="utf-8")


def write(folder: Path, text: str, name: str = "rules.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    """The default rules with the first occurrence of ``old`` replaced by ``new``."""
    assert old in DEFAULT_TEXT, f"default.toml no longer contains {old!r}"
    return DEFAULT_TEXT.replace(old, new, 1)


def error_of(path: Path) -> str:
    with pytest.raises(RulesError) as info:
        load_rules(path, templates=KINDS)
    return info.value.message


@pytest.fixture(scope="module")
def default() -> Rules:
    return load_rules(DEFAULT, templates=KINDS)


def offsets(ladder: tuple[StepRule, ...]) -> list[int]:
    return [step.offset for step in ladder]


# -- 1. The shipped rules --------------------------------------------------------------------


def test_it_gives_the_default_periods_the_readme_promises(default: Rules) -> None:
    for area in Area:
        for severity in (Severity.MINOR, Severity.MAJOR):
            assert default.period(Limit.PLAN, severity, area) == Period(months=1)
            assert default.period(Limit.REMEDIATION, severity, area) == Period(months=6)
        assert default.period(Limit.PLAN, Severity.CRITICAL, area) == Period(days=7)
        assert default.period(Limit.REMEDIATION, Severity.CRITICAL, area) == Period(months=3)
        for severity in Severity:
            assert default.period(Limit.PLAN_REVISION, severity, area) == Period(days=14)
            assert default.period(Limit.PLAN_REVIEW, severity, area) == Period(days=14)
            assert default.period(Limit.VERIFICATION, severity, area) == Period(days=30)


def test_it_gives_major_findings_the_full_plan_ladder(default: Rules) -> None:
    ladder = default.ladder(DeadlineKind.PLAN, Severity.MAJOR, Area.WAGES)
    assert offsets(ladder) == [-7, -1, 1, 14, 30]
    assert [step.level for step in ladder] == [0, 0, 1, 2, 3]
    assert [step.action for step in ladder] == [None, None, None, None, "escalate"]
    assert ladder[-1].to == [Role.DECISION_MAKERS]
    assert ladder[-1].template == "sanction_review_opened"


def test_it_compresses_the_plan_ladder_for_critical_findings(default: Rules) -> None:
    ladder = default.ladder(DeadlineKind.PLAN, Severity.CRITICAL, Area.CHILD_LABOUR)
    assert offsets(ladder) == [-1, 1, 7, 14]
    assert ladder[-1].action == "escalate"
    assert ladder[-1].to == [Role.DECISION_MAKERS]


def test_it_gives_minor_findings_the_full_remediation_ladder(default: Rules) -> None:
    ladder = default.ladder(DeadlineKind.REMEDIATION, Severity.MINOR, Area.HEALTH_AND_SAFETY)
    assert offsets(ladder) == [-30, -7, 1, 30, 60]
    assert ladder[-1].action == "escalate"


def test_it_reminds_the_contract_manager_before_the_plan_review(default: Rules) -> None:
    for severity in Severity:
        ladder = default.ladder(DeadlineKind.PLAN_REVIEW, severity, Area.WAGES)
        assert offsets(ladder) == [-3]
        assert ladder[0].to == [Role.CONTRACT_MANAGER]
        assert ladder[0].template == "review_reminder"


def test_it_tells_the_supplier_and_for_critical_findings_the_sustainability_manager(
    default: Rules,
) -> None:
    major = default.notices_for(Action.NOTIFY, Severity.MAJOR, Area.WAGES)
    assert [(n.to, n.template) for n in major] == [([Role.SUPPLIER], "cap_requested")]
    critical = default.notices_for(Action.NOTIFY, Severity.CRITICAL, Area.WAGES)
    assert sorted((n.template, tuple(n.to)) for n in critical) == [
        ("cap_requested", (Role.SUPPLIER,)),
        ("escalation_sustainability_manager", (Role.SUSTAINABILITY_MANAGER,)),
    ]


def test_it_keeps_the_digest_stable_and_changes_it_with_a_period(tmp_path: Path) -> None:
    first = load_rules(DEFAULT, templates=KINDS).digest
    assert load_rules(DEFAULT, templates=KINDS).digest == first
    changed = write(tmp_path, edited('period = "6 months"', 'period = "5 months"'))
    assert load_rules(changed, templates=KINDS).digest != first


# -- 2. Broken files ---------------------------------------------------------------------------

_STEP = """
[[step]]
id = "{id}"
deadline = "plan"
offset = "{offset}"
to = ["supplier"]
template = "plan_reminder"
"""
_PLAN_MAJOR = """
[[deadline]]
id = "{id}"
kind = "plan"
severity = ["major"]
period = "{period}"
"""
_D_VERIFICATION = """[[deadline]]
id = "D-verification"
kind = "verification"        # the buyer verifies the reported fix
period = "30 days"
"""

# (old text, new text, what the message must say besides the file name)
BROKEN: dict[str, tuple[str, str, list[str]]] = {
    "invalid TOML": ("version = 1", "version = ", ["not valid TOML", "line 14"]),
    "unknown section": (
        "version = 1",
        "version = 1\nreminders = []",
        ["unknown section(s) reminders", "[[step]]"],
    ),
    "unknown field in a step": (
        'id = "R-review-3d"\n',
        'id = "R-review-3d"\ncolour = "red"\n',
        ["rule 'R-review-3d'", "colour: is not a known field"],
    ),
    "bad period": (
        'period = "1 month"',
        'period = "1 mnth"',
        ["rule 'D-plan'", "period: '1 mnth' is not a period"],
    ),
    "bad offset": (
        'offset = "-7 days"',
        'offset = "-7 dayz"',
        ["rule 'R-plan-7d'", "offset: '-7 dayz' is not an offset"],
    ),
    "unknown role": (
        'to = ["contract_manager"]\ntemplate = "review_reminder"',
        'to = ["contract_boss"]\ntemplate = "review_reminder"',
        ["rule 'R-review-3d'", "to.0: 'contract_boss' is not one of", "'contract_manager'"],
    ),
    "unknown template": (
        'template = "review_reminder"',
        'template = "review_remnder"',
        ["rule 'R-review-3d'", "template: 'review_remnder' does not exist", "review_reminder"],
    ),
    "unknown severity": (
        'severity = ["critical"]\nperiod = "7 days"',
        'severity = ["catastrophic"]\nperiod = "7 days"',
        ["rule 'D-plan-critical'", "severity.0: 'catastrophic' is not one of", "'critical'"],
    ),
    "unknown area": (
        'severity = ["critical"]\nperiod = "7 days"',
        'area = ["child_labor"]\nperiod = "7 days"',
        ["rule 'D-plan-critical'", "area.0: 'child_labor' is not one of", "'child_labour'"],
    ),
    "duplicate id": (
        'id = "R-plan-1d"',
        'id = "R-plan-7d"',
        ["rule 'R-plan-7d'", "id: the id is used twice"],
    ),
    "ambiguous deadlines": (
        _D_VERIFICATION,
        _D_VERIFICATION
        + _PLAN_MAJOR.format(id="D-plan-major-a", period="10 days")
        + _PLAN_MAJOR.format(id="D-plan-major-b", period="20 days"),
        [
            "rule 'D-plan-major-b'",
            "severity/area: both 'D-plan-major-a' and 'D-plan-major-b'",
            "major findings",
            "make one more specific",
        ],
    ),
    "no default deadline for a kind": (
        _D_VERIFICATION,
        "",
        ["no deadline rule of kind 'verification'", "add one without severity and area"],
    ),
    "two steps on the same offset": (
        '[[step]]\nid = "R-review-3d"',
        _STEP.format(id="R-plan-1d-bis", offset="-1 day") + '\n[[step]]\nid = "R-review-3d"',
        ["rule 'R-plan-1d-bis'", "offset: falls on the same day as 'R-plan-1d'"],
    ),
    "escalation before the deadline": (
        'offset = "+30 days"\nseverity = ["minor", "major"]\nto = ["decision_makers"]',
        'offset = "-30 days"\nseverity = ["minor", "major"]\nto = ["decision_makers"]',
        ["rule 'E-plan-30d'", "action: an automatic escalation must come after the deadline"],
    ),
    "version 2": ("version = 1", "version = 2", ["version: 2 is not supported"]),
    "unknown time zone": (
        'timezone = "Europe/Stockholm"',
        'timezone = "Europe/Stockholmm"',
        ["calendar.timezone: unknown time zone 'Europe/Stockholmm'"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_it_refuses_a_broken_file_naming_file_rule_and_field(tmp_path: Path, case: str) -> None:
    old, new, expected = BROKEN[case]
    path = write(tmp_path, edited(old, new))
    message = error_of(path)
    assert message.startswith(f"{path}: "), message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_it_refuses_calendar_in_two_files_of_a_folder(tmp_path: Path) -> None:
    first = write(tmp_path, '[calendar]\ntimezone = "Europe/Oslo"\n', "10-calendar.toml")
    second = write(
        tmp_path, '[calendar]\ntimezone = "Europe/Helsinki"\n' + DEFAULT_DEADLINES, "20-rules.toml"
    )
    message = error_of(tmp_path)
    assert message == f"{second}: calendar: already set in {first}"


def test_it_refuses_a_duplicate_id_within_a_folder_file(tmp_path: Path) -> None:
    write(tmp_path, DEFAULT_DEADLINES, "10-deadlines.toml")
    second = write(
        tmp_path,
        _STEP.format(id="R-one", offset="-1 day") + _STEP.format(id="R-one", offset="-2 days"),
        "20-steps.toml",
    )
    message = error_of(tmp_path)
    assert message == f"{second}: rule 'R-one': id: the id is used twice"


def test_it_names_the_file_holding_a_duplicate_id_across_a_folder(tmp_path: Path) -> None:
    first = write(
        tmp_path, DEFAULT_DEADLINES + _STEP.format(id="R-one", offset="-1 day"), "10-a.toml"
    )
    second = write(tmp_path, _STEP.format(id="R-one", offset="-2 days"), "20-b.toml")
    message = error_of(tmp_path)
    assert "rule 'R-one'" in message
    assert "id:" in message
    assert str(second) in message
    assert str(first) in message


def test_it_names_the_calendar_file_for_an_unknown_time_zone_in_a_folder(tmp_path: Path) -> None:
    calendar = write(tmp_path, '[calendar]\ntimezone = "Mars/Olympus"\n', "10-calendar.toml")
    write(tmp_path, DEFAULT_DEADLINES, "20-deadlines.toml")
    message = error_of(tmp_path)
    assert message.startswith(f"{calendar}: "), message
    assert "calendar.timezone: unknown time zone 'Mars/Olympus'" in message


def test_it_refuses_a_version_that_is_not_the_integer_1(tmp_path: Path) -> None:
    path = write(tmp_path, edited("version = 1", "version = true"))
    assert error_of(path) == f"{path}: version: True is not supported (use 1)"


def test_it_refuses_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert error_of(missing) == f"{missing}: no such rules file or folder (CAP_RULES)"


def test_it_refuses_a_folder_without_rules_files(tmp_path: Path) -> None:
    write(tmp_path, "# not a rules file\n", "README.md")
    assert error_of(tmp_path) == f"{tmp_path}: the folder holds no .toml rules file"


# -- 3. Folders ------------------------------------------------------------------------------


def test_it_merges_a_folder_in_name_order_and_records_sources(tmp_path: Path) -> None:
    # Written in reverse order: the load order must come from the names.
    steps = write(
        tmp_path,
        _STEP.format(id="R-plan-late", offset="-1 day")
        + _STEP.format(id="R-plan-early", offset="-7 days"),
        "30-steps.toml",
    )
    deadlines = write(
        tmp_path,
        DEFAULT_DEADLINES + _PLAN_MAJOR.format(id="D-plan-major", period="3 weeks"),
        "20-deadlines.toml",
    )
    calendar = write(
        tmp_path,
        'version = 1\n[calendar]\ntimezone = "Europe/Helsinki"\nholiday_country = "FI"\n',
        "10-calendar.toml",
    )
    write(tmp_path, "not toml at all [", "notes.txt")

    rules = load_rules(tmp_path, templates=KINDS)

    assert rules.calendar_rules.timezone == "Europe/Helsinki"
    assert rules.calendar_rules.holiday_country == "FI"
    assert rules.sources["D-plan"] == str(deadlines)
    assert rules.sources["D-plan-major"] == str(deadlines)
    assert rules.sources["R-plan-late"] == str(steps)
    assert str(calendar) not in rules.sources.values()
    assert [d.id for d in rules.deadlines][-1] == "D-plan-major"
    assert rules.period(Limit.PLAN, Severity.MAJOR, Area.WAGES) == Period(days=21)
    assert rules.period(Limit.PLAN, Severity.MINOR, Area.WAGES) == Period(months=1)
    ladder = rules.ladder(DeadlineKind.PLAN, Severity.MINOR, Area.WAGES)
    assert [s.id for s in ladder] == ["R-plan-early", "R-plan-late"]


def test_it_loads_the_default_rules_split_across_a_folder_with_the_same_digest(
    tmp_path: Path, default: Rules
) -> None:
    head, rest = DEFAULT_TEXT.split("# -- Deadlines", 1)
    write(tmp_path, head, "10-calendar.toml")
    write(tmp_path, "# -- Deadlines" + rest, "20-rules.toml")
    assert load_rules(tmp_path, templates=KINDS).digest == default.digest


# -- 4. Specificity --------------------------------------------------------------------------


def test_it_prefers_an_area_rule_over_a_severity_rule_over_the_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        DEFAULT_DEADLINES
        + """
[[deadline]]
id = "D-plan-critical"
kind = "plan"
severity = ["critical"]
period = "7 days"

[[deadline]]
id = "D-plan-child-labour"
kind = "plan"
area = ["child_labour"]
period = "3 days"
""",
    )
    rules = load_rules(path, templates=KINDS)
    assert rules.period(Limit.PLAN, Severity.CRITICAL, Area.CHILD_LABOUR) == Period(days=3)
    assert rules.period(Limit.PLAN, Severity.CRITICAL, Area.WAGES) == Period(days=7)
    assert rules.period(Limit.PLAN, Severity.MINOR, Area.CHILD_LABOUR) == Period(days=3)
    assert rules.period(Limit.PLAN, Severity.MINOR, Area.WAGES) == Period(months=1)
    assert rules.period(Limit.REMEDIATION, Severity.CRITICAL, Area.CHILD_LABOUR) == Period(months=6)


# -- 5. Periods and offsets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2 weeks", Period(days=14)),
        ("1 month 3 days", Period(months=1, days=3)),
        ("1 month", Period(months=1)),
        ("6 months", Period(months=6)),
        ("14 days", Period(days=14)),
        ("1 day", Period(days=1)),
    ],
)
def test_it_parses_periods(text: str, period: Period) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("+1 day", 1),
        ("1 day", 1),
        ("-7 days", -7),
        ("0 days", 0),
        ("+2 weeks", 14),
        ("-1 week", -7),
    ],
)
def test_it_parses_offsets(text: str, days: int) -> None:
    assert parse_offset(text) == days


@pytest.mark.parametrize("text", ["1 mnth", "", "days", "-1 month", "1.5 days"])
def test_it_refuses_malformed_periods(text: str) -> None:
    with pytest.raises(ValueError, match="is not a period"):
        parse_period(text)


@pytest.mark.parametrize("text", ["-7 dayz", "", "+1 month", "7", "1 day 2 days"])
def test_it_refuses_malformed_offsets(text: str) -> None:
    with pytest.raises(ValueError, match="is not an offset"):
        parse_offset(text)


def test_it_sorts_a_ladder_by_offset_whatever_the_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        DEFAULT_DEADLINES
        + _STEP.format(id="S-plus-14", offset="+14 days")
        + _STEP.format(id="S-minus-1", offset="-1 day")
        + _STEP.format(id="S-plus-1", offset="+1 day")
        + _STEP.format(id="S-minus-7", offset="-7 days")
        + _STEP.format(id="S-zero", offset="0 days"),
    )
    ladder = load_rules(path, templates=KINDS).ladder(DeadlineKind.PLAN, Severity.MAJOR, Area.WAGES)
    assert [s.id for s in ladder] == ["S-minus-7", "S-minus-1", "S-zero", "S-plus-1", "S-plus-14"]
    assert offsets(ladder) == [-7, -1, 0, 1, 14]
