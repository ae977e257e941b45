"""Multipart forms (evidence uploads) carry the CSRF token too, checked as asgi-csrf checks
every other form: against tokens asgi-csrf itself issued (cap.web.security.MultipartToken
says why cap checks these)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from cap.web.security import protect

SECRET = "test-only-secret-key-of-forty-characters"
BASE = "http://cap.region.example"


async def form_page(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.scope["csrftoken"]())  # the token a page's form carries


async def upload(request: Request) -> PlainTextResponse:
    form = await request.form()
    file = form["file"]
    assert not isinstance(file, str)
    return PlainTextResponse(f"{file.filename}: {len(await file.read())} bytes")


class Browser:
    def __init__(self, secret: str = SECRET) -> None:
        app = Starlette(routes=[Route("/", form_page), Route("/upload", upload, methods=["POST"])])
        wrapped = protect(app, secret=secret, base_url=BASE, evidence_max_bytes=1024 * 1024)
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url=BASE)

    def token(self) -> str:
        return self.loop.run_until_complete(self.client.get("/")).text

    def post(self, **kwargs: object) -> httpx.Response:
        return self.loop.run_until_complete(self.client.post("/upload", **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.loop.run_until_complete(b.client.aclose())
    b.loop.close()


FILE = {"file": ("report.pdf", b"%PDF-1.7 audit report", "application/pdf")}


def test_an_upload_with_the_token_asgi_csrf_issued_goes_through(browser: Browser) -> None:
    sent = browser.post(data={"csrftoken": browser.token()}, files=FILE)
    assert sent.status_code == 200 and sent.text == "report.pdf: 21 bytes"


def test_an_upload_without_the_token_is_refused(browser: Browser) -> None:
    browser.token()  # the cookie is there, the field is not
    refused = browser.post(files=FILE)
    assert refused.status_code == 403 and "security token" in refused.text


def test_an_upload_with_another_token_is_refused(browser: Browser) -> None:
    token = browser.token()
    refused = browser.post(data={"csrftoken": token[:-2] + "xx"}, files=FILE)
    assert refused.status_code == 403


def test_a_token_and_cookie_signed_with_another_key_are_refused(browser: Browser) -> None:
    other = Browser(secret="another-installations-secret-key-of-40-chars")
    forged = other.token()  # a valid token of another installation
    browser.client.cookies.set("csrftoken", forged, domain="cap.region.example")
    refused = browser.post(data={"csrftoken": forged}, files=FILE)
    assert refused.status_code == 403


def test_an_upload_without_the_cookie_is_refused(browser: Browser) -> None:
    token = Browser().token()
    assert browser.post(data={"csrftoken": token}, files=FILE).status_code == 403


def test_a_body_that_is_no_multipart_form_is_refused(browser: Browser) -> None:
    browser.token()
    broken = browser.post(
        content=b"--nothing here", headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert broken.status_code in (400, 403)


def test_other_forms_are_still_asgi_csrfs(browser: Browser) -> None:
    token = browser.token()
    plain = browser.loop.run_until_complete(
        browser.client.post("/", data={"csrftoken": token + "x"})
    )
    assert plain.status_code == 403  # asgi-csrf's own refusal of a urlencoded form
