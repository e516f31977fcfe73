"""`site.draft_reads` behind a gateway in front of the services: each read one call to the drafts service, answered as
the embedded site's DraftReads answers (its errors the same CommandError classes, a query's problems passed on whole,
their kind and title kept)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from opentelemetry import propagate

from civitas_kernel.service.calls import ServiceClient, ServiceUnavailable, error_of
from civitas_kernel.service.problems import TYPE_PREFIX, Problem


class RemoteDraftReads:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    @staticmethod
    def _who(voter: str | None) -> dict[str, str]:
        return {"voter": voter} if voter else {}

    def groups(self, voter: str | None) -> list[dict]:
        return self.client.get("/groups", **self._who(voter))

    def group(self, voter: str | None, group: str) -> dict:
        return self.client.get(f"/groups/{_segment(group)}", **self._who(voter))

    def subject_groups(self, voter: str | None, subject: str) -> list[dict]:
        return self.client.get("/subject-groups", subject=subject, **self._who(voter))

    def anchored(self, voter: str | None, group: str, *, limit: int = 200) -> dict:
        return self.client.get(f"/groups/{_segment(group)}/anchored", limit=limit, **self._who(voter))

    def members(self, voter: str | None, group: str) -> dict:
        return self.client.get(f"/groups/{_segment(group)}/members", **self._who(voter))

    def posts(self, voter: str | None, group: str, *, threaded: bool = False, hidden: bool = False,
              limit: int = 50) -> dict:
        return self.client.get(f"/groups/{_segment(group)}/posts", view="threaded" if threaded else "flat",
                               hidden=str(hidden).lower(), limit=limit, **self._who(voter))

    def post(self, voter: str | None, post: str, group: str | None = None) -> dict:
        return self.client.get(f"/posts/{_segment(post)}", **self._who(voter), **({"group": group} if group else {}))

    def tables(self) -> dict:
        return self.client.get("/query/tables")

    def query(self, voter: str, sql: str) -> dict:
        """POST /query at the drafts service; its problem document (kind, title, Retry-After) raised as it came."""
        headers: dict[str, str] = {}
        propagate.inject(headers)  # the service's span joins this trace
        try:
            response = self.client.http.post("/query", json={"voter": voter, "sql": sql}, headers=headers)
        except httpx.HTTPError as error:
            raise ServiceUnavailable(self.client.name, type(error).__name__) from None
        if response.status_code < 400:
            return response.json()
        body = _json(response)
        kind = str(body.get("type", "")).removeprefix(TYPE_PREFIX)
        if response.status_code >= 500 or not kind.startswith("quer"):  # not the sandbox's: as any other call
            raise error_of(self.client.name, response)
        headers = {"Retry-After": response.headers["retry-after"]} if "retry-after" in response.headers else None
        raise Problem(response.status_code, str(body.get("detail", "")), kind=kind,
                      title=str(body.get("title", "")), headers=headers)


def _segment(ref: str) -> str:
    """A group or post reference as one path segment (a group's name may hold a slash or a question mark)."""
    return quote(ref, safe="")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
