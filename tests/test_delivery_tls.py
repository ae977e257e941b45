"""SMTP over TLS with a real server on loopback: STARTTLS required, implicit TLS, bad certs."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
import trustme
from sqlalchemy import select

from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.notify.delivery import Delivery
from cap.store.db import Database
from cap.store.models import OutboxMessage, OutboxStatus
from cap.workflow import Workflow
from tests.conftest import ANNA, LI, NOW, make_world
from tests.smtp_server import Handler, smtp_server


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ca, pem


@pytest.fixture
def server_context(authority: tuple[trustme.CA, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority[0].issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def _deliver(sqlite_url: str, port: int, **smtp: object) -> tuple[OutboxMessage, Settings]:
    settings = Settings(
        database_url=sqlite_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="cap@region.example",
        smtp_timeout=10,
        **smtp,  # type: ignore[arg-type]
    )
    world = make_world(Workflow(Database(sqlite_url), settings))
    ref = world.finding()
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    asyncio.run(Delivery(world.workflow.db, settings, connections=1).run_pass(lambda: NOW))
    with world.workflow.db.read() as session:
        return session.execute(select(OutboxMessage)).scalar_one(), settings


def test_starttls_is_required_and_the_certificate_checked(
    sqlite_url: str, server_context: ssl.SSLContext, authority: tuple[trustme.CA, Path]
) -> None:
    handler = Handler()
    with smtp_server(handler, tls_context=server_context, require_starttls=True) as (_, port):
        row, _ = _deliver(sqlite_url, port, smtp_tls="starttls", smtp_ca_file=authority[1])
    assert row.status is OutboxStatus.SENT
    assert [r.recipients for r in handler.received] == [[LI]]


def test_implicit_tls(
    sqlite_url: str, server_context: ssl.SSLContext, authority: tuple[trustme.CA, Path]
) -> None:
    handler = Handler()
    with smtp_server(handler, ssl_context=server_context) as (_, port):
        row, _ = _deliver(sqlite_url, port, smtp_tls="tls", smtp_ca_file=authority[1])
    assert row.status is OutboxStatus.SENT and len(handler.received) == 1


def test_an_untrusted_certificate_sends_nothing_and_retries(
    sqlite_url: str, server_context: ssl.SSLContext
) -> None:
    handler = Handler()
    with smtp_server(handler, tls_context=server_context, require_starttls=True) as (_, port):
        row, _ = _deliver(sqlite_url, port, smtp_tls="starttls")  # no CA: the cert is unknown
    assert handler.received == []
    assert row.status is OutboxStatus.QUEUED and row.attempts == 1
    assert row.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_starttls_required_but_not_offered_sends_nothing_in_clear(sqlite_url: str) -> None:
    handler = Handler()
    with smtp_server(handler) as (_, port):  # a server without STARTTLS
        row, _ = _deliver(sqlite_url, port, smtp_tls="starttls")
    assert handler.received == []
    assert row.status is OutboxStatus.QUEUED
    assert row.last_error is not None and "STARTTLS" in row.last_error.upper()
