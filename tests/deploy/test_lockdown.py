"""`lockdown: true` on Kubernetes: only the deployer's service account changes the release's namespace.

No API server runs here, so the policy's CEL is evaluated by a CEL interpreter (cel-python) against the
admission requests the API server would send, the way it applies a ValidatingAdmissionPolicy: the
binding's namespace selector, then every match condition, then every validation. What only a real API
server can show (that it loads the policy, and the static guard) is verified on paper (ARCHITECTURE.md).
"""

from __future__ import annotations

import celpy
import kubernetes_validate
import pytest
import yaml

from .test_chart import KUBE_VERSION, deployments, render

NAMESPACE = "civitas"
DEPLOYER = f"system:serviceaccount:{NAMESPACE}:civitas-deployer"


def kinds(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


@pytest.fixture(scope="module")
def locked() -> list[dict]:
    return render({"lockdown": True})


def _selects(selector: dict, namespace: str) -> bool:
    return all({"kubernetes.io/metadata.name": namespace}.get(k) == v for k, v in selector["matchLabels"].items())


def admitted(docs: list[dict], *, user: str, operation: str, resource: str, namespace: str = NAMESPACE,
             name: str = "civitas-gateway", old_name: str | None = None, subresource: str = "") -> bool:
    """Whether the rendered lockdown policy lets this request through, as the API server decides it."""
    policy = kinds(docs, "ValidatingAdmissionPolicy")[0]["spec"]
    binding = kinds(docs, "ValidatingAdmissionPolicyBinding")[0]["spec"]
    if not (_selects(binding["matchResources"]["namespaceSelector"], namespace)
            and _selects(policy["matchConstraints"]["namespaceSelector"], namespace)):
        return True
    rule = policy["matchConstraints"]["resourceRules"][0]
    if operation not in rule["operations"] or ("*/*" if subresource else "*") not in rule["resources"]:
        return True
    request = {"userInfo": {"username": user}, "operation": operation, "namespace": namespace, "name": name,
               "resource": {"group": "", "version": "v1", "resource": resource}, "subResource": subresource}
    activation = celpy.json_to_cel({"request": request, "object": {"metadata": {"name": name}},
                                    "oldObject": {"metadata": {"name": old_name or name}}})
    env = celpy.Environment()

    def holds(expression: str) -> bool:
        return bool(env.program(env.compile(expression)).evaluate(activation))

    if not all(holds(c["expression"]) for c in policy["matchConditions"]):
        return True
    return all(holds(v["expression"]) for v in policy["validations"])


def test_nothing_of_the_lock_out_renders_unless_asked(locked):
    plain = render({})
    for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "Role", "RoleBinding",
                 "ServiceAccount"):
        assert kinds(plain, kind) == [] and kinds(locked, kind) != []


def test_the_operator_is_refused_every_change_to_the_namespace(locked):
    for operation, resource in [("UPDATE", "deployments"), ("DELETE", "deployments"), ("CREATE", "secrets"),
                                ("DELETE", "persistentvolumeclaims"), ("CREATE", "roles"), ("DELETE", "namespaces")]:
        assert not admitted(locked, user="kubernetes-admin", operation=operation, resource=resource)


def test_an_exec_into_a_pod_which_would_read_the_site_key_is_refused(locked):
    assert not admitted(locked, user="kubernetes-admin", operation="CONNECT", resource="pods", subresource="exec")


def test_the_deployer_and_the_clusters_own_controllers_may_change_it(locked):
    assert admitted(locked, user=DEPLOYER, operation="UPDATE", resource="deployments")
    assert admitted(locked, user="system:serviceaccount:kube-system:replicaset-controller", operation="CREATE",
                    resource="pods")
    assert admitted(locked, user="system:node:worker-1", operation="UPDATE", resource="pods", subresource="status")


def test_another_namespaces_deployer_is_no_deployer_here(locked):
    assert not admitted(locked, user="system:serviceaccount:other:civitas-deployer", operation="UPDATE",
                        resource="deployments")
    assert admitted(locked, user="kubernetes-admin", operation="UPDATE", resource="deployments", namespace="other")


def test_only_the_deployers_pod_carries_a_service_account_token(locked):
    for name, deployment in deployments(locked).items():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is (name == "deployer")
        assert spec.get("serviceAccountName") == ("civitas-deployer" if name == "deployer" else None)


def test_the_deployer_cannot_widen_its_own_permissions_or_read_secrets(locked):
    rules = kinds(locked, "Role")[0]["rules"]
    granted = {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    assert not {r for _, r, _ in granted} & {"secrets", "roles", "rolebindings", "pods/exec", "*"}
    assert not {v for _, _, v in granted} & {"*", "escalate", "bind", "impersonate", "delete"}


def test_the_static_guard_is_valid_and_keeps_the_policy_from_being_changed(locked):
    policy_name = kinds(locked, "ValidatingAdmissionPolicy")[0]["metadata"]["name"]
    text = next(d for d in locked if d["kind"] == "ConfigMap")["data"]["lockdown-guard.yaml"]
    guard, guard_binding = list(yaml.safe_load_all(text))
    for doc in (guard, guard_binding):
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        assert doc["metadata"]["name"].endswith(".static.k8s.io")  # only a static manifest may carry that suffix
    env = celpy.Environment()
    check = env.program(env.compile(guard["spec"]["validations"][0]["expression"]))
    assert not check.evaluate(celpy.json_to_cel({"oldObject": {"metadata": {"name": policy_name}}}))
    assert check.evaluate(celpy.json_to_cel({"oldObject": {"metadata": {"name": "someone-elses-policy"}}}))


def test_a_lock_out_without_a_deployer_is_refused():
    with pytest.raises(Exception, match="lockdown needs services.deployer.enabled"):
        render({"lockdown": True, "services": {"deployer": {"enabled": False}}})
