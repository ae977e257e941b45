"""Configuration from the environment (``CAP_*``). Secrets come only from here."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cap.domain.calendar import BusinessCalendar
from cap.domain.inputs import email_address
from cap.domain.model import EMAIL_KINDS
from cap.domain.risk import RiskRules, load_risk_rules
from cap.domain.rules import Rules, load_rules


class Settings(BaseSettings):
    """Every setting has a default that works on one machine with no server."""

    model_config = SettingsConfigDict(env_prefix="CAP_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///cap.db",
        description="SQLAlchemy URL; postgresql+psycopg://user@host/db for several processes",
    )
    rules: Path | None = Field(
        default=None, description="A rules file or folder replacing the shipped rules/default.toml"
    )
    risk_rules: Path | None = Field(
        default=None, description="A risk rules file replacing the shipped rules/risk.toml"
    )
    buyer_name: str = "Region Stockholm"
    default_language: str = "sv"
    base_url: str = "http://localhost:8000"
    evidence_max_bytes: int = 20 * 1024 * 1024
    supplier_link_days: int = Field(
        default=60, ge=1, le=3650, description="Days a link sent to a supplier opens"
    )
    import_max_rows: int = 100_000
    mail_dir: Path = Field(
        default=Path("mail"), description="Where emails go as .eml files when no SMTP host is set"
    )
    templates_dir: Path | None = Field(
        default=None, description="A folder of email templates overriding the shipped ones"
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs sessions and supplier links; `cap init --secret-file` makes one",
    )

    # People who are not contract managers but receive escalations.
    sustainability_manager: str = ""
    decision_makers: str = ""

    # Delivery.
    smtp_host: str = ""
    smtp_port: int | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for the SMTP server (PEM)"
    )
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(default=60.0, gt=0, description="Seconds per message, in all")
    mail_from: str = "cap@localhost"
    retry_horizon_hours: float = Field(default=24.0, gt=0)
    delivery_batch: int = Field(default=200, gt=0)
    delivery_lease_seconds: float = Field(default=300.0, gt=0)
    delivery_connections: int = Field(default=8, ge=1, le=32)

    # The worker.
    sweep_every: float = Field(default=300.0, gt=0, description="Seconds between sweeps")
    deliver_every: float = Field(default=10.0, gt=0, description="Seconds between deliveries")

    @field_validator("sustainability_manager", "decision_makers")
    @classmethod
    def _check_addresses(cls, value: str) -> str:
        """Each comma-separated address must be one cap can send to (found at start, not at
        the first escalation)."""
        for address in _addresses(value):
            email_address(address)
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # A short key can be guessed offline from one signed link; never show it back.
        if value is not None and len(value.get_secret_value()) < SECRET_MIN_LENGTH:
            raise ValueError(
                f"is shorter than {SECRET_MIN_LENGTH} characters; make one with "
                "`cap init --secret-file cap.env`"
            )
        return value

    @field_validator("mail_from")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        # Not email_address: a relay on the same host may well take ``cap@localhost``.
        if not _SENDER.fullmatch(value):
            raise ValueError(f"{value!r} is not a sender address such as cap@region.example")
        return value

    @property
    def decision_maker_addresses(self) -> list[str]:
        return _addresses(self.decision_makers)

    @property
    def sustainability_manager_addresses(self) -> list[str]:
        return _addresses(self.sustainability_manager)

    @property
    def smtp_port_or_default(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return {"starttls": 587, "tls": 465, "none": 25}[self.smtp_tls]

    @property
    def rule_set(self) -> Rules:
        """The validated rules (read once per process and path; a broken file raises
        RulesError). A running process keeps the rules it started with."""
        return _rules_at(self.rules or default_rules_path())

    @property
    def calendar(self) -> BusinessCalendar:
        return self.rule_set.calendar

    @property
    def risk_rule_set(self) -> RiskRules:
        """The validated risk rules (read once per process and path, as :attr:`rule_set`)."""
        return _risk_rules_at(self.risk_rules or default_risk_rules_path())


#: The shortest CAP_SECRET_KEY accepted (``cap init --secret-file`` writes 64 characters).
SECRET_MIN_LENGTH = 32

#: A sender address: RFC 5322 atoms, one @, a host name (which may lack a dot): nothing that
#: could end a header or an SMTP command.
_SENDER = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _addresses(value: str) -> list[str]:
    return [a.strip() for a in value.split(",") if a.strip()]


@lru_cache(maxsize=1)
def default_rules_path() -> Path:
    """The shipped rules: inside the wheel when installed, else the checkout's ``rules/``."""
    installed = resources.files("cap") / "_data" / "rules" / "default.toml"
    if isinstance(installed, Path) and installed.is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "rules" / "default.toml"


@lru_cache(maxsize=8)
def _rules_at(path: Path) -> Rules:
    return load_rules(path, templates=EMAIL_KINDS)


def default_risk_rules_path() -> Path:
    """The shipped risk rules, found as the shipped rules are: beside them."""
    return default_rules_path().parent / "risk.toml"


@lru_cache(maxsize=8)
def _risk_rules_at(path: Path) -> RiskRules:
    return load_risk_rules(path)
