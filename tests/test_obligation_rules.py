"""The rules of reporting obligations: the shipped report ladder, its period, and every way a
rules file can get it wrong (one line naming the file, the rule and the field)."""

from __future__ import annotations

from pathlib import Path

from cap.domain.calendar import Period
from cap.domain.rules import DEFAULT_REPORT_PERIOD, Rules, load_rules
from cap.notify.render import KINDS
from tests.test_rules import DEFAULT, DEFAULT_TEXT, edited, write
from tests.test_rules import error_of as rules_error_of

REPORT_DEADLINE = """[[deadline]]
id = "D-report"
kind = "report"              # counted from the contract's start
period = "6 months"
"""


def error_of(path: Path) -> str:
    message = rules_error_of(path)
    assert "\n" not in message
    return message


def test_the_shipped_report_ladder_mirrors_the_missing_plan() -> None:
    rules = load_rules(DEFAULT, templates=KINDS)
    assert rules.report_period == Period(months=6)
    ladder = rules.report_ladder()
    assert [(s.id, s.offset, s.level, s.action) for s in ladder] == [
        ("R-report-14d", -14, 0, None),
        ("R-report-1d", -1, 0, None),
        ("E-report-1d", 1, 1, None),
        ("E-report-14d", 14, 2, None),
        ("E-report-30d", 30, 3, "escalate"),
    ]
    assert [str(r) for r in ladder[-1].to] == ["decision_makers", "sustainability_manager"]


def test_without_a_report_deadline_the_period_is_six_months(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, edited(REPORT_DEADLINE, "")), templates=KINDS)
    assert rules.report_period == DEFAULT_REPORT_PERIOD == Period(months=6)


def test_a_report_deadline_sets_the_period(tmp_path: Path) -> None:
    text = edited(
        'kind = "report"              # counted from the contract\'s start\nperiod = "6 months"',
        'kind = "report"\nperiod = "3 months 10 days"',
    )
    rules = load_rules(write(tmp_path, text), templates=KINDS)
    assert rules.report_period == Period(months=3, days=10)


def test_a_report_deadline_with_a_severity_is_refused(tmp_path: Path) -> None:
    text = edited('kind = "report"', 'kind = "report"\nseverity = ["major"]')
    message = error_of(write(tmp_path, text))
    assert message == (
        f"{tmp_path / 'rules.toml'}: rule 'D-report': severity/area: a report deadline belongs "
        "to a contract, not a finding; leave severity and area out"
    )


def test_a_report_step_with_an_area_is_refused(tmp_path: Path) -> None:
    text = edited(
        'id = "E-report-1d"\ndeadline = "report"',
        'id = "E-report-1d"\ndeadline = "report"\narea = ["wages"]',
    )
    assert "rule 'E-report-1d': severity/area: a report deadline belongs" in error_of(
        write(tmp_path, text)
    )


def test_two_report_deadlines_are_refused(tmp_path: Path) -> None:
    text = DEFAULT_TEXT + '\n[[deadline]]\nid = "D-report-2"\nkind = "report"\nperiod = "1 month"\n'
    assert error_of(write(tmp_path, text)).endswith(
        "rule 'D-report-2': kind: 'D-report' sets the report deadline already; keep one"
    )


def test_a_finding_email_on_the_report_ladder_is_refused(tmp_path: Path) -> None:
    text = edited('template = "report_reminder"', 'template = "plan_reminder"')
    assert error_of(write(tmp_path, text)).endswith(
        "rule 'R-report-14d': template: 'plan_reminder' does not fit the report deadline; use "
        "one of report_reminder, report_overdue, report_escalated"
    )


def test_a_report_email_on_a_finding_ladder_is_refused(tmp_path: Path) -> None:
    text = edited('template = "plan_overdue"', 'template = "report_overdue"')
    assert error_of(write(tmp_path, text)).endswith(
        "rule 'E-plan-1d': template: 'report_overdue' does not fit the plan deadline; use a "
        "finding's (the report_* emails are for the report deadline)"
    )


def test_a_notice_about_the_report_deadline_is_refused(tmp_path: Path) -> None:
    text = edited(
        'template = "plan_received"\ndeadline = "plan_review"',
        'template = "plan_received"\ndeadline = "report"',
    )
    assert "rule 'N-plan-received': a notice is about a finding" in error_of(write(tmp_path, text))


def test_an_escalation_before_the_report_deadline_is_refused(tmp_path: Path) -> None:
    text = edited(
        'offset = "+30 days"\nto = ["decision_makers", "sustainability_manager"]',
        'offset = "-30 days"\nto = ["decision_makers", "sustainability_manager"]',
    )
    assert "rule 'E-report-30d': action: an automatic escalation must come after" in error_of(
        write(tmp_path, text)
    )


def test_the_report_ladder_changes_the_digest(tmp_path: Path) -> None:
    shipped = load_rules(DEFAULT, templates=KINDS)
    text = edited(
        'offset = "-14 days"\nto = ["supplier"]\ntemplate = "report_reminder"',
        'offset = "-21 days"\nto = ["supplier"]\ntemplate = "report_reminder"',
    )
    changed: Rules = load_rules(write(tmp_path, text), templates=KINDS)
    assert changed.report_ladder()[0].offset == -21
    assert changed.digest != shipped.digest


def test_a_reminder_to_staff_or_an_escalation_to_the_supplier_is_refused(tmp_path: Path) -> None:
    text = edited(
        'offset = "-14 days"\nto = ["supplier"]',
        'offset = "-14 days"\nto = ["supplier", "contract_manager"]',
    )
    assert error_of(write(tmp_path, text)).endswith(
        "rule 'R-report-14d': to: report_reminder is written for the supplier alone; write "
        'to = ["supplier"], or use report_overdue for staff'
    )
    text = edited(
        'to = ["decision_makers", "sustainability_manager"]\ntemplate = "report_escalated"',
        'to = ["supplier", "decision_makers"]\ntemplate = "report_escalated"',
    )
    assert error_of(write(tmp_path, text)).endswith(
        "rule 'E-report-30d': to: report_escalated is written for the buyer's staff; leave "
        "supplier out, or use report_overdue for the supplier"
    )
