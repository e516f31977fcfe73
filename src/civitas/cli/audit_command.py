"""`civitas audit`: recount an archive, and say whose it is: checked against a key the auditor holds, or not at all.

`civitas known-sites` pins the sites whose keys the auditor knows besides their own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import typer

from civitas.cli.log_commands import _key, public_key_option
from civitas.exit_status import ExitStatus

if TYPE_CHECKING:  # the settings, keys and tables load when a command runs, not for `--help`
    from civitas_kernel.settings import SiteSettings
    from civitas_kernel.signers import Signer

known_sites = typer.Typer(help="The sites whose archives `civitas audit` checks the signer of, besides this one.",
                          no_args_is_help=True)


@dataclass(frozen=True)
class Expected:
    """The key the auditor holds for an archive's signer, and where it comes from (None: nothing known)."""

    key: bytes | None
    source: str


def expected_key(signer: Signer, key: bytes | None, key_file: Path | None, settings: SiteSettings) -> Expected:
    """The auditor's key for this archive: one they gave, else the one they know for the site the archive names."""
    from civitas_kernel.signers import KNOWN_SITES, key_from_file, read_known_sites

    if key is not None:
        return Expected(key, "the key given with --key")
    if key_file is not None:
        return Expected(key_from_file(key_file), f"the key in {key_file}")
    if signer.site == settings.SITE and settings.key_path.exists():  # never made here: an auditor may have no site
        return Expected(key_from_file(settings.key_path), f"this civitas's own key for {settings.SITE}")
    pinned = read_known_sites(settings.HOME / KNOWN_SITES).get(signer.site)
    if pinned is not None:
        return Expected(pinned, f"the key pinned for {signer.site} in {settings.HOME / KNOWN_SITES}")
    return Expected(None, f"nothing: this civitas knows no key for {signer.site}")


def audit(
    archive: Path = typer.Argument(..., help="A list, count or decision archive (archive.tar under "
                                             "CIVITAS_HOME/records, or downloaded from a site's records page)."),
    key: str = public_key_option,
    site_key_file: Path | None = typer.Option(None, "--site-key-file", help="Check the signer against the key in "
                                              "this file (a site's PEM key file, a PEM public key, or 64 hex digits)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> int:
    """Check an archive alone (hashes, signatures, events), recompile its result, and check who signed it.

    Exit 0: the recount matches, and it is signed with the key you hold for that site.

    Exit 3: tampered, forged, or signed with another key than the one you hold for that site.

    Exit 4: the recount matches, but nothing you hold says whose key signed it (--key, --site-key-file, known-sites).
    """
    from civitas_counter import COMPILERS  # the compilers are heavy; only an audit needs them
    from civitas_deployer import COMPILERS as DECISION_COMPILERS
    from civitas_kernel.archive import ArchiveError
    from civitas_kernel.audit import audit_archive
    from civitas_kernel.settings import SiteSettings
    from civitas_kernel.signers import KNOWN_SITES, named_signer, read_known_sites

    from civitas.progress import progress_bar

    if not archive.exists():
        raise ValueError(f"no file {archive}")
    signer = named_signer(archive)
    expected = expected_key(signer, key, site_key_file, SiteSettings())
    if expected.key is not None and expected.key != signer.public_key:
        raise_foreign(signer, expected)
    head = f"{archive.name}: signed for site {signer.site} with key {signer.public_key.hex()}"
    checked = expected.key is not None
    if not as_json:
        typer.echo(f"{head}, " + ("which is " + expected.source if checked else "checked against " + expected.source))
    with progress_bar(f"auditing {archive.name}", None) as advance:
        report = audit_archive(archive, COMPILERS | DECISION_COMPILERS, public_key=expected.key, progress=advance)
    if report.origin is not None:  # another site's events: they must be under the key the auditor holds for it
        origin_pinned = read_known_sites(SiteSettings().HOME / KNOWN_SITES).get(report.origin)
        if origin_pinned is not None and origin_pinned.hex() != report.origin_key:
            raise ArchiveError(f"the events are said to be {report.origin}'s, under key {report.origin_key}, but the "
                               f"key pinned for {report.origin} is {origin_pinned.hex()}: they are not that site's")
        if not as_json:
            typer.echo(f"the events are {report.origin}'s, checked against its key {report.origin_key}" +
                       (", the one pinned for it" if origin_pinned else
                        f" (not pinned here: `civitas known-sites add {report.origin} KEY` to check it)"))
    verdict = "differs" if not report.matches else "matches" if checked else "self-consistent, signer not checked"
    if as_json:
        typer.echo(json.dumps(report.as_dict() | {"verdict": verdict, "signer_checked": checked,
                                                  "checked_against": expected.source}, indent=2))
    else:
        typer.echo(f"{report.kind} {report.id} of {report.site}: " + outcome(report, checked))
    if not report.matches:
        return ExitStatus.INTEGRITY
    return ExitStatus.SUCCESS if checked else ExitStatus.UNCHECKED


def outcome(report, checked: bool) -> str:
    if not report.matches:
        return f"the recount DIFFERS from the archive: {report.difference}"
    recount = f"recompiled from {report.events} events; "
    if checked:
        return recount + f"the result matches byte for byte (sha256 {report.result_sha256})"
    return recount + (f"self-consistent, signer not checked (sha256 {report.result_sha256}): anyone with a key can "
                      "make such an archive; give --key (the site's key, as its records page prints it) to check "
                      "whose it is")


def raise_foreign(signer: Signer, expected: Expected) -> None:
    from civitas_kernel.archive import ArchiveError

    raise ArchiveError(f"the archive says it is {signer.site}'s, but it is signed with key {signer.public_key.hex()}, "
                       f"not {expected.key.hex()} ({expected.source}): it is not that site's record")


@known_sites.command("add")
def add(site: str = typer.Argument(..., help="The site's name, as its archives name it."),
        key: str = typer.Argument(..., help="Its public key: 64 hex digits, as `civitas site` prints it.")) -> None:
    """Pin a site's public key, so `civitas audit` checks that site's archives against it."""
    from civitas_kernel.settings import SiteSettings
    from civitas_kernel.signers import KNOWN_SITES, read_known_sites, write_known_sites

    settings = SiteSettings()
    path = settings.HOME / KNOWN_SITES
    known = read_known_sites(path)
    public_key = _key(key.lower())
    if site in known and known[site] != public_key:
        raise ValueError(f"{site} is pinned to another key ({known[site].hex()}); `civitas known-sites remove {site}` "
                         "first if the site really changed its key")
    write_known_sites(path, known | {site: public_key})
    typer.echo(f"pinned {site}: {public_key.hex()}")


@known_sites.command("remove")
def remove(site: str = typer.Argument(..., help="The site's name.")) -> None:
    """Forget a pinned site."""
    from civitas_kernel.settings import SiteSettings
    from civitas_kernel.signers import KNOWN_SITES, read_known_sites, write_known_sites

    path = SiteSettings().HOME / KNOWN_SITES
    known = read_known_sites(path)
    if site not in known:
        raise ValueError(f"{site} is not pinned; `civitas known-sites list` shows what is")
    write_known_sites(path, {s: k for s, k in known.items() if s != site})
    typer.echo(f"forgot {site}")


@known_sites.command("list")
def list_sites(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """The pinned sites and their keys."""
    from rich.table import Table

    from civitas_kernel.settings import SiteSettings
    from civitas_kernel.signers import KNOWN_SITES, read_known_sites

    from civitas.progress import render

    known = read_known_sites(SiteSettings().HOME / KNOWN_SITES)
    if as_json:
        typer.echo(json.dumps({site: key.hex() for site, key in sorted(known.items())}, indent=2))
        return
    if not known:
        typer.echo("no site is pinned; `civitas known-sites add SITE KEY` pins one")
        return
    table = Table("site", "public key")
    for site, key in sorted(known.items()):
        table.add_row(site, key.hex())
    typer.echo(render(table))
