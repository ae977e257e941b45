"""The links sent to suppliers, as records (issue 13's first step; nothing sends them yet).

A link is a :class:`cap.store.models.SupplierLink` row: who it was sent to, for which finding
(or for the supplier's open findings), until when, whether it was revoked, and how it was
used. The URL carries a token signed with itsdangerous that names the row, under a salt of its
own (a token signed for another purpose, a session's say, never opens one); the row, not the
token, says whether the link still opens, so that a link can be revoked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import select, update
from sqlmodel import Session, col

from cap.config import Settings
from cap.errors import CapError, NotFound
from cap.store.models import Finding, SupplierLink, address_key
from cap.workflow.base import UseCases
from cap.workflow.records import finding_by_ref
from cap.workflow.results import LinkView

if TYPE_CHECKING:
    from itsdangerous import URLSafeSerializer

#: The salt of a supplier link's token.
SALT = "cap.supplier-link"
#: A link this close to its end is not put in another email: a new one is.
RENEW_BEFORE = timedelta(days=7)
#: What a link that does not open says, whatever the reason: nothing to learn from it.
NOT_VALID = "this link is not valid any more; ask your contact at the buyer for a new one"


class LinkNotValid(CapError):
    """A supplier link that is tampered with, unknown, expired or revoked (one message)."""

    exit_code = 6

    def __init__(self) -> None:
        super().__init__(NOT_VALID)


def _serializer(settings: Settings) -> URLSafeSerializer:
    # Imported when a link is first signed or read: most commands never need it.
    from itsdangerous import URLSafeSerializer

    if settings.secret_key is None:
        raise CapError("CAP_SECRET_KEY: not set; supplier links are signed with it")
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=SALT)


def token_of(settings: Settings, link_id: int) -> str:
    """The signed token naming the link ``link_id``."""
    return str(_serializer(settings).dumps(link_id))


def link_url(settings: Settings, link_id: int) -> str:
    """The address a supplier opens for the link ``link_id``."""
    return f"{settings.base_url.rstrip('/')}/s/{quote(token_of(settings, link_id))}"


def issue_link(
    session: Session, settings: Settings, *, finding: Finding, address: str, now: datetime
) -> SupplierLink:
    """The link for ``finding`` to put in an email to ``address`` at ``now``, in
    ``session``'s transaction: the one sent there before while it opens for RENEW_BEFORE more,
    else a new one (a sweep run twice issues nothing twice)."""
    key = address_key(address)
    found: SupplierLink | None = (
        session.execute(
            select(SupplierLink)
            .where(
                col(SupplierLink.finding_id) == finding.id,
                col(SupplierLink.address_key) == key,
                col(SupplierLink.revoked_at).is_(None),
                col(SupplierLink.expires_at) > now + RENEW_BEFORE,
            )
            .order_by(col(SupplierLink.expires_at).desc())
        )
        .scalars()
        .first()
    )
    if found is not None:
        return found
    link = SupplierLink(
        supplier_id=finding.supplier_id, finding_id=finding.id, address=address,
        address_key=key, created_at=now,
        expires_at=now + timedelta(days=settings.supplier_link_days),
    )  # fmt: skip
    session.add(link)
    session.flush()  # its id, for the token
    return link


class Links(UseCases):
    def open_link(self, token: str, *, now: datetime) -> LinkView:
        """The link ``token`` names, if it opens at ``now`` (its use recorded); LinkNotValid,
        the same for every reason, if not."""
        from itsdangerous import BadSignature

        try:
            link_id = _serializer(self.settings).loads(token)
        except BadSignature:
            raise LinkNotValid() from None
        if not isinstance(link_id, int) or isinstance(link_id, bool):
            raise LinkNotValid()
        with self.db.write() as session:
            link = session.get(SupplierLink, link_id)
            if link is None or link.revoked_at is not None or link.expires_at <= now:
                raise LinkNotValid()
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
    assert link.id is not None
    if ref is None and link.finding_id is not None:
        ref = session.execute(
            select(col(Finding.ref)).where(col(Finding.id) == link.finding_id)
        ).scalar_one()
    return LinkView(
        id=link.id, supplier_id=link.supplier_id, finding_ref=ref, address=link.address,
        created_at=link.created_at, expires_at=link.expires_at, revoked_at=link.revoked_at,
        first_opened_at=link.first_opened_at, last_opened_at=link.last_opened_at,
        uses=link.uses,
    )  # fmt: skip
