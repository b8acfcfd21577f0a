"""Glue that connects finished parts to the composition root; one module per feature."""
