"""`civitas serve NAME`: one service of the site in this process, as `python -m civitas_NAME` runs it."""

from __future__ import annotations

import typer

# civitas_kernel.service.serve.SERVICES, without importing it
SERVICES = ("registry", "polls", "counter", "gateway", "deployer", "drafts", "sync")


def serve(
    service: str = typer.Argument(None, help=f"One of {', '.join(SERVICES)}; default $CIVITAS_SERVICE.", show_default=False),
    host: str = typer.Option(None, help="Address to listen on (default $CIVITAS_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default $CIVITAS_PORT, else gateway 8000, registry 8001, polls 8002, "
                                        "counter 8003, deployer 8004)."),
    workers: int = typer.Option(None, help="Gateway only: processes serving it side by side "
                                           "(default $CIVITAS_WORKERS or 1)."),
) -> None:
    """Run one service on its own: PostgreSQL at CIVITAS_LOG_URL, Kafka at CIVITAS_KAFKA_BOOTSTRAP_SERVERS."""
    from civitas_kernel.service.serve import ServiceNotFound
    from civitas_kernel.service.serve import serve as serve_service

    try:
        serve_service(service, host=host, port=port, workers=workers, echo=typer.echo)
    except ServiceNotFound as error:
        raise typer.BadParameter(str(error)) from None
