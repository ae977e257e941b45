"""A believable demo data set: Region Stockholm's ICT contracts with Electronics Watch clauses.

:func:`seed` fills an empty, migrated database with five suppliers, six contracts and fifteen
findings spread over every state of the lifecycle, as the database would look at a given
``now``. Every finding's history is back-dated the way a person types ``--at``: relative to
``now``, on working days, in order, so that some deadlines are near and some have passed
whatever day ``now`` is.

Everything goes through the public use cases of :class:`cap.workflow.Workflow` (the rules
decide the deadlines, the lifecycle refuses anything out of order) and is derived from ``now``
alone: no randomness, so two seeds with the same ``now`` give the same data. All addresses use
the reserved ``.example`` top-level domain, so the emails queued on the way reach nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from cap.domain.calendar import BusinessCalendar, add_months
from cap.domain.inputs import ContractInput, FindingInput, PlanAction, PlanInput, SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, Language, Severity, Source, State
from cap.errors import AlreadyExists, InvalidInput
from cap.workflow import EvidenceFile, FindingFilter, Workflow

__all__ = ["DECISION_MAKERS", "DemoSummary", "seed"]

# -- people ----------------------------------------------------------------------------------

ANNA = "anna.lind@region-stockholm.example"  # contract manager: PCs, thin clients
ERIK = "erik.sandberg@region-stockholm.example"  # contract manager: monitors, desktop equipment
MARIA = "maria.ek@region-stockholm.example"  # contract manager: network, servers
CECILIA = "cecilia.berg@region-stockholm.example"  # decision maker
DAVID = "david.holm@region-stockholm.example"  # decision maker
#: The two people who decide sanctions (a termination needs both).
DECISION_MAKERS = (CECILIA, DAVID)

# -- suppliers and contracts -----------------------------------------------------------------

NORDIC = "556712-4830"
DATASERVICE = "556389-2217"
BALTIC = "304518772"  # Lithuanian company code
AURALIS = "38145729"  # Danish CVR number
KRONBERG = "DE298145632"  # German VAT identification number

_SUPPLIERS: tuple[SupplierInput, ...] = (
    SupplierInput(
        name="Nordic IT Supply AB",
        org_number=NORDIC,
        country="SE",
        email="li.wei@nordic-supply.example",
        contact_name="Li Wei",
        language=Language.EN,
    ),
    SupplierInput(
        name="Dataservice Sverige AB",
        org_number=DATASERVICE,
        country="SE",
        email="karin.lindqvist@dataservice-sverige.example",
        contact_name="Karin Lindqvist",
        language=Language.SV,
    ),
    SupplierInput(
        name="Baltic Office Tech UAB",
        org_number=BALTIC,
        country="LT",
        email="ruta.kazlauskiene@baltic-office-tech.example",
        contact_name="Rūta Kazlauskienė",
        language=Language.EN,
    ),
    SupplierInput(
        name="Auralis Audio ApS",  # headset brand
        org_number=AURALIS,
        country="DK",
        email="mette.sorensen@auralis-audio.example",
        contact_name="Mette Sørensen",
        language=Language.EN,
    ),
    SupplierInput(
        name="Kronberg Server Systems GmbH",  # server and storage vendor
        org_number=KRONBERG,
        country="DE",
        email="jonas.weber@kronberg-systems.example",
        contact_name="Jonas Weber",
        language=Language.EN,
    ),
)

PCS = "RS-2019-ICT-01"
MONITORS = "RS-2020-ICT-04"
THIN_CLIENTS = "RS-2021-ICT-07"
NETWORK = "RS-2022-ICT-02"
SERVERS = "RS-2023-ICT-05"
DESKTOP = "RS-2024-ICT-03"

_CONTRACTS: tuple[ContractInput, ...] = (
    ContractInput(
        reference=PCS,
        supplier=NORDIC,
        category="Personal computers",
        manager=ANNA,
        start=date(2019, 5, 1),
        value=Decimal("12500000.00"),
    ),
    ContractInput(
        reference=MONITORS,
        supplier=DATASERVICE,
        category="Monitors",
        manager=ERIK,
        start=date(2020, 9, 1),
        value=Decimal("8400000.00"),
    ),
    ContractInput(
        reference=THIN_CLIENTS,
        supplier=BALTIC,
        category="Thin clients",
        manager=ANNA,
        start=date(2021, 3, 15),
        value=Decimal("3150000.00"),
    ),
    ContractInput(
        reference=NETWORK,
        supplier=DATASERVICE,
        category="Network and security products",
        manager=MARIA,
        start=date(2022, 1, 10),
        value=Decimal("21000000.00"),
    ),
    ContractInput(
        reference=SERVERS,
        supplier=KRONBERG,
        category="Servers and storage systems",
        manager=MARIA,
        start=date(2023, 6, 1),
        value=Decimal("34500000.00"),
    ),
    ContractInput(
        reference=DESKTOP,
        supplier=AURALIS,
        category="ICT desktop equipment (headsets, keyboards, mice)",
        manager=ERIK,
        start=date(2024, 2, 1),
        value=Decimal("4800000.00"),
    ),
)

# -- evidence files (small and fake) ---------------------------------------------------------

_PAYROLL_CSV = (
    b"employee_id;month;regular_hours;overtime_weekday_h;overtime_weekend_h;"
    b"overtime_rate_weekday;overtime_rate_weekend;back_pay_cny\n"
    b"KS-10482;M-3;174;22;16;150%;200%;1284.00\n"
    b"KS-10483;M-3;174;18;8;150%;200%;842.50\n"
    b"KS-11907;M-3;174;24;16;150%;200%;1390.75\n"
    b"KS-12055;M-3;166;12;0;150%;200%;310.00\n"
)
_BACK_PAY_TXT = (
    b"Back pay of unpaid overtime premiums\n"
    b"Workers covered: 312 (incl. 87 agency workers)\n"
    b"Period: the 12 months before the audit\n"
    b"Paid by bank transfer; acknowledged by the worker representatives' committee.\n"
)
_SDS_REGISTER_CSV = (
    b"substance;supplier;sds_language;sds_version;posted_at_store\n"
    b"Isopropanol;ChemTrade s.r.o.;cs;4.1;A+B\n"
    b"Flux remover FR-20;ChemTrade s.r.o.;cs;2.0;A\n"
    b"Thermal paste TP-7;Kontakt CZ a.s.;cs;1.3;B\n"
)
_TIMESHEETS_CSV = (
    b"week;workers;avg_hours;max_hours;workers_without_rest_day\n"
    b"W-12;214;58.5;60;0\n"
    b"W-11;214;57.0;60;0\n"
    b"W-10;209;59.5;60;0\n"
)

# -- the findings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ago:
    """A working-day instant before ``now``: ``months`` calendar months and ``days`` days
    back from today (negative ``days`` go forward again), at ``clock`` local time."""

    months: int = 0
    days: int = 0
    clock: time = time(10, 0)


@dataclass(frozen=True)
class _Plan:
    """A plan; each action is (description, owner, days after the submission it is due)."""

    root_cause: str
    actions: tuple[tuple[str, str, int], ...]

    def to_input(self, submitted: date) -> PlanInput:
        return PlanInput(
            root_cause=self.root_cause,
            actions=[
                PlanAction(description=d, owner=o, due=submitted + timedelta(days=n))
                for d, o, n in self.actions
            ],
        )


@dataclass(frozen=True)
class _Step:
    """One action in a finding's history. ``reason`` and ``note`` may name other findings of
    the data set as ``{KEY}``; ``extend_days`` moves the current deadline that many days."""

    when: _Ago
    action: Action
    actor: str = "manager"  # "manager", "supplier" (the contract's) or an address
    reason: str | None = None
    note: str | None = None
    plan: _Plan | None = None
    evidence: tuple[EvidenceFile, ...] = ()
    extend_days: int | None = None


@dataclass(frozen=True)
class _Finding:
    """A finding and its history. ``description`` may use ``{found}`` (the date it was found)
    and ``{visit}`` (three days earlier, the first day of an audit or monitoring visit)."""

    key: str
    contract: str
    severity: Severity
    area: Area
    source: Source
    title: str
    description: str
    site: str | None
    site_country: str | None
    logged: _Ago
    found_days_before: int
    steps: tuple[_Step, ...] = ()


_FINDINGS: tuple[_Finding, ...] = (
    # -- open: logged, not yet communicated ---------------------------------------------------
    _Finding(
        key="A",
        contract=MONITORS,
        severity=Severity.MINOR,
        area=Area.TRANSPARENCY,
        source=Source.DESKTOP_AUDIT,
        title="Final assembly sites of current monitor models not disclosed",
        description=(
            "Desktop audit of the supplier's disclosure on {found}: the site list covers the "
            "2022 models only. Final assembly sites for the four monitor models delivered "
            "under the current call-offs are missing, as required by the contract's "
            "Electronics Watch disclosure clause."
        ),
        site=None,
        site_country=None,
        logged=_Ago(days=1, clock=time(10, 15)),
        found_days_before=2,
    ),
    _Finding(
        key="B",
        contract=SERVERS,
        severity=Severity.MAJOR,
        area=Area.ANTI_CORRUPTION,
        source=Source.WORKER_COMPLAINT,
        title="Alleged payment to a labour inspector before a working-hours inspection",
        description=(
            "Anonymous complaint received on {found} through the Region's whistleblowing "
            "channel: the plant's HR manager is said to have paid a district labour inspector "
            "to announce an inspection in advance and to leave out the night shift.\n"
            "To be checked with the supplier and the sub-supplier's compliance officer."
        ),
        site="Server integration, Pardubice",
        site_country="CZ",
        logged=_Ago(days=2, clock=time(14, 40)),
        found_days_before=2,
    ),
    # -- awaiting_plan: fresh ------------------------------------------------------------------
    _Finding(
        key="C",
        contract=PCS,
        severity=Severity.MAJOR,
        area=Area.WORKING_HOURS,
        source=Source.MONITORING_REPORT,
        title="Forced overtime at notebook final assembly",
        description=(
            "Electronics Watch monitoring report (worker interviews off-site, {visit} to "
            "{found}):\n"
            "- 31 of 40 interviewed workers worked 72-78 hours a week during the peak weeks;\n"
            "- overtime is announced on the shift board and refusing it costs the monthly "
            "attendance bonus;\n"
            "- one rest day in 14 on the notebook lines.\n"
            "The legal limit is 36 overtime hours a month; the code caps the week at 60 hours."
        ),
        site="Notebook final assembly, Chongqing",
        site_country="CN",
        logged=_Ago(days=12, clock=time(9, 40)),
        found_days_before=7,
        steps=(_Step(_Ago(days=6, clock=time(10, 5)), Action.NOTIFY),),
    ),
    # -- awaiting_plan: the plan deadline passed a few days ago --------------------------------
    _Finding(
        key="D",
        contract=SERVERS,
        severity=Severity.MAJOR,
        area=Area.RESPONSIBLE_MINERALS,
        source=Source.DESKTOP_AUDIT,
        title="No OECD due diligence for tin, tantalum, tungsten and gold",
        description=(
            "Desktop audit on {found} of the supplier's minerals policy and its Conflict "
            "Minerals Reporting Template: no due diligence following the OECD Guidance for the "
            "3TG in server boards, 41 of 112 smelters not identified, no risk management plan."
        ),
        site=None,
        site_country=None,
        logged=_Ago(months=1, days=15, clock=time(11, 0)),
        found_days_before=6,
        steps=(_Step(_Ago(months=1, days=9, clock=time(9, 30)), Action.NOTIFY),),
    ),
    # -- awaiting_plan: critical (7 days for the plan) -----------------------------------------
    _Finding(
        key="E",
        contract=DESKTOP,
        severity=Severity.CRITICAL,
        area=Area.FORCED_LABOUR,
        source=Source.WORKER_COMPLAINT,
        title="Passports retained and recruitment fees charged to migrant workers",
        description=(
            "Complaint by a migrant workers' organisation received on {found}: Nepalese "
            "workers on the headset PCB lines paid recruitment fees of about MYR 4,500 each, "
            "repaid through monthly wage deductions, and their passports are kept by the "
            "dormitory office; workers must apply in writing to get them back."
        ),
        site="Headset PCB assembly, Penang",
        site_country="MY",
        logged=_Ago(days=4, clock=time(8, 50)),
        found_days_before=1,
        steps=(_Step(_Ago(days=3, clock=time(9, 10)), Action.NOTIFY),),
    ),
    # -- awaiting_plan again: the first plan was rejected --------------------------------------
    _Finding(
        key="F",
        contract=SERVERS,
        severity=Severity.MAJOR,
        area=Area.FREEDOM_OF_ASSOCIATION,
        source=Source.MONITORING_REPORT,
        title="Union organisers dismissed after a registration attempt",
        description=(
            "Electronics Watch monitoring report, field work {visit} to {found}: two workers "
            "who filed for the registration of an independent union were dismissed within a "
            "week for 'low performance'; workers say supervisors told them at shift meetings "
            "that union members would lose overtime."
        ),
        site="Server board assembly, Guadalajara",
        site_country="MX",
        logged=_Ago(months=1, days=24, clock=time(10, 0)),
        found_days_before=5,
        steps=(
            _Step(_Ago(months=1, days=20, clock=time(9, 45)), Action.NOTIFY),
            _Step(
                _Ago(days=21, clock=time(16, 10)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause="A line supervisor misunderstood the company's open-door policy.",
                    actions=(
                        ("Remind supervisors of the open-door policy", "HR manager", 30),
                        ("Post the code of conduct on every notice board", "HR manager", 14),
                    ),
                ),
            ),
            _Step(
                _Ago(days=7, clock=time(11, 20)),
                Action.REJECT_PLAN,
                reason=(
                    "The plan does not offer reinstatement and back pay to the two dismissed "
                    "organisers, does not recognise the registration request and treats the "
                    "dismissals as a misunderstanding. Send a revised plan with reinstatement, "
                    "back pay and a written neutrality commitment signed by plant management."
                ),
            ),
        ),
    ),
    # -- plan_review ---------------------------------------------------------------------------
    _Finding(
        key="G",
        contract=NETWORK,
        severity=Severity.MAJOR,
        area=Area.HEALTH_AND_SAFETY,
        source=Source.FACTORY_AUDIT,
        title="Blocked emergency exits and missing machine guarding",
        description=(
            "Third-party factory audit (RBA VAP), {visit} to {found}: two of five emergency "
            "exits in the switch assembly hall blocked by pallets; interlocked guards removed "
            "from 12 presses in the metal shop; no lockout/tagout procedure for die changes."
        ),
        site="Switch assembly, Bac Ninh",
        site_country="VN",
        logged=_Ago(months=1, days=4, clock=time(13, 0)),
        found_days_before=6,
        steps=(
            _Step(_Ago(months=1, days=1, clock=time(9, 20)), Action.NOTIFY),
            _Step(
                _Ago(days=4, clock=time(15, 35)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause=(
                        "Finished goods were stored in corridors during the ramp-up of a new "
                        "product; guards were taken off to speed up die changes and never "
                        "refitted."
                    ),
                    actions=(
                        ("Clear and mark all emergency routes; daily EHS walk", "EHS manager", 7),
                        (
                            "Refit interlocked guards on 12 presses; LOTO training for 46 setters",
                            "Maintenance manager",
                            45,
                        ),
                        ("Rent external warehouse space for peak stock", "Logistics director", 60),
                    ),
                ),
            ),
        ),
    ),
    # -- remediating: due soon -----------------------------------------------------------------
    _Finding(
        key="H",
        contract=MONITORS,
        severity=Severity.MAJOR,
        area=Area.PROCESS_CHEMICALS,
        source=Source.FACTORY_AUDIT,
        title="n-Hexane exposure at LCD panel cleaning",
        description=(
            "Factory audit with air sampling, {visit} to {found}: workers wipe panels with an "
            "n-hexane based solvent at 8 open stations; measured 95-140 mg/m3 (8 h TWA) "
            "against the national limit of 100 mg/m3; no local exhaust ventilation, cotton "
            "gloves only. Three workers reported numbness in hands and feet."
        ),
        site="LCD module plant, Suzhou",
        site_country="CN",
        logged=_Ago(months=6, days=-5, clock=time(10, 30)),
        found_days_before=9,
        steps=(
            _Step(_Ago(months=6, days=-12, clock=time(9, 0)), Action.NOTIFY),
            _Step(
                _Ago(months=5, days=8, clock=time(8, 45)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause=(
                        "The solvent was chosen on price; the cleaning stations were moved to "
                        "the new line without the exhaust ventilation of the old one."
                    ),
                    actions=(
                        (
                            "Replace n-hexane with a heptane/isopropanol blend",
                            "Process engineering manager",
                            60,
                        ),
                        (
                            "Install local exhaust ventilation at all 8 stations",
                            "Facilities manager",
                            90,
                        ),
                        (
                            "Biomonitoring (urinary 2,5-hexanedione) of 64 exposed workers",
                            "Occupational health physician",
                            30,
                        ),
                        ("Chemical training; nitrile gloves at every station", "EHS manager", 21),
                    ),
                ),
            ),
            _Step(
                _Ago(months=5, days=1, clock=time(14, 0)),
                Action.ACCEPT_PLAN,
                note="Substitution first, then ventilation: the hierarchy of controls.",
            ),
        ),
    ),
    # -- remediating: remediation deadline extended --------------------------------------------
    _Finding(
        key="I",
        contract=DESKTOP,
        severity=Severity.MAJOR,
        area=Area.WAGES,
        source=Source.SUPPLIER_REPORT,
        title="Probationary workers paid below the provincial minimum wage",
        description=(
            "Reported by the supplier on {found} after its own payroll review: 138 "
            "probationary workers at headset assembly were paid THB 345 a day, below the "
            "provincial minimum wage, for up to 119 days each."
        ),
        site="Headset assembly, Ayutthaya",
        site_country="TH",
        logged=_Ago(months=5, days=14, clock=time(9, 15)),
        found_days_before=3,
        steps=(
            _Step(_Ago(months=5, days=10, clock=time(10, 0)), Action.NOTIFY),
            _Step(
                _Ago(months=4, days=15, clock=time(7, 55)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause=(
                        "The probation wage scale was not updated after the last minimum-wage "
                        "increase."
                    ),
                    actions=(
                        ("Raise the probation wage to at least the minimum", "HR director", 14),
                        (
                            "Calculate and pay back pay to every affected worker, with the "
                            "worker representatives",
                            "Finance director",
                            90,
                        ),
                        ("Payroll audit by an independent firm", "Compliance manager", 150),
                    ),
                ),
            ),
            _Step(
                _Ago(months=4, days=6, clock=time(13, 10)),
                Action.ACCEPT_PLAN,
                note="Plan accepted; back pay to be shown per worker.",
            ),
            _Step(
                _Ago(days=9, clock=time(11, 30)),
                Action.EXTEND,
                reason=(
                    "41 former workers must be traced through their home villages for back "
                    "pay; the worker representatives support the supplier's request."
                ),
                extend_days=61,
            ),
        ),
    ),
    # -- verifying: fix reported with evidence -------------------------------------------------
    _Finding(
        key="J",
        contract=PCS,
        severity=Severity.MAJOR,
        area=Area.WAGES,
        source=Source.FACTORY_AUDIT,
        title="Weekend overtime paid at the regular rate",
        description=(
            "Unannounced factory audit (payroll sample of 60 workers), {visit} to {found}: "
            "weekend overtime of agency workers was paid at 100% instead of the legal 200%; "
            "payslips do not show overtime hours."
        ),
        site="Desktop assembly, Kunshan",
        site_country="CN",
        logged=_Ago(months=5, days=2, clock=time(9, 0)),
        found_days_before=6,
        steps=(
            _Step(_Ago(months=4, days=27, clock=time(10, 20)), Action.NOTIFY),
            _Step(
                _Ago(months=4, days=5, clock=time(6, 30)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause="Payroll coded weekend overtime of agency workers as regular hours.",
                    actions=(
                        ("Correct payroll coding: 150% weekdays, 200% weekends", "Payroll", 20),
                        ("Back pay of unpaid premiums for 12 months", "Finance director", 60),
                        ("Payslips that show overtime hours and rates", "HR manager", 30),
                    ),
                ),
            ),
            _Step(_Ago(months=3, days=25, clock=time(15, 0)), Action.ACCEPT_PLAN),
            _Step(
                _Ago(days=8, clock=time(8, 5)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                note="Payroll corrected and back pay made; payroll extract attached.",
                evidence=(
                    EvidenceFile("payroll_overtime_corrected.csv", _PAYROLL_CSV, "text/csv"),
                    EvidenceFile("back_pay_confirmation.txt", _BACK_PAY_TXT, "text/plain"),
                ),
            ),
        ),
    ),
    # -- sanction_review: termination proposed, awaiting a second decision maker ---------------
    _Finding(
        key="K",
        contract=NETWORK,
        severity=Severity.MAJOR,
        area=Area.TRANSPARENCY,
        source=Source.MONITORING_REPORT,
        title="Electronics Watch monitors refused access to the factory",
        description=(
            "Electronics Watch report of {found}: the monitoring team was refused entry at the "
            "gate twice, and management declined to share the worker list for off-site "
            "interviews. The contract obliges the supplier to give the monitors access."
        ),
        site="Switch assembly, Bac Ninh",
        site_country="VN",
        logged=_Ago(days=105, clock=time(10, 45)),
        found_days_before=8,
        steps=(
            _Step(_Ago(days=100, clock=time(9, 0)), Action.NOTIFY),
            _Step(
                _Ago(days=62, clock=time(14, 15)),
                Action.ESCALATE,
                reason="No plan a week after the deadline, and access was refused a third time.",
            ),
            _Step(
                _Ago(days=55, clock=time(10, 0)),
                Action.WARN,
                actor=CECILIA,
                reason="Formal warning: give the monitors access and send a plan at once.",
            ),
            _Step(
                _Ago(days=26, clock=time(9, 30)),
                Action.ESCALATE,
                reason="Still no plan and no access after the formal warning.",
            ),
            _Step(
                _Ago(days=5, clock=time(16, 0)),
                Action.TERMINATE,
                actor=CECILIA,
                reason=(
                    "Termination of the contract proposed: repeated refusal of monitoring "
                    "access is a material breach of the contract's social clauses."
                ),
            ),
        ),
    ),
    # -- closed: after a rejected remediation report -------------------------------------------
    _Finding(
        key="M",
        contract=SERVERS,
        severity=Severity.MINOR,
        area=Area.HEALTH_AND_SAFETY,
        source=Source.FACTORY_AUDIT,
        title="Safety data sheets not available in Czech",
        description=(
            "Factory audit, {visit} to {found}: safety data sheets for 23 substances at the "
            "two chemical stores were in English or German only; shift leads could not say "
            "where they were kept."
        ),
        site="Server integration, Pardubice",
        site_country="CZ",
        logged=_Ago(months=10, days=20, clock=time(10, 0)),
        found_days_before=7,
        steps=(
            _Step(_Ago(months=10, days=15, clock=time(9, 30)), Action.NOTIFY),
            _Step(
                _Ago(months=9, days=25, clock=time(11, 0)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause="Czech translations were never asked of the chemical distributors.",
                    actions=(
                        ("Obtain Czech SDS for all 23 substances", "EHS coordinator", 30),
                        ("SDS binders at both stores; train shift leads", "EHS coordinator", 45),
                    ),
                ),
            ),
            _Step(_Ago(months=9, days=18, clock=time(14, 30)), Action.ACCEPT_PLAN),
            _Step(
                _Ago(months=6, days=2, clock=time(9, 50)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                note="Czech SDS obtained.",
            ),
            _Step(
                _Ago(months=5, days=25, clock=time(13, 40)),
                Action.REJECT_REMEDIATION,
                reason="Czech SDS for only 9 of the 23 substances; no record of the training.",
            ),
            _Step(
                _Ago(months=4, days=20, clock=time(8, 30)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                note="All 23 SDS in Czech, posted in both stores; training records attached.",
                evidence=(EvidenceFile("sds_register_cs.csv", _SDS_REGISTER_CSV, "text/csv"),),
            ),
            _Step(
                _Ago(months=4, days=2, clock=time(15, 10)),
                Action.VERIFY,
                note="Checked on a follow-up visit: SDS in place, shift leads briefed.",
            ),
        ),
    ),
    # -- closed --------------------------------------------------------------------------------
    _Finding(
        key="N",
        contract=MONITORS,
        severity=Severity.MINOR,
        area=Area.WORKING_HOURS,
        source=Source.SUPPLIER_REPORT,
        title="No weekly rest day during peak weeks at a monitor stand sub-supplier",
        description=(
            "Reported by the supplier on {found} from its sub-supplier self-assessment: "
            "moulding workers worked 13 days in a row in three peak weeks."
        ),
        site="Monitor stand moulding, Rayong",
        site_country="TH",
        logged=_Ago(months=7, days=3, clock=time(11, 15)),
        found_days_before=10,
        steps=(
            _Step(_Ago(months=7, clock=time(9, 0)), Action.NOTIFY),
            _Step(
                _Ago(months=6, days=14, clock=time(10, 30)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause="Peak weeks were staffed with voluntary rest-day work, no rotation.",
                    actions=(
                        ("Rest-day rotation in the scheduling tool", "Production planner", 30),
                        ("Monthly hours report to the buyer for 6 months", "Sustainability", 180),
                    ),
                ),
            ),
            _Step(_Ago(months=6, days=8, clock=time(13, 0)), Action.ACCEPT_PLAN),
            _Step(
                _Ago(months=3, days=12, clock=time(9, 0)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                evidence=(EvidenceFile("timesheets_peak_weeks.csv", _TIMESHEETS_CSV, "text/csv"),),
            ),
            _Step(
                _Ago(months=2, days=25, clock=time(14, 20)),
                Action.VERIFY,
                note="Timesheets for the last peak weeks show a rest day every week.",
            ),
        ),
    ),
    # -- terminated: proposed by one decision maker, approved by the other ---------------------
    _Finding(
        key="T",
        contract=THIN_CLIENTS,
        severity=Severity.CRITICAL,
        area=Area.FORCED_LABOUR,
        source=Source.FACTORY_AUDIT,
        title="Recruitment fees and retained passports of Myanmar migrant workers",
        description=(
            "Unannounced factory audit with worker interviews, {visit} to {found}:\n"
            "- 57 Myanmar migrant workers paid recruitment fees of USD 1,200-1,800;\n"
            "- passports kept in the HR office safe, returned only on resignation;\n"
            "- a 'deposit' of one month's wage withheld during the first year."
        ),
        site="Thin client assembly, Samut Prakan",
        site_country="TH",
        logged=_Ago(months=8, days=12, clock=time(9, 0)),
        found_days_before=6,
        steps=(
            _Step(_Ago(months=8, days=10, clock=time(9, 30)), Action.NOTIFY),
            _Step(
                _Ago(months=8, days=4, clock=time(17, 0)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=_Plan(
                    root_cause=(
                        "Agencies in Myanmar charge fees outside our control; passports are "
                        "kept safe at the workers' request."
                    ),
                    actions=(
                        ("Install lockers so workers can keep their passports", "HR manager", 14),
                        ("Ask the agencies to lower their fees", "Procurement manager", 60),
                    ),
                ),
            ),
            _Step(
                _Ago(months=8, clock=time(10, 0)),
                Action.REJECT_PLAN,
                reason=(
                    "Under the Employer Pays Principle the fees must be repaid by the employer "
                    "and passports returned now; lockers and a request to agencies remedy "
                    "neither."
                ),
            ),
            _Step(
                _Ago(months=7, days=12, clock=time(9, 0)),
                Action.ESCALATE,
                reason="No revised plan by the revision deadline on a critical finding.",
            ),
            _Step(
                _Ago(months=6, days=28, clock=time(14, 0)),
                Action.TERMINATE,
                actor=CECILIA,
                reason=(
                    "Forced-labour indicators remain and the supplier refuses to repay fees; "
                    "terminate the contract."
                ),
            ),
            _Step(
                _Ago(months=6, days=21, clock=time(10, 30)),
                Action.APPROVE_TERMINATION,
                actor=DAVID,
                note="Approved after legal review of the termination clause.",
            ),
        ),
    ),
    # -- withdrawn: the contract ended with the termination above ------------------------------
    _Finding(
        key="W",
        contract=THIN_CLIENTS,
        severity=Severity.MINOR,
        area=Area.RESPONSIBLE_MINERALS,
        source=Source.DESKTOP_AUDIT,
        title="Conflict Minerals Reporting Template out of date",
        description=(
            "Desktop audit on {found}: the supplier's Conflict Minerals Reporting Template "
            "is two revisions old and names no smelters for tantalum."
        ),
        site=None,
        site_country=None,
        logged=_Ago(months=9, days=2, clock=time(10, 0)),
        found_days_before=5,
        steps=(
            _Step(_Ago(months=8, days=28, clock=time(9, 0)), Action.NOTIFY),
            _Step(
                _Ago(months=6, days=20, clock=time(11, 0)),
                Action.WITHDRAW,
                reason=(
                    "Contract RS-2021-ICT-07 was terminated (see {T}); the finding can no "
                    "longer be followed up under it."
                ),
            ),
        ),
    ),
)


# -- the summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed` created: counts, findings per state (every state, in lifecycle
    order, zeros included) and the refs of the findings in the order they were logged."""

    suppliers: int
    contracts: int
    findings: dict[str, int] = field(default_factory=dict)
    refs: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (new dict and list, safe to change)."""
        return {
            "suppliers": self.suppliers,
            "contracts": self.contracts,
            "findings": dict(self.findings),
            "refs": list(self.refs),
        }


# -- seeding ---------------------------------------------------------------------------------

#: When the suppliers and contracts were entered into cap, before any finding.
_SETUP = _Ago(months=13, clock=time(8, 30))
#: Two actions of one finding that fall on the same minute (after moving one off a weekend
#: or holiday) are kept at least this far apart, in their order.
_GAP = timedelta(minutes=15)


def seed(workflow: Workflow, *, now: datetime) -> DemoSummary:
    """Fill an empty, migrated database with a believable data set, as it would look at `now`
    (aware UTC): a handful of suppliers and contracts and findings in every state, with their
    history back-dated by `--at`-style action times so that some deadlines are near, some passed.

    Contract:

    - ``now`` must be timezone-aware (:class:`InvalidInput` otherwise); any day works. Every
      recorded instant lies before ``now``, on a working day of the rules' calendar, and each
      finding's events are in time order, its ``found_on`` no later than its first event.
    - Deterministic: the same ``now`` and rules give the same data (refs depend on what the
      database already holds: ``NC-<year logged>-<n>``).
    - If any demo supplier's organisation number is already taken (seeded before),
      :class:`AlreadyExists` is raised before anything is written.
    - Not one transaction: each supplier, contract, finding and action is its own use case,
      so a failure half-way (a database outage) leaves what was written so far.
    - Actions queue their emails in the outbox as people's actions do; every address is at a
      ``.example`` domain. No sweep is run: ``cap sweep`` afterwards applies the reminders and
      escalations due now (one message per finding).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("now: needs a time zone, for example 2026-11-29T10:00:00+00:00")
    calendar = workflow.settings.calendar
    today = calendar.local_date(now)

    taken = {s["org_number"] for s in workflow.list_suppliers()}
    clash = [s for s in _SUPPLIERS if s.org_number in taken]
    if clash:
        raise AlreadyExists(
            f"org-number: a supplier with organisation number {clash[0].org_number} "
            f"({clash[0].name}) already exists; the demo data is seeded into an empty database"
        )

    setup_at = _instant(_SETUP, today, calendar)
    for supplier in _SUPPLIERS:
        workflow.add_supplier(supplier, now=setup_at)
    for contract in _CONTRACTS:
        workflow.add_contract(contract, now=setup_at + _GAP)

    managers = {c.reference: c.manager for c in _CONTRACTS}
    suppliers = {s.org_number: s for s in _SUPPLIERS}
    contacts = {c.reference: suppliers[c.supplier].email for c in _CONTRACTS}

    schedule = {spec.key: _schedule(spec, today, calendar, now) for spec in _FINDINGS}

    # Log in the order the findings were logged, so their numbers follow time.
    refs: dict[str, str] = {}
    for spec in sorted(_FINDINGS, key=lambda s: schedule[s.key][0]):
        logged_at = schedule[spec.key][0]
        found = calendar.local_date(logged_at) - timedelta(days=spec.found_days_before)
        refs[spec.key] = workflow.log_finding(
            _finding_input(spec, found), actor=managers[spec.contract], now=logged_at
        )

    for spec in _FINDINGS:
        view: Mapping[str, Any] = {}
        for step, at in zip(spec.steps, schedule[spec.key][1:], strict=True):
            actor = {"manager": managers[spec.contract], "supplier": contacts[spec.contract]}.get(
                step.actor, step.actor
            )
            request = ActionRequest(
                step.action,
                actor,
                at,
                reason=step.reason.format_map(refs) if step.reason else None,
                note=step.note.format_map(refs) if step.note else None,
                until=_until(step, view),
            )
            plan = step.plan.to_input(calendar.local_date(at)) if step.plan else None
            view = workflow.act(refs[spec.key], request, now=now, plan=plan, evidence=step.evidence)

    return _summary(workflow, list(refs.values()), now)


def _instant(ago: _Ago, today: date, calendar: BusinessCalendar) -> datetime:
    """The UTC instant ``ago`` names, moved back to the last working day on or before it."""
    day = add_months(today, -ago.months) - timedelta(days=ago.days)
    return calendar.at(calendar.roll_back(day), ago.clock)


def _schedule(
    spec: _Finding, today: date, calendar: BusinessCalendar, now: datetime
) -> list[datetime]:
    """When ``spec`` was logged, then when each of its steps happened: in order, before ``now``.

    Raises ``AssertionError`` when the data set itself is wrong (a step out of order by more
    than a moved weekend explains, or one that would lie in the future).
    """
    times: list[datetime] = []
    for ago in (spec.logged, *(s.when for s in spec.steps)):
        at = _instant(ago, today, calendar)
        if times and at <= times[-1]:
            # Two days moved back onto the same working day: keep them in their order.
            assert times[-1] - at < timedelta(days=7), f"demo finding {spec.key}: steps disorder"
            at = times[-1] + _GAP
        times.append(at)
    assert times[-1] < now, f"demo finding {spec.key}: its last step would be in the future"
    return times


def _until(step: _Step, view: Mapping[str, Any]) -> date | None:
    """An extension's new date: the deadline in force after the previous step, moved on."""
    if step.extend_days is None:
        return None
    due = view.get("due")
    if not isinstance(due, str):
        raise AssertionError("demo data: an extension needs a deadline in force to move")
    return date.fromisoformat(due) + timedelta(days=step.extend_days)


def _finding_input(spec: _Finding, found: date) -> FindingInput:
    visit = found - timedelta(days=3)
    return FindingInput(
        contract=spec.contract,
        severity=spec.severity,
        area=spec.area,
        source=spec.source,
        title=spec.title,
        description=spec.description.format(found=found.isoformat(), visit=visit.isoformat()),
        site=spec.site,
        site_country=spec.site_country,
        found_on=found,
    )


def _summary(workflow: Workflow, refs: list[str], now: datetime) -> DemoSummary:
    mine = set(refs)
    states = Counter(
        f["state"] for f in workflow.list_findings(FindingFilter(), now=now) if f["ref"] in mine
    )
    return DemoSummary(
        suppliers=len(_SUPPLIERS),
        contracts=len(_CONTRACTS),
        findings={state.value: states.get(state.value, 0) for state in State},
        refs=refs,
    )
