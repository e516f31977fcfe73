"""A candidate deployer proving itself at a Kubernetes handover: the new deployer image, started by Flux beside the
deployer that serves, before it is let take over (the counterpart of host mode's successor saying ready).

    python -m civitas_deployer.gitops.candidate --port 8004

It takes nothing and writes nothing: it reads its settings as the deployer would, imports the whole service, reads
the site's key, reads the deployment journal to its head, reads its own HelmRelease through the Kubernetes API with
the deployer's account and lists the GitOps repository's branch; then it answers /ready with what it found, which
is the readiness Helm (and so Flux) waits for. Anything it cannot do stops it with one line saying why (its pod's
log), so it never becomes ready, Flux remediates, and the deployer that serves fails the release at `handover`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path

STREAM = "deployment"


class NotReady(Exception):
    """What the candidate could not do: it must not take over."""


def prove() -> dict:
    """What a deployer needs to serve, each tried once; what was found, or NotReady saying which failed."""
    step = "reading its settings"
    try:
        from civitas_deployer.gitops.cluster import FluxStatus
        from civitas_deployer.gitops.repository import GitOpsRepository
        from civitas_deployer.gitops.settings import GitOpsSettings
        from civitas_deployer.settings import DeployerSettings
        from civitas_kernel.service.keys import shared_site_key
        from civitas_kernel.service.owner import open_owner_log

        settings, gitops = DeployerSettings(), GitOpsSettings()
        step = "importing the deployer's service"
        import civitas_deployer.http  # noqa: F401 - the whole app's code, as the deployer would start it

        step = "reading the site's key"
        if not settings.key_file.is_file():  # never made here: a missing key is a secret not mounted
            raise NotReady(f"reading the site's key: {settings.key_file} is not there (the secret is not mounted)")
        shared_site_key(settings.key_file)
        step = "reading the deployment journal"
        log = open_owner_log(settings)
        try:
            head = log.head(STREAM).seq
            read = sum(1 for _ in log.read(STREAM))
        finally:
            log.engine.dispose()
        if read != head:
            raise NotReady(f"the deployment journal reads {read} events, its head says {head}")
        step = "reading its HelmRelease"
        status = FluxStatus.of(gitops)
        status.helmrelease = gitops.GITOPS_DEPLOYER_HELMRELEASE or status.helmrelease
        status.release()
        step = "reaching the GitOps repository"
        with tempfile.TemporaryDirectory(prefix="civitas-candidate-") as scratch:
            GitOpsRepository(Path(scratch) / "gitops.git", gitops.remote, gitops.GITOPS_BRANCH).fetch()
    except NotReady:
        raise
    except Exception as error:  # whatever it is, this deployer must not take over; say where and what
        raise NotReady(f"{step}: {type(error).__name__}: {error}"[:800]) from None
    return {"version": _version(), "journal": head, "helmrelease": status.helmrelease}


def _version() -> str:
    try:
        return metadata.version("civitas-deployer")
    except metadata.PackageNotFoundError:
        return "unknown"


def serve(found: dict, port: int, host: str = "0.0.0.0") -> None:
    body = json.dumps({"ready": True} | found).encode()

    class Ready(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            known = self.path in ("/ready", "/health")
            self.send_response(200 if known else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body if known else b"{}")

        def log_message(self, *args) -> None:
            pass

    ThreadingHTTPServer((host, port), Ready).serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m civitas_deployer.gitops.candidate")
    parser.add_argument("--port", type=int, default=8004)
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args(argv)
    try:
        found = prove()
    except NotReady as why:
        print(f"candidate deployer: not ready: {why}", file=sys.stderr)
        return 1
    print(f"candidate deployer: ready: {json.dumps(found)}", flush=True)
    serve(found, args.port, args.host)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
