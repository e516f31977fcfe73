"""`civitas up --self-governed`: host mode, where a supervisor runs the site from the live release."""

from __future__ import annotations

import signal

import typer

from civitas.settings import Settings


def supervise(host: str, port: int) -> None:
    """Run the supervisor until SIGTERM or SIGINT; it stops the site's process before it returns."""
    import logging

    from civitas_deployer.host import HealthLimits, Supervisor, SupervisorConfig
    from civitas_deployer.host.sandbox import SandboxMissing
    from civitas_deployer.host.source import NoSource
    from civitas_deployer.host.tenure import AnotherSupervisor

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    s = Settings()
    config = SupervisorConfig(
        home=s.HOME, site=s.SITE, log_url=s.log_url, live_repo=s.live_repo_path, host=host, port=port,
        health_s=s.DEPLOY_HEALTH_S, deploy_every_s=s.DEPLOY_EVERY_S, stop_grace_s=s.STOP_GRACE_S,
        limits=HealthLimits(ready_timeout_s=s.READY_TIMEOUT_S, smoke_timeout_s=s.SMOKE_TIMEOUT_S))
    mirrors = None
    if s.mirror_remotes:  # pushed by the supervisor, which alone sees the URLs' credentials and the key
        from civitas_deployer.mirror import Mirrors

        mirrors = Mirrors.of(s, s.live_repo_path, s.key_path)
    supervisor = Supervisor(config, mirrors=mirrors, say=typer.echo)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: supervisor.stopped.set())
    typer.echo(f"civitas site {s.SITE} in host mode, data in {s.HOME}; a release not ready within "
               f"{s.READY_TIMEOUT_S:g} s, or whose front page fails within {s.SMOKE_TIMEOUT_S:g} s, or that fails in "
               f"its {s.DEPLOY_HEALTH_S:g} s health window is rolled back (Ctrl-C stops)")
    try:
        supervisor.run()
    except (SandboxMissing, NoSource, AnotherSupervisor) as e:
        raise ValueError(str(e)) from None
