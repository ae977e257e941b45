"""Sample data for every kind of email in both languages: what `cap mail preview` without a
finding and `cap mail render-all` show, and what the template tests render."""

from __future__ import annotations

from datetime import date
from typing import Any

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
from cap.notify.render import check_kind, check_language

# --- sample data -------------------------------------------------------------------------

_PLAN_DUE = date(2026, 3, 2)
_REMEDIATION_DUE = date(2026, 8, 3)
_REVIEW_DUE = date(2026, 3, 16)  # the plan came in on 2 March; the review takes 14 days
_VERIFICATION_DUE = date(2026, 8, 27)  # reported fixed on 28 July; verification takes 30 days
_CONTRACT_START = date(2025, 9, 2)
_REPORT_DUE = date(2026, 3, 2)  # the social-risk report: six months after the contract's start
_BASE_URL = "https://cap.region-stockholm.example"

_SAMPLE_TEXT: dict[str, dict[str, str]] = {
    Language.SV: {
        "title": "Påtvingad övertid vid monteringsfabrik i Dongguan",
        "description": (
            "Vid en oannonserad fabriksrevision den 20 januari 2026 framkom att arbetstagarna"
            " på monteringslinjerna för bärbara datorer regelbundet arbetar 72 till 80 timmar i"
            " veckan under högsäsong.\n"
            "Arbetstagare uppger att den som tackar nej till övertid hotas med löneavdrag,"
            " och att ID-handlingar för inhyrd personal förvaras av bemanningsföretaget.\n"
            "Tidrapporterna för november och december 2025 stämmer inte med"
            " lönespecifikationerna."
        ),
        "site_country": "Kina",
        "plan_rejected": (
            "Planen saknar en grundorsaksanalys och anger inte vem som ansvarar för att"
            " övertiden minskar. Åtgärden ”utbilda arbetsledare” saknar datum, och det framgår"
            " inte hur de arbetstagare som har drabbats av löneavdrag ska kompenseras."
        ),
        "remediation_rejected": (
            "Tidrapporterna för maj till juli 2026 visar fortfarande veckor med mer än 60 timmars"
            " arbete, och underlaget om återbetalda löneavdrag omfattar bara 40 av 212 berörda"
            " arbetstagare."
        ),
        "finding_closed": (
            "Den uppföljande revisionen den 14 september 2026 bekräftar att arbetstiden nu"
            " ligger inom 60 timmar i veckan, att samtliga löneavdrag har betalats tillbaka och"
            " att inhyrd personal själva förvarar sina ID-handlingar."
        ),
        "plan_accepted": "Vi följer särskilt upp att arbetstiden registreras i det nya systemet.",
        "sanction_review_opened": (
            "Leverantören har inte lämnat någon åtgärdsplan trots påminnelse och formell"
            " anmärkning. Planen är 35 dagar försenad och avvikelsen gäller tvångsarbete."
        ),
        "extension": (
            "Leverantören har visat att en oberoende revisor är anlitad och att en ny revision"
            " genomförs i vecka 14. Resultatet behövs för grundorsaksanalysen."
        ),
        "extension_requested": (
            "Den oberoende revisor vi har anlitat kan genomföra den uppföljande revisionen först"
            " i vecka 12. Vi behöver resultatet för grundorsaksanalysen och ber därför om fyra"
            " veckors förlängning."
        ),
        "extension_declined": (
            "Begäran saknar en tidsplan för de återstående åtgärderna, och underlaget visar inte"
            " att arbetet har påbörjats. Varje vecka som åtgärderna dröjer fortsätter"
            " arbetstagarna att utsättas för påtvingad övertid."
        ),
        "warning": (
            "Åtgärdsplanen lämnades in 35 dagar för sent och först efter formell anmärkning."
            " Avvikelsen är allvarlig och berör över 200 arbetstagare."
        ),
        "penalty": (
            "Trots skriftlig varning har åtgärderna inte genomförts inom avtalad tid. Vite tas"
            " ut enligt avtalets särskilda kontraktsvillkor om hållbarhet."
        ),
        "termination": (
            "Leverantören har trots varning och vite inte åtgärdat den påtvingade övertiden och"
            " har vägrat medverka till en uppföljande revision. Avtalsbrottet bedöms som"
            " väsentligt."
        ),
        "digest_0031": "Saknade lönespecifikationer för inhyrd personal",
        "digest_0047": "Blockerade nödutgångar i lagerbyggnad",
        "digest_0050": "Ofullständig redovisning av smältverk för tenn och tantal",
        "digest_0053": "Misstänkt otillbörlig förmån vid upphandlingsmöte",
    },
    Language.EN: {
        "title": "Forced overtime at assembly plant in Dongguan",
        "description": (
            "An unannounced factory audit on 20 January 2026 found that workers on the laptop"
            " assembly lines regularly work 72 to 80 hours a week during peak season.\n"
            "Workers report that those who refuse overtime are threatened with wage deductions,"
            " and that the identity documents of agency workers are kept by the labour agency.\n"
            "Time records for November and December 2025 do not match the payslips."
        ),
        "site_country": "China",
        "plan_rejected": (
            "The plan contains no root cause analysis and does not say who is responsible for"
            " reducing overtime. The action 'train supervisors' has no date, and the plan does"
            " not say how workers who suffered wage deductions will be compensated."
        ),
        "remediation_rejected": (
            "Time records for May to July 2026 still show weeks of more than 60 working hours,"
            " and the evidence of repaid wage deductions covers only 40 of the 212 workers"
            " concerned."
        ),
        "finding_closed": (
            "The follow-up audit on 14 September 2026 confirms that working hours are now"
            " within 60 hours a week, that all wage deductions have been repaid and that agency"
            " workers keep their own identity documents."
        ),
        "plan_accepted": (
            "We will pay particular attention to how working hours are recorded in the new system."
        ),
        "sanction_review_opened": (
            "The supplier has not submitted a corrective action plan despite a reminder and a"
            " formal notice. The plan is 35 days overdue and the finding concerns forced labour."
        ),
        "extension": (
            "The supplier has shown that an independent auditor has been engaged and that a new"
            " audit takes place in week 14. Its results are needed for the root cause analysis."
        ),
        "extension_requested": (
            "The independent auditor we have engaged cannot carry out the follow-up audit until"
            " week 12. We need its results for the root cause analysis and therefore ask for four"
            " more weeks."
        ),
        "extension_declined": (
            "The request has no timetable for the remaining actions, and the evidence does not"
            " show that the work has started. Every week the actions are delayed, workers remain"
            " subject to forced overtime."
        ),
        "warning": (
            "The corrective action plan was submitted 35 days late, and only after a formal"
            " notice. The finding is major and affects more than 200 workers."
        ),
        "penalty": (
            "Despite a written warning, the corrective actions were not completed on time. The"
            " penalty is charged under the contract's special conditions on sustainability."
        ),
        "termination": (
            "Despite a warning and a penalty, the supplier has not remedied the forced overtime"
            " and has refused to take part in a follow-up audit. The breach is considered"
            " material."
        ),
        "digest_0031": "Missing payslips for agency workers",
        "digest_0047": "Blocked emergency exits in warehouse",
        "digest_0050": "Incomplete disclosure of tin and tantalum smelters",
        "digest_0053": "Suspected improper benefit at procurement meeting",
    },
}

_SUPPLIER = {
    "name": "Anna Lindqvist",
    "email": "anna.lindqvist@nordic-it-supply.example",
    "role": "supplier",
}
_CONTRACT_MANAGER = {
    "name": "Erik Johansson",
    "email": "erik.johansson@region-stockholm.example",
    "role": "contract_manager",
}
_SUSTAINABILITY_MANAGER = {
    "name": "Maria Berg",
    "email": "maria.berg@region-stockholm.example",
    "role": "sustainability_manager",
}
_DECISION_MAKERS = {
    "name": None,
    "email": "sanktionsgruppen@region-stockholm.example",
    "role": "decision_makers",
}

# kind -> (state, recipient, deadline, days_left, days_overdue, escalation_level)
_SAMPLE_SITUATION: dict[
    str, tuple[State, dict[str, Any], date | None, int | None, int | None, int]
] = {
    "cap_requested": (State.AWAITING_PLAN, _SUPPLIER, _PLAN_DUE, 28, None, 0),
    "plan_reminder": (State.AWAITING_PLAN, _SUPPLIER, _PLAN_DUE, 7, None, 0),
    "plan_overdue": (State.AWAITING_PLAN, _SUPPLIER, _PLAN_DUE, None, 3, 1),
    "formal_notice": (State.AWAITING_PLAN, _SUPPLIER, date(2026, 3, 23), None, 14, 2),
    "plan_received": (State.PLAN_REVIEW, _SUPPLIER, _REVIEW_DUE, None, None, 0),
    "review_reminder": (State.PLAN_REVIEW, _CONTRACT_MANAGER, _REVIEW_DUE, 3, None, 0),
    "plan_accepted": (State.REMEDIATING, _SUPPLIER, _REMEDIATION_DUE, None, None, 0),
    "plan_rejected": (State.AWAITING_PLAN, _SUPPLIER, date(2026, 3, 30), None, None, 0),
    "remediation_reminder": (State.REMEDIATING, _SUPPLIER, _REMEDIATION_DUE, 14, None, 0),
    "remediation_overdue": (State.REMEDIATING, _SUPPLIER, _REMEDIATION_DUE, None, 5, 1),
    "verification_reminder": (State.VERIFYING, _CONTRACT_MANAGER, _VERIFICATION_DUE, 5, None, 0),
    "finding_closed": (State.CLOSED, _SUPPLIER, None, None, None, 0),
    "remediation_rejected": (State.REMEDIATING, _SUPPLIER, date(2026, 10, 30), None, None, 0),
    # The date the supplier asked for; the deadline in force is the finding's own.
    "extension_requested": (
        State.AWAITING_PLAN,
        _CONTRACT_MANAGER,
        date(2026, 3, 30),
        None,
        None,
        0,
    ),
    "extension_declined": (State.REMEDIATING, _SUPPLIER, date(2026, 9, 30), None, None, 0),
    "escalation_contract_manager": (
        State.AWAITING_PLAN,
        _CONTRACT_MANAGER,
        _PLAN_DUE,
        None,
        7,
        1,
    ),
    "escalation_sustainability_manager": (
        State.AWAITING_PLAN,
        _SUSTAINABILITY_MANAGER,
        _PLAN_DUE,
        None,
        21,
        2,
    ),
    "sanction_review_opened": (
        State.SANCTION_REVIEW,
        _DECISION_MAKERS,
        date(2026, 4, 17),
        None,
        35,
        3,
    ),
    "decision_extension": (State.AWAITING_PLAN, _SUPPLIER, date(2026, 4, 20), None, None, 3),
    "decision_warning": (State.REMEDIATING, _SUPPLIER, _REMEDIATION_DUE, None, None, 3),
    "decision_penalty": (State.REMEDIATING, _SUPPLIER, date(2026, 10, 30), None, 28, 3),
    "decision_termination": (State.TERMINATED, _SUPPLIER, date(2026, 11, 30), None, None, 3),
    "daily_digest": (State.OPEN, _CONTRACT_MANAGER, None, None, None, 0),
}

# The report kinds: kind -> (state, recipient, deadline, days_left, days_overdue,
# escalation_level) of the contract's reporting obligation (the deadline is None once passed).
_REPORT_SITUATION: dict[
    str, tuple[ObligationState, dict[str, Any], date | None, int | None, int | None, int]
] = {
    "report_reminder": (ObligationState.DUE, _SUPPLIER, _REPORT_DUE, 14, None, 0),
    "report_overdue": (ObligationState.DUE, _SUPPLIER, None, None, 1, 1),
    "report_escalated": (ObligationState.ESCALATED, _DECISION_MAKERS, None, None, 30, 3),
}
assert set(_REPORT_SITUATION) == set(REPORT_EMAIL_KINDS)

_SAMPLE_DECISIONS: dict[str, DecisionOutcome] = {
    "decision_extension": DecisionOutcome.EXTENSION,
    "decision_warning": DecisionOutcome.WARNING,
    "decision_penalty": DecisionOutcome.PENALTY,
    "decision_termination": DecisionOutcome.TERMINATION,
}

_SAMPLE_REASONS: dict[str, str] = {
    "plan_rejected": "plan_rejected",
    "remediation_rejected": "remediation_rejected",
    "extension_requested": "extension_requested",
    "extension_declined": "extension_declined",
    "sanction_review_opened": "sanction_review_opened",
    "decision_extension": "extension",
}

_SAMPLE_NOTES: dict[str, str] = {
    "plan_accepted": "plan_accepted",
    "finding_closed": "finding_closed",
}


def sample_context(kind: str, language: str) -> dict[str, Any]:
    """Believable sample data for previews and tests: Region Stockholm buys laptops from
    Nordic IT Supply AB under contract RS-2024-0815, and an audit found forced overtime at an
    assembly plant in Dongguan (finding NC-2026-0042); the contract also asks for a
    social-risk report six months after its start (the report kinds, whose ``finding`` is
    ``None``).

    Holds every key of the context contract (``None`` where ``kind`` does not use it), with
    the finding or the obligation in the state the email is sent in. A new dict is returned on
    every call, so callers may change it. Raises like :meth:`Renderer.render` for an unknown
    kind or language.
    """
    check_kind(kind)
    words = _SAMPLE_TEXT[check_language(language)]
    if kind in _REPORT_SITUATION:
        return _report_context(kind)
    state, recipient, deadline, days_left, days_overdue, level = _SAMPLE_SITUATION[kind]
    is_supplier = recipient["role"] == "supplier"
    finding: dict[str, Any] | None = {
        "ref": "NC-2026-0042",
        "title": words["title"],
        "description": words["description"],
        "severity": Severity.MAJOR,
        "area": Area.FORCED_LABOUR,
        "source": Source.FACTORY_AUDIT,
        "site": "Dongguan Sunrise Electronics Co., Ltd. (Plant 2)",
        "site_country": words["site_country"],
        "state": state,
        "supplier_name": "Nordic IT Supply AB",
        "contract_ref": "RS-2024-0815",
        "found_on": date(2026, 1, 20),
        "plan_due": _PLAN_DUE,
        "remediation_due": _REMEDIATION_DUE,
        "escalation_level": level,
    }
    link = f"{_BASE_URL}/findings/NC-2026-0042"
    if is_supplier:
        link = f"{_BASE_URL}/s/NC-2026-0042?sig=Zk3xQ9vT2mB7"
    decision: dict[str, Any] | None = None
    if kind in _SAMPLE_DECISIONS:
        outcome = _SAMPLE_DECISIONS[kind]
        decision = {
            "outcome": outcome,
            "rationale": words[outcome.value],
            "proposed_by": "Maria Berg",
            "approved_by": "Karin Ahlström",
        }
    findings: list[dict[str, Any]] | None = None
    today: date | None = None
    if kind == "daily_digest":
        finding = None
        link = f"{_BASE_URL}/findings?manager=erik.johansson"
        today = date(2026, 3, 4)
        findings = [
            _digest_entry("NC-2026-0042", words["title"], State.PLAN_REVIEW, date(2026, 3, 16)),
            _digest_entry(
                "NC-2026-0031", words["digest_0031"], State.AWAITING_PLAN, date(2026, 2, 16)
            ),
            _digest_entry("NC-2026-0053", words["digest_0053"], State.OPEN, None),
            _digest_entry(
                "NC-2026-0047", words["digest_0047"], State.REMEDIATING, date(2026, 3, 2)
            ),
            _digest_entry(
                "NC-2026-0050", words["digest_0050"], State.AWAITING_PLAN, date(2026, 3, 9)
            ),
        ]
        for entry in findings:
            entry["overdue"] = entry["due"] is not None and entry["due"] < today
    return {
        "finding": finding,
        "obligation": None,
        "recipient": dict(recipient),
        "link": link,
        "buyer_name": "Region Stockholm",
        "deadline": deadline,
        "days_overdue": days_overdue,
        "days_left": days_left,
        "reason": words[_SAMPLE_REASONS[kind]] if kind in _SAMPLE_REASONS else None,
        "note": words[_SAMPLE_NOTES[kind]] if kind in _SAMPLE_NOTES else None,
        "decision": decision,
        "findings": findings,
        "today": today,
    }


def _digest_entry(ref: str, title: str, state: State, due: date | None) -> dict[str, Any]:
    return {
        "ref": ref,
        "title": title,
        "state": state,
        "due": due,
        "overdue": False,
        "link": f"{_BASE_URL}/findings/{ref}",
    }


def _report_context(kind: str) -> dict[str, Any]:
    """The sample of a report kind: the contract's social-risk report, named by its kind (no
    title), linked on the desk for staff and not at all for the supplier, who replies."""
    state, recipient, deadline, days_left, days_overdue, level = _REPORT_SITUATION[kind]
    obligation = {
        "id": 7,
        "kind": ObligationKind.SOCIAL_RISK_REPORT,
        "title": None,
        "contract_ref": "RS-2024-0815",
        "supplier_name": "Nordic IT Supply AB",
        "contract_start": _CONTRACT_START,
        "due": _REPORT_DUE,
        "state": state,
        "escalation_level": level,
    }
    is_supplier = recipient["role"] == "supplier"
    return {
        "finding": None,
        "obligation": obligation,
        "recipient": dict(recipient),
        "link": None if is_supplier else f"{_BASE_URL}/obligations/7",
        "buyer_name": "Region Stockholm",
        "deadline": deadline,
        "days_overdue": days_overdue,
        "days_left": days_left,
        "reason": None,
        "note": None,
        "decision": None,
        "findings": None,
        "today": None,
    }
