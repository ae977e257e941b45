"""`cap serve --web-processes 2`: two web processes answer on one port, over one database,
beside one worker; a session signed in by one is honoured by the other."""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from cap.clock import utcnow
from cap.domain.model import StaffRole
from tests.cli_runner import workflow_for
from tests.test_web_status import _free_port

pytestmark = pytest.mark.slow  # processes

SECRET = "test-only-secret-key-of-forty-characters"


def test_two_web_processes_share_the_port_and_the_sessions(sqlite_url: str, tmp_path: Path) -> None:
    with workflow_for(sqlite_url) as workflow:
        workflow.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        workflow.add_user("anna@region.example", StaffRole.CONTRACT_MANAGER,
                          "correct horse battery", now=utcnow())  # fmt: skip
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAP_")},
        "CAP_DATABASE_URL": sqlite_url,
        "CAP_MAIL_DIR": str(tmp_path / "mail"),
        "CAP_SECRET_KEY": SECRET,
        "CAP_BASE_URL": url,
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        ["cap", "serve", "--port", str(port), "--web-processes", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/login", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "serve.log"
                ).read_text()
                time.sleep(0.2)
        with httpx.Client(base_url=url) as browser:
            form = browser.get("/login").text
            match = re.search(r'name="csrftoken" value="([^"]+)"', form)
            assert match
            signed = browser.post("/login", data={"csrftoken": match.group(1),
                                                  "email": "anna@region.example",
                                                  "password": "correct horse battery"})  # fmt: skip
            assert signed.status_code == 303
            # New connections each time: the kernel spreads them over both processes.
            for _ in range(10):
                with httpx.Client(base_url=url, cookies=browser.cookies) as again:
                    assert again.get("/desk").status_code == 200
            # One kept-alive connection: no answer waits ~40 ms for a delayed acknowledgement
            # (uvicorn's own socket for several processes leaves Nagle on: cap.web.serving).
            took = []
            for _ in range(15):
                began = time.perf_counter()
                assert browser.get("/health").status_code in (200, 503)
                took.append(time.perf_counter() - began)
            assert statistics.median(took) < 0.030, took
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
