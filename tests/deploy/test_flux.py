"""Kubernetes mode in the chart (gitops.enabled): this release runs the deployer alone, with its own account and a Role
that reads Flux's two objects, and renders the GitRepository and HelmRelease from which Flux runs the rest of the site.

Core resources are validated against Kubernetes' schemas (kubernetes-validate). Flux's kinds are not among them, so
the GitRepository and HelmRelease are checked against the fields of Flux's documented API (source.toolkit.fluxcd.io/v1,
helm.toolkit.fluxcd.io/v2), written below as a small JSON schema: the fields and enumerations this chart may use, no
unknown field allowed. No cluster and no Flux run here."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest

import helm_python as helm

from .test_chart import CHART, KUBE_VERSION, container, deployments, env, render, volume
from .test_lockdown import admitted

URL = "https://git.example.org/town/gitops.git"
ON = {"gitops": {"enabled": True, "url": URL}}
FLUX_KINDS = {"GitRepository", "HelmRelease"}
DIGEST = "ghcr.io/town/civitas-gateway@sha256:" + "4f" * 32
DEPLOYER = "ghcr.io/town/civitas-deployer@sha256:" + "0d" * 32
CANDIDATE = "ghcr.io/town/civitas-deployer@sha256:" + "1e" * 32
C = "ab" * 20

DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"}
NAME = {"type": "string", "minLength": 1, "maxLength": 253}
REF = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {"name": NAME}}


def closed(properties: dict, required: tuple = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


METADATA = {"type": "object", "required": ["name"], "properties": {"name": NAME, "labels": {"type": "object"}}}
GIT_REPOSITORY = closed({
    "apiVersion": {"const": "source.toolkit.fluxcd.io/v1"}, "kind": {"const": "GitRepository"}, "metadata": METADATA,
    "spec": closed({
        "interval": DURATION, "timeout": DURATION, "url": {"type": "string", "pattern": "^(http|https|ssh)://.*$"},
        "ref": closed({"branch": {"type": "string"}, "tag": {"type": "string"}, "semver": {"type": "string"},
                       "name": {"type": "string"}, "commit": {"type": "string"}}),
        "secretRef": REF, "proxySecretRef": REF, "suspend": {"type": "boolean"}, "ignore": {"type": "string"},
        "provider": {"enum": ["generic", "azure", "github"]}, "recurseSubmodules": {"type": "boolean"},
        "verify": {"type": "object"}, "include": {"type": "array"}, "sparseCheckout": {"type": "array"},
    }, ("interval", "url")),
}, ("apiVersion", "kind", "metadata", "spec"))
REMEDIATION = {"retries": {"type": "integer"}, "ignoreTestFailures": {"type": "boolean"},
               "remediateLastFailure": {"type": "boolean"}}
HELM_RELEASE = closed({
    "apiVersion": {"const": "helm.toolkit.fluxcd.io/v2"}, "kind": {"const": "HelmRelease"}, "metadata": METADATA,
    "spec": closed({
        "interval": DURATION, "timeout": DURATION, "releaseName": {"type": "string", "minLength": 1, "maxLength": 53},
        "targetNamespace": {"type": "string"}, "storageNamespace": {"type": "string"},
        "serviceAccountName": {"type": "string"}, "maxHistory": {"type": "integer"}, "suspend": {"type": "boolean"},
        "chart": closed({"spec": closed({
            "chart": {"type": "string", "minLength": 1}, "version": {"type": "string"},
            "sourceRef": closed({"apiVersion": {"type": "string"},
                                 "kind": {"enum": ["HelmRepository", "GitRepository", "Bucket"]},
                                 "name": NAME, "namespace": {"type": "string"}}, ("kind", "name")),
            "interval": DURATION, "reconcileStrategy": {"enum": ["ChartVersion", "Revision"]},
            "valuesFiles": {"type": "array", "items": {"type": "string"}},
            "ignoreMissingValuesFiles": {"type": "boolean"}, "verify": {"type": "object"},
        }, ("chart", "sourceRef"))}, ("spec",)),
        "install": closed({"timeout": DURATION, "remediation": closed(REMEDIATION), "disableWait": {"type": "boolean"},
                           "createNamespace": {"type": "boolean"},
                           "crds": {"enum": ["Skip", "Create", "CreateReplace"]},
                           "replace": {"type": "boolean"}, "disableHooks": {"type": "boolean"}}),
        "upgrade": closed({"timeout": DURATION, "cleanupOnFail": {"type": "boolean"}, "force": {"type": "boolean"},
                           "preserveValues": {"type": "boolean"}, "disableWait": {"type": "boolean"},
                           "crds": {"enum": ["Skip", "Create", "CreateReplace"]}, "disableHooks": {"type": "boolean"},
                           "remediation": closed(REMEDIATION | {"strategy": {"enum": ["rollback", "uninstall"]}})}),
        "rollback": closed({"timeout": DURATION, "cleanupOnFail": {"type": "boolean"}, "recreate": {"type": "boolean"},
                            "force": {"type": "boolean"}, "disableWait": {"type": "boolean"},
                            "disableHooks": {"type": "boolean"}}),
        "values": {"type": "object"}, "valuesFrom": {"type": "array"}, "dependsOn": {"type": "array"},
        "test": {"type": "object"}, "uninstall": {"type": "object"}, "driftDetection": {"type": "object"},
    }, ("interval",)),
}, ("apiVersion", "kind", "metadata", "spec"))


def one(docs: list[dict], kind: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == kind]
    return found


def named(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def flux_release(docs: list[dict], name: str, file_values: dict) -> list[dict]:
    """What Flux would render from the HelmRelease `name`: the chart with the GitOps repository's values file under
    the HelmRelease's values (Helm merges values deeply, spec.values last)."""
    release = named(docs, "HelmRelease", name)

    def merged(base: dict, over: dict) -> dict:
        out = copy.deepcopy(base)
        for key, value in over.items():
            out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        return out

    return render(merged(file_values, release["spec"]["values"]), release=release["spec"]["releaseName"])


def site_release(docs: list[dict], release_values: dict) -> list[dict]:
    return flux_release(docs, "civitas-site", release_values)


def deployer_release(docs: list[dict], own_values: dict | None = None) -> list[dict]:
    """The deployer's own release, from its values file (none before its first handover)."""
    return flux_release(docs, "civitas-deployer", own_values or {})


def test_nothing_of_kubernetes_mode_renders_unless_asked():
    docs = render({})
    assert not [d for d in docs if d["kind"] in FLUX_KINDS]
    assert "CIVITAS_DEPLOY_MODE" not in env(deployments(docs)["deployer"])


@pytest.mark.parametrize("values", [ON, {**ON, "lockdown": True},
                                    {"gitops": {**ON["gitops"], "fluxSecret": "gitops-read", "retries": 3}}])
def test_core_resources_are_valid_kubernetes_and_flux_objects_match_flux_api(values):
    docs = render(values)
    assert {d["kind"] for d in docs} >= FLUX_KINDS | {"ServiceAccount", "Role", "RoleBinding", "PersistentVolumeClaim"}
    own = deployer_release(docs, {"deployer": {"image": DEPLOYER, "candidate": {"image": CANDIDATE, "commit": C}}})
    assert {d["kind"] for d in own} == {"Deployment", "Service", "NetworkPolicy"}
    for doc in docs + own:
        if doc["kind"] == "GitRepository":
            jsonschema.validate(doc, GIT_REPOSITORY)
        elif doc["kind"] == "HelmRelease":
            jsonschema.validate(doc, HELM_RELEASE)
        else:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    result = helm.lint(str(CHART), values, strict=True, kube_version=f"v{KUBE_VERSION}")
    assert result["errors"] == []


def test_the_schema_refuses_what_flux_would():
    release = named(render(ON), "HelmRelease", "civitas-site")
    wrong = copy.deepcopy(release)
    wrong["spec"]["upgrade"]["remediation"]["strategy"] = "retry-forever"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, HELM_RELEASE)
    wrong = copy.deepcopy(release)
    wrong["spec"]["upgrade"]["remediateLastFailure"] = True  # belongs under remediation
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, HELM_RELEASE)


def test_the_operators_release_runs_no_service_and_holds_the_deployers_account_and_volumes():
    docs = render(ON)
    assert deployments(docs) == {}
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"} == {
        "civitas-deployer-home", "civitas-releases"}  # never in a release Flux may roll back
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "HelmRelease"} == {"civitas-site", "civitas-deployer"}
    own = named(docs, "HelmRelease", "civitas-deployer")["spec"]
    assert own["chart"]["spec"]["valuesFiles"][-1] == "./civitas/deployer.json"
    assert own["chart"]["spec"]["ignoreMissingValuesFiles"] is True  # absent until the first handover
    spec_values = own["values"]
    assert all("image" not in svc for svc in spec_values["services"].values())  # the values file's image wins
    assert "deployer" not in spec_values and spec_values["lockdown"] is False
    assert spec_values["gitops"]["deployerOf"] == "civitas" and spec_values["gitops"]["enabled"] is False
    assert spec_values["gitops"]["fallbackImage"] == "civitas-deployer:0.1.0"  # the operator's, under another key
    assert "url" not in spec_values["gitops"]


def test_flux_runs_the_deployer_alone_on_its_own_account_committing_to_the_gitops_repository():
    docs = render(ON)
    own = deployer_release(docs)
    found = deployments(own)
    assert set(found) == {"deployer"}
    assert [d for d in own if d["kind"] == "PersistentVolumeClaim"] == []
    assert volume(found["deployer"], "/var/lib/civitas")["persistentVolumeClaim"]["claimName"] == \
        "civitas-deployer-home"
    assert volume(found["deployer"], "/var/lib/civitas-releases")["persistentVolumeClaim"]["claimName"] == \
        "civitas-releases"
    assert found["deployer"]["metadata"]["name"] == "civitas-deployer"
    pod = found["deployer"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "civitas-deployer"
    # the account's token reaches the deployer's container alone, where the in-cluster settings read it
    assert pod["automountServiceAccountToken"] is False
    token_mounts = {c["name"]: [m for m in c["volumeMounts"] if m["name"] == "kube-api-access"]
                    for c in pod["containers"]}
    assert token_mounts == {"deployer": [{"name": "kube-api-access", "readOnly": True,
                                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}], "git": []}
    (projected,) = [v["projected"]["sources"] for v in pod["volumes"] if v["name"] == "kube-api-access"]
    assert [next(iter(s)) for s in projected] == ["serviceAccountToken", "configMap", "downwardAPI"]
    assert projected[0]["serviceAccountToken"]["path"] == "token"
    assert one(docs, "ServiceAccount")["metadata"]["name"] == "civitas-deployer"
    variables = env(found["deployer"])
    release, source = named(docs, "HelmRelease", "civitas-site"), one(docs, "GitRepository")
    assert variables["CIVITAS_DEPLOY_MODE"] == "kubernetes"
    assert variables["CIVITAS_GITOPS_URL"] == ("civitas-gitops-push", "url")  # credentials from a secret only
    assert variables["CIVITAS_GITOPS_HELMRELEASE"] == release["metadata"]["name"] == "civitas-site"
    assert variables["CIVITAS_GITOPS_GITREPOSITORY"] == source["metadata"]["name"]
    assert variables["CIVITAS_GITOPS_NAMESPACE"] == "civitas"
    assert variables["CIVITAS_GITOPS_BRANCH"] == source["spec"]["ref"]["branch"] == "main"
    assert "./" + variables["CIVITAS_GITOPS_VALUES_FILE"] == release["spec"]["chart"]["spec"]["valuesFiles"][-1]
    assert float(variables["CIVITAS_GITOPS_TIMEOUT_S"]) > 5 * 60  # longer than Helm's own wait
    assert variables["CIVITAS_COUNTER_URL"] == "http://civitas-site-counter:8003"  # the site release's counter
    assert source["spec"]["url"] == URL and "@" not in source["spec"]["url"]
    assert variables["CIVITAS_GITOPS_DEPLOYER_HELMRELEASE"] == "civitas-deployer"
    assert variables["CIVITAS_GITOPS_DEPLOYER_VALUES_FILE"] == "civitas/deployer.json"
    assert variables["CIVITAS_DEPLOYER_IMAGE"] == container(found["deployer"])["image"] == "civitas-deployer:0.1.0"


def test_the_deployer_runs_the_image_it_committed_and_a_candidate_beside_it_that_takes_nothing():
    docs = render(ON)
    found = deployments(deployer_release(docs, {"deployer": {"image": DEPLOYER, "commit": C}}))
    assert set(found) == {"deployer"}
    assert container(found["deployer"])["image"] == env(found["deployer"])["CIVITAS_DEPLOYER_IMAGE"] == DEPLOYER
    own = deployer_release(docs, {"deployer": {"image": DEPLOYER, "candidate": {"image": CANDIDATE, "commit": C}}})
    found = deployments(own)
    assert set(found) == {"deployer", "deployer-candidate"}
    assert container(found["deployer"])["image"] == DEPLOYER  # the deployer that serves stays as it is
    candidate = found["deployer-candidate"]
    assert candidate["metadata"]["name"] == "civitas-deployer-candidate"
    pod = candidate["spec"]["template"]["spec"]
    assert container(candidate)["image"] == CANDIDATE
    assert container(candidate)["command"] == ["python", "-m", "civitas_deployer.gitops.candidate"]
    assert container(candidate)["readinessProbe"]["httpGet"]["path"] == "/ready"  # what Helm, so Flux, waits on
    assert pod["serviceAccountName"] == "civitas-deployer" and len(pod["containers"]) == 1
    assert volume(candidate, "/var/lib/civitas") == {"name": "home", "emptyDir": {}}  # not the live repository
    assert not [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
    (service,) = [d for d in own if d["kind"] == "Service"]
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == "deployer"  # never routed to the candidate
    assert env(candidate)["CIVITAS_LOG_URL"] == env(found["deployer"])["CIVITAS_LOG_URL"]


def test_the_deployers_git_service_serves_its_home_read_only_to_the_site_release_alone():
    docs = deployer_release(render(ON))
    pod = deployments(docs)["deployer"]["spec"]["template"]["spec"]
    (git,) = [c for c in pod["containers"] if c["name"] == "git"]
    assert git["image"] == container(deployments(docs)["deployer"])["image"]  # the deployer's image: it has git
    assert git["command"][-1] == "/srv/home/live.git" and "--strict-paths" in git["command"]
    assert not [a for a in git["command"] if "receive-pack" in a or "upload-archive" in a]
    assert git["volumeMounts"] == [{"name": "home", "mountPath": "/srv/home", "readOnly": True},
                                   {"name": "git-tmp", "mountPath": "/tmp"}]  # not the deployer's /tmp
    assert "env" not in git or not [e for e in git["env"] if "valueFrom" in e]  # no secret
    (service,) = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "civitas-deployer"]
    assert {"name": "git", "port": 9418, "targetPort": "git"} in service["spec"]["ports"]
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/instance": "civitas-deployer",
                                                            "app.kubernetes.io/name": "deployer"}
    assert policy["spec"]["ingress"] == [
        {"ports": [{"port": "http"}]},
        {"ports": [{"port": "git"}],
         "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "civitas-site"}}}]}]
    assert not [d for d in render({}) if d["kind"] == "NetworkPolicy"]
    assert [c["name"] for c in deployments(render({}))["deployer"]["spec"]["template"]["spec"]["containers"]] == [
        "deployer"]


def test_the_deployer_may_read_and_annotate_the_one_helmrelease_and_gitrepository_and_nothing_else():
    docs = render(ON)
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "Role"} == {
        "civitas-deployer-flux", "civitas-deployer-maintenance"}  # the second: test_maintenance_jobs.py
    role = named(docs, "Role", "civitas-deployer-flux")
    assert role["rules"] == [
        {"apiGroups": ["helm.toolkit.fluxcd.io"], "resources": ["helmreleases"],
         "resourceNames": ["civitas-site", "civitas-deployer"],
         "verbs": ["get", "watch", "patch"]},
        {"apiGroups": ["source.toolkit.fluxcd.io"], "resources": ["gitrepositories"],
         "resourceNames": ["civitas-gitops"], "verbs": ["get", "watch", "patch"]}]  # patch: the reconcile request
    binding = named(docs, "RoleBinding", "civitas-deployer-flux")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "civitas-deployer", "namespace": "civitas"}]


@pytest.mark.parametrize("name", ["civitas-site", "civitas-deployer"])
def test_the_helmreleases_remediate_by_rollback_and_know_the_revision_they_attempt(name):
    spec = named(render(ON), "HelmRelease", name)["spec"]
    assert spec["chart"]["spec"]["reconcileStrategy"] == "Revision"  # chart version 0.1.0+<commit>: domain/flux.py
    assert spec["chart"]["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "civitas-gitops"}
    assert spec["upgrade"]["remediation"] == {"retries": 1, "strategy": "rollback", "remediateLastFailure": True}
    assert spec["install"]["remediation"] == {"retries": 1, "remediateLastFailure": True}
    assert spec["timeout"] == "5m" and spec["upgrade"]["cleanupOnFail"] is True


def test_the_site_release_flux_renders_runs_the_rest_by_digest_and_calls_the_deployer_in_this_release():
    docs = render(ON)
    spec_values = named(docs, "HelmRelease", "civitas-site")["spec"]["values"]
    assert all("image" not in svc for svc in spec_values["services"].values())  # the values file's digests win
    assert spec_values["lockdown"] is False and spec_values["gitops"] == {
        "enabled": False, "bootstrap": "civitas",
        "siteFiles": {"fallbackImage": "civitas-deployer:0.1.0", "source": "git://civitas-deployer:9418/live.git"}}
    site = site_release(docs, {"release": {"commit": "ab" * 20, "decision": "decision 3"},
                               "services": {"gateway": {"image": DIGEST}}})
    for doc in site:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    found = deployments(site)
    assert set(found) == {"gateway", "registry", "polls", "counter", "drafts"}  # never the deployer
    assert container(found["gateway"])["image"] == DIGEST
    assert env(found["gateway"])["CIVITAS_DEPLOYER_URL"] == "http://civitas-deployer:8004"
    assert env(found["gateway"])["CIVITAS_COUNTER_URL"] == "http://civitas-site-counter:8003"
    assert not [d for d in site if d["kind"] in FLUX_KINDS]  # no recursion: the site renders no Flux object
    for name, deployment in found.items():
        assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is False, name
        assert not {"CIVITAS_GITOPS_URL", "CIVITAS_DEPLOY_MODE"} & set(env(deployment)), name


def test_each_site_pod_that_reads_the_release_lays_out_the_commit_its_values_name_in_its_own_folder():
    commit = "cd" * 20
    site = site_release(render(ON), {"release": {"commit": commit, "decision": "decision 4"}})
    assert not [d for d in site if d["kind"] == "PersistentVolumeClaim" and "releases" in d["metadata"]["name"]]
    found = deployments(site)
    for name in ("gateway", "registry", "polls", "counter"):
        pod = found[name]["spec"]["template"]["spec"]
        (init,) = pod["initContainers"]
        assert init["name"] == "site-files" and init["image"] == "civitas-deployer:0.1.0"
        assert init["command"] == ["python", "-m", "civitas_deployer.gitops.site_files"]
        assert init["args"] == ["--source", "git://civitas-deployer:9418/live.git", "--commit", commit,
                                "--decision", "decision 4", "--into", "/var/lib/civitas-releases"]
        assert {"name": "releases", "mountPath": "/var/lib/civitas-releases"} in init["volumeMounts"]
        assert not [m for m in init["volumeMounts"] if m["name"] in ("site-key", "home")]  # nothing of the site's
        assert {"name": "releases", "mountPath": "/var/lib/civitas-releases", "readOnly": True} in \
            container(found[name])["volumeMounts"]
        assert {"name": "releases", "emptyDir": {"sizeLimit": "2Gi"}} in pod["volumes"]
        assert env(found[name])["CIVITAS_RELEASES"] == "/var/lib/civitas-releases"
    assert "initContainers" not in found["drafts"]["spec"]["template"]["spec"]
    # the values file names the image of the deployer that wrote it: the fetcher follows a handover
    handed = deployments(site_release(render(ON), {"release": {"commit": commit}, "siteFiles": {"image": DEPLOYER}}))
    assert [c["image"] for c in handed["polls"]["spec"]["template"]["spec"]["initContainers"]] == [DEPLOYER]
    # a new release is a new pod template, so every reader's pods are replaced by ones with the new files; the
    # services that read no release file keep theirs (ARCHITECTURE.md, "The site's files": why the readers restart)
    synced = {**ON, "services": {"sync": {"enabled": True}}}
    before = deployments(site_release(render(synced), {"release": {"commit": commit, "decision": "decision 4"}}))
    newer = deployments(site_release(render(synced), {"release": {"commit": "ef" * 20, "decision": "decision 5"}}))
    assert {name for name in newer if newer[name]["spec"]["template"] != before[name]["spec"]["template"]} == {
        "gateway", "registry", "polls", "counter"}
    assert {"drafts", "sync"} <= set(newer)


def test_a_site_release_without_a_commit_is_refused_saying_the_deployer_writes_it():
    with pytest.raises(helm.HelmError, match="the site release needs release.commit"):
        site_release(render(ON), {"services": {"gateway": {"image": DIGEST}}})


def test_under_lockdown_the_account_is_the_lockouts_and_flux_applies_the_site():
    docs = render({**ON, "lockdown": True})
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"] == ["civitas-deployer"]
    helm_controller = "system:serviceaccount:flux-system:helm-controller"
    assert admitted(docs, user=helm_controller, operation="UPDATE", resource="deployments")
    assert admitted(docs, user="system:serviceaccount:civitas:civitas-deployer", operation="UPDATE",
                    resource="deployments")
    assert not admitted(docs, user="operator@example.org", operation="UPDATE", resource="deployments")
    assert not admitted(render({"lockdown": True}), user=helm_controller, operation="UPDATE", resource="deployments")


@pytest.mark.parametrize("values, says", [
    ({"gitops": {"enabled": True}}, "gitops.enabled needs gitops.url"),
    ({**ON, "services": {"deployer": {"enabled": False}}}, "gitops.enabled needs services.deployer.enabled"),
])
def test_kubernetes_mode_without_what_it_needs_is_refused(values, says):
    with pytest.raises(helm.HelmError, match=says):
        render(values)
