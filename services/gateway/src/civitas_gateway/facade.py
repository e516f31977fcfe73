"""What the gateway's routes use of a Site (api.py, pages.py, shell.py), as HTTP calls to the services that own it.

Thin on purpose: each method is one call to the owning service, whose command layer decides and
whose errors come back as the same CommandError classes, so the gateway answers as the embedded site does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from civitas_counter import STREAMS_OF_KIND, CountResult, parse_count
from civitas_kernel.commands import NotFoundError, Reply
from civitas_kernel.events import RecordedEvent
from civitas_kernel.log import Position
from civitas_kernel.records import Record
from civitas_kernel.service.callers import CallerPass
from civitas_kernel.service.calls import ServiceClient, ServiceUnavailable, error_of
from civitas_kernel.service.reported import ReportedRecord
from civitas_kernel.service.settings import ServiceSettings
from civitas_kernel.voter_command import VoterCommand
from civitas_kernel.voter_list import VoterList, decode_voter_list
from civitas_polls import POLL_STREAMS, PollConfig
from civitas_registry import REGISTER_STREAMS

from civitas_gateway.auth.refusals import ReportedAttempts
from civitas_gateway.change_desk import FETCH_CALL_S, RemoteChanges
from civitas_gateway.drafts_remote import RemoteDraftReads
from civitas_gateway.forwarder import CommandForwarder
from civitas_gateway.tracing import command_span, command_spans


NETWORK_CALL_S = 5.0  # the voters' pages ask the sync service where the network stands: never long
REPORT_CALL_S = 5.0  # a refused operator token's report; the refusal does not wait for it longer


class NoLock(AbstractContextManager):
    """The site's lock, which the routes take: the owning services serialise their own commands, so nothing here."""

    def __exit__(self, *exc) -> None:
        return None


def _reply(body: dict) -> Reply:
    return Reply(body["text"], body.get("data"))


class RemoteRegistry:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def catch_up(self) -> int:
        return 0  # the registry service folds its own state

    def registrar_trust(self, voter: str, edges: int = 1) -> Reply:
        with command_span("registrar trust"):
            return _reply(self.client.post("/registrar/trust", {"voter": voter, "edges": edges}))

    def registrar_untrust(self, voter: str) -> Reply:
        with command_span("registrar untrust"):
            return _reply(self.client.delete(f"/registrar/trust/{voter}"))

    def registrants(self) -> list[str]:
        return self.client.get("/registrants")

    def _registrant(self, voter: str) -> dict:
        return self.client.get(f"/registrants/{voter}")

    def attributes(self, voter: str) -> dict[str, str]:
        return self._registrant(voter)["attributes"]

    def trusted_by(self, voter: str) -> list[str]:
        return self._registrant(voter)["trusts"]

    def doubts_by(self, voter: str) -> list[tuple[str, str]]:
        return [tuple(d) for d in self._registrant(voter)["doubts"]]

    def trusters_of(self, voter: str) -> list[str]:
        return self._registrant(voter)["trusted_by"]

    def doubters_of(self, voter: str) -> list[tuple[str, str]]:
        return [tuple(d) for d in self._registrant(voter)["doubted_by"]]

    def primary_edges(self, voter: str) -> int:
        return self._registrant(voter)["primary"]

    def where_moved(self, voter: str) -> dict:
        """Where a voter who left this site went ({} if they did not), as the registry service answers."""
        return self._registrant(voter).get("moved") or {}

    def moves_record(self, voter: str) -> dict:
        """A voter's moves to and from this site, where they went and the trust they brought (RegistryCommands')."""
        return self.client.get(f"/moves/v1/voters/{quote(voter, safe='@')}")

    def site_lineage(self) -> dict:
        return self.client.get("/moves/v1/lineage")


@dataclass
class RemoteVotes:
    """`site.polls.state.vote_of`, as the poll page asks it."""

    client: ServiceClient

    def vote_of(self, poll: str, voter: str) -> str | None:
        return self.client.get(f"/polls/{poll}/votes/{voter}")["candidate"]


class RemotePolls:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client
        self.state = RemoteVotes(client)

    def catch_up(self) -> None:
        return None  # the polls service folds its own state

    def create(self, name: str, **options) -> Reply:
        with command_span("poll create"):
            return _reply(self.client.post("/polls", {"name": name, **options}))

    def configure(self, name: str, **changes) -> Reply:
        with command_span("poll configure"):
            return _reply(self.client.call("PATCH", f"/polls/{name}", json=changes))

    def list_polls(self) -> Reply:
        return _reply(self.client.get("/polls"))

    def has_poll(self, name: str) -> bool:
        return any(p["name"] == name for p in self.list_polls().data)

    def poll(self, name: str) -> PollConfig:
        return PollConfig(**self.client.get(f"/polls/{name}"))

    def votes(self, poll: str) -> dict[str, str]:
        return self.client.get(f"/polls/{poll}/votes")


class RemoteRecords:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def status(self, kind: str) -> list[Record]:
        return [_record(d) for d in self.client.get(f"/records/{kind}")]

    def archive_chunks(self, kind: str, record_id: int) -> Iterator[bytes]:
        """The counter's archive of a ready record, passed on a piece at a time."""
        if not any(r.id == record_id and r.ready for r in self.status(kind)):
            raise NotFoundError(f"{kind} {record_id} is not ready yet; it has no archive")
        return self._chunks(f"/records/{kind}/{record_id}/archive")

    def _chunks(self, path: str) -> Iterator[bytes]:
        with self.client.http.stream("GET", path) as response:
            if response.status_code != 200:
                response.read()
                raise error_of(self.client.name, response)
            yield from response.iter_bytes()


def _record(d: dict[str, Any]) -> Record:
    snap = {"snapped_at_us": d["snapped_at_us"], "cut": d["cut"], "depends": d["depends"], "config": d.get("config")}
    return Record(d["kind"], d["id"], snap, ready=d["ready"], mounted=d["mounted"], reported=d["reported"])


# The streams each owner holds, by the service's name: the deployer's and the drafts' as their packages name them
# (civitas_deployer.CHANGE_STREAMS, civitas_drafts.DRAFT_STREAMS), which the gateway does not install.
OWNED_STREAMS: dict[str, tuple[str, ...]] = {"registry": REGISTER_STREAMS, "polls": POLL_STREAMS,
                                             "deployer": ("change", "deployment", "maintenance", "lockout"),
                                             "drafts": ("draft",)}


class RemoteLog:
    """`site.log.streams()` and `.read()`: the owners' logs of record, where the streams really stand."""

    def __init__(self, owners: dict[str, ServiceClient]) -> None:
        """owners: the owning services the site runs, by name (a service whose URL is empty is not deployed)."""
        self.owners = tuple(owners.values())
        self.owner_of = {stream: owner for name, owner in owners.items() for stream in OWNED_STREAMS[name]}

    def read(self, stream: str, *, after: int = 0) -> Iterator[RecordedEvent]:
        """The owner's sealed events of `stream` after `after`, a page at a time (GET /events/{stream})."""
        client = self.owner_of[stream]
        while page := client.get(f"/events/{stream}", after=after):
            for item in page:
                event = RecordedEvent.decode(base64.b64decode(item["raw"]), base64.b64decode(item["hash"]))
                after = event.seq
                yield event

    def head(self, stream: str) -> Position:
        """Where the owner's `stream` stands (KeyError: no service here owns it)."""
        client = self.owner_of[stream]
        found = next((s for s in client.get("/streams") if s["stream"] == stream), None)
        return Position(found["seq"], bytes.fromhex(found["head_hash"])) if found else Position(0, bytes(32))

    def streams(self) -> list[tuple[str, str, Position]]:
        found = [(s["site"], s["stream"], Position(s["seq"], bytes.fromhex(s["head_hash"])))
                 for owner in self.owners for s in owner.get("/streams")]
        return sorted(found, key=lambda t: (t[0], t[1]))


class RemoteSite:
    """A Site for create_app whose services run elsewhere."""

    def __init__(self, settings: ServiceSettings) -> None:
        timeout = settings.CALL_TIMEOUT_S
        urls = {"registry": settings.REGISTRY_URL, "polls": settings.POLLS_URL, "counter": settings.COUNTER_URL,
                "deployer": settings.DEPLOYER_URL, "drafts": settings.DRAFTS_URL}
        self.settings = settings
        self.clients = {name: ServiceClient(name, url, timeout=timeout) for name, url in urls.items()}
        self.forwarders = {name: CommandForwarder(name, urls[name], timeout=timeout)
                           for name in ("registry", "polls", "deployer", "drafts")}
        self.clients["deployer proposals"] = ServiceClient("deployer", urls["deployer"],
                                                           timeout=max(timeout, FETCH_CALL_S))
        self.changes = RemoteChanges(self.clients["deployer"], self.clients["deployer proposals"])
        self.lock = NoLock()
        self.registry = RemoteRegistry(self.clients["registry"])
        self.polls = RemotePolls(self.clients["polls"])
        self.records = RemoteRecords(self.clients["counter"])
        self.draft_reads = RemoteDraftReads(self.clients["drafts"])
        self.deployed = [name for name, url in urls.items() if url]  # a service without a URL is not deployed
        self.log = RemoteLog({name: self.clients[name] for name in OWNED_STREAMS if name in self.deployed})
        self._command_span = command_spans()
        self._public_key: bytes | None = None
        sync_url = getattr(settings, "SYNC_URL", "")  # a site in no network runs no sync service
        self.sync = ServiceClient("sync", sync_url, timeout=min(timeout, NETWORK_CALL_S)) if sync_url else None
        # the operator's token refused after the lock-out: the deployer records it, on this gateway's signed word
        self.refusal_reports = ReportedAttempts(ServiceClient("deployer", urls["deployer"], timeout=min(
            timeout, REPORT_CALL_S)), CallerPass.of_settings(settings)) if urls["deployer"] else None
        self._reported = {"list": ReportedRecord(self.clients["counter"], "list", decode_voter_list, settings.REPORTED_TTL_S),
                          "count": ReportedRecord(self.clients["counter"], "count", parse_count, settings.REPORTED_TTL_S)}

    async def submit(self, command: VoterCommand) -> Reply:
        """Send a voter's command to the service that owns it, with whatever else is on its way there."""
        owner = {"register": "registry", "change": "deployer", "drafts": "drafts"}.get(command.service, "polls")
        with self._command_span(command.verb):
            return await self.forwarders[owner].submit(command)

    def public_key(self) -> bytes:
        """The site's public key, as the counter signs records with it (asked once)."""
        if self._public_key is None:
            self._public_key = bytes.fromhex(self.clients["counter"].get("/key")["public_key"])
        return self._public_key

    def reported_list(self) -> VoterList | None:
        return self._reported["list"]()

    def reported_count(self) -> CountResult | None:
        return self._reported["count"]()

    def network(self, picture: bool = False) -> dict | None:
        """Where this site stands among its peers, as the sync service says (and its picture); None: no network."""
        if self.sync is None:
            return None
        view = self.sync.get("/sync/v1/network")
        if picture:
            try:
                view["picture"] = self.sync.http.get("/sync/v1/network.svg").text
            except httpx.TransportError as error:
                raise ServiceUnavailable("sync", type(error).__name__) from None
        return view

    def maintenance_view(self) -> dict | None:
        """The maintenance page's data as the deployer service holds it (GET /maintenance); None: no deployer."""
        return self.clients["deployer"].get("/maintenance") if "deployer" in self.deployed else None

    def compile(self, kind: str) -> list[Record]:
        """Compile at least everything the owners hold now, so a compile right after a command includes it."""
        with command_span(f"compile {kind}"):
            heads = {stream: pos.seq for _, stream, pos in self.log.streams() if stream in STREAMS_OF_KIND.get(kind, ())}
            records = [_record(d) for d in self.clients["counter"].post(f"/records/{kind}", {"at_least": heads})]
        self._reported[kind].forget()
        return records

    async def aclose(self) -> None:
        reports = [self.refusal_reports.deployer] if self.refusal_reports else []
        for c in [*self.clients.values(), *([self.sync] if self.sync else []), *reports]:
            c.close()
        for f in self.forwarders.values():
            await f.aclose()
