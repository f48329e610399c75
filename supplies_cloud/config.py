"""Settings of the supplies cloud: environment (``SUPPLIES_CLOUD_`` prefix) and an optional YAML file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "supplies-cloud"


class CloudSettings(BaseSettings):
    """Everything the service can be told. Secrets are SecretStr and never logged."""

    model_config = SettingsConfigDict(env_prefix="SUPPLIES_CLOUD_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Folder for the SQLite database.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; default SQLite in data_dir. PostgreSQL: "
        "`postgresql+psycopg://user:password@host:5432/dbname`.",
    )
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8400, ge=1, le=65535, description="Port to listen on.")
    public_url: str = Field(
        "http://127.0.0.1:8400", description="How browsers reach the service (storefront links, e-mails)."
    )
    secret_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
        description="Signs sessions, CSRF tokens and storefront links. Set it, or every restart logs "
        "everybody out and invalidates the links already handed out.",
    )
    secure_cookies: bool | None = Field(
        None, description="Send cookies with the Secure flag; default: when public_url is https."
    )
    dealer_name: str = Field("Supplies desk", description="Shown on the pages and in e-mails.")
    dealer_email: str | None = Field(None, description="Where new-order e-mails go.")
    smtp_host: str | None = Field(None, description="SMTP server for e-mails; none: no e-mails.")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    mail_from: str = Field("supplies-cloud@localhost", description="Sender address of e-mails.")
    webhook_url: str | None = Field(None, description="POSTed a signed JSON event on every new order.")
    webhook_secret: SecretStr | None = Field(None, description="HMAC-SHA256 key of the webhook signature.")
    rate_limit_per_minute: int = Field(120, ge=1, description="Requests per minute allowed per API key.")
    reward_monitored_days: int = Field(30, ge=1, description="Days of continuous monitoring a reward needs.")
    reward_orders: int = Field(2, ge=1, description="Supplies orders through the service a reward needs.")
    reward_max_gap_days: int = Field(
        1, ge=0, description="Missing daily syncs that still count as continuous."
    )
    currency: str = Field(
        "EUR", pattern=r"^[A-Z]{3}$", description="Currency of catalog imports without one."
    )

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'supplies-cloud.sqlite3'}"

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.public_url.startswith("https://")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        config_file = os.environ.get("SUPPLIES_CLOUD_CONFIG")
        if config_file:
            sources += (YamlConfigSettingsSource(settings_cls, yaml_file=config_file),)
        return sources


def load(overrides: dict[str, Any] | None = None) -> CloudSettings:
    return CloudSettings(**(overrides or {}))
