"""The records page's downloads: each ready record's signed archive, and the one command that audits it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

router = APIRouter(include_in_schema=False)


def archive_name(site: str, kind: str, record_id: int) -> str:
    return f"{site}-{kind}-{record_id:06d}.tar"


def audit_command(site: str, kind: str, record_id: int, public_key: bytes) -> str:
    """What an auditor runs on the downloaded archive: checks it against this site's key and recompiles it."""
    return f"civitas audit {archive_name(site, kind, record_id)} --key {public_key.hex()}"


@router.get("/records/{kind}/{record_id}/archive.tar")
def archive(request: Request, kind: str, record_id: int) -> StreamingResponse:
    from civitas_kernel.commands import NotFoundError

    if kind not in ("list", "count"):
        raise NotFoundError(f"there are no {kind!r} records: the kinds are list and count")
    site = request.app.state.site
    chunks = site.records.archive_chunks(kind, record_id)  # a record that is not ready is a 404 here, before any byte
    name = archive_name(site.settings.SITE, kind, record_id)
    return StreamingResponse(chunks, media_type="application/x-tar",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
