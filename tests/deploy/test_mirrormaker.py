"""MirrorMaker 2's configuration as the chart renders it, checked offline (MM2 cannot run here): the properties read
as Java reads them, each source's topics copied one way under the default replication policy, so they arrive as
the names `civitas serve sync` consumes (civitas_sync.mirrored), the doubt topic never, heartbeats on."""

from __future__ import annotations

import re

import helm_python as helm
import kubernetes_validate
import pytest

from civitas_kernel.kafka import KafkaSettings
from civitas_sync.mirrored import mirrored_settings

from .test_chart import CHART, KUBE_VERSION, render

SOURCES = [{"site": "town.example", "role": "sub", "bootstrapServers": "kafka.town.example:9092"},
           {"site": "core.example", "role": "source", "bootstrapServers": "kafka.core.example:9092"}]
VALUES = {"site": "county.example", "mirrorMaker": {"enabled": True, "sources": SOURCES}}
EVERY_STREAM = ("registration", "trust", "doubt", "poll", "vote", "change", "draft")


def java_properties(text: str) -> dict[str, str]:
    """java.util.Properties.load for what the chart writes: comments, `key = value`, backslash escapes."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, value = (part.strip() for part in re.split(r"\s*=\s*", line, maxsplit=1))
        found[key] = re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n"}.get(m.group(1), m.group(1)), value)
    return found


def mm2(values=VALUES) -> dict[str, str]:
    docs = render(values)
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-mirrormaker"))
    return java_properties(config["data"]["mm2.properties"])


def copied(props: dict[str, str], source: str, topic: str) -> bool:
    """Whether MM2 copies `topic` from `source` into this site (its topics and topics.exclude are full-match
    regular expressions; the patterns the chart writes mean the same in Java and Python)."""
    flow = f"{source}->county.example"
    return (props[f"{flow}.enabled"] == "true" and re.fullmatch(props[f"{flow}.topics"], topic) is not None
            and re.fullmatch(props[f"{flow}.topics.exclude"], topic) is None)


def test_the_rendered_mirrormaker_manifests_are_valid_kubernetes_and_lint_clean():
    docs = render(VALUES)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "civitas-mirrormaker")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/opt/kafka/bin/connect-mirror-maker.sh", "/etc/mirrormaker/mm2.properties"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    result = helm.lint(str(CHART), VALUES, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == [] and not [m for m in result["messages"] if m["severity"] > 1]


def test_each_source_is_copied_one_way_under_the_default_policy_with_heartbeats():
    props = mm2()
    assert props["clusters"] == "county.example, town.example, core.example"
    assert props["replication.policy.class"] == "org.apache.kafka.connect.mirror.DefaultReplicationPolicy"
    assert props["replication.policy.separator"] == "."
    assert props["emit.heartbeats.enabled"] == "true"
    assert props["county.example.bootstrap.servers"] == "kafka:9092"
    for source in SOURCES:
        assert props[f"{source['site']}.bootstrap.servers"] == source["bootstrapServers"]
        assert props[f"county.example->{source['site']}.enabled"] == "false"  # nothing flows back down


@pytest.mark.parametrize("template", ["civitas.{stream}", "site-a.events.{stream}"])
def test_what_mm2_copies_is_what_flows_and_arrives_where_the_mirrored_consumer_reads(template):
    props = mm2(VALUES | {"kafka": {"bootstrapServers": "kafka:9092", "topicTemplate": template}})
    kafka = KafkaSettings(topic_template=template)
    flows = {"town.example": {"registration", "trust"},
             "core.example": {"registration", "trust", "poll", "vote", "change", "draft"}}
    for source, wanted in flows.items():
        taken = {s for s in EVERY_STREAM if copied(props, source, kafka.topic(s))}
        assert taken == wanted  # never doubt, whatever else is there
        assert not copied(props, source, "x" + kafka.topic("trust"))  # the patterns are anchored, dots literal
        assert not copied(props, source, kafka.topic("trust").replace(".", "_"))
        # the default policy names a copy <source alias>.<topic>: what the receiving consumer subscribes to
        assert mirrored_settings(kafka, source).topic("trust") == f"{source}.{kafka.topic('trust')}"


def test_nothing_is_rendered_until_sources_are_named_and_a_wrong_role_is_refused():
    assert not [d for d in render({"mirrorMaker": {"enabled": True}}) if "mirrormaker" in d["metadata"]["name"]]
    assert not [d for d in render({"mirrorMaker": {"sources": SOURCES}}) if "mirrormaker" in d["metadata"]["name"]]
    with pytest.raises(Exception, match="mirrors from its sub-sites"):
        render({"mirrorMaker": {"enabled": True, "sources": [SOURCES[0] | {"role": "super"}]}})
