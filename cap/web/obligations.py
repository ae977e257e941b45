"""The reports contracts oblige suppliers to send, on the desk: the list at /obligations (its
filters in the URL), one report's page at /obligations/{id} (the address the report emails
give staff) with its trail, what its ladder still holds and the forms that receive, extend or
waive it; and the short lists of reports on a contract's, a supplier's and the supplier's own
page.

The forms are the use case's (:meth:`cap.workflow.Workflow.act_on_obligation`), as
`cap obligation receive|extend|waive`: an error names its field and is shown next to it, in
the workflow's words as on a finding's page, and nothing is written. Only the actions the
report's state allows are offered, to the roles that may record reports
(:data:`Permission.RECORD_REPORTS`); both are checked again when a form comes back. A form
carries the version of the report it was filled in on: one sent after someone else changed it
is refused with a message, not applied over their change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from cap.domain.model import DeadlineKind, ObligationState
from cap.domain.obligations import DutyAction, DutyRequest
from cap.domain.permissions import Permission, allows
from cap.errors import CapError, InvalidInput, NotFound
from cap.web.forms import parse_date, read_form, status_of
from cap.web.labels import N_, label
from cap.web.outbox import kind_name
from cap.web.site import Site, field_errors, see_other
from cap.workflow import UserView, Workflow
from cap.workflow.answers import SupplierPortal
from cap.workflow.obligations import OWED, ObligationFilter
from cap.workflow.results import ObligationEventView, ObligationView, StepView

#: A report's number as a path gives it: at most 9 digits (the workflow refuses what is not
#: an id of its table; a longer number is none either, and never reaches the database).
OBLIGATION_ID = re.compile(r"[0-9]{1,9}")
#: The actions people take on a report, by the last part of the form's path, and each form's
#: fields, in the order they are shown.
FORM_FIELDS: dict[DutyAction, tuple[str, ...]] = {
    DutyAction.RECEIVE: ("received_on", "reference"),
    DutyAction.EXTEND: ("until", "reason"),
    DutyAction.WAIVE: ("reason",),
}
#: Names the workflow's messages give to fields (the command line's options), as the forms
#: name them.
_ALIASES = {"on": "received_on"}
#: At most this much of a filter as typed is used and shown back.
_ECHOED = 200

#: What each entry of a report's trail says happened.
HAPPENED: dict[str, str] = {
    "recorded": N_("Report obligation recorded"),
    DutyAction.RECEIVE.value: N_("Report received"),
    DutyAction.EXTEND.value: N_("Due date moved"),
    DutyAction.WAIVE.value: N_("Report waived"),
    DutyAction.ESCALATE.value: N_("Escalated to the decision makers"),
    "reminder": N_("Reminder sent"),
    "escalation": N_("Escalation sent"),
    "step_skipped": N_("Step passed over (catch-up)"),
}
#: What the notice after a form says was recorded.
DONE: dict[str, str] = {
    DutyAction.RECEIVE.value: N_("Recorded: the report was received."),
    DutyAction.EXTEND.value: N_("Recorded: the due date was moved."),
    DutyAction.WAIVE.value: N_("Recorded: the report was waived."),
}
#: The kinds of step of a ladder, and where each still to come stands.
STEP_KIND: dict[str, str] = {
    "deadline": N_("Deadline"),
    "reminder": N_("Reminder"),
    "escalation": N_("Escalation"),
}


@dataclass(frozen=True)
class ReportQuery:
    """The list's filters as the page's query gives them (``value``s as typed), with the
    first thing wrong with them by field."""

    overdue: bool = False
    states: tuple[ObligationState, ...] = ()
    contract: str = ""
    supplier: str = ""
    errors: Mapping[str, str] | None = None

    def where(self) -> ObligationFilter:
        return ObligationFilter(
            overdue=self.overdue,
            states=self.states,
            contract=self.contract or None,
            supplier=self.supplier or None,
        )


def report_query(params: Sequence[tuple[str, str]], _: Callable[[str], str]) -> ReportQuery:
    """The filters of the query ``params``: ``overdue`` (any value but empty), ``state``
    (repeatable), ``contract`` (a reference), ``supplier`` (an organisation number)."""
    errors: dict[str, str] = {}
    states: list[ObligationState] = []
    for key, value in params:
        if key != "state" or not value.strip():
            continue
        try:
            states.append(ObligationState(value.strip()))
        except ValueError:
            errors["state"] = _("%(value)s is not a state of a report; choose one of the list") % {
                "value": repr(value.strip()[:40])
            }
    given = dict(params)  # the last of each
    return ReportQuery(
        overdue=bool(given.get("overdue", "").strip()),
        states=tuple(dict.fromkeys(states)),
        contract=given.get("contract", "").strip()[:_ECHOED],
        supplier=given.get("supplier", "").strip()[:_ECHOED],
        errors=errors,
    )


@dataclass(frozen=True)
class TrailEntry:
    """An entry of a report's trail as its page shows it (dates formatted by the template)."""

    at: datetime
    happened: str  # translated
    actor: str
    from_state: ObligationState | None
    to_state: ObligationState | None
    due: date | None = None  # the date an obligation was recorded with
    received_on: date | None = None
    late: bool = False
    reference: str | None = None
    moved: tuple[date, date] | None = None  # from, to
    asked: date | None = None  # a date on a closed day, moved to the next open one
    reason: str | None = None
    rule: str | None = None


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def trail(events: Sequence[ObligationEventView], _: Callable[[str], str]) -> list[TrailEntry]:
    """The events of a report, as its page says them."""
    entries = []
    for e in events:
        data = e.data
        happened = HAPPENED.get(e.kind)
        old, new = _day(data.get("old")), _day(data.get("new"))
        entries.append(
            TrailEntry(
                at=e.at,
                happened=_(happened) if happened else e.kind.replace("_", " "),
                actor=e.actor,
                from_state=e.from_state,
                to_state=e.to_state,
                due=_day(data.get("due")) if e.kind == "recorded" else None,
                received_on=_day(data.get("received_on")),
                late=bool(data.get("late")),
                reference=str(data["reference"]) if data.get("reference") else None,
                moved=(old, new) if old and new else None,
                asked=_day(data.get("requested")),
                reason=str(data["reason"]) if data.get("reason") else None,
                rule=str(data["rule"]) if data.get("rule") and e.kind != "escalate" else None,
            )
        )
    return entries


def report_name(view: ObligationView, _: Callable[[str], str]) -> str:
    """What people call the report: its title, or its kind in words."""
    return view.title or _(label(view.kind))


def owed_by_supplier(
    workflow: Workflow, portal: SupplierPortal, now: datetime
) -> list[ObligationView]:
    """The reports the supplier of ``portal`` still owes (due or escalated), on any of its
    contracts, the earliest due first: never another supplier's."""
    return workflow.list_obligations(
        now=now, where=ObligationFilter(states=OWED, supplier=portal.supplier_org_number)
    )


def _obligation_id(text: str) -> int:
    """The report's number of a path; NotFound (the 404 page) for anything else."""
    if not OBLIGATION_ID.fullmatch(text):
        raise NotFound(f"report: no reporting obligation {text[:20]!r}")
    return int(text)


def _placed(error: CapError, fields: Sequence[str]) -> dict[str, str]:
    """``error`` next to the field of the form its message names."""
    field, sep, rest = error.plain.partition(": ")
    if sep and field in _ALIASES:
        return {_ALIASES[field]: rest}
    return field_errors(error, fields)


def routes(site: Site, router: APIRouter) -> None:
    workflow = site.workflow

    @router.get("/obligations", response_class=HTMLResponse)
    def obligations(request: Request) -> HTMLResponse:
        site.user(request, Permission.READ)
        _ = site.gettext(request)
        query = report_query(request.query_params.multi_items(), _)
        context = {"query": query, "errors": query.errors or {}, "states": list(ObligationState)}
        if query.errors:
            return site.render(request, "obligations.html", {**context, "reports": []},
                               status_code=400)  # fmt: skip
        reports = workflow.list_obligations(now=site.now(), where=query.where())
        unknown_contract = unknown_supplier = False
        if not reports and query.contract:
            unknown_contract = _missing(lambda: workflow.show_contract(query.contract))
        if not reports and query.supplier:
            unknown_supplier = _missing(lambda: workflow.show_supplier(query.supplier))
        return site.render(request, "obligations.html", {
            **context, "reports": reports, "unknown_contract": unknown_contract,
            "unknown_supplier": unknown_supplier,
        })  # fmt: skip

    def page(
        request: Request,
        user: UserView,
        obligation_id: int,
        *,
        failed: DutyAction | None = None,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        _ = site.gettext(request)
        now = site.now()
        detail = workflow.show_obligation(obligation_id, now=now)
        o = detail.obligation
        may_record = allows(user.role, Permission.RECORD_REPORTS)
        done = request.query_params.get("done", "") if failed is None else ""
        notices = [_(DONE[done])] if done in DONE else []
        upcoming: list[StepView] = [s for s in detail.timeline if not s.done]
        return site.render(
            request,
            "obligation.html",
            {
                "detail": detail,
                "o": o,
                "name": report_name(o, _),
                "forms": [a for a in detail.allowed if a in FORM_FIELDS] if may_record else [],
                "may_record": may_record,
                "fields": {a.value: f for a, f in FORM_FIELDS.items()},
                "failed": failed.value if failed else None,
                "errors": errors or {},
                "values": values or {},
                "notices": notices,
                "trail": trail(detail.events, _),
                "upcoming": upcoming,
                "step_kind": STEP_KIND,
                "email_name": lambda kind: kind_name(kind, _),
                "now": now,
                "today": site.settings.calendar.local_date(now),
                "report_deadline": DeadlineKind.REPORT,
            },
            status_code=status_code,
        )

    @router.get("/obligations/{obligation_id}", response_class=HTMLResponse)
    def obligation(request: Request, obligation_id: str) -> HTMLResponse:
        user = site.user(request)
        return page(request, user, _obligation_id(obligation_id))

    def act(
        request: Request, user: UserView, obligation_id: int, action: DutyAction,
        sent: Mapping[str, str],
    ) -> Response:  # fmt: skip
        now = site.now()
        current = workflow.show_obligation(obligation_id, now=now)  # unknown: 404
        fields = FORM_FIELDS[action]
        values = {k: v for k, v in sent.items() if k in fields}
        version = sent.get("version", "").strip()
        try:
            if version and not version.isdecimal():
                raise InvalidInput(f"version: {version[:20]!r} is not a version; reload the page")
            request_ = DutyRequest(
                action=action,
                actor=user.email,
                at=now,
                received_on=parse_date(values.get("received_on", ""), "received_on"),
                reference=values.get("reference", "").strip() or None,
                reason=values.get("reason", "").strip() or None,
                until=parse_date(values.get("until", ""), "until"),
            )
            # What the person saw is what they act on: a form without its version acts on
            # the report as it is now.
            expected = int(version) if version else current.obligation.version
            workflow.act_on_obligation(obligation_id, request_, now=now,
                                       expected_version=expected)  # fmt: skip
        except NotFound:
            raise
        except CapError as error:
            return page(request, user, obligation_id, failed=action, values=values,
                        errors=_placed(error, fields), status_code=status_of(error))  # fmt: skip
        return see_other(f"/obligations/{obligation_id}?done={action.value}")

    @router.post("/obligations/{obligation_id}/{action}", response_class=HTMLResponse)
    async def take_action(request: Request, obligation_id: str, action: str) -> Response:
        user = await run_in_threadpool(site.user, request, Permission.RECORD_REPORTS)
        number = _obligation_id(obligation_id)
        chosen = next((a for a in FORM_FIELDS if a.value == action), None)
        if chosen is None:
            raise NotFound(f"{action[:40]!r} is not something done to a report; the forms are "
                           f"{', '.join(a.value for a in FORM_FIELDS)}")  # fmt: skip
        sent = await read_form(request)
        return await run_in_threadpool(act, request, user, number, chosen, sent.values)


def _missing(show: Callable[[], object]) -> bool:
    """Whether ``show`` finds nothing."""
    try:
        show()
    except NotFound:
        return True
    return False


__all__ = [
    "FORM_FIELDS",
    "HAPPENED",
    "ReportQuery",
    "TrailEntry",
    "owed_by_supplier",
    "report_name",
    "report_query",
    "routes",
    "trail",
]
