"""What the site's tests and benchmarks share across services: every service's app served in a thread, and a
real browser.

Registered as a pytest plugin from the repository's conftest.py (fixtures threaded_services, browser); the SMTP
server and the served thread are the kernel's (civitas_kernel.testing.mail, .serving).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from civitas_kernel.testing.serving import ServerThread

SERVICES = ("registry", "polls", "counter", "gateway")
CHROMIUM = "/usr/bin/chromium"  # Debian's
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def eventually(check: Callable[[], object], what: str, timeout: float = 30):
    """What `check` returns once it is truthy, asked every 0.1 s; an assertion naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


@contextmanager
def serving_process(service: str, env: dict[str, str], log: Path, timeout_s: float = 60) -> Iterator[str]:
    """`civitas serve SERVICE` in a process of its own with `env` (CIVITAS_PORT among it), its output in `log` (a file,
    never a pipe that could fill and block it); its URL once /health answers, the process stopped afterwards."""
    import httpx

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        process = subprocess.Popen([str(Path(sys.executable).parent / "civitas"), "serve", service], env=env,
                                   stdout=subprocess.DEVNULL, stderr=sink)
    url = f"http://127.0.0.1:{env['CIVITAS_PORT']}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"{service} of {env.get('CIVITAS_SITE')} did not start: "
                                     f"{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(20)


@pytest.fixture
def browser():
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def sign_in_in_browser(page, base: str, inbox, address: str) -> None:
    """Sign `page` in as a voter does: ask for a code, read it from the mail, type it."""
    page.goto(base + "/signin")
    page.fill("input[name=email]", address)
    page.click("text=Send me a code")
    page.fill("input[name=code]", inbox.code_for(address))
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base + "/me*")


@pytest.fixture
def threaded_services(tmp_path, make_database_url) -> Iterator[Callable[..., dict[str, str]]]:
    """start(kafka, auth, services=SERVICES, **settings) -> {service: URL}: each service's app in a thread of this
    process over real HTTP, each of registry, polls and counter on a PostgreSQL database of its own."""
    from civitas_gateway import SMTPMailer
    from civitas_kernel.service.serve import entry_of
    from civitas_kernel.service.settings import ServiceSettings

    stack = ExitStack()

    def start(kafka, auth=None, services: tuple[str, ...] = SERVICES, **overrides) -> dict[str, str]:
        servers = {name: ServerThread() for name in services}
        # a service not started has no URL: the gateway neither waits for it nor lists its streams
        urls = {f"{name.upper()}_URL": servers[name].url if name in servers else ""
                for name in ("registry", "polls", "counter", "deployer", "drafts")}

        def settings(service: str) -> ServiceSettings:
            """The service's own settings class, given what of `overrides` it knows (e.g. PUBLISH_WAIT_S: owners)."""
            settings_class = entry_of(service).settings
            log_url = make_database_url("postgres") if service != "gateway" else None
            known = {k: v for k, v in overrides.items() if k in settings_class.model_fields}
            return settings_class(SERVICE=service, HOME=tmp_path / "home", SITE="localhost", LOG_URL=log_url,
                                  **urls, **known)

        def make(service: str):
            if service == "gateway":
                return entry_of(service).create_app(settings(service), auth,
                                                    mailer=SMTPMailer(auth.SMTP_HOST, auth.SMTP_PORT))
            return entry_of(service).create_app(settings(service), kafka=kafka)

        for name in services:
            stack.enter_context(servers[name].serving(make(name)))
        return {name: server.url for name, server in servers.items()}

    with stack:
        yield start
