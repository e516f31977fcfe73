"""Two sites as processes in network namespaces, the origin writing all along, across a bad network: 5 % of the
packets lost in the kernel (nftables) and every request delayed, reordered and some duplicated by a relay, then a
60-second partition (every packet dropped), then the same bad network again. After the heal the receiver converges:
the same events at the same positions with the same hashes as the origin's, in order, each once.
"""

from __future__ import annotations

import subprocess
import threading
import time

import pytest

from civitas_kernel.testing.events import trust
from civitas_kernel.testing.ports import free_port
from civitas_sync.state import load_state

from .conftest import CIVITAS, wait_until
from .netlab import relay_command, two_hosts

LOSS_PERCENT, DELAY_MS, JITTER_MS, DUPLICATE = 5, 40, 35, 0.2


class Writer(threading.Thread):
    """The origin's voters, adding 40 trust events every 0.2 s until stopped."""

    def __init__(self, log) -> None:
        super().__init__(daemon=True)
        self.log, self.written, self.halt, self.error = log, 0, threading.Event(), None

    def run(self) -> None:
        try:
            while not self.halt.wait(0.2):
                self.log.append("trust", [trust(f"t{i}@example.org", "u@example.org")
                                          for i in range(self.written, self.written + 40)])
                self.written += 40
        except Exception as e:  # noqa: BLE001 — reported by the test, not lost in a thread
            self.error = e

    def stop(self) -> int:
        self.halt.set()
        self.join(10)
        assert self.error is None, self.error
        return self.written


@pytest.mark.slow
def test_loss_delay_reordering_duplication_and_a_partition_then_heal_converges_in_order(sites):
    with two_hosts() as hosts:
        town, county = sites("town.example"), sites("county.example")
        relay_port = free_port()
        county.civitas("sync", "attach", town.name, "--role", "sub", "--key", town.key,
                       "--url", f"http://127.0.0.1:{relay_port}")
        town_log = town.open_log()
        town_log.append("trust", [trust("first@example.org", "u@example.org")])  # the stream exists before the pull
        running = [
            subprocess.Popen(["ip", "netns", "exec", hosts.a, CIVITAS, "serve", "sync"],
                             env=town.env | {"CIVITAS_HOST": hosts.addr_a}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
            subprocess.Popen(relay_command(hosts.b, relay_port, f"http://{hosts.addr_a}:{town.port}", DELAY_MS,
                                           JITTER_MS, DUPLICATE, seed=7), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
            subprocess.Popen(["ip", "netns", "exec", hosts.b, CIVITAS, "serve", "sync"],
                             env=county.env | {"CIVITAS_HOST": "127.0.0.1", "CIVITAS_SYNC_TIMEOUT_S": "5",
                                               "CIVITAS_SYNC_PAGES_IN_FLIGHT": "6"},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        writer = Writer(town_log)
        try:
            county_log = county.open_log()
            hosts.lose(LOSS_PERCENT)
            writer.start()
            time.sleep(12)  # the bad network before the partition
            wait_until(lambda: county_log.head("trust", site=town.name).seq > 1000, timeout_s=30,
                       what="events through the lossy, delaying relay")

            assert hosts.lost() > 0  # the kernel did drop packets
            hosts.partition(True)
            time.sleep(3)  # what was in flight has failed or landed
            cut_at = county_log.head("trust", site=town.name).seq
            wait_until(lambda: load_state(county.home).of(town.name).failures >= 2, timeout_s=60,
                       what="the receiver failing and backing off")
            time.sleep(60 - 3 - 1)
            assert county_log.head("trust", site=town.name).seq == cut_at  # nothing crossed the partition
            assert town_log.head("trust").seq > cut_at + 5000  # the origin kept writing

            hosts.partition(False)  # heal, into the same bad network
            time.sleep(10)
            written = 1 + writer.stop()
            wait_until(lambda: county_log.head("trust", site=town.name).seq == written, timeout_s=60,
                       what="convergence")
            assert county_log.head("trust", site=town.name) == town_log.head("trust")
            assert county_log.verify(site=town.name).events == written  # each once, every link and signature
            theirs = [(e.seq, e.hash) for e in town_log.read("trust")]
            ours = [(e.seq, e.hash) for e in county_log.read("trust", site=town.name)]
            assert ours == theirs  # the same events by position and hash, in the origin's order
            wait_until(lambda: load_state(county.home).of(town.name).failures == 0, timeout_s=10,
                       what="the schedule reset")
        finally:
            writer.halt.set()
            for process in running:
                process.kill()
                process.communicate()
