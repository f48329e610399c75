"""The reference supplies cloud: catalog, storefront, orders, fleet sync, service-reward eligibility."""

__version__ = "0.1.0"
