"""The operator's token used after the lock-out: refused (403 locked-down) and the attempt recorded in the log.

What is recorded and how often is the kernel's (civitas_kernel.lockdown_refusals). Where it goes differs: the
embedded gateway writes the site's own log; one in front of other processes holds no log and reports each attempt
to the deployer service, the stream's owner there, over a call signed with the site key (civitas_kernel.service
.callers), which folds them as the embedded gateway does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from civitas_kernel.events import NewEvent
from civitas_kernel.lockdown_refusals import MAX_ROUTE, OPERATOR_TOKEN, STREAM, RefusedAttempts, refused_attempts
from civitas_kernel.service.calls import ServiceClient
from civitas_kernel.service.callers import CallerPass

__all__ = ["OPERATOR_TOKEN", "STREAM", "RefusedAttempts", "ReportedAttempts", "appender_of", "refused_attempts"]
REPORT_PATH = "/lockout/refusals"  # the deployer service's


def appender_of(log) -> Callable[[NewEvent], None] | None:
    """Where the events go: the site's own log; None where the gateway holds no log it may write (another process)."""
    if not callable(getattr(log, "append", None)):
        return None
    return lambda event: log.append(STREAM, [event])


class ReportedAttempts:
    """What a gateway in front of the services does with a refused attempt: tells the deployer, which records it."""

    def __init__(self, deployer: ServiceClient, callers: CallerPass | None) -> None:
        self.deployer, self.callers = deployer, callers

    def note(self, kind: str, method: str, route: str, client: str) -> None:
        if self.callers is None:  # no site key here (host mode): nothing can sign the report
            logging.getLogger("civitas.gateway").warning("a refused operator token is not recorded: this gateway "
                                                         "holds no site key to sign its report to the deployer")
            return
        self.deployer.post_as("gateway", self.callers, REPORT_PATH,  # cut as the event would cut them
                              {"kind": kind, "method": method[:16], "route": route[:MAX_ROUTE], "client": client[:64]})

    def stop(self) -> None:
        return None  # the deployer counts; nothing waits here
