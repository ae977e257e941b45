"""Email: the outbox, delivery passes, previews of the templates, the daily digest."""

from __future__ import annotations

import html
import sys
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cap.cli.base import (
    JsonOption,
    app,
    command_moment,
    database_now,
    echo_json,
    local_time,
    open_workflow,
    parse_instant,
    settings_from_env,
    table,
    within_calendar,
)
from cap.domain.model import REPORT_EMAIL_KINDS, Language, OutboxStatus
from cap.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from cap.workflow import EmailPreview

outbox_app = typer.Typer(help="Emails waiting, sent or failed.", no_args_is_help=True)
mail_app = typer.Typer(help="Email templates and the daily digest.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(mail_app, name="mail")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[OutboxStatus | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """List messages in the outbox, newest first."""
    workflow = open_workflow()
    rows = workflow.list_outbox(status, limit=limit)
    if as_json:
        echo_json(rows)
        return
    tz = workflow.settings.calendar.tz
    table(
        [
            {
                "id": m.id,
                "status": m.status,
                "finding": m.finding or (f"report {m.obligation}" if m.obligation else None),
                "kind": m.kind,
                "recipient": m.recipient,
                "attempts": m.attempts,
                "sent": local_time(m.sent_at, tz),
                # Only a message still waiting has a next try; a sent or failed one has none.
                "next": (
                    local_time(m.next_attempt_at, tz)
                    if m.status in (OutboxStatus.QUEUED, OutboxStatus.SENDING)
                    else None
                ),
                "last_error": m.last_error,
            }
            for m in rows
        ],
        [("id", "ID"), ("status", "STATUS"), ("finding", "ABOUT"), ("kind", "KIND"),
         ("recipient", "TO"), ("attempts", "TRIES"), ("sent", "SENT (LOCAL)"),
         ("next", "NEXT TRY (LOCAL)"), ("last_error", "LAST ERROR")],
    )  # fmt: skip


@outbox_app.command("send")
def outbox_send(as_json: JsonOption = False) -> None:
    """Run one delivery pass: send everything due (SMTP if CAP_SMTP_HOST is set, else .eml
    files in CAP_MAIL_DIR)."""
    import asyncio

    from cap.notify.delivery import Delivery
    from cap.store.simulation import clock_of

    workflow = open_workflow()
    delivery = Delivery(workflow.db, workflow.settings)
    clock = clock_of(workflow.db)
    due = delivery.count_due(clock())
    label = f"sending {due} message(s)"
    with typer.progressbar(length=due, label=label, file=sys.stderr) as bar:
        report = asyncio.run(delivery.run_pass(clock, progress=bar.update))
    if as_json:
        echo_json({**report.as_dict(), "errors": report.errors})
        return
    where = (
        f"SMTP {workflow.settings.smtp_host}"
        if workflow.settings.smtp_host
        else f"the folder {workflow.settings.mail_dir}"
    )
    typer.echo(
        f"sent {report.sent} to {where}; {report.retrying} will be retried, {report.failed} "
        f"failed ({report.seconds:.2f}s)"
    )
    for error in report.errors:
        typer.echo(f"  {error}", err=True)
    if report.failed:
        raise typer.Exit(1)


@outbox_app.command("retry")
def outbox_retry(
    message_id: Annotated[int, typer.Argument(help="The message (see `cap outbox list`).")],
) -> None:
    """Queue a failed message again, due now."""
    workflow = open_workflow()
    view = workflow.retry_message(message_id, now=database_now(workflow))
    typer.echo(f"message {view.id} to {view.recipient} is queued again")


def _language(value: str) -> str:
    if value not in {lang.value for lang in Language}:
        raise InvalidInput(f"lang: {value!r} is not supported; use sv or en")
    return value


def _kind(value: str) -> str:
    from cap.notify.render import KINDS

    if value not in KINDS:
        raise NotFound(f"kind: no email template {value!r}; the kinds are {', '.join(KINDS)}")
    return value


@mail_app.command("preview")
def mail_preview(
    kind: Annotated[str, typer.Argument(help="The email kind, e.g. cap_requested.")],
    lang: Annotated[str, typer.Option(help="sv or en.")] = "sv",
    finding: Annotated[
        str | None, typer.Option(help="Render for this finding instead of sample data.")
    ] = None,
    as_html: Annotated[bool, typer.Option("--html", help="Print the HTML part.")] = False,
) -> None:
    """Print one email as its reader would get it: subject, then the text (or HTML) part.

    With --finding: the latest such email queued for the finding (a first line says to whom
    and when), else the one the rules would send, rendered as sending renders it. The report_*
    kinds are about a contract's reporting obligation, not a finding: sample data only."""
    from cap.notify.outbox import RenderedEmail, renderer_for
    from cap.notify.samples import sample_context

    kind, lang = _kind(kind), _language(lang)
    if finding and kind in REPORT_EMAIL_KINDS:
        raise InvalidInput(
            f"finding: a {kind} email is about a contract's reporting obligation, not a "
            "finding; preview it without --finding for sample data"
        )
    if finding:
        workflow = open_workflow()
        preview = workflow.preview_email(kind, lang, finding, now=database_now(workflow))
        typer.echo(_origin(preview, lang, workflow.settings.calendar.tz))
        rendered = RenderedEmail(preview.subject, preview.text, preview.html)
    else:
        renderer = renderer_for(settings_from_env().templates_dir)
        rendered = renderer.render(kind, lang, sample_context(kind, lang))
    typer.echo(f"Subject: {rendered.subject}\n")
    typer.echo(rendered.html if as_html else rendered.text)


def _origin(preview: EmailPreview, asked: str, tz: tzinfo) -> str:
    """Whose email a finding's preview is, and whether it went out."""
    who = f"{preview.role} {preview.recipient}"
    if preview.queued_at is None:
        line, language = f"(not sent yet: rendered for {who}", "the reader's language"
    else:
        line, language = f"(queued {local_time(preview.queued_at, tz)} for {who}", "as sent"
    if preview.language != asked:
        line += f"; in {preview.language}, {language}: none in {asked}"
    return line + ")"


@mail_app.command("render-all")
def mail_render_all(
    folder: Annotated[Path, typer.Argument(help="Where to write the rendered emails.")],
) -> None:
    """Render every template in both languages with sample data, for review in a browser."""
    from cap.notify.kinds import KINDS
    from cap.notify.outbox import renderer_for
    from cap.notify.samples import sample_context

    renderer = renderer_for(settings_from_env().templates_dir)
    links = []
    try:
        for lang in (Language.SV.value, Language.EN.value):
            (folder / lang).mkdir(parents=True, exist_ok=True)
            for kind in KINDS:
                rendered = renderer.render(kind, lang, sample_context(kind, lang))
                (folder / lang / f"{kind}.html").write_text(rendered.html, encoding="utf-8")
                (folder / lang / f"{kind}.txt").write_text(
                    f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8"
                )
                links.append(
                    f'<li>{lang}: <a href="{lang}/{kind}.html">{kind}</a> '
                    f'(<a href="{lang}/{kind}.txt">text</a>) - {html.escape(rendered.subject)}</li>'
                )
        index = folder / "index.html"
        index.write_text(
            '<!DOCTYPE html><meta charset="utf-8"><title>cap emails</title><ul>'
            + "\n".join(links)
            + "</ul>",
            encoding="utf-8",
        )
    except OSError as exc:
        raise InvalidInput(f"folder: cannot write to {folder} ({exc.strerror})") from None
    typer.echo(f"wrote {len(links)} emails; open {index}")


@mail_app.command("digest")
def mail_digest(
    now: Annotated[str | None, typer.Option(help="The moment, ISO 8601 (default: now).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Queue today's digest for each contract manager with findings overdue or due soon
    (once a day per manager, however often it runs)."""
    asked = within_calendar(parse_instant(now, "now"), "now")
    workflow = open_workflow()
    ahead = (
        "a digest goes out once a local day, so one queued ahead would take the place of "
        "that day's real digest"
    )
    at = command_moment(workflow, asked, "now", why_not_ahead=ahead)
    queued = workflow.queue_digests(now=at)
    if as_json:
        echo_json(queued)
        return
    table(queued, [("to", "TO"), ("findings", "FINDINGS")])
