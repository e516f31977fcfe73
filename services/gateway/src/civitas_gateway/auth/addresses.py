"""Email addresses as voters' names: validated and normalised the one same way everywhere."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalise_email(value: str) -> str:
    """The address lower-cased, or ValueError saying what is wrong with it (no DNS look-up)."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as e:
        raise ValueError(str(e)) from None
