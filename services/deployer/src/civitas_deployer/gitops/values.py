"""The values a release commits to the GitOps repository: which civitas commit, and each service's image by digest.

A release names its images in `deploy/images.toml` (`[images] gateway = "REGISTRY/civitas-gateway@sha256:HEX"`);
only digests are taken, never a tag, so what runs is exactly what was built from the approved commit. A service it
does not name keeps the image of the release before. The deployer's own image (`deployer = ...`) goes to the
deployer's own values file instead, through a supervised handover (runner.py): first as a candidate that must prove
itself, then as the deployer; the site's release never runs it, so a failed site release never takes it down.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

IMAGES_FILE = "deploy/images.toml"
SERVICES = ("gateway", "registry", "polls", "counter", "sync", "drafts")
DEPLOYER = "deployer"  # named in images.toml like the others; deployed by handover
_DIGESTED = re.compile(r"^[a-z0-9][a-z0-9._/:-]{0,254}@sha256:[0-9a-f]{64}$")


class BadImages(ValueError):
    """deploy/images.toml cannot be deployed: what is wrong and what to write instead."""


def images_of(tree: Path) -> dict[str, str]:
    path = tree / IMAGES_FILE
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text()).get("images", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BadImages(f"{IMAGES_FILE} is not TOML: {error}") from None
    if not isinstance(table, dict):
        raise BadImages(f"{IMAGES_FILE}: [images] must be a table of service = image")
    for service, image in table.items():
        if service not in (*SERVICES, DEPLOYER):
            raise BadImages(f"{IMAGES_FILE}: {service!r} is not a service this release deploys; "
                            f"name one of {', '.join((*SERVICES, DEPLOYER))}")
        if not isinstance(image, str) or not _DIGESTED.match(image):
            raise BadImages(f"{IMAGES_FILE}: {service} = {image!r} is not an image by digest; write it as "
                            "REGISTRY/NAME@sha256:<64 hex digits>, never a tag")
    return dict(table)


def release_values(before: dict | None, commit: str, decision: str, images: dict[str, str],
                   fetcher: str | None = None) -> dict:
    """The values before, with this release's commit and images: what Helm merges over the chart's own values;
    `fetcher`: the image the site pods lay out their files with (the deployer's own, the one that runs)."""
    values = copy.deepcopy(before or {})
    values["release"] = {"commit": commit, "decision": decision}
    if fetcher:
        values["siteFiles"] = {"image": fetcher}
    services = values.setdefault("services", {})
    for service, image in sorted(images.items()):
        services.setdefault(service, {})["image"] = image
    return values


def deployer_values(before: dict | None, commit: str, image: str, *, candidate: bool) -> dict:
    """The deployer's own values with `image` as the candidate proving itself (beside the deployer that serves), or
    as the deployer itself (the candidate gone): what the deployer's HelmRelease merges over the chart's values."""
    values = copy.deepcopy(before or {})
    own = {k: v for k, v in (values.get("deployer") or {}).items() if k != "candidate"}
    values["deployer"] = own | {"candidate": {"image": image, "commit": commit}} if candidate else {
        "image": image, "commit": commit}
    return values
