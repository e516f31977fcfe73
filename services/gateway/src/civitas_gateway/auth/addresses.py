"""Email addresses as voters' names: the kernel's one normalisation (civitas_kernel.addresses), as a ValueError for
pydantic validators."""

from __future__ import annotations

from civitas_kernel.addresses import AddressError, normalise_address


def normalise_email(value: str) -> str:
    """The address as every service names the voter, or ValueError saying what is wrong with it (no DNS look-up)."""
    try:
        return normalise_address(value)
    except AddressError as e:
        raise ValueError(str(e)) from None
