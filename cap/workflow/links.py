"""The links sent to suppliers, as records.

A link is a :class:`cap.store.models.SupplierLink` row: who it was sent to, for which finding
(or for the supplier's open findings), until when, whether it was revoked, and how it was
used. The URL carries a token signed with itsdangerous that names the row, under a salt of its
own (a token signed for another purpose, a session's say, never opens one); the row, not the
token, says whether the link still opens, so that a link can be revoked.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from cap.config import Settings
from cap.errors import CapError, NotFound
from cap.notify.links import finding_link
from cap.store.models import Finding, LoginFailure, SupplierLink, address_key
from cap.workflow.base import UseCases
from cap.workflow.records import finding_by_ref
from cap.workflow.results import LinkView
from cap.workflow.users import ADDRESS_LENGTH, wait_minutes
from cap.workflow.views import link_view

if TYPE_CHECKING:
    from itsdangerous import URLSafeSerializer

#: The salt of a supplier link's token.
SALT = "cap.supplier-link"
#: A link this close to its end is not put in another email: a new one is.
RENEW_BEFORE = timedelta(days=7)
#: Where a preview shows the link that sending will make.
PLACEHOLDER = "(a-new-link-made-when-sent)"
#: Links that did not open from one client address before it waits (FAILURE_WINDOW): a
#: person retyping a link makes a few; a script trying tokens makes many.
BAD_LINK_LIMIT = 20
#: How a link that did not open is counted among failed sign-ins: no address has no "@".
BAD_LINK = "(supplier link)"
#: What a link that does not open says, whatever the reason: nothing to learn from it.
NOT_VALID = "this link is not valid any more; ask your contact at the buyer for a new one"


class LinkNotValid(CapError):
    """A supplier link that is tampered with, unknown, expired or revoked (one message)."""

    exit_code = 6

    def __init__(self) -> None:
        super().__init__(NOT_VALID)


def _serializer(settings: Settings) -> URLSafeSerializer:
    if settings.secret_key is None:
        raise CapError("CAP_SECRET_KEY: not set; supplier links are signed with it")
    return _serializer_for(settings.secret_key.get_secret_value())


@lru_cache(maxsize=4)
def _serializer_for(secret: str) -> URLSafeSerializer:
    # Imported when a link is first signed or read: most commands never need it.
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(secret, salt=SALT)


def token_of(settings: Settings, link_id: int) -> str:
    """The signed token naming the link ``link_id``."""
    return str(_serializer(settings).dumps(link_id))


def link_url(settings: Settings, link_id: int) -> str:
    """The address a supplier opens for the link ``link_id``."""
    return f"{settings.base_url.rstrip('/')}/s/{quote(token_of(settings, link_id))}"


def issue_link(
    session: Session, settings: Settings, *, finding: Finding, address: str, now: datetime
) -> int:
    """The id of the link for ``finding`` to put in an email to ``address`` at ``now``, in
    ``session``'s transaction: the one sent there before while it opens for RENEW_BEFORE more,
    else a new one (a sweep run twice issues nothing twice)."""
    links = SupplierLinks(session, settings, now)
    url = links(finding, address)
    links.settle([])
    return int(links.ids[links.urls.get(url, url)])


#: New links' rows: one statement for a batch, their ids returned in the rows' order.
_INSERT_LINKS = insert(SupplierLink).returning(col(SupplierLink.id), sort_by_parameter_order=True)


class SupplierLinks:
    """The links one transaction puts in emails to suppliers (:class:`cap.notify.outbox.LinkFor`).

    Each (finding, address) gets the link sent there before while it opens for RENEW_BEFORE
    more (``known`` loads those of a batch of findings with one query), else a new one:
    written (``write``), a new link stands in the rendered emails as a marker until
    :meth:`settle` inserts every new link of the batch with one statement and puts their
    addresses in place of the markers (one round trip per link was most of a sweep's time on
    PostgreSQL, bench/sweep.py). Not writing (a preview, a dry run), a placeholder shows where
    sending puts one. ``fresh``: a new link for each address (a request sent again).
    Without CAP_SECRET_KEY nothing can be signed: the finding's page is linked instead, as it
    is for staff.
    """

    def __init__(
        self,
        session: Session,
        settings: Settings,
        now: datetime,
        *,
        write: bool = True,
        fresh: bool = False,
    ) -> None:
        self.session, self.settings, self.now, self.write = session, settings, now, write
        self.fresh = fresh
        self._found: dict[tuple[int, str], str] = {}
        self._looked: set[int] = set()  # findings whose links known() loaded
        # A marker no text of a finding can hold by chance: a random part of its own.
        self._marker = f"cap-new-link-{secrets.token_hex(8)}-"
        self._pending: dict[str, dict[str, Any]] = {}
        #: After settle: each new link's marker's URL, and each URL's link id.
        self.urls: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    def known(self, finding_ids: list[int]) -> None:
        """Look up the links still worth sending for ``finding_ids`` (one query)."""
        if self.settings.secret_key is None or not finding_ids:
            return
        self._looked.update(finding_ids)
        if self.fresh:
            return
        rows: Iterable[tuple[int, int, str]] = self.session.connection().execute(
            select(
                col(SupplierLink.id), col(SupplierLink.finding_id), col(SupplierLink.address_key)
            )
            .where(
                col(SupplierLink.finding_id).in_(finding_ids),
                col(SupplierLink.revoked_at).is_(None),
                col(SupplierLink.expires_at) > self.now + RENEW_BEFORE,
            )
            .order_by(col(SupplierLink.expires_at))
        )
        for link_id, finding_id, key in rows:
            url = link_url(self.settings, link_id)
            self._found[(finding_id, key)] = url
            self.ids[url] = link_id

    def __call__(self, finding: Finding, address: str) -> str:
        if self.settings.secret_key is None:
            return finding_link(self.settings, finding.ref)
        assert finding.id is not None
        if finding.id not in self._looked:
            self.known([finding.id])
        key = (finding.id, address_key(address))
        if key in self._found:
            return self._found[key]
        if not self.write:
            return f"{self.settings.base_url.rstrip('/')}/s/{PLACEHOLDER}"
        marker = f"{self._marker}{len(self._pending)}"
        self._pending[marker] = {
            "supplier_id": finding.supplier_id, "finding_id": finding.id, "address": address,
            "address_key": key[1], "created_at": self.now,
            "expires_at": self.now + timedelta(days=self.settings.supplier_link_days),
            "uses": 0, "revoked_at": None, "first_opened_at": None, "last_opened_at": None,
        }  # fmt: skip
        self._found[key] = marker
        return marker

    def settle(self, rows: Iterable[dict[str, Any]]) -> None:
        """Insert the new links and put their addresses in the outbox ``rows`` rendered with
        them, in place of their markers."""
        if not self._pending:
            return
        markers = list(self._pending)
        inserted = self.session.connection().execute(
            _INSERT_LINKS, [self._pending[m] for m in markers]
        )
        new_ids = [cast(int, i) for i in inserted.scalars()]
        for marker, link_id in zip(markers, new_ids, strict=True):
            url = link_url(self.settings, link_id)
            self.urls[marker] = url
            self.ids[url] = link_id
        self._pending.clear()
        self._found = {k: self.urls.get(v, v) for k, v in self._found.items()}
        pattern = re.compile(re.escape(self._marker) + "[0-9]+")

        def url_of(found: re.Match[str]) -> str:
            return self.urls[found.group(0)]

        for row in rows:
            for body in ("text_body", "html_body"):
                if self._marker in row[body]:
                    row[body] = pattern.sub(url_of, row[body])


class Links(UseCases):
    def link_wait(self, address: str, *, now: datetime) -> int | None:
        """Minutes the client ``address`` must wait before a link is opened for it again, after
        BAD_LINK_LIMIT links that did not open within FAILURE_WINDOW; None: no wait."""
        with self.db.read() as session:
            where = (col(LoginFailure.email_key) == BAD_LINK) & (
                col(LoginFailure.address) == address[:ADDRESS_LENGTH]
            )
            return wait_minutes(session, where, BAD_LINK_LIMIT, now)

    def record_bad_link(self, address: str, *, now: datetime) -> None:
        """A link that did not open, from the client ``address`` (counted by link_wait)."""
        with self.db.write() as session:
            session.add(LoginFailure(email_key=BAD_LINK, address=address[:ADDRESS_LENGTH], at=now))

    def open_link(self, token: str, *, now: datetime, record: bool = True) -> LinkView:
        """The link ``token`` names, if it opens at ``now`` (its use recorded, unless not
        ``record``); LinkNotValid, the same for every reason, if not."""
        from itsdangerous import BadSignature

        try:
            link_id = _serializer(self.settings).loads(token)
        except BadSignature:
            raise LinkNotValid() from None
        if not isinstance(link_id, int) or isinstance(link_id, bool):
            raise LinkNotValid()
        with self.db.write() if record else self.db.read() as session:
            link = session.get(SupplierLink, link_id)
            if link is None or link.revoked_at is not None or link.expires_at <= now:
                raise LinkNotValid()
            if not record:
                return _view(session, link)
            if link.first_opened_at is None:
                link.first_opened_at = now
            link.last_opened_at = now
            link.uses += 1
            return _view(session, link)

    def links_of(self, ref: str) -> list[LinkView]:
        """Every link sent for the finding ``ref``, the newest first."""
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            links = session.execute(
                select(SupplierLink)
                .where(col(SupplierLink.finding_id) == finding.id)
                .order_by(col(SupplierLink.id).desc())
            ).scalars()
            return [_view(session, link, finding.ref) for link in links]

    def revoke_link(self, link_id: int, *, now: datetime) -> LinkView:
        """Make the link ``link_id`` stop opening (a link revoked before stays as it was)."""
        with self.db.write() as session:
            link = session.get(SupplierLink, link_id)
            if link is None:
                raise NotFound(f"link: no link {link_id}", see="cap link list REF")
            if link.revoked_at is None:
                link.revoked_at = now
            return _view(session, link)

    def revoke_links(self, ref: str, *, now: datetime) -> int:
        """Revoke every link of the finding ``ref`` that opens still; how many there were."""
        with self.db.write() as session:
            finding = finding_by_ref(session, ref)
            done = session.execute(
                update(SupplierLink)
                .where(
                    col(SupplierLink.finding_id) == finding.id,
                    col(SupplierLink.revoked_at).is_(None),
                )
                .values(revoked_at=now)
            )
            return int(done.rowcount)  # type: ignore[attr-defined]


def _view(session: Session, link: SupplierLink, ref: str | None = None) -> LinkView:
    if ref is None and link.finding_id is not None:
        ref = session.execute(
            select(col(Finding.ref)).where(col(Finding.id) == link.finding_id)
        ).scalar_one()
    return link_view(link, ref)
