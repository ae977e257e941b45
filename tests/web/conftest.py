"""Fixtures of the web tests: the application over the test's database (both databases), with
a secret key, and the people who sign in to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr

from cap.config import Settings
from cap.domain.model import StaffRole
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, NOW
from tests.web.desk_client import Desk

SECRET = "test-only-secret-key-of-forty-characters"
PASSWORD = "correct horse battery"


@pytest.fixture
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "base_url": "http://cap.region.example"}
    )


@pytest.fixture
def staff(workflow: Workflow) -> Workflow:
    """Anna, contract manager, and Bo, viewer, both with PASSWORD (cheap argon2 parameters:
    the web verifies with the parameters of the stored hash)."""
    workflow.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    workflow.add_user(ANNA, StaffRole.CONTRACT_MANAGER, PASSWORD, name="Anna Berg", now=NOW)
    workflow.add_user(BO, StaffRole.VIEWER, PASSWORD, now=NOW)
    return workflow


@pytest.fixture
def desk(web_settings: Settings, staff: Workflow) -> Iterator[Desk]:
    browser = Desk(web_settings)
    yield browser
    browser.close()
