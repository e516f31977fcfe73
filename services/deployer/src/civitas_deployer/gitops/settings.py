"""Kubernetes mode's settings: CIVITAS_DEPLOY_MODE=kubernetes, the GitOps repository (its URL may hold a token, so it
is a secret, never shown), the Flux objects to read and where the Kubernetes API is (in-cluster by default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from civitas_deployer.mirror_remote import Remote, parse_remote

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def _in_cluster_api() -> str:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST", ""), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        return ""
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


class GitOpsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVITAS_")

    DEPLOY_MODE: Literal["content", "kubernetes"] = "content"
    GITOPS_URL: SecretStr = SecretStr("")  # where approved releases are committed; https://TOKEN@host/... allowed
    GITOPS_BRANCH: str = Field("main", pattern=r"^[A-Za-z0-9._/-]{1,100}$")
    GITOPS_VALUES_FILE: str = Field("civitas/release.json", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
    GITOPS_PUSH_TIMEOUT_S: float = Field(120, gt=0, le=3600)
    GITOPS_TIMEOUT_S: float = Field(1500, gt=0, le=7200)  # from the push to Flux's verdict; past it, failed
    GITOPS_NAMESPACE: str = "default"  # where the HelmRelease and the GitRepository are
    GITOPS_HELMRELEASE: str = "civitas-site"
    GITOPS_GITREPOSITORY: str = "civitas-gitops"
    # The deployer's own HelmRelease and values file: a release naming a new deployer image is handed over through
    # them (runner.py); empty: the deployer runs outside Flux and a new deployer image is refused.
    GITOPS_DEPLOYER_HELMRELEASE: str = ""
    GITOPS_DEPLOYER_VALUES_FILE: str = Field("civitas/deployer.json", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
    DEPLOYER_IMAGE: str = ""  # the image this deployer runs (the chart sets it): what a handover replaces
    # The chart's deny-all NetworkPolicy for voted maintenance commands, each a Job (maintenance_jobs.py); none named:
    # no command runs.
    MAINTENANCE_NETWORK_POLICY: str = Field("", pattern=r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)?$")
    KUBE_API: str = Field(default_factory=_in_cluster_api)  # the API server; in a pod, KUBERNETES_SERVICE_HOST
    KUBE_TOKEN_FILE: Path = SERVICE_ACCOUNT / "token"  # the deployer's service account token, read at each request
    KUBE_CA_FILE: Path | None = SERVICE_ACCOUNT / "ca.crt"

    @field_validator("GITOPS_URL")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip():
            gitops_remote(value)  # a bad URL stops the start, saying which (without its password)
        return value

    @model_validator(mode="after")
    def _complete(self) -> GitOpsSettings:
        if self.DEPLOY_MODE == "kubernetes":
            if not self.GITOPS_URL.get_secret_value().strip():
                raise ValueError("CIVITAS_DEPLOY_MODE=kubernetes needs CIVITAS_GITOPS_URL, the GitOps repository")
            if not self.KUBE_API:
                raise ValueError("CIVITAS_DEPLOY_MODE=kubernetes needs CIVITAS_KUBE_API (or to run in a pod)")
        return self

    @property
    def remote(self) -> Remote:
        return gitops_remote(self.GITOPS_URL)


def gitops_remote(url: SecretStr) -> Remote:
    try:
        return parse_remote(url.get_secret_value())
    except ValueError as error:
        raise ValueError(str(error).replace("mirror URL", "GitOps URL", 1)) from None
