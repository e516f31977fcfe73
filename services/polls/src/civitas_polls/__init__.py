"""civitas polls service."""
