"""Switchboard: a desktop softphone for contact-centre agents."""

__version__ = "0.1.0"
