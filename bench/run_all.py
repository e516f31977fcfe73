"""Run every benchmark in bench/ in turn (pass --quick for short runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = [
    "log.py", "trust_levels.py", "cascade.py", "count_audit.py", "deployer.py", "deploy.py", "change_pages.py", "drafts.py",
    "voter_shell.py", "http_votes.py", "gateway_route.py", "slow_clients.py", "kafka_replay.py", "distributed.py",
    "sync.py", "fork.py", "mirror.py", "live_release.py", "page_budget.py", "host_proxy.py",
]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        print(f"\n== bench/{name}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / name), *sys.argv[1:]])
    return failed


if __name__ == "__main__":
    sys.exit(main())
