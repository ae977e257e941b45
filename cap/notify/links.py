"""Links in emails. A supplier's link is signed, scoped to one finding and one address, and
expires; staff links point at the finding page, which checks the login. (Nothing reads a
supplier's link yet: the page that will verify it comes with its own, revocable tokens.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
