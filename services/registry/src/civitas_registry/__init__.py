"""civitas registry service."""
