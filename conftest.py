"""Fixtures for every test in the repository: real databases on every backend, brokers, mail, served apps."""

pytest_plugins = [
    "civitas_kernel.testing.fixtures",
    "civitas_kernel.testing.brokers",
    "civitas_kernel.testing.mail",
    "civitas_kernel.testing.serving",
    "civitas_kernel.testing.git",
    "civitas_gateway.testing",
    "civitas.testing",
]


def pytest_addoption(parser):
    parser.addoption("--skip-slow", action="store_true",
                     help="skip the tests marked slow (CI runs them all; `make test` too, unless SKIP_SLOW=1)")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--skip-slow"):
        return
    import pytest

    skip = pytest.mark.skip(reason="--skip-slow: runs in CI and in a plain `make test`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
