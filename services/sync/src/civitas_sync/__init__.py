"""civitas sync service."""
