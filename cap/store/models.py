"""Tables. Instants are UTC-aware (:class:`UTCDateTime`); deadlines are plain dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from cap.domain.model import (
    Area,
    DecisionOutcome,
    Language,
    ObligationKind,
    ObligationState,
    Severity,
    Source,
    StaffRole,
    State,
)
from cap.domain.model import OutboxStatus as OutboxStatus  # the column's type, defined with
from cap.domain.planning import AuditKind
from cap.store.types import UTCDateTime  # the vocabulary so the CLI can offer it cheaply


def _enum(enum: type[StrEnum], *, index: bool = False, nullable: bool = False) -> Any:
    # Stored as VARCHAR, not a native PostgreSQL ENUM: adding a value later needs no migration.
    return Column(
        SAEnum(
            enum,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
        ),
        index=index,
        nullable=nullable,
    )


def _instant(*, index: bool = False, nullable: bool = True) -> Any:
    return Column(UTCDateTime(), index=index, nullable=nullable)


class Supplier(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    org_number: str = Field(max_length=40, unique=True)
    country: str = Field(max_length=2)
    created_at: datetime = Field(sa_column=_instant(nullable=False))


class SupplierContact(SQLModel, table=True):
    __tablename__ = "supplier_contact"

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    name: str | None = Field(default=None, max_length=200)
    email: str = Field(max_length=254)
    language: Language = Field(sa_column=_enum(Language))


def address_key(email: str) -> str:
    """How an address is matched (as users' email_key): addresses are ASCII and their case
    means nothing to people, so lower case is enough."""
    return email.strip().lower()


def _manager_key_default(context: Any) -> str:
    return address_key(context.get_current_parameters()["manager_email"])


class Contract(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=80, unique=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    category: str = Field(max_length=120)
    manager_email: str = Field(max_length=254)
    # The manager's address as users' are matched (address_key), kept with it: the dashboard
    # finds a user's contracts through this index, where lower() would read every contract.
    manager_key: str = Field(
        default=None,  # computed at INSERT from manager_email; update_contract sets both
        sa_column=Column(
            String(254), nullable=False, index=True, default=_manager_key_default,
            server_default="",
        ),
    )  # fmt: skip
    start_date: date | None = None
    end_date: date | None = None
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(16, 2), nullable=True))
    created_at: datetime = Field(sa_column=_instant(nullable=False))


#: ``Finding.due_order`` of a finding that owes nothing by a date.
NO_DEADLINE = date(9999, 12, 31)


def search_text(ref: str, title: str, site: str | None) -> str:
    """``Finding.search_text``: the ref, title and site a search of the findings list looks
    in, one a line (none holds a line break), in lower case as Python folds every letter."""
    return "\n".join((ref, title, site or "")).lower()


def _search_text_default(context: Any) -> str:
    # Every INSERT that does not give it (the ORM's, a Core executemany's) computes it per row.
    row = context.get_current_parameters()
    return search_text(row["ref"], row["title"], row.get("site"))


#: The findings list's order, then what it filters by (see Finding's indexes).
_LISTED = ("due_order", "id", "state", "severity", "area", "search_text")
_BY_STATE = ("state", "severity", "due_order", "id", "area", "search_text")


class Finding(SQLModel, table=True):
    # An audit report's own reference names one finding of a contract (NULLs never collide).
    # A unique index rather than a constraint: SQLite adds an index in place, while adding a
    # constraint copies the table, and dropping the old `finding` fails on its foreign keys.
    __table_args__ = (
        Index("uq_finding_contract_external_id", "contract_id", "external_id", unique=True),
        # The list's default order, the dashboard's overdue and due soon: ranges of an index.
        Index("ix_finding_due_order_id", "due_order", "id"),
        # The dashboard's oldest open findings: the first few of each state, in order.
        Index("ix_finding_state_found_on", "state", "found_on", "created_at", "id"),
        # The findings list, counted and paged from an index alone, never the table, whatever
        # it is filtered by (the supplier and contract have indexes of their own): in its
        # order; and by state and severity (a state's findings, sorted in the index alone).
        Index("ix_finding_list_due_order", *_LISTED),
        Index("ix_finding_list_state", *_BY_STATE),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=20, unique=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    external_id: str | None = Field(default=None, max_length=80)
    site: str | None = Field(default=None, max_length=200)
    site_country: str | None = Field(default=None, max_length=2)
    source: Source = Field(sa_column=_enum(Source))
    area: Area = Field(sa_column=_enum(Area))
    severity: Severity = Field(sa_column=_enum(Severity))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    found_on: date
    state: State = Field(sa_column=_enum(State, index=True))
    notified_at: datetime | None = Field(default=None, sa_column=_instant())
    plan_due: date | None = None
    remediation_due: date | None = None
    review_due: date | None = None
    verification_due: date | None = None
    # Progress of each deadline's reminder ladder: {kind: {due, since, done_until}}.
    ladder: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    escalation_level: int = 0
    return_state: State | None = Field(default=None, sa_column=_enum(State, nullable=True))
    termination_proposed_by: str | None = Field(default=None, max_length=254)
    deadline_version: int = 0
    extensions: int = 0
    # The date the supplier asked for in an extension request not yet answered.
    extension_request: date | None = None
    # The date of the deadline that binds the finding now (lifecycle.current_deadline), kept
    # with every write of the case; NO_DEADLINE when nothing is owed by a date, so that
    # findings without one sort last in an index on both databases.
    due_order: date = Field(default=NO_DEADLINE, sa_column_kwargs={"server_default": "9999-12-31"})
    # What a search of the list looks in (:func:`search_text`), written with the finding: a
    # plain LIKE, where lower() of each column would be a call into Python per row on SQLite.
    # The ref, title and site never change once a finding is logged.
    search_text: str = Field(
        default=None,  # computed at INSERT from the row's ref, title and site
        sa_column=Column(Text, nullable=False, default=_search_text_default, server_default=""),
    )
    # The sweep reads only rows whose next check has come: an index, not a scan.
    next_check_at: datetime | None = Field(default=None, sa_column=_instant(index=True))
    last_event_at: datetime | None = Field(default=None, sa_column=_instant())
    # The dashboard counts findings opened per month: a range of this index, not a scan.
    created_at: datetime = Field(sa_column=_instant(index=True, nullable=False))
    created_by: str = Field(max_length=254)
    # Optimistic lock: every write carries WHERE version = <version when loaded>.
    version: int = 1
    # The audit the finding comes from, when it was recorded (an audit of its supplier).
    audit_id: int | None = Field(default=None, foreign_key="audit.id")


class Plan(SQLModel, table=True):
    """One version of a corrective action plan; a rejected plan is followed by a new version."""

    __table_args__ = (UniqueConstraint("finding_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    version: int
    root_cause: str = Field(sa_column=Column(Text, nullable=False))
    actions: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    submitted_at: datetime = Field(sa_column=_instant(nullable=False))
    submitted_by: str = Field(max_length=254)
    review_outcome: str | None = Field(default=None, max_length=16)
    review_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reviewed_by: str | None = Field(default=None, max_length=254)
    reviewed_at: datetime | None = Field(default=None, sa_column=_instant())


class Evidence(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    size: int
    content_type: str = Field(default="application/octet-stream", max_length=120)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=254)
    uploaded_at: datetime = Field(sa_column=_instant(nullable=False))


class SupplierLink(SQLModel, table=True):
    """A link sent to a supplier's address, answering for one finding (or, without one, for
    the supplier's open findings): the URL carries a signed token naming this row, and the
    row says whether it still opens (expires, revoked) and how it was used."""

    __tablename__ = "supplier_link"
    __table_args__ = (Index("ix_supplier_link_finding_address", "finding_id", "address_key"),)

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id")
    address: str = Field(max_length=254)  # as it was sent to
    address_key: str = Field(max_length=254)  # address_key(address): how it is matched
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    expires_at: datetime = Field(sa_column=_instant(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_instant())
    # Indexed: the dashboard's figures are kept until a link is first opened.
    first_opened_at: datetime | None = Field(default=None, sa_column=_instant(index=True))
    last_opened_at: datetime | None = Field(default=None, sa_column=_instant())
    uses: int = 0


class Event(SQLModel, table=True):
    """Append-only audit trail. ``at`` is when it happened, ``recorded_at`` when it was written."""

    __table_args__ = (
        Index("ix_event_finding_id_id", "finding_id", "id"),
        # The dashboard counts closings per month (moves into a finished state) from this
        # index alone: from_state is in it to tell a move from a later event of a closed one.
        Index("ix_event_to_state_at", "to_state", "at", "from_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id")
    at: datetime = Field(sa_column=_instant(nullable=False))
    recorded_at: datetime = Field(sa_column=_instant(nullable=False))
    actor: str = Field(max_length=254)
    kind: str = Field(max_length=40)
    from_state: State | None = Field(default=None, sa_column=_enum(State, nullable=True))
    to_state: State | None = Field(default=None, sa_column=_enum(State, nullable=True))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Decision(SQLModel, table=True):
    """A sanction-review decision. A termination is proposed by one person, approved by another."""

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    outcome: DecisionOutcome = Field(sa_column=_enum(DecisionOutcome))
    rationale: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    proposed_by: str = Field(max_length=254)
    proposed_at: datetime = Field(sa_column=_instant(nullable=False))
    approved_by: str | None = Field(default=None, max_length=254)
    approved_at: datetime | None = Field(default=None, sa_column=_instant())


class OutboxMessage(SQLModel, table=True):
    """One email to one recipient, written in the transaction that caused it.

    ``key`` makes queueing idempotent (a second insert with the same key is a no-op). The
    rendered parts are stored; the MIME message is assembled from them at delivery (the costly
    part, kept out of the action's transaction), deterministically: a re-send carries the same
    Message-ID, Date and bytes. A worker claims a row with ``claimed_by``/``claimed_until``.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, unique=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id", index=True)
    # Or the reporting obligation it is about (a report ladder's emails).
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    kind: str = Field(max_length=60)
    language: str = Field(max_length=5)
    recipient: str = Field(max_length=254)
    recipient_role: str = Field(max_length=40)
    recipient_name: str | None = Field(default=None, max_length=200)
    reply_to: str | None = Field(default=None, max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(max_length=200)
    status: OutboxStatus = Field(sa_column=_enum(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_instant(nullable=False))
    queued_at: datetime = Field(sa_column=_instant(nullable=False))
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_instant())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_until: datetime | None = Field(default=None, sa_column=_instant())


class Setting(SQLModel, table=True):
    """Small facts the application keeps about itself (the digest of the rules last applied,
    worker heartbeats...)."""

    __tablename__ = "cap_setting"

    key: str = Field(primary_key=True, max_length=120)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=_instant(nullable=False))


class RefCounter(SQLModel, table=True):
    """Last finding number handed out per year, for refs like NC-2026-0001."""

    __tablename__ = "ref_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


class User(SQLModel, table=True):
    """A person who signs in to the desk. ``email`` is kept as typed; ``email_key`` (its lower
    case) is what is unique and looked up, so Anna@Region.example is anna@region.example."""

    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    email_key: str = Field(max_length=254, unique=True)
    name: str | None = Field(default=None, max_length=200)
    role: StaffRole = Field(sa_column=_enum(StaffRole))
    password_hash: str = Field(max_length=255)
    language: Language | None = Field(default=None, sa_column=_enum(Language, nullable=True))
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    disabled_at: datetime | None = Field(default=None, sa_column=_instant())
    # Carried in a session cookie; raised on every disable, role or password change, so the
    # cookies issued before no longer match and their sessions end.
    session_version: int = 1


class ApiToken(SQLModel, table=True):
    """A token another system calls the API with, in a role of the desk. Only its SHA-256 is
    kept: the token itself is shown once, when it is made. ``prefix`` (its first characters)
    tells tokens apart in a list without being usable."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: StaffRole = Field(sa_column=_enum(StaffRole))
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=_instant())
    revoked_at: datetime | None = Field(default=None, sa_column=_instant())
    last_used_at: datetime | None = Field(default=None, sa_column=_instant())


class IdempotencyKey(SQLModel, table=True):
    """A request another system sent with an ``Idempotency-Key``: the key, per token, with a
    fingerprint of what was asked and what it gave, written in the transaction that acted. The
    same request sent again is given that result, not acted on twice."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id")
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)  # SHA-256 of the operation and its body
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=_instant(index=True, nullable=False))


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept in the database so every web process sees the same count.

    ``email_key`` is the lower-cased address tried, whether or not such a user exists: counting
    only real accounts would tell a guesser which ones are."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email_key_at", "email_key", "at"),
        Index("ix_login_failure_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email_key: str = Field(max_length=254)
    address: str = Field(max_length=64)  # the client's IP address
    at: datetime = Field(sa_column=_instant(index=True, nullable=False))


class AuditPlan(SQLModel, table=True):
    """A year's follow-up plan: the suppliers chosen for audit, each with its score and why
    (``chosen``: a list of {org_number, score, why}, the highest score first). One per year;
    replaced only while no audit is recorded against it."""

    __tablename__ = "audit_plan"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    capacity: str = Field(max_length=20)  # as given: "15%" or "12"
    chosen: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    created_by: str = Field(max_length=254)


class Audit(SQLModel, table=True):
    """An audit held: of a supplier (for one of its contracts, if named), desktop or site,
    with the reference of its report; ``plan_id`` when the year's plan chose the supplier."""

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    contract_id: int | None = Field(default=None, foreign_key="contract.id", index=True)
    kind: AuditKind = Field(sa_column=_enum(AuditKind))
    held_on: date
    auditor: str = Field(max_length=200)
    report: str = Field(max_length=200)
    plan_id: int | None = Field(default=None, foreign_key="audit_plan.id", index=True)
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    created_by: str = Field(max_length=254)


class CalendarFeed(SQLModel, table=True):
    """A desk user's secret calendar feed URL: ``/calendar/<token>.ics`` gives the deadlines of
    the contracts they manage to a calendar that subscribes, without signing in. Only the
    token's SHA-256 is kept (shown once, when made); ``prefix`` tells feeds apart. A user has at
    most one live feed (``revoked_at`` null): making a new one revokes the old."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_instant())
    last_used_at: datetime | None = Field(default=None, sa_column=_instant())


class SharedAudit(SQLModel, table=True):
    """An audit another buyer held and shared (``cap import``): a result to know of, not one
    of ours. Keyed by where it comes from: the buyer and its id there."""

    __tablename__ = "shared_audit"
    __table_args__ = (UniqueConstraint("origin_buyer", "origin_id"),)

    id: int | None = Field(default=None, primary_key=True)
    origin_buyer: str = Field(max_length=200)
    origin_id: int
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    kind: AuditKind = Field(sa_column=_enum(AuditKind))
    held_on: date
    auditor: str = Field(max_length=200)
    report: str = Field(max_length=200)
    recorded_by: str | None = Field(default=None, max_length=254)  # only if they shared staff
    exported_at: datetime = Field(sa_column=_instant(nullable=False))  # of the file it came in
    imported_at: datetime = Field(sa_column=_instant(nullable=False))


class SharedFinding(SQLModel, table=True):
    """A finding another buyer logged and shared, with its outcome there: it has no lifecycle
    here. Keyed by the buyer and its ref there; ``audit_origin_id``: the id, at that buyer, of
    the audit it comes from (a :class:`SharedAudit` if that was shared too)."""

    __tablename__ = "shared_finding"
    __table_args__ = (UniqueConstraint("origin_buyer", "origin_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    origin_buyer: str = Field(max_length=200)
    origin_ref: str = Field(max_length=40)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    area: Area = Field(sa_column=_enum(Area))
    severity: Severity = Field(sa_column=_enum(Severity))
    source: Source = Field(sa_column=_enum(Source))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    site: str | None = Field(default=None, max_length=200)
    site_country: str | None = Field(default=None, max_length=2)
    found_on: date
    state: State = Field(sa_column=_enum(State))
    notified_on: date | None = None
    closed_on: date | None = None
    audit_origin_id: int | None = None
    escalation_level: int = 0
    decision: DecisionOutcome | None = Field(
        default=None, sa_column=_enum(DecisionOutcome, nullable=True)
    )
    decided_on: date | None = None
    # Only if they shared staff data: who logged it, and the decision's rationale (a note).
    recorded_by: str | None = Field(default=None, max_length=254)
    decision_rationale: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    exported_at: datetime = Field(sa_column=_instant(nullable=False))  # of the file it came in
    imported_at: datetime = Field(sa_column=_instant(nullable=False))


class Obligation(SQLModel, table=True):
    """A report a contract obliges its supplier to send by ``due`` (the case study's social-risk
    report, six months after the contract starts). ``state``, ``due``, ``ladder`` and the rest
    of :class:`cap.domain.obligations.Duty` are its columns of the same names; the sweep reads
    those whose ``next_check_at`` has come, as for findings. ``first_due`` is the date it was
    recorded with: one obligation of a kind per contract and date, whatever extensions came
    after."""

    __table_args__ = (
        Index("uq_obligation_contract_kind_first_due", "contract_id", "kind", "first_due",
              unique=True),
        Index("ix_obligation_state_due", "state", "due"),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    supplier_id: int = Field(foreign_key="supplier.id", index=True)
    kind: ObligationKind = Field(sa_column=_enum(ObligationKind))
    title: str | None = Field(default=None, max_length=200)
    first_due: date
    due: date
    state: ObligationState = Field(sa_column=_enum(ObligationState))
    ladder: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    escalation_level: int = 0
    deadline_version: int = 0
    received_on: date | None = None
    next_check_at: datetime | None = Field(default=None, sa_column=_instant(index=True))
    last_event_at: datetime | None = Field(default=None, sa_column=_instant())
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    created_by: str = Field(max_length=254)
    # Optimistic lock, as a finding's.
    version: int = 1


class ObligationEvent(SQLModel, table=True):
    """An obligation's audit trail: recorded, received, extended, waived, its ladder's steps."""

    __tablename__ = "obligation_event"
    __table_args__ = (Index("ix_obligation_event_obligation_id_id", "obligation_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id")
    at: datetime = Field(sa_column=_instant(nullable=False))
    recorded_at: datetime = Field(sa_column=_instant(nullable=False))
    actor: str = Field(max_length=254)
    kind: str = Field(max_length=40)
    from_state: ObligationState | None = Field(
        default=None, sa_column=_enum(ObligationState, nullable=True)
    )
    to_state: ObligationState | None = Field(
        default=None, sa_column=_enum(ObligationState, nullable=True)
    )
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
