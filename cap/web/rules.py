"""The rules in force at /rules: the calendar, the time limits, the reminder and escalation
ladders, the emails people's actions send, the extension limits; and the lifecycle diagram
(cap/web/diagram.py) with the same transitions as a table beside it.

The rules are data (cap.domain.rules); :func:`describe_rules` puts them in words in the page's
language, the way `cap rules check` and `cap rules simulate` show them in a terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from cap.config import Settings
from cap.domain.calendar import Period
from cap.domain.model import FINDING_LIMITS, Area, DeadlineKind, Language, Limit, Severity
from cap.domain.permissions import Permission
from cap.domain.rules import NoticeRule, Rules, StepRule
from cap.web.diagram import Transition, lifecycle_svg, transitions
from cap.web.labels import N_, label
from cap.web.language import FORMAT_LOCALES, translations
from cap.web.outbox import kind_name
from cap.web.site import Site
from cap.workflow import unaddressed_roles

#: The time limits, as the deadlines table names them.
LIMIT_NAMES: dict[Limit, str] = {
    Limit.PLAN: N_("Corrective action plan"),
    Limit.PLAN_REVISION: N_("Revised plan, after a rejection"),
    Limit.PLAN_REVIEW: N_("Review of a plan"),
    Limit.REMEDIATION: N_("Remediation"),
    Limit.VERIFICATION: N_("Verification of a fix"),
    Limit.REPORT: N_("Supplier report (a contract's reporting obligation)"),
}
#: What each time limit is counted from.
COUNTED_FROM: dict[Limit, str] = {
    Limit.PLAN: N_("the supplier is notified"),
    Limit.PLAN_REVISION: N_("a plan is rejected"),
    Limit.PLAN_REVIEW: N_("a plan is received"),
    Limit.REMEDIATION: N_("the supplier is notified"),
    Limit.VERIFICATION: N_("the supplier reports a fix"),
    Limit.REPORT: N_("the contract starts"),
}
#: Who owes what by each time limit.
OWED_BY: dict[Limit, str] = {
    Limit.PLAN: N_("the supplier"),
    Limit.PLAN_REVISION: N_("the supplier"),
    Limit.PLAN_REVIEW: N_("the buyer"),
    Limit.REMEDIATION: N_("the supplier"),
    Limit.VERIFICATION: N_("the buyer"),
    Limit.REPORT: N_("the supplier"),
}
#: The deadlines a ladder of reminders and escalations runs around.
DEADLINE_NAMES: dict[DeadlineKind, str] = {
    DeadlineKind.PLAN: N_("Plan deadline"),
    DeadlineKind.PLAN_REVIEW: N_("Plan review deadline"),
    DeadlineKind.REMEDIATION: N_("Remediation deadline"),
    DeadlineKind.VERIFICATION: N_("Verification deadline"),
    DeadlineKind.REPORT: N_("Supplier report deadline"),
}


@dataclass(frozen=True)
class Words:
    """The page's language: its gettext, its ngettext, and the locale for names of places."""

    gettext: Callable[[str], str]
    ngettext: Callable[[str, str, int], str]
    language: Language

    def name(self, value: StrEnum) -> str:
        return self.gettext(label(value))

    def names(self, values: Iterable[StrEnum]) -> str:
        return ", ".join(self.name(v) for v in values)


@dataclass(frozen=True)
class LimitRow:
    limit: Limit
    name: str
    owed_by: str
    counted_from: str
    periods: tuple[str, ...]  # by severity, in Severity's order


@dataclass(frozen=True)
class StepRow:
    rule: str
    when: str
    applies_to: str
    email: str
    to: str
    escalation: str


@dataclass(frozen=True)
class Ladder:
    deadline: DeadlineKind
    name: str
    steps: tuple[StepRow, ...]


@dataclass(frozen=True)
class NoticeRow:
    rule: str
    action: str
    applies_to: str
    email: str
    to: str
    deadline: str


@dataclass(frozen=True)
class Move:
    """A row of the transitions table."""

    source: str
    action: str
    dest: str


@dataclass(frozen=True)
class RulesPage:
    calendar: tuple[tuple[str, str], ...]  # (term, description)
    limits: tuple[LimitRow, ...]
    ladders: tuple[Ladder, ...]
    notices: tuple[NoticeRow, ...]
    extensions: tuple[tuple[str, str], ...]
    unaddressed: tuple[Markup, ...]  # escaped, with places to break a long name
    diagram: Markup
    moves: tuple[Move, ...]


def period_words(period: Period, words: Words) -> str:
    """``1 month``, ``14 days``, ``1 month and 3 days``, in the page's language."""
    months = words.ngettext("%(count)d month", "%(count)d months", period.months) % {
        "count": period.months
    }
    days = words.ngettext("%(count)d day", "%(count)d days", period.days) % {"count": period.days}
    if period.months and period.days:
        return words.gettext("%(months)s and %(days)s") % {"months": months, "days": days}
    return months if period.months else days


def offset_words(offset: int, words: Words) -> str:
    """When a step falls, relative to its deadline (which passes at the end of its day)."""
    count = abs(offset)
    if offset < 0:
        before = words.ngettext("%(count)d day before", "%(count)d days before", count)
        return before % {"count": count}
    if offset > 0:
        after = words.ngettext("%(count)d day after", "%(count)d days after", count)
        return after % {"count": count}
    return words.gettext("on the day")


def applies_to(rule: StepRule | NoticeRule, words: Words) -> str:
    if isinstance(rule, StepRule) and rule.deadline is DeadlineKind.REPORT:
        return words.gettext("every supplier report")  # a report has no severity or area
    parts = []
    if rule.severity is not None:
        parts.append(words.gettext("severity: %(values)s") % {"values": words.names(rule.severity)})
    if rule.area is not None:
        parts.append(words.gettext("area: %(values)s") % {"values": words.names(rule.area)})
    return "; ".join(parts) or words.gettext("every finding")


def _period_cell(rules: Rules, limit: Limit, severity: Severity, words: Words) -> str:
    """The period for ``severity`` in most areas, and the areas that have another."""
    by_area = {area: rules.period(limit, severity, area) for area in Area}
    usual = Counter(by_area.values()).most_common(1)[0][0]
    others: dict[Period, list[Area]] = {}
    for area, period in by_area.items():
        if period != usual:
            others.setdefault(period, []).append(area)
    text = period_words(usual, words)
    if not others:
        return text
    exceptions = "; ".join(
        words.gettext("%(period)s for %(areas)s")
        % {"period": period_words(period, words), "areas": words.names(areas)}
        for period, areas in others.items()
    )
    return f"{text} ({exceptions})"


def _escalation(step: StepRule, words: Words) -> str:
    if step.level == 0:
        return ""
    level = words.gettext("level %(level)d") % {"level": step.level}
    if step.action == "escalate" and step.deadline is DeadlineKind.REPORT:
        return words.gettext("%(level)s: the report goes to the decision makers") % {"level": level}
    if step.action == "escalate":
        return words.gettext("%(level)s: the finding goes to sanction review") % {"level": level}
    return level


def describe_rules(settings: Settings, words: Words) -> RulesPage:
    """The rules in force in ``settings``, in words."""
    rules = settings.rule_set
    _ = words.gettext
    calendar = rules.calendar_rules
    country = calendar.holiday_country
    if country:
        place = Locale.parse(FORMAT_LOCALES[words.language]).territories.get(country, country)
        holidays = _("the public holidays of %(country)s, and Midsummer, Christmas and New "
                     "Year's Eve") % {"country": place}  # fmt: skip
    else:
        holidays = _("none: only weekends are closed")
    closed = ", ".join(d.isoformat() for d in calendar.extra_closed_days) or _("none")
    rows = (
        (_("Time zone"), calendar.timezone),
        (_("Closed days beside weekends"), holidays),
        (_("Other closed days"), closed),
        (
            _("A deadline on a closed day"),
            _("moves to the next open day") if calendar.roll_forward else _("stays on that day"),
        ),
        (_("A deadline passes"), _("at the end of its day, in the time zone above")),
        (_("Reminders and escalations go out"),
         _("from %(time)s local time on their day") % {"time": calendar.send_at.strftime("%H:%M")}),
    )  # fmt: skip
    limits = (
        *(LimitRow(limit, _(LIMIT_NAMES[limit]), _(OWED_BY[limit]), _(COUNTED_FROM[limit]),
                   tuple(_period_cell(rules, limit, severity, words) for severity in Severity))
          for limit in FINDING_LIMITS),
        # A report's period is the contract's, whatever the severity of its findings.
        LimitRow(Limit.REPORT, _(LIMIT_NAMES[Limit.REPORT]), _(OWED_BY[Limit.REPORT]),
                 _(COUNTED_FROM[Limit.REPORT]),
                 (period_words(rules.report_period, words),) * len(Severity)),
    )  # fmt: skip
    ladders = tuple(
        Ladder(kind, _(DEADLINE_NAMES[kind]), tuple(
            StepRow(s.id, offset_words(s.offset, words), applies_to(s, words),
                    kind_name(s.template, _), words.names(s.to), _escalation(s, words))
            for s in sorted((s for s in rules.steps if s.deadline is kind),
                            key=lambda s: (s.offset, s.id))
        ))
        for kind in DeadlineKind
    )  # fmt: skip
    notices = tuple(
        NoticeRow(n.id, words.name(n.on), applies_to(n, words), kind_name(n.template, _),
                  words.names(n.to), _(DEADLINE_NAMES[n.deadline]) if n.deadline else "")
        for n in rules.notices
    )  # fmt: skip
    limit = rules.extensions.max
    extensions = (
        (_("Extensions per finding"),
         _("at most %(count)d") % {"count": limit}
         if limit is not None else _("no limit")),
        (_("Decided by"),
         words.names(rules.extensions.approvers) if rules.extensions.approvers
         else _("anyone whose role may extend a deadline")),
    )  # fmt: skip
    unaddressed = tuple(
        # The setting's name may break after each _ (CAP_SUSTAINABILITY_MANAGER at 320 px).
        escape(_("%(role)s: %(setting)s is not set, so rules %(rules)s send their emails to "
                 "nobody")) % {"role": words.name(u.role), "rules": ", ".join(u.rules),
                               "setting": Markup("_<wbr>").join(u.setting.split("_"))}
        for u in unaddressed_roles(settings)
    )  # fmt: skip
    moves = transitions()
    diagram = lifecycle_svg(
        moves,
        words.name,
        title=_("The lifecycle of a finding"),
        description=_("Its states as boxes and the actions that move it between them as "
                      "arrows; the table after the diagram lists the same transitions."),
    )  # fmt: skip
    return RulesPage(rows, limits, ladders, notices, extensions, unaddressed, diagram,
                     _moves(moves, words))  # fmt: skip


def _moves(moves: Sequence[Transition], words: Words) -> tuple[Move, ...]:
    """The transitions table's rows, by state in the lifecycle's order, then action."""
    order = {state: i for i, state in enumerate(dict.fromkeys(m.source for m in moves))}
    rows = []
    for m in sorted(moves, key=lambda m: order[m.source]):
        dest = words.name(m.dest)
        if m.source == m.dest:
            dest = words.gettext("%(state)s (stays)") % {"state": dest}
        elif m.returns:
            dest = words.gettext("%(state)s, if escalated from there") % {"state": dest}
        rows.append(Move(words.name(m.source), words.name(m.action), dest))
    return tuple(rows)


def routes(site: Site, router: APIRouter) -> None:

    @router.get("/rules", response_class=HTMLResponse)
    def rules(request: Request) -> Response:
        site.user(request, Permission.READ)
        language = site.languages.of(request)
        catalog = translations(language)
        words = Words(catalog.gettext, catalog.ngettext, language)
        return site.render(request, "rules.html", {
            "page": describe_rules(site.settings, words),
            "severities": list(Severity),
        })  # fmt: skip
