"""Every committed append is counted (civitas.events.appended, per stream); a repeat under a used idempotency key is not."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from civitas_kernel.signing import SiteKey
from civitas_kernel.sql import create_engine
from civitas_kernel.sql.sqlite import SQLiteEventLog
from civitas_kernel.testing.events import trust, votes
from civitas_kernel.testing.metrics import metric_points


def appended(reader: InMemoryMetricReader) -> dict[str, int]:
    return {p.attributes["civitas.stream"]: p.value for p in metric_points(reader, "civitas.events.appended")}


def test_appends_are_counted_per_stream_once(tmp_path):
    reader = InMemoryMetricReader()
    log = SQLiteEventLog(create_engine(f"sqlite:///{tmp_path / 'log.sqlite'}"), "alpha.example.org", SiteKey.generate(),
                         meter_provider=MeterProvider(metric_readers=[reader]))
    log.append("vote", votes(3), idempotency_key="first")
    log.append("vote", votes(3), idempotency_key="first")  # a retry: nothing new
    trusts = [trust(f"v{i}@example.org", "ann@example.org") for i in range(4)]
    log.append_batches([("vote", votes(2), 3), ("trust", trusts, None)])
    assert appended(reader) == {"vote": 5, "trust": 4}
    log.engine.dispose()
