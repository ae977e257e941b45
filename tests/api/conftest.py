"""Fixtures of the API tests: the application (desk and API) over the test's database (both
databases), and a client per role calling it with a token of that role."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from cap.api.problems import MEDIA_TYPE
from cap.config import Settings
from cap.domain.model import StaffRole
from cap.web.app import create_app
from cap.workflow import Workflow
from tests.conftest import NOW, World, database_for, make_world


def refused(answer: Any, status: int, field: str | None = None) -> str:
    """``answer``'s problem detail, once it is checked to be a problem of ``status`` (naming
    ``field`` first)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    body = answer.json()
    assert body["status"] == status
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    detail: str = body["detail"]
    return detail


SECRET = "test-only-secret-key-of-forty-characters"


class Api:
    """httpx over the ASGI application, each request with ``token`` (None: none)."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.loop = asyncio.new_event_loop()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                        base_url="http://cap.region.example/api/v1/",
                                        headers=headers)  # fmt: skip

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "base_url": "http://cap.region.example"}
    )


@pytest.fixture
def api_world(api_settings: Settings) -> World:
    return make_world(Workflow(db=database_for(api_settings.database_url), settings=api_settings))


@pytest.fixture
def api_as(api_settings: Settings, api_world: World) -> Iterator[Callable[[StaffRole | None], Api]]:
    """``api_as(role)``: a client with a new token of ``role`` (None: without a token)."""
    opened: list[Api] = []
    # One application for the test's clients: building one is the dear part of a request.
    apps: list[Any] = []

    def open_as(role: StaffRole | None) -> Api:
        token = None
        if role is not None:
            token = api_world.workflow.create_token(
                f"test {role.value}", role, expires_days=None, now=NOW
            ).token
        if not apps:
            apps.append(create_app(api_settings, clock=lambda: NOW,
                                   database=database_for(api_settings.database_url)))  # fmt: skip
        client = Api(apps[0], token)
        opened.append(client)
        return client

    yield open_as
    for client in opened:
        client.close()
