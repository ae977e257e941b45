"""Running the service: the worker, the health check."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cap.cli.base import JsonOption, app, open_workflow, settings_from_env, warn
from cap.clock import SimulatedClock, utcnow
from cap.errors import InvalidInput

if TYPE_CHECKING:
    from cap.config import Settings


@app.command("worker")
def worker(
    sweep_every: Annotated[
        float | None, typer.Option(help="Seconds between sweeps (CAP_SWEEP_EVERY, 300).")
    ] = None,
    deliver_every: Annotated[
        float | None, typer.Option(help="Seconds between deliveries (CAP_DELIVER_EVERY, 10).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 0 if a worker is alive, 1 if not, and stop.")
    ] = False,
    max_age: Annotated[
        float | None,
        typer.Option(help="With --check: the oldest heartbeat still healthy, in seconds."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING.")] = "INFO",
    as_json: JsonOption = False,
) -> None:
    """Run reminders, escalations and email delivery on a timer until stopped (SIGTERM or
    Ctrl-C finish the message in flight). Any number of workers can share a PostgreSQL
    database."""
    from cap.domain.rules import RulesError
    from cap.worker import Worker, check_health, configure_logging
    from cap.workflow import unaddressed_roles

    settings = settings_from_env()
    sweep = sweep_every or settings.sweep_every
    deliver = deliver_every or settings.deliver_every
    if check:
        workflow = open_workflow()
        limit = timedelta(seconds=max_age or 3 * max(sweep, deliver) + 30)
        # Heartbeats are dated by the real clock, even on a simulation: they tell about processes.
        health = check_health(workflow.db, now=utcnow(), max_age=limit)
        # Emails that would reach nobody do not make a worker unhealthy, but must be seen;
        # neither do rules broken since the workers started (they keep theirs).
        try:
            warnings = [str(role) for role in unaddressed_roles(workflow.settings)]
        except RulesError as exc:
            warnings = [f"{exc} (a worker started now would refuse to run)"]
        if as_json:
            typer.echo(json.dumps({"healthy": health.healthy, "message": health.message,
                                   "workers": health.workers, "warnings": warnings},
                                  indent=2))  # fmt: skip
        else:
            typer.echo(("healthy: " if health.healthy else "unhealthy: ") + health.message)
        warn(warnings)
        raise typer.Exit(0 if health.healthy else 1)
    from cap.store.simulation import clock_of

    workflow = open_workflow()
    workflow.settings.rule_set  # noqa: B018 - refuse to start on broken rules
    configure_logging(log_level)
    Worker(settings, sweep_every=sweep, deliver_every=deliver, clock=clock_of(workflow.db)).run()


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    sweep_every: Annotated[float | None, typer.Option(help="Seconds between sweeps.")] = None,
    deliver_every: Annotated[float | None, typer.Option(help="Seconds between deliveries.")] = None,
    web_processes: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Web processes answering on the port (one per CPU for many users at once); "
            "the worker runs once beside them.",
        ),
    ] = 1,
) -> None:
    """The web application and the worker in one process: the embedded default. The desk is
    at http://HOST:PORT/login (add its people with `cap user add`)."""
    from cap.store.simulation import clock_of

    settings = settings_from_env()
    if settings.secret_key is None:
        raise InvalidInput(
            "CAP_SECRET_KEY: not set; cap serve signs sessions and links with it. Make one with "
            "`cap init --secret-file cap.env`, then `set -a; . ./cap.env; set +a`"
        )
    workflow = open_workflow()
    workflow.settings.rule_set  # noqa: B018 - refuse to start on broken rules
    _serve(settings, host, port, clock=clock_of(workflow.db), sweep_every=sweep_every,
           deliver_every=deliver_every, web_processes=web_processes)  # fmt: skip


def _serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    clock: Callable[[], datetime],
    sweep_every: float | None = None,
    deliver_every: float | None = None,
    web_processes: int = 1,
) -> None:
    from cap.web.serving import listener, serve
    from cap.worker import Worker, configure_logging

    # The port first: a port in use is refused before the worker sweeps anything.
    sock = listener(host, port)
    configure_logging()
    worker = Worker(
        settings,
        sweep_every=sweep_every or settings.sweep_every,
        deliver_every=deliver_every or settings.deliver_every,
        clock=clock,
    )
    worker.start_background()
    # Uvicorn stops on SIGTERM/SIGINT, then raises the signal again for the previous handler:
    # ours lets the process go on to stop the worker cleanly (the message in flight finishes).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    url = base_url(host, port)
    typer.echo(f"cap serving on {url} (Ctrl-C to stop); the desk: {url}/login")
    try:
        serve(settings, host, port, processes=web_processes, sock=sock)
    finally:
        worker.stop()


def base_url(host: str, port: int) -> str:
    """The address a browser opens for ``host`` and ``port`` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@app.command("demo")
def demo(
    db: Annotated[Path, typer.Option(help="The demo database (replaced).")] = Path("cap-demo.db"),
    mail_dir: Annotated[Path, typer.Option(help="Where the demo's emails go.")] = Path("demo-mail"),
    speed: Annotated[
        float,
        typer.Option(help="Simulated days per real second (0: real time); try 1 or 2."),
    ] = 1.0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve after filling the database.")
    ] = True,
) -> None:
    """A fresh SQLite database with a believable data set (suppliers, contracts, findings in
    every state) and a desk user for each role (new random passwords, printed), then `cap
    serve` with mail to a local folder and a fast clock, so reminders and escalations appear
    within minutes. It never touches CAP_DATABASE_URL's database."""
    import os
    import secrets

    from cap.cli.base import table
    from cap.demo import add_users, seed
    from cap.demo.parties import BO, CECILIA
    from cap.store.db import Database
    from cap.store.simulation import record_simulation

    if speed < 0:
        raise InvalidInput("speed: must be 0 (real time) or more simulated days per second")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    # An earlier demo's emails belong to the database just replaced. Only .eml files go: the
    # folder may have been pointed at one that holds other things.
    for old in mail_dir.glob("*.eml"):
        old.unlink(missing_ok=True)
    url = f"sqlite:///{db.resolve()}"
    os.environ["CAP_DATABASE_URL"] = url
    os.environ["CAP_MAIL_DIR"] = str(mail_dir.resolve())
    os.environ.pop("CAP_SMTP_HOST", None)  # the demo's addresses are fictitious: keep mail local
    # The demo's database is thrown away with it, and so is the key that signs its links.
    os.environ.setdefault("CAP_SECRET_KEY", secrets.token_urlsafe(48))
    # The links in the demo's emails open the pages of the desk it serves.
    os.environ.setdefault("CAP_BASE_URL", base_url(host, port))
    os.environ.setdefault("CAP_DECISION_MAKERS", CECILIA)
    os.environ.setdefault("CAP_SUSTAINABILITY_MANAGER", BO)
    settings = settings_from_env()
    Database(url).upgrade()
    workflow = open_workflow()
    # The data set is dated from now, then runs at `speed`: the database carries its clock so
    # that `cap` in another terminal sees the time the demo's worker sees.
    clock = SimulatedClock(started=utcnow(), days_per_second=speed)
    record_simulation(workflow.db, clock)
    summary = seed(workflow, now=clock.started)
    logins = add_users(workflow, now=clock.started)
    states = ", ".join(f"{n} {state}" for state, n in sorted(summary.findings.items()))
    typer.echo(f"demo database {db}: {summary.suppliers} suppliers, {summary.contracts} "
               f"contracts, findings: {states}")  # fmt: skip
    if serve_after:
        typer.echo(f"the desk: {base_url(host, port)}/login; sign in as (new passwords each run):")
    else:
        # The demo's emails carry links signed with its key: the desk must serve them with it.
        key = f"CAP_SECRET_KEY={os.environ['CAP_SECRET_KEY']}"
        typer.echo(f"desk users (new passwords each run; serve the desk with "
                   f"CAP_DATABASE_URL={url} {key} CAP_BASE_URL={base_url(host, port)} "
                   "cap serve):")  # fmt: skip
    table(logins, [("role", "ROLE"), ("email", "EMAIL"), ("password", "PASSWORD")], indent="  ")
    if not serve_after:
        return
    typer.echo(
        f"emails go to {mail_dir}/; the clock runs {speed:g} day(s) per second. In another "
        f"terminal: CAP_DATABASE_URL={url} cap finding list"
    )
    _serve(settings, host, port, clock=clock, sweep_every=1.0 if speed else None,
           deliver_every=1.0)  # fmt: skip
