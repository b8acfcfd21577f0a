"""Glue that connects finished parts built by app/compose.py; one module per feature."""
