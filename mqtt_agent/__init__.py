"""Printer Supplies agent: polls printers over SNMP and publishes them to MQTT / Home Assistant."""

__version__ = "0.1.0"
