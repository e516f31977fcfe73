"""The Helm chart renders to valid Kubernetes manifests, and skaffold.yaml builds and deploys what exists."""

from __future__ import annotations

import re
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "civitas"
KUBE_VERSION = "1.30.0"


def render(values: dict) -> list[dict]:
    chart = helm.Chart.load(str(CHART))
    try:
        rendered = chart.render(values, name="civitas", namespace="civitas", is_install=True)
    finally:
        chart.close()
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def test_the_chart_lints_clean():
    result = helm.lint(str(CHART), strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == [] and not [m for m in result["messages"] if m["severity"] > 1]


@pytest.mark.parametrize("values", [{}, {"services": {"deployer": {"enabled": True}, "sync": {"enabled": True}}}])
def test_every_rendered_manifest_is_valid_kubernetes(values):
    docs = render(values)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    deployments = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    expected = {"civitas-gateway", "civitas-registry", "civitas-polls", "civitas-counter"}
    assert expected <= deployments
    assert ("civitas-deployer" in deployments) == bool(values)


def test_each_deployment_serves_its_own_service_with_probes():
    for doc in render({}):
        if doc["kind"] != "Deployment":
            continue
        service = doc["metadata"]["labels"]["app.kubernetes.io/name"]
        container = doc["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][:2] == ["serve", service]
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_skaffold_builds_images_the_chart_uses():
    config = yaml.safe_load((REPO / "skaffold.yaml").read_text())
    assert config["apiVersion"].startswith("skaffold/v4") and config["kind"] == "Config"
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "ARG SERVICE" in dockerfile
    release = config["deploy"]["helm"]["releases"][0]
    assert (REPO / release["chartPath"] / "Chart.yaml").exists()
    templates = release["setValueTemplates"]
    values: dict = {"services": {}}
    for artifact in config["build"]["artifacts"]:
        assert (REPO / artifact["docker"]["dockerfile"]).exists()
        service = artifact["docker"]["buildArgs"]["SERVICE"]
        key = f"services.{service}.image"
        placeholder = "IMAGE_FULLY_QUALIFIED_" + re.sub(r"\W", "_", artifact["image"])
        assert templates[key] == "{{." + placeholder + "}}"
        values["services"][service] = {"image": f"registry.example/{artifact['image']}:abc123"}
    images = {
        doc["spec"]["template"]["spec"]["containers"][0]["image"] for doc in render(values) if doc["kind"] == "Deployment"
    }
    assert {v["image"] for v in values["services"].values()} <= images
