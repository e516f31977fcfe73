"""Two sites as processes in network namespaces, the origin writing all along, across a bad network: 5 % of the
packets lost in the kernel (nftables) and every request delayed, reordered and some duplicated by a relay, then a
60-second partition (every packet dropped), then the same bad network again. After the heal the receiver converges:
the same events at the same positions with the same hashes as the origin's, in order, each once. Then a three-level
core tree (a village under a town under a county, each in its own namespace) across the same bad network on both
links, partitioned one link after the other, the village and the town writing all along.
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
from .netlab import hosts_in_a_line, relay_command, two_hosts

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


def served(ns: str, site, host: str, **env: str) -> subprocess.Popen:
    """`civitas serve sync` of `site` in namespace `ns`, listening on `host`; a receiver's timeouts kept short."""
    return subprocess.Popen(["ip", "netns", "exec", ns, CIVITAS, "serve", "sync"],
                            env=site.env | {"CIVITAS_HOST": host, "CIVITAS_SYNC_TIMEOUT_S": "5",
                                            "CIVITAS_SYNC_PAGES_IN_FLIGHT": "6"} | env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_three_level_tree_across_a_bad_network_partitioned_link_by_link_converges_in_order(sites):
    with hosts_in_a_line(3) as (low, high):  # village | town, town | county
        village, town, county = sites("village.example"), sites("town.example"), sites("county.example")
        to_village, to_town = free_port(), free_port()  # each receiver's relay, in its own namespace
        town.civitas("sync", "attach", village.name, "--role", "sub", "--key", village.key,
                     "--url", f"http://127.0.0.1:{to_village}")
        county.civitas("sync", "attach", town.name, "--role", "sub", "--key", town.key,
                       "--url", f"http://127.0.0.1:{to_town}")
        county.civitas("known-sites", "add", village.name, village.key)  # the village's events come through the town
        village_log, town_log = village.open_log(), town.open_log()
        for log in (village_log, town_log):
            log.append("trust", [trust("first@example.org", "u@example.org")])  # the streams exist before the pulls
        running = [
            served(low.a, village, low.addr_a),
            subprocess.Popen(relay_command(low.b, to_village, f"http://{low.addr_a}:{village.port}", DELAY_MS,
                                           JITTER_MS, DUPLICATE, seed=7), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
            served(high.a, town, high.addr_a),  # serves the county on its upper link, pulls the village below
            subprocess.Popen(relay_command(high.b, to_town, f"http://{high.addr_a}:{town.port}", DELAY_MS,
                                           JITTER_MS, DUPLICATE, seed=11), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL),
            served(high.b, county, "127.0.0.1")]
        writers = [Writer(village_log), Writer(town_log)]
        try:
            county_log = county.open_log()

            def at(log, origin: str) -> int:
                return log.head("trust", site=origin).seq

            for link in (low, high):
                link.lose(LOSS_PERCENT)
            for writer in writers:
                writer.start()
            time.sleep(12)  # the bad network before the partitions
            wait_until(lambda: at(county_log, village.name) > 500 and at(county_log, town.name) > 500, timeout_s=30,
                       what="both origins' events at the top, the village's relayed by the town")
            assert low.lost() > 0 and high.lost() > 0  # the kernel did drop packets on both links

            low.partition(True)  # the village cut off from the town...
            started = time.monotonic()
            time.sleep(3)
            town_had = at(town_log, village.name)
            wait_until(lambda: at(county_log, village.name) == town_had, timeout_s=15,
                       what="the county coming as far as the town holds of the village")
            time.sleep(max(0.0, 20 - (time.monotonic() - started)))
            high.partition(True)  # ...then the town from the county: no link left
            time.sleep(3)
            county_had = {o: at(county_log, o) for o in (village.name, town.name)}
            assert county_had[village.name] == town_had  # no further than the town holds
            time.sleep(max(0.0, 40 - (time.monotonic() - started)))
            assert at(town_log, village.name) == town_had  # nothing crossed the lower partition
            low.partition(False)  # the lower link heals, into the same bad network; the upper stays cut
            wait_until(lambda: at(town_log, village.name) > town_had, timeout_s=18, what="the town catching up")
            time.sleep(max(0.0, 60 - (time.monotonic() - started)))
            assert {o: at(county_log, o) for o in county_had} == county_had  # nothing crossed the upper partition
            assert at(village_log, village.name) > town_had + 5000 and at(town_log, town.name) > county_had[town.name]
            high.partition(False)

            time.sleep(10)
            written = {village.name: 1 + writers[0].stop(), town.name: 1 + writers[1].stop()}
            wait_until(lambda: all(at(county_log, o) == n for o, n in written.items())
                       and at(town_log, village.name) == written[village.name], timeout_s=60, what="convergence")
            for origin, log in ((village.name, village_log), (town.name, town_log)):
                theirs = [(e.seq, e.hash) for e in log.read("trust")]
                assert county_log.verify(site=origin).events == written[origin]  # each once, every link and signature
                ours = [(e.seq, e.hash) for e in county_log.read("trust", site=origin)]
                assert ours == theirs  # the same events by position and hash, in the origin's order
            assert [(e.seq, e.hash) for e in town_log.read("trust", site=village.name)] == [
                (e.seq, e.hash) for e in village_log.read("trust")]
            for receiver, peer in ((town, village), (county, town)):
                wait_until(lambda: load_state(receiver.home).of(peer.name).failures == 0, timeout_s=10,
                           what=f"{receiver.name}'s schedule for {peer.name} reset")
        finally:
            for writer in writers:
                writer.halt.set()
            for process in running:
                process.kill()
                process.communicate()
