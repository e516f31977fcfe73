"""civitas deployer service: change proposals to the live repository, voted by the voters, decided as records, and
deployed: health-checked, rolled back durably, journalled in the deployment stream."""

from civitas_deployer.commands import CHANGE_STREAMS, ChangeCommands
from civitas_deployer.decision_record import COMPILERS
from civitas_deployer.deploying import (
    Candidate, ContentRunner, Deployer, DeploymentReads, DeployScheduler, ReleaseFailed, Releases, Runner,
)
from civitas_deployer.deploying.controls import DEPLOYMENT_CONTROLS, SUPERVISOR_BUILTINS, DeploymentControls
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.maintenance import Maintenance
from civitas_deployer.mirror import Mirrors
from civitas_deployer.records import DecisionRecords
from civitas_deployer.scheduler import DecideScheduler
from civitas_deployer.settings import ChangeSettings
from civitas_deployer.tag_signing import allowed_signers_line

__all__ = ["CHANGE_STREAMS", "COMPILERS", "DEPLOYMENT_CONTROLS", "Candidate", "ChangeCommands", "ChangeSettings",
           "ContentRunner", "DecideScheduler", "DecisionRecords", "DeployScheduler", "Deployer", "DeploymentControls",
           "DeploymentReads", "LiveRepository", "Maintenance", "Mirrors", "ReleaseFailed", "Releases", "Runner",
           "SUPERVISOR_BUILTINS", "allowed_signers_line"]
