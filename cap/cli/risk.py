"""`cap risk list|show`: suppliers scored by the risk rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cap.cli.base import JsonOption, app, database_now, echo_json, open_workflow, table

if TYPE_CHECKING:
    from cap.workflow.risk import SupplierRisk

risk_app = typer.Typer(
    help="Supplier risk by the risk rules (CAP_RISK_RULES): whom to follow up first.",
    no_args_is_help=True,
)
app.add_typer(risk_app, name="risk")


@risk_app.command("list")
def risk_list(as_json: JsonOption = False) -> None:
    """Every supplier by risk, the highest first: rank, score and the factor weighing most."""
    workflow = open_workflow()
    risks = workflow.supplier_risks(now=database_now(workflow))
    if as_json:
        echo_json(risks)
        return
    table(
        [
            {
                "rank": rank, "org_number": r.org_number, "name": r.name,
                "score": f"{r.score:.1f}", "top": _top(r),
            }
            for rank, r in zip(_ranks([r.score for r in risks]), risks, strict=True)
        ],
        [("rank", "RANK"), ("org_number", "ORG NUMBER"), ("name", "NAME"), ("score", "SCORE"),
         ("top", "TOP FACTOR")],
    )  # fmt: skip


@risk_app.command("show")
def risk_show(
    org_number: Annotated[str, typer.Argument(help="The supplier's organisation number.")],
    as_json: JsonOption = False,
) -> None:
    """One supplier's score and its breakdown: each factor, each country of production."""
    workflow = open_workflow()
    risk = workflow.supplier_risk(org_number, now=database_now(workflow))
    if as_json:
        echo_json(risk)
        return
    typer.echo(f"{risk.name} ({risk.org_number}, {risk.country}): risk {risk.score:.1f} of 100 "
               f"on {risk.as_of.isoformat()}")  # fmt: skip
    table(
        [
            {
                "factor": f.factor, "measured": f.detail, "level": f"{f.scaled:.2f}",
                "weight": f"{f.weight:g}", "points": f"{f.points:.1f}",
            }
            for f in risk.factors
        ],
        [("factor", "FACTOR"), ("measured", "MEASURED"), ("level", "LEVEL"),
         ("weight", "WEIGHT"), ("points", "POINTS")],
        indent="  ",
    )  # fmt: skip
    if not risk.countries or not risk.countries[0].levels:
        return
    typer.echo("countries of production (the riskiest counts):")
    factors = list(risk.countries[0].levels)
    levels = [(f"level_{f}", _HEADINGS.get(f, f)) for f in factors]
    table(
        [
            {
                "country": c.country,
                "where": ", ".join((["registered"] if c.registered else []) + list(c.sites))
                or "a site of a finding",
                **{f"level_{f}": f"{c.levels[f]:.2f}" for f in factors},
                "points": f"{c.points:.1f}",
            }
            for c in risk.countries
        ],
        [("country", "COUNTRY"), ("where", "WHERE"), *levels, ("points", "POINTS")],
        indent="  ",
    )  # fmt: skip


#: The country factors' columns, short enough to sit side by side.
_HEADINGS = {
    "country": "PRODUCTION",
    "freedom_of_association": "ASSOCIATION",
    "working_time": "WORKING TIME",
    "gender_inequality": "GENDER",
}


def _top(risk: SupplierRisk) -> str | None:
    top = next((f for f in risk.factors if f.factor == risk.top_factor), None)
    return f"{top.factor}: {top.detail}" if top is not None else None


def _ranks(scores: list[float]) -> list[int]:
    """Places in a list sorted by score: equal scores share the place (1, 2, 2, 4)."""
    ranks: list[int] = []
    for index, score in enumerate(scores):
        ranks.append(ranks[-1] if index and score == scores[index - 1] else index + 1)
    return ranks
