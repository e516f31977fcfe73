"""The list rules that travel with the streams: each site signs its own voter-list rules and serves them with its
heads beside those it holds of other origins; a receiver keeps those signed by a key it pinned, in
CIVITAS_HOME/sync/rules/ORIGIN.json, where whoever compiles that origin's list reads them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from civitas_kernel.list_rules import check_list_rules, sign_list_rules
from civitas_kernel.signing import SiteKey

from civitas_sync.domain.peers import SITE_NAME

RULES_DIR = Path("sync") / "rules"


def served_rules(home: Path, site: str, key: SiteKey, own: dict | None) -> list[dict]:
    """The statements a site serves: its own rules, signed now, and every other origin's it holds."""
    statements = [] if own is None else [sign_list_rules(key, site, own)]
    folder = home / RULES_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            if path.stem != site:
                try:
                    statements.append(json.loads(path.read_text(encoding="utf-8")))
                except ValueError:
                    continue  # a damaged file is not served; the next pull writes it again
    return statements


def keep_rules(home: Path, statements: list, keys: dict[str, bytes], own_site: str) -> list[str]:
    """Keep each statement signed by the pinned key of its site (never one said to be this site's); returns what
    was refused, in words."""
    refused = []
    for statement in statements if isinstance(statements, list) else []:
        site = str(statement.get("site", "")) if isinstance(statement, dict) else ""
        if site == own_site or not SITE_NAME.fullmatch(site) or site not in keys:
            continue  # only the origin states its rules; an unknown site's are not this site's to keep
        try:
            check_list_rules(statement, keys[site])
        except ValueError as e:
            refused.append(str(e))
            continue
        path = home / RULES_DIR / f"{site}.json"
        data = json.dumps(statement, sort_keys=True) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(data, encoding="utf-8")
        partial.replace(path)
    return refused


def held_rules(home: Path) -> Callable[[str], dict | None]:
    """What a list compiler asks: the signed rules statement held for an origin, if any."""
    def rules_of(origin: str) -> dict | None:
        path = home / RULES_DIR / f"{origin}.json"
        if not SITE_NAME.fullmatch(origin) or not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            return None
    return rules_of
