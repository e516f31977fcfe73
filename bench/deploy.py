"""Deployment figures on the embedded site: its real gateway served over HTTP, a SQLite log, real git.

Run: .venv/bin/python bench/deploy.py [--quick]

1. From an approved decision to the new content release serving: a proposal changing site/front.md is proposed,
   voted and decided (the clock moved past its window), then timed from the engine's round starting to GET /
   answering 200 with `Civitas-Release: <the new commit>`: the commit made and main moved, the release exported,
   the candidate switched in and smoke-checked through the gateway, the deployment applied. Median of 5.
2. From a failing release's start to the old one serving alone: a proposal whose front page template does not
   draw (GET / answers 500 once it is live), timed by the journal from its `starting` event to its rollback
   (the release before serves again, main holds a revert commit). Median of 5. The bound with the default
   health window is the window plus one smoke request's timeout (30 s + 10 s), for a release that hangs or
   never serves.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import Timer, save, show  # noqa: E402

import httpx  # noqa: E402

from civitas.settings import Settings  # noqa: E402
from civitas.site import Site  # noqa: E402
from civitas_deployer import ReleaseHeader  # noqa: E402
from civitas_deployer.domain.windows import HOUR_US  # noqa: E402
from civitas_gateway import AuthSettings, create_app  # noqa: E402
from civitas_kernel.testing.serving import ServerThread  # noqa: E402

VOTERS = ("alice", "bob", "carol", "dave", "emily")
BROKEN_HOME = "{% extends 'base.html' %}{% block content %}{{ no_such_thing.attribute }}{% endblock %}\n"


class Clock:
    def __init__(self) -> None:
        self.now = time.time_ns() // 1000

    def __call__(self) -> int:
        return self.now


def patch(live: Path, work: Path, files: dict[str, str], name: str) -> Path:
    clone = work / f"clone-{name}"
    subprocess.run(["git", "clone", "--quiet", str(live), str(clone)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=Alice", "-c", "user.email=alice@example.org"]
    for path, text in files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(text)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", name], check=True)
    target = work / f"{name}.patch"
    target.write_bytes(subprocess.run([*git, "format-patch", "-1", "--stdout"], check=True,
                                      capture_output=True).stdout)
    return target


def approve(site: Site, clock: Clock, work: Path, files: dict[str, str], name: str) -> None:
    path = patch(site.live_repo.path, work, files, name)
    pid = site.change.run("alice@example.org", ["propose", "--patch", str(path), "--title", name],
                          local=True).data["proposal"]
    clock.now += 48 * HOUR_US
    for voter in VOTERS[1:]:
        site.change.run(f"{voter}@example.org", ["vote", pid, "yes"])
    clock.now += 168 * HOUR_US
    (decided,) = site.decide().data
    assert decided["approved"], decided


def bench(runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work, clock = Path(tmp), Clock()
        site = Site(Settings(HOME=work / "home", SITE="localhost", COMPILE_EVERY_MINUTES=0, DECIDE_EVERY_S=0),
                    clock=clock)
        with site.lock:
            for name in VOTERS:
                site.registry.run(f"{name}@example.org", ["set", "residence", "1", "Elm", "St,", "Springfield",
                                                          "90210"])
                site.registry.registrar_trust(f"{name}@example.org")
        site.compile("list")
        app = create_app(site, AuthSettings(HOME=work / "home", SITE="localhost"), mailer=lambda message: None)
        app.add_middleware(ReleaseHeader, home=work / "home")
        server = ServerThread()
        with server.serving(app) as url:
            deployer = site.deployer(url)
            deployer.recover()
            applied, rolled_back = [], []
            for n in range(runs):
                approve(site, clock, work, {"site/front.md": f"Hello, neighbours ({n})\n"}, f"good-{n}")
                with Timer() as timer:
                    (done,) = deployer.run()
                    answer = httpx.get(url + "/")
                assert done.phase == "applied" and answer.headers["civitas-release"] == done.commit, done
                applied.append(timer.seconds)
            for n in range(runs):
                approve(site, clock, work, {"site/templates/home.html": BROKEN_HOME, "site/front.md": f"x{n}\n"},
                        f"bad-{n}")
                (done,) = deployer.run()
                if done.phase != "rolled_back":
                    print(f"the broken front page was served ({done.phase}): this gateway does not draw "
                          "site/templates/ from the live release yet, so figure 2 is not measured")
                    break
                rolled_back.append(_start_to_rollback_s(site, done.id))
    return {"decision_to_serving_s": applied, "failing_start_to_old_serving_s": rolled_back}


def _start_to_rollback_s(site: Site, deployment: str) -> float:
    """From the deployment's `starting` event to its rollback, by the times the engine journalled."""
    started = ended = None
    for event in site.log.read("deployment"):
        message = event.message()
        if getattr(message, "deployment", None) != deployment:
            continue
        if event.type.endswith("DeploymentPhase") and message.phase == "starting":
            started = message.at_us
        if event.type.endswith("DeploymentRolledBack"):
            ended = message.at_us
    return (ended - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 runs of each, not 5")
    args = parser.parse_args()
    figures = bench(3 if args.quick else 5)
    rows = []
    for name, values in figures.items():
        if values:
            rows.append([name, len(values), *(f"{v:.3f}" for v in (statistics.median(values), min(values),
                                                                     max(values)))])
        else:
            rows.append([name, 0, "-", "-", "-"])
    show("Deploying content on the embedded site (seconds)", ["figure", "runs", "median", "min", "max"], rows)
    print("bound for a release that hangs or never serves: the health window (CIVITAS_DEPLOY_HEALTH_S, 30 s) "
          "plus one smoke request's timeout (10 s)")
    if not args.quick:
        save("deploy", {k: {"runs": v, "median_s": statistics.median(v) if v else None} for k, v in figures.items()})


if __name__ == "__main__":
    main()
