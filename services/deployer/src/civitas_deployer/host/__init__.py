"""Host mode: the supervisor of `civitas up --self-governed` and its runner, which builds each approved release
offline into its own environment, runs it sandboxed beside the serving one and switches the public port to it
once it passed its health window."""

from civitas_deployer.host.health import HealthLimits
from civitas_deployer.host.proxy import PublicProxy
from civitas_deployer.host.runner import HostRunner
from civitas_deployer.host.settings import HostSettings
from civitas_deployer.host.signer import KeySocket

__all__ = ["HealthLimits", "HostRunner", "HostSettings", "KeySocket", "PublicProxy", "Supervisor", "SupervisorConfig"]


def __getattr__(name: str):
    if name in ("Supervisor", "SupervisorConfig"):  # the engine only when a supervisor is wanted
        from civitas_deployer.host import supervisor

        return getattr(supervisor, name)
    raise AttributeError(name)
