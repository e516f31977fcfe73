"""What the change pages and API use of the deployer: the embedded site's change commands, or the deployer service.

Votes, delegations and withdrawals are voters' commands like any other (`site.submit`); what a shell line
cannot carry (a patch's bytes, a URL fetched before the command waits) and the pages' reads go through a
desk: `LocalChanges` on the embedded site (site.change, on its group writer), `RemoteChanges` in front of
the deployer service (its /proposals, /delegations). Both answer with the same Reply and the same errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from civitas_kernel.commands import CommandError, NotFoundError, Reply
from civitas_kernel.service.calls import ServiceClient, error_of

FETCH_CALL_S = 150.0  # a proposal from a URL waits for its fetch (the deployer's own limit is 120 s)


@dataclass(frozen=True)
class Change:
    """A proposal's change as a voter sends it: a patch's text, or a ref (or branch) of a git repository at a URL."""

    patch: bytes | None = None
    url: str | None = None
    ref: str | None = None

    @classmethod
    def of(cls, patch: bytes | None, url: str | None, ref: str | None, branch: str | None) -> Change:
        url, ref, branch = (v.strip() or None if v else None for v in (url, ref, branch))
        if ref and branch:
            raise CommandError("name the ref or the branch, not both")
        ref = ref or (f"refs/heads/{branch}" if branch else None)
        if (patch is not None) == (url is not None) or (url is None) != (ref is None):
            raise CommandError("send the change once: a patch (git format-patch output), or a git URL with its "
                               "branch or ref")
        if patch is not None:
            if not patch.strip():
                raise CommandError("the patch is empty; make it with `git format-patch -1 --stdout`")
            try:
                patch.decode("utf-8")
            except UnicodeDecodeError:
                raise CommandError("the patch is not UTF-8 text; make it with `git format-patch` from text files") \
                    from None
        return cls(patch, url, ref)


def _reply(body: dict) -> Reply:
    return Reply(body["text"], body.get("data"))


class LocalChanges:
    """The embedded site's change commands: writes on its group writer, reads under its lock."""

    def __init__(self, site) -> None:
        self.site = site

    async def _write(self, command, key: str | None) -> Reply:
        return await asyncio.wrap_future(self.site.writer.submit(command, alone=key is not None))

    async def _what(self, change: Change):
        if change.patch is not None:
            return change.patch
        return await asyncio.to_thread(self.site.change.fetch, change.url, change.ref)  # outside the writer

    async def propose(self, voter: str, title: str, change: Change, key: str | None = None) -> Reply:
        what = await self._what(change)
        return await self._write(lambda: self.site.change.propose(voter, what, title, idempotency_key=key), key)

    async def revise(self, voter: str, proposal: str, change: Change, title: str | None = None,
                     key: str | None = None) -> Reply:
        what = await self._what(change)
        return await self._write(lambda: self.site.change.revise(voter, proposal, what, title, idempotency_key=key),
                                 key)

    def _read(self, query) -> Reply:
        with self.site.lock:
            return query(self.site.change)

    def list(self) -> Reply:
        return self._read(lambda c: c.list_proposals())

    def show(self, voter: str | None, proposal: str) -> Reply:
        return self._read(lambda c: c.show(voter, proposal))

    def diff(self, proposal: str, revision: int | None = None) -> Reply:
        return self._read(lambda c: c.diff(proposal, revision))

    def graph(self, proposal: str, voter: str | None) -> Reply:
        return self._read(lambda c: c.graph(proposal, voter))

    def delegations(self, voter: str) -> Reply:
        return self._read(lambda c: c.delegations(voter))

    def deployments(self) -> Reply:
        """The live release, the deployments newest first, the mirrors' state (the contract's shape)."""
        with self.site.lock:
            change = self.site.change
            reply = change.deployments() if hasattr(change, "deployments") else Reply(
                "no deployment yet", {"live": {"commit": None, "since_us": None, "deployment": None},
                                      "deployments": []})
        data = dict(reply.data)
        data.setdefault("mirrors", self.site.mirrors.state())
        return Reply(reply.text, data)

    def decisions(self) -> Reply:
        decided = self.site.decisions.decided()
        return Reply(f"{len(decided)} decision(s)", [d.as_dict() for d in sorted(decided.values(),
                                                                                 key=lambda d: d.record)])

    def decision_archive(self, record: int) -> Iterator[bytes]:
        found = next((d for d in self.site.decisions.decided().values() if d.record == record), None)
        if found is None:
            raise NotFoundError(f"there is no decision record {record}")
        return _file_chunks(found.archive)


def _file_chunks(path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(1 << 16):
            yield chunk


class RemoteChanges:
    """The deployer service's proposals and reads, over HTTP."""

    def __init__(self, client: ServiceClient, proposals: ServiceClient) -> None:
        self.client, self.proposals = client, proposals  # proposals: a client whose timeout waits for a fetch

    def _body(self, voter: str, title: str | None, change: Change, key: str | None) -> dict:
        body = {"voter": voter, "title": title, "idempotency_key": key}
        if change.patch is not None:
            return body | {"patch": change.patch.decode("utf-8")}
        return body | {"url": change.url, "ref": change.ref}

    async def propose(self, voter: str, title: str, change: Change, key: str | None = None) -> Reply:
        body = self._body(voter, title, change, key)
        return _reply(await asyncio.to_thread(self.proposals.post, "/proposals", body))

    async def revise(self, voter: str, proposal: str, change: Change, title: str | None = None,
                     key: str | None = None) -> Reply:
        body = self._body(voter, title, change, key)
        return _reply(await asyncio.to_thread(self.proposals.post, f"/proposals/{quote(proposal, safe='')}/revisions",
                                              body))

    def list(self) -> Reply:
        return _reply(self.client.get("/proposals"))

    def show(self, voter: str | None, proposal: str) -> Reply:
        return _reply(self.client.get(f"/proposals/{quote(proposal, safe='')}", **({"voter": voter} if voter else {})))

    def diff(self, proposal: str, revision: int | None = None) -> Reply:
        return _reply(self.client.get(f"/proposals/{quote(proposal, safe='')}/diff",
                                      **({"revision": revision} if revision else {})))

    def graph(self, proposal: str, voter: str | None) -> Reply:
        return _reply(self.client.get(f"/proposals/{quote(proposal, safe='')}/graph",
                                      **({"voter": voter} if voter else {})))

    def delegations(self, voter: str) -> Reply:
        return _reply(self.client.get(f"/delegations/{quote(voter, safe='@')}"))

    def deployments(self) -> Reply:
        body = self.client.get("/deployments")
        return _reply(body) if set(body) == {"text", "data"} else Reply("", body)

    def decisions(self) -> Reply:
        return Reply("", self.client.get("/decisions"))

    def decision_archive(self, record: int) -> Iterator[bytes]:
        """The deployer's archive of a decision, passed on a piece at a time (a missing one is its 404, at once)."""
        response = self.client.http.send(self.client.http.build_request("GET", f"/decisions/{record}/archive"),
                                          stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            raise error_of(self.client.name, response)
        return _streamed(response)


def _streamed(response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()


def changes_of(site) -> LocalChanges | RemoteChanges:
    """The site's change desk: RemoteSite brings its own; the embedded site is wrapped (once per site)."""
    desk = getattr(site, "changes", None)
    if desk is None:
        desk = LocalChanges(site)
        try:
            site.changes = desk
        except AttributeError:
            pass
    return desk
