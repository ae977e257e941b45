"""Where delivery hands a message: an SMTP server over one reused connection, or a folder of
``.eml`` files (the embedded default, when no SMTP host is set)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from pathlib import Path
from typing import Protocol

import aiosmtplib
from aiosmtplib import SMTPStatus

from cap.config import Settings


class TransportError(Exception):
    """Sending failed. ``permanent``: retrying cannot help (5xx, a refused address)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    async def send(self, sender: str, recipient: str, message: bytes) -> None: ...

    async def close(self) -> None: ...


class SMTPTransport:
    """One SMTP connection reused across messages, reopened when the server drops it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port_or_default,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",
            timeout=s.smtp_timeout,
            tls_context=_tls_context(s) if s.smtp_tls != "none" else None,
            username=s.smtp_username or None,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )
        await smtp.connect()  # STARTTLS and login included; EHLO (or HELO) with the first send
        return smtp

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        try:
            # A deadline on the whole transaction (aiosmtplib's own timeout is per read); unlike
            # wait_for, it runs no task of its own per message.
            async with asyncio.timeout(self.settings.smtp_timeout):
                await self._send(sender, recipient, message)
        except TimeoutError:
            await self._drop()
            raise TransportError(
                f"no answer from {self.settings.smtp_host} within {self.settings.smtp_timeout:g}s",
                permanent=False,
            ) from None

    async def _send(self, sender: str, recipient: str, message: bytes) -> None:
        for attempt in (1, 2):
            try:
                if self._smtp is None or not self._smtp.is_connected:
                    self._smtp = await self._connect()
                await self._transaction(self._smtp, sender, recipient, message)
            except aiosmtplib.SMTPServerDisconnected as exc:
                await self._drop()
                if attempt == 2:
                    raise TransportError(f"connection dropped: {exc}", permanent=False) from None
                continue  # a connection idle too long: reopen once, right away
            except (aiosmtplib.SMTPConnectResponseError, aiosmtplib.SMTPAuthenticationError) as exc:
                # The server or our login is at fault, not the message: retry until fixed.
                await self._drop()
                raise TransportError(f"{exc.code} {exc.message}", permanent=False) from None
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code == SMTPStatus.domain_unavailable:  # the server closes the connection
                    await self._drop()
                raise TransportError(
                    f"{exc.code} {exc.message}", permanent=exc.code >= 500
                ) from None
            except (OSError, aiosmtplib.SMTPException) as exc:
                await self._drop()
                raise TransportError(f"{type(exc).__name__}: {exc}", permanent=False) from None
            return

    @staticmethod
    async def _transaction(
        smtp: aiosmtplib.SMTP, sender: str, recipient: str, message: bytes
    ) -> None:
        """MAIL, RCPT and DATA for one recipient, each through aiosmtplib's command lock and
        its close-on-timeout; RSET after a refusal, so that the connection stays usable.

        ``SMTP.sendmail`` would do the same, and scan each message's line endings once more to
        size it and parse both addresses twice more: 0.1 ms a message, a tenth of delivery's
        CPU, enough to take it below twice the peer's rate in bench/delivery.py. Our messages
        have CRLF line endings by construction (tests/test_message.py), so their length is their
        RFC 1870 size.
        """
        options = [f"SIZE={len(message)}"] if smtp.supports_extension("size") else []
        try:
            await smtp.mail(sender, options=options)
            await smtp.rcpt(recipient)
            await smtp.data(message)
        except aiosmtplib.SMTPResponseException:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.rset()
            raise

    async def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.close()

    async def close(self) -> None:
        if self._smtp is not None and self._smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException):
                await self._smtp.quit()
        await self._drop()


class FolderTransport:
    """The embedded default: each message becomes an ``.eml`` file in a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, sender: str, recipient: str, message: bytes) -> None:
        # Readable and stable: a re-sent message replaces its own file.
        digest = _header(message, b"Message-ID").strip("<>").split("@")[0][:12]
        report = _header(message, b"X-Cap-Report", "")
        about = f"report-{report}" if report else _header(message, b"X-Cap-Finding")
        kind = _header(message, b"X-Cap-Kind")
        target = self.folder / f"{about}_{kind}_{digest}.eml"
        temporary = target.with_suffix(f".{os.getpid()}.tmp")
        # Write then rename: a reader never sees half a message, a re-send replaces it.
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(message)
            os.replace(temporary, target)
        except OSError as exc:  # a full disk, a folder made read-only: retry later
            raise TransportError(f"cannot write {target}: {exc}", permanent=False) from None

    async def close(self) -> None:
        return None


def _tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificates are always verified; CAP_SMTP_CA_FILE adds an internal CA."""
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    return context


def _header(message: bytes, name: bytes, missing: str = "message") -> str:
    head = message.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(name.lower() + b":"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return missing
