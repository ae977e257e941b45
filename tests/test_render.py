"""Email rendering: every kind in both languages, escaping, one-line subjects, strictness."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from cap.domain.model import (
    REPORT_EMAIL_KINDS,
    Area,
    DecisionOutcome,
    Language,
    ObligationKind,
    ObligationState,
    Severity,
    Source,
    State,
)
from cap.errors import InvalidInput, NotFound
from cap.notify.render import (
    KINDS,
    LABELS,
    ROLES,
    SUBJECT_MAX_LENGTH,
    RenderedEmail,
    Renderer,
    default_template_dir,
    format_date,
)
from cap.notify.samples import sample_context

LANGUAGES = ("sv", "en")
EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
SV_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
HOSTILE = "Workers said <script>alert(1)</script> & left\nSecond line"
INJECTION = "Overtime\r\nBcc: evil@example.com"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def render(renderer: Renderer, kind: str, language: str, **changes: Any) -> RenderedEmail:
    """Render the sample context of ``kind`` with top-level keys or finding fields replaced."""
    context = sample_context(kind, language)
    for key, value in changes.items():
        if key.startswith("finding_"):
            context["finding"][key.removeprefix("finding_")] = value
        else:
            context[key] = value
    return renderer.render(kind, language, context)


def refs_of(context: dict[str, Any]) -> list[str]:
    """What the email is about: the finding, the digest's findings, or the obligation's
    contract."""
    if context["finding"] is not None:
        return [context["finding"]["ref"]]
    if context["obligation"] is not None:
        return [context["obligation"]["contract_ref"]]
    return [entry["ref"] for entry in context["findings"]]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_it_renders_every_kind_in_both_languages(
    renderer: Renderer, kind: str, language: str
) -> None:
    context = sample_context(kind, language)
    email = renderer.render(kind, language, context)

    assert email.subject and email.text.strip() and email.html.strip()
    if context["link"] is not None:  # None only for a supplier's report emails: they reply
        assert context["link"] in email.html
        assert context["link"] in email.text
    for ref in refs_of(context):
        assert ref in email.html
        assert ref in email.text
    if context["recipient"]["role"] == "supplier":
        assert refs_of(context)[0] in email.subject
    assert email.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in email.html
    assert "max-width:600px" in email.html
    for forbidden in ("<style", "<script", "<img", "javascript:"):
        assert forbidden not in email.html.lower()
    assert email.text.endswith("\n") and not email.text.endswith("\n\n")
    assert "None" not in email.text


@pytest.mark.parametrize("kind", KINDS)
def test_it_writes_a_swedish_subject_that_differs_from_the_english(
    renderer: Renderer, kind: str
) -> None:
    swedish = renderer.render(kind, "sv", sample_context(kind, "sv"))
    english = renderer.render(kind, "en", sample_context(kind, "en"))

    assert swedish.subject != english.subject
    assert swedish.text != english.text


def test_it_formats_dates_in_the_readers_language() -> None:
    assert format_date(date(2026, 3, 2), "sv") == "2 mars 2026"
    assert format_date(date(2026, 3, 2), "en") == "2 March 2026"
    assert format_date(date(2026, 11, 29), "sv") == "29 november 2026"
    assert format_date(datetime(2026, 11, 29, 23, 30), "en") == "29 November 2026"
    assert format_date(date(2026, 5, 1), Language.SV) == "1 maj 2026"
    assert format_date(None, "sv") == ""


@pytest.mark.parametrize(
    ("month", "swedish", "english"),
    [
        (number, sv, en)
        for number, (sv, en) in enumerate(zip(SV_MONTHS, EN_MONTHS, strict=True), start=1)
    ],
)
def test_it_names_every_month_in_both_languages(month: int, swedish: str, english: str) -> None:
    assert format_date(date(2027, month, 9), "sv") == f"9 {swedish} 2027"
    assert format_date(date(2027, month, 9), "en") == f"9 {english} 2027"


def test_it_refuses_to_format_a_date_in_an_unknown_language_or_a_non_date() -> None:
    with pytest.raises(InvalidInput):
        format_date(date(2026, 3, 2), "de")
    with pytest.raises(TypeError):
        format_date("2026-03-02", "sv")  # type: ignore[arg-type]


def test_it_writes_the_deadline_as_a_date_in_words(renderer: Renderer) -> None:
    swedish = render(renderer, "cap_requested", "sv")
    english = render(renderer, "cap_requested", "en")

    assert "2 mars 2026" in swedish.subject
    assert "senast den 2 mars 2026" in swedish.text
    assert "senast den 3 augusti 2026" in swedish.text  # the remediation due date
    assert "2 mars 2026" in swedish.html
    assert "2 March 2026" in english.subject
    assert "by 2 March 2026" in english.text
    assert "3 August 2026" in english.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_escapes_user_text_in_html_and_keeps_it_verbatim_in_text(
    renderer: Renderer, language: str
) -> None:
    email = render(
        renderer,
        "plan_rejected",
        language,
        finding_description=HOSTILE,
        finding_title="Tom & <b>Jerry</b>",
        reason="Plan <i>missing</i> & late",
    )

    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; left<br>" in email.html
    assert "Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;" in email.html
    assert "Plan &lt;i&gt;missing&lt;/i&gt; &amp; late" in email.html
    assert HOSTILE in email.text
    assert "Tom & <b>Jerry</b>" in email.text
    assert "Plan <i>missing</i> & late" in email.text


def test_it_does_not_html_escape_the_subject(renderer: Renderer) -> None:
    email = render(renderer, "cap_requested", "en", finding_title="Tom & <b>Jerry</b>")

    assert email.subject.endswith(" Tom & <b>Jerry</b>")


@pytest.mark.parametrize("kind", KINDS)
def test_it_keeps_every_subject_on_one_line(renderer: Renderer, kind: str) -> None:
    context = sample_context(kind, "sv")
    if context["finding"] is not None:
        context["finding"].update(
            title=INJECTION, ref="NC-1\r\nX-Evil: 1", supplier_name="Evil\nAB"
        )
    if context["obligation"] is not None:
        context["obligation"].update(
            title=INJECTION, contract_ref="RS-1\r\nX-Evil: 1", supplier_name="Evil\nAB"
        )
    email = renderer.render(kind, "sv", context)

    assert not CONTROL.search(email.subject)
    assert email.subject == email.subject.strip()
    assert "  " not in email.subject


def test_it_folds_a_header_injection_in_the_title_into_the_subject(renderer: Renderer) -> None:
    email = render(renderer, "cap_requested", "en", finding_title=INJECTION)

    assert email.subject.endswith(" Overtime Bcc: evil@example.com")
    assert "\r" not in email.subject and "\n" not in email.subject


def test_it_cuts_a_long_subject_with_an_ellipsis(renderer: Renderer) -> None:
    email = render(renderer, "cap_requested", "sv", finding_title="Övertid " * 60)

    assert SUBJECT_MAX_LENGTH - 10 < len(email.subject) <= SUBJECT_MAX_LENGTH
    assert email.subject.endswith("…")
    assert email.subject.startswith("NC-2026-0042: Begäran om åtgärdsplan senast 2 mars 2026")


def test_it_raises_when_a_variable_is_missing(renderer: Renderer) -> None:
    context = sample_context("plan_reminder", "sv")
    del context["buyer_name"]
    with pytest.raises(UndefinedError):
        renderer.render("plan_reminder", "sv", context)

    context = sample_context("plan_reminder", "en")
    del context["finding"]["title"]
    with pytest.raises(UndefinedError):
        renderer.render("plan_reminder", "en", context)


def test_it_raises_when_a_required_value_is_none(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError):
        render(renderer, "plan_rejected", "sv", reason=None)
    with pytest.raises(UndefinedError):
        render(renderer, "decision_warning", "en", decision=None)
    with pytest.raises(UndefinedError):
        render(renderer, "plan_reminder", "sv", deadline=None, finding_plan_due=None)


def test_it_falls_back_to_the_findings_due_date(renderer: Renderer) -> None:
    email = render(renderer, "remediation_reminder", "sv", deadline=None, days_left=None)

    assert "senast den 3 augusti 2026." in email.text


def test_it_words_around_optional_values(renderer: Renderer) -> None:
    email = render(renderer, "formal_notice", "en", deadline=None, days_overdue=None)

    assert "complete corrective action plan immediately." in email.text
    assert "exceeded" not in email.text


def test_it_rejects_an_unknown_kind(renderer: Renderer) -> None:
    with pytest.raises(NotFound) as raised:
        renderer.render("nope", "sv", sample_context("cap_requested", "sv"))

    assert str(raised.value).startswith(
        "email template 'nope' does not exist; known: cap_requested, plan_reminder,"
    )
    with pytest.raises(NotFound):
        sample_context("_layout", "sv")


def test_it_rejects_an_unknown_language(renderer: Renderer) -> None:
    with pytest.raises(InvalidInput) as raised:
        renderer.render("cap_requested", "de", sample_context("cap_requested", "sv"))

    assert str(raised.value) == "language: 'de' is not supported; use sv or en"
    with pytest.raises(InvalidInput):
        sample_context("cap_requested", "SV")


def test_it_accepts_the_language_enum(renderer: Renderer) -> None:
    email = renderer.render("finding_closed", Language.SV, sample_context("finding_closed", "sv"))

    assert "avslutat" in email.subject


def test_it_accepts_plain_strings_for_enum_values(renderer: Renderer) -> None:
    context = sample_context("escalation_sustainability_manager", "sv")
    plain = sample_context("escalation_sustainability_manager", "sv")
    for key in ("severity", "area", "source", "state"):
        plain["finding"][key] = str(plain["finding"][key].value)

    assert renderer.render("escalation_sustainability_manager", "sv", plain) == (
        renderer.render("escalation_sustainability_manager", "sv", context)
    )


def test_it_uses_a_custom_template_dir_over_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "sv").mkdir()
    (tmp_path / "sv" / "plan_reminder.subject.txt").write_text(
        "Egen mall {{ finding.ref }} {{ deadline|date }}\n", encoding="utf-8"
    )
    (tmp_path / "sv" / "plan_reminder.html").write_text(
        '{% extends "_layout.html" %}{% block content %}<p>Egen & text</p>{% endblock %}',
        encoding="utf-8",
    )
    custom = Renderer(tmp_path)

    email = custom.render("plan_reminder", "sv", sample_context("plan_reminder", "sv"))
    assert email.subject == "Egen mall NC-2026-0042 2 mars 2026"
    assert "<p>Egen & text</p>" in email.html
    assert "Hej Anna Lindqvist," in email.html  # the shipped layout fills in the rest
    assert "Påminnelse" not in email.subject
    assert "påminnelse om att er korrigerande åtgärdsplan" in email.text  # shipped text part
    english = custom.render("plan_reminder", "en", sample_context("plan_reminder", "en"))
    assert english.subject.startswith("NC-2026-0042: Reminder")
    assert custom.template_dirs == (tmp_path, default_template_dir())


def test_it_ships_its_templates_next_to_the_package() -> None:
    shipped = default_template_dir()

    assert shipped == Path(__file__).resolve().parent.parent / "email_templates"
    assert Renderer().template_dirs == (shipped,)


def test_it_defines_the_same_templates_in_both_languages() -> None:
    shipped = default_template_dir()
    files = {
        language: {p.name for p in (shipped / language).iterdir() if p.is_file()}
        for language in LANGUAGES
    }

    assert files["sv"] == files["en"], files["sv"] ^ files["en"]
    expected = {f"{kind}.{part}" for kind in KINDS for part in ("subject.txt", "txt", "html")}
    assert expected <= files["sv"]
    assert all(name.startswith("_") for name in files["sv"] - expected)


def test_it_lists_each_kind_once_in_lifecycle_order() -> None:
    assert len(KINDS) == len(set(KINDS)) == 26
    assert KINDS[0] == "cap_requested" and KINDS[-4] == "daily_digest"
    assert KINDS[-3:] == REPORT_EMAIL_KINDS


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_a_label_for_every_enum_value_and_role(language: str) -> None:
    enums = (Severity, Area, Source, State, DecisionOutcome, ObligationKind, ObligationState)
    values = [m.value for enum in enums for m in enum]

    missing = [v for v in [*values, *ROLES] if v not in LABELS[language]]
    assert not missing
    assert all(label and label != key for key, label in LABELS[language].items() if "_" in key)


def test_it_labels_values_in_swedish(renderer: Renderer) -> None:
    labels = LABELS["sv"]

    assert [labels[s] for s in ("minor", "major", "critical")] == ["mindre", "allvarlig", "kritisk"]
    assert labels["forced_labour"] == "tvångsarbete"
    email = render(renderer, "escalation_sustainability_manager", "sv")
    assert "Område: tvångsarbete" in email.text
    assert "allvarlig" in email.html
    assert "forced_labour" not in email.text + email.html


@pytest.mark.parametrize(("language", "late"), [("sv", "FÖRSENAD"), ("en", "OVERDUE")])
def test_it_lists_digest_findings_overdue_first_then_by_due_date(
    renderer: Renderer, language: str, late: str
) -> None:
    email = render(renderer, "daily_digest", language)

    order = ["NC-2026-0031", "NC-2026-0047", "NC-2026-0050", "NC-2026-0042", "NC-2026-0053"]
    for part in (email.text, email.html):
        positions = [part.index(ref) for ref in order]
        assert positions == sorted(positions)
        assert part.count(late) >= 2
    assert "2 overdue" in email.subject or "varav 2 försenade" in email.subject


def test_it_renders_an_empty_digest(renderer: Renderer) -> None:
    email = render(renderer, "daily_digest", "sv", findings=[])

    assert email.subject == "Daglig sammanställning 4 mars 2026: 0 ärenden"
    assert "Inga avvikelser kräver åtgärd i dag." in email.text


@pytest.mark.parametrize(
    ("language", "kind", "name", "greeting"),
    [
        ("sv", "plan_reminder", "Anna Lindqvist", "Hej Anna Lindqvist,"),
        ("sv", "plan_reminder", None, "Hej,"),
        ("en", "plan_reminder", "Anna Lindqvist", "Dear Anna Lindqvist,"),
        ("en", "plan_reminder", None, "Dear Sir or Madam,"),
        ("en", "sanction_review_opened", None, "Hello,"),
    ],
)
def test_it_greets_the_recipient_by_name_when_known(
    renderer: Renderer, language: str, kind: str, name: str | None, greeting: str
) -> None:
    context = sample_context(kind, language)
    context["recipient"]["name"] = name
    email = renderer.render(kind, language, context)

    assert email.text.startswith(greeting + "\n")
    assert f">{greeting}</p>" in email.html


def test_it_asks_for_a_complete_plan_in_cap_requested(renderer: Renderer) -> None:
    swedish = render(renderer, "cap_requested", "sv").text
    english = render(renderer, "cap_requested", "en").text

    for words in ("grundorsaksanalys", "ansvarig person", "datum"):
        assert words in swedish
    for words in ("root cause analysis", "responsible person", "date"):
        assert words in english


def test_it_warns_of_termination_in_a_formal_notice(renderer: Renderer) -> None:
    assert "häva avtalet" in render(renderer, "formal_notice", "sv").text
    assert "terminate the contract" in render(renderer, "formal_notice", "en").html


def test_it_addresses_plan_received_to_the_contract_manager(renderer: Renderer) -> None:
    context = sample_context("plan_received", "sv")
    context["recipient"] = {"name": None, "email": "cm@example.org", "role": "contract_manager"}
    email = renderer.render("plan_received", "sv", context)

    assert email.subject == "NC-2026-0042: Ny åtgärdsplan från Nordic IT Supply AB att granska"
    assert "Granska planen senast den 16 mars 2026" in email.text


@pytest.mark.parametrize(
    ("language", "subject", "line", "checks"),
    [
        (
            "sv",
            "NC-2026-0042: Påminnelse \N{EN DASH} granska åtgärdsplanen från Nordic IT Supply AB"
            " senast 16 mars 2026",
            "ska vara granskad senast den 16 mars 2026, om 3 dagar.",
            ("grundorsaksanalys", "ansvarig person och ett datum", "arbetstagare ska gottgöras"),
        ),
        (
            "en",
            "NC-2026-0042: Reminder \N{EN DASH} review the corrective action plan"
            " from Nordic IT Supply AB by 16 March 2026",
            "the review of the plan is due by 16 March 2026, in 3 days.",
            ("root cause analysis", "responsible person and a date", "affected workers"),
        ),
    ],
)
def test_it_reminds_the_contract_manager_to_review_the_plan(
    renderer: Renderer, language: str, subject: str, line: str, checks: tuple[str, ...]
) -> None:
    context = sample_context("review_reminder", language)
    email = renderer.render("review_reminder", language, context)

    assert context["recipient"]["role"] == "contract_manager"
    assert email.subject == subject
    assert line in email.text
    assert line in email.html
    assert f'href="{context["link"]}"' in email.html
    assert "/s/" not in context["link"]  # staff get the plain link, not the supplier's
    for words in checks:
        assert words in email.text and words in email.html


@pytest.mark.parametrize(
    ("language", "subject", "line", "checks"),
    [
        (
            "sv",
            "NC-2026-0042: Påminnelse \N{EN DASH} verifiera åtgärderna hos Nordic IT Supply AB"
            " senast 27 augusti 2026",
            "ska vara verifierade senast den 27 augusti 2026, om 5 dagar.",
            ("uppföljande revision", "Avsluta sedan ärendet", "avslå rapporten med en motivering"),
        ),
        (
            "en",
            "NC-2026-0042: Reminder \N{EN DASH} verification of Nordic IT Supply AB's"
            " remediation due by 27 August 2026",
            "the verification of the remediation is due by 27 August 2026, in 5 days.",
            ("follow-up audit", "close the finding", "reject the remediation with reasons"),
        ),
    ],
)
def test_it_reminds_the_contract_manager_to_verify_the_remediation(
    renderer: Renderer, language: str, subject: str, line: str, checks: tuple[str, ...]
) -> None:
    context = sample_context("verification_reminder", language)
    email = renderer.render("verification_reminder", language, context)

    assert context["recipient"]["role"] == "contract_manager"
    assert context["finding"]["state"] == State.VERIFYING
    assert email.subject == subject
    assert line in email.text
    assert line in email.html
    assert f'href="{context["link"]}"' in email.html
    for words in checks:
        assert words in email.text and words in email.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["review_reminder", "verification_reminder"])
def test_it_needs_the_deadline_for_the_buyers_reminders(
    renderer: Renderer, kind: str, language: str
) -> None:
    with pytest.raises(UndefinedError):
        render(renderer, kind, language, deadline=None)
    today = render(renderer, kind, language, days_left=0)
    assert ("det vill säga i dag" if language == "sv" else "that is today") in today.text
    untimed = render(renderer, kind, language, days_left=None)
    assert not re.search(r", (om|in) \d+ (dag|day)", untimed.text + untimed.html)


def test_it_returns_a_fresh_sample_each_time() -> None:
    first = sample_context("cap_requested", "sv")
    first["finding"]["ref"] = "changed"

    assert sample_context("cap_requested", "sv")["finding"]["ref"] == "NC-2026-0042"


@pytest.mark.parametrize(
    ("language", "line"),
    [("sv", "Ny sista dag: 20 april 2026"), ("en", "New deadline: 20 April 2026")],
)
def test_it_tells_the_supplier_the_extended_deadline(
    renderer: Renderer, language: str, line: str
) -> None:
    email = render(renderer, "decision_extension", language)

    assert line in email.text
    assert "20 " in email.subject and "2026" in email.subject


@pytest.mark.parametrize(
    ("language", "asked", "in_force", "subject"),
    [
        ("sv", "Begärd ny sista dag: 30 mars 2026", "Nuvarande sista dag: 2 mars 2026",
         "NC-2026-0042: Nordic IT Supply AB begär förlängd tidsfrist till 30 mars 2026"),
        ("en", "New deadline asked for: 30 March 2026", "Deadline in force: 2 March 2026",
         "NC-2026-0042: Nordic IT Supply AB asks for more time, until 30 March 2026"),
    ],
)  # fmt: skip
def test_it_tells_the_contract_manager_what_the_supplier_asks_for(
    renderer: Renderer, language: str, asked: str, in_force: str, subject: str
) -> None:
    email = render(renderer, "extension_requested", language)

    assert email.subject == subject
    assert asked in email.text and in_force in email.text
    assert sample_context("extension_requested", language)["reason"] in email.text
    with pytest.raises(UndefinedError):  # the date asked for is what the email is about
        render(renderer, "extension_requested", language, deadline=None)


@pytest.mark.parametrize(
    ("language", "declined", "stands"),
    [
        ("sv", "till den 30 september 2026, men kan inte bevilja den",
         "Sista dag är fortfarande den 3 augusti 2026."),
        ("en", "to 30 September 2026, but we cannot grant it",
         "The deadline remains 3 August 2026."),
    ],
)  # fmt: skip
def test_it_tells_the_supplier_a_request_is_declined_and_the_deadline_stands(
    renderer: Renderer, language: str, declined: str, stands: str
) -> None:
    email = render(renderer, "extension_declined", language)

    assert declined in email.text and stands in email.text
    assert ("3 augusti 2026" if language == "sv" else "3 August 2026") in email.subject
    assert sample_context("extension_declined", language)["reason"] in email.text
    assert sample_context("extension_declined", language)["reason"] in email.html
