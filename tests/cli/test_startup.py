"""`civitas --help` and each command's help print without importing the site: no service, database or web stack
(typer itself brings pydantic)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "numpy", "fastapi", "pydantic_settings", "httpx", "rich", "civitas.site", "civitas_counter",
         "civitas_registry", "civitas_gateway", "civitas_deployer", "civitas_kernel.log")

PROBE = """
import contextlib, io, json, sys
from civitas.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    status = main(sys.argv[1:])
print(json.dumps({"status": int(status), "help": out.getvalue(), "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("args", [["--help"], ["voter", "--help"], ["audit", "--help"], ["list", "--help"],
                                  ["log", "verify", "--help"], ["count", "show", "--help"]])
def test_help_imports_nothing_heavy(args):
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    probe = json.loads(done.stdout)
    assert probe["status"] == 0 and "Usage: civitas" in probe["help"]
    loaded = [m for m in probe["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
