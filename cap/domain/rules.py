"""Rules as data: the calendar, time limits, reminder and escalation ladders, who is told what.

Rules live in TOML files (``rules/default.toml`` ships with cap; ``CAP_RULES`` names another
file or a folder of files, read in name order and merged). They are validated once, at load:
an error names the file, the rule id and the field. Lookups are precomputed for every severity
and area, so asking "which period, which steps" on the hot path is a dictionary read.

Selection: for a given severity and area, the most specific matching rule wins (one that
names an area beats one that names a severity, which beats one that names neither); two
equally specific matches are refused at load time as ambiguous.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from cap.domain.calendar import BusinessCalendar, Period
from cap.domain.inputs import describe
from cap.domain.model import (
    FINDING_LIMITS,
    REPORT_EMAIL_KINDS,
    Action,
    Area,
    DeadlineKind,
    Limit,
    Role,
    Severity,
)
from cap.errors import InvalidInput


class RulesError(InvalidInput):
    """The rules cannot be used; the message names the file, rule and field."""


_PERIOD = re.compile(r"^\s*(?:(\d+)\s*months?)?\s*(?:(\d+)\s*(days?|weeks?))?\s*$")
_OFFSET = re.compile(r"^\s*([+-]?)\s*(\d+)\s*(days?|weeks?)\s*$")


def parse_period(value: Any) -> Period:
    """'1 month', '6 months', '14 days', '2 weeks', '1 month 3 days'."""
    if isinstance(value, Period):
        return value
    match = _PERIOD.match(str(value)) if isinstance(value, str) else None
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"{value!r} is not a period like '1 month', '14 days' or '2 weeks'")
    months = int(match.group(1) or 0)
    days = int(match.group(2) or 0) * (7 if (match.group(3) or "").startswith("week") else 1)
    return Period(months=months, days=days)


def parse_offset(value: Any) -> int:
    """Days relative to a deadline: '-7 days' (before), '+1 day' or '1 day' (after), '0 days'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _OFFSET.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"{value!r} is not an offset like '-7 days' (before the deadline) or '+14 days'"
        )
    days = int(match.group(2)) * (7 if match.group(3).startswith("week") else 1)
    return -days if match.group(1) == "-" else days


PeriodField = Annotated[Period, BeforeValidator(parse_period)]
OffsetField = Annotated[int, BeforeValidator(parse_offset)]
RuleId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,59}$")]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    # Leave a filter out to match everything; an empty list would silently match nothing.
    severity: Annotated[list[Severity], Field(min_length=1)] | None = None
    area: Annotated[list[Area], Field(min_length=1)] | None = None

    def matches(self, severity: Severity, area: Area) -> bool:
        return (self.severity is None or severity in self.severity) and (
            self.area is None or area in self.area
        )

    @property
    def specificity(self) -> int:
        return (2 if self.area is not None else 0) + (1 if self.severity is not None else 0)


class DeadlineRule(_Rule):
    kind: Limit
    period: PeriodField


class StepRule(_Rule):
    """A reminder (negative offset) or an escalation (positive offset) of a deadline's ladder."""

    deadline: DeadlineKind
    offset: OffsetField
    to: Annotated[list[Role], Field(min_length=1)]
    template: str
    level: Annotated[int, Field(ge=0, le=3)] = 0
    action: Literal["escalate"] | None = None


class NoticeRule(_Rule):
    """An email sent when a person performs an action."""

    on: Action
    to: Annotated[list[Role], Field(min_length=1)]
    template: str
    deadline: DeadlineKind | None = None


class CalendarRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "Europe/Stockholm"
    holiday_country: str | None = "SE"
    roll_forward: bool = True
    extra_closed_days: list[date] = []
    send_at: time = time(9, 0)


class ExtensionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max: Annotated[int, Field(ge=0)] | None = None
    approvers: list[Role] = []


R = TypeVar("R", bound=_Rule)

#: A contract's reporting obligation is due this long after the contract starts when the rules
#: set no ``kind = "report"`` deadline: the case study's six months.
DEFAULT_REPORT_PERIOD = Period(months=6)


class Rules:
    """Validated rules with their lookups precomputed. Build with :func:`load_rules`."""

    def __init__(
        self,
        *,
        calendar: CalendarRules,
        deadlines: Sequence[DeadlineRule],
        steps: Sequence[StepRule],
        notices: Sequence[NoticeRule],
        extensions: ExtensionRules,
        sources: dict[str, str],
        templates: Iterable[str] | None = None,
        calendar_source: str | None = None,
    ) -> None:
        self.calendar_rules = calendar
        self.deadlines = tuple(deadlines)
        self.steps = tuple(steps)
        self.notices = tuple(notices)
        self.extensions = extensions
        self.sources = sources  # rule id -> file it came from
        try:
            self.calendar = BusinessCalendar(
                timezone=calendar.timezone,
                country=calendar.holiday_country,
                roll_forward=calendar.roll_forward,
                extra_closed_days=frozenset(calendar.extra_closed_days),
            )
        except InvalidInput as exc:
            where = calendar_source or _first(sources.values())
            raise RulesError(f"{where}: {exc.message}") from None
        self._check_ids()
        self._check_reports()
        if templates is not None:
            self._check_templates(set(templates))
        report = [d for d in self.deadlines if d.kind is Limit.REPORT]
        #: How long after a contract's start its reporting obligation is due by default.
        self.report_period = report[0].period if report else DEFAULT_REPORT_PERIOD
        self._report_steps = tuple(
            sorted(
                (s for s in self.steps if s.deadline is DeadlineKind.REPORT),
                key=lambda s: s.offset,
            )
        )
        self._periods: dict[tuple[Limit, Severity, Area], Period] = {}
        self._steps: dict[tuple[DeadlineKind, Severity, Area], tuple[StepRule, ...]] = {}
        self._notices: dict[tuple[Action, Severity, Area], tuple[NoticeRule, ...]] = {}
        for severity in Severity:
            for area in Area:
                for limit in FINDING_LIMITS:
                    chosen = self._most_specific(
                        [d for d in self.deadlines if d.kind is limit], severity, area
                    )
                    if chosen is None:
                        raise RulesError(
                            f"{_first(sources.values())}: no deadline rule of kind "
                            f"'{limit.value}' applies to {severity.value} findings in "
                            f"{area.value}; add one without severity and area as the default"
                        )
                    self._periods[(limit, severity, area)] = chosen.period
                for kind in DeadlineKind:
                    self._steps[(kind, severity, area)] = tuple(
                        sorted(
                            (
                                s
                                for s in self.steps
                                if s.deadline is kind and s.matches(severity, area)
                            ),
                            key=lambda s: s.offset,
                        )
                    )
                for action in Action:
                    self._notices[(action, severity, area)] = tuple(
                        n for n in self.notices if n.on is action and n.matches(severity, area)
                    )
        self._check_ladders()
        self.digest = hashlib.sha256(self._canonical().encode()).hexdigest()[:16]
        #: When each (step id, deadline date) falls due; the engine fills it as it goes.
        self.due_cache: dict[tuple[str, date], datetime] = {}

    # -- lookups -------------------------------------------------------------------------

    def period(self, limit: Limit, severity: Severity, area: Area) -> Period:
        return self._periods[(limit, severity, area)]

    def ladder(self, kind: DeadlineKind, severity: Severity, area: Area) -> tuple[StepRule, ...]:
        """The steps of ``kind``'s ladder for a finding, earliest first."""
        return self._steps[(kind, severity, area)]

    def notices_for(self, action: Action, severity: Severity, area: Area) -> tuple[NoticeRule, ...]:
        return self._notices[(action, severity, area)]

    def report_ladder(self) -> tuple[StepRule, ...]:
        """The steps of a reporting obligation's ladder, earliest first."""
        return self._report_steps

    # -- validation ----------------------------------------------------------------------

    def _where(self, rule_id: str) -> str:
        return f"{self.sources.get(rule_id, 'rules')}: rule '{rule_id}'"

    def _check_ids(self) -> None:
        seen: set[str] = set()
        for rule in (*self.deadlines, *self.steps, *self.notices):
            if rule.id in seen:
                raise RulesError(f"{self._where(rule.id)}: id: the id is used twice")
            seen.add(rule.id)

    def _check_reports(self) -> None:
        """A reporting obligation belongs to a contract: its deadline and steps take no
        severity or area, and its emails are the report kinds (a finding's would have no
        finding to speak of), as the report kinds are for it alone."""
        reports = [d for d in self.deadlines if d.kind is Limit.REPORT]
        for rule in (*reports, *(s for s in self.steps if s.deadline is DeadlineKind.REPORT)):
            if rule.severity is not None or rule.area is not None:
                raise RulesError(
                    f"{self._where(rule.id)}: severity/area: a report deadline belongs to a "
                    "contract, not a finding; leave severity and area out"
                )
        if len(reports) > 1:
            raise RulesError(
                f"{self._where(reports[1].id)}: kind: '{reports[0].id}' sets the report "
                "deadline already; keep one"
            )
        for step in self.steps:
            about_report = step.deadline is DeadlineKind.REPORT
            if about_report != (step.template in REPORT_EMAIL_KINDS):
                wanted = (
                    f"one of {', '.join(REPORT_EMAIL_KINDS)}"
                    if about_report
                    else "a finding's (the report_* emails are for the report deadline)"
                )
                raise RulesError(
                    f"{self._where(step.id)}: template: '{step.template}' does not fit the "
                    f"{step.deadline.value} deadline; use {wanted}"
                )
            # The report emails are worded for their readers: a reminder for the supplier, an
            # escalation for the buyer's staff (report_overdue has words for both).
            if step.template == "report_reminder" and step.to != [Role.SUPPLIER]:
                raise RulesError(
                    f"{self._where(step.id)}: to: report_reminder is written for the supplier "
                    'alone; write to = ["supplier"], or use report_overdue for staff'
                )
            if step.template == "report_escalated" and Role.SUPPLIER in step.to:
                raise RulesError(
                    f"{self._where(step.id)}: to: report_escalated is written for the buyer's "
                    "staff; leave supplier out, or use report_overdue for the supplier"
                )
        for notice in self.notices:
            if notice.deadline is DeadlineKind.REPORT or notice.template in REPORT_EMAIL_KINDS:
                raise RulesError(
                    f"{self._where(notice.id)}: a notice is about a finding; the report "
                    'deadline and its emails belong to [[step]] rules with deadline = "report"'
                )

    def _check_templates(self, known: set[str]) -> None:
        templated: list[StepRule | NoticeRule] = [*self.steps, *self.notices]
        for rule in templated:
            if rule.template not in known:
                raise RulesError(
                    f"{self._where(rule.id)}: template: '{rule.template}' does not exist; "
                    f"known templates: {', '.join(sorted(known))}"
                )

    def _check_ladders(self) -> None:
        for (kind, severity, area), ladder in self._steps.items():
            offsets = [s.offset for s in ladder]
            if len(set(offsets)) != len(offsets):
                first, second = [s for s in ladder if offsets.count(s.offset) > 1][:2]
                raise RulesError(
                    f"{self._where(second.id)}: offset: falls on the same day as '{first.id}' in "
                    f"the {kind.value} ladder for {severity.value} findings in {area.value}"
                )
            for step in ladder:
                if step.action == "escalate" and step.offset <= 0:
                    raise RulesError(
                        f"{self._where(step.id)}: action: an automatic escalation must come after "
                        "the deadline (a positive offset)"
                    )

    def _most_specific(self, rules: list[R], severity: Severity, area: Area) -> R | None:
        matching = [r for r in rules if r.matches(severity, area)]
        if not matching:
            return None
        best = max(r.specificity for r in matching)
        top = [r for r in matching if r.specificity == best]
        if len(top) > 1:
            raise RulesError(
                f"{self._where(top[1].id)}: severity/area: both '{top[0].id}' and '{top[1].id}' "
                f"apply to {severity.value} findings in {area.value}; make one more specific"
            )
        return top[0]

    def _canonical(self) -> str:
        def dump(rules: Iterable[BaseModel]) -> list[Any]:
            return [r.model_dump(mode="json") for r in rules]

        return json.dumps(
            {
                "calendar": self.calendar_rules.model_dump(mode="json"),
                "deadlines": dump(self.deadlines),
                "steps": dump(self.steps),
                "notices": dump(self.notices),
                "extensions": self.extensions.model_dump(mode="json"),
            },
            sort_keys=True,
            default=str,
        )


def _first(values: Iterable[str]) -> str:
    return next(iter(values), "rules")


# -- loading ---------------------------------------------------------------------------------

_SECTIONS: dict[str, type[_Rule]] = {
    "deadline": DeadlineRule,
    "step": StepRule,
    "notice": NoticeRule,
}
_TOP = {"version", "calendar", "extensions", *_SECTIONS}


def load_rules(path: Path, templates: Iterable[str] | None = None) -> Rules:
    """Read and validate a rules file, or every ``*.toml`` file of a folder (merged).

    ``templates``: the email kinds that exist, to check every rule names one of them.
    Raises :class:`RulesError` naming the file, the rule id and the field.
    """
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        if not files:
            raise RulesError(f"{path}: the folder holds no .toml rules file")
    elif path.exists():
        files = [path]
    else:
        raise RulesError(f"{path}: no such rules file or folder (CAP_RULES)")

    calendar: tuple[str, CalendarRules] | None = None
    extensions: tuple[str, ExtensionRules] | None = None
    items: dict[str, list[Any]] = {name: [] for name in _SECTIONS}
    sources: dict[str, str] = {}
    for file in files:
        data = _read_toml(file)
        unknown = sorted(set(data) - _TOP)
        if unknown:
            raise RulesError(
                f"{file}: unknown section(s) {', '.join(unknown)}; the sections are "
                "version, calendar, extensions, [[deadline]], [[step]], [[notice]]"
            )
        version = data.get("version", 1)
        if type(version) is not int or version != 1:
            raise RulesError(f"{file}: version: {version!r} is not supported (use 1)")
        if "calendar" in data:
            if calendar is not None:
                raise RulesError(f"{file}: calendar: already set in {calendar[0]}")
            calendar = (str(file), _validate(CalendarRules, data["calendar"], f"{file}: calendar"))
        if "extensions" in data:
            if extensions is not None:
                raise RulesError(f"{file}: extensions: already set in {extensions[0]}")
            extensions = (
                str(file),
                _validate(ExtensionRules, data["extensions"], f"{file}: extensions"),
            )
        for section, model in _SECTIONS.items():
            entries = data.get(section, [])
            if not isinstance(entries, list):
                raise RulesError(f"{file}: {section}: write each rule as [[{section}]]")
            for index, entry in enumerate(entries):
                rule_id = entry.get("id") if isinstance(entry, dict) else None
                where = (
                    f"{file}: rule '{rule_id}'" if rule_id else f"{file}: {section} #{index + 1}"
                )
                rule: _Rule = _validate(model, entry, where)
                if rule.id in sources:
                    other = sources[rule.id]
                    where_else = "twice" if other == str(file) else f"also in {other}"
                    raise RulesError(f"{file}: rule '{rule.id}': id: the id is used {where_else}")
                items[section].append(rule)
                sources[rule.id] = str(file)
    return Rules(
        calendar=calendar[1] if calendar else CalendarRules(),
        deadlines=items["deadline"],
        steps=items["step"],
        notices=items["notice"],
        extensions=extensions[1] if extensions else ExtensionRules(),
        sources=sources,
        templates=templates,
        calendar_source=calendar[0] if calendar else None,
    )


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], data: Any, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RulesError(describe(exc, where, model=model)) from None


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{file}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise RulesError(f"{file}: cannot read ({exc.strerror})") from None
