"""`cap serve` in a real process, its status page in a real headless browser (Chromium)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.slow,  # cap serve as a process, a browser
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def served(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAP_")},
        "CAP_DATABASE_URL": sqlite_url,
        "CAP_MAIL_DIR": str(tmp_path / "mail"),
        "CAP_BUYER_NAME": '<script>window.pwned = 1</script> & "Region"',
        "CAP_SECRET_KEY": "test-only-secret-key-of-forty-characters",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        ["cap", "serve", "--port", str(port), "--sweep-every", "1", "--deliver-every", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:  # pragma: no cover
        process.kill()
        pytest.fail(f"cap serve did not become healthy: {(tmp_path / 'serve.log').read_text()}")
    yield url
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_the_status_page_shows_version_and_health_and_escapes_text(
    served: str, tmp_path: Path
) -> None:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(served)
        assert page.title().startswith("cap ")
        health = page.locator("#health").inner_text()
        assert health.startswith("healthy:"), health
        # The stylesheet is served and allowed by the Content-Security-Policy.
        assert page.locator("#health").evaluate("e => getComputedStyle(e).fontWeight") == "700"
        assert not [m for m in console if "Content Security Policy" in m], console
        body = page.locator("body").inner_text()
        assert '<script>window.pwned = 1</script> & "Region"' in body  # shown as text
        assert page.evaluate("window.pwned") is None  # and never run
        page.screenshot(path=str(tmp_path / "status.png"))
        browser.close()
    assert dialogs == []


def test_signing_in_and_out_in_a_browser(served: str, sqlite_url: str) -> None:
    """The browser's own Origin, Sec-Fetch-Site and cookies pass the checks a forger fails."""
    from argon2 import PasswordHasher

    from cap.clock import utcnow
    from cap.domain.model import StaffRole
    from tests.cli_runner import workflow_for

    with workflow_for(sqlite_url) as workflow:
        workflow.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        workflow.add_user("anna@region.example", StaffRole.ADMIN, "correct horse battery",
                          name="Anna <b>Berg</b>", now=utcnow())  # fmt: skip
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        page = browser.new_page()
        page.goto(f"{served}/desk")
        assert page.url == f"{served}/login?next=%2Fdesk"  # sign in, then back to the desk
        page.get_by_label("Email address").fill("anna@region.example")
        page.get_by_label("Password").fill("not her password")
        page.get_by_role("button", name="Sign in").click()
        assert page.locator("#password-error").inner_text() == "wrong email or password"
        assert page.get_by_label("Email address").input_value() == "anna@region.example"
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Sign in").click()
        assert page.url == f"{served}/desk"
        assert page.locator("#signed-in").inner_text() == "Signed in as Anna <b>Berg</b> (admin)"
        page.get_by_role("button", name="Sign out").click()
        assert page.url == f"{served}/login"
        page.goto(f"{served}/desk")
        assert page.url == f"{served}/login?next=%2Fdesk"
        browser.close()
