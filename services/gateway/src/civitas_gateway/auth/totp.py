"""Two-step sign-in: a time-based one-time code (TOTP, RFC 6238) from the voter's authenticator app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pyotp

from civitas_kernel.service.problems import Problem

from civitas_gateway.auth.store import AuthStore
from civitas_gateway.auth.tokens import same

DRIFT_STEPS = 1  # accept the code of the previous and next 30 s step too: phone clocks drift

log = logging.getLogger("civitas.gateway.auth")


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth://totp/... for a QR code


@dataclass
class TwoStep:
    store: AuthStore
    issuer: str  # shown in the authenticator app: the site's name
    clock: Callable[[], float]

    def is_on(self, voter: str) -> bool:
        """Two-step sign-in is on for the voter (a reset asked by email proof ends it once its delay is over)."""
        row = self.store.totp(voter)
        if not (row and row.confirmed):
            return False
        reset_at = self.store.totp_reset(voter)
        if reset_at is not None and self.clock() >= reset_at:
            self.store.remove_totp(voter)
            log.info("two-step sign-in reset for a voter after the delay")
            return False
        return True

    def reset_at(self, voter: str) -> float | None:
        return self.store.totp_reset(voter) if self.is_on(voter) else None

    def turn_off(self, voter: str, code: str) -> None:
        """Turn two-step sign-in off, given the authenticator's current code."""
        if not self.is_on(voter):
            raise Problem(409, "two-step sign-in is not on for you", kind="totp-not-on")
        if not self.check(voter, code):
            raise Problem(400, "that authenticator code is wrong or was used already; ask for a new mailed code and "
                          "try again with the current one", kind="wrong-totp")
        self.store.remove_totp(voter)

    def ask_reset(self, voter: str, delay_s: float) -> float:
        """Turn two-step sign-in off `delay_s` from now (for a voter who lost the authenticator); when."""
        if not self.is_on(voter):
            raise Problem(409, "two-step sign-in is not on for this address; sign in with the mailed code alone",
                          kind="totp-not-on")
        return self.store.set_totp_reset(voter, self.clock() + delay_s)

    def cancel_reset(self, voter: str) -> None:
        if not self.store.cancel_totp_reset(voter):
            raise Problem(409, "no reset of your two-step sign-in is waiting", kind="no-totp-reset")

    def enrol(self, voter: str) -> Enrolment:
        secret = pyotp.random_base32()
        if not self.store.set_pending_totp(voter, secret):
            raise Problem(409, "two-step sign-in is already on for you", kind="totp-already-on")
        uri = pyotp.TOTP(secret).provisioning_uri(name=voter, issuer_name=self.issuer)
        return Enrolment(secret, uri)

    def confirm(self, voter: str, code: str) -> None:
        row = self.store.totp(voter)
        if row is None or row.confirmed:
            raise Problem(409, "there is no enrolment to confirm; enrol first", kind="totp-not-enrolled")
        if not self._use(voter, row.secret, code, confirming=True):
            raise Problem(400, "that code is wrong; check your authenticator app's clock and try the current code", kind="wrong-totp")
        log.info("two-step sign-in turned on for a voter")

    def check(self, voter: str, code: str) -> bool:
        """True if `code` is the voter's current code and was not used before (it is used now)."""
        row = self.store.totp(voter)
        return bool(row and row.confirmed and self._use(voter, row.secret, code, confirming=False))

    def _use(self, voter: str, secret: str, code: str, *, confirming: bool) -> bool:
        code = code.replace(" ", "")
        totp = pyotp.TOTP(secret)
        now_step = int(self.clock() // totp.interval)
        for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
            if same(totp.generate_otp(step), code):
                return self.store.use_totp_step(voter, step, confirming=confirming)
        return False
