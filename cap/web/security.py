"""What every response and every form of the web application stands on: security headers, a
refusal of forms sent from other sites, and CSRF tokens (asgi-csrf), each a pure ASGI layer
around the application, so that no page can forget them."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class _EveryPath:
    """asgi-csrf checks a request that carries no cookie only on the paths it is given: give it
    all of them, so that nobody can be signed in to someone else's account by a forged form."""

    def __contains__(self, path: object) -> bool:
        return True


async def _refuse_csrf(scope: Scope, send: Send, error: Any) -> None:
    await send_plain(send, 403, CSRF_REFUSAL)


def protect(app: ASGIApp, *, secret: str, base_url: str) -> ASGIApp:
    """``app`` behind the CSRF check, the same-origin check and the security headers."""
    secure = base_url.lower().startswith("https:")
    checked: ASGIApp = asgi_csrf(
        app,
        cookie_name=CSRF_FIELD,
        signing_secret=derived_key(secret, "csrf"),
        always_protect=_EveryPath(),
        cookie_secure=secure,
        cookie_samesite="Lax",
        send_csrf_failed=_refuse_csrf,
    )
    return SecurityHeaders(SameOriginForms(checked, base_url))
