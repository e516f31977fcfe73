"""Reading the HelmRelease and the GitRepository from the Kubernetes API as the deployer's service account: a GET
each, with the account's token (read at each request: the kubelet rotates it) and the cluster's CA; and asking Flux to
reconcile them at once, as `flux reconcile` does: a JSON merge patch of the annotation reconcile.fluxcd.io/requestedAt
(any new value makes the controllers reconcile now instead of at their interval)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx

HELMRELEASES = "/apis/helm.toolkit.fluxcd.io/v2/namespaces/{ns}/helmreleases/{name}"
GITREPOSITORIES = "/apis/source.toolkit.fluxcd.io/v1/namespaces/{ns}/gitrepositories/{name}"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
MERGE_PATCH = "application/merge-patch+json"
MAX_OBJECT_BYTES = 4 << 20  # a HelmRelease's status is kilobytes; anything far larger is not one


class ClusterUnreadable(Exception):
    """The API did not give the object: why, in words for the journal (never the token)."""


class FluxStatus:
    def __init__(self, api: str, namespace: str, helmrelease: str, gitrepository: str, token_file: Path,
                 ca_file: Path | None = None, timeout_s: float = 10.0) -> None:
        self.api, self.namespace = api.rstrip("/"), namespace
        self.helmrelease, self.gitrepository = helmrelease, gitrepository
        self.token_file, self.timeout_s = token_file, timeout_s
        self.verify: bool | str = str(ca_file) if ca_file is not None and ca_file.is_file() else True

    @classmethod
    def of(cls, settings) -> FluxStatus:
        return cls(settings.KUBE_API, settings.GITOPS_NAMESPACE, settings.GITOPS_HELMRELEASE,
                   settings.GITOPS_GITREPOSITORY, settings.KUBE_TOKEN_FILE, settings.KUBE_CA_FILE)

    def release(self, name: str | None = None) -> dict | None:
        """The site's HelmRelease, or the one named (the deployer's own)."""
        return self._get(HELMRELEASES.format(ns=self.namespace, name=name or self.helmrelease), "HelmRelease")

    def repository(self) -> dict | None:
        return self._get(GITREPOSITORIES.format(ns=self.namespace, name=self.gitrepository), "GitRepository")

    def request_reconcile(self, at_s: float, also: tuple[str, ...] = ()) -> list[str]:
        """Ask source-controller to fetch the GitRepository now, then helm-controller to reconcile the HelmRelease
        (and those named in `also`): what went wrong, each in words (a 403 when the Role lacks `patch`); empty when
        all took it. Never raises: without it Flux still comes at its interval."""
        value = datetime.fromtimestamp(at_s, timezone.utc).isoformat().replace("+00:00", "Z")  # RFC 3339, as flux's
        body = json.dumps({"metadata": {"annotations": {REQUESTED_AT: value}}}).encode()
        refused = []
        paths = [(GITREPOSITORIES.format(ns=self.namespace, name=self.gitrepository), "GitRepository")] + [
            (HELMRELEASES.format(ns=self.namespace, name=name), "HelmRelease") for name in (self.helmrelease, *also)]
        for path, kind in paths:
            try:
                self._call("PATCH", path, kind, body)
            except ClusterUnreadable as error:
                refused.append(str(error))
        return refused

    def _get(self, path: str, kind: str) -> dict | None:
        """The object, or None when it does not exist (yet); ClusterUnreadable for anything else."""
        answer = self._call("GET", path, kind)
        if answer is None:
            return None
        return self._object(answer, kind)

    def _call(self, method: str, path: str, kind: str, body: bytes | None = None) -> httpx.Response | None:
        """The API's 200 answer, or None for a 404; ClusterUnreadable for anything else."""
        headers = api_headers(self.token_file, MERGE_PATCH if body is not None else None)
        try:
            with httpx.Client(timeout=self.timeout_s, verify=self.verify) as client:
                answer = client.request(method, self.api + path, headers=headers, content=body)
        except httpx.HTTPError as error:
            raise ClusterUnreadable(f"the Kubernetes API gave no answer for {kind} ({type(error).__name__})") from None
        if answer.status_code == 404 and method == "GET":
            return None
        if answer.status_code != 200:
            try:
                said = str(answer.json().get("message", ""))
            except (ValueError, AttributeError):
                said = ""
            verb = "the patch of " if method == "PATCH" else ""
            raise ClusterUnreadable(f"the Kubernetes API answered {answer.status_code} for {verb}{kind} "
                                    f"{self.namespace}/{path.rsplit('/', 1)[1]}: {said}"[:500])
        return answer

    @staticmethod
    def _object(answer: httpx.Response, kind: str) -> dict:
        if len(answer.content) > MAX_OBJECT_BYTES:
            raise ClusterUnreadable(f"the {kind} is larger than {MAX_OBJECT_BYTES} bytes")
        try:
            found = answer.json()
        except ValueError:
            raise ClusterUnreadable(f"the Kubernetes API's answer for {kind} is not JSON") from None
        if not isinstance(found, dict):
            raise ClusterUnreadable(f"the Kubernetes API's answer for {kind} is not an object")
        return found


def api_headers(token_file: Path, content_type: str | None = None) -> dict:
    """A call's headers: the service account's token, read afresh (the kubelet rotates it), and JSON asked for."""
    try:
        token = token_file.read_text().strip()
    except OSError as error:
        raise ClusterUnreadable(f"the service account token {token_file} cannot be read: {error.strerror}") from None
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers
