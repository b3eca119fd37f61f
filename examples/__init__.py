"""Example services built on the harness (not shipped with the harness package)."""
