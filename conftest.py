"""Fixtures for every test in the repository: real databases on every backend, brokers, mail, served apps."""

pytest_plugins = [
    "civitas_kernel.testing.fixtures",
    "civitas_kernel.testing.brokers",
    "civitas_kernel.testing.mail",
    "civitas_kernel.testing.serving",
    "civitas_gateway.testing",
    "civitas.testing",
]
