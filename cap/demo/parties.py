"""The demo's people, suppliers, contracts and the small fake evidence files they send."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cap.domain.inputs import ContractInput, SupplierInput
from cap.domain.model import Language

# -- people ----------------------------------------------------------------------------------

ANNA = "anna.lind@region-stockholm.example"  # contract manager: PCs, thin clients
ERIK = "erik.sandberg@region-stockholm.example"  # contract manager: monitors, desktop equipment
MARIA = "maria.ek@region-stockholm.example"  # contract manager: network, servers
CECILIA = "cecilia.berg@region-stockholm.example"  # decision maker
DAVID = "david.holm@region-stockholm.example"  # decision maker
BO = "bo.nilsson@region-stockholm.example"  # sustainability manager: receives escalations
JOHAN = "johan.falk@region-stockholm.example"  # the desk's administrator (IT)
SOFIA = "sofia.akesson@region-stockholm.example"  # internal auditor: reads only
#: The two people who decide sanctions (a termination needs both).
DECISION_MAKERS = (CECILIA, DAVID)

# -- suppliers and contracts -----------------------------------------------------------------

NORDIC = "556712-4830"
DATASERVICE = "556389-2217"
BALTIC = "304518772"  # Lithuanian company code
AURALIS = "38145729"  # Danish CVR number
KRONBERG = "DE298145632"  # German VAT identification number

SUPPLIERS: tuple[SupplierInput, ...] = (
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

CONTRACTS: tuple[ContractInput, ...] = (
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

PAYROLL_CSV = (
    b"employee_id;month;regular_hours;overtime_weekday_h;overtime_weekend_h;"
    b"overtime_rate_weekday;overtime_rate_weekend;back_pay_cny\n"
    b"KS-10482;M-3;174;22;16;150%;200%;1284.00\n"
    b"KS-10483;M-3;174;18;8;150%;200%;842.50\n"
    b"KS-11907;M-3;174;24;16;150%;200%;1390.75\n"
    b"KS-12055;M-3;166;12;0;150%;200%;310.00\n"
)
BACK_PAY_TXT = (
    b"Back pay of unpaid overtime premiums\n"
    b"Workers covered: 312 (incl. 87 agency workers)\n"
    b"Period: the 12 months before the audit\n"
    b"Paid by bank transfer; acknowledged by the worker representatives' committee.\n"
)
SDS_REGISTER_CSV = (
    b"substance;supplier;sds_language;sds_version;posted_at_store\n"
    b"Isopropanol;ChemTrade s.r.o.;cs;4.1;A+B\n"
    b"Flux remover FR-20;ChemTrade s.r.o.;cs;2.0;A\n"
    b"Thermal paste TP-7;Kontakt CZ a.s.;cs;1.3;B\n"
)
TIMESHEETS_CSV = (
    b"week;workers;avg_hours;max_hours;workers_without_rest_day\n"
    b"W-12;214;58.5;60;0\n"
    b"W-11;214;57.0;60;0\n"
    b"W-10;209;59.5;60;0\n"
)
