"""Fixtures of the distributed tests: the services' environment (the SMTP server is tests/conftest.py's)."""

from __future__ import annotations

import pytest

OPERATOR_TOKEN = "operator-token-for-distributed-tests-0123456789"


@pytest.fixture
def gateway_env(smtp) -> dict[str, str]:
    """What every service process gets besides its own settings: mail, the operator, rates fit for one test client."""
    return {
        "CIVITAS_SMTP_HOST": "127.0.0.1", "CIVITAS_SMTP_PORT": str(smtp[1]), "CIVITAS_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "CIVITAS_RATE_ADDRESS": "1000000/1min", "CIVITAS_RATE_VOTER": "1000000/1min",
        "CIVITAS_RATE_CODE_ADDRESS": "1000000/1min", "CIVITAS_RATE_CODE_EMAIL": "1000000/1min",
        "CIVITAS_RATE_SESSION_ADDRESS": "1000000/1min",
        "CIVITAS_PUBLISH_WAIT_S": "0.5",  # while the broker restarts, commands answer without waiting long
    }
