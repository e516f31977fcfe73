"""What the deployer's integration tests share: a clock to move, voter list records as the counter reports them, and
patches made in a voter's clone."""

from __future__ import annotations

from civitas_kernel.voter_list import VoterEntry, VoterList
from civitas_deployer.domain.windows import HOUR_US

from .git_repos import T0

ALICE, BOB, CAROL, DAVE, EMILY = (f"{n}@example.org" for n in ("alice", "bob", "carol", "dave", "emily"))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def hours(self, n: float) -> None:
        self.now += int(n * HOUR_US)


class Lists:
    """Voter list records as the registry reports them: immutable, each with its name."""

    def __init__(self) -> None:
        self.records: dict[str, VoterList] = {}
        self.current: str | None = None

    def report(self, *voters: str, trust: int = 1) -> str:
        self.current = f"list {len(self.records) + 1}"
        self.records[self.current] = VoterList([VoterEntry(v, trust) for v in voters])
        return self.current

    def reported(self):
        return None if self.current is None else (self.current, self.records[self.current])

    def get(self, name: str) -> VoterList:
        return self.records[name]


def patch_file(clone, tmp_path, name: str, files: dict[str, str], message: str = "A change") -> str:
    clone.sync()
    for path, text in files.items():
        clone.write(path, text)
    clone.commit(message)
    target = tmp_path / f"{name}.patch"
    target.write_bytes(clone.patch())
    clone.git("reset", "--quiet", "--hard", "origin/main")
    return str(target)


class Later:
    """Moves this process's clock forward (time.time_ns: a service's own clock and its log's), as days passing would."""

    def __init__(self, monkeypatch) -> None:
        import time

        self.offset_ns = 0
        real = time.time_ns
        monkeypatch.setattr(time, "time_ns", lambda: real() + self.offset_ns)

    def hours(self, n: float) -> None:
        self.offset_ns += int(n * 3600 * 1e9)
