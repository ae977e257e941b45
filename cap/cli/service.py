"""Running the service: the worker, the health check."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from cap.cli.base import JsonOption, app, open_workflow, settings_from_env
from cap.clock import utcnow


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
    from cap.worker import Worker, check_health, configure_logging

    settings = settings_from_env()
    sweep = sweep_every or settings.sweep_every
    deliver = deliver_every or settings.deliver_every
    if check:
        workflow = open_workflow()
        limit = timedelta(seconds=max_age or 3 * max(sweep, deliver) + 30)
        health = check_health(workflow.db, now=utcnow(), max_age=limit)
        if as_json:
            typer.echo(json.dumps({"healthy": health.healthy, "message": health.message,
                                   "workers": health.workers}, indent=2))  # fmt: skip
        else:
            typer.echo(("healthy: " if health.healthy else "unhealthy: ") + health.message)
        raise typer.Exit(0 if health.healthy else 1)
    open_workflow().settings.rule_set  # noqa: B018 - refuse to start on broken rules
    configure_logging(log_level)
    Worker(settings, sweep_every=sweep, deliver_every=deliver).run()


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    sweep_every: Annotated[float | None, typer.Option(help="Seconds between sweeps.")] = None,
    deliver_every: Annotated[float | None, typer.Option(help="Seconds between deliveries.")] = None,
) -> None:
    """The web application and the worker in one process: the embedded default."""
    import uvicorn

    from cap.web.app import create_app
    from cap.worker import Worker, configure_logging

    settings = settings_from_env()
    open_workflow().settings.rule_set  # noqa: B018 - refuse to start on broken rules
    configure_logging()
    worker = Worker(
        settings,
        sweep_every=sweep_every or settings.sweep_every,
        deliver_every=deliver_every or settings.deliver_every,
    )
    worker.start_background()
    typer.echo(f"cap serving on http://{host}:{port} (Ctrl-C to stop)")
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    finally:
        worker.stop()
