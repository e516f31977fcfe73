"""The sync worker: every so often, pull from each peer that is due, and keep the schedule and what was seen."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from civitas_kernel.log import EventLog

from civitas_sync.config import pinned_keys, read_network
from civitas_sync.domain.retries import retry_delay
from civitas_sync.heads_moved import HeadsMoved
from civitas_sync.pulling import PeerUnreachable, Puller, PullReport
from civitas_sync.mirror_worker import mirrored_origins
from civitas_sync.prompts import signed_prompt
from civitas_sync.rules import keep_rules
from civitas_sync.settings import SyncOptions
from civitas_sync.state import load_state, save_state

log = logging.getLogger("civitas.sync")


class SyncWorker:
    """Pulls from this site's sub-sites and sources into `log`; its peers are re-read from sync.toml each round."""

    def __init__(self, log_: EventLog, home: Path, options: SyncOptions | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.log, self.home, self.options, self.clock = log_, home, options or SyncOptions(), clock
        self._stop, self._prompted, self._news = threading.Event(), threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one round at a time, whoever asks
        self.moved = HeadsMoved()  # what a held GET /sync/v1/heads waits on: moved after each pull that added

    def run_once(self, *, force: bool = False) -> list[PullReport | str]:
        """One round over the peers that are due (every one, with force): pull from sub-sites and sources, compare
        heads with the others. Returns each peer's report, or the reason it failed."""
        with self._lock:
            network = read_network(self.home, self.log.site)
            if not network.peers:
                return []  # no peers: no client, no state read (an idle site spends nothing here)
            keys, state, results = pinned_keys(self.home), load_state(self.home), []
            with httpx.Client(timeout=self.options.SYNC_TIMEOUT_S,
                              limits=httpx.Limits(max_connections=self.options.SYNC_PAGES_IN_FLIGHT + 1)) as client:
                for peer in network.peers:
                    entry, now = state.of(peer.site), self.clock()
                    if not force and entry.next_attempt > now:
                        continue
                    frozen = frozenset().union(*(p.frozen for p in state.peers.values()))  # wherever it was seen
                    try:
                        puller = Puller(self.log, peer, keys, client, self.options.SYNC_PAGES_IN_FLIGHT, frozen,
                                        mirrored_origins(self.options.SYNC_MIRRORED))
                        # a peer that pulls from this site is still asked for its heads: split views show wherever
                        report = puller.run() if peer.pulled else puller.witness()
                    except PeerUnreachable as e:
                        entry.failures += 1
                        entry.last_error = str(e)
                        entry.next_attempt = self.clock() + retry_delay(
                            entry.failures, self.options.SYNC_BACKOFF_BASE_S, self.options.SYNC_BACKOFF_CAP_S)
                        results.append(str(e))
                        save_state(self.home, state)
                        continue
                    entry.failures, entry.next_attempt, entry.last_contact = 0, 0.0, self.clock()
                    split = [r for r in report.refused if "split view" in r]
                    entry.last_error = "; ".join(report.errors + split) or None
                    for s in report.streams:
                        entry.remote[f"{s.origin}/{s.stream}"] = {"seq": s.remote, "hash": s.remote_hash,
                                                                  "error": s.error, "gap": s.gap}
                    for evidence in [s.evidence for s in report.streams if s.evidence] + report.evidence:
                        if evidence not in entry.evidence:
                            entry.evidence.append(evidence)
                            log.warning("split view of %s/%s at %s, seen at %s: kept as evidence, the stream frozen",
                                        evidence["origin"], evidence["stream"], evidence["seq"], peer.site)
                    # the origins' list rules travel with their streams; what is refused stays said until it is not
                    entry.refused_rules = keep_rules(self.home, report.rules, {**keys, peer.site: peer.public_key},
                                                     self.log.site) if report.rules else []
                    for problem in entry.refused_rules:
                        log.warning("list rules from %s refused: %s", peer.site, problem)
                    results.append(report)
                    save_state(self.home, state)
                    if report.added:
                        self.moved.moved()  # a reader holding the heads (the counter) hears of it now
                    if report.added or report.errors:
                        log.info("sync from %s: %d new events%s", peer.site, report.added,
                                 "".join(f"; {e}" for e in report.errors))
        return results

    def start(self) -> None:
        if self.options.SYNC_EVERY_S <= 0 or self._thread is not None:
            return
        self.log.on_append(lambda *_: self._news.set())  # this process appended: tell who pulls from us
        self._thread = threading.Thread(target=self._loop, name="sync-worker", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if any(isinstance(r, PullReport) and r.added for r in self.run_once()):
                    self._news.set()  # what arrived goes on to whoever pulls from this site
                if self._news.is_set():
                    self._news.clear()
                    self.tell_pullers()
            except Exception:  # a bad configuration or a log error must not end the worker: said, then retried
                log.exception("sync round failed")
            self._prompted.wait(self.options.SYNC_EVERY_S)
            self._prompted.clear()

    def tell_pullers(self) -> None:
        """Prompt the peers that pull from this site (its super-site, its peripheral sites) to pull sooner: a hint
        each may ignore; a peer that does not answer is left to its own schedule."""
        network = read_network(self.home, self.log.site)
        for peer in network.peers:
            if not peer.pulled:
                try:
                    httpx.post(peer.base_url + "/sync/v1/prompt", timeout=2,
                               json=signed_prompt(self.log.key, self.log.site, peer.site, self.clock()))
                except httpx.HTTPError:
                    pass

    def prompt(self) -> None:
        """Pull sooner than the next round (a peer says it has news); the schedule stands without it."""
        self._prompted.set()

    def stop(self) -> None:
        self._stop.set()
        self._prompted.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
