"""Hosts on one machine and a bad network between them, for the partition tests and bench/sync_partition.py: two
joined by one link (`two_hosts`), or a line of them, each joined to the next (`hosts_in_a_line`: a core tree's levels).

Namespaces A and B are joined by a veth pair. Loss is real: nftables drops a share of the packets in the kernel
(`numgen random`), both ways. A partition drops every packet (the connections hang, as across a dead WAN link,
rather than being refused). Delay, reordering and duplication are emulated in user space by a relay in B that the
receiver pulls through: this machine's kernel has no netem qdisc, and nftables can drop packets but not hold or
copy them. Run as a script, this module is that relay: `netlab.py PORT UPSTREAM DELAY_MS JITTER_MS DUPLICATE SEED`.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=10)


def nft(ns: str, *rule: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, "nft", *rule], capture_output=True, text=True, check=True, timeout=10)


@dataclass
class Hosts:
    """One link: namespace a (the sender's) and b (the receiver's, and its relay's), each filtering what arrives on
    the link by its own chains `cut` and `loss` (named per link, so a host on two links has both)."""

    a: str  # the origin's namespace
    b: str  # the receiver's (and the relay's)
    link_a: str
    link_b: str
    addr_a: str = "10.231.0.1"
    cut: str = "cut"
    loss: str = "loss"

    def lose(self, percent: int) -> None:
        """Drop `percent` % of the packets arriving on each side of the link, at random, in the kernel."""
        for ns, dev in ((self.a, self.link_a), (self.b, self.link_b)):
            nft(ns, "flush", "chain", "inet", "civitas", self.loss)
            if percent:
                nft(ns, "add", "rule", "inet", "civitas", self.loss, "iifname", dev,
                    "numgen", "random", "mod", "100", "<", str(percent), "counter", "drop")

    def lost(self) -> int:
        """How many packets the loss rules have dropped so far, both sides together."""
        total = 0
        for ns in (self.a, self.b):
            listed = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "chain", "inet", "civitas", self.loss],
                                    capture_output=True, text=True, check=True, timeout=10).stdout
            words = listed.split()
            total += sum(int(words[i + 1]) for i, w in enumerate(words) if w == "packets")
        return total

    def partition(self, on: bool) -> None:
        """Every packet across the link dropped (on) or let through again (off)."""
        for ns, dev in ((self.a, self.link_a), (self.b, self.link_b)):
            nft(ns, "flush", "chain", "inet", "civitas", self.cut)
            if on:
                nft(ns, "add", "rule", "inet", "civitas", self.cut, "iifname", dev, "drop")


@contextmanager
def two_hosts() -> Iterator[Hosts]:
    """Namespaces A and B joined by a veth pair (10.231.0.1 in A, 10.231.0.2 in B), each with an nftables table
    whose chains `cut` and `loss` filter what arrives on the link; removed afterwards. Needs root, iproute2, nft."""
    with hosts_in_a_line(2) as (hosts,):
        yield hosts


@contextmanager
def hosts_in_a_line(count: int) -> Iterator[list[Hosts]]:
    """`count` namespaces, each joined to the next by a veth pair: link i between host i (10.23{1+i}.0.1) and host
    i+1 (10.23{1+i}.0.2), filtered by chains `cut`/`loss` (the first link) or `cut{i}`/`loss{i}`; removed
    afterwards. Needs root, iproute2, nft."""
    tag = f"{os.getpid() % 10000}"
    names = [f"civ-{chr(ord('a') + i)}{tag}" for i in range(count)]
    links = [Hosts(names[i], names[i + 1], f"v{i}a{tag}", f"v{i}b{tag}", f"10.23{1 + i}.0.1",
                   f"cut{i}" if i else "cut", f"loss{i}" if i else "loss") for i in range(count - 1)]
    try:
        for ns in names:
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
            nft(ns, "add", "table", "inet", "civitas")
        for i, link in enumerate(links):
            ip("link", "add", link.link_a, "netns", link.a, "type", "veth",
               "peer", "name", link.link_b, "netns", link.b)
            net = f"10.23{1 + i}.0"
            for ns, dev, addr in ((link.a, link.link_a, f"{net}.1/24"), (link.b, link.link_b, f"{net}.2/24")):
                ip("-n", ns, "addr", "add", addr, "dev", dev)
                ip("-n", ns, "link", "set", dev, "up")
                nft(ns, "add", "chain", "inet", "civitas", link.cut, "{ type filter hook input priority 0; }")
                nft(ns, "add", "chain", "inet", "civitas", link.loss, "{ type filter hook input priority 1; }")
        yield links
    finally:
        for ns in reversed(names):
            ip("netns", "del", ns, check=False)


def relay_command(ns: str, port: int, upstream: str, delay_ms: float, jitter_ms: float, duplicate: float,
                  seed: int) -> list[str]:
    return ["ip", "netns", "exec", ns, sys.executable, __file__, str(port), upstream, str(delay_ms), str(jitter_ms),
            str(duplicate), str(seed)]


def serve_relay(port: int, upstream: str, delay_ms: float, jitter_ms: float, duplicate: float, seed: int) -> None:
    """Pass each GET to `upstream` after delay ± jitter (so requests in flight overtake one another: reordering),
    and send a share `duplicate` of them twice, the copy later (the origin answers each). Of a duplicated heads
    request the receiver gets the older answer while the copy fetches the current one — and the older answer comes
    again for the next heads request: a late duplicate, behind what the receiver already holds."""
    app, chance = FastAPI(), random.Random(seed)
    client = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=32))
    stale: dict[str, httpx.Response] = {}

    async def hold() -> None:
        await asyncio.sleep(max(0.0, delay_ms + chance.uniform(-jitter_ms, jitter_ms)) / 1000)

    async def forward(path: str, params: dict) -> httpx.Response:
        await hold()
        return await client.get(f"{upstream}/{path}", params=params)

    @app.get("/{path:path}")
    async def relay(path: str, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            if chance.random() < duplicate:
                first, copy = await asyncio.gather(forward(path, params), forward(path, params))
                answer = stale.pop(path, first) if path.endswith("heads") else first
                stale[path] = copy
            else:
                answer = await forward(path, params)
        except httpx.HTTPError as e:
            return Response(f"relay: {type(e).__name__}", status_code=502)
        return Response(answer.content, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    serve_relay(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]),
                int(sys.argv[6]))
