"""The API's findings (both databases): a token of a role is who calls; findings listed a page
at a time, shown with their version as ETag, logged, and acted on with If-Match; every error a
problem+json with the command line's line in ``detail`` and the status that fits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, Severity, StaffRole, State
from cap.workflow.listing import FindingQuery
from tests.api.conftest import Api
from tests.conftest import ANNA, LI, NOW, World

CM, V = StaffRole.CONTRACT_MANAGER, StaffRole.VIEWER
PROBLEM = "application/problem+json"
NEW = {"contract": "RS-2019-ICT-01", "severity": "major", "area": "working_hours",
       "source": "monitoring_report", "title": "Forced overtime at final assembly",
       "found_on": "2026-01-20"}  # fmt: skip


def test_a_request_without_a_working_token_is_401(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    for client in (api_as(None),):
        refused = client.get("findings")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == PROBLEM
        assert refused.headers["www-authenticate"] == 'Bearer realm="cap"'
        assert refused.json()["detail"].startswith("Authorization: send 'Authorization: Bearer")
    viewer = api_as(V)
    [token] = api_world.workflow.list_tokens()
    api_world.workflow.revoke_token(token.id, now=NOW)
    assert viewer.get("findings").status_code == 401
    assert "does not work" in viewer.get("findings").json()["detail"]


def test_findings_are_listed_a_page_at_a_time(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    refs = [api_world.finding(title=f"Finding {i}") for i in range(5)]
    viewer = api_as(V)
    seen, cursor, pages = [], None, 0
    while True:
        page = viewer.get("findings", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        seen += [item["ref"] for item in page.json()["items"]]
        pages += 1
        cursor = page.json()["next"]
        if cursor is None:
            break
    assert (seen, pages) == (refs, 3)
    assert viewer.get("findings", params={"state": "closed"}).json()["items"] == []
    bad = viewer.get("findings", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "limit"
    assert viewer.get("findings", params={"cursor": "%%%"}).status_code == 422
    gone = viewer.get("findings", params={"cursor": "NC-2026-9999"})
    assert gone.status_code == 404 and gone.json()["detail"].startswith("cursor: no finding")


def test_the_list_narrows_as_the_desks_list_does(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    workflow = api_world.workflow
    refs = [
        api_world.finding(title="Forced overtime", severity=Severity.MAJOR),
        api_world.finding(title="Chained fire exits", severity=Severity.CRITICAL,
                          area=Area.HEALTH_AND_SAFETY),
        api_world.finding(title="Union leaders dismissed", severity=Severity.CRITICAL,
                          area=Area.FREEDOM_OF_ASSOCIATION),
    ]  # fmt: skip
    workflow.act(refs[1], ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    viewer = api_as(V)
    cases: list[tuple[dict[str, Any], FindingQuery]] = [
        ({"severity": "critical"}, FindingQuery(severity=Severity.CRITICAL)),
        ({"area": "health_and_safety"}, FindingQuery(area=Area.HEALTH_AND_SAFETY)),
        ({"state": ["open", "awaiting_plan"]}, FindingQuery(states=(State.OPEN,
                                                                    State.AWAITING_PLAN))),
        ({"state": "awaiting_plan"}, FindingQuery(states=(State.AWAITING_PLAN,))),
        ({"q": "FIRE"}, FindingQuery(q="FIRE")),
        ({"contract": "RS-2019-ICT-01", "severity": "critical"},
         FindingQuery(contract="RS-2019-ICT-01", severity=Severity.CRITICAL)),
        ({"due_before": "2099-12-31"}, FindingQuery(due_before=date(2099, 12, 31))),
    ]  # fmt: skip
    for params, query in cases:
        listed = viewer.get("findings", params=params)
        assert listed.status_code == 200, listed.text
        desk = workflow.findings_page(replace(query, sort="ref"), now=NOW).findings
        assert [i["ref"] for i in listed.json()["items"]] == [f.ref for f in desk], params
    assert len(viewer.get("findings", params={"severity": "critical"}).json()["items"]) == 2
    unknown = viewer.get("findings", params={"contract": "RS-NONE"})
    assert unknown.status_code == 404 and unknown.json()["detail"].startswith("contract: RS-NONE")
    bad = viewer.get("findings", params={"due_before": 20991231})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "due_before"


def test_a_finding_is_shown_with_its_version_as_etag(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    shown = api_as(V).get(f"findings/{ref}")
    assert shown.status_code == 200 and shown.headers["etag"] == '"v1"'
    body = shown.json()
    assert (body["ref"], body["state"], body["version"]) == (ref, "open", 1)
    assert body == {**body, "supplier_org_number": "556000-1234", "contract": "RS-2019-ICT-01"}
    missing = api_as(V).get("findings/NC-2026-9999")
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"] == "finding NC-2026-9999 does not exist"


def test_a_finding_is_logged_by_a_role_that_may(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    made = api_as(CM).post("findings", json=NEW)
    assert made.status_code == 201
    ref = made.json()["ref"]
    assert made.headers["location"] == f"findings/{ref}"
    assert api_world.workflow.show_finding(ref, now=NOW).created_by == "api: test contract_manager"
    refused = api_as(V).post("findings", json=NEW)
    assert refused.status_code == 403 and "a viewer token may not" in refused.json()["detail"]
    bad = api_as(CM).post("findings", json={**NEW, "found_on": "2026-02-30"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "found_on"
    # A number is no date (pydantic alone would read it as seconds since 1970).
    counted = api_as(CM).post("findings", json={**NEW, "found_on": 1767225600})
    assert counted.status_code == 422
    assert counted.json()["detail"] == "found_on: 1767225600 is not a date; write it as YYYY-MM-DD"
    unknown = api_as(CM).post("findings", json={**NEW, "contract": "RS-NONE"})
    assert unknown.status_code == 404
    assert unknown.json()["detail"].startswith("contract: RS-NONE does not exist")
    assert len(api_world.workflow.list_tokens()) == 5


def test_actions_honour_if_match_and_say_what_is_possible(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    manager = api_as(CM)
    stale = manager.post(f"findings/{ref}/actions/notify", json={}, headers={"if-match": '"v7"'})
    assert stale.status_code == 412 and "changed since version 7" in stale.json()["detail"]
    done = manager.post(f"findings/{ref}/actions/notify", json={}, headers={"if-match": '"v1"'})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == '"v2"'
    assert (done.json()["state"], done.json()["version"]) == ("awaiting_plan", 2)
    refused = manager.post(f"findings/{ref}/actions/verify", json={"note": "x"})
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("cannot verify")
    assert (
        refused.json()["allowed"]
        == list(api_world.workflow.show_finding(ref, now=NOW).allowed_actions)
        and "submit-plan" in refused.json()["allowed"]
    )
    plan = {
        "root_cause": "Peak season",
        "actions": [
            {"description": "Cap overtime", "owner": "HR", "due": str(NOW.date() + timedelta(60))}
        ],
    }
    submitted = manager.post(f"findings/{ref}/actions/submit-plan",
                             json={"plan": plan, "as": LI})  # fmt: skip
    assert submitted.status_code == 200 and submitted.json()["event"]["actor"] == LI
    viewer = api_as(V).post(f"findings/{ref}/actions/accept-plan", json={})
    assert viewer.status_code == 403 and "contract_manager may" in viewer.json()["detail"]
    nothing = manager.post(f"findings/{ref}/actions/fly", json={})
    assert nothing.status_code == 404 and "is not an action" in nothing.json()["detail"]
    extra = manager.post(f"findings/{ref}/actions/accept-plan", json={"colour": "red"})
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "colour"
    for at, says in (
        (1772528400, "is not a date and time"),
        ("2026-03-02T10:00:00", "no UTC offset"),
    ):
        when = manager.post(f"findings/{ref}/actions/accept-plan", json={"at": at})
        assert when.status_code == 422 and when.json()["errors"][0]["field"] == "at"
        assert says in when.json()["detail"], when.json()
    assert api_world.workflow.show_finding(ref, now=NOW).state.value == "plan_review"


def test_a_method_a_path_has_not_is_405_listing_those_it_has(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    manager = api_as(CM)
    for method, path, allowed in [
        ("DELETE", "findings", "GET, POST"),
        ("PUT", f"findings/{ref}", "GET"),
        ("GET", "./findings:import", "POST"),  # ./: a colon before a slash is a scheme
    ]:
        refused = manager.request(method, path)
        assert refused.status_code == 405, (method, path)
        assert refused.headers["allow"] == allowed, (method, path)


def test_control_characters_in_an_actions_text_are_refused_not_stored(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    manager = api_as(CM)
    for body in ({"as": "anna\x00@region.example"}, {"reason": "late\x00"}):
        refused = manager.post(f"findings/{ref}/actions/notify", json=body)
        assert refused.status_code == 422, (body, refused.text)
    assert api_world.workflow.show_finding(ref, now=NOW).state == "open"
