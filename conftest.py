"""Fixtures for every test in the repository: real databases on every backend, brokers, mail, served apps."""

pytest_plugins = ["civitas_kernel.testing.fixtures", "civitas_kernel.testing.brokers", "civitas.testing"]
