"""Simulated voter commands, after Votorola's vosim-alex, for demonstrations and tests.

`simulate("ab", "1-3")` registers a1…a3 and b1…b3 (a1@sim.example.org …), each with a residence
in their group's neighbourhood (postal code A1000, B1000 … written last, so it parses), and has
group a vote in test-poll for sim-a@sim.example.org and group b for sim-b@sim.example.org — a
3–3 tie once the voter list and the count are compiled. The poll must exist first:
`civitas poll create test-poll`; the output's first line is a comment saying so.
"""

from __future__ import annotations

import re

from civitas_polls.domain.polls import PollError

DOMAIN = "sim.example.org"
POLL = "test-poll"
MAX_VOTERS = 100_000


def parse_range(text: str) -> range:
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", text.strip())
    if not match:
        raise PollError(f"{text!r} is not a range of voter numbers; write it like 1-3")
    first, last = int(match[1]), int(match[2] or match[1])
    if not 1 <= first <= last or last - first >= MAX_VOTERS:
        raise PollError(f"a range runs upward from 1 and holds at most {MAX_VOTERS:,} numbers")
    return range(first, last + 1)


def simulate(groups: str, voters: str) -> list[str]:
    if not re.fullmatch(r"[a-z]{1,26}", groups) or len(set(groups)) != len(groups):
        raise PollError(f"{groups!r} names no groups; give distinct lower-case letters, like ab")
    numbers = parse_range(voters)
    lines = [f"# run `civitas poll create {POLL}` first, then pipe these lines into `civitas voter`"]
    for group in groups:
        for n in numbers:
            voter = f"{group}{n}@{DOMAIN}"
            lines.append(f"{voter} register set name Sim {group.upper()}{n}")
            lines.append(f"{voter} register set residence {n} {group.upper()} Street, Simville {group.upper()}1000")
            lines.append(f"{voter} {POLL} vote sim-{group}@{DOMAIN}")
    return lines
