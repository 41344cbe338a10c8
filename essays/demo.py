"""Placeholder replaced by the demo builder (being written)."""
