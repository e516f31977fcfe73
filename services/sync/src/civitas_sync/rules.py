"""The list rules that travel with the streams: each site signs its own voter-list rules, with a version, and serves
them with its heads beside those it holds of other origins; a receiver keeps those signed by a key it pinned, the
highest version of each origin, in CIVITAS_HOME/sync/rules/ORIGIN.json, where whoever compiles that origin's list
reads them. An older version, or another set under the version held, is refused and said (never applied)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from civitas_kernel.canonical import canonical_json
from civitas_kernel.list_rules import HELD, check_list_rules, held_list_rules, rules_version, sign_list_rules
from civitas_kernel.signing import SiteKey

from civitas_sync.domain.peers import SITE_NAME
from civitas_sync.domain.rule_versions import CONFLICT, OLDER, SAME, issue, judge

RULES_DIR = HELD
ISSUED = Path("sync") / "rules-issued.json"  # the version this site signed its current rules with
_issuing = threading.Lock()


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # none yet, or damaged: the next pull (or the next issue) writes it again
    return data if isinstance(data, dict) else None


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
    partial.replace(path)


def own_statement(home: Path, site: str, key: SiteKey, own: dict, now_us: int | None = None) -> dict:
    """This site's rules signed under their version: the same statement while the rules stay, a higher version
    (kept in CIVITAS_HOME/sync/rules-issued.json) as soon as they change."""
    digest = hashlib.sha256(canonical_json(own)).hexdigest()
    with _issuing:
        issued = _read(home / ISSUED)
        current = issue(issued, digest, time.time_ns() // 1000 if now_us is None else now_us)
        if current is not issued:
            _write(home / ISSUED, current)
    return sign_list_rules(key, site, own, current["version"])


def served_rules(home: Path, site: str, key: SiteKey, own: dict | None) -> list[dict]:
    """The statements a site serves: its own rules, signed under their version, and every other origin's it holds."""
    statements = [] if own is None else [own_statement(home, site, key, own)]
    folder = home / RULES_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            if path.stem != site and (held := _read(path)) is not None:
                statements.append(held)
    return statements


def keep_rules(home: Path, statements: list, keys: dict[str, bytes], own_site: str) -> list[str]:
    """Keep each statement signed by the pinned key of its site (never one said to be this site's) if it is a later
    version than the one held; returns what was refused, in words."""
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
        held = _read(path)
        offered = (rules_version(statement), statement["rules"])
        verdict = judge((rules_version(held), held.get("rules")) if held else None, offered)
        if verdict == OLDER:
            refused.append(f"{site}'s list rules of version {offered[0]} are older than version "
                           f"{rules_version(held)} held here: refused, the later kept")
        elif verdict == CONFLICT:
            refused.append(f"{site} signed two different sets of list rules as version {offered[0]}: the one "
                           "held here kept, the other refused (both carry its signature: ask its operators)")
        elif verdict != SAME:
            _write(path, statement)
    return refused


def held_rules(home: Path) -> Callable[[str], dict | None]:
    """What a list compiler asks: the signed rules statement held for an origin, if any."""
    return held_list_rules(home)
