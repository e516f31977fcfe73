"""The deployment engine stopped by a decision: the maintenance built-ins pause-deployments, resume-deployments and
roll-back, each journalled in the deployment stream, keyed by its decision and request, so done once.

Pause: the engine deploys no approved change until a later decision resumes (the requests, held by the
maintenance round, still run: that is how a resume comes). Roll back: the deployment whose release serves is
undone as a failed one is: the release before it serves again, verified, and main gets a revert commit to
that release's tree. The event is written before main and the release move; moving them again is harmless, so a
stop in between is finished by the next control, or by `settle()` at start. In host mode the supervisor, which owns
the engine, runs them (host/supervisor.py); the site, which does not, leaves them to it. Before a roll-back writes
anything, `prove` is asked about the release it returns to (host mode: a release of another safety kernel has its
own supervisor started and ready to take over), and a refusal there is the run's failure with nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable

from civitas_schema.v1 import deployment_pb2 as pb

from civitas_deployer.deploying.commits import AUTHOR, main_of, move_main
from civitas_deployer.deploying.engine import Deployer
from civitas_deployer.deploying.releases import VERIFIED
from civitas_deployer.domain.deployments import APPLIED_PHASE, control_key, record_name

PAUSE, RESUME, ROLL_BACK = "pause-deployments", "resume-deployments", "roll-back"
DEPLOYMENT_CONTROLS = (PAUSE, RESUME, ROLL_BACK)
# In host mode the supervisor runs these (it owns the engine and the release's process); its site every other one.
SUPERVISOR_BUILTINS = ("restart", *DEPLOYMENT_CONTROLS)


class NothingToRollBack(RuntimeError):
    """No deployment of a decision serves, or none served before it: there is nothing to return to."""


class DeploymentControls:
    def __init__(self, deployer: Callable[[], Deployer], prove: Callable[[str], str] | None = None) -> None:
        """deployer: the engine, asked for at each use (a site makes it once it knows where its gateway listens);
        prove: called with the release a roll-back returns to before anything is written, what it returns added to
        the run's output; raising refuses the roll-back, nothing written or moved."""
        self._deployer = deployer
        self._prove = prove or (lambda commit: "")

    @property
    def deployer(self) -> Deployer:
        return self._deployer()

    def builtins(self) -> dict:
        """The built-ins as Maintenance takes them: each called with the run (its decision and request)."""
        return {PAUSE: self.pause, RESUME: self.resume, ROLL_BACK: self.roll_back}

    def pause(self, run) -> str:
        return self._once(run, lambda d, name, run: d._append(pb.DeploymentsPaused(
            decision=name, request=run.request, at_us=d.clock())), "deployments are paused: no approved change is "
            "deployed until a decision resumes them (the action resume-deployments)")

    def resume(self, run) -> str:
        return self._once(run, lambda d, name, run: d._append(pb.DeploymentsResumed(
            decision=name, request=run.request, at_us=d.clock())), "deployments are resumed: the approved changes "
            "not deployed yet are deployed in decision order")

    def roll_back(self, run) -> str:
        return self._once(run, self._revert, "")

    def settle(self) -> None:
        """Finish a roll-back a stop left between its event and moving main and the release. Only the last one, and
        only while main is still where it left it (before it, or on its revert): once a later deployment moved main
        on, that roll-back was finished long ago, and pointing the release back would undo what came after."""
        d = self.deployer
        with d._exclusive():
            d._catch_up()
            if d.state.reverts:
                event = d.state.reverts[-1]
                if main_of(d.repo.git) in (event.main, event.revert):
                    self._move(event)

    def _once(self, run, act, said: str) -> str:
        d, name = self.deployer, record_name(run.decision)
        with d._exclusive():
            d._catch_up()
            done = d.state.controls.get(control_key(name, run.request))
            if done is not None:
                return f"{name} asked for this already and it was done ({done}); nothing more"
            return act(d, name, run) or said

    def _revert(self, d: Deployer, name: str, run) -> str:
        serving = d.releases.verified()
        found = [x for x in d.state.deployments.values() if x.phase == APPLIED_PHASE and x.commit == serving]
        if not found:
            raise NothingToRollBack(f"the release serving ({(serving or 'none')[:12]}) is not one a deployment "
                                    "applied, so there is nothing before it to return to; nothing was changed")
        current = found[-1]
        back_to = current.previous_release
        if not back_to or not d.releases.exists(back_to):
            raise NothingToRollBack(f"deployment {current.id} has no release before it on this machine; "
                                    "nothing was changed")
        proved = self._prove(back_to)  # host mode: the supervisor of its code ready, when that differs from ours
        git, main, at_us = d.repo.git, main_of(d.repo.git), d.clock()
        message = (f"Roll back proposal {current.proposal}, revision {current.revision} ({current.decision}), "
                   f"as {name} decided\n\nReverts: {current.commit}\nDeployment: {current.id}\n"
                   f"Release: {back_to}\nApplying it again is a new decision: propose the change again.\n")
        date = f"@{at_us // 1_000_000} +0000"
        revert = git.out("commit-tree", f"{back_to}^{{tree}}", "-p", main, "-F", "-", input=message.encode(),
                         env=AUTHOR | {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
        event = pb.DeploymentReverted(deployment=current.id, decision=name, request=run.request, revert=revert,
                                      release=back_to, main=main, at_us=at_us)
        d._append(event)
        d.hold("reverting")  # a test's hold, to stop it here: settle() at the next start finishes it
        self._move(event)
        return (f"rolled back deployment {current.id} (proposal {current.proposal}, {current.decision}): release "
                f"{back_to[:12]} serves again, and main is on the revert commit {revert[:12]}{proved}")

    def _move(self, event) -> None:
        d = self.deployer
        move_main(d.repo.git, event.revert, event.main)  # nothing to do when a stop came after it
        d.releases.point(event.release)
        d.releases.point(event.release, VERIFIED)
