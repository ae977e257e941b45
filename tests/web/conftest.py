"""Fixtures of the web tests: the application over the test's database (both databases), with
a secret key, and the people who sign in to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr

from cap.config import Settings
from cap.domain.model import StaffRole
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, NOW, World, make_world
from tests.web.desk_client import Desk

SECRET = "test-only-secret-key-of-forty-characters"
PASSWORD = "correct horse battery"
#: argon2 parameters that cost next to nothing (the tests' users are not worth protecting).
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SARA = "sara.hallbar@region.example"  # sustainability manager
SVEN = "sven.hallbar@region.example"  # sustainability manager, the second of a termination
ADA = "ada.admin@region.example"  # admin
#: Who signs in as each role in the page tests (ANNA: contract manager, BO: viewer).
AS_ROLE = {
    StaffRole.ADMIN: ADA,
    StaffRole.CONTRACT_MANAGER: ANNA,
    StaffRole.SUSTAINABILITY_MANAGER: SARA,
    StaffRole.VIEWER: BO,
}


@dataclass
class Clock:
    """The web application's now in a page test; a test may move it on."""

    now: datetime = NOW + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    for browser in list(Desk.open):
        browser.close()
    Desk.apps.clear()


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Workflow of a page test, the application's too, hashes with CHEAP parameters:
    with argon2's recommended ones each sign-in would redo the cheap hash of its user."""
    monkeypatch.setattr(Workflow, "password_hasher", CHEAP)


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "base_url": "http://cap.region.example"}
    )


@pytest.fixture
def staff(workflow: Workflow) -> Workflow:
    """Anna, contract manager, and Bo, viewer, both with PASSWORD (cheap argon2 parameters:
    the web verifies with the parameters of the stored hash)."""
    workflow.password_hasher = CHEAP
    workflow.add_user(ANNA, StaffRole.CONTRACT_MANAGER, PASSWORD, name="Anna Berg", now=NOW)
    workflow.add_user(BO, StaffRole.VIEWER, PASSWORD, now=NOW)
    return workflow


@pytest.fixture
def desk(web_settings: Settings, staff: Workflow) -> Iterator[Desk]:
    browser = Desk(web_settings)
    yield browser
    browser.close()


@pytest.fixture
def everyone(staff: Workflow) -> Workflow:
    """Beside Anna and Bo: Sara and Sven, sustainability managers, and Ada, admin."""
    staff.add_user(SARA, StaffRole.SUSTAINABILITY_MANAGER, PASSWORD, name="Sara Holm", now=NOW)
    staff.add_user(SVEN, StaffRole.SUSTAINABILITY_MANAGER, PASSWORD, name="Sven Ek", now=NOW)
    staff.add_user(ADA, StaffRole.ADMIN, PASSWORD, name="Ada Admin", now=NOW)
    return staff


@pytest.fixture
def desk_world(everyone: Workflow) -> World:
    """A supplier with a contract (tests.conftest.make_world), and every role's user."""
    return make_world(everyone)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def signed_in(
    web_settings: Settings, everyone: Workflow, clock: Clock
) -> Iterator[Callable[[str], Desk]]:
    """``signed_in(email)``: a browser signed in as that user, on the test's clock."""
    opened: list[Desk] = []

    def open_as(email: str) -> Desk:
        browser = Desk(web_settings, clock=clock)
        opened.append(browser)
        assert browser.sign_in(email, PASSWORD).status_code == 303
        return browser

    yield open_as
    for browser in opened:
        browser.close()


@pytest.fixture
def linked_world(web_settings: Settings, everyone: Workflow) -> World:
    """desk_world with the web's secret key, so that its emails carry supplier links."""
    workflow = Workflow(db=everyone.db, settings=web_settings)
    workflow.password_hasher = CHEAP
    return make_world(workflow)


@pytest.fixture
def supplier(web_settings: Settings, clock: Clock) -> Iterator[Desk]:
    """The supplier's browser: nobody signed in, on the test's clock."""
    browser = Desk(web_settings, accept_language=None, clock=clock)
    yield browser
    browser.close()
