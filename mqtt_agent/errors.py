"""The agent's exceptions. Each is translated at the boundary (CLI exit code, log line, MQTT reply)."""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""


class ConfigError(AgentError):
    """The configuration is invalid; the message names the offending key."""


class SnmpError(AgentError):
    """An SNMP request failed for a reason other than silence."""


class SnmpTimeout(SnmpError):
    """The printer did not answer within the timeout and retries."""


class NotAPrinter(AgentError):
    """The device answers SNMP but has no Printer-MIB data."""
