"""Canonical JSON: the same data always encodes to the same bytes (sorted keys, no spaces, UTF-8)."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
