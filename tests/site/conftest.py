"""The whole embedded site's application on a real log, mailing through a real SMTP server, served over real HTTP."""

from __future__ import annotations

import pytest

from civitas_gateway import AuthSettings
from civitas_kernel.testing.serving import ServerThread

OPERATOR_TOKEN = "operator-token-for-tests-0123456789"


@pytest.fixture
def make_site_app(smtp, tmp_path):
    """make_site_app(**auth_settings) -> (site, app): the whole site's application on a real log, mailing through the real
    SMTP server."""
    from civitas_gateway import create_app

    from civitas.settings import Settings
    from civitas.site import Site

    def make(**auth_settings):
        home = tmp_path / "home"
        site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
        auth = AuthSettings(**{"HOME": home, "SITE": "localhost", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[1],
                               "SMTP_TIMEOUT": 30, "OPERATOR_TOKEN": OPERATOR_TOKEN} | auth_settings)
        return site, create_app(site, auth)

    return make


@pytest.fixture
def operator_headers() -> dict:
    return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def served(make_site_app):
    """The site served over real HTTP on a free local port: (site, base URL)."""
    site, app = make_site_app()
    with ServerThread().serving(app) as base:
        yield site, base
