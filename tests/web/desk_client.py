"""A browser's part, in the test process: the web application through httpx.ASGITransport,
with a cookie jar kept from one request to the next."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import httpx

from cap.config import Settings
from cap.web.app import create_app
from tests.conftest import database_for

#: Where the requests come from (request.client.host), as the sign-in throttle sees it.
CLIENT = "203.0.113.5"
_TOKEN = re.compile(r'<input type="hidden" name="csrftoken" value="([^"]+)">')


class Desk:
    """``accept_language`` is the browser's Accept-Language (None: it sends none); the tests
    of other behaviours read the English pages."""

    #: Every browser not closed yet: tests/web/conftest.py closes them after each test, so no
    #: test leaves database connections open (PostgreSQL counts them).
    open: ClassVar[list[Desk]] = []
    #: The applications of the test, by settings and clock: a test's browsers share one, as
    #: people's browsers share one desk (building one was a fifth of a page test's time).
    #: Emptied with ``open`` when the test ends.
    apps: ClassVar[dict[tuple[int, int, str], Any]] = {}

    def __init__(
        self,
        settings: Settings,
        accept_language: str | None = "en",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.closed = False
        Desk.open.append(self)
        self.loop = asyncio.new_event_loop()
        # The test's, shared with its Workflow (tests.conftest closes it when the test ends).
        self.database = database_for(settings.database_url)
        key = (id(settings), id(clock), settings.database_url)
        app = Desk.apps.get(key)
        if app is None:
            app = Desk.apps[key] = create_app(settings, clock=clock, database=self.database)
        transport = httpx.ASGITransport(app=app, client=(CLIENT, 50000))
        headers = {"accept-language": accept_language} if accept_language else {}
        self.client = httpx.AsyncClient(
            transport=transport, base_url=settings.base_url, headers=headers
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, data=data, **kwargs)

    def token(self, path: str = "/login") -> str:
        """The CSRF token of the form on ``path`` (its cookie lands in the jar)."""
        match = _TOKEN.search(self.get(path).text)
        assert match, f"no CSRF field on {path}"
        return match.group(1)

    def sign_in(self, email: str, password: str, **kwargs: Any) -> httpx.Response:
        form = {"csrftoken": self.token(), "email": email, "password": password}
        return self.post("/login", form, **kwargs)

    def form_token(self, page: httpx.Response) -> str:
        """The CSRF token of the forms on a page already fetched."""
        match = _TOKEN.search(page.text)
        assert match, f"no CSRF field on {page.request.url}"
        return match.group(1)

    def submit(
        self, path: str, form: dict[str, str], *, page: str, **kwargs: Any
    ) -> httpx.Response:
        """POST ``form`` to ``path`` as the form on ``page`` would send it (with its token)."""
        return self.post(path, {"csrftoken": self.token(page), **form}, **kwargs)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        Desk.open.remove(self)
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header of ``response`` by cookie name, attributes in lower case."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        found[name] = header.lower()
    return found
