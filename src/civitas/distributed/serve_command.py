"""`civitas serve SERVICE`: one service of the site in this process, configured from the environment."""

from __future__ import annotations

import typer

from civitas.distributed.settings import SERVICES, ServiceSettings

KEEP_ALIVE_S = 30  # longer than callers keep idle connections (ServiceClient: 10 s), so a reused one is never closing


def build_app(settings: ServiceSettings):
    """The FastAPI application of settings.SERVICE (imports only what that service needs)."""
    if settings.SERVICE == "registry":
        from civitas.distributed.registry_service import create_registry_app
        return create_registry_app(settings)
    if settings.SERVICE == "polls":
        from civitas.distributed.polls_service import create_polls_app
        return create_polls_app(settings)
    if settings.SERVICE == "counter":
        from civitas.distributed.counter_service import create_counter_app
        return create_counter_app(settings)
    if settings.SERVICE == "gateway":
        from civitas.distributed.gateway_service import create_gateway_app
        return create_gateway_app(settings)
    raise typer.BadParameter(f"name a service: one of {', '.join(SERVICES)} (or set CIVITAS_SERVICE)")


def app_from_environment():
    """The app of the service the environment names: what each of several gateway workers builds for itself."""
    from civitas.distributed.owner import configure_telemetry

    settings = ServiceSettings()
    configure_telemetry(settings.SERVICE)
    return build_app(settings)


def serve(
    service: str = typer.Argument(None, help=f"One of {', '.join(SERVICES)}; default $CIVITAS_SERVICE.", show_default=False),
    host: str = typer.Option(None, help="Address to listen on (default $CIVITAS_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default $CIVITAS_PORT, else gateway 8000, registry 8001, polls 8002, counter 8003)."),
    workers: int = typer.Option(None, help="Gateway only: processes serving it side by side "
                                           "(default $CIVITAS_WORKERS or 1)."),
) -> None:
    """Run one service on its own: PostgreSQL at CIVITAS_LOG_URL, Kafka at CIVITAS_KAFKA_BOOTSTRAP_SERVERS."""
    import logging
    import os

    import uvicorn

    from civitas.distributed.owner import configure_telemetry

    overrides = {k: v for k, v in {"SERVICE": service, "HOST": host, "PORT": port, "WORKERS": workers}.items() if v is not None}
    settings = ServiceSettings(**overrides)
    if settings.SERVICE is None:
        raise typer.BadParameter(f"name a service: one of {', '.join(SERVICES)} (or set CIVITAS_SERVICE)")
    if settings.WORKERS > 1 and settings.SERVICE != "gateway":
        raise typer.BadParameter(f"only the gateway runs several workers; {settings.SERVICE} is the one writer of its "
                                 "streams (or of its replica), so run it with one (unset CIVITAS_WORKERS)")
    if settings.SERVICE == "gateway":
        from civitas.gateway.auth import AuthSettings

        AuthSettings()  # read here once, so a mistake in it is said once, before any worker starts
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {settings.SERVICE} %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per internal call drowns what matters
    port_ = settings.port_of(settings.SERVICE)
    options = {"host": settings.HOST, "port": port_, "log_level": "warning", "timeout_keep_alive": KEEP_ALIVE_S,
               "proxy_headers": bool(settings.FORWARDED_ALLOW_IPS), "forwarded_allow_ips": settings.FORWARDED_ALLOW_IPS or None}
    typer.echo(f"civitas {settings.SERVICE} of site {settings.SITE} on http://{settings.HOST}:{port_}"
               + (f" ({settings.WORKERS} workers)" if settings.WORKERS > 1 else ""))
    if settings.WORKERS > 1:
        # Each worker process builds the app itself, from the same environment.
        os.environ.update({f"CIVITAS_{k}": str(v) for k, v in overrides.items()})
        uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=settings.WORKERS, **options)
        return
    configure_telemetry(settings.SERVICE)
    uvicorn.run(build_app(settings), **options)
