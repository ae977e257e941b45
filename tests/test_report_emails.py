"""The emails about a contract's reporting obligation (report_reminder, report_overdue,
report_escalated): each kind in both languages for each role the rules send it to, with
``finding`` None and the obligation in ``obligation``."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from jinja2 import UndefinedError

from cap.domain.model import REPORT_EMAIL_KINDS, ObligationKind, ObligationState
from cap.notify.render import RenderedEmail, Renderer
from cap.notify.samples import sample_context
from tests.cli_runner import Cap

LANGUAGES = ("sv", "en")
CONTRACT = "RS-2024-0815"
DASH = "\N{EN DASH}"
LINK = "https://cap.region-stockholm.example/obligations/7"
HOSTILE = "Årlig <script>alert(1)</script> & CMRT"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

#: The people of the sample: Anna at the supplier, and the buyer's staff.
ANNA = {"name": "Anna Lindqvist", "email": "anna@nordic-it-supply.example", "role": "supplier"}
ERIK = {"name": "Erik Johansson", "email": "erik@region.example", "role": "contract_manager"}
MARIA = {"name": "Maria Berg", "email": "maria@region.example", "role": "sustainability_manager"}
BOARD = {"name": None, "email": "sanktionsgruppen@region.example", "role": "decision_makers"}

#: Who each kind goes to under the shipped rules.
AUDIENCE: dict[str, tuple[dict[str, Any], ...]] = {
    "report_reminder": (ANNA,),
    "report_overdue": (ANNA, ERIK, MARIA),
    "report_escalated": (BOARD, MARIA),
}
CASES = [
    (kind, person, language)
    for kind, people in AUDIENCE.items()
    for person in people
    for language in LANGUAGES
]
IDS = [f"{kind}-{person['role']}-{language}" for kind, person, language in CASES]

#: Per language: the due date in words, the report's name, and how the supplier sends it.
WORDS = {
    "sv": ("2 mars 2026", "rapport om sociala risker", "svara på det här meddelandet"),
    "en": ("2 March 2026", "social-risk report", "reply to this message"),
}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def context_for(kind: str, person: dict[str, Any], language: str, **changes: Any) -> dict[str, Any]:
    """The sample context of ``kind`` sent to ``person`` (the desk link for staff, none for the
    supplier), with top-level keys or ``obligation_*`` fields replaced."""
    context = sample_context(kind, language)
    context["recipient"] = dict(person)
    context["link"] = None if person["role"] == "supplier" else LINK
    for key, value in changes.items():
        if key.startswith("obligation_"):
            context["obligation"][key.removeprefix("obligation_")] = value
        else:
            context[key] = value
    return context


def visible(html: str) -> str:
    """The words of an HTML part, tags left out."""
    return re.sub(r"<[^>]+>", "", html)


def render(
    renderer: Renderer, kind: str, person: dict[str, Any], language: str, **changes: Any
) -> RenderedEmail:
    return renderer.render(kind, language, context_for(kind, person, language, **changes))


def test_the_samples_are_about_an_obligation_not_a_finding() -> None:
    for kind in REPORT_EMAIL_KINDS:
        for language in LANGUAGES:
            context = sample_context(kind, language)
            assert context["finding"] is None
            assert context["obligation"]["kind"] == ObligationKind.SOCIAL_RISK_REPORT
            assert context["obligation"]["due"] == date(2026, 3, 2)
            assert (context["link"] is None) == (context["recipient"]["role"] == "supplier")
    assert sample_context("plan_reminder", "sv")["obligation"] is None


@pytest.mark.parametrize(("kind", "person", "language"), CASES, ids=IDS)
def test_it_renders_each_kind_for_each_reader(
    renderer: Renderer, kind: str, person: dict[str, Any], language: str
) -> None:
    email = render(renderer, kind, person, language)
    due, name, reply = WORDS[language]

    assert email.subject.startswith(f"{CONTRACT}: ")
    assert not CONTROL.search(email.subject)
    assert name in email.subject.lower()
    for part in (email.text, email.html):
        assert due in part
        assert CONTRACT in part
        assert name in part
        assert "Nordic IT Supply AB" in part
        assert "None" not in part
    assert "None" not in email.subject
    assert email.html.startswith("<!DOCTYPE html>") and f'<html lang="{language}">' in email.html
    assert email.text.endswith("\n") and not email.text.endswith("\n\n")
    if person["role"] == "supplier":
        assert "http" not in email.text
        assert "<a " not in email.html
        assert reply in email.text and reply in email.html.lower()
    else:
        assert LINK in email.text
        assert f'href="{LINK}"' in email.html
        assert reply not in email.text.lower()


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("sv", f"{CONTRACT}: Påminnelse {DASH} rapport om sociala risker ska lämnas in senast"
         " 2 mars 2026",
         "er rapport om sociala risker enligt avtal RS-2024-0815 ska lämnas in senast den"
         " 2 mars 2026, om 14 dagar."),
        ("en", f"{CONTRACT}: Reminder {DASH} social-risk report due by 2 March 2026",
         "your social-risk report under contract RS-2024-0815 is due by 2 March 2026, in 14"
         " days."),
    ],
)  # fmt: skip
def test_it_reminds_the_supplier_of_the_report_and_how_to_send_it(
    renderer: Renderer, language: str, subject: str, line: str
) -> None:
    email = render(renderer, "report_reminder", ANNA, language)

    assert email.subject == subject
    assert line in email.text and line in visible(email.html)
    assert ("leverantörskedjan" if language == "sv" else "supply chain") in email.text
    assert ("avtalsansvarig" if language == "sv" else "contract manager") in email.text
    assert "åtgärdsplan" not in email.text and "corrective action" not in email.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_words_the_reminder_around_a_missing_deadline_and_count(
    renderer: Renderer, language: str
) -> None:
    today = render(renderer, "report_reminder", ANNA, language, days_left=0)
    untimed = render(renderer, "report_reminder", ANNA, language, deadline=None, days_left=None)

    assert ("det vill säga i dag" if language == "sv" else "that is today") in today.text
    assert WORDS[language][0] in untimed.subject  # obligation.due stands in for the deadline
    assert not re.search(r", (om|in) \d+ (dag|day)", untimed.text + untimed.html)


@pytest.mark.parametrize(
    ("language", "subject", "late", "sanctions"),
    [
        ("sv", f"{CONTRACT}: Rapport om sociala risker är försenad {DASH} sista dag var"
         " 2 mars 2026",
         "och den är nu 1 dag försenad.", "sanktioner enligt avtalet"),
        ("en", f"{CONTRACT}: Social-risk report overdue {DASH} it was due on 2 March 2026",
         "and is now 1 day overdue.", "sanctions under the contract"),
    ],
)  # fmt: skip
def test_it_tells_the_supplier_the_report_is_overdue(
    renderer: Renderer, language: str, subject: str, late: str, sanctions: str
) -> None:
    email = render(renderer, "report_overdue", ANNA, language)

    assert email.subject == subject
    for part in (email.text, email.html):
        assert late in part
        assert sanctions in part
        assert ("omgående" if language == "sv" else "immediately") in part


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("sv", f"{CONTRACT}: Rapport om sociala risker från Nordic IT Supply AB är försenad"
         f" {DASH} sista dag var 2 mars 2026",
         "Nordic IT Supply AB har inte lämnat in sin rapport om sociala risker enligt avtal"
         " RS-2024-0815."),
        ("en", f"{CONTRACT}: Social-risk report from Nordic IT Supply AB overdue {DASH} it was"
         " due on 2 March 2026",
         "Nordic IT Supply AB has not sent its social-risk report under contract"
         " RS-2024-0815."),
    ],
)  # fmt: skip
@pytest.mark.parametrize("person", [ERIK, MARIA], ids=["contract_manager", "sustainability"])
def test_it_tells_the_staff_the_supplier_has_not_sent_the_report(
    renderer: Renderer, person: dict[str, Any], language: str, subject: str, line: str
) -> None:
    email = render(renderer, "report_overdue", person, language)

    assert email.subject == subject
    assert line in email.text and line in visible(email.html)
    assert ("registrera den som mottagen" if language == "sv" else "record it as received") in (
        email.text
    )
    assert ("omgående" if language == "sv" else "immediately") not in email.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_words_the_overdue_email_around_a_missing_count(
    renderer: Renderer, language: str
) -> None:
    for person in (ANNA, ERIK):
        email = render(renderer, "report_overdue", person, language, days_overdue=None)
        assert not re.search(r"\d+ (dag|day)", email.text + email.html + email.subject)
        assert WORDS[language][0] in email.text


@pytest.mark.parametrize(
    ("language", "subject", "asked", "decisions"),
    [
        ("sv", f"{CONTRACT}: Rapport om sociala risker från Nordic IT Supply AB är 30 dagar"
         f" försenad {DASH} beslut om sanktioner behövs",
         "Ni ombeds fatta beslut snarast.",
         ("skriftlig varning", "vite enligt avtalets villkor", "hävning av avtalet")),
        ("en", f"{CONTRACT}: Social-risk report from Nordic IT Supply AB 30 days overdue"
         f" {DASH} decision on sanctions needed",
         "Please take a decision as soon as possible.",
         ("a written warning", "a contractual penalty", "termination of the contract")),
    ],
)  # fmt: skip
def test_it_asks_the_decision_makers_to_decide_on_sanctions(
    renderer: Renderer, language: str, subject: str, asked: str, decisions: tuple[str, ...]
) -> None:
    email = render(renderer, "report_escalated", BOARD, language)

    assert email.subject == subject
    assert email.text.startswith("Hej,\n" if language == "sv" else "Hello,\n")
    for part in (email.text, email.html):
        assert asked in part
        assert ("eskaleringsnivå 3" if language == "sv" else "escalation level 3") in part
        for words in decisions:
            assert words in part
    assert ("Status: eskalerad" if language == "sv" else "State: escalated") in email.text


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("sv", "Som hållbarhetsansvarig ber vi dig att snarast ge beslutsfattarna din bedömning"),
        ("en", "As sustainability manager, please give the decision makers your assessment"),
    ],
)
def test_it_asks_the_sustainability_manager_to_advise_the_decision_makers(
    renderer: Renderer, language: str, line: str
) -> None:
    email = render(renderer, "report_escalated", MARIA, language)

    assert line in email.text and line in email.html
    assert ("Ni ombeds fatta beslut" if language == "sv" else "Please take a decision") not in (
        email.text
    )


@pytest.mark.parametrize(("kind", "person", "language"), CASES, ids=IDS)
def test_it_escapes_the_title_in_html_and_calls_the_report_by_it(
    renderer: Renderer, kind: str, person: dict[str, Any], language: str
) -> None:
    email = render(
        renderer,
        kind,
        person,
        language,
        obligation_kind=ObligationKind.MINERALS_REPORT,
        obligation_title=HOSTILE,
        obligation_supplier_name="Tom & <b>Jerry</b> AB",
    )
    kind_label = "rapport om konfliktmineraler" if language == "sv" else "conflict minerals report"

    assert "<script>" not in email.html and "<b>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; CMRT" in email.html
    assert "Tom &amp; &lt;b&gt;Jerry&lt;/b&gt; AB" in email.html
    assert HOSTILE in email.text and HOSTILE in email.subject
    quoted = f"”{HOSTILE}”" if language == "sv" else f"“{HOSTILE}”"
    assert quoted in email.text
    # The title names the report; its kind is shown beside it in the facts only.
    assert f"{HOSTILE} ({kind_label})" in email.text
    assert kind_label not in email.subject


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (ObligationKind.SELF_ASSESSMENT, {"sv": "självutvärdering", "en": "self-assessment"}),
        (ObligationKind.MINERALS_REPORT,
         {"sv": "rapport om konfliktmineraler", "en": "conflict minerals report"}),
    ],
)  # fmt: skip
def test_it_names_a_report_without_a_title_by_its_kind(
    renderer: Renderer, language: str, kind: ObligationKind, label: dict[str, str]
) -> None:
    email = render(renderer, "report_reminder", ANNA, language, obligation_kind=kind)

    assert label[language] in email.subject
    assert ("er " if language == "sv" else "your ") + label[language] in email.text
    assert "sociala risker" not in email.text and "social-risk" not in email.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_calls_an_other_report_by_its_title_alone(renderer: Renderer, language: str) -> None:
    title = "Uppförandekod, årlig bekräftelse"
    email = render(
        renderer,
        "report_overdue",
        ERIK,
        language,
        obligation_kind=ObligationKind.OTHER,
        obligation_title=title,
    )

    assert email.subject.startswith(f"{CONTRACT}: {title} ")
    assert f"{'Rapport' if language == 'sv' else 'Report'}: {title}\n" in email.text
    assert ("avtalet" if language == "sv" else "contract") in email.text
    assert "(övrigt)" not in email.text and "(other)" not in email.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_shows_the_obligation_in_the_facts(renderer: Renderer, language: str) -> None:
    email = render(renderer, "report_overdue", ERIK, language)
    unstarted = render(renderer, "report_overdue", ERIK, language, obligation_contract_start=None)

    facts = {
        "sv": ["Rapport: rapport om sociala risker", "Leverantör: Nordic IT Supply AB",
               "Avtal: RS-2024-0815", "Avtalsstart: 2 september 2025", "Sista dag: 2 mars 2026",
               "Status: väntas"],
        "en": ["Report: social-risk report", "Supplier: Nordic IT Supply AB",
               "Contract: RS-2024-0815", "Contract start: 2 September 2025",
               "Due: 2 March 2026", "State: due"],
    }[language]  # fmt: skip
    lines = email.text.splitlines()
    assert [line for line in lines if line in facts] == facts
    assert facts[3] not in unstarted.text
    assert facts[4] in unstarted.text
    assert ("Ärende" if language == "sv" else "Reference") + ":" not in email.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_shows_a_suppliers_link_when_one_is_given(renderer: Renderer, language: str) -> None:
    signed = "https://cap.region-stockholm.example/s/obligations/7?sig=abc"
    email = render(renderer, "report_overdue", ANNA, language, link=signed)

    assert signed in email.text and f'href="{signed}"' in email.html
    assert WORDS[language][2] in email.text  # replying is still how the report is sent


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", REPORT_EMAIL_KINDS)
def test_it_needs_the_obligation_and_the_staffs_link(
    renderer: Renderer, kind: str, language: str
) -> None:
    person = AUDIENCE[kind][-1]
    with pytest.raises(UndefinedError):
        render(renderer, kind, person, language, obligation=None)
    if person["role"] != "supplier":
        with pytest.raises(UndefinedError):
            render(renderer, kind, person, language, link=None)
    with pytest.raises(UndefinedError):
        render(renderer, kind, person, language, obligation_due=None, deadline=None)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_labels_obligation_kinds_and_states(renderer: Renderer, language: str) -> None:
    states = {
        "sv": ("väntas", "eskalerad", "mottagen", "avskriven"),
        "en": ("due", "escalated", "received", "waived"),
    }[language]
    for state, label in zip(ObligationState, states, strict=True):
        email = render(renderer, "report_overdue", ERIK, language, obligation_state=state)
        assert f"{'Status' if language == 'sv' else 'State'}: {label}\n" in email.text


def test_it_leaves_the_findings_emails_alone(renderer: Renderer) -> None:
    email = renderer.render("plan_overdue", "en", sample_context("plan_overdue", "en"))

    assert "Open finding NC-2026-0042" in email.html
    assert "About the finding" in email.text and "About the report" not in email.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_mail_preview_shows_a_report_email_from_sample_data(cap: Cap, language: str) -> None:
    out = cap.ok("mail", "preview", "report_reminder", "--lang", language)

    subject = out.splitlines()[0]
    assert subject.startswith(f"Subject: {CONTRACT}: "), subject
    assert WORDS[language][0] in subject
    html = cap.ok("mail", "preview", "report_escalated", "--lang", language, "--html")
    assert f'<html lang="{language}">' in html


def test_mail_preview_of_a_report_email_refuses_a_finding(cap: Cap) -> None:
    line = cap.fails("mail", "preview", "report_overdue", "--finding", "NC-2026-0001", code=2)

    assert line.startswith("error: finding: a report_overdue email is about a contract's"), line
    assert "without --finding" in line
