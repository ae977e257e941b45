"""`cap demo` opens on the desk: a user for each role, logins printed, a fresh set each run."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlmodel import col

from cap.clock import utcnow
from cap.config import Settings
from cap.domain.model import StaffRole
from cap.store.models import OutboxMessage
from cap.workflow import Workflow
from tests.cli_runner import CAP, workflow_for

pytestmark = pytest.mark.slow  # cap demo as a process

Login = tuple[str, str, str]  # role, email, password
_TOKEN = re.compile(r'<input type="hidden" name="csrftoken" value="([^"]+)">')


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}


def _logins(stdout: str) -> list[Login]:
    """The rows of the table under ``ROLE  EMAIL  PASSWORD``."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == ["ROLE", "EMAIL", "PASSWORD"])
    rows = []
    for line in lines[start + 1 :]:
        cells = line.split()
        if not line.startswith("  ") or len(cells) != 3:
            break
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def _signs_in(url: str, email: str, password: str) -> bool:
    with workflow_for(url) as workflow:
        return workflow.authenticate(email, password, "203.0.113.9", utcnow()).user is not None


def test_each_run_prints_new_logins_that_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runs: list[list[Login]] = []
    for _ in range(2):
        started = time.monotonic()
        done = subprocess.run(
            [CAP, "demo", "--no-serve", "--db", "demo.db"],
            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 30, "cap demo should stay quick"
        summary, heading = done.stdout.splitlines()[:2]
        assert summary.startswith("demo database demo.db: 5 suppliers, 6 contracts")
        assert "desk users" in heading and f"CAP_DATABASE_URL={url}" in heading
        assert "CAP_SECRET_KEY=" in heading  # cap serve refuses to start without one
        runs.append(_logins(done.stdout))
    _links_open_with_the_printed_key(url, heading)

    first, second = runs
    assert [role for role, _, _ in second] == [
        "admin", "contract_manager", "sustainability_manager", "sustainability_manager", "viewer"
    ]  # fmt: skip
    assert [email for _, email, _ in first] == [email for _, email, _ in second]
    with workflow_for(url) as workflow:
        users = {u.email: u.role for u in workflow.list_users()}
        managers = {c.manager for c in workflow.list_contracts()}
    assert users == {email: StaffRole(role) for role, email, _ in second}
    (manager,) = [email for role, email, _ in second if role == "contract_manager"]
    assert manager in managers
    # The database was made again: the first run's passwords are gone, the second's work.
    for (_, email, old), (_, _, new) in zip(first, second, strict=True):
        assert old != new
        assert not _signs_in(url, email, old)
        assert _signs_in(url, email, new)


def _links_open_with_the_printed_key(url: str, heading: str) -> None:
    """The suppliers' emails the demo queued carry links to the desk the heading serves,
    signed with the key it prints."""
    key = re.search(r"CAP_SECRET_KEY=(\S+)", heading)
    base = re.search(r"CAP_BASE_URL=(\S+)", heading)
    assert key and base and base.group(1) == "http://127.0.0.1:8000"
    with workflow_for(url) as workflow:
        with workflow.db.read() as session:
            to, body = session.execute(
                select(col(OutboxMessage.recipient), col(OutboxMessage.text_body))
                .where(col(OutboxMessage.recipient_role) == "supplier")
                .order_by(col(OutboxMessage.id).desc())
            ).first() or ("", "")
        token = re.search(re.escape(base.group(1)) + r"/s/(\S+)", body)
        assert token, body
        signed = Settings(database_url=url, secret_key=SecretStr(key.group(1)))
        opened = Workflow(db=workflow.db, settings=signed).open_link(token.group(1), now=utcnow())
        assert opened.address == to


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_served_demo_prints_the_desk_and_a_login_that_opens_it(tmp_path: Path) -> None:
    port = _free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [CAP, "demo", "--db", "demo.db", "--port", str(port)],
            cwd=tmp_path, env=_env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while "cap serving on" not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        output = log_path.read_text()
        assert f"the desk: {base}/login; sign in as" in output.splitlines()[1]
        role, email, password = _logins(output)[1]
        assert role == "contract_manager"
        with httpx.Client(base_url=base, timeout=10) as browser:
            deadline = time.monotonic() + 30
            while True:  # uvicorn listens a moment after the line is printed
                try:
                    login = browser.get("/login")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.1)
            token = _TOKEN.search(login.text)
            assert token, login.text
            form = {"csrftoken": token.group(1), "email": email, "password": password}
            signed_in = browser.post("/login", data=form)
            assert signed_in.status_code == 303, signed_in.text
            assert signed_in.headers["location"] == "/desk"
            desk = browser.get("/desk")
            assert desk.status_code == 200
            assert email in desk.text or "Anna Lind" in desk.text
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0, log_path.read_text()
