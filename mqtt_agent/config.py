"""Configuration: one pydantic-settings model fed by a YAML file, environment variables and flags.

Precedence, highest first: command-line flags, environment variables (``PRINTER_SUPPLIES_`` prefix,
``__`` between nested keys, e.g. ``PRINTER_SUPPLIES_MQTT__HOST``), the YAML file, the defaults.
Every field's description is the configuration reference (``docs/configuration.md``).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from .errors import ConfigError
from .snmp import AUTH_PROTOCOLS, PRIV_PROTOCOLS, SnmpAuth, SnmpTarget


class SnmpSettings(BaseModel):
    """How to talk SNMP to a printer. Per-printer values override the defaults."""

    model_config = ConfigDict(extra="forbid")

    version: Literal["1", "2c", "3"] = Field("2c", description="SNMP version: 1, 2c or 3.")
    community: SecretStr = Field(SecretStr("public"), description="Community string for v1/v2c.")
    port: int = Field(161, ge=1, le=65535, description="UDP port of the printer's SNMP agent.")
    timeout: float = Field(2.0, gt=0, le=60, description="Seconds to wait for each answer.")
    retries: int = Field(1, ge=0, le=10, description="Retries after a timeout.")
    user: str | None = Field(None, description="SNMPv3 user name.")
    auth_protocol: str = Field("sha", description=f"SNMPv3 auth protocol: {', '.join(AUTH_PROTOCOLS)}.")
    auth_key: SecretStr | None = Field(None, description="SNMPv3 authentication pass phrase.")
    priv_protocol: str = Field("aes", description=f"SNMPv3 privacy protocol: {', '.join(PRIV_PROTOCOLS)}.")
    priv_key: SecretStr | None = Field(None, description="SNMPv3 privacy pass phrase.")
    context: str = Field(
        "", description="SNMP context: the v3 context name; over v1/v2c sent as `community@context`."
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value).lower().removeprefix("v") if value is not None else value

    @field_validator("auth_protocol")
    @classmethod
    def _auth(cls, value: str) -> str:
        if value.lower() not in AUTH_PROTOCOLS:
            raise ValueError(f"must be one of {', '.join(AUTH_PROTOCOLS)}")
        return value.lower()

    @field_validator("priv_protocol")
    @classmethod
    def _priv(cls, value: str) -> str:
        if value.lower() not in PRIV_PROTOCOLS:
            raise ValueError(f"must be one of {', '.join(PRIV_PROTOCOLS)}")
        return value.lower()

    def auth(self) -> SnmpAuth:
        if self.version == "3" and not self.user:
            raise ConfigError("user: SNMPv3 needs a user name")
        return SnmpAuth(
            version=self.version,
            community=self.community.get_secret_value(),
            user=self.user,
            auth_protocol=self.auth_protocol,
            auth_key=self.auth_key.get_secret_value() if self.auth_key else None,
            priv_protocol=self.priv_protocol,
            priv_key=self.priv_key.get_secret_value() if self.priv_key else None,
        )


class SnmpOverrides(BaseModel):
    """Per-printer SNMP settings: any key of `snmp`, only those that differ from the defaults."""

    model_config = ConfigDict(extra="forbid")

    version: Literal["1", "2c", "3"] | None = None
    community: SecretStr | None = None
    port: int | None = Field(None, ge=1, le=65535)
    timeout: float | None = Field(None, gt=0, le=60)
    retries: int | None = Field(None, ge=0, le=10)
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: SecretStr | None = None
    priv_protocol: str | None = None
    priv_key: SecretStr | None = None
    context: str | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value).lower().removeprefix("v") if value is not None else value


class PrinterSettings(BaseModel):
    """A printer to watch, by IP address or DNS name."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(description="IP address or DNS name; `host:port` is accepted too.")
    name: str | None = Field(None, description="Display name; defaults to the printer's model.")
    snmp: SnmpOverrides = Field(
        default_factory=SnmpOverrides,
        description="Overrides of the `snmp` defaults for this printer.",
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c.isspace() for c in value):
            raise ValueError("must be an IP address or DNS name")
        return value


class SnmpProfile(SnmpSettings):
    """A named set of SNMP credentials that discovery tries, in order, on every address."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="Name the inventory remembers.")


class DiscoverySettings(BaseModel):
    """How the agent finds printers: a subnet sweep on request, mDNS and SNMP broadcast always."""

    model_config = ConfigDict(extra="forbid")

    networks: list[str] = Field(
        default_factory=list,
        description="CIDRs to sweep (e.g. 192.168.1.0/24); empty: the subnets of the host's own interfaces.",
    )
    rate: float = Field(100.0, gt=0, le=10000, description="Probe packets per second at most.")
    concurrency: int = Field(64, ge=1, le=1024, description="Addresses probed at the same time at most.")
    timeout: float = Field(1.0, gt=0, le=30, description="Seconds to wait for an address to answer.")
    retries: int = Field(0, ge=0, le=5, description="Probe retries per address (each costs a packet).")
    time_limit: float = Field(300.0, gt=0, description="A sweep stops after this many seconds.")
    max_addresses: int = Field(
        4096, ge=1, le=1 << 20, description="Refuse to sweep more addresses than this."
    )
    mdns: bool = Field(True, description="Browse DNS-SD/mDNS for printers while the service runs.")
    broadcast: bool = Field(True, description="Send an SNMP broadcast probe on each subnet periodically.")
    broadcast_interval: float = Field(3600.0, ge=60, description="Seconds between SNMP broadcast probes.")
    auto_monitor: bool = Field(True, description="Monitor newly found printers without asking.")

    @field_validator("networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a network (like 192.168.1.0/24)") from exc
        return value


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="MQTT broker address.")
    port: int = Field(1883, ge=1, le=65535, description="MQTT broker port (8883 is usual with TLS).")
    username: str | None = Field(None, description="MQTT user name.")
    password: SecretStr | None = Field(None, description="MQTT password.")
    client_id: str | None = Field(
        None, description="MQTT client id; defaults to `printer-supplies-<agent id>`."
    )
    tls: bool = Field(False, description="Connect with TLS.")
    ca_file: Path | None = Field(None, description="CA bundle to verify the broker with (TLS).")
    cert_file: Path | None = Field(None, description="Client certificate (TLS client auth).")
    key_file: Path | None = Field(None, description="Client private key (TLS client auth).")
    tls_insecure: bool = Field(False, description="Skip broker host name verification (testing only).")
    base_topic: str = Field("printer_supplies", description="Prefix of every topic the agent publishes.")
    discovery_prefix: str = Field("homeassistant", description="Home Assistant MQTT discovery prefix.")
    discovery: bool = Field(True, description="Publish Home Assistant MQTT discovery payloads.")
    keepalive: int = Field(60, ge=5, le=3600, description="MQTT keepalive in seconds.")

    @field_validator("base_topic", "discovery_prefix")
    @classmethod
    def _topic(cls, value: str) -> str:
        value = value.strip("/")
        if not value or any(c in value for c in "+#") or any(c.isspace() for c in value):
            raise ValueError("must be a topic prefix without wildcards or spaces")
        return value


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "printer-supplies"


def _default_agent_id() -> str:
    host = socket.gethostname().split(".")[0].lower()
    return "".join(c if c.isalnum() else "_" for c in host) or "agent"


class Settings(BaseSettings):
    """Everything the agent can be told."""

    model_config = SettingsConfigDict(
        env_prefix="PRINTER_SUPPLIES_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    agent_id: str = Field(
        default_factory=_default_agent_id,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Name of this agent; several agents can share a broker. Defaults to the host name.",
    )
    poll_interval: float = Field(300, ge=5, le=86400, description="Seconds between polls of each printer.")
    static_refresh: float = Field(
        86400, ge=60, description="Seconds before identity, descriptions and capacities are read again."
    )
    concurrency: int = Field(64, ge=1, le=1024, description="Printers polled at the same time at most.")
    low_threshold: int = Field(10, ge=1, le=90, description="Percent at or below which a supply is `low`.")
    reorder_point: int = Field(
        20,
        ge=0,
        le=100,
        description="Default reorder point of every supply, in percent left (receptacles: percent of room "
        "left), until the `set_default_reorder_point` command (the Home Assistant integration's option) "
        "stores another in the inventory. Each supply's own value is set from Home Assistant or MQTT "
        "and kept in the inventory.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the agent's own files (the inventory). "
        "Default: `$XDG_DATA_HOME/printer-supplies` or `~/.local/share/printer-supplies`.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    snmp: SnmpSettings = Field(default_factory=SnmpSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    printers: list[PrinterSettings] = Field(default_factory=list, description="Printers to poll.")
    snmp_profiles: list[SnmpProfile] = Field(
        default_factory=list,
        description="Credentials discovery tries in order; empty: one profile `default` made of `snmp`.",
    )
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    inventory_file: Path | None = Field(
        None,
        description="SQLite inventory of found and added printers; default `<data_dir>/inventory.sqlite3`.",
    )

    @property
    def inventory_path(self) -> Path:
        return self.inventory_file or self.data_dir / "inventory.sqlite3"

    def profiles(self) -> list[SnmpProfile]:
        """The credential profiles, in the order discovery tries them."""
        if self.snmp_profiles:
            return list(self.snmp_profiles)
        return [SnmpProfile.model_validate({**_plain(self.snmp), "name": "default"})]

    def profile(self, name: str | None) -> SnmpProfile:
        for profile in self.profiles():
            if profile.name == name:
                return profile
        return self.profiles()[0]

    def profile_target(self, host: str, port: int | None, profile_name: str | None) -> SnmpTarget:
        """The SNMP target of an inventory printer, with the credentials that worked for it."""
        profile = self.profile(profile_name)
        try:
            auth = profile.auth()
        except ConfigError as exc:
            raise ConfigError(f"snmp_profiles[{profile.name}].{exc}") from exc
        return SnmpTarget(host, port or profile.port, auth, profile.timeout, profile.retries, profile.context)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags arrive as init arguments; load_settings() adds the YAML file below the environment.
        return (init_settings, env_settings)

    def printer_target(self, printer: PrinterSettings) -> SnmpTarget:
        """The SNMP target of a printer: defaults, then the printer's own overrides."""
        prefix = f"printers[{printer.host}].snmp"
        overrides = {k: v for k, v in _plain(printer.snmp).items() if v is not None}
        try:
            merged = SnmpSettings.model_validate({**_plain(self.snmp), **overrides})
            auth = merged.auth()
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, prefix=prefix)) from exc
        except ConfigError as exc:
            raise ConfigError(f"{prefix}.{exc}") from exc
        host, port = split_host_port(printer.host, merged.port)
        return SnmpTarget(host, port, auth, merged.timeout, merged.retries, merged.context)


def _plain(model: BaseModel) -> dict[str, Any]:
    data = model.model_dump()
    for key, value in list(data.items()):
        if isinstance(value, SecretStr):
            data[key] = value.get_secret_value()
    return data


def split_host_port(text: str, default_port: int = 161) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":")) if rest.startswith(":") else default_port
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"{text}: port must be a number from 1 to 65535")
        return host, int(port)
    return text, default_port


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for error in exc.errors():
        path = ".".join(str(p) for p in error["loc"])
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        lines.append(f"{path}: {error['msg']}")
    return "; ".join(lines)


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build the settings; every problem becomes a :class:`ConfigError` naming the offending key."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"config file {config_file} does not exist")
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"config file {config_file}: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {config_file}: the top level must be a mapping of keys")

    class _Loaded(Settings):
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
            if config_file is not None:
                sources += (YamlConfigSettingsSource(settings_cls, yaml_file=config_file),)
            return sources

    try:
        return _Loaded(**(overrides or {}))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from exc
    except (ValueError, yaml.YAMLError) as exc:  # an environment value that is not valid JSON
        raise ConfigError(str(exc)) from exc
