"""What reading the live release costs the running site: the per-request look at the release, the front page and
the stylesheet with and without a release (and with a release's own template), and bringing poll files in.

Run: .venv/bin/python bench/live_release.py [--quick]

1. LiveRelease.at: one readlink and a dict lookup, per call (µs, median of 20 rounds of 10,000 calls).
2. GET / and GET /static/site.css through the whole app in-process (ms, median of 200 requests): no release;
   the first release (civitas's own files); a release whose home.html overrides the packaged one.
3. 100 polls/*.toml brought into the poll stream (first time, ms) and looked at again after a restart (nothing
   written, ms).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import median_ms, save, show  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from civitas_gateway import AuthSettings, create_app  # noqa: E402
from civitas_kernel.live_release import LiveRelease  # noqa: E402
from civitas_kernel.testing.releases import commit_files, release  # noqa: E402

from civitas.settings import Settings  # noqa: E402
from civitas.site import Site  # noqa: E402


def main() -> None:
    quick = "--quick" in sys.argv
    requests = 50 if quick else 200
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        site = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
        client = TestClient(create_app(site, AuthSettings(HOME=home, SITE="localhost")))
        releases = site.settings.releases_path
        releases.mkdir(parents=True)
        repo = site.live_repo
        rows, figures = [], {}

        def pages(label: str) -> None:
            assert client.get("/").status_code == 200
            front = median_ms(lambda: client.get("/"), requests)
            css = median_ms(lambda: client.get("/static/site.css"), requests)
            rows.append([label, front, css])
            figures[label] = {"front_page_ms": front, "stylesheet_ms": css}

        pages("no release")
        release(releases, repo.path)
        calls = 10_000
        per_call = statistics.median(
            median_ms(lambda: [LiveRelease.at(home) for _ in range(calls)], 1) * 1000 / calls for _ in range(20))
        figures["live_release_at_us"] = per_call
        pages("first release (civitas's files)")
        commit_files(repo.path, {"site/templates/home.html": '{% extends "base.html" %}{% block main %}'
                                 "<p>Our town</p>{{ front }}{% endblock %}"})
        release(releases, repo.path)
        pages("a release's own home.html")
        show("pages from the live release (ms, median)", ["release", "GET /", "GET /static/site.css"], rows)

        files = {f"polls/poll-{i:03d}.toml": f'title = "Poll {i}"\nmin_trust = 1\n' for i in range(100)}
        commit_files(repo.path, files)
        release(releases, repo.path)
        started = time.perf_counter()
        assert site.release_polls.check().data["events"] == 100
        first = 1000 * (time.perf_counter() - started)
        again = Site(Settings(HOME=home, SITE="localhost", COMPILE_EVERY_MINUTES=0))
        started = time.perf_counter()
        assert again.release_polls.check().data["events"] == 0
        replay = 1000 * (time.perf_counter() - started)
        figures["polls_100"] = {"first_ms": first, "after_restart_ms": replay}
        show("LiveRelease.at and poll files", ["figure", "value"],
             [["LiveRelease.at per call (µs)", per_call], ["100 poll files brought in (ms)", first],
              ["looked at again after a restart, nothing written (ms, with the fold)", replay]])
        save("live_release", figures)


if __name__ == "__main__":
    main()
