"""Supplier risk: which suppliers to follow up first. Pure: facts in, a score out.

The factors and their scales are data, ``rules/risk.toml`` (shipped inside the package beside
``default.toml``); ``CAP_RISK_RULES`` names another file. A setting of its own, not a file found
beside ``CAP_RULES``: that may name a folder whose every ``*.toml`` file is read as deadline
rules, and a risk file there would be refused as one. The file is validated once, at load, as
the deadline rules are: an error is one line naming the file, the factor and the field.

A factor gives a level from 0 to 1; the score is ``100 * sum(weight * level) / sum(weight)``,
0 to 100, and a factor's points are its share of it. The factors (any may be left out):

- ``country``, ``freedom_of_association``, ``working_time``, ``gender_inequality``: a level per
  country of production (ISO 3166 alpha-2) with a default. The countries of production are the
  supplier's own and those of its findings' sites; the riskiest counts, and the breakdown lists
  each with its sites.
- ``contract_value``: bands over the sum of the values of the supplier's contracts in force.
- ``open_findings``, ``past_findings``: points per finding by severity, in full from ``full_at``.
- ``last_audit``: bands over the days since the last audit (``never``: none): the latest
  audit recorded (``cap audit add``) or, for a supplier with none recorded, the latest finding
  from a factory or desktop audit.

Every level only rises with its measure (bands must go up), so more findings, more money or a
riskier site never lower a score. The score is deterministic: the same facts and rules give the
same figures, factors in the order above.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cap.domain.model import Severity
from cap.domain.rules import RulesError, _read_toml, _validate

_COUNTRY = re.compile(r"[A-Z]{2}")

Weight = Annotated[float, Field(ge=0, strict=True)]
Level = Annotated[float, Field(ge=0, le=1, strict=True)]


class _Factor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: Weight


class CountryFactor(_Factor):
    """A level per country of production; ``default`` for any country not listed."""

    default: Level
    countries: dict[str, Level] = {}

    @field_validator("countries")
    @classmethod
    def _two_letters(cls, countries: dict[str, float]) -> dict[str, float]:
        for code in countries:
            if not _COUNTRY.fullmatch(code):
                raise ValueError(
                    f"{code!r} is not a two-letter country code in capitals (ISO 3166 "
                    "alpha-2, e.g. SE, CN)"
                )
        return countries

    def level_of(self, country: str) -> float:
        return self.countries.get(country, self.default)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Annotated[float, Field(alias="from", ge=0, strict=True)]
    level: Level


class BandFactor(_Factor):
    """Levels by bands of a measure: a band applies from its ``from`` to the next one's."""

    bands: Annotated[list[Band], Field(min_length=1)]

    @field_validator("bands")
    @classmethod
    def _ascending(cls, bands: list[Band]) -> list[Band]:
        if bands[0].start != 0:
            raise ValueError(f"the first band must start from 0, not {_number(bands[0].start)}")
        for before, after in itertools.pairwise(bands):
            if after.start <= before.start:
                raise ValueError(
                    f"'from' must go up from band to band: {_number(after.start)} follows "
                    f"{_number(before.start)}"
                )
            if after.level < before.level:
                raise ValueError(
                    f"'level' must not go down from band to band: {after.level:g} (from "
                    f"{_number(after.start)}) follows {before.level:g}"
                )
        return bands

    def level_of(self, value: float | Decimal) -> float:
        return next(b.level for b in reversed(self.bands) if b.start <= value)


def _number(value: float) -> str:
    """A number as it is written in the file: 1000000, not 1e+06."""
    return f"{value:.0f}" if value.is_integer() else f"{value:g}"


class AuditFactor(BandFactor):
    """Bands over the days since the last audit; ``never`` for a supplier never audited."""

    never: Level


class SeverityPoints(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    minor: Weight = 0
    major: Weight = 0
    critical: Weight = 0

    def of(self, severity: Severity) -> float:
        points: float = getattr(self, severity.value)
        return points


class FindingsFactor(_Factor):
    """Points per finding by severity; the level is 1 from ``full_at`` points on."""

    points: SeverityPoints
    full_at: Annotated[float, Field(gt=0, strict=True)]


Factor = CountryFactor | BandFactor | FindingsFactor

#: Every factor there is, in the order a breakdown lists them, with the model of its table.
FACTORS: dict[str, type[_Factor]] = {
    "country": CountryFactor,
    "freedom_of_association": CountryFactor,
    "working_time": CountryFactor,
    "gender_inequality": CountryFactor,
    "contract_value": BandFactor,
    "open_findings": FindingsFactor,
    "past_findings": FindingsFactor,
    "last_audit": AuditFactor,
}
COUNTRY_FACTORS = tuple(n for n, m in FACTORS.items() if m is CountryFactor)


@dataclass(frozen=True)
class RiskRules:
    """Validated risk rules (build with :func:`load_risk_rules`): the factors declared, in
    :data:`FACTORS` order, at least one with a weight above 0."""

    source: str
    factors: Mapping[str, Factor]

    @property
    def total_weight(self) -> float:
        return sum(f.weight for f in self.factors.values())


_TOP = {"version", "factor"}


def load_risk_rules(path: Path) -> RiskRules:
    """Read and validate a risk rules file; :class:`RulesError` names the file, the factor and
    the field."""
    if path.is_dir():
        raise RulesError(f"{path}: is a folder; CAP_RISK_RULES names one risk rules file")
    if not path.exists():
        raise RulesError(f"{path}: no such risk rules file (CAP_RISK_RULES)")
    data = _read_toml(path)
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise RulesError(
            f"{path}: unknown section(s) {', '.join(unknown)}; the sections are version and "
            "[factor.NAME]"
        )
    version = data.get("version", 1)
    if type(version) is not int or version != 1:
        raise RulesError(f"{path}: version: {version!r} is not supported (use 1)")
    tables = data.get("factor", {})
    if not isinstance(tables, dict):
        raise RulesError(f"{path}: factor: write each factor as a table [factor.NAME]")
    for name in tables:
        if name not in FACTORS:
            match = difflib.get_close_matches(name, list(FACTORS), n=1)
            maybe = f" (did you mean {match[0]!r}?)" if match else ""
            raise RulesError(
                f"{path}: factor '{name}': not a known factor{maybe}; the factors are "
                f"{', '.join(FACTORS)}"
            )
    factors: dict[str, Factor] = {}
    for name, model in FACTORS.items():
        if name in tables:
            factor: Any = _validate(model, tables[name], f"{path}: factor '{name}'")
            factors[name] = factor
    rules = RiskRules(source=str(path), factors=factors)
    if rules.total_weight <= 0:
        raise RulesError(f"{path}: factor: no factor has a weight above 0; nothing would score")
    return rules


# -- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A place of production named by a finding: its country, and its name when given."""

    country: str
    name: str | None = None


@dataclass(frozen=True)
class SupplierFacts:
    """What the risk of one supplier is computed from.

    ``contract_value``: the sum of its contracts in force; ``open_findings`` and
    ``past_findings``: how many by severity; ``last_audit``: the date of the last audit."""

    country: str
    sites: tuple[Site, ...] = ()
    contract_value: Decimal = Decimal(0)
    open_findings: Mapping[Severity, int] = field(default_factory=dict)
    past_findings: Mapping[Severity, int] = field(default_factory=dict)
    last_audit: date | None = None


@dataclass(frozen=True)
class FactorScore:
    """One factor of a score: ``raw`` what was measured (a country code, an amount, points,
    days; ``None``: never audited), ``detail`` it in words, ``scaled`` its level (0 to 1),
    ``points`` its share of the score."""

    factor: str
    raw: str | float | Decimal | None
    detail: str
    scaled: float
    weight: float
    points: float


@dataclass(frozen=True)
class CountryRisk:
    """A country of production: ``registered`` the supplier's own country, ``sites`` the
    findings' sites there by name, ``levels`` each country factor's level there, ``points``
    what the country factors would give if all production were there."""

    country: str
    registered: bool
    sites: tuple[str, ...]
    levels: Mapping[str, float]
    points: float


@dataclass(frozen=True)
class RiskScore:
    """A supplier's score (0 to 100) and its breakdown; ``top_factor`` gives the most points
    (``None`` for a score of 0)."""

    score: float
    top_factor: str | None
    factors: tuple[FactorScore, ...]
    countries: tuple[CountryRisk, ...]


def score_supplier(facts: SupplierFacts, rules: RiskRules, *, today: date) -> RiskScore:
    """The score of the supplier ``facts`` describe, on ``today``."""
    total = rules.total_weight
    countries = _countries(facts, rules, total)
    exact: list[float] = []
    factors: list[FactorScore] = []
    for name, factor in rules.factors.items():
        raw, detail, scaled = _measure(name, factor, facts, countries, today)
        share = 100 * factor.weight * scaled / total
        exact.append(share)
        factors.append(FactorScore(name, raw, detail, scaled, factor.weight, round(share, 2)))
    # The most points; between equals, the first in FACTORS order (max keeps the first).
    best = max(range(len(exact)), key=exact.__getitem__, default=None)
    top = factors[best].factor if best is not None and exact[best] > 0 else None
    return RiskScore(round(sum(exact), 2), top, tuple(factors), countries)


def _countries(facts: SupplierFacts, rules: RiskRules, total: float) -> tuple[CountryRisk, ...]:
    """Every country of production by code, with the names of its sites."""
    names: dict[str, set[str]] = {facts.country: set()}
    for site in facts.sites:
        names.setdefault(site.country, set())
        if site.name:
            names[site.country].add(site.name)
    rows = []
    for code in sorted(names):
        levels = {
            n: f.level_of(code) for n, f in rules.factors.items() if isinstance(f, CountryFactor)
        }
        points = sum(100 * rules.factors[n].weight * level / total for n, level in levels.items())
        rows.append(
            CountryRisk(code, code == facts.country, tuple(sorted(names[code])), levels,
                        round(points, 2))
        )  # fmt: skip
    return tuple(rows)


def _measure(
    name: str,
    factor: Factor,
    facts: SupplierFacts,
    countries: tuple[CountryRisk, ...],
    today: date,
) -> tuple[str | float | Decimal | None, str, float]:
    """(raw, detail, scaled) of one factor."""
    if isinstance(factor, CountryFactor):
        # The riskiest country; between equals, the first by code (max keeps the first).
        worst = max(countries, key=lambda c: c.levels[name])
        return worst.country, _where(worst), worst.levels[name]
    if isinstance(factor, FindingsFactor):
        counts = facts.open_findings if name == "open_findings" else facts.past_findings
        points = float(sum(factor.points.of(s) * counts.get(s, 0) for s in Severity))
        return points, _counted(counts), min(1.0, points / factor.full_at)
    if isinstance(factor, AuditFactor):
        if facts.last_audit is None:
            return None, "never audited", factor.never
        days = max(0, (today - facts.last_audit).days)
        return days, f"{days} days since {facts.last_audit.isoformat()}", factor.level_of(days)
    value = facts.contract_value
    return value, f"{value:,.0f} in contracts in force", factor.level_of(value)


def _where(country: CountryRisk) -> str:
    where = ["registered"] if country.registered else []
    where += [f"site {s}" for s in country.sites]
    return f"{country.country} ({', '.join(where or ['a site of a finding'])})"


def _counted(counts: Mapping[Severity, int]) -> str:
    parts = [f"{counts[s]} {s.value}" for s in reversed(Severity) if counts.get(s)]
    return ", ".join(parts) or "none"
