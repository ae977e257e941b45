"""The desk in a real browser: `cap serve` in its own process on a SQLite database with a
supplier, a contract and one user per role, driven by Playwright in Debian's chromium.

Every page visited through :func:`check_page` is checked with axe-core (no violation of impact
serious or critical), for errors the Content-Security-Policy reports, and the main pages are
saved as screenshots in ``build/screenshots/`` (or $CAP_SCREENSHOTS), the test artifacts the
README names; ``CAP_SCREENSHOTS=docs/screenshots`` refreshes the copies the README shows.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from cap.config import Settings
from cap.domain.model import Language, StaffRole
from cap.store.db import Database
from cap.workflow import Workflow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

#: Where the screenshots go (git ignores build/; docs/screenshots holds the README's copies).
SCREENSHOTS = Path(
    os.environ.get("CAP_SCREENSHOTS") or Path(__file__).parents[2] / "build" / "screenshots"
)
SECRET = "test-only-secret-key-of-forty-characters"
PASSWORD = "correct horse battery"
ORG = "556000-1234"
CONTRACT = "RS-2019-ICT-01"


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: StaffRole


ANNA = Person("anna.manager@region.example", "Anna Berg", StaffRole.CONTRACT_MANAGER)
BO = Person("bo.viewer@region.example", "Bo Lind", StaffRole.VIEWER)
SARA = Person("sara.hallbar@region.example", "Sara Holm", StaffRole.SUSTAINABILITY_MANAGER)
ADA = Person("ada.admin@region.example", "Ada Admin", StaffRole.ADMIN)
PEOPLE = (ANNA, BO, SARA, ADA)


@dataclass
class Served:
    """A running `cap serve`: its URL, database and environment (for `cap` commands)."""

    url: str
    database_url: str
    env: dict[str, str]
    notes: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _seed(url: str, mail_dir: Path) -> None:
    from cap.domain.inputs import ContractInput, FindingInput, SupplierInput
    from cap.domain.lifecycle import ActionRequest
    from cap.domain.model import Action, Area, Severity, Source

    settings = Settings(database_url=url, mail_dir=mail_dir)
    db = Database(url)
    db.upgrade()
    workflow = Workflow(db=db, settings=settings)
    # The web verifies with the parameters of the stored hash: cheap ones keep the tests fast.
    workflow.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    now = datetime.now(UTC)
    for person in PEOPLE:
        workflow.add_user(person.email, person.role, PASSWORD, name=person.name, now=now)
    workflow.add_supplier(
        SupplierInput(name="Nordic IT Supply AB", org_number=ORG, country="SE",
                      email="li.wei@nordic-it.example", contact_name="Li Wei",
                      language=Language.EN),
        now=now,
    )  # fmt: skip
    workflow.add_contract(
        ContractInput(reference=CONTRACT, supplier=ORG, category="Personal computers",
                      manager=ANNA.email, start=datetime(2024, 5, 1).date()),
        now=now,
    )  # fmt: skip
    ref = workflow.log_finding(
        FindingInput(contract=CONTRACT, severity=Severity.CRITICAL, area=Area.HEALTH_AND_SAFETY,
                     source=Source.FACTORY_AUDIT, title="Fire exits chained shut",
                     description="Two of three exits of hall B chained on the night shift.",
                     site="Plant 2, Shenzhen", site_country="CN",
                     found_on=now.date() - timedelta(days=3)),
        actor=ANNA.email, now=now,
    )  # fmt: skip
    workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA.email, now), now=now)
    db.engine.dispose()


@contextmanager
def serving(home: Path, **settings: str) -> Iterator[Served]:
    """`cap serve` over a seeded SQLite database in ``home``, with the CAP_* ``settings``
    given beside the database, mail folder, secret key and base URL."""
    if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    url = f"sqlite:///{home / 'cap.db'}"
    _seed(url, home / "mail")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAP_")},
        "CAP_DATABASE_URL": url,
        "CAP_MAIL_DIR": str(home / "mail"),
        "CAP_SECRET_KEY": SECRET,
        "CAP_BASE_URL": f"http://127.0.0.1:{port}",
        **settings,
    }
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen(
        ["cap", "serve", "--port", str(port), "--sweep-every", "2", "--deliver-every", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/login", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:  # pragma: no cover
        process.kill()
        pytest.fail(f"cap serve did not start: {(home / 'serve.log').read_text()}")
    try:
        yield Served(base, url, env)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("desk")) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


class Tab:
    """One person's browser tab: a page with its console watched for CSP errors."""

    def __init__(self, browser: Any, served: Served, *, width: int = 1280,
                 locale: str = "en-GB") -> None:  # fmt: skip
        self.served = served
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale=locale, base_url=served.url
        )
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))
        self.dialogs: list[str] = []  # an alert() would be injected script running
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def goto(self, path: str) -> Any:
        return self.page.goto(f"{self.served.url}{path}")

    def sign_in(self, person: Person) -> None:
        self.goto("/login")
        self.page.locator("#email").fill(person.email)  # by id: the page may be in Swedish
        self.page.locator("#password").fill(PASSWORD)
        self.page.locator("main form button[type=submit]").click()
        self.page.wait_for_url("**/desk")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(chromium: Any, served: Served) -> Iterator[Tab]:
    opened = Tab(chromium, served)
    yield opened
    opened.close()


SERIOUS = {"serious", "critical"}


def check_page(tab: Tab, name: str | None = None) -> None:
    """The page has no serious or critical axe violation and no CSP error; with ``name`` it
    is saved as ``docs/screenshots/<name>.png``."""
    results = axe_playwright.Axe().run(tab.page)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert violations == [], f"{tab.page.url}: {violations}"
    csp = [m for m in tab.console if "Content Security Policy" in m]
    assert csp == [], f"{tab.page.url}: {csp}"
    assert tab.dialogs == []
    if name is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def fits_width(tab: Tab) -> bool:
    """Nothing makes the page scroll sideways (tables scroll in their own box)."""
    width: int = tab.page.evaluate("document.documentElement.scrollWidth")
    viewport: int = tab.page.evaluate("window.innerWidth")
    return width <= viewport
