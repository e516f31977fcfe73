"""The operator's own commands refuse on a site that governs itself (`civitas lockdown`)."""

from __future__ import annotations


def refuse_when_locked(what: str) -> None:
    """Raise LockedDown, which the CLI prints as its reason, when CIVITAS_HOME carries the lockdown's mark."""
    from civitas_kernel.lockdown import refuse_if_locked

    from civitas.settings import Settings

    refuse_if_locked(Settings().HOME, what)
