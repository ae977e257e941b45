"""What every response and every form of the web application stands on: security headers, a
refusal of forms sent from other sites, and CSRF tokens (asgi-csrf), each a pure ASGI layer
around the application, so that no page can forget them."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart import parse_form
from python_multipart.exceptions import FormParserError
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cap.api.problems import MEDIA_TYPE, problem_body

#: No inline script or style anywhere: an injected <script> or style="" does nothing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
#: The hidden field (and cookie) that carries a form's CSRF token.
CSRF_FIELD = "csrftoken"
#: asgi-csrf's salt for its signed cookie (its default, DEFAULT_SIGNING_NAMESPACE).
_SIGNING_NAMESPACE = "csrftoken"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

CROSS_SITE_REFUSAL = (
    "refused: this form was sent from another site; open cap's own page and send it from there"
)
CSRF_REFUSAL = (
    "refused: the form's security token is missing or stale; reload the page and send it again"
)


def derived_key(secret: str, purpose: str) -> str:
    """A key of its own for each use of CAP_SECRET_KEY: a value signed for one (a CSRF token)
    is never valid as another (a session)."""
    return hmac.new(secret.encode(), f"cap {purpose}".encode(), hashlib.sha256).hexdigest()


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` as a browser sends it in Origin (no default port), or None."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


async def send_plain(send: Send, status: int, line: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": f"{line}\n".encode()})


async def refuse(scope: Scope, send: Send, status: int, line: str) -> None:
    """``line`` with ``status``: to the API (``/api/``) as problem details, to a browser as
    plain text."""
    if not scope.get("path", "").startswith("/api/"):
        await send_plain(send, status, line)
        return
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", MEDIA_TYPE.encode())],
        }
    )
    await send(
        {"type": "http.response.body", "body": json.dumps(problem_body(status, line)).encode()}
    )


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response, error pages included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)


class SameOriginForms:
    """Refuses (403) any request that may change something when the browser says it comes from
    another site: Sec-Fetch-Site other than same-origin, or an Origin that is neither
    CAP_BASE_URL's nor the Host's. Clients that send neither still need the CSRF token."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base_origin = origin_of(base_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        unsafe = scope["type"] == "http" and scope["method"] not in _SAFE_METHODS
        if unsafe and self._cross_site(scope):
            await send_plain(send, 403, CROSS_SITE_REFUSAL)
            return
        await self.app(scope, receive, send)

    def _cross_site(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        # "none": the person's own doing (a bookmark, the address bar), never another site's.
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return True
        origin = headers.get("origin")
        if origin is None:
            return False
        # Behind a proxy the Host may be the proxy's view; CAP_BASE_URL is the people's.
        own = {self.base_origin, origin_of(f"{scope['scheme']}://{headers.get('host', '')}")}
        sent = origin_of(origin)  # "null" (a sandboxed frame, a file) is never ours
        return sent is None or sent not in own


class BodyLimit:
    """Refuses (413) a request body over its limit before anything reads it: asgi-csrf and the
    form parser hold a form in memory. Multipart bodies (evidence uploads) have a limit of
    their own; the body is read here up to the limit, then handed on."""

    def __init__(self, app: ASGIApp, *, form_max: int, upload_max: int, import_max: int) -> None:
        self.app = app
        self.form_max = form_max
        self.upload_max = upload_max
        self.import_max = import_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        bulk = scope["path"] == IMPORT_PATH
        limit = self.import_max if bulk else self.upload_max if multipart else self.form_max
        refusal = self._refusal(limit, multipart, bulk)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await refuse(scope, send, 413, refusal)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await refuse(scope, send, 413, refusal)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    @staticmethod
    def _refusal(limit: int, multipart: bool, bulk: bool) -> str:
        if bulk:
            return f"refused: the import exceeds {limit:,} bytes; split it into smaller imports"
        what = "the files sent" if multipart else "the form"
        setting = " (CAP_EVIDENCE_MAX_BYTES per file)" if multipart else ""
        return f"refused: {what} exceed {limit:,} bytes{setting}; send less at a time"


#: Set on a multipart request whose token :class:`MultipartToken` checked (asgi-csrf skips it).
_CHECKED = "cap.csrf_checked"


class MultipartToken:
    """The CSRF check of multipart forms (evidence uploads), made here as asgi-csrf makes it
    for other forms: the form's ``csrftoken`` field equals the cookie, whose signature holds.

    asgi-csrf 0.11 cannot read a multipart body with python-multipart 0.0.26 or later (it
    passes a ``FileClass`` argument that version removed, and fails with a TypeError: simonw/
    asgi-csrf#38, unreleased fix #39), and the releases before 0.0.26 carry CVE-2026-40347. So
    multipart forms are checked here and marked for asgi-csrf's ``skip_if_scope``; every
    other form still goes through asgi-csrf (tests/web/test_web_uploads_token.py checks this
    accepts exactly the tokens asgi-csrf issues). Drop it once asgi-csrf reads them again.
    """

    def __init__(self, app: ASGIApp, *, signing_secret: str) -> None:
        self.app = app
        self.signer = URLSafeSerializer(signing_secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _SAFE_METHODS:
            # The lifespan scope too: it has no headers, and must reach the application.
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        if not multipart or _for_the_api(scope):
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)  # bounded by BodyLimit, outside this layer
        if body is None:
            return
        sent = _multipart_field(headers, body, CSRF_FIELD)
        if sent is None:
            await send_plain(send, 400, "refused: the form could not be read; send it again")
            return
        cookie = Request(scope).cookies.get(CSRF_FIELD, "")
        if not (sent and cookie and secrets.compare_digest(sent, cookie) and self._signed(cookie)):
            await send_plain(send, 403, CSRF_REFUSAL)
            return
        await self.app({**scope, _CHECKED: True}, _replay(body, receive), send)

    def _signed(self, cookie: str) -> bool:
        try:
            self.signer.loads(cookie, salt=_SIGNING_NAMESPACE)
        except BadSignature:
            return False
        return True


def _multipart_field(headers: Headers, body: bytes, name: str) -> str | None:
    """The value of the field ``name`` of a multipart body ("" when absent), None when the
    body is no multipart form."""
    found: list[str] = []

    def on_field(field: Any) -> None:
        if field.field_name == name.encode() and field.value is not None:
            found.append(field.value.decode("utf-8", "replace"))

    try:
        parse_form({"Content-Type": headers["content-type"].encode("latin-1")}, BytesIO(body),
                   on_field, lambda file: None)  # fmt: skip
    except (FormParserError, ValueError, UnicodeEncodeError):
        return None
    return found[0] if found else ""


async def _whole_body(receive: Receive) -> bytes | None:
    """The request body, or None when the client went away."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives ``body`` once, then whatever comes after it (the disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _for_the_api(scope: Scope) -> bool:
    """A request to the API: it is who its bearer token is, and no cookie gives it any right,
    so a request forged by another site has nothing to act with (no CSRF check, which would
    answer a request without a token 403 instead of the API's 401)."""
    path: str = scope.get("path", "")
    return path.startswith("/api/")


class _EveryPath:
    """asgi-csrf checks a request that carries no cookie only on the paths it is given: give it
    all of them, so that nobody can be signed in to someone else's account by a forged form."""

    def __contains__(self, path: object) -> bool:
        return True


async def _refuse_csrf(scope: Scope, send: Send, error: Any) -> None:
    await send_plain(send, 403, CSRF_REFUSAL)


#: A form without files: far more than any finding, plan or decision needs.
FORM_MAX_BYTES = 256 * 1024
#: A bulk import of findings over the API (CSV or JSON): a large audit report's worth.
IMPORT_MAX_BYTES = 32 * 1024 * 1024
IMPORT_PATH = "/api/v1/findings:import"
#: Evidence files one form may carry (the upload limit is that many times the file limit).
FILES_PER_FORM = 5


def protect(app: ASGIApp, *, secret: str, base_url: str, evidence_max_bytes: int) -> ASGIApp:
    """``app`` behind the CSRF check, the same-origin check, the body size limit and the
    security headers."""
    secure = base_url.lower().startswith("https:")
    checked: ASGIApp = asgi_csrf(
        app,
        cookie_name=CSRF_FIELD,
        signing_secret=derived_key(secret, "csrf"),
        always_protect=_EveryPath(),
        cookie_secure=secure,
        cookie_samesite="Lax",
        send_csrf_failed=_refuse_csrf,
        skip_if_scope=lambda scope: scope.get(_CHECKED, False) or _for_the_api(scope),
    )
    checked = MultipartToken(checked, signing_secret=derived_key(secret, "csrf"))
    # Room for the form's own fields and each part's headers beside the files.
    upload_max = FILES_PER_FORM * evidence_max_bytes + FORM_MAX_BYTES
    limited = BodyLimit(checked, form_max=FORM_MAX_BYTES, upload_max=upload_max,
                        import_max=IMPORT_MAX_BYTES)  # fmt: skip
    return SecurityHeaders(SameOriginForms(limited, base_url))
