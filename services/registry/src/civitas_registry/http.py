"""The registry as a service of its own: the register's commands over its own log of record, published to Kafka.

Routes: POST /commands (voters' commands in a batch, from the gateway), the registrar's primary trust, reads
of registrants, and /moves/v1 (moves_http.py: other sites' asks and arrivals, a voter's moves, the lineage);
/health, /ready, /streams and /events/{stream} come with every owner (civitas_kernel.service.owner).
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from pydantic import BaseModel, Field

from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.service.calls import ServiceClient, ServiceUnavailable
from civitas_kernel.service.owner import Owner, open_owner_log, owner_app, reply_json
from civitas_kernel.service.reported import ReportedRecord
from civitas_kernel.service.serve import ServiceEntry
from civitas_kernel.site_rules import RulesInForce, SiteRules
from civitas_kernel.voter_command import VoterCommand
from civitas_kernel.voter_list import decode_voter_list

from civitas_registry.commands import REGISTER_STREAMS, RegistryCommands
from civitas_registry.known_sites import KnownSites
from civitas_registry.lineage_commands import MoveOptions
from civitas_registry.moves_http import add_move_routes
from civitas_registry.settings import RegistrySettings
from civitas_registry.unlocking import released


def now_us() -> int:
    return time.time_ns() // 1000


class PrimaryTrust(BaseModel):
    voter: str = Field(min_length=3, max_length=254)
    edges: int = Field(1, ge=1, le=1000)


def run_register_command(registry: RegistryCommands, command: VoterCommand) -> Reply:
    """`VOTER register ARGS` as the voter shell runs it."""
    if command.service != "register":
        raise NotFoundError(f"the registry runs register commands, not {command.service!r} ones")
    return registry.run(command.voter, list(command.args), idempotency_key=command.idempotency_key)


def drafts_told(url: str) -> dict:
    """A move's part in the drafts service, the one writer of the draft stream: it names the voter's drafts events
    for the statement, and marks their memberships once the move is written. No URL: no drafts service here."""
    if not url:
        return {}
    drafts = ServiceClient("drafts", url, timeout=10)

    def call(method, *args):
        try:
            return method(*args)
        except ServiceUnavailable as e:  # a voter's command: said as a refusal, nothing written
            raise CommandError(f"{e.detail}; nothing was written") from None

    return {"named_elsewhere": lambda voter: [bytes.fromhex(h) for h in call(drafts.get,
                                                                               f"/moves/voters/{voter}/events")],
            "told": lambda payload: call(drafts.post, "/moves/marks", payload)}


def create_registry_app(settings: RegistrySettings, **owner_options) -> FastAPI:
    log = open_owner_log(settings)
    counter = ServiceClient("counter", settings.COUNTER_URL, timeout=5)
    config = settings.list_config
    rules = RulesInForce(settings.releases_path, SiteRules.from_settings(settings))  # the live release's, else these
    reported_list = ReportedRecord(counter, "list", decode_voter_list, settings.REPORTED_TTL_S)
    known = KnownSites(settings.HOME)  # the sites voters move to and from, as sync.toml and known-sites.toml name them
    moves = MoveOptions(now_us, settings.cooling_off_us, site_url=known.url, site_key=known.key,
                        outside=lambda: released(owner.lock), **drafts_told(settings.DRAFTS_URL))
    owner: Owner[RegistryCommands] = Owner(
        "registry", settings, log, REGISTER_STREAMS,
        lambda: RegistryCommands(log, config, reported_list=reported_list, rules=rules, moves=moves), **owner_options)
    app = owner_app(owner, "civitas registry (internal)", run_register_command)
    add_move_routes(app, owner)

    @app.post("/registrar/trust")
    async def registrar_trust(body: PrimaryTrust) -> dict:
        return reply_json(await owner.run(lambda r: r.registrar_trust(body.voter, body.edges)))

    @app.delete("/registrar/trust/{voter}")
    async def registrar_untrust(voter: str) -> dict:
        return reply_json(await owner.run(lambda r: r.registrar_untrust(voter)))

    @app.get("/rules")
    async def rules_in_force() -> dict:
        """The site's rules and registrars in force, and where they come from (the live release or the settings)."""
        return rules().as_dict()

    @app.get("/registrants")
    async def registrants() -> list[str]:
        return await owner.read(lambda r: (r.catch_up(), r.registrants())[1])

    @app.get("/registrants/{voter}")
    async def registrant(voter: str) -> dict:
        def read(r: RegistryCommands) -> dict:
            r.catch_up()
            return {"attributes": r.attributes(voter), "trusts": r.trusted_by(voter), "doubts": r.doubts_by(voter),
                    "trusted_by": r.trusters_of(voter), "doubted_by": r.doubters_of(voter),
                    "primary": r.primary_edges(voter), "moved": r.where_moved(voter)}

        return await owner.read(read)

    return app


SERVICE = ServiceEntry("registry", 8001, RegistrySettings, create_registry_app)
