"""Accord: federated cooperation between law-enforcement and cybersecurity authorities."""

__version__ = "0.1.0"
