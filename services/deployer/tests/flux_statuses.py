"""Recorded Flux v2 status objects (flux_status/, see its README), optionally with a real GitOps commit's hash put
in place of the recorded one, so a test that pushed a commit can serve what Flux would say of it."""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = Path(__file__).parent / "flux_status"
NEW = "9f2c4d1e7a3b5c60818d2e4f6a7b8c9d0e1f2a3b"  # the commit pushed, as recorded
OLD = "3e5a7c9b1d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c"  # the one before


def recorded(name: str, new: str = NEW, old: str = OLD) -> dict:
    text = (FOLDER / f"{name}.json").read_text()
    for recorded_hash, real in ((NEW, new), (OLD, old)):
        text = text.replace(recorded_hash, real).replace(recorded_hash[:12], real[:12])
    return json.loads(text)
