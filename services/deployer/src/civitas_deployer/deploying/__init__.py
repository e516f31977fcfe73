"""Deploying approved decisions: the engine, its journal (the deployment stream), releases on disk, and the Runner
seam with the content runner of the embedded site."""

from civitas_deployer.deploying.content import ContentRunner
from civitas_deployer.deploying.engine import STREAM, Deployer
from civitas_deployer.deploying.placing import NeedsNewVote, diff_hash
from civitas_deployer.deploying.reads import DeploymentReads
from civitas_deployer.deploying.releases import Releases
from civitas_deployer.deploying.runner import Candidate, ReleaseFailed, Runner
from civitas_deployer.deploying.schedule import DeployScheduler

__all__ = ["STREAM", "Candidate", "ContentRunner", "Deployer", "DeployScheduler", "DeploymentReads", "NeedsNewVote",
           "ReleaseFailed", "Releases", "Runner", "diff_hash"]
