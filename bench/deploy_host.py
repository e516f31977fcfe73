"""Deployment figures in host mode: `civitas up --self-governed` as a real process, each release a real build and a
real sandboxed site process on this machine.

Run: .venv/bin/python bench/deploy_host.py [--runs 5] [--health-s 30]

0. A fresh home's first start: the civitas source committed to the live repository, the base environment made
   (hard links to this environment's packages), every civitas package built, the site started and ready.
1. From an approved decision to the new release serving, for a code change (a new module in the gateway package,
   so the gateway is rebuilt): from the deployment's start in the journal (the round that picked the decision up;
   rounds run every 0.2 s here, CIVITAS_DEPLOY_EVERY_S, default 5 s) to the public port first answering with
   `Civitas-Release: <the new commit>`: main moved, the release exported and built, started beside the live one,
   ready, smoke-checked, the health window held, the port switched. Median of --runs.
2. From a failing release's start to the old one serving alone: a code change whose gateway raises as it is
   imported, from its `starting` event to its rollback in the journal (the candidate stopped, main on a revert).
   Median of --runs. A release that hangs instead is bounded by the readiness timeout (CIVITAS_READY_TIMEOUT_S).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import save, show  # noqa: E402
from deploy import VOTERS, Clock, approve  # noqa: E402

import httpx  # noqa: E402

from civitas.settings import Settings  # noqa: E402
from civitas.site import Site  # noqa: E402
from civitas_kernel.testing.ports import free_port  # noqa: E402

CIVITAS = str(Path(sys.executable).with_name("civitas"))
GATEWAY = "services/gateway/src/civitas_gateway"
SETTINGS = {"SITE": "localhost", "COMPILE_EVERY_MINUTES": 0, "DECIDE_EVERY_S": 0}


def start(home: Path, port: int, health_s: float) -> tuple[subprocess.Popen, float]:
    """`civitas up --self-governed`, and the seconds until its public port answers /ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVITAS_")} | {
        "CIVITAS_HOME": str(home), "CIVITAS_SITE": "localhost", "CIVITAS_PORT": str(port),
        "CIVITAS_COMPILE_EVERY_MINUTES": "0", "CIVITAS_DECIDE_EVERY_S": "0", "CIVITAS_DEPLOY_EVERY_S": "0.2",
        "CIVITAS_DEPLOY_HEALTH_S": f"{health_s:g}"}
    began = time.monotonic()
    process = subprocess.Popen([CIVITAS, "up", "--self-governed"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    while time.monotonic() - began < 300:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process, time.monotonic() - began
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"civitas up --self-governed stopped: {process.stderr.read()}")
        time.sleep(0.05)
    process.kill()
    raise SystemExit("civitas up --self-governed did not serve within 300 s")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)


def source_text(site: Site, path: str) -> str:
    repo = site.live_repo
    return repo.read(repo.head(), path).decode()


def journal(home: Path) -> dict[str, dict]:
    """deployment id -> its journalled times (started, starting, rolled_back, applied) and commit."""
    site = Site(Settings(HOME=home, **SETTINGS))
    found: dict[str, dict] = {}
    try:
        for event in site.log.read("deployment"):
            message, kind = event.message(), event.type.rsplit(".", 1)[-1]
            entry = found.setdefault(getattr(message, "deployment", ""), {})
            if kind == "DeploymentStarted":
                entry |= {"started": message.at_us, "commit": message.commit}
            elif kind == "DeploymentPhase" and message.phase == "starting":
                entry["starting"] = message.at_us
            elif kind == "DeploymentRolledBack":
                entry["rolled_back"] = message.at_us
            elif kind == "DeploymentApplied":
                entry["applied"] = message.at_us
    finally:
        site.log.engine.dispose()
    return found


class Watcher:
    """GET / on the public port every 50 ms, each on a new connection as a new visitor's: when each release was
    first seen serving (wall-clock µs), and every answer that was not a 200. (A keep-alive connection stays with
    the release it was opened to and is closed when that release stops; a client then retries on a new one.)"""

    def __init__(self, port: int) -> None:
        self.url, self.first_seen, self.errors = f"http://127.0.0.1:{port}/", {}, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = httpx.get(self.url, timeout=10)
                seen = time.time_ns() // 1000
                if answer.status_code != 200:
                    self.errors.append(f"{answer.status_code} {answer.text[:80]}")
                self.first_seen.setdefault(answer.headers.get("civitas-release"), seen)
            except httpx.HTTPError as error:
                self.errors.append(repr(error))
            self._stop.wait(0.05)


def bench(runs: int, health_s: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home, port = work / "home", free_port()
        process, first_start_s = start(home, port, health_s)
        stop(process)
        clock = Clock()
        site = Site(Settings(HOME=home, **SETTINGS), clock=clock)
        with site.lock:
            for name in VOTERS:
                site.registry.run(f"{name}@example.org", ["set", "residence", "1", "Elm", "St,", "Springfield",
                                                          "90210"])
                site.registry.registrar_trust(f"{name}@example.org")
        site.compile("list")
        init = source_text(site, f"{GATEWAY}/__init__.py")
        for n in range(runs):
            approve(site, clock, work, {f"{GATEWAY}/bench_run_{n}.py": f'"""Run {n} of the host benchmark."""\n'},
                    f"good-{n}")
        for n in range(runs):
            approve(site, clock, work, {f"{GATEWAY}/__init__.py": init + f'\nraise RuntimeError("run {n}")\n'},
                    f"bad-{n}")
        site.log.engine.dispose()
        process, _ = start(home, port, health_s)
        with Watcher(port) as watcher:  # from the live release serving on: the first switch is seconds away
            deadline = time.monotonic() + runs * (health_s + 120) + 120
            while len([d for d in journal(home).values() if "applied" in d or "rolled_back" in d]) < 2 * runs:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"the deployments did not end: {journal(home)}")
                time.sleep(0.5)
        stop(process)
        done = sorted(journal(home).items(), key=lambda item: int(item[0]))
        applied = [d for _, d in done if "applied" in d]
        failed = [d for _, d in done if "rolled_back" in d]
        assert len(applied) == len(failed) == runs, done
        return {"first_start_s": [first_start_s],
                "decision_to_serving_s": [(watcher.first_seen[d["commit"]] - d["started"]) / 1e6 for d in applied],
                "failing_start_to_old_serving_s": [(d["rolled_back"] - d["starting"]) / 1e6 for d in failed],
                "errors_on_the_public_port": watcher.errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="deployments of each kind (default 5)")
    parser.add_argument("--health-s", type=float, default=Settings.model_fields["DEPLOY_HEALTH_S"].default,
                        help="the health window, CIVITAS_DEPLOY_HEALTH_S (default: the settings' default)")
    args = parser.parse_args()
    figures = bench(args.runs, args.health_s)
    errors = figures.pop("errors_on_the_public_port")
    rows = [[name, len(values), *(f"{v:.2f}" for v in (statistics.median(values), min(values), max(values)))]
            for name, values in figures.items()]
    show(f"Deploying code in host mode (seconds; health window {args.health_s:g} s)",
         ["figure", "runs", "median", "min", "max"], rows)
    print(f"health window: {args.health_s:g} s (CIVITAS_DEPLOY_HEALTH_S); answers other than 200 to a new visitor "
          f"on the public port during the deployments: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:5]))
    if args.runs >= 5 and args.health_s == parser.get_default("health_s"):  # only the figures as documented
        save("deploy_host", {"health_window_s": args.health_s, "errors_on_the_public_port": errors,
                             **{k: {"runs": v, "median_s": statistics.median(v)} for k, v in figures.items()}})


if __name__ == "__main__":
    main()
