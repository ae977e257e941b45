"""Risk rules as data: the shipped file, found where the deadline rules are; every kind of broken
file refused in one line naming the file, the factor and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cap.config import Settings, default_risk_rules_path, default_rules_path
from cap.domain.risk import (
    COUNTRY_FACTORS,
    FACTORS,
    AuditFactor,
    BandFactor,
    CountryFactor,
    FindingsFactor,
    load_risk_rules,
)
from cap.domain.rules import RulesError

SHIPPED = Path(__file__).resolve().parent.parent / "rules" / "risk.toml"
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
#: The countries the shipped table must name (the ICT production countries of the issue).
ICT_COUNTRIES = {"CN", "VN", "MY", "TH", "IN", "PH", "ID", "MX", "TW", "KR", "JP", "SE", "DE",
                 "PL", "CZ", "HU", "US"}  # fmt: skip


def write(folder: Path, text: str, name: str = "risk.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    """The shipped risk rules with the first occurrence of ``old`` replaced by ``new``."""
    assert old in SHIPPED_TEXT, f"risk.toml no longer contains {old!r}"
    return SHIPPED_TEXT.replace(old, new, 1)


def error_of(path: Path) -> str:
    with pytest.raises(RulesError) as info:
        load_risk_rules(path)
    return info.value.message


# -- 1. The shipped rules --------------------------------------------------------------------


def test_it_loads_the_shipped_file_with_every_factor() -> None:
    rules = load_risk_rules(SHIPPED)
    assert list(rules.factors) == list(FACTORS)
    for name in COUNTRY_FACTORS:
        factor = rules.factors[name]
        assert isinstance(factor, CountryFactor)
        assert set(factor.countries) == ICT_COUNTRIES
        assert 0 <= factor.default <= 1
    assert rules.factors["freedom_of_association"].weight == 2
    value = rules.factors["contract_value"]
    assert isinstance(value, BandFactor)
    assert [b.start for b in value.bands] == [0, 1e6, 1e7, 5e7, 1e8]
    opened = rules.factors["open_findings"]
    assert isinstance(opened, FindingsFactor)
    assert (opened.points.minor, opened.points.major, opened.points.critical) == (1, 3, 10)
    audit = rules.factors["last_audit"]
    assert isinstance(audit, AuditFactor) and audit.never == 1.0
    assert rules.total_weight == 13


def test_the_shipped_table_says_it_is_illustrative() -> None:
    assert "ILLUSTRATIVE" in SHIPPED_TEXT and "ITUC Global Rights Index" in SHIPPED_TEXT


def test_settings_find_the_shipped_file_beside_the_deadline_rules(tmp_path: Path) -> None:
    assert default_risk_rules_path() == default_rules_path().parent / "risk.toml"
    assert default_risk_rules_path().is_file()
    assert Settings().risk_rule_set.source == str(default_risk_rules_path())
    own = write(tmp_path, edited("weight = 3", "weight = 5"))
    assert Settings(risk_rules=own).risk_rule_set.factors["open_findings"].weight == 5


# -- 2. Broken files ---------------------------------------------------------------------------

_FOA = "[factor.freedom_of_association]\nweight = 2"
_VALUE = "[factor.contract_value]\nweight = 1"

# (old text, new text, what the message must say after the file name)
BROKEN: dict[str, tuple[str, str, list[str]]] = {
    "invalid TOML": ("version = 1", "version = ", ["not valid TOML"]),
    "version 2": ("version = 1", "version = 2", ["version: 2 is not supported"]),
    "unknown section": (
        "version = 1",
        "version = 1\n[weights]\ncountry = 2\n",
        ["unknown section(s) weights", "[factor.NAME]"],
    ),
    "unknown factor": (
        _FOA,
        "[factor.child_labour]\nweight = 1\n\n" + _FOA,
        ["factor 'child_labour': not a known factor", "the factors are country, "],
    ),
    "misspelt factor": (
        "[factor.working_time]",
        "[factor.working_times]",
        ["factor 'working_times': not a known factor (did you mean 'working_time'?)"],
    ),
    "unknown key": (
        _VALUE,
        _VALUE + "\ncurrency = 'SEK'",
        ["factor 'contract_value': currency: is not a known field"],
    ),
    "misspelt key": (
        _FOA,
        "[factor.freedom_of_association]\nwieght = 2",
        ["factor 'freedom_of_association': wieght: is not a known field (did you mean 'weight'?)"],
    ),
    "weight not a number": (
        _FOA,
        '[factor.freedom_of_association]\nweight = "high"',
        ["factor 'freedom_of_association': weight: 'high' is not a number"],
    ),
    "weight true": (
        _VALUE,
        "[factor.contract_value]\nweight = true",
        ["factor 'contract_value': weight: True is not a number"],
    ),
    "negative weight": (
        _VALUE,
        "[factor.contract_value]\nweight = -1",
        ["factor 'contract_value': weight: -1 is too small; give 0 or more"],
    ),
    "three-letter country code": (
        "CN = 1.0",
        "CHN = 1.0",
        ["factor 'freedom_of_association': countries: 'CHN' is not a two-letter country code"],
    ),
    "lower-case country code": (
        "SE = 0.1",
        "se = 0.1",
        ["factor 'country': countries: 'se' is not a two-letter country code in capitals"],
    ),
    "level above 1": (
        "IN = 0.9",
        "IN = 9",
        ["factor 'freedom_of_association': countries.IN: 9 is too large; give 1 or less"],
    ),
    "level as text": (
        "default = 0.5 ",
        'default = "high" ',
        ["factor 'country': default: 'high' is not a number"],
    ),
    "bands not ascending": (
        "{ from = 10_000_000, level = 0.6 }",
        "{ from = 100_000, level = 0.6 }",
        ["factor 'contract_value': bands: 'from' must go up", "100000 follows 1000000"],
    ),
    "levels going down": (
        "{ from = 730, level = 0.7 }",
        "{ from = 730, level = 0.3 }",
        ["factor 'last_audit': bands: 'level' must not go down from band to band: 0.3"],
    ),
    "first band not from 0": (
        "{ from = 0, level = 0.0 },\n  { from = 365",
        "{ from = 30, level = 0.0 },\n  { from = 365",
        ["factor 'last_audit': bands: the first band must start from 0, not 30"],
    ),
    "band without level": (
        "{ from = 1_000_000, level = 0.3 }",
        "{ from = 1_000_000 }",
        ["factor 'contract_value': bands.1.level: is required"],
    ),
    "unknown severity": (
        "points = { minor = 1, major = 3, critical = 10 }",
        "points = { minor = 1, major = 3, severe = 10 }",
        ["factor 'open_findings': points.severe: is not a known field"],
    ),
    "points not a number": (
        "points = { minor = 0.5",
        'points = { minor = "half"',
        ["factor 'past_findings': points.minor: 'half' is not a number"],
    ),
    "full_at zero": (
        "full_at = 10",
        "full_at = 0",
        ["factor 'open_findings': full_at: 0 is too small; give more than 0"],
    ),
    "audit without never": (
        "never = 1.0\n",
        "",
        ["factor 'last_audit': never: is required"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_it_refuses_a_broken_file_naming_file_factor_and_field(tmp_path: Path, case: str) -> None:
    old, new, expected = BROKEN[case]
    path = write(tmp_path, edited(old, new))
    message = error_of(path)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_it_refuses_rules_where_nothing_weighs(tmp_path: Path) -> None:
    path = write(tmp_path, "version = 1\n[factor.country]\nweight = 0\ndefault = 0.5\n")
    assert error_of(path) == f"{path}: factor: no factor has a weight above 0; nothing would score"


def test_it_scores_only_the_factors_declared(tmp_path: Path) -> None:
    path = write(tmp_path, "[factor.country]\nweight = 1\ndefault = 0.5\n")
    assert list(load_risk_rules(path).factors) == ["country"]


def test_it_says_a_missing_file_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    assert error_of(path) == f"{path}: no such risk rules file (CAP_RISK_RULES)"
    assert (
        error_of(tmp_path) == f"{tmp_path}: is a folder; CAP_RISK_RULES names one risk rules file"
    )


def test_settings_refuse_a_broken_file_when_the_rules_are_asked_for(tmp_path: Path) -> None:
    path = write(tmp_path, edited("weight = 3", 'weight = "3"'))
    with pytest.raises(RulesError, match="factor 'open_findings': weight: '3' is not a number"):
        _ = Settings(risk_rules=path).risk_rule_set
