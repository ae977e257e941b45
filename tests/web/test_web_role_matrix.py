"""Every route of the desk against every role and an anonymous visitor, with the status each
must get written out (both databases). A form is sent empty or wrong, so that a role that may
use it gets the form's own refusal (400, 409) and changes nothing, and one that may not gets
403 before the form is read. A route added without a row here fails the last test.

Not here, tested on their own: POST /logout and /logout/everywhere (they end the session the
matrix goes on with, tests/web/test_web_session_end.py), /health and / (public), and the
supplier's pages under /s/{token}, which the signed link opens whoever is signed in
(tests/web/test_web_supplier_*.py), and the calendar feeds under /calendar/{token}.ics, which
the token opens without a session (tests/web/test_web_calendar_feed_url.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, OutboxStatus, StaffRole
from cap.workflow.records import EvidenceFile
from tests.conftest import ANNA, NOW, World
from tests.web.conftest import AS_ROLE, PASSWORD, Clock
from tests.web.desk_client import Desk

ANON = "anonymous"
V, CM, SM, AD = (StaffRole.VIEWER, StaffRole.CONTRACT_MANAGER,
                 StaffRole.SUSTAINABILITY_MANAGER, StaffRole.ADMIN)  # fmt: skip
WHO = (ANON, V, CM, SM, AD)


@dataclass(frozen=True)
class Ids:
    ref: str
    evidence: int
    message: int
    spare: int  # a user the admin's forms may act on
    gone: int  # a disabled user
    report: int  # a report the contract owes


def expect(anon: int, viewer: int, manager: int, sustainability: int, admin: int) -> dict[Any, int]:
    return dict(zip(WHO, (anon, viewer, manager, sustainability, admin), strict=True))


READ = expect(303, 200, 200, 200, 200)
ADMIN_PAGE = expect(303, 403, 403, 403, 200)
DIRECTORY_FORM = expect(303, 403, 200, 403, 200)

#: (method, path template, form, expected status by who). {ref}, {evidence}... come from Ids.
MATRIX: list[tuple[str, str, dict[str, str], dict[Any, int]]] = [
    ("GET", "/login", {}, expect(200, 303, 303, 303, 303)),
    ("GET", "/desk", {}, READ),
    ("GET", "/findings", {}, READ),
    ("GET", "/findings.csv", {}, READ),
    ("GET", "/findings/new", {}, expect(303, 403, 200, 403, 403)),
    ("GET", "/findings/{ref}", {}, READ),
    ("GET", "/findings/{ref}/evidence/{evidence}", {}, READ),
    ("GET", "/suppliers", {}, READ),
    ("GET", "/suppliers/new", {}, DIRECTORY_FORM),
    ("GET", "/suppliers/556000-1234", {}, READ),
    ("GET", "/suppliers/556000-1234/edit", {}, DIRECTORY_FORM),
    ("GET", "/contracts", {}, READ),
    ("GET", "/contracts/new", {}, DIRECTORY_FORM),
    ("GET", "/contracts/RS-2019-ICT-01", {}, READ),
    ("GET", "/contracts/RS-2019-ICT-01/edit", {}, DIRECTORY_FORM),
    ("GET", "/reports", {}, READ),
    ("GET", "/planning", {}, READ),
    ("GET", "/obligations", {}, READ),
    ("GET", "/obligations/{report}", {}, READ),
    ("GET", "/outbox", {}, READ),
    ("GET", "/rules", {}, READ),
    ("GET", "/account/password", {}, READ),
    ("GET", "/account/calendar", {}, READ),
    ("GET", "/users", {}, ADMIN_PAGE),
    ("GET", "/users/new", {}, ADMIN_PAGE),
    ("GET", "/users/{spare}", {}, ADMIN_PAGE),
    # Forms. Anonymous POSTs get 401 (a page saying to sign in: a form is never replayed).
    ("POST", "/findings/new", {}, expect(401, 403, 400, 403, 403)),
    # Escalating needs a reason: who may escalate gets that refusal.
    ("POST", "/findings/{ref}/actions/escalate", {}, expect(401, 403, 400, 400, 403)),
    # A warning is the sustainability manager's; the state (awaiting plan) refuses it.
    ("POST", "/findings/{ref}/actions/warn", {"reason": "r"}, expect(401, 403, 403, 409, 403)),
    ("POST", "/findings/{ref}/actions/no_such_action", {}, expect(401, 404, 404, 404, 404)),
    ("POST", "/findings/{ref}/evidence", {}, expect(401, 403, 400, 403, 403)),
    # A report's forms are the contract and sustainability managers'; empty, each is refused.
    ("POST", "/obligations/{report}/receive", {}, expect(401, 403, 400, 400, 403)),
    ("POST", "/obligations/{report}/extend", {}, expect(401, 403, 400, 400, 403)),
    ("POST", "/obligations/{report}/waive", {}, expect(401, 403, 400, 400, 403)),
    ("POST", "/obligations/{report}/escalate", {}, expect(401, 403, 404, 404, 403)),
    ("POST", "/suppliers/new", {}, expect(401, 403, 400, 403, 400)),
    ("POST", "/suppliers/556000-1234/edit", {}, expect(401, 403, 400, 403, 400)),
    ("POST", "/contracts/new", {}, expect(401, 403, 400, 403, 400)),
    ("POST", "/contracts/RS-2019-ICT-01/edit", {"start": "x"}, expect(401, 403, 400, 403, 400)),
    # The message is queued, not failed: who may retry is told it cannot.
    ("POST", "/outbox/{message}/retry", {}, expect(401, 403, 409, 409, 409)),
    ("POST", "/users/new", {}, expect(401, 403, 403, 403, 400)),
    ("POST", "/users/{spare}/role", {"role": "emperor"}, expect(401, 403, 403, 403, 400)),
    ("POST", "/users/{gone}/disable", {}, expect(401, 403, 403, 403, 409)),
    # The spare user is active: who may enable is told there is nothing to enable.
    ("POST", "/users/{spare}/enable", {}, expect(401, 403, 403, 403, 409)),
    ("POST", "/users/{spare}/sessions", {}, expect(401, 403, 403, 403, 303)),
    ("POST", "/users/{spare}/password", {"choice": "type"}, expect(401, 403, 403, 403, 400)),
    # Everyone's own password: the current one is missing here.
    ("POST", "/account/password", {}, expect(401, 400, 400, 400, 400)),
    # Everyone's own calendar feed: none to revoke yet; then one is made (the URL shown).
    ("POST", "/account/calendar/revoke", {}, expect(401, 409, 409, 409, 409)),
    ("POST", "/account/calendar/new", {}, expect(401, 201, 201, 201, 201)),
    ("POST", "/language", {"language": "sv", "next": "/desk"}, expect(303, 303, 303, 303, 303)),
]
#: Routes not in the matrix, and why (see the module's docstring).
ELSEWHERE = {("POST", "/logout"), ("POST", "/logout/everywhere"), ("GET", "/health"),
             ("GET", "/"), ("POST", "/login"),
             ("GET", "/s/{token}"), ("GET", "/s/{token}/findings/{ref}"),
             ("POST", "/s/{token}/findings/{ref}/{form}"),
             ("GET", "/s/{token}/findings/{ref}/files/{evidence_id}"),
             ("GET", "/calendar/{token}.ics")}  # fmt: skip


@pytest.fixture
def ids(desk_world: World) -> Ids:
    workflow = desk_world.workflow
    ref = desk_world.finding()
    workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    [evidence] = workflow.add_evidence(
        ref, [EvidenceFile("audit.pdf", b"%PDF-1.7 report", "application/pdf")],
        actor=ANNA, now=NOW,
    )  # fmt: skip
    queued = workflow.list_outbox(OutboxStatus.QUEUED)
    spare = workflow.add_user("spare@region.example", V, PASSWORD, now=NOW)
    gone = workflow.add_user("gone@region.example", V, PASSWORD, now=NOW)
    workflow.disable_user(gone.email, now=NOW)
    report = workflow.add_obligation(desk_world.contract, due=NOW.date(), actor=ANNA, now=NOW)
    return Ids(ref, evidence.id, queued[0].id, spare.id, gone.id, report.id)


@pytest.fixture
def browsers(
    web_settings: Any, ids: Ids, clock: Clock, signed_in: Callable[[str], Desk]
) -> Iterator[dict[Any, Desk]]:
    anonymous = Desk(web_settings, clock=clock)
    anonymous.token()  # the CSRF cookie: an anonymous POST is judged on who, not the token
    opened = {ANON: anonymous}
    opened.update({role: signed_in(email) for role, email in AS_ROLE.items()})
    yield opened


def _path(template: str, ids: Ids) -> str:
    return template.format(**vars(ids))


def test_every_role_gets_the_status_written_for_every_route(
    browsers: dict[Any, Desk], ids: Ids
) -> None:
    got: dict[tuple[str, str], dict[Any, int]] = {}
    for method, template, form, _ in MATRIX:
        path = _path(template, ids)
        row = {}
        for who, browser in browsers.items():
            if method == "GET":
                row[who] = browser.get(path).status_code
            else:
                token = browser.token("/login" if who == ANON else "/desk")
                row[who] = browser.post(path, {"csrftoken": token, **form}).status_code
        got[(method, template)] = row
    wanted = {(method, template): expected for method, template, _, expected in MATRIX}
    wrong = {route: (got[route], wanted[route]) for route in wanted if got[route] != wanted[route]}
    assert wrong == {}


def test_the_refused_forms_changed_nothing(browsers: dict[Any, Desk], ids: Ids,
                                           desk_world: World) -> None:  # fmt: skip
    workflow = desk_world.workflow
    before = (workflow.show_finding(ids.ref, now=NOW), workflow.list_users(),
              workflow.list_suppliers(), workflow.list_contracts(),
              workflow.show_obligation(ids.report, now=NOW))  # fmt: skip
    for method, template, form, _ in MATRIX:
        if method != "POST" or template in ("/language", "/users/{spare}/sessions"):
            continue
        for who, browser in browsers.items():
            token = browser.token("/login" if who == ANON else "/desk")
            browser.post(_path(template, ids), {"csrftoken": token, **form})
    after = (workflow.show_finding(ids.ref, now=NOW), workflow.list_users(),
             workflow.list_suppliers(), workflow.list_contracts(),
             workflow.show_obligation(ids.report, now=NOW))  # fmt: skip
    assert after == before


def _routes(app: Any) -> set[tuple[str, str]]:
    """The (method, path) of every route of the FastAPI application inside the layers, as
    its OpenAPI schema lists them (FastAPI's public account of its routes)."""
    while not isinstance(app, FastAPI):
        app = getattr(app, "__wrapped__", None) or app.app
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, methods in paths.items() for method in methods}


def test_every_route_is_in_the_matrix(web_settings: Any, desk_world: World) -> None:
    from cap.web.app import create_app

    listed = {(method, template) for method, template, _, _ in MATRIX} | ELSEWHERE
    generic = {
        (m, p.replace("556000-1234", "{org_number}").replace("RS-2019-ICT-01", "{reference}")
         .replace("{evidence}", "{evidence_id}").replace("{message}", "{message_id}")
         .replace("{spare}", "{user_id}").replace("{gone}", "{user_id}")
         .replace("{report}/receive", "{obligation_id}/{action}")
         .replace("{report}/extend", "{obligation_id}/{action}")
         .replace("{report}/waive", "{obligation_id}/{action}")
         .replace("{report}/escalate", "{obligation_id}/{action}")
         .replace("{report}", "{obligation_id}")
         .replace("/actions/escalate", "/actions/{action}")
         .replace("/actions/warn", "/actions/{action}")
         .replace("/actions/no_such_action", "/actions/{action}"))
        for m, p in listed
    }  # fmt: skip
    routes = _routes(create_app(web_settings))
    assert len(routes) > 30  # the schema lists the desk's routes, not only its own two
    assert routes - generic == set()
