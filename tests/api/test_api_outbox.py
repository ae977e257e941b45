"""The API's outbox (both databases): every staff role lists the emails newest first, as
`cap outbox list --json`; a role that may retry mail queues a failed one again, as
`cap outbox retry`; a message that did not fail is refused (409), an unknown one is 404."""

from __future__ import annotations

from collections.abc import Callable

from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import StaffRole
from cap.store.models import OutboxMessage, OutboxStatus
from cap.workflow import to_json
from tests.api.conftest import Api
from tests.conftest import ANNA, NOW, World

PROBLEM = "application/problem+json"


def _queue_and_fail(world: World) -> tuple[int, int]:
    """Two findings notified (an email each to the supplier, at least); the first email of
    the first one marked failed as delivery marks it. Its id, and how many emails in all."""
    wf = world.workflow
    for title in ("Forced overtime at final assembly", "Unpaid overtime in packing"):
        wf.act(world.finding(title=title), ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    messages = wf.list_outbox()
    failed = messages[-1].id  # the oldest
    with wf.db.write() as session:
        row = session.get(OutboxMessage, failed)
        assert row is not None
        row.status, row.last_error = OutboxStatus.FAILED, "550 no such user"
    return failed, len(messages)


def test_every_role_lists_the_outbox_newest_first(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    failed, total = _queue_and_fail(api_world)
    for role in StaffRole:
        listed = api_as(role).get("outbox")
        assert listed.status_code == 200, listed.text
        assert listed.json() == to_json(api_world.workflow.list_outbox())
    body = listed.json()
    assert len(body) == total > 1
    assert [m["id"] for m in body] == sorted((m["id"] for m in body), reverse=True)
    assert body[-1]["id"] == failed and body[-1]["last_error"] == "550 no such user"
    assert body[0]["finding"] and body[0]["recipient"] and body[0]["subject"]
    only = api_as(StaffRole.VIEWER).get("outbox", params={"status": "failed"}).json()
    assert [(m["id"], m["status"]) for m in only] == [(failed, "failed")]
    newest = api_as(StaffRole.VIEWER).get("outbox", params={"limit": 1}).json()
    assert [m["id"] for m in newest] == [body[0]["id"]]
    assert api_as(StaffRole.VIEWER).get("outbox", params={"status": "sent"}).json() == []


def test_bad_filters_are_422_naming_the_parameter(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    viewer = api_as(StaffRole.VIEWER)
    for params, field in (({"status": "lost"}, "status"), ({"limit": 0}, "limit"),
                          ({"limit": 100_000}, "limit"), ({"limit": "many"}, "limit")):  # fmt: skip
        bad = viewer.get("outbox", params=params)
        assert bad.status_code == 422 and bad.headers["content-type"] == PROBLEM
        assert bad.json()["errors"][0]["field"] == field
        assert bad.json()["detail"].startswith(f"{field}: ")


def test_a_failed_message_is_queued_again_by_a_role_that_may(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    wf = api_world.workflow
    failed, _ = _queue_and_fail(api_world)
    retried = api_as(StaffRole.CONTRACT_MANAGER).post(f"outbox/{failed}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["id"], retried.json()["status"]) == (failed, "queued")
    [seen] = [m for m in wf.list_outbox() if m.id == failed]
    assert retried.json() == to_json(seen)
    assert seen.status is OutboxStatus.QUEUED and seen.next_attempt_at == NOW
    assert wf.list_outbox(OutboxStatus.FAILED) == []
    again = api_as(StaffRole.ADMIN).post(f"outbox/{failed}/retry")
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert again.json()["detail"] == (
        f"message {failed} is queued; only failed messages can be retried"
    )


def test_a_role_that_may_not_retry_changes_nothing(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    wf = api_world.workflow
    failed, _ = _queue_and_fail(api_world)
    before = wf.list_outbox()
    refused = api_as(StaffRole.VIEWER).post(f"outbox/{failed}/retry")
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"] == "role: a viewer token may not do this"
    assert wf.list_outbox() == before
    for role in (StaffRole.SUSTAINABILITY_MANAGER, StaffRole.ADMIN):
        assert api_as(role).post("outbox/999999/retry").status_code == 404  # allowed to try


def test_an_unknown_message_is_404_and_a_bad_id_422(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    manager = api_as(StaffRole.CONTRACT_MANAGER)
    missing = manager.post("outbox/999/retry")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"] == "message 999 does not exist"
    for bad in ("0", "x", str(2**40)):
        refused = manager.post(f"outbox/{bad}/retry")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "id"


def test_the_outbox_needs_a_working_token(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    failed, _ = _queue_and_fail(api_world)
    before = api_world.workflow.list_outbox()
    anonymous, unknown = api_as(None), {"authorization": "Bearer not-a-token"}
    for response in (anonymous.get("outbox"), anonymous.get("outbox", headers=unknown),
                     anonymous.post(f"outbox/{failed}/retry", headers=unknown)):  # fmt: skip
        assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == 'Bearer realm="cap"'
    # Without any Authorization header, the desk's CSRF check refuses a POST first.
    assert anonymous.post(f"outbox/{failed}/retry").status_code in (401, 403)
    assert api_world.workflow.list_outbox() == before
