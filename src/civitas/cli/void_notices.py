"""A revision made in the local voter shell voids votes as one from the pages does: tell those voters by mail, through
the site's relay or, on one's own machine without one, its outbox."""

from __future__ import annotations

from functools import cache


@cache
def _teller():
    from civitas_gateway import AuthSettings
    from civitas_gateway.auth import smtp_mailer
    from civitas_gateway.change_mail import Teller
    from civitas_gateway.outbox import local_outbox
    from civitas_kernel.sql import create_engine

    auth = AuthSettings()
    outbox = local_outbox(auth, "127.0.0.1")  # no relay on one's own machine: the notices land in the outbox
    mailer = outbox.mailer if outbox else smtp_mailer(auth)
    return Teller(create_engine(auth.store_url), mailer.send, auth.mail_from, auth.SITE)


def tell_voided(outcome) -> None:
    """Mail the voters a revision's reply says it voided (each once, as the gateway would); anything else: nothing."""
    if not (getattr(outcome, "data", None) or {}).get("voided"):
        return
    import asyncio

    from civitas_gateway.change_mail import tell_voided_by

    asyncio.run(tell_voided_by(_teller(), outcome))
