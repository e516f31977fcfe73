"""Voters' email addresses: the one normalisation the register, the polls and the gateway's sign-in share.

email-validator (syntax only, no DNS), then the whole address lower-cased, so the register
and the sign-in always name a voter the same way. The function lives in the kernel because
every service needs it; the register's domain names it here.
"""

from __future__ import annotations

from civitas_kernel.addresses import AddressError, normalise_address

__all__ = ["AddressError", "normalise_address"]
