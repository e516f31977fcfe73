"""Running one service on its own: `civitas serve NAME` and `python -m civitas_NAME` both come here.

Each service names itself in `civitas_NAME.http.SERVICE` (a ServiceEntry): its default port, its
settings class and how its app is made. Only that service's package is imported.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from civitas_kernel import telemetry
from civitas_kernel.service.settings import ServiceSettings
from civitas_kernel.settings import keep_files_private

SERVICES: tuple[str, ...] = ("registry", "polls", "counter", "gateway", "deployer", "drafts", "sync")


class ServiceNotFound(ValueError):
    """A name that is not one of the site's services, or whose package is not installed here."""


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    port: int  # where it listens unless CIVITAS_PORT says otherwise
    settings: type[ServiceSettings]
    create_app: Callable[[Any], Any]  # settings -> the FastAPI application
    stateless: bool = False  # keeps no state of its own, so several workers may serve it side by side
    preflight: Callable[[], None] | None = None  # reads what would fail in every worker, once, before they start


def entry_of(name: str | None) -> ServiceEntry:
    """The entry of service `name`, importing only its package."""
    if name not in SERVICES:
        raise ServiceNotFound(f"name a service: one of {', '.join(SERVICES)} (or set CIVITAS_SERVICE)")
    try:
        module = importlib.import_module(f"civitas_{name}.http")
    except ModuleNotFoundError as error:
        raise ServiceNotFound(f"the {name} service is not installed here ({error.name} is missing)") from None
    return module.SERVICE


def configure_telemetry(service: str) -> None:
    telemetry.configure(f"civitas-{service}")


def app_from_environment():
    """The app of the service the environment names: what each of several workers builds for itself."""
    entry = entry_of(os.environ.get("CIVITAS_SERVICE"))
    configure_telemetry(entry.name)
    return entry.create_app(entry.settings(SERVICE=entry.name))


def serve(name: str | None = None, *, host: str | None = None, port: int | None = None,
          workers: int | None = None, echo: Callable[[str], None] = print) -> None:
    """Run service `name` (default $CIVITAS_SERVICE) under uvicorn until stopped. Raises ValueError for a
    mistake the caller can fix (an unknown service, several workers of a service that keeps state)."""
    from civitas_kernel.service.server import run_server, server_config

    entry = entry_of(name or os.environ.get("CIVITAS_SERVICE"))
    overrides = {k: v for k, v in {"HOST": host, "PORT": port, "WORKERS": workers}.items() if v is not None}
    settings = entry.settings(SERVICE=entry.name, **overrides)
    if settings.WORKERS > 1 and not entry.stateless:
        raise ValueError(f"only a service that keeps no state runs several workers; {entry.name} is the one writer "
                         "of its streams (or of its replica), so run it with one (unset CIVITAS_WORKERS)")
    keep_files_private()
    if entry.preflight is not None:
        entry.preflight()  # said once, before any worker starts
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {entry.name} %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per internal call drowns what matters
    port_ = settings.PORT or entry.port
    # Forwarded headers are the gateway's to read (from CIVITAS_FORWARDED_ALLOW_IPS proxies only), never uvicorn's.
    options = {"host": settings.HOST, "port": port_, "log_level": "warning"}
    echo(f"civitas {entry.name} of site {settings.SITE} on http://{settings.HOST}:{port_}"
         + (f" ({settings.WORKERS} workers)" if settings.WORKERS > 1 else ""))
    if settings.WORKERS > 1:
        # Each worker process builds the app itself, from the same environment.
        os.environ.update({f"CIVITAS_{k}": str(v) for k, v in overrides.items()} | {"CIVITAS_SERVICE": entry.name})
        run_server(server_config(f"{__name__}:app_from_environment", factory=True, workers=settings.WORKERS, **options))
        return
    configure_telemetry(entry.name)
    run_server(server_config(entry.create_app(settings), **options))


def main(name: str | None = None, argv: Sequence[str] | None = None) -> int:
    """`python -m civitas_NAME [--host H] [--port P] [--workers N]`: the service alone, without the site package."""
    parser = argparse.ArgumentParser(prog=f"python -m civitas_{name}" if name else "python -m civitas_kernel.service",
                                     description="Run one civitas service: PostgreSQL at CIVITAS_LOG_URL, Kafka at "
                                                 "CIVITAS_KAFKA_BOOTSTRAP_SERVERS.")
    if name is None:
        parser.add_argument("service", nargs="?", help=f"one of {', '.join(SERVICES)}; default $CIVITAS_SERVICE")
    parser.add_argument("--host", help="address to listen on (default $CIVITAS_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default $CIVITAS_PORT, else the service's own)")
    parser.add_argument("--workers", type=int, help="processes side by side, for a service that keeps no state")
    args = parser.parse_args(argv)
    try:
        serve(name or args.service, host=args.host, port=args.port, workers=args.workers)
    except ValueError as error:  # pydantic's ValidationError is one: a setting the operator can fix
        parser.exit(2, f"{parser.prog}: {error}\n")
    return 0
