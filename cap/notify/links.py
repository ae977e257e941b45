"""Links in emails. A supplier's link is signed, scoped to one finding and one address, and
expires; staff links point at the finding page, which checks the login."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from cap.config import Settings

#: How long a link in an email to a supplier stays valid.
SUPPLIER_LINK_LIFETIME = timedelta(days=120)


def finding_link(settings: Settings, ref: str) -> str:
    return f"{settings.base_url.rstrip('/')}/findings/{quote(ref)}"


def supplier_link(settings: Settings, ref: str, email: str, now: datetime) -> str:
    """A link the supplier can answer through; falls back to the finding page when no
    ``CAP_SECRET_KEY`` is configured (nothing can be signed without it)."""
    if settings.secret_key is None:
        return finding_link(settings, ref)
    expires = int((now + SUPPLIER_LINK_LIFETIME).timestamp())
    token = sign_supplier_token(settings.secret_key.get_secret_value(), ref, email, expires)
    return f"{settings.base_url.rstrip('/')}/supplier/{quote(ref)}?t={token}"


def sign_supplier_token(secret: str, ref: str, email: str, expires: int) -> str:
    payload = f"{ref}|{email.casefold()}|{expires}".encode()
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:20]
    return _b64(payload) + "." + _b64(mac)


def verify_supplier_token(secret: str, token: str, ref: str, now: datetime) -> str | None:
    """The email the token was issued to, if it is genuine, for ``ref`` and not expired."""
    try:
        payload_part, mac_part = token.split(".", 1)
        payload = _unb64(payload_part)
        mac = _unb64(mac_part)
        token_ref, email, expires = payload.decode().split("|")
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:20]
    if not hmac.compare_digest(mac, expected) or token_ref != ref:
        return None
    if datetime.fromtimestamp(int(expires), UTC) <= now:
        return None
    return email


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
