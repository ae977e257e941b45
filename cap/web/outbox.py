"""The outbox at /outbox: every email, failed ones first, with a button to send a failed one
again (POST /outbox/{id}/retry, for the roles that may)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cap.domain.model import EMAIL_KINDS, OutboxStatus, Role
from cap.domain.permissions import Permission
from cap.errors import InvalidInput, NotFound
from cap.web.labels import N_
from cap.web.site import Site, see_other

#: Each kind of email in words (the kinds are cap.domain.model.EMAIL_KINDS).
KIND_NAMES: dict[str, str] = {
    "cap_requested": N_("corrective action plan requested"),
    "plan_reminder": N_("reminder: plan due"),
    "plan_overdue": N_("plan overdue"),
    "formal_notice": N_("formal notice"),
    "plan_received": N_("plan received"),
    "review_reminder": N_("reminder: plan review due"),
    "plan_accepted": N_("plan accepted"),
    "plan_rejected": N_("plan rejected"),
    "remediation_reminder": N_("reminder: remediation due"),
    "remediation_overdue": N_("remediation overdue"),
    "verification_reminder": N_("reminder: verification due"),
    "finding_closed": N_("finding closed"),
    "remediation_rejected": N_("fix rejected"),
    "extension_requested": N_("extension requested"),
    "extension_declined": N_("extension declined"),
    "escalation_contract_manager": N_("escalation to the contract manager"),
    "escalation_sustainability_manager": N_("escalation to the sustainability manager"),
    "sanction_review_opened": N_("sanction review opened"),
    "decision_extension": N_("decision: extension"),
    "decision_warning": N_("decision: warning"),
    "decision_penalty": N_("decision: contractual penalty"),
    "decision_termination": N_("decision: termination"),
    "daily_digest": N_("daily digest"),
    "report_reminder": N_("reminder: report due"),
    "report_overdue": N_("report overdue"),
    "report_escalated": N_("missing report escalated"),
}
assert set(KIND_NAMES) == set(EMAIL_KINDS), "a kind of email without a name"

#: The statuses in the order the list shows them: what needs a person first.
STATUS_ORDER = (OutboxStatus.FAILED, OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.SENT)
assert set(STATUS_ORDER) == set(OutboxStatus)

#: The session key of the notice a retry leaves for the outbox page (shown once).
_NOTICE = "outbox_notice"
_SHOWN = 20  # characters of a bad parameter repeated in its message


def kind_name(kind: str, gettext: Callable[[str], str]) -> str:
    """A kind of email in the page's language (an unknown one as it is stored)."""
    name = KIND_NAMES.get(kind)
    return gettext(name) if name is not None else kind.replace("_", " ")


def role_of(value: str) -> Role | None:
    """The recipient's role as stored, if it is one the pages name."""
    try:
        return Role(value)
    except ValueError:
        return None


def routes(site: Site, router: APIRouter) -> None:

    @router.get("/outbox", response_class=HTMLResponse)
    def outbox(request: Request, status: str = "", page: str = "") -> Response:
        site.user(request, Permission.READ)
        _ = site.gettext(request)
        chosen: OutboxStatus | None = None
        if status.strip():
            try:
                chosen = OutboxStatus(status.strip())
            except ValueError:
                raise InvalidInput(
                    "status: "
                    + _("%(value)s is not a status; choose failed, queued, sending or sent")
                    % {"value": repr(status[:_SHOWN])}
                ) from None
        number = 1
        if page.strip():
            text = page.strip()
            if not (text.isascii() and text.isdigit()) or int(text) < 1:
                raise InvalidInput(
                    "page: "
                    + _("%(value)s is not a page number; pages count from 1")
                    % {"value": repr(page[:_SHOWN])}
                )
            number = int(text)
        listing = site.workflow.outbox_page(chosen, number)
        notice = request.session.pop(_NOTICE, None)
        query = {"status": chosen.value} if chosen is not None else {}

        def url(page: int) -> str:
            params = "&".join([*(f"{k}={v}" for k, v in query.items()), f"page={page}"])
            return f"/outbox?{params}"

        return site.render(request, "outbox.html", {
            "listing": listing,
            "statuses": STATUS_ORDER,
            "kinds": {kind: kind_name(kind, _) for kind in {e.kind for e in listing.entries}},
            "recipient_roles": {e.role: role_of(e.role) for e in listing.entries},
            "notice": notice if isinstance(notice, str) else None,
            "url": url,
        })  # fmt: skip

    @router.post("/outbox/{message_id}/retry")
    def retry(request: Request, message_id: str) -> Response:
        site.user(request, Permission.RETRY_MAIL)
        _ = site.gettext(request)
        if not (message_id.isascii() and message_id.isdigit()) or len(message_id) > 18:
            raise NotFound(
                _("message %(value)s does not exist") % {"value": repr(message_id[:_SHOWN])}
            )
        view = site.workflow.retry_message(int(message_id), now=site.now())
        # Translated now: the notice is shown once, on the next page, in the same language.
        request.session[_NOTICE] = _(
            "The email to %(recipient)s (message %(id)d) is queued again; the next delivery "
            "pass sends it."
        ) % {"recipient": view.recipient, "id": view.id}
        return see_other("/outbox")
