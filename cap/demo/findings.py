"""The demo's fifteen findings and their histories, in every state of the lifecycle."""

from __future__ import annotations

from datetime import time

from cap.demo.parties import (
    BACK_PAY_TXT,
    CECILIA,
    DAVID,
    DESKTOP,
    MONITORS,
    NETWORK,
    PAYROLL_CSV,
    PCS,
    SDS_REGISTER_CSV,
    SERVERS,
    THIN_CLIENTS,
    TIMESHEETS_CSV,
)
from cap.demo.specs import Ago, FindingSpec, PlanSpec, StepSpec
from cap.domain.lifecycle import Action
from cap.domain.model import Area, Severity, Source
from cap.workflow import EvidenceFile

# -- the findings ----------------------------------------------------------------------------


FINDINGS: tuple[FindingSpec, ...] = (
    # -- open: logged, not yet communicated ---------------------------------------------------
    FindingSpec(
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
        logged=Ago(days=1, clock=time(10, 15)),
        found_days_before=2,
    ),
    FindingSpec(
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
        logged=Ago(days=2, clock=time(14, 40)),
        found_days_before=2,
    ),
    # -- awaiting_plan: fresh ------------------------------------------------------------------
    FindingSpec(
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
        logged=Ago(days=12, clock=time(9, 40)),
        found_days_before=7,
        steps=(StepSpec(Ago(days=6, clock=time(10, 5)), Action.NOTIFY),),
    ),
    # -- awaiting_plan: the plan deadline passed a few days ago --------------------------------
    FindingSpec(
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
        logged=Ago(months=1, days=15, clock=time(11, 0)),
        found_days_before=6,
        steps=(
            StepSpec(Ago(months=1, days=9, clock=time(9, 30)), Action.NOTIFY),
            # Late, the supplier asks for more time: the request waits on the desk.
            StepSpec(
                Ago(days=2, clock=time(8, 40)),
                Action.REQUEST_EXTENSION,
                actor="supplier",
                reason=(
                    "Our survey of the 112 smelters is still coming in; we ask for three more "
                    "weeks to send a plan based on complete data."
                ),
                extend_days=21,
            ),
        ),
    ),
    # -- awaiting_plan: critical (7 days for the plan) -----------------------------------------
    FindingSpec(
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
        logged=Ago(days=4, clock=time(8, 50)),
        found_days_before=1,
        steps=(StepSpec(Ago(days=3, clock=time(9, 10)), Action.NOTIFY),),
    ),
    # -- awaiting_plan again: the first plan was rejected --------------------------------------
    FindingSpec(
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
        logged=Ago(months=1, days=24, clock=time(10, 0)),
        found_days_before=5,
        steps=(
            StepSpec(Ago(months=1, days=20, clock=time(9, 45)), Action.NOTIFY),
            StepSpec(
                Ago(days=21, clock=time(16, 10)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
                    root_cause="A line supervisor misunderstood the company's open-door policy.",
                    actions=(
                        ("Remind supervisors of the open-door policy", "HR manager", 30),
                        ("Post the code of conduct on every notice board", "HR manager", 14),
                    ),
                ),
            ),
            StepSpec(
                Ago(days=7, clock=time(11, 20)),
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
    FindingSpec(
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
        logged=Ago(months=1, days=4, clock=time(13, 0)),
        found_days_before=6,
        steps=(
            StepSpec(Ago(months=1, days=1, clock=time(9, 20)), Action.NOTIFY),
            StepSpec(
                Ago(days=4, clock=time(15, 35)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
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
    FindingSpec(
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
        logged=Ago(months=6, days=-5, clock=time(10, 30)),
        found_days_before=9,
        steps=(
            StepSpec(Ago(months=6, days=-12, clock=time(9, 0)), Action.NOTIFY),
            StepSpec(
                Ago(months=5, days=8, clock=time(8, 45)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
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
            StepSpec(
                Ago(months=5, days=1, clock=time(14, 0)),
                Action.ACCEPT_PLAN,
                note="Substitution first, then ventilation: the hierarchy of controls.",
            ),
            StepSpec(
                Ago(days=16, clock=time(10, 5)),
                Action.REQUEST_EXTENSION,
                actor="supplier",
                reason=(
                    "The ventilation contractor cannot fit the last four stations before the "
                    "end of next month; we ask for 30 more days."
                ),
                extend_days=30,
            ),
            StepSpec(
                Ago(days=13, clock=time(14, 20)),
                Action.DECLINE_EXTENSION,
                reason=(
                    "Replacing n-hexane, the main control, does not wait for the ventilation: "
                    "send the evidence of the substitution and the signed ventilation "
                    "contract by the deadline."
                ),
            ),
        ),
    ),
    # -- remediating: remediation deadline extended --------------------------------------------
    FindingSpec(
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
        logged=Ago(months=5, days=14, clock=time(9, 15)),
        found_days_before=3,
        steps=(
            StepSpec(Ago(months=5, days=10, clock=time(10, 0)), Action.NOTIFY),
            StepSpec(
                Ago(months=4, days=15, clock=time(7, 55)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
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
            StepSpec(
                Ago(months=4, days=6, clock=time(13, 10)),
                Action.ACCEPT_PLAN,
                note="Plan accepted; back pay to be shown per worker.",
            ),
            StepSpec(
                Ago(days=12, clock=time(16, 40)),
                Action.REQUEST_EXTENSION,
                actor="supplier",
                reason=(
                    "41 former workers must be traced through their home villages to receive "
                    "their back pay; we ask for two more months."
                ),
                extend_days=61,
            ),
            StepSpec(
                Ago(days=9, clock=time(11, 30)),
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
    FindingSpec(
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
        logged=Ago(months=5, days=2, clock=time(9, 0)),
        found_days_before=6,
        steps=(
            StepSpec(Ago(months=4, days=27, clock=time(10, 20)), Action.NOTIFY),
            StepSpec(
                Ago(months=4, days=5, clock=time(6, 30)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
                    root_cause="Payroll coded weekend overtime of agency workers as regular hours.",
                    actions=(
                        ("Correct payroll coding: 150% weekdays, 200% weekends", "Payroll", 20),
                        ("Back pay of unpaid premiums for 12 months", "Finance director", 60),
                        ("Payslips that show overtime hours and rates", "HR manager", 30),
                    ),
                ),
            ),
            StepSpec(Ago(months=3, days=25, clock=time(15, 0)), Action.ACCEPT_PLAN),
            StepSpec(
                Ago(days=8, clock=time(8, 5)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                note="Payroll corrected and back pay made; payroll extract attached.",
                evidence=(
                    EvidenceFile("payroll_overtime_corrected.csv", PAYROLL_CSV, "text/csv"),
                    EvidenceFile("back_pay_confirmation.txt", BACK_PAY_TXT, "text/plain"),
                ),
            ),
        ),
    ),
    # -- sanction_review: termination proposed, awaiting a second decision maker ---------------
    FindingSpec(
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
        logged=Ago(days=105, clock=time(10, 45)),
        found_days_before=8,
        steps=(
            StepSpec(Ago(days=100, clock=time(9, 0)), Action.NOTIFY),
            StepSpec(
                Ago(days=62, clock=time(14, 15)),
                Action.ESCALATE,
                reason="No plan a week after the deadline, and access was refused a third time.",
            ),
            StepSpec(
                Ago(days=55, clock=time(10, 0)),
                Action.WARN,
                actor=CECILIA,
                reason="Formal warning: give the monitors access and send a plan at once.",
            ),
            StepSpec(
                Ago(days=26, clock=time(9, 30)),
                Action.ESCALATE,
                reason="Still no plan and no access after the formal warning.",
            ),
            StepSpec(
                Ago(days=5, clock=time(16, 0)),
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
    FindingSpec(
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
        logged=Ago(months=10, days=20, clock=time(10, 0)),
        found_days_before=7,
        steps=(
            StepSpec(Ago(months=10, days=15, clock=time(9, 30)), Action.NOTIFY),
            StepSpec(
                Ago(months=9, days=25, clock=time(11, 0)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
                    root_cause="Czech translations were never asked of the chemical distributors.",
                    actions=(
                        ("Obtain Czech SDS for all 23 substances", "EHS coordinator", 30),
                        ("SDS binders at both stores; train shift leads", "EHS coordinator", 45),
                    ),
                ),
            ),
            StepSpec(Ago(months=9, days=18, clock=time(14, 30)), Action.ACCEPT_PLAN),
            StepSpec(
                Ago(months=6, days=2, clock=time(9, 50)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                note="Czech SDS obtained.",
            ),
            StepSpec(
                Ago(months=5, days=25, clock=time(13, 40)),
                Action.REJECT_REMEDIATION,
                reason="Czech SDS for only 9 of the 23 substances; no record of the training.",
            ),
            StepSpec(
                Ago(months=4, days=20, clock=time(8, 30)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                note="All 23 SDS in Czech, posted in both stores; training records attached.",
                evidence=(EvidenceFile("sds_register_cs.csv", SDS_REGISTER_CSV, "text/csv"),),
            ),
            StepSpec(
                Ago(months=4, days=2, clock=time(15, 10)),
                Action.VERIFY,
                note="Checked on a follow-up visit: SDS in place, shift leads briefed.",
            ),
        ),
    ),
    # -- closed --------------------------------------------------------------------------------
    FindingSpec(
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
        logged=Ago(months=7, days=3, clock=time(11, 15)),
        found_days_before=10,
        steps=(
            StepSpec(Ago(months=7, clock=time(9, 0)), Action.NOTIFY),
            StepSpec(
                Ago(months=6, days=14, clock=time(10, 30)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
                    root_cause="Peak weeks were staffed with voluntary rest-day work, no rotation.",
                    actions=(
                        ("Rest-day rotation in the scheduling tool", "Production planner", 30),
                        ("Monthly hours report to the buyer for 6 months", "Sustainability", 180),
                    ),
                ),
            ),
            StepSpec(Ago(months=6, days=8, clock=time(13, 0)), Action.ACCEPT_PLAN),
            StepSpec(
                Ago(months=3, days=12, clock=time(9, 0)),
                Action.REPORT_REMEDIATION,
                actor="supplier",
                evidence=(EvidenceFile("timesheets_peak_weeks.csv", TIMESHEETS_CSV, "text/csv"),),
            ),
            StepSpec(
                Ago(months=2, days=25, clock=time(14, 20)),
                Action.VERIFY,
                note="Timesheets for the last peak weeks show a rest day every week.",
            ),
        ),
    ),
    # -- terminated: proposed by one decision maker, approved by the other ---------------------
    FindingSpec(
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
        logged=Ago(months=8, days=12, clock=time(9, 0)),
        found_days_before=6,
        steps=(
            StepSpec(Ago(months=8, days=10, clock=time(9, 30)), Action.NOTIFY),
            StepSpec(
                Ago(months=8, days=4, clock=time(17, 0)),
                Action.SUBMIT_PLAN,
                actor="supplier",
                plan=PlanSpec(
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
            StepSpec(
                Ago(months=8, clock=time(10, 0)),
                Action.REJECT_PLAN,
                reason=(
                    "Under the Employer Pays Principle the fees must be repaid by the employer "
                    "and passports returned now; lockers and a request to agencies remedy "
                    "neither."
                ),
            ),
            StepSpec(
                Ago(months=7, days=12, clock=time(9, 0)),
                Action.ESCALATE,
                reason="No revised plan by the revision deadline on a critical finding.",
            ),
            StepSpec(
                Ago(months=6, days=28, clock=time(14, 0)),
                Action.TERMINATE,
                actor=CECILIA,
                reason=(
                    "Forced-labour indicators remain and the supplier refuses to repay fees; "
                    "terminate the contract."
                ),
            ),
            StepSpec(
                Ago(months=6, days=21, clock=time(10, 30)),
                Action.APPROVE_TERMINATION,
                actor=DAVID,
                note="Approved after legal review of the termination clause.",
            ),
        ),
    ),
    # -- withdrawn: the contract ended with the termination above ------------------------------
    FindingSpec(
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
        logged=Ago(months=9, days=2, clock=time(10, 0)),
        found_days_before=5,
        steps=(
            StepSpec(Ago(months=8, days=28, clock=time(9, 0)), Action.NOTIFY),
            StepSpec(
                Ago(months=6, days=20, clock=time(11, 0)),
                Action.WITHDRAW,
                reason=(
                    "Contract RS-2021-ICT-07 was terminated (see {T}); the finding can no "
                    "longer be followed up under it."
                ),
            ),
        ),
    ),
)
