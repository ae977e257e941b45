"""Supplier links as records (cap.workflow.links; both databases): a link is issued once for a
finding and an address and put in the next emails while it opens for a week more; it opens
until it expires (both sides of the instant) or is revoked, and each opening is counted; a
token tampered with, signed with another key or for another purpose, or naming no link opens
nothing, and says nothing about why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from pydantic import SecretStr

from cap.errors import NotFound
from cap.store.models import Finding, SupplierLink
from cap.workflow import Workflow
from cap.workflow.links import (
    NOT_VALID,
    RENEW_BEFORE,
    SALT,
    LinkNotValid,
    issue_link,
    link_url,
    token_of,
)
from cap.workflow.records import finding_by_ref
from tests.conftest import LI, NOW, World

SECRET = "test-only-secret-key-of-forty-characters"


@pytest.fixture
def linked(world: World) -> World:
    """The world with a secret key (links are signed with it)."""
    world.workflow.settings = world.workflow.settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "base_url": "https://cap.region.example"}
    )
    return world


def issue(world: World, ref: str, address: str = LI, at: timedelta = timedelta(0)) -> int:
    workflow = world.workflow
    with workflow.db.write() as session:
        finding: Finding = finding_by_ref(session, ref)
        return issue_link(session, workflow.settings, finding=finding, address=address,
                          now=NOW + at)  # fmt: skip


def refused(workflow: Workflow, token: str, at: timedelta = timedelta(0)) -> str:
    with pytest.raises(LinkNotValid) as error:
        workflow.open_link(token, now=NOW + at)
    return str(error.value)


def test_a_link_is_issued_once_and_renewed_near_its_end(linked: World) -> None:
    ref = linked.finding()
    first = issue(linked, ref)
    assert issue(linked, ref, at=timedelta(days=10)) == first  # the same link, again
    assert issue(linked, ref, address=LI.upper()) == first  # the same address, any case
    days = linked.workflow.settings.supplier_link_days
    near_end = timedelta(days=days) - RENEW_BEFORE
    assert issue(linked, ref, at=near_end - timedelta(seconds=1)) == first
    renewed = issue(linked, ref, at=near_end)
    assert renewed != first
    assert issue(linked, ref, address="other@supplier.example") not in (first, renewed)
    assert [v.id for v in linked.workflow.links_of(ref)] == sorted(
        (first, renewed, renewed + 1), reverse=True
    )


def test_a_link_opens_until_it_expires_and_counts_its_uses(linked: World) -> None:
    workflow = linked.workflow
    ref = linked.finding()
    link_id = issue(linked, ref)
    token = token_of(workflow.settings, link_id)
    assert link_url(workflow.settings, link_id) == f"https://cap.region.example/s/{token}"
    opened = workflow.open_link(token, now=NOW + timedelta(hours=1))
    assert (opened.id, opened.finding_ref, opened.address, opened.uses) == (link_id, ref, LI, 1)
    assert opened.first_opened_at == opened.last_opened_at == NOW + timedelta(hours=1)
    days = timedelta(days=workflow.settings.supplier_link_days)
    again = workflow.open_link(token, now=NOW + days - timedelta(seconds=1))
    assert again.uses == 2 and again.first_opened_at == NOW + timedelta(hours=1)
    assert again.last_opened_at == NOW + days - timedelta(seconds=1)
    assert refused(workflow, token, at=days) == NOT_VALID  # expired at that instant
    assert workflow.links_of(ref)[0].uses == 2  # a refusal is not a use


def test_a_revoked_link_opens_no_more(linked: World) -> None:
    workflow = linked.workflow
    ref = linked.finding()
    one, other = issue(linked, ref), issue(linked, ref, address="other@supplier.example")
    revoked = workflow.revoke_link(one, now=NOW + timedelta(minutes=5))
    assert revoked.revoked_at == NOW + timedelta(minutes=5)
    assert refused(workflow, token_of(workflow.settings, one)) == NOT_VALID
    assert workflow.open_link(token_of(workflow.settings, other), now=NOW).uses == 1
    assert workflow.revoke_links(ref, now=NOW + timedelta(minutes=6)) == 1  # the other one
    assert refused(workflow, token_of(workflow.settings, other)) == NOT_VALID
    assert issue(linked, ref) not in (one, other)  # the next email carries a new link
    with pytest.raises(NotFound, match=r"^link: no link 999 \(see `cap link list REF`\)$"):
        workflow.revoke_link(999, now=NOW)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda _: URLSafeSerializer("another-secret-key-of-forty-characters!!", salt=SALT).dumps(1),
        lambda _: URLSafeSerializer(SECRET, salt="cap.session").dumps(1),
        lambda _: URLSafeSerializer(SECRET, salt=SALT).dumps(4242),  # no such link
        lambda _: URLSafeSerializer(SECRET, salt=SALT).dumps("1"),
        lambda _: URLSafeSerializer(SECRET, salt=SALT).dumps(True),
        lambda _: "",
        lambda _: "<script>alert(1)</script>",
    ],
    ids=["tampered", "another key", "another purpose", "no such link", "a string", "a bool",
         "empty", "hostile"],
)  # fmt: skip
def test_a_forged_token_opens_nothing_and_says_nothing(linked: World, forge: object) -> None:
    workflow = linked.workflow
    ref = linked.finding()
    link_id = issue(linked, ref)
    assert link_id == 1
    token = forge(token_of(workflow.settings, link_id))  # type: ignore[operator]
    assert refused(workflow, str(token)) == NOT_VALID
    with workflow.db.read() as session:
        link = session.get(SupplierLink, link_id)
        assert link is not None and link.uses == 0 and link.first_opened_at is None
