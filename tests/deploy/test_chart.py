"""The Helm chart renders to valid Kubernetes manifests wired as each service (`python -m civitas_NAME`) needs them, and skaffold.yaml
builds and deploys what exists."""

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


# Whom each service calls over HTTP: the gateway its owners and the counter (civitas/distributed/facade.py), the owners
# the counter for the reported records, the counter the owners to fill gaps in its replica.
CALLS = {"gateway": {"registry", "polls", "counter", "deployer", "drafts"}, "registry": {"counter", "drafts"},
         "polls": {"counter"}, "counter": {"registry", "polls"}, "deployer": {"counter", "gateway"}, "drafts": set()}


def render(values: dict, release: str = "civitas") -> list[dict]:
    chart = helm.Chart.load(str(CHART))
    try:
        rendered = chart.render(values, name=release, namespace="civitas", is_install=True)
    finally:
        chart.close()
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def deployments(docs: list[dict]) -> dict[str, dict]:
    """service name -> its Deployment."""
    return {d["metadata"]["labels"]["app.kubernetes.io/name"]: d for d in docs if d["kind"] == "Deployment"}


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def env(deployment: dict) -> dict[str, object]:
    """variable -> its value, or (secret, key) where it comes from a secret."""
    found = {}
    for var in container(deployment)["env"]:
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        found[var["name"]] = (ref["name"], ref["key"]) if ref else var["value"]
    return found


def volume(deployment: dict, mount_path: str) -> dict:
    """The volume mounted at mount_path."""
    name = next(m["name"] for m in container(deployment)["volumeMounts"] if m["mountPath"] == mount_path)
    return next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == name)


def test_the_chart_lints_clean():
    result = helm.lint(str(CHART), strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == [] and not [m for m in result["messages"] if m["severity"] > 1]


SOME_VALUES = [
    {},
    {"services": {"deployer": {"enabled": True}, "sync": {"enabled": True}}},
    {"services": {"gateway": {"workers": 4}, "counter": {"persistence": {"size": "50Gi", "storageClass": "fast-ssd"}}},
     "otel": {"endpoint": "http://otel-collector:4318"}},
    {"services": {"drafts": {"enabled": True}}},
    {"lockdown": True},
    {"secrets": {"mirrors": "civitas-mirrors"}},
]


@pytest.mark.parametrize("values", SOME_VALUES[1:])
def test_the_chart_lints_clean_with_other_values(values):
    result = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == [] and not [m for m in result["messages"] if m["severity"] > 1]


@pytest.mark.parametrize("values", SOME_VALUES)
def test_every_rendered_manifest_is_valid_kubernetes(values):
    docs = render(values)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    names = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    expected = {"civitas-gateway", "civitas-registry", "civitas-polls", "civitas-counter"}
    assert expected <= names
    assert ("civitas-deployer" in names) == values.get("services", {}).get("deployer", {}).get("enabled", True)


def test_each_deployment_serves_its_own_service_with_probes():
    for doc in render({}):
        if doc["kind"] != "Deployment":
            continue
        service = doc["metadata"]["labels"]["app.kubernetes.io/name"]
        container = doc["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"civitas_{service}"]
        assert container["args"] == ["--port", str(container["ports"][0]["containerPort"])]
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


def test_registry_polls_and_counter_each_read_their_own_database():
    found = deployments(render({"secrets": {"database": "db-urls"}}))

    logs = {name: env(found[name]).get("CIVITAS_LOG_URL") for name in found}
    assert logs == {"registry": ("db-urls", "registry-url"), "polls": ("db-urls", "polls-url"),
                    "counter": ("db-urls", "counter-url"), "deployer": ("db-urls", "deployer-url"),
                    "drafts": ("db-urls", "drafts-url"), "gateway": None}
    assert env(found["gateway"])["CIVITAS_AUTH_STORE_URL"] == ("db-urls", "gateway-url")


def test_how_to_create_the_database_secret_is_written_down():
    keys = {ref[1] for d in deployments(render({})).values() for ref in env(d).values()
            if isinstance(ref, tuple) and ref[0] == "civitas-database"}
    assert keys == {"registry-url", "polls-url", "counter-url", "deployer-url", "drafts-url", "gateway-url"}
    values, readme = (CHART / "values.yaml").read_text(), (REPO / "README.md").read_text()
    assert "kubectl create secret generic civitas-database" in values
    for key in keys:
        assert f"--from-literal={key}=postgresql://" in values
        assert key in readme


def test_services_call_each_other_at_their_in_cluster_addresses():
    ports = {"gateway": 9100, "registry": 9101, "polls": 9102, "counter": 9103, "deployer": 9104, "drafts": 9105}
    docs = render({"services": {name: {"port": port} for name, port in ports.items()}}, release="town")
    services = {d["metadata"]["name"]: d["spec"]["ports"][0]["port"] for d in docs if d["kind"] == "Service"}

    for name, deployment in deployments(docs).items():
        urls = {callee: env(deployment)[f"CIVITAS_{callee.upper()}_URL"] for callee in ports
                if f"CIVITAS_{callee.upper()}_URL" in env(deployment)}
        assert set(urls) == CALLS[name], name
        for callee, url in urls.items():
            assert url == f"http://town-{callee}:{ports[callee]}"
            assert services[f"town-{callee}"] == ports[callee]
        assert container(deployment)["ports"][0]["containerPort"] == ports[name]


def test_every_service_listens_where_its_probes_and_service_reach_it():
    for name, deployment in deployments(render({})).items():
        assert env(deployment)["CIVITAS_HOST"] == "0.0.0.0", name  # the default, 127.0.0.1, answers only inside the pod


def test_every_service_signs_with_the_one_mounted_site_key():
    for name, deployment in deployments(render({"secrets": {"siteKey": "town-key"}})).items():
        key_file = env(deployment)["CIVITAS_KEY_FILE"]
        assert key_file == "/var/lib/civitas/site-key.pem", name
        assert volume(deployment, key_file)["secret"]["secretName"] == "town-key"


def test_the_counter_keeps_its_records_on_a_persistent_volume():
    docs = render({"services": {"counter": {"persistence": {"size": "50Gi", "storageClass": "fast-ssd"}}}})
    found = deployments(docs)
    claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}

    counter = found["counter"]
    home = volume(counter, env(counter)["CIVITAS_HOME"])
    claim = claims[home["persistentVolumeClaim"]["claimName"]]
    assert claim["spec"]["resources"]["requests"]["storage"] == "50Gi"
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert counter["spec"]["replicas"] == 1 and counter["spec"]["strategy"]["type"] == "Recreate"
    assert counter["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 10001  # the volume is writable
    # the counter's and the deployer's homes, and the releases the deployer shares
    assert sorted(claims) == ["civitas-counter-home", "civitas-deployer-home", "civitas-releases"]
    for name in ("gateway", "registry", "polls"):
        assert volume(found[name], env(found[name])["CIVITAS_HOME"]) == {"name": "home", "emptyDir": {}}


def test_the_counters_volume_has_the_clusters_default_storage_class_unless_one_is_named():
    claim = next(d for d in render({}) if d["kind"] == "PersistentVolumeClaim"
                 and d["metadata"]["name"] == "civitas-counter-home")
    assert "storageClassName" not in claim["spec"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"


@pytest.mark.parametrize("service", ["registry", "polls", "counter", "deployer"])
def test_a_second_copy_of_a_single_writer_is_refused_and_upgrades_replace_it(service):
    with pytest.raises(helm.HelmError, match=f"services.{service}.replicas must be 1"):
        render({"services": {service: {"replicas": 2}}})
    deployment = deployments(render({}))[service]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"  # never the old and the new writing at once
    assert "strategy" not in deployments(render({}))["gateway"]["spec"]  # the gateway rolls: it keeps no state


def test_only_the_gateway_runs_several_workers():
    assert env(deployments(render({}))["gateway"])["CIVITAS_WORKERS"] == "1"

    found = deployments(render({"services": {"gateway": {"workers": 4}, "registry": {"workers": 3}}}))

    workers = {name: env(d).get("CIVITAS_WORKERS") for name, d in found.items()}
    assert workers == {"gateway": "4", "registry": None, "polls": None, "counter": None, "deployer": None,
                       "drafts": None}


def test_the_deployer_keeps_its_live_repository_on_a_persistent_volume_and_the_gateway_finds_it():
    docs = render({"services": {"deployer": {"persistence": {"size": "20Gi"}}}})
    found = deployments(docs)
    claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}
    deployer = found["deployer"]
    home = volume(deployer, env(deployer)["CIVITAS_HOME"])
    claim = claims[home["persistentVolumeClaim"]["claimName"]]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert deployer["spec"]["strategy"]["type"] == "Recreate"
    assert env(found["gateway"])["CIVITAS_DEPLOYER_URL"] == "http://civitas-deployer:8004"
    assert volume(deployer, "/tmp") == {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}  # git's scratch files
    without = deployments(render({"services": {"deployer": {"enabled": False}}}))
    assert "deployer" not in without and env(without["gateway"])["CIVITAS_DEPLOYER_URL"] == ""  # not deployed


def test_drafts_is_one_writer_on_its_own_database_and_the_gateway_calls_it():
    without = deployments(render({"services": {"drafts": {"enabled": False}}}))
    assert "drafts" not in without and env(without["gateway"])["CIVITAS_DRAFTS_URL"] == ""  # not deployed
    values = {"services": {"drafts": {"port": 9105}}, "secrets": {"database": "db-urls"}}
    docs = render(values, release="town")
    found = deployments(docs)
    drafts = found["drafts"]
    assert container(drafts)["command"] == ["python", "-m", "civitas_drafts"]
    assert env(drafts)["CIVITAS_LOG_URL"] == ("db-urls", "drafts-url")
    assert drafts["spec"]["replicas"] == 1 and drafts["spec"]["strategy"]["type"] == "Recreate"
    assert env(found["gateway"])["CIVITAS_DRAFTS_URL"] == "http://town-drafts:9105"
    services = {d["metadata"]["name"]: d["spec"]["ports"][0]["port"] for d in docs if d["kind"] == "Service"}
    assert services["town-drafts"] == 9105
    assert "--from-literal=drafts-url=postgresql://" in (CHART / "values.yaml").read_text()
    with pytest.raises(helm.HelmError, match="services.drafts.replicas must be 1"):
        render({"services": {"drafts": {"enabled": True, "replicas": 2}}})
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_only_the_deployer_reads_the_mirrors_urls_and_only_from_their_secret():
    for name, deployment in deployments(render({})).items():
        assert "CIVITAS_MIRROR_URLS" not in env(deployment), name  # no secret named: no mirror
    found = deployments(render({"secrets": {"mirrors": "town-mirrors"}}))
    assert env(found["deployer"])["CIVITAS_MIRROR_URLS"] == ("town-mirrors", "urls")
    assert [name for name, d in found.items() if "CIVITAS_MIRROR_URLS" in env(d)] == ["deployer"]
    assert "kubectl create secret generic civitas-mirrors" in (CHART / "values.yaml").read_text()


RELEASE_READERS = {"gateway", "registry", "polls", "counter"}  # its pages; its poll files; their rules and registrars


def test_the_deployer_writes_the_releases_every_service_reading_the_live_release_mounts_read_only(monkeypatch):
    docs = render({"releases": {"size": "3Gi", "storageClass": "nfs"}}, release="town")
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    claim = next(d for d in docs if d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == "town-releases")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # written by one pod while others read, on any node
    assert (claim["spec"]["storageClassName"], claim["spec"]["resources"]["requests"]["storage"]) == ("nfs", "3Gi")
    found = deployments(docs)
    mounting = {}
    for name, deployment in found.items():
        mounts = {m["mountPath"]: m for m in container(deployment)["volumeMounts"]}
        releases = env(deployment).get("CIVITAS_RELEASES")
        if releases is None:
            assert all(v["name"] != "releases" for v in deployment["spec"]["template"]["spec"]["volumes"]), name
            continue
        assert volume(deployment, releases)["persistentVolumeClaim"]["claimName"] == "town-releases", name
        mounting[name] = mounts[releases].get("readOnly", False)
        assert volume(deployment, releases)["persistentVolumeClaim"].get("readOnly", False) == mounting[name]
    assert mounting == {"deployer": False} | {name: True for name in RELEASE_READERS}
    # Each `python -m civitas_NAME` reads its releases where the chart mounts them, from the variable it sets.
    from civitas_kernel.service.serve import entry_of

    for name in mounting:
        plain = {k: v for k, v in env(found[name]).items() if isinstance(v, str)}
        for key, value in plain.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("CIVITAS_HOME", "/nonexistent-home")
        settings = entry_of(name).settings(SERVICE=name)
        assert str(settings.releases_path) == "/var/lib/civitas-releases", name
    # The deployer's smoke requests reach the gateway's Service, not its own pod's loopback.
    assert env(found["deployer"])["CIVITAS_GATEWAY_URL"] == "http://town-gateway:8000"


def test_without_a_deployer_there_are_no_releases_to_mount():
    docs = render({"services": {"deployer": {"enabled": False}}})
    assert not [d for d in docs if d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == "civitas-releases"]
    for name, deployment in deployments(docs).items():
        assert "CIVITAS_RELEASES" not in env(deployment), name


def test_a_releases_volume_the_deployer_could_not_write_while_others_read_is_refused():
    with pytest.raises(helm.HelmError, match="releases.accessMode must be ReadWriteMany"):
        render({"releases": {"accessMode": "ReadOnlyMany"}})
    claim = next(d for d in render({"releases": {"accessMode": "ReadWriteOnce"}})
                 if d["metadata"]["name"] == "civitas-releases")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]  # a one-node cluster
