"""civitas deployer service: change proposals to the live repository, voted by the voters."""

from civitas_deployer.commands import CHANGE_STREAMS, ChangeCommands
from civitas_deployer.live_repo import LiveRepository

__all__ = ["CHANGE_STREAMS", "ChangeCommands", "LiveRepository"]
