"""Queueing notifications: rendered, addressed rows written in the caller's transaction.

Nothing here sends anything. A row is inserted with ``ON CONFLICT (key) DO NOTHING``, so
queueing the same notification twice (a re-run sweep, a retried request) leaves one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session, col

from cap.config import Settings
from cap.domain.lifecycle import deadline_of
from cap.domain.model import Case, DeadlineKind, Role
from cap.notify.kinds import RenderedEmail
from cap.notify.links import finding_link, obligation_link
from cap.notify.message import message_id_for
from cap.store.db import insert_for
from cap.store.mapping import case_of
from cap.store.models import Contract, Finding, OutboxMessage, OutboxStatus, Supplier

if TYPE_CHECKING:
    from cap.notify.render import Renderer


class LinkFor(Protocol):
    """The links put in emails to a supplier's addresses about a finding (cap.workflow.links
    makes them; without one, the finding's page on the desk is linked, as for staff)."""

    def __call__(self, finding: Finding, address: str) -> str: ...

    def settle(self, rows: Iterable[dict[str, Any]]) -> None:
        """Write the links the rendered ``rows`` carry, before the rows are written."""


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    language: str
    role: Role


@dataclass(frozen=True)
class Notice:
    """An email of ``kind`` to everyone in ``roles``, about the date of ``deadline``, sent
    under the rule ``rule`` (its id, which the audit trail names when nobody is reached)."""

    kind: str
    roles: tuple[Role, ...]
    deadline: DeadlineKind | None = None
    rule: str | None = None


@dataclass(frozen=True)
class ContractParties:
    """Who is involved in a contract's reporting obligation."""

    supplier: Supplier
    contract: Contract
    contacts: Sequence[tuple[str | None, str, str]]  # (name, email, language)


@dataclass(frozen=True)
class Parties:
    """Who is involved in a finding, loaded once per transaction."""

    finding: Finding
    supplier: Supplier
    contract: Contract
    contacts: Sequence[tuple[str | None, str, str]]  # (name, email, language)
    case: Case | None = None  # the finding's state after the action, when it just changed


__all__ = [
    "ROLE_SETTINGS",
    "LinkFor",
    "Notice",
    "Parties",
    "Prepared",
    "RenderedEmail",
    "prepare",
    "queue",
    "queue_digest",
    "renderer_for",
    "template_context",
]


#: The setting that gives the addresses of each buyer role a finding does not name itself.
ROLE_SETTINGS: dict[Role, str] = {
    Role.SUSTAINABILITY_MANAGER: "CAP_SUSTAINABILITY_MANAGER",
    Role.DECISION_MAKERS: "CAP_DECISION_MAKERS",
}


@lru_cache(maxsize=4)
def renderer_for(template_dir: Path | None) -> Renderer:
    """One renderer per template folder and process: compiled templates are cached in it."""
    from cap.notify.render import Renderer

    return Renderer(template_dir)


def recipients(
    roles: Iterable[Role], parties: Parties | ContractParties, settings: Settings
) -> tuple[list[Recipient], list[dict[str, str]]]:
    """The recipients for ``roles`` (each address once) and the roles nobody could be found for."""
    found: list[Recipient] = []
    missing: list[dict[str, str]] = []
    staff = settings.default_language
    for role in roles:
        if role is Role.SUPPLIER:
            people = [Recipient(e, n, lang, role) for n, e, lang in parties.contacts]
            why = "the supplier has no contact"
        elif role is Role.CONTRACT_MANAGER:
            people = [Recipient(parties.contract.manager_email, None, staff, role)]
            why = ""
        elif role is Role.SUSTAINABILITY_MANAGER:
            people = [
                Recipient(e, None, staff, role) for e in settings.sustainability_manager_addresses
            ]
            why = f"{ROLE_SETTINGS[role]} is not set"
        else:
            people = [Recipient(e, None, staff, role) for e in settings.decision_maker_addresses]
            why = f"{ROLE_SETTINGS[role]} is not set"
        if not people:
            missing.append({"role": role.value, "why": why})
        seen = {r.email.casefold() for r in found}
        found.extend(p for p in people if p.email.casefold() not in seen)
    return found, missing


@lru_cache(maxsize=4)
def _insert_if_new(dialect: str, *, returning: bool = False) -> Any:
    """INSERT .. ON CONFLICT (key) DO NOTHING, built once per dialect (inserting outbox rows
    is on every action's and sweep's path); ``returning``: listing the row when it was new."""
    statement = insert_for(dialect, OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    return statement.returning(col(OutboxMessage.id)) if returning else statement


def _case_of(parties: Parties) -> Case:
    return parties.case if parties.case is not None else case_of(parties.finding)


def finding_context(parties: Parties) -> dict[str, Any]:
    f = parties.finding
    case = _case_of(parties)
    return {
        "ref": f.ref,
        "title": f.title,
        "description": f.description,
        "severity": f.severity,
        "area": f.area,
        "source": f.source,
        "site": f.site,
        "site_country": f.site_country,
        "state": case.state,
        "supplier_name": parties.supplier.name,
        "contract_ref": parties.contract.reference,
        "found_on": f.found_on,
        "plan_due": case.plan_due,
        "remediation_due": case.remediation_due,
        "escalation_level": case.escalation_level,
    }


@dataclass
class Prepared:
    """Rendered outbox rows not yet written, and what the audit trail says about them."""

    rows: list[dict[str, Any]]
    queued: list[dict[str, str]]
    not_sent: list[dict[str, str]]

    @property
    def trail(self) -> dict[str, list[dict[str, str]]]:
        return {"queued": self.queued, "not_sent": self.not_sent}


def queue(
    session: Session,
    settings: Settings,
    *,
    notices: Iterable[Notice],
    parties: Parties,
    key: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    deadline: date | None = None,
    links: LinkFor | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Render and insert one outbox row per notice and recipient, in ``session``'s transaction
    (see :func:`prepare`). Returns what was queued and which roles had nobody to send to."""
    prepared = prepare(
        settings, notices=notices, parties=parties, key=key, now=now, extra=extra,
        deadline=deadline, links=links,
    )  # fmt: skip
    if links is not None:
        links.settle(prepared.rows)
    insert_rows(session, prepared.rows)
    return prepared.trail


def prepare(
    settings: Settings,
    *,
    notices: Iterable[Notice],
    parties: Parties,
    key: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
    deadline: date | None = None,
    links: LinkFor | None = None,
) -> Prepared:
    """Render one outbox row per notice and recipient, without writing anything.

    ``key`` identifies the cause (an event, a rule step); with the kind and the address it
    makes each row's idempotency key. ``extra`` adds context (reason, note, decision...);
    ``links`` makes the suppliers' links.
    """
    renderer = renderer_for(settings.templates_dir)
    base = template_context(settings, finding=finding_context(parties), **(extra or {}))
    rows: list[dict[str, Any]] = []
    queued: list[dict[str, str]] = []
    not_sent: list[dict[str, str]] = []
    for notice in notices:
        people, missing = recipients(notice.roles, parties, settings)
        named = {"rule": notice.rule} if notice.rule is not None else {}
        not_sent.extend({**named, "kind": notice.kind, **m} for m in missing)
        due = deadline
        if due is None and notice.deadline is not None:
            due = deadline_of(_case_of(parties), notice.deadline)
        for person in people:
            link = (
                links(parties.finding, person.email)
                if links is not None and person.role is Role.SUPPLIER
                else finding_link(settings, parties.finding.ref)
            )
            context = {
                **base,
                "deadline": due if due is not None else base["deadline"],
                "recipient": {"name": person.name, "email": person.email, "role": person.role},
                "link": link,
            }
            rows.append(
                _row(
                    settings,
                    key=f"{key}/{notice.kind}/{person.email.casefold()}",
                    finding_id=parties.finding.id,
                    kind=notice.kind,
                    person=person,
                    rendered=renderer.render(notice.kind, person.language, context),
                    # The supplier answers the contract manager, not a robot.
                    reply_to=(
                        parties.contract.manager_email if person.role is Role.SUPPLIER else None
                    ),
                    now=now,
                )
            )
            queued.append({"kind": notice.kind, "to": person.email, "role": person.role.value})
    return Prepared(rows, queued, not_sent)


def prepare_report(
    settings: Settings,
    *,
    notice: Notice,
    parties: ContractParties,
    obligation: dict[str, Any],
    obligation_id: int,
    key: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> Prepared:
    """Render the rows of one email about a reporting obligation (the ``report_*`` kinds) to
    everyone in the notice's roles, without writing anything. Staff get the obligation's page
    on the desk; the supplier gets no link: it sends the report in answer, to the contract
    manager (the Reply-To)."""
    renderer = renderer_for(settings.templates_dir)
    base = template_context(settings, obligation=obligation, **(extra or {}))
    rows: list[dict[str, Any]] = []
    queued: list[dict[str, str]] = []
    people, missing = recipients(notice.roles, parties, settings)
    named = {"rule": notice.rule} if notice.rule is not None else {}
    not_sent = [{**named, "kind": notice.kind, **m} for m in missing]
    for person in people:
        supplier = person.role is Role.SUPPLIER
        context = {
            **base,
            "recipient": {"name": person.name, "email": person.email, "role": person.role},
            "link": None if supplier else obligation_link(settings, obligation_id),
        }
        row = _row(
            settings,
            key=f"{key}/{notice.kind}/{person.email.casefold()}",
            finding_id=None,
            kind=notice.kind,
            person=person,
            rendered=renderer.render(notice.kind, person.language, context),
            reply_to=parties.contract.manager_email if supplier else None,
            now=now,
        )
        rows.append({**row, "obligation_id": obligation_id})
        queued.append({"kind": notice.kind, "to": person.email, "role": person.role.value})
    return Prepared(rows, queued, not_sent)


def queue_digest(
    session: Session,
    settings: Settings,
    *,
    recipient: str,
    findings: list[dict[str, Any]],
    today: date,
    now: datetime,
) -> bool:
    """Queue one contract manager's daily digest; the key makes it one per person and day.
    Returns whether it was new (False: today's digest was queued already)."""
    manager = Recipient(recipient, None, settings.default_language, Role.CONTRACT_MANAGER)
    context = template_context(
        settings,
        recipient={"name": None, "email": recipient, "role": manager.role},
        link=f"{settings.base_url.rstrip('/')}/findings",
        findings=findings,
        today=today,
    )
    rendered = renderer_for(settings.templates_dir).render(
        "daily_digest", manager.language, context
    )
    key = f"digest/{today.isoformat()}/{recipient.casefold()}"
    row = _row(
        settings,
        key=key,
        finding_id=None,
        kind="daily_digest",
        person=manager,
        rendered=rendered,
        reply_to=None,
        now=now,
    )
    return insert_row(session, row)


def template_context(settings: Settings, **values: Any) -> dict[str, Any]:
    """A template context: every key of the contract (see cap.notify.render), ``None``
    unless given."""
    return {
        "finding": None,
        "obligation": None,
        "recipient": None,
        "link": None,
        "buyer_name": settings.buyer_name,
        "deadline": None,
        "days_overdue": None,
        "days_left": None,
        "reason": None,
        "note": None,
        "decision": None,
        "findings": None,
        "today": None,
        **values,
    }


def _row(
    settings: Settings,
    *,
    key: str,
    finding_id: int | None,
    kind: str,
    person: Recipient,
    rendered: RenderedEmail,
    reply_to: str | None,
    now: datetime,
) -> dict[str, Any]:
    """An outbox row, queued and due now."""
    return {
        "key": key,
        "finding_id": finding_id,
        "kind": kind,
        "language": person.language,
        "recipient": person.email,
        "recipient_role": person.role.value,
        "recipient_name": person.name,
        "reply_to": reply_to,
        "subject": rendered.subject[:300],
        "text_body": rendered.text,
        "html_body": rendered.html,
        "obligation_id": None,
        "message_id": message_id_for(key, settings.mail_from),
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "queued_at": now,
        "created_at": now,
    }


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows; a row whose key exists already is skipped (idempotency)."""
    if not rows:
        return
    connection = session.connection()
    # No RETURNING: with it, SQLAlchemy sends a batch as one INSERT of many VALUES, which
    # psycopg re-parses on every call (too long for its cache): a sixth of a sweep's CPU.
    # Without it, the driver's executemany repeats one short, cached, prepared statement.
    connection.execute(_insert_if_new(connection.dialect.name), rows)


def insert_row(session: Session, row: dict[str, Any]) -> bool:
    """Insert one outbox row unless its key exists already; True if it was new."""
    connection = session.connection()
    statement = _insert_if_new(connection.dialect.name, returning=True)
    return connection.execute(statement, row).first() is not None
