"""Queues, availability and callbacks on the phone system."""
