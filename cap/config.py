"""Configuration from the environment (``CAP_*``). Secrets come only from here."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cap.domain.calendar import BusinessCalendar
from cap.domain.lifecycle import DeadlinePolicy


class Settings(BaseSettings):
    """Every setting has a default that works on one machine with no server."""

    model_config = SettingsConfigDict(env_prefix="CAP_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///cap.db",
        description="SQLAlchemy URL; postgresql+psycopg://user@host/db for several processes",
    )
    timezone: str = "Europe/Stockholm"
    holiday_country: str = "SE"
    buyer_name: str = "Region Stockholm"
    default_language: str = "sv"
    base_url: str = "http://localhost:8000"
    evidence_max_bytes: int = 20 * 1024 * 1024
    import_max_rows: int = 100_000
    mail_dir: Path = Path("mail")

    @cached_property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(timezone=self.timezone, country=self.holiday_country or None)

    @cached_property
    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy()
