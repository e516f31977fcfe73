"""The health window of a release: readiness, a smoke request through its gateway, then N seconds without a crash.

A hang counts as a failure as much as a crash: readiness and the smoke request each have a timeout, and during
the window the site must keep answering /health. Each request carries the supervisor's pass (SUPERVISOR_HEADER), so
the release lets it through its address limit uncounted: a flood of the candidate's port cannot fail a good release.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from civitas_deployer.host.children import Child
from civitas_deployer.deploying.runner import ReleaseFailed
from civitas_deployer.host.log_tail import tail

RELEASE_HEADER = "Civitas-Release"
SUPERVISOR_HEADER = "Civitas-Supervisor"


@dataclass(frozen=True)
class HealthLimits:
    ready_timeout_s: float = 60.0
    smoke_timeout_s: float = 15.0
    poll_s: float = 0.25
    probe_timeout_s: float = 5.0


def _pass(supervisor_pass: str | None) -> dict[str, str]:
    return {SUPERVISOR_HEADER: supervisor_pass} if supervisor_pass else {}


def _died(child: Child, phase: str, when: str) -> ReleaseFailed:
    return ReleaseFailed(phase, f"the site exited with status {child.exit_status()} {when}", tail(child.log))


def wait_ready(child: Child, limits: HealthLimits, supervisor_pass: str | None = None) -> None:
    """Until GET /ready answers 200; ReleaseFailed("starting") if the site exits or does not get there in time."""
    deadline = time.monotonic() + limits.ready_timeout_s
    url = f"http://127.0.0.1:{child.port}/ready"
    while True:
        if not child.alive():
            raise _died(child, "starting", "before it was ready")
        try:
            if httpx.get(url, timeout=limits.probe_timeout_s, headers=_pass(supervisor_pass)).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise ReleaseFailed("starting", f"the site was not ready within {limits.ready_timeout_s:g} s "
                                "(it hangs or starts too slowly)", tail(child.log))
        time.sleep(limits.poll_s)


def smoke(child: Child, limits: HealthLimits, supervisor_pass: str | None = None) -> None:
    """GET / through the release's gateway: a 200 naming this release (when the site names its release)."""
    try:
        reply = httpx.get(f"http://127.0.0.1:{child.port}/", timeout=limits.smoke_timeout_s,
                          headers=_pass(supervisor_pass))
    except httpx.TimeoutException:
        raise ReleaseFailed("health", f"the front page did not answer within {limits.smoke_timeout_s:g} s",
                            tail(child.log)) from None
    except httpx.HTTPError as e:
        raise ReleaseFailed("health", f"the front page could not be fetched: {e}", tail(child.log)) from None
    if reply.status_code != 200:
        raise ReleaseFailed("health", f"the front page answered {reply.status_code}", tail(child.log))
    named = reply.headers.get(RELEASE_HEADER)
    if named is not None and named != child.commit:
        raise ReleaseFailed("health", f"the front page came from release {named}, not {child.commit}")


def hold(child: Child, window_s: float, limits: HealthLimits, supervisor_pass: str | None = None) -> None:
    """window_s seconds in which the site stays up and keeps answering /health within the probe timeout."""
    deadline = time.monotonic() + window_s
    url = f"http://127.0.0.1:{child.port}/health"
    while True:
        if not child.alive():
            raise _died(child, "health", "during its health window")
        try:
            ok = httpx.get(url, timeout=limits.probe_timeout_s, headers=_pass(supervisor_pass)).status_code == 200
        except httpx.HTTPError as e:
            raise ReleaseFailed("health", f"the site stopped answering during its health window ({e!r})",
                                tail(child.log)) from None
        if not ok:
            raise ReleaseFailed("health", "the site's /health failed during its health window", tail(child.log))
        if time.monotonic() >= deadline:
            return
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def check(child: Child, window_s: float, limits: HealthLimits, supervisor_pass: str | None = None) -> None:
    wait_ready(child, limits, supervisor_pass)
    smoke(child, limits, supervisor_pass)
    hold(child, window_s, limits, supervisor_pass)
