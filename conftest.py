"""Fixtures for every test in the repository: real databases on every backend."""

pytest_plugins = ["civitas_kernel.testing.fixtures", "civitas_kernel.testing.brokers"]
