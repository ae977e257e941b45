"""A finding's timeline over the API (both databases): what the workflow (and `cap finding
timeline --json`) gives at the request's now, after actions taken through the API; any staff
role reads it; no token 401, an unknown finding 404."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from cap.domain.model import StaffRole
from cap.workflow import to_json
from tests.api.conftest import Api
from tests.conftest import LI, NOW, World

CM = StaffRole.CONTRACT_MANAGER
PROBLEM = "application/problem+json"


def _timeline(world: World, ref: str, days: int = 0) -> object:
    """The workflow's timeline of ``ref`` as JSON carries it, ``days`` after NOW."""
    view = world.workflow.timeline(ref, now=NOW + timedelta(days=days))
    return json.loads(json.dumps(to_json(view)))


def test_the_timeline_is_the_workflows_after_actions_through_the_api(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    manager = api_as(CM)
    assert manager.post(f"findings/{ref}/actions/notify", json={}).status_code == 200
    plan = {
        "root_cause": "Peak season",
        "actions": [
            {"description": "Cap overtime", "owner": "HR", "due": str(NOW.date() + timedelta(60))}
        ],
    }
    submitted = manager.post(f"findings/{ref}/actions/submit-plan", json={"plan": plan, "as": LI})
    assert submitted.status_code == 200, submitted.text
    shown = manager.get(f"findings/{ref}/timeline")
    assert shown.status_code == 200 and shown.headers["content-type"] == "application/json"
    body = shown.json()
    assert body == _timeline(api_world, ref)
    # The actions the API took are in it, by whom the API said, and the rules' next steps.
    assert [e["kind"] for e in body["events"]][-2:] == ["notify", "submit_plan"]
    assert body["events"][-2]["actor"] == "api: test contract_manager"
    assert body["events"][-1]["actor"] == LI
    assert (body["ref"], body["state"]) == (ref, submitted.json()["state"])
    assert "plan_review" in {step["deadline"] for step in body["upcoming"]}
    # Drawn at the request's now: later, the steps due then say so.
    assert body != _timeline(api_world, ref, days=60)


def test_every_staff_role_reads_a_timeline(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    for role in StaffRole:
        shown = api_as(role).get(f"findings/{ref}/timeline")
        assert shown.status_code == 200, (role, shown.text)
        assert shown.json() == _timeline(api_world, ref)
        assert [e["kind"] for e in shown.json()["events"]] == ["logged"]


def test_a_timeline_needs_a_token_and_a_finding(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    refused = api_as(None).get(f"findings/{ref}/timeline")
    assert refused.status_code == 401 and refused.headers["content-type"] == PROBLEM
    missing = api_as(StaffRole.VIEWER).get("findings/NC-2026-9999/timeline")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"] == "finding NC-2026-9999 does not exist"
