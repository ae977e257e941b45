"""A POST /findings sent again with its Idempotency-Key (both databases): answered as the first
time, and no finding logged twice; the key with another request, or an unusable key, is
refused and logs nothing; two requests with one key at the same moment log one finding."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from cap.domain.inputs import FindingInput
from cap.domain.model import StaffRole
from cap.workflow import FindingFilter, Once
from cap.workflow.idempotency import KEPT
from tests.api.conftest import Api
from tests.conftest import ANNA, NOW, World

CM = StaffRole.CONTRACT_MANAGER
NEW = {
    "contract": "RS-2019-ICT-01",
    "severity": "major",
    "area": "working_hours",
    "source": "monitoring_report",
    "title": "Forced overtime at final assembly",
    "found_on": "2026-01-20",
}


def _logged(world: World) -> list[str]:
    return [f.ref for f in world.workflow.list_findings(FindingFilter(), now=NOW)]


def test_a_retried_post_gets_the_first_answer_and_logs_nothing_more(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    key = {"Idempotency-Key": '"8e03978e-40d5-43e8-bc93-6894a57f9324"'}
    first = client.post("findings", json=NEW, headers=key)
    again = client.post("findings", json=NEW, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert _logged(api_world) == [first.json()["ref"]]
    # The quotes of the structured field are optional; without a key, each POST logs one.
    bare = client.post(
        "findings", json=NEW, headers={"Idempotency-Key": "8e03978e-40d5-43e8-bc93-6894a57f9324"}
    )
    assert bare.json() == first.json()
    assert client.post("findings", json=NEW).json() != first.json()
    assert len(_logged(api_world)) == 2


def test_a_key_is_the_callers_own(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    key = {"Idempotency-Key": "report-2026-11"}
    one = api_as(CM).post("findings", json=NEW, headers=key)
    other = api_as(CM).post("findings", json=NEW, headers=key)
    assert one.status_code == other.status_code == 201
    assert one.json()["ref"] != other.json()["ref"]


def test_a_key_sent_with_another_request_is_refused(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    key = {"Idempotency-Key": "k-1"}
    assert client.post("findings", json=NEW, headers=key).status_code == 201
    changed = client.post("findings", json={**NEW, "title": "Another"}, headers=key)
    assert changed.status_code == 422
    assert changed.json()["detail"].startswith("Idempotency-Key: 'k-1' was sent with another")
    assert changed.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(_logged(api_world)) == 1


def test_an_unusable_key_is_refused(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    for key in (b'""', b"a b", b"x" * 256, "é".encode()):
        refused = client.post("findings", json=NEW, headers={"Idempotency-Key": key})
        assert refused.status_code == 422, key
        assert refused.json()["errors"][0]["field"].lower() == "idempotency-key", key
    assert _logged(api_world) == []


def test_a_key_is_forgotten_after_a_day(api_world: World) -> None:
    workflow = api_world.workflow
    token = workflow.create_token("feed", CM, expires_days=None, now=NOW)
    data = FindingInput.model_validate(NEW)
    once = Once.of(token.view.id, "daily", "POST /findings", data.model_dump_json())
    first = workflow.log_finding(data, actor=ANNA, now=NOW, once=once)
    within = workflow.log_finding(
        data, actor=ANNA, now=NOW + KEPT - timedelta(seconds=1), once=once
    )
    after = workflow.log_finding(data, actor=ANNA, now=NOW + KEPT + timedelta(seconds=1), once=once)
    assert within == first and after != first


def test_two_requests_with_one_key_at_once_log_one_finding(api_world: World) -> None:
    workflow = api_world.workflow
    token = workflow.create_token("feed", CM, expires_days=None, now=NOW)
    data = FindingInput.model_validate(NEW)
    once = Once.of(token.view.id, "race", "POST /findings", data.model_dump_json())
    start, refs = threading.Barrier(4), []

    def send() -> None:
        start.wait()
        refs.append(workflow.log_finding(data, actor=ANNA, now=NOW, once=once))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refs) == 4 and len(set(refs)) == 1
    assert _logged(api_world) == refs[:1]
