"""Print the settings reference of docs/configuration.md as Markdown tables, from the Settings model.

    python scripts/config_reference.py

The tables are pasted into docs/configuration.md; run this again whenever mqtt_agent/config.py
changes, so the reference never drifts from the code.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from mqtt_agent.config import (
    DiscoverySettings,
    MqttSettings,
    PrinterSettings,
    Settings,
    SnmpProfile,
    SnmpSettings,
)

ENV_PREFIX = "PRINTER_SUPPLIES_"


def type_name(annotation: Any) -> str:
    """A short, readable name for a field's type."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(names) + (" \\| null" if type(None) in args else "")
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return "mapping"
    if annotation is SecretStr:
        return "secret string"
    if annotation is Path:
        return "path"
    if annotation is PrinterSettings:
        return "printer entries (below)"
    return getattr(annotation, "__name__", str(annotation))


def default_text(name: str, field: FieldInfo) -> str:
    if field.default_factory is not None:
        if name == "agent_id":
            return "host name"
        if name == "data_dir":
            return "`~/.local/share/printer-supplies`"
        value = field.default_factory()  # type: ignore[call-arg]
        return "see below" if isinstance(value, BaseModel) else f"`{value!r}`"
    if field.default is PydanticUndefined:
        return "required"
    value = field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def constraints(field: FieldInfo) -> str:
    parts = []
    for item in field.metadata:
        for attr, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}")
        pattern = getattr(item, "pattern", None)
        if pattern:
            parts.append(f"pattern `{pattern}`")
    return f" ({', '.join(parts)})" if parts else ""


def table(model: type[BaseModel], prefix: str, env: bool) -> str:
    header = "| key | type | default | description |" + (" environment variable |" if env else "")
    rule = "|---|---|---|---|" + ("---|" if env else "")
    lines = [header, rule]
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if env:
                continue  # nested sections get their own table
            row = f"| `{prefix}{name}` | mapping | `{{}}` | {field.description or ''} |"
            lines.append(row)
            continue
        key = f"{prefix}{name}"
        row = (
            f"| `{key}` | {type_name(annotation)}{constraints(field)} | {default_text(name, field)} "
            f"| {field.description or ''} |"
        )
        if env:
            row += f" `{ENV_PREFIX}{key.replace('.', '__').upper()}` |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    sections = [
        ("Top level", Settings, "", True),
        ("`snmp`: SNMP defaults for every printer", SnmpSettings, "snmp.", True),
        ("`mqtt`: the broker and the topics", MqttSettings, "mqtt.", True),
        ("`discovery`: finding printers", DiscoverySettings, "discovery.", True),
        ("`printers[]`: one entry per printer", PrinterSettings, "", False),
        ("`snmp_profiles[]`: credentials discovery tries, in order", SnmpProfile, "", False),
    ]
    for title, model, prefix, env in sections:
        print(f"### {title}\n")
        print(table(model, prefix, env))
        print()


if __name__ == "__main__":
    main()
