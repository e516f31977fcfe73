"""The owning service records how long voters' commands take to be decided and sealed, per kind, and what it appends."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from civitas_kernel import telemetry
from civitas_kernel.kafka import KafkaSettings
from civitas_kernel.service.settings import OwnerSettings
from civitas_kernel.testing.metrics import metric_points
from civitas_kernel.testing.ports import free_port

from civitas_polls.http import create_polls_app


def test_command_latency_is_recorded_for_each_command_of_a_batch(tmp_path, make_database_url, server_thread,
                                                                   monkeypatch):
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    real = telemetry.instruments
    monkeypatch.setattr(telemetry, "instruments", lambda given=None: real(given or provider))  # what the app makes
    settings = OwnerSettings(SERVICE="polls", HOME=tmp_path, SITE="localhost", LOG_URL=make_database_url("postgres"),
                             COUNTER_URL="http://127.0.0.1:9", PUBLISH_WAIT_S=0)
    app = create_polls_app(settings, kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}"))
    with server_thread().serving(app) as url:
        assert httpx.post(url + "/polls", json={"name": "mayor"}).status_code == 201
        commands = [{"voter": f"v{i}@example.org", "service": "mayor", "args": ["vote", "ann@example.org"]}
                    for i in range(3)] + [{"voter": "v0@example.org", "service": "mayor", "args": ["unvote"]}]
        assert httpx.post(url + "/commands", json={"commands": commands}).status_code == 200

    latency = {tuple(p.attributes.items()): p for p in metric_points(reader, "civitas.command.latency")}
    assert latency[(("civitas.command", "poll vote"),)].count == 3
    assert latency[(("civitas.command", "poll unvote"),)].count == 1
    assert all(0 < p.max < 30 for p in latency.values())
    appended = {p.attributes["civitas.stream"]: p.value for p in metric_points(reader, "civitas.events.appended")}
    assert appended == {"poll": 1, "vote": 4}
