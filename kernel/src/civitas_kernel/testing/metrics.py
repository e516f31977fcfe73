"""What a test's in-memory metric reader has recorded, by instrument name."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import InMemoryMetricReader


def metric_points(reader: InMemoryMetricReader, name: str) -> list:
    """Every data point of the instrument `name`, across resources and scopes (empty if none was recorded)."""
    data = reader.get_metrics_data()
    return [point for resource in (data.resource_metrics if data else ()) for scope in resource.scope_metrics
            for metric in scope.metrics if metric.name == name for point in metric.data.data_points]
