"""``cap outbox`` and ``cap mail``, run as the real entry point.

Every test asserts what a user sees (exit code, stdout, stderr, ``--json``) and its effect:
outbox rows in the database, ``.eml`` files written, messages a real SMTP server on loopback
received (tests/smtp_server.py, run in the test process). Findings are set up in-process
through the workflow.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.domain.lifecycle import Action, ActionRequest
from cap.notify.render import KINDS
from cap.store.db import Database
from cap.store.models import Finding, OutboxMessage
from tests.cli_runner import Cap, user_error, workflow_for
from tests.conftest import ANNA, LI, NOW, World, make_world
from tests.smtp_server import Handler, smtp_server

TITLE = "Forced overtime at final assembly"


# -- helpers ---------------------------------------------------------------------------------


def notified(world: World, title: str = TITLE, at: datetime = NOW) -> str:
    """A major finding communicated at ``at``: its cap_requested email to Li is queued."""
    ref = world.finding(title=title, now=at)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at)
    return ref


@dataclass(frozen=True)
class Row:
    id: int
    finding: str | None
    kind: str
    recipient: str
    status: str
    attempts: int
    subject: str
    message_id: str
    last_error: str | None
    sent_at: datetime | None
    text_body: str


def outbox(url: str) -> list[Row]:
    """The outbox as stored, oldest first."""
    db = Database(url)
    try:
        with db.read() as session:
            rows = session.execute(
                select(OutboxMessage, col(Finding.ref))
                .outerjoin(Finding, col(Finding.id) == col(OutboxMessage.finding_id))
                .order_by(col(OutboxMessage.id))
            ).all()
            return [
                Row(m.id, ref, m.kind, m.recipient, m.status.value, m.attempts, m.subject,
                    m.message_id, m.last_error, m.sent_at, m.text_body)
                for m, ref in rows
            ]  # fmt: skip
    finally:
        db.engine.dispose()


def smtp_env(port: int) -> dict[str, str]:
    # One connection: messages go out in queue order, so the script's refusal is predictable.
    return {
        "CAP_SMTP_HOST": "127.0.0.1",
        "CAP_SMTP_PORT": str(port),
        "CAP_SMTP_TLS": "none",
        "CAP_DELIVERY_CONNECTIONS": "1",
    }


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


# -- the outbox, delivered to a folder -------------------------------------------------------


def test_outbox_list_then_send_writes_eml_files_once(
    cap: Cap, world: World, sqlite_url: str, tmp_path: Path
) -> None:
    ref = notified(world)
    [queued] = outbox(sqlite_url)

    table, listed = (
        cap.ok("outbox", "list"),
        cap.json("outbox", "list"),
    )
    header, row = table.splitlines()
    assert header.split() == ["ID", "STATUS", "ABOUT", "KIND", "TO", "TRIES", "SENT", "(LOCAL)",
                              "NEXT", "TRY", "(LOCAL)", "LAST", "ERROR"]  # fmt: skip
    assert row.split()[:6] == [str(queued.id), "queued", ref, "cap_requested", LI, "0"]
    [item] = listed
    assert (item["id"], item["finding"], item["kind"], item["recipient"], item["role"]) == (
        queued.id,
        ref,
        "cap_requested",
        LI,
        "supplier",
    )
    assert (item["status"], item["attempts"], item["sent_at"], item["language"]) == (
        "queued",
        0,
        None,
        "en",
    )
    assert item["subject"] == queued.subject
    assert ref in item["subject"] and TITLE in item["subject"]

    mail_dir = tmp_path / "mail"
    out = cap.ok("outbox", "send")
    assert out.startswith(f"sent 1 to the folder {mail_dir}; 0 will be retried, 0 failed"), out
    [eml] = mail_dir.glob("*.eml")
    assert eml.name.startswith(f"{ref}_cap_requested_")
    message = parse(eml.read_bytes())
    assert message["To"].addresses[0].addr_spec == LI
    assert message["Subject"] == queued.subject
    assert message["Message-ID"] == queued.message_id
    assert message["X-Cap-Finding"] == ref
    assert message["Reply-To"].addresses[0].addr_spec == ANNA
    [sent] = outbox(sqlite_url)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None

    content = eml.read_bytes()
    out = cap.ok("outbox", "send")
    assert out.startswith("sent 0 to the folder "), out
    assert list(mail_dir.glob("*")) == [eml]
    assert eml.read_bytes() == content
    assert outbox(sqlite_url) == [sent]


# -- the outbox, delivered over SMTP ---------------------------------------------------------


def test_outbox_send_over_smtp_fails_a_refused_message_and_retry_requeues_it(
    cap: Cap, world: World, sqlite_url: str
) -> None:
    refused_ref = notified(world)
    accepted_ref = notified(world, title="Unpaid overtime")
    refused, accepted = outbox(sqlite_url)
    assert (refused.finding, accepted.finding) == (refused_ref, accepted_ref)

    handler = Handler(script={LI: ["550 5.1.1 No such user"]})
    with smtp_server(handler) as (server, port):
        env = smtp_env(port)
        first = cap.run("outbox", "send", env=env)
        assert first.returncode == 1, first.stderr  # a message failed for good: scripts see it
        assert first.stdout.startswith("sent 1 to SMTP 127.0.0.1; 0 will be retried, 1 failed")
        assert "550 5.1.1 No such user" in first.stderr
        assert "sending 2 message(s)" in first.stderr  # the progress bar's label
        assert "Traceback" not in first.stderr
        [received] = server.received
        assert received.recipients == [LI]
        assert received.message["X-Cap-Finding"] == accepted_ref
        assert received.message["Subject"] == accepted.subject
        assert received.message["Message-ID"] == accepted.message_id
        rows = outbox(sqlite_url)
        assert [(r.finding, r.status, r.attempts) for r in rows] == [
            (refused_ref, "failed", 1),
            (accepted_ref, "sent", 1),
        ]
        assert rows[0].last_error is not None
        assert "550 5.1.1 No such user" in rows[0].last_error

        out = cap.ok("outbox", "retry", str(refused.id), env=env)
        assert out.strip() == f"message {refused.id} to {LI} is queued again"
        assert [(r.status, r.attempts) for r in outbox(sqlite_url)] == [
            ("queued", 1),
            ("sent", 1),
        ]

        again = cap.ok("outbox", "send", env=env)
        assert again.startswith("sent 1 to SMTP 127.0.0.1; 0 will be retried, 0 failed"), again
        assert [r.message["X-Cap-Finding"] for r in server.received] == [
            accepted_ref,
            refused_ref,
        ]
        assert server.received[1].message["Message-ID"] == refused.message_id
        assert [(r.status, r.attempts) for r in outbox(sqlite_url)] == [
            ("sent", 2),
            ("sent", 1),
        ]

        of_sent, of_unknown = (
            cap.run("outbox", "retry", str(accepted.id), env=env),
            cap.run("outbox", "retry", "9999", env=env),
        )
    line = user_error(of_sent, code=6)
    assert f"message {accepted.id} is sent" in line
    assert "only failed messages can be retried" in line
    line = user_error(of_unknown, code=4)
    assert "message 9999 does not exist" in line
    assert [r.status for r in outbox(sqlite_url)] == ["sent", "sent"]
    assert len(server.received) == 2


# -- previews --------------------------------------------------------------------------------


def test_mail_preview(cap: Cap, world: World) -> None:
    ref = notified(world)
    english, html, german, unknown, real = (
        cap.ok("mail", "preview", "cap_requested", "--lang", "en"),
        cap.ok("mail", "preview", "cap_requested", "--lang", "en", "--html"),
        cap.run("mail", "preview", "cap_requested", "--lang", "de"),
        cap.run("mail", "preview", "no_such_kind"),
        cap.ok("mail", "preview", "cap_requested", "--lang", "en", "--finding", ref),
    )
    subject, blank, *text = english.splitlines()
    assert subject.startswith("Subject: ") and "Corrective action plan requested" in subject
    assert blank == ""
    body = "\n".join(text)
    assert "Dear " in body
    assert "corrective action plan" in body
    assert "åtgärdsplan" not in english
    assert "<html" not in english

    subject, blank, *rest = html.splitlines()
    assert subject.startswith("Subject: ") and blank == ""
    assert rest[0].lower() == "<!doctype html>"
    assert '<html lang="en"' in html
    assert "</html>" in html

    line = user_error(german, code=2)
    assert line.startswith("error: lang: 'de'"), line
    assert "sv or en" in line

    line = user_error(unknown, code=4)
    assert "'no_such_kind'" in line
    for kind in KINDS:
        assert kind in line, kind

    origin, subject, _, *text = real.splitlines()
    assert origin.startswith("(queued ") and origin.endswith(f" for supplier {LI})"), origin
    assert subject.startswith(f"Subject: {ref}: "), subject
    assert TITLE in subject
    assert "7 April 2026" in subject  # the finding's plan deadline
    body = "\n".join(text)
    assert "Dear Li Wei" in body
    assert f"{ref} \N{EN DASH} {TITLE}" in body
    assert world.contract in body


def test_mail_preview_of_a_finding_without_a_deadline_is_not_a_crash(
    cap: Cap, world: World
) -> None:
    ref = world.finding(title=TITLE, now=NOW)  # logged, not yet communicated: no deadline
    result = cap.run("mail", "preview", "cap_requested", "--lang", "en", "--finding", ref)
    assert "Traceback" not in result.stderr, result.stderr[-300:]
    if result.returncode == 0:
        origin, subject, *_ = result.stdout.splitlines()
        assert origin == f"(not sent yet: rendered for supplier {LI})", origin
        assert subject.startswith(f"Subject: {ref}: "), result.stdout
    else:
        assert ref in user_error(result)


def test_mail_render_all_writes_every_template_in_both_languages(cap: Cap, tmp_path: Path) -> None:
    out = cap.ok("mail", "render-all", "emails")
    folder = tmp_path / "emails"
    assert out.strip() == f"wrote {2 * len(KINDS)} emails; open {Path('emails') / 'index.html'}"
    expected = {
        f"{lang}/{kind}.{ext}" for lang in ("sv", "en") for kind in KINDS for ext in ("html", "txt")
    }
    written = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert written == {*expected, "index.html"}
    index = (folder / "index.html").read_text(encoding="utf-8")
    for name in expected:
        assert f'href="{name}"' in index, name
    for lang in ("sv", "en"):
        for kind in KINDS:
            text = (folder / lang / f"{kind}.txt").read_text(encoding="utf-8")
            assert text.startswith("Subject: "), (lang, kind)
            subject = text.splitlines()[0].removeprefix("Subject: ")
            assert subject.strip(), (lang, kind)
            page = (folder / lang / f"{kind}.html").read_text(encoding="utf-8")
            assert f'<html lang="{lang}"' in page, (lang, kind)
    assert "Begäran om åtgärdsplan" in (folder / "sv" / "cap_requested.txt").read_text("utf-8")
    assert "Corrective action plan" in (folder / "en" / "cap_requested.txt").read_text("utf-8")


def test_previews_use_the_custom_templates(cap: Cap, tmp_path: Path) -> None:
    custom = tmp_path / "templates"
    (custom / "en").mkdir(parents=True)
    (custom / "en" / "cap_requested.subject.txt").write_text(
        "Custom: {{ finding.ref }}", encoding="utf-8"
    )
    env = {"CAP_TEMPLATES_DIR": str(custom)}
    preview = cap.ok("mail", "preview", "cap_requested", "--lang", "en", env=env)
    cap.ok("mail", "render-all", "emails", env=env)
    assert preview.startswith("Subject: Custom: "), preview.splitlines()[0]
    rendered = (tmp_path / "emails" / "en" / "cap_requested.txt").read_text(encoding="utf-8")
    assert rendered.startswith("Subject: Custom: "), rendered.splitlines()[0]


# -- the daily digest ------------------------------------------------------------------------

#: Friday 10 April 2026: the plan deadline of a finding communicated on 3 March (7 April) has
#: passed; one communicated on 9 April is due in May, beyond the digest's two weeks.
DIGEST_AT = "2026-04-10T09:00:00+02:00"
LATER_THAT_DAY = "2026-04-10T16:30:00+02:00"


@dataclass(frozen=True)
class DigestRuns:
    overdue: str
    not_due: str
    before: list[Row]
    first: subprocess.CompletedProcess[str]
    after_first: list[Row]
    second: subprocess.CompletedProcess[str]
    after_second: list[Row]


@pytest.fixture(scope="module")
def digest_runs(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> DigestRuns:
    """``cap mail digest`` run twice on the same day, once for the tests that read it."""
    tmp = tmp_path_factory.mktemp("digest")
    shutil.copy(sqlite_template, tmp / "cap.db")
    url = f"sqlite:///{tmp / 'cap.db'}"
    with workflow_for(url) as wf:
        world = make_world(wf)
        overdue = notified(world)
        not_due = notified(world, title="Unpaid overtime", at=datetime(2026, 4, 9, 8, tzinfo=UTC))
    cap = Cap(url, tmp)
    before = outbox(url)
    first = cap.run("mail", "digest", "--now", DIGEST_AT)
    after_first = outbox(url)
    second = cap.run("mail", "digest", "--now", LATER_THAT_DAY, "--json")
    return DigestRuns(overdue, not_due, before, first, after_first, second, outbox(url))


def test_mail_digest_queues_one_digest_per_manager_and_day(digest_runs: DigestRuns) -> None:
    runs = digest_runs
    assert runs.first.returncode == 0, runs.first.stderr
    assert [line.split() for line in runs.first.stdout.splitlines()] == [
        ["TO", "FINDINGS"],
        [ANNA, "1"],
    ]
    new = runs.after_first[len(runs.before) :]
    assert runs.after_first[: len(runs.before)] == runs.before
    [digest] = new
    assert (digest.kind, digest.recipient, digest.status, digest.finding) == (
        "daily_digest",
        ANNA,
        "queued",
        None,
    )
    assert runs.overdue in digest.text_body
    assert runs.not_due not in digest.text_body

    assert runs.second.returncode == 0, runs.second.stderr
    assert "Traceback" not in runs.second.stderr
    assert runs.after_second == runs.after_first, "a second run the same day queues nothing"


def test_mail_digest_second_run_reports_nothing_queued(digest_runs: DigestRuns) -> None:
    assert digest_runs.second.returncode == 0, digest_runs.second.stderr
    assert json.loads(digest_runs.second.stdout) == []
