"""The supplier's pages: what a link in an email opens, without an account.

``/s/{token}`` lists the supplier's findings the link opens (cap.workflow.answers); each has
its page with what is expected now, the history that concerns the supplier, and the answers
possible in its state: a corrective action plan (its actions added and removed on the page,
without script), files, the fix reported, an extension asked for. Every answer is the
workflow's action, checked and recorded as the desk's and the command line's are, with the
link's address as the actor.

A link that does not open (tampered with, unknown, expired, revoked) gets one page, 403, that
says only that and whom to ask; too many bad links from one client address, or answers through
one link, get 429. The token is in the path: pages are never cached, never indexed, and the
Referrer-Policy keeps it from other sites.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from cap.domain.inputs import PlanInput
from cap.domain.lifecycle import Action
from cap.domain.model import ACTIVE_STATES, DeadlineKind, State
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
from cap.web.obligations import owed_by_supplier
from cap.web.security import FILES_PER_FORM
from cap.web.site import PRIVATE, Site, client_address, field_errors, see_other
from cap.workflow.answers import SupplierFinding, SupplierPortal, Throttled
from cap.workflow.findings import EVIDENCE_TYPES
from cap.workflow.links import LinkNotValid

#: Every supplier page: never kept by a browser or proxy, never indexed.
_HEADERS = {**PRIVATE, "x-robots-tag": "noindex, nofollow"}
#: Rows a plan form starts with, and the most it may have (the plan's own limit is higher;
#: a plan longer than this is sent by its file).
FIRST_ROWS = 3
MAX_ROWS = 50
_ROW_FIELDS = ("description", "owner", "due")

#: What is expected of the supplier in each state.
EXPECTED: dict[State, str] = {
    State.AWAITING_PLAN: N_("Send a corrective action plan by %(due)s."),
    State.PLAN_REVIEW: N_("The buyer is reviewing your plan. Nothing is needed from you now."),
    State.REMEDIATING: N_("Carry out the plan and report the fix, with evidence, by %(due)s."),
    State.VERIFYING: N_("The buyer is checking your fix. Nothing is needed from you now."),
    State.SANCTION_REVIEW: N_(
        "The buyer is considering sanctions under the contract. Write to your contact."
    ),
    State.CLOSED: N_("Closed: the fix was verified. Thank you."),
    State.WITHDRAWN: N_("Withdrawn by the buyer. Nothing is needed from you."),
    State.TERMINATED: N_("The contract was terminated over this finding."),
}
#: What each entry of the supplier's history says happened.
HAPPENED: dict[str, str] = {
    Action.NOTIFY.value: N_("The buyer asked for a corrective action plan"),
    "reminder": N_("Reminder sent to you"),
    "escalation": N_("Notice of a missed deadline sent to you"),
    Action.ESCALATE.value: N_("Sent to sanction review"),
    Action.SUBMIT_PLAN.value: N_("Plan sent"),
    Action.ACCEPT_PLAN.value: N_("Plan accepted"),
    Action.REJECT_PLAN.value: N_("Plan not accepted"),
    Action.REPORT_REMEDIATION.value: N_("Fix reported"),
    Action.VERIFY.value: N_("Fix verified, finding closed"),
    Action.REJECT_REMEDIATION.value: N_("Fix not accepted"),
    Action.EXTEND.value: N_("Deadline extended"),
    Action.WARN.value: N_("Warning decided"),
    Action.PENALISE.value: N_("Contractual penalty decided"),
    Action.APPROVE_TERMINATION.value: N_("Termination approved"),
    Action.WITHDRAW.value: N_("Finding withdrawn"),
    "evidence_added": N_("Files sent"),
    "request_resent": N_("Request sent to you again, with a new link"),
    Action.REQUEST_EXTENSION.value: N_("Extension asked for"),
    Action.DECLINE_EXTENSION.value: N_("Extension declined"),
}
#: The forms of a finding's page, by the action each takes (files: no action).
FILES_FORM = "files"
_FORM_FIELDS: dict[str, tuple[str, ...]] = {
    Action.SUBMIT_PLAN.value: ("root_cause", "actions"),
    Action.REPORT_REMEDIATION.value: ("note", "file"),
    Action.REQUEST_EXTENSION.value: ("until", "reason"),
    FILES_FORM: ("file",),
}


def plan_rows(values: Mapping[str, str]) -> list[dict[str, str]]:
    """The plan form's action rows as sent (``description_0``, ``owner_0``, ``due_0``...),
    without those ticked for removal; one more when "add" was asked for."""
    try:
        count = min(int(values.get("rows", "")), MAX_ROWS)
    except ValueError:
        count = FIRST_ROWS
    rows = [
        {name: values.get(f"{name}_{i}", "")[:20_000] for name in _ROW_FIELDS}
        for i in range(max(count, 0))
        if not values.get(f"remove_{i}")
    ]
    if values.get("change") == "add" and len(rows) < MAX_ROWS:
        rows.append(dict.fromkeys(_ROW_FIELDS, ""))
    return rows or [dict.fromkeys(_ROW_FIELDS, "")]


def plan_of(values: Mapping[str, str], rows: list[dict[str, str]]) -> PlanInput:
    """The plan the form gives; an error names the action as the page numbers it."""
    actions = [(f"action {n}", r) for n, r in enumerate(rows, start=1)
               if any(v.strip() for v in r.values())]  # fmt: skip
    return plan_from(values.get("root_cause", ""), actions, none="give at least one action")


def routes(site: Site, router: APIRouter) -> None:
    workflow = site.workflow
    settings = site.settings

    def not_valid(request: Request, status: int = 403, wait: str | None = None) -> HTMLResponse:
        return site.render(request, "supplier_not_valid.html", {"status": status, "wait": wait},
                           status_code=status, headers=_HEADERS)  # fmt: skip

    def open_portal(
        request: Request, token: str, *, record: bool = True
    ) -> SupplierPortal | HTMLResponse:
        """The link's portal, its person's language the page's; or the page that says no.
        ``record``: count this as a use of the link (an answer is counted by the workflow)."""
        now = site.now()
        address = client_address(request)
        wait = workflow.link_wait(address, now=now)
        if wait is not None:
            return not_valid(request, 429, wait=str(wait))
        try:
            portal = workflow.supplier_portal(token, now=now, record=record)
        except LinkNotValid:
            workflow.record_bad_link(address, now=now)
            return not_valid(request)
        request.state.language = portal.language
        request.state.portal = portal
        return portal

    def missing(request: Request, token: str, error: NotFound) -> HTMLResponse:
        """What the link does not reach (another supplier's finding, a file not theirs):
        404, on the supplier's page, naming only what was asked for."""
        portal = getattr(request.state, "portal", None)
        return site.render(request, "supplier_not_valid.html",
                           {"status": 404, "message": error.plain, "portal": portal,
                            "base": base_path(token)},
                           status_code=404, headers=_HEADERS)  # fmt: skip

    def base_path(token: str) -> str:
        return f"/s/{quote(token, safe='')}"

    def render(
        request: Request,
        template: str,
        token: str,
        portal: SupplierPortal,
        context: Mapping[str, Any],
        status_code: int = 200,
    ) -> HTMLResponse:
        _ = site.gettext(request)
        language = site.languages.of(request)
        return site.render(
            request,
            template,
            {
                "portal": portal,
                "base": base_path(token),
                "expected": EXPECTED,
                "happened": HAPPENED,
                "quote": quote,
                "kinds": DeadlineKind,
                "evidence_types": ", ".join(EVIDENCE_TYPES),
                "files_per_form": FILES_PER_FORM,
                "max_size": size_text(settings.evidence_max_bytes, language, _),
                "size": lambda n: size_text(n, language, _),
                **context,
            },
            status_code=status_code,
            headers=_HEADERS,
        )

    @router.get("/s/{token}", response_class=HTMLResponse)
    def portal_page(request: Request, token: str) -> HTMLResponse:
        portal = open_portal(request, token)
        if isinstance(portal, HTMLResponse):
            return portal
        reports = owed_by_supplier(workflow, portal, site.now())
        return render(request, "supplier_portal.html", token, portal, {"reports": reports})

    def finding_page(
        request: Request,
        token: str,
        portal: SupplierPortal,
        found: SupplierFinding,
        *,
        failed: str | None = None,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        rows: list[dict[str, str]] | None = None,
        throttled: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        _ = site.gettext(request)
        done = request.query_params.get("done", "") if failed is None else ""
        notice = None
        if done in HAPPENED:
            notice = _("Recorded: %(what)s. Your contact at the buyer has been told.") % {
                "what": _(HAPPENED[done])
            }
        return render(
            request,
            "supplier_finding.html",
            token,
            portal,
            {
                "f": found,
                "failed": failed,
                "errors": errors or {},
                "values": values or {},
                "rows": rows or [dict.fromkeys(_ROW_FIELDS, "") for _ in range(FIRST_ROWS)],
                "notice": notice,
                "throttled": throttled,
                "files_allowed": found.state in (*ACTIVE_STATES, State.SANCTION_REVIEW),
                "fields": _FORM_FIELDS,
                "files_form": FILES_FORM,
            },
            status_code=status_code,
        )

    @router.get("/s/{token}/findings/{ref}", response_class=HTMLResponse)
    def supplier_finding(request: Request, token: str, ref: str) -> HTMLResponse:
        portal = open_portal(request, token)
        if isinstance(portal, HTMLResponse):
            return portal
        try:
            found = portal.finding(ref)
        except NotFound as error:
            return missing(request, token, error)
        return finding_page(request, token, portal, found)

    def answer(request: Request, token: str, ref: str, form: str, sent: Submitted) -> Response:
        # Adding or removing a plan's rows uses the link; an answer's use is the workflow's.
        changing = form == Action.SUBMIT_PLAN.value and sent.values.get("change") in (
            "add",
            "remove",
        )
        portal = open_portal(request, token, record=changing)
        if isinstance(portal, HTMLResponse):
            return portal
        try:
            found = portal.finding(ref)
        except NotFound as error:
            return missing(request, token, error)
        fields = _FORM_FIELDS[form]
        values = {k: v for k, v in sent.values.items() if k in fields or k == "version"}
        rows = plan_rows(sent.values) if form == Action.SUBMIT_PLAN.value else None
        if rows is not None and changing:
            # Rows added or removed: the same form again, nothing sent yet.
            values["root_cause"] = sent.values.get("root_cause", "")
            return finding_page(request, token, portal, found, failed=form, values=values,
                                rows=rows)  # fmt: skip
        now = site.now()
        try:
            if sent.problem and "file" in fields:
                raise InvalidInput(sent.problem)
            if form == FILES_FORM:
                workflow.attach_as_supplier(token, found.ref, sent.files, now=now)
                return see_other(
                    f"{base_path(token)}/findings/{quote(found.ref)}?done=evidence_added"
                )
            version = values.get("version", "").strip()
            if version and not version.isdecimal():
                raise InvalidInput(f"version: {version!r} is not a version; reload the page")
            if rows is not None:
                values["root_cause"] = sent.values.get("root_cause", "")
            workflow.answer(
                token, found.ref, Action(form), now=now,
                reason=values.get("reason", "").strip() or None,
                note=values.get("note", "").strip() or None,
                until=parse_date(values.get("until", ""), "until"),
                plan=plan_of(values, rows) if rows is not None else None,
                evidence=sent.files if "file" in fields else (),
                expected_version=int(version) if version else found.version,
            )  # fmt: skip
        except LinkNotValid:
            return not_valid(request)
        except Throttled as error:
            return finding_page(request, token, portal, found, throttled=error.plain,
                                status_code=429)  # fmt: skip
        except NotFound as error:
            return missing(request, token, error)
        except CapError as error:
            return finding_page(request, token, portal, found, failed=form, values=values,
                                rows=rows, errors=field_errors(error, fields),
                                status_code=status_of(error))  # fmt: skip
        return see_other(f"{base_path(token)}/findings/{quote(found.ref)}?done={form}")

    @router.post("/s/{token}/findings/{ref}/{form}", response_class=HTMLResponse)
    async def send_answer(request: Request, token: str, ref: str, form: str) -> Response:
        if form not in _FORM_FIELDS:
            raise NotFound(f"{form[:40]!r} is not an answer a supplier gives")  # fmt: skip
        takes_files = "file" in _FORM_FIELDS[form]
        sent = await read_form(request, limit=settings.evidence_max_bytes if takes_files else None)
        return await run_in_threadpool(answer, request, token, ref, form, sent)

    @router.get("/s/{token}/findings/{ref}/files/{evidence_id}")
    def supplier_file(request: Request, token: str, ref: str, evidence_id: str) -> Response:
        portal = open_portal(request, token)
        if isinstance(portal, HTMLResponse):
            return portal
        try:
            found = portal.finding(ref)
            if not EVIDENCE_ID.fullmatch(evidence_id):
                raise NotFound(f"file: {evidence_id[:20]} is not one of the files of {found.ref}")
            meta, content = workflow.supplier_evidence(token, found.ref, int(evidence_id),
                                                       now=site.now())  # fmt: skip
        except NotFound as error:
            return missing(request, token, error)
        return download(meta, content, _HEADERS)


__all__ = ["EXPECTED", "HAPPENED", "plan_rows", "routes"]
