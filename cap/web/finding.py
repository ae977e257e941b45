"""One finding's page, its action forms and evidence; the form to log a finding.

A form's values are checked by the same inputs and use cases as the command line's
(:class:`cap.domain.inputs.FindingInput`, :class:`~cap.domain.inputs.PlanInput`,
:meth:`cap.workflow.Workflow.act`): an error names its field and is shown next to it, and
nothing is written. An action is offered, and taken, only when the finding's state allows it
and the user's role may take it there (:func:`cap.domain.permissions.may_act`), checked again
when the form comes back. Forms are read here (``request.form()``), never by FastAPI's
parameter parsing, so that no form a browser can send gets a JSON 422 instead of a page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from cap.domain.inputs import FindingInput, PlanInput, plain
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import (
    Action,
    Area,
    DeadlineKind,
    Role,
    Severity,
    Source,
    State,
)
from cap.domain.permissions import Permission, allows, may_act
from cap.errors import CapError, InvalidInput, NotFound
from cap.web.forms import (
    EVIDENCE_ID,
    Submitted,
    download,
    parse_date,
    plan_from,
    read_form,
    size_text,
    status_of,
)
from cap.web.labels import N_
from cap.web.security import FILES_PER_FORM
from cap.web.site import NotAllowed, Site, field_errors, see_other
from cap.workflow import EventView, UserView, unreached_of
from cap.workflow.casefile import CaseFile
from cap.workflow.findings import EVIDENCE_TYPES

#: The log form's fields: FindingInput's.
FINDING_FIELDS = tuple(FindingInput.model_fields)
#: Fields given by choosing from a list: left out when nothing was chosen ("is required").
_CHOSEN = ("contract", "severity", "area", "source")

#: Each action's fields beside ``at`` (when it happened), as the command line's options.
ACTION_FIELDS: dict[Action, tuple[str, ...]] = {
    Action.NOTIFY: (),
    Action.SUBMIT_PLAN: ("root_cause", "actions"),
    Action.ACCEPT_PLAN: ("note",),
    Action.REJECT_PLAN: ("reason", "until"),
    Action.REPORT_REMEDIATION: ("note", "file"),
    Action.VERIFY: ("note",),
    Action.REJECT_REMEDIATION: ("reason",),
    Action.ESCALATE: ("reason",),
    Action.REQUEST_EXTENSION: ("until", "reason"),
    Action.EXTEND: ("deadline", "until", "reason"),
    Action.DECLINE_EXTENSION: ("reason",),
    Action.RESUME: ("reason",),
    Action.WARN: ("reason",),
    Action.PENALISE: ("reason",),
    Action.TERMINATE: ("reason",),
    Action.APPROVE_TERMINATION: ("note",),
    Action.WITHDRAW: ("reason",),
}
#: Actions that cannot be undone, or end the finding: their button says so.
_GRAVE = frozenset({Action.TERMINATE, Action.APPROVE_TERMINATION, Action.WITHDRAW})
#: The deadlines an extension may move: the supplier's.
_EXTENDABLE = (DeadlineKind.PLAN, DeadlineKind.REMEDIATION)
#: Events whose ``until`` is a date the supplier asked for, not a deadline set.
_ABOUT_A_REQUEST = frozenset({Action.REQUEST_EXTENSION.value, Action.DECLINE_EXTENSION.value})
#: The form that attaches evidence without an action, where its errors are shown.
_EVIDENCE_FORM = "evidence"

#: What each entry of the audit trail says happened.
_HAPPENED: dict[str, str] = {
    "logged": N_("Finding logged"),
    "evidence_added": N_("Evidence attached"),
    "reminder": N_("Reminder sent"),
    "escalation": N_("Escalation sent"),
    "step_skipped": N_("Step passed over (catch-up)"),
    "rules_reapplied": N_("Deadlines recomputed under new rules"),
    "request_resent": N_("Request sent to the supplier again, with a new link"),
    Action.NOTIFY.value: N_("Supplier notified"),
    Action.SUBMIT_PLAN.value: N_("Plan recorded"),
    Action.ACCEPT_PLAN.value: N_("Plan accepted"),
    Action.REJECT_PLAN.value: N_("Plan rejected"),
    Action.REPORT_REMEDIATION.value: N_("Fix reported"),
    Action.VERIFY.value: N_("Fix verified, finding closed"),
    Action.REJECT_REMEDIATION.value: N_("Fix rejected"),
    Action.ESCALATE.value: N_("Escalated to sanction review"),
    Action.REQUEST_EXTENSION.value: N_("Extension requested"),
    Action.EXTEND.value: N_("Deadline extended"),
    Action.DECLINE_EXTENSION.value: N_("Extension declined"),
    Action.RESUME.value: N_("Resumed without sanction"),
    Action.WARN.value: N_("Warning decided"),
    Action.PENALISE.value: N_("Contractual penalty decided"),
    Action.TERMINATE.value: N_("Termination proposed"),
    Action.APPROVE_TERMINATION.value: N_("Termination approved"),
    Action.WITHDRAW.value: N_("Finding withdrawn"),
}
#: Where each step still to come stands (cap.domain.engine.TimelineStatus).
_STEP_STATUS: dict[str, str] = {
    "due": N_("due now: the next sweep takes it"),
    "catch_up_skip": N_("skipped: a later step is due"),
    "passed": N_("passed"),
    "upcoming": N_("waiting"),
}
_STEP_KIND: dict[str, str] = {
    "deadline": N_("Deadline"),
    "reminder": N_("Reminder"),
    "escalation": N_("Escalation"),
}


@dataclass(frozen=True)
class TrailEntry:
    """An entry of the audit trail as the page shows it."""

    at: datetime
    happened: str  # translated
    actor: str
    from_state: State | None
    to_state: State | None
    detail: str | None  # the person's reason or note, or the rule's id
    deadlines: tuple[tuple[DeadlineKind, date], ...]
    files: tuple[str, ...]
    asked: date | None = None  # the date of an extension request, or of the one declined


def _input_errors(exc: ValidationError) -> dict[str, str]:
    """Each field's first problem, in plain words (:func:`cap.domain.inputs.plain`)."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        errors.setdefault(str(loc[0]) if loc else "form", plain(error))
    return errors


def _role(value: str) -> Role | None:
    """An email's recipient role, when it is one of the rules' roles (labelled)."""
    return Role(value) if value in set(Role) else None


def _trail(events: Sequence[EventView], _: Callable[[str], str]) -> list[TrailEntry]:
    entries = []
    for e in events:
        data = e.data
        detail = data.get("reason") or data.get("note") or data.get("rule")
        deadlines = tuple(
            (DeadlineKind(d["deadline"]), date.fromisoformat(d["new"]))
            for d in data.get("deadlines", [])
        )
        files = tuple(str(f.get("file_name", "")) for f in data.get("evidence", []))
        asked = data.get("until") if e.kind in _ABOUT_A_REQUEST else None
        happened = _HAPPENED.get(e.kind)
        entries.append(
            TrailEntry(
                at=e.at,
                happened=_(happened) if happened else e.kind.replace("_", " "),
                actor=e.actor,
                from_state=e.from_state,
                to_state=e.to_state,
                detail=str(detail) if detail else None,
                deadlines=deadlines,
                files=files,
                asked=date.fromisoformat(asked) if asked else None,
            )
        )
    return entries


def _plan(values: Mapping[str, str]) -> PlanInput:
    """The plan of the submit_plan form: the root cause, and one action a line, written
    ``what is done; who does it; YYYY-MM-DD`` (the description may hold semicolons)."""
    actions: list[tuple[str, dict[str, str]]] = []
    for number, line in enumerate(values.get("actions", "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.rsplit(";", 2)]
        if len(parts) != 3:
            raise InvalidInput(
                f"actions: line {number}: write it as: what is done; who does it; YYYY-MM-DD"
            )
        actions.append(
            (f"line {number}", {"description": parts[0], "owner": parts[1], "due": parts[2]})
        )
    return plan_from(values.get("root_cause", ""), actions,
                     none="give at least one action, one a line")  # fmt: skip


def routes(site: Site, router: APIRouter) -> None:
    workflow = site.workflow
    settings = site.settings
    tz = settings.calendar.tz

    # -- the log form ------------------------------------------------------------------------

    def log_form(
        request: Request,
        *,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        return site.render(
            request,
            "finding_new.html",
            {
                "contracts": workflow.list_contracts(),
                "severities": list(Severity),
                "areas": list(Area),
                "sources": list(Source),
                "values": values or {},
                "errors": errors or {},
            },
            status_code=status_code,
        )

    @router.get("/findings/new", response_class=HTMLResponse)
    def new_finding(request: Request, contract: str = "") -> HTMLResponse:
        site.user(request, Permission.LOG_FINDINGS)
        # A contract's page links here with its reference: the form starts with it chosen.
        return log_form(request, values={"contract": contract[:200]} if contract else None)

    def log(request: Request, user: UserView, values: dict[str, str]) -> Response:
        shown = {k: values.get(k, "") for k in FINDING_FIELDS}
        data: dict[str, Any] = {k: v for k, v in shown.items() if v.strip() or k not in _CHOSEN}
        try:
            finding = FindingInput.model_validate(data)
        except ValidationError as exc:
            return log_form(request, values=shown, errors=_input_errors(exc), status_code=400)
        try:
            ref = workflow.log_finding(finding, actor=user.email, now=site.now())
        except CapError as error:
            # The workflow spells a field as the command line does (external-id).
            named = CapError(error.plain.replace("external-id: ", "external_id: ", 1))
            return log_form(request, values=shown, errors=field_errors(named, FINDING_FIELDS),
                            status_code=status_of(error))  # fmt: skip
        return see_other(f"/findings/{quote(ref)}?done=logged")

    @router.post("/findings/new", response_class=HTMLResponse)
    async def log_finding(request: Request) -> Response:
        user = await run_in_threadpool(site.user, request, Permission.LOG_FINDINGS)
        sent = await read_form(request)
        return await run_in_threadpool(log, request, user, sent.values)

    # -- the finding's page ------------------------------------------------------------------

    def page(
        request: Request,
        user: UserView,
        ref: str,
        *,
        failed: str | None = None,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        _ = site.gettext(request)
        language = site.languages.of(request)
        case: CaseFile = workflow.case_file(ref, now=site.now())
        f = case.finding
        forms = [a for a in case.actions if may_act(user.role, a, f.state)]
        notices: list[str] = []
        warnings: list[str] = []
        done = request.query_params.get("done", "") if failed is None else ""
        if done == "logged":
            notices.append(_("%(ref)s logged.") % {"ref": f.ref})
        elif done == _EVIDENCE_FORM:
            notices.append(_("Evidence attached."))
        elif done in set(Action):
            notices.append(_("Recorded: %(what)s.") % {"what": _(_HAPPENED[done])})
            latest = next((e for e in reversed(f.events) if e.kind == done), None)
            if latest is not None:
                for missed in unreached_of(f.ref, latest.data.get("notifications", {})):
                    warnings.append(
                        _("An email of this action reached nobody: %(problem)s")
                        % {"problem": str(missed)}
                    )
        proposer = f.termination_proposed_by
        # Only the latest proposal not approved can still be pending; earlier ones were
        # dropped when the finding left its sanction review.
        unapproved = [i for i, d in enumerate(f.decisions) if d.approved_by is None]
        pending = proposer is not None and f.state is State.SANCTION_REVIEW and unapproved
        return site.render(
            request,
            "finding.html",
            {
                "case": case,
                "f": f,
                "forms": forms,
                "fields": ACTION_FIELDS,
                "grave": _GRAVE,
                "extendable": _EXTENDABLE,
                "trail": _trail(f.events, _),
                "step_status": _STEP_STATUS,
                "step_kind": _STEP_KIND,
                "failed": failed,
                "errors": errors or {},
                "values": values or {},
                "notices": notices,
                "warnings": warnings,
                "may_attach": allows(user.role, Permission.LOG_FINDINGS),
                "i_proposed": proposer is not None
                and proposer.strip().casefold() == user.email.strip().casefold(),
                "evidence_types": ", ".join(EVIDENCE_TYPES),
                "files_per_form": FILES_PER_FORM,
                "max_size": size_text(settings.evidence_max_bytes, language, _),
                "size": lambda n: size_text(n, language, _),
                "tz_name": str(tz),
                "pending_index": unapproved[-1] if pending else None,
                "as_role": _role,
                "quote": quote,
            },
            status_code=status_code,
        )

    @router.get("/findings/{ref}", response_class=HTMLResponse)
    def finding_page(request: Request, ref: str) -> HTMLResponse:
        user = site.user(request)
        return page(request, user, ref)

    # -- actions -----------------------------------------------------------------------------

    def at_of(value: str) -> datetime | None:
        """``at`` as a datetime-local field sends it: a local time of the buyer's zone."""
        if not value.strip():
            return None
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"at: {value!r} is not a date and time; write it like 2026-03-02T10:00"
            ) from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)

    def act(
        request: Request, user: UserView, ref: str, action: Action, sent: Submitted
    ) -> Response:
        current = workflow.show_finding(ref, now=site.now())
        if not may_act(user.role, action, current.state):
            raise NotAllowed
        fields = (*ACTION_FIELDS[action], "at")
        # Only what this action's form has: a note sent along with another action is not
        # recorded, nor files with an action that takes none.
        values = {k: v for k, v in sent.values.items() if k in fields or k == "version"}
        takes_files = "file" in fields

        def refused(error: CapError, status_code: int) -> HTMLResponse:
            return page(request, user, ref, failed=action.value, values=values,
                        errors=field_errors(error, fields), status_code=status_code)  # fmt: skip

        version = values.get("version", "").strip()
        now = site.now()
        try:
            if sent.problem and takes_files:
                raise InvalidInput(sent.problem)
            if version and not version.isdecimal():
                raise InvalidInput(f"version: {version!r} is not a version; reload the page")
            deadline = values.get("deadline", "").strip()
            if deadline and deadline not in set(_EXTENDABLE):
                raise InvalidInput(f"deadline: {deadline!r} is not one of {', '.join(_EXTENDABLE)}")
            asked = ActionRequest(
                action=action,
                actor=user.email,
                at=at_of(values.get("at", "")) or now,
                reason=values.get("reason", "").strip() or None,
                note=values.get("note", "").strip() or None,
                until=parse_date(values.get("until", ""), "until"),
                deadline=DeadlineKind(deadline) if deadline else None,
            )
            plan = _plan(values) if action is Action.SUBMIT_PLAN else None
            # The role was checked against this version's state: act on no other.
            expected = int(version) if version else current.version
            result = workflow.act(ref, asked, now=now, plan=plan,
                                  evidence=sent.files if takes_files else (),
                                  expected_version=expected, view=False)  # fmt: skip
        except NotFound:
            raise
        except CapError as error:
            return refused(error, status_of(error))
        return see_other(f"/findings/{quote(result.ref)}?done={action.value}")

    @router.post("/findings/{ref}/actions/{action}", response_class=HTMLResponse)
    async def take_action(request: Request, ref: str, action: str) -> Response:
        user = await run_in_threadpool(site.user, request)
        if action not in set(Action):
            raise NotFound(f"{action!r} is not an action; the actions are "
                           f"{', '.join(a.value for a in Action)}")  # fmt: skip
        sent = await read_form(request, limit=settings.evidence_max_bytes)
        return await run_in_threadpool(act, request, user, ref, Action(action), sent)

    # -- evidence ----------------------------------------------------------------------------

    def attach(request: Request, user: UserView, ref: str, sent: Submitted) -> Response:
        try:
            if sent.problem:
                raise InvalidInput(sent.problem)
            workflow.add_evidence(ref, sent.files, actor=user.email, now=site.now())
        except NotFound:
            raise
        except CapError as error:
            return page(request, user, ref, failed=_EVIDENCE_FORM,
                        errors=field_errors(error, ("file",)),
                        status_code=status_of(error))  # fmt: skip
        return see_other(f"/findings/{quote(ref.strip())}?done={_EVIDENCE_FORM}")

    @router.post("/findings/{ref}/evidence", response_class=HTMLResponse)
    async def add_evidence(request: Request, ref: str) -> Response:
        user = await run_in_threadpool(site.user, request, Permission.LOG_FINDINGS)
        sent = await read_form(request, limit=settings.evidence_max_bytes)
        return await run_in_threadpool(attach, request, user, ref, sent)

    @router.get("/findings/{ref}/evidence/{evidence_id}")
    def evidence(request: Request, ref: str, evidence_id: str) -> Response:
        site.user(request)
        if not EVIDENCE_ID.fullmatch(evidence_id):
            raise NotFound(f"evidence {evidence_id} does not belong to {ref}")
        return download(*workflow.evidence_content(ref, int(evidence_id)))
