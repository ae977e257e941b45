"""Render notification emails (subject, plain text, HTML) from Jinja templates.

Templates live in ``<template_dir>/<language>/<kind>.subject.txt``, ``<kind>.txt`` and
``<kind>.html``; each language folder also holds ``_layout.txt``, ``_layout.html`` (extended by
every kind) and ``_phrases.txt`` (wording that depends on a finding's state), and for the report
kinds ``_report_layout.txt``, ``_report_layout.html`` (the layout with a reporting obligation's
action, facts and footer instead of a finding's) and ``_report_phrases.txt`` (what the report is
called and what it must contain). Macros shared by both languages live in
``<template_dir>/_macros.html`` and ``_macros.txt``. A custom ``template_dir`` is layered over
the shipped templates: a file it holds wins, any other file is taken from
:func:`default_template_dir`, so a deployment can override a single template.

Context contract
----------------
Callers pass every key below for every kind, ``None`` where it does not apply; templates may
rely on all of them being present. Rendering uses :class:`jinja2.StrictUndefined`, so a missing
key (or a ``None`` object whose attribute is read) raises :class:`jinja2.UndefinedError` instead
of silently printing nothing. Enum values may be passed as the ``StrEnum`` members of
:mod:`cap.domain.model` or as their plain string values.

``finding`` (dict, ``None`` only for ``daily_digest`` and the report kinds)
    ``ref``, ``title``, ``description`` (free text, possibly multi-line and containing markup:
    it is escaped in the HTML part and printed verbatim in the text part), ``severity``,
    ``area``, ``source``, ``site`` (str | None), ``site_country`` (str | None), ``state``,
    ``supplier_name``, ``contract_ref``, ``found_on`` (date), ``plan_due`` (date | None),
    ``remediation_due`` (date | None), ``escalation_level`` (int).
``obligation`` (dict, ``None`` except for the report kinds: ``report_reminder``,
``report_overdue``, ``report_escalated``, which are about a contract's reporting obligation)
    ``id`` (int), ``kind`` (an :class:`~cap.domain.model.ObligationKind` value), ``title``
    (str | None: the buyer's description of the report, always set for kind ``other``; when
    set it is what the email calls the report, else the kind's label), ``contract_ref``,
    ``supplier_name``, ``contract_start`` (date | None), ``due`` (date), ``state`` (an
    :class:`~cap.domain.model.ObligationState` value), ``escalation_level`` (int).
``recipient`` (dict)
    ``name`` (str | None; the greeting uses it when present), ``email``, ``role``: one of
    ``"supplier"``, ``"contract_manager"``, ``"sustainability_manager"``, ``"decision_makers"``.
``link``
    URL of the finding (for the supplier a signed link); for ``daily_digest`` the overview;
    for the report kinds the obligation on the desk for staff and ``None`` for the supplier,
    who sends the report by replying to the email (its Reply-To must be the contract
    manager: the emails say the reply goes there). A supplier's link, if one is given, is
    shown too.
``buyer_name``
    The buying organisation, e.g. ``"Region Stockholm"``.
``deadline`` (date | None)
    The date this email is about: the plan due date, the remediation due date, a revised or
    extended deadline, the date a supplier asked for in an extension request (granted or
    not), the date by which the buyer must review a plan or verify a reported fix, the date
    by which a decision is needed, or the date a termination takes effect; for the report
    kinds the date the report is due while it is ahead (``None`` once it has passed: the
    emails then use ``obligation.due``).
``days_overdue``, ``days_left`` (int | None)
``reason``, ``note`` (str | None)
    Free text: why a plan or remediation was rejected, why a review was opened or a deadline
    extended, why the supplier asks for more time or why that was declined (``reason``); a
    remark from the buyer's verification (``note``).
``decision`` (dict | None)
    ``outcome`` (a :class:`~cap.domain.model.DecisionOutcome` value), ``rationale``,
    ``proposed_by``, ``approved_by``. Required by the ``decision_*`` kinds, which address the
    supplier.
``findings``, ``today`` (``daily_digest``; ``None`` elsewhere)
    ``findings`` is a list of dicts with ``ref``, ``title``, ``state``, ``due`` (date | None),
    ``overdue`` (bool) and ``link``; ``today`` is a date. Order does not matter: the template
    lists overdue findings first, then the others, each by due date.

What each kind needs beyond ``finding``, ``recipient``, ``link`` and ``buyer_name``: a date,
which is ``deadline`` or, when that is ``None``, ``finding.plan_due`` (``cap_requested``,
``plan_reminder``, ``plan_overdue``, ``plan_rejected``), ``finding.remediation_due``
(``plan_accepted``, ``remediation_*``) or the due date of what the finding's state waits for
(``decision_extension``; the escalations word around a missing one), and ``deadline``
itself for ``review_reminder`` and ``verification_reminder`` (the buyer's plan review and
verification due dates are not fields of ``finding``, so there is no fallback), and for
``extension_requested`` and ``extension_declined`` (the date asked for; the deadline that
still holds is the due date of what the finding's state waits for); ``reason`` for
``plan_rejected``, ``remediation_rejected``, ``extension_requested``, ``extension_declined``,
``sanction_review_opened`` and ``decision_extension`` (which falls back to
``decision.rationale``); ``decision`` for the ``decision_*`` kinds; ``findings`` and
``today`` for ``daily_digest``; ``obligation`` for the report kinds (their date is
``deadline`` or, when that is ``None``, ``obligation.due``), and ``link`` when they go to
staff. Other ``None`` dates and counts are worded around ("immediately", no "in 3 days"). A
required value that is ``None`` raises :class:`jinja2.UndefinedError` like a missing one
(printing ``None`` or formatting a ``None`` date is refused), so a mail never says "None" or
has a gap.
``plan_received`` is worded for the supplier or, for any other role, for the contract manager;
``review_reminder`` (the plan review is due), ``verification_reminder`` (the verification of
a fix the supplier reported is due) and ``extension_requested`` are written for the contract
manager; ``extension_declined`` for the supplier. Of the report kinds, ``report_reminder`` is
written for the supplier, ``report_overdue`` for the supplier or, for any other role, for the
buyer's staff, and ``report_escalated`` for the decision makers or, for any other role (the
sustainability manager), for someone who advises them.

The renderer adds ``subject`` (the rendered, one-line subject) to the context of the text and
HTML parts. Filters available in templates: ``date`` (formatted in the template's language;
``None`` raises, unlike :func:`format_date`), ``label`` (an enum value in words), ``days``
("3 dagar" / "3 days"), ``nl2br`` (escape user text and keep its line breaks, HTML only),
``by_due`` (sort digest entries by due date) and ``pending_due`` (a finding's plan or
remediation due date, by its state).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    UndefinedError,
    select_autoescape,
)
from markupsafe import Markup, escape

from cap.domain.model import (
    Area,
    DecisionOutcome,
    Language,
    ObligationKind,
    ObligationState,
    Severity,
    Source,
    State,
)
from cap.errors import InvalidInput, NotFound
from cap.notify.kinds import KINDS, RenderedEmail

__all__ = [
    "KINDS",
    "LABELS",
    "ROLES",
    "SUBJECT_MAX_LENGTH",
    "RenderedEmail",
    "Renderer",
    "default_template_dir",
    "format_date",
]


#: Longest subject returned, ellipsis included.
SUBJECT_MAX_LENGTH = 200

_LANGUAGES: tuple[str, ...] = tuple(language.value for language in Language)

_MONTHS: dict[str, tuple[str, ...]] = {
    Language.SV: (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
    Language.EN: (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

#: Recipient roles (see the context contract) in words.
ROLES: tuple[str, ...] = (
    "supplier",
    "contract_manager",
    "sustainability_manager",
    "decision_makers",
)

#: Words for the values of Severity, Area, Source, State, DecisionOutcome, ObligationKind,
#: ObligationState and the recipient roles. Keys are plain values, so enums sharing a value share
#: its label: ``Area.OTHER``, ``Source.OTHER`` and ``ObligationKind.OTHER`` are all "other"
#: ("övrigt"). The report emails never label a report "other": one of that kind always has a
#: title, which is what they call it.
LABELS: dict[str, dict[str, str]] = {
    Language.SV: {
        Severity.MINOR: "mindre",
        Severity.MAJOR: "allvarlig",
        Severity.CRITICAL: "kritisk",
        Area.CHILD_LABOUR: "barnarbete",
        Area.FORCED_LABOUR: "tvångsarbete",
        Area.FREEDOM_OF_ASSOCIATION: "föreningsfrihet",
        Area.DISCRIMINATION: "diskriminering",
        Area.WORKING_HOURS: "arbetstid",
        Area.WAGES: "löner",
        Area.HEALTH_AND_SAFETY: "hälsa och säkerhet",
        Area.PROCESS_CHEMICALS: "processkemikalier",
        Area.ANTI_CORRUPTION: "antikorruption",
        Area.RESPONSIBLE_MINERALS: "ansvarsfulla mineraler",
        Area.ENVIRONMENT: "miljö",
        Area.TRANSPARENCY: "transparens",
        Area.OTHER: "övrigt",
        Source.DESKTOP_AUDIT: "dokumentgranskning",
        Source.FACTORY_AUDIT: "fabriksrevision",
        Source.MONITORING_REPORT: "oberoende övervakningsrapport",
        Source.SUPPLIER_REPORT: "leverantörens egen rapportering",
        Source.WORKER_COMPLAINT: "klagomål från arbetstagare",
        State.OPEN: "öppen",
        State.AWAITING_PLAN: "inväntar åtgärdsplan",
        State.PLAN_REVIEW: "åtgärdsplan under granskning",
        State.REMEDIATING: "åtgärder pågår",
        State.VERIFYING: "åtgärder verifieras",
        State.SANCTION_REVIEW: "sanktionsprövning",
        State.CLOSED: "avslutad",
        State.TERMINATED: "avtalet hävt",
        State.WITHDRAWN: "återkallad",
        DecisionOutcome.EXTENSION: "förlängd tidsfrist",
        DecisionOutcome.RESUMED: "fortsatt uppföljning",
        DecisionOutcome.WARNING: "skriftlig varning",
        DecisionOutcome.PENALTY: "vite",
        DecisionOutcome.TERMINATION: "hävning av avtalet",
        ObligationKind.SOCIAL_RISK_REPORT: "rapport om sociala risker",
        ObligationKind.SELF_ASSESSMENT: "självutvärdering",
        ObligationKind.MINERALS_REPORT: "rapport om konfliktmineraler",
        ObligationState.DUE: "väntas",
        ObligationState.ESCALATED: "eskalerad",
        ObligationState.RECEIVED: "mottagen",
        ObligationState.WAIVED: "avskriven",
        "supplier": "leverantör",
        "contract_manager": "avtalsansvarig",
        "sustainability_manager": "hållbarhetsansvarig",
        "decision_makers": "beslutsfattare",
    },
    Language.EN: {
        Severity.MINOR: "minor",
        Severity.MAJOR: "major",
        Severity.CRITICAL: "critical",
        Area.CHILD_LABOUR: "child labour",
        Area.FORCED_LABOUR: "forced labour",
        Area.FREEDOM_OF_ASSOCIATION: "freedom of association",
        Area.DISCRIMINATION: "discrimination",
        Area.WORKING_HOURS: "working hours",
        Area.WAGES: "wages",
        Area.HEALTH_AND_SAFETY: "health and safety",
        Area.PROCESS_CHEMICALS: "process chemicals",
        Area.ANTI_CORRUPTION: "anti-corruption",
        Area.RESPONSIBLE_MINERALS: "responsible minerals",
        Area.ENVIRONMENT: "environment",
        Area.TRANSPARENCY: "transparency",
        Area.OTHER: "other",
        Source.DESKTOP_AUDIT: "desktop audit",
        Source.FACTORY_AUDIT: "factory audit",
        Source.MONITORING_REPORT: "independent monitoring report",
        Source.SUPPLIER_REPORT: "supplier's own report",
        Source.WORKER_COMPLAINT: "worker complaint",
        State.OPEN: "open",
        State.AWAITING_PLAN: "awaiting plan",
        State.PLAN_REVIEW: "plan under review",
        State.REMEDIATING: "remediation in progress",
        State.VERIFYING: "remediation being verified",
        State.SANCTION_REVIEW: "sanction review",
        State.CLOSED: "closed",
        State.TERMINATED: "contract terminated",
        State.WITHDRAWN: "withdrawn",
        DecisionOutcome.EXTENSION: "deadline extended",
        DecisionOutcome.RESUMED: "follow-up resumed",
        DecisionOutcome.WARNING: "written warning",
        DecisionOutcome.PENALTY: "contractual penalty",
        DecisionOutcome.TERMINATION: "termination of contract",
        ObligationKind.SOCIAL_RISK_REPORT: "social-risk report",
        ObligationKind.SELF_ASSESSMENT: "self-assessment",
        ObligationKind.MINERALS_REPORT: "conflict minerals report",
        ObligationState.DUE: "due",
        ObligationState.ESCALATED: "escalated",
        ObligationState.RECEIVED: "received",
        ObligationState.WAIVED: "waived",
        "supplier": "supplier",
        "contract_manager": "contract manager",
        "sustainability_manager": "sustainability manager",
        "decision_makers": "decision makers",
    },
}

_DAY_WORDS: dict[str, tuple[str, str]] = {
    Language.SV: ("dag", "dagar"),
    Language.EN: ("day", "days"),
}

# Runs of whitespace and control characters (C0, DEL, C1, line/paragraph separators).
_SUBJECT_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def default_template_dir() -> Path:
    """The shipped templates.

    ``importlib.resources.files("cap") / "_data" / "email_templates"`` when that directory
    exists (an installed wheel), else the repository's ``email_templates/`` next to the ``cap/``
    package (an editable install or a checkout). The second path is returned even when it does
    not exist; rendering then fails with :class:`jinja2.TemplateNotFound`.
    """
    installed = resources.files("cap") / "_data" / "email_templates"
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent.parent / "email_templates"


def format_date(value: date | datetime | None, language: str) -> str:
    """A date in words: ``"29 november 2026"`` (sv) or ``"29 November 2026"`` (en).

    ``None`` gives ``""``; a ``datetime`` is shown by its own (local) calendar date. An
    unsupported language raises :class:`~cap.errors.InvalidInput`; anything that is not a
    date raises :class:`TypeError`.
    """
    months = _MONTHS[check_language(language)]
    if value is None:
        return ""
    if not isinstance(value, date):
        raise TypeError(f"format_date needs a date, not {type(value).__name__}")
    return f"{value.day} {months[value.month - 1]} {value.year}"


class Renderer:
    """Renders the emails of :data:`KINDS` in Swedish and English.

    One Jinja environment per language is built at construction; compiled templates are
    cached by Jinja and not reloaded when the files change (restart to pick up edits). A
    renderer is safe to share between threads.
    """

    def __init__(self, template_dir: Path | None = None) -> None:
        """``template_dir`` defaults to :func:`default_template_dir`.

        A custom directory is searched first and the shipped templates fill in whatever it
        does not hold.
        """
        shipped = default_template_dir()
        roots = [shipped] if template_dir is None else [Path(template_dir), shipped]
        if len(roots) == 2 and roots[0].resolve() == roots[1].resolve():
            roots = roots[:1]
        self.template_dirs: tuple[Path, ...] = tuple(roots)
        self._environments: dict[str, Environment] = {
            language: _environment(language, roots) for language in _LANGUAGES
        }

    def render(self, kind: str, language: str, context: Mapping[str, Any]) -> RenderedEmail:
        """Render ``kind`` in ``language`` with ``context`` (see the module docstring).

        Raises :class:`~cap.errors.NotFound` for a kind not in :data:`KINDS`,
        :class:`~cap.errors.InvalidInput` for a language other than sv or en, and
        :class:`jinja2.UndefinedError` when the context lacks a variable a template uses.
        """
        check_kind(kind)
        environment = self._environments[check_language(language)]
        values = dict(context)
        subject = _one_line(environment.get_template(f"{kind}.subject.txt").render(values))
        values["subject"] = subject
        text = _tidy_text(environment.get_template(f"{kind}.txt").render(values))
        html = environment.get_template(f"{kind}.html").render(values)
        return RenderedEmail(subject=subject, text=text, html=html)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"email template {kind!r} does not exist; known: {', '.join(KINDS)}")
    return kind


def check_language(language: str) -> str:
    if language not in _LANGUAGES:
        raise InvalidInput(f"language: {str(language)!r} is not supported; use sv or en")
    return str(language)


class _Environment(Environment):
    """Looks ``finding.ref`` up as a key first when ``finding`` is a dict, as every context
    value here is: Jinja tries the attribute first, and the AttributeError it raises and
    catches for each of the ~60 such lookups of an email was a tenth of rendering."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def _environment(language: str, roots: Iterable[Path]) -> Environment:
    search_path: list[Path] = []
    for root in roots:
        search_path += [root / language, root]
    environment = _Environment(
        loader=FileSystemLoader(search_path),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
        finalize=_refuse_none,
    )
    environment.filters.update(_filters(language))
    environment.globals["language"] = language
    return environment


def _filters(language: str) -> dict[str, Callable[..., Any]]:
    labels = LABELS[language]
    one_day, many_days = _DAY_WORDS[language]

    def date_filter(value: Any) -> str:
        if _defined(value) is None:
            raise UndefinedError("the date filter got None; guard an optional date with {% if %}")
        return format_date(value, language)

    def label_filter(value: Any) -> str:
        value = _defined(value)
        if value is None:
            return ""
        key = str(getattr(value, "value", value))
        return labels.get(key, key.replace("_", " "))

    def days_filter(value: Any) -> str:
        if _defined(value) is None:
            raise UndefinedError("the days filter got None; guard an optional count with {% if %}")
        count = int(value)
        return f"{count} {one_day if abs(count) == 1 else many_days}"

    return {
        "date": date_filter,
        "label": label_filter,
        "days": days_filter,
        "nl2br": _nl2br,
        "by_due": _by_due,
        "pending_due": _pending_due,
    }


def _refuse_none(value: Any) -> Any:
    """Jinja ``finalize``: printing ``None`` is a template or caller bug, never "None" in a mail."""
    if value is None:
        raise UndefinedError(
            "a template printed None; pass a value or guard the optional one with {% if %}"
        )
    return value


def _defined(value: Any) -> Any:
    """``value``, or :class:`jinja2.UndefinedError` when a template passed an undefined one."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def _nl2br(value: Any) -> Markup:
    """Escape user text for HTML and turn its line breaks into ``<br>``."""
    value = _defined(value)
    if value is None:
        return Markup("")
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Markup("<br>\n").join(escape(line) for line in lines)


def _by_due(entries: Any) -> list[Any]:
    """Digest entries by due date, earliest first, those without a date last, then by ref."""

    def key(entry: Any) -> tuple[bool, date, str]:
        if not isinstance(entry, Mapping) or "due" not in entry or "ref" not in entry:
            raise UndefinedError("each entry of 'findings' needs at least 'ref' and 'due'")
        due = entry["due"]
        if isinstance(due, datetime):
            due = due.date()
        return (due is None, due or date.min, str(entry["ref"]))

    if _defined(entries) is None:
        raise UndefinedError("'findings' is None; the daily digest needs a list")
    return sorted(entries, key=key)


def _pending_due(finding: Any) -> Any:
    """The due date of what ``finding`` waits for from the supplier: the plan while it is open
    or awaiting a plan, the remediation while remediating, else ``None``."""
    finding = _defined(finding)
    state = finding["state"]
    if state in (State.OPEN, State.AWAITING_PLAN):
        return finding["plan_due"]
    if state == State.REMEDIATING:
        return finding["remediation_due"]
    return None


def _one_line(subject: str) -> str:
    line = _SUBJECT_BREAKS.sub(" ", subject).strip()
    if len(line) > SUBJECT_MAX_LENGTH:
        line = line[: SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
    return line


def _tidy_text(text: str) -> str:
    """Unix line ends, no trailing spaces, at most one blank line in a row, one final newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # String methods rather than regexes (this runs for every email): a MULTILINE "[ \t]+$"
    # tries a match at every space, and cost more than the rest of this together.
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"
