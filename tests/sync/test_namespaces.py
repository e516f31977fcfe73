"""Two sites in network namespaces of their own, joined by a veth pair: a partition (the link down) while the
origin keeps writing, then heal — the receiver retries on its schedule and converges, nothing lost or doubled.

Needs `ip netns` (root, iproute2); skipped where the machine cannot make namespaces. Loss, delay, reordering and
duplication around a partition are in test_partition_chaos.py.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from civitas_kernel.testing.events import trust
from civitas_sync.state import load_state

from .conftest import CIVITAS, wait_until


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=10)


@pytest.fixture
def two_hosts():
    """Namespaces A and B joined by a veth pair (10.231.0.1 in A, 10.231.0.2 in B); removed afterwards."""
    tag = f"{os.getpid() % 10000}"
    a, b = f"civ-a{tag}", f"civ-b{tag}"
    try:
        ip("netns", "add", a)
    except (subprocess.CalledProcessError, FileNotFoundError, PermissionError):
        pytest.skip("network namespaces cannot be made here (needs root and iproute2)")
    try:
        ip("netns", "add", b)
        ip("link", "add", f"va{tag}", "netns", a, "type", "veth", "peer", "name", f"vb{tag}", "netns", b)
        for ns, dev, addr in ((a, f"va{tag}", "10.231.0.1/24"), (b, f"vb{tag}", "10.231.0.2/24")):
            ip("-n", ns, "addr", "add", addr, "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        yield {"a": a, "b": b, "link_a": f"va{tag}", "addr_a": "10.231.0.1"}
    finally:
        ip("netns", "del", b, check=False)
        ip("netns", "del", a, check=False)


def fill(log, first: int, last: int) -> None:
    log.append("trust", [trust(f"t{i}@example.org", "u@example.org") for i in range(first, last)])


@pytest.mark.slow
def test_a_partition_heals_and_the_receiver_catches_up_nothing_lost_nothing_doubled(sites, two_hosts):
    town, county = sites("town.example"), sites("county.example")
    town_log = town.open_log()
    fill(town_log, 0, 500)
    county.civitas("sync", "attach", town.name, "--role", "sub", "--key", town.key,
                   "--url", f"http://{two_hosts['addr_a']}:{town.port}")
    running = []
    try:
        for site, ns, host in ((town, two_hosts["a"], two_hosts["addr_a"]), (county, two_hosts["b"], "127.0.0.1")):
            running.append(subprocess.Popen(["ip", "netns", "exec", ns, CIVITAS, "serve", "sync"],
                                            env=site.env | {"CIVITAS_HOST": host}, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True))
        county_log = county.open_log()
        wait_until(lambda: county_log.head("trust", site=town.name).seq == 500, timeout_s=60, what="the first 500")

        ip("-n", two_hosts["a"], "link", "set", two_hosts["link_a"], "down")  # the partition
        for start in range(500, 2000, 100):
            fill(town_log, start, start + 100)  # the origin keeps writing meanwhile
        wait_until(lambda: load_state(county.home).of(town.name).failures >= 2, timeout_s=60,
                   what="the receiver failing and backing off")
        assert county_log.head("trust", site=town.name).seq == 500

        ip("-n", two_hosts["a"], "link", "set", two_hosts["link_a"], "up")  # heal
        wait_until(lambda: county_log.head("trust", site=town.name).seq == 2000, timeout_s=60, what="convergence")
        assert county_log.head("trust", site=town.name) == town_log.head("trust")
        assert county_log.verify(site=town.name).events == 2000  # in order, each once, every link and signature
        wait_until(lambda: load_state(county.home).of(town.name).failures == 0, timeout_s=10, what="the schedule reset")
    finally:
        for process in running:
            process.kill()
            process.communicate()
