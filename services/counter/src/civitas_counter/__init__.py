"""civitas counter service."""
