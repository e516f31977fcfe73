"""What a voter changes about their own sign-in: two-step sign-in on and off (each needing a fresh mailed code, and
told by mail), its reset by email proof after a delay, and their sessions.

A stolen session alone can therefore neither turn two-step sign-in on (and lock the voter out) nor off; a stolen
mailbox alone can turn it off only after TOTP_RESET_HOURS, during which the voter is told and may cancel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.settings import AuthSettings
from civitas_gateway.auth.signin import SignIn, iso
from civitas_gateway.auth.totp import Enrolment, TwoStep

log = logging.getLogger("civitas.gateway.auth")


@dataclass
class Account:
    sign_in: SignIn
    two_step: TwoStep
    settings: AuthSettings

    def start_totp(self, voter: str, challenge: str, code: str) -> Enrolment:
        """A secret for the voter's authenticator app, once they prove the mailbox again with a fresh code."""
        if self.two_step.is_on(voter):
            raise Problem(409, "two-step sign-in is already on for you", kind="totp-already-on")
        self.sign_in.prove(challenge, code, voter)
        return self.two_step.enrol(voter)

    def confirm_totp(self, voter: str, code: str) -> None:
        self.two_step.confirm(voter, code)
        self._tell(voter, "Two-step sign-in is on",
                   "Two-step sign-in was turned on for your address: signing in now also needs your authenticator app.")

    def stop_totp(self, voter: str, challenge: str, code: str, totp: str) -> None:
        if not self.two_step.is_on(voter):
            raise Problem(409, "two-step sign-in is not on for you", kind="totp-not-on")
        self.sign_in.prove(challenge, code, voter)
        self.two_step.turn_off(voter, totp)
        self._tell(voter, "Two-step sign-in is off",
                   "Two-step sign-in was turned off for your address: signing in needs only the mailed code now.")

    def ask_totp_reset(self, challenge: str, code: str) -> float:
        """For a voter who lost the authenticator: proof of the mailbox turns two-step sign-in off after the delay."""
        voter = self.sign_in.prove(challenge, code)
        when = self.two_step.ask_reset(voter, self.settings.TOTP_RESET_HOURS * 3600)
        self._tell(voter, "Two-step sign-in will be reset",
                   f"Someone who reads this mailbox asked to reset two-step sign-in for your address. From {iso(when)} "
                   "signing in will need only the mailed code.",
                   "If you still have your authenticator app and did not ask for this, sign in and cancel the reset on "
                   "your account page.")
        return when

    def cancel_totp_reset(self, voter: str) -> None:
        self.two_step.cancel_reset(voter)
        self._tell(voter, "Reset of two-step sign-in cancelled", "The reset of your two-step sign-in was cancelled.")

    def _tell(self, voter: str, subject: str, *lines: str) -> None:
        try:
            self.sign_in.notify(voter, subject, *lines)
        except Problem:  # the change stands; it needed a fresh mailed code a moment ago, so the relay was up then
            log.warning("could not mail a voter the notice %r", subject)
