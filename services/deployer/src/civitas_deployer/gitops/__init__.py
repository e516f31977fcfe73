"""Kubernetes mode: an approved release is committed to a GitOps repository that Flux reconciles, and its outcome is
read back from the HelmRelease's status (ARCHITECTURE.md, "Kubernetes mode")."""

from civitas_deployer.gitops.cluster import FluxStatus
from civitas_deployer.gitops.maintenance_jobs import MaintenanceJobs
from civitas_deployer.gitops.repository import GitOpsRepository
from civitas_deployer.gitops.runner import FluxRunner
from civitas_deployer.gitops.settings import GitOpsSettings

__all__ = ["FluxRunner", "FluxStatus", "GitOpsRepository", "GitOpsSettings", "MaintenanceJobs"]
