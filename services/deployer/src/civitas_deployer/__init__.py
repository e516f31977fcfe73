"""civitas deployer service: change proposals to the live repository, voted by the voters, decided as records."""

from civitas_deployer.commands import CHANGE_STREAMS, ChangeCommands
from civitas_deployer.decision_record import COMPILERS
from civitas_deployer.live_repo import LiveRepository
from civitas_deployer.mirror import Mirrors
from civitas_deployer.records import DecisionRecords
from civitas_deployer.scheduler import DecideScheduler
from civitas_deployer.settings import ChangeSettings
from civitas_deployer.tag_signing import allowed_signers_line

__all__ = ["CHANGE_STREAMS", "COMPILERS", "ChangeCommands", "ChangeSettings", "DecideScheduler", "DecisionRecords",
           "LiveRepository", "Mirrors", "allowed_signers_line"]
