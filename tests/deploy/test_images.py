"""What each image holds: the kernel, its service and what that service declares, never the site package or a
service it may not use; and a service installed the way the Dockerfile does it (deploy/install-service) runs alone."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What each service's image may hold of this repository's packages, by the layout's rules.
HOLDS = {
    "registry": {"civitas-kernel", "civitas-registry"},
    "polls": {"civitas-kernel", "civitas-polls"},
    "counter": {"civitas-kernel", "civitas-counter", "civitas-registry", "civitas-polls"},
    "gateway": {"civitas-kernel", "civitas-gateway", "civitas-registry", "civitas-polls", "civitas-counter"},
}
IGNORED = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """A copy of what the Dockerfile copies, so building wheels leaves nothing in the work tree."""
    root = tmp_path_factory.mktemp("image-src")
    for part in ("kernel", "services", "deploy"):
        shutil.copytree(REPO / part, root / part, ignore=IGNORED)
    shutil.copy(REPO / "constraints.txt", root)
    return root


def install_service(service: str, python: str, sources: Path, wheels: Path) -> None:
    subprocess.run(["sh", str(sources / "deploy" / "install-service"), service, str(wheels), str(sources)],
                   env={"PYTHON": python, "PATH": "/usr/bin:/bin", "HOME": str(wheels.parent)}, check=True, timeout=600)


def declared(distribution: str) -> set[str]:
    """The repository's distributions `distribution` needs, by the dependencies its pyproject.toml declares."""
    folder = {"civitas-kernel": REPO / "kernel"} | {f"civitas-{p.name}": p for p in (REPO / "services").iterdir()}
    needs, todo = set(), [distribution]
    while todo:
        name = todo.pop()
        needs.add(name)
        project = tomllib.loads((folder[name] / "pyproject.toml").read_text())["project"]
        own = {re.split(r"[\[=<>~! ]", d, maxsplit=1)[0] for d in project["dependencies"] if d.startswith("civitas-")}
        todo += sorted(own - needs)
    return needs


@pytest.mark.parametrize("service", sorted(HOLDS))
def test_an_image_holds_its_service_and_only_what_it_declares(service):
    assert declared(f"civitas-{service}") == HOLDS[service]


@pytest.mark.slow
def test_a_service_runs_alone_from_its_image_install(sources, tmp_path):
    """Installed for real into a fresh venv: it starts without the site package, and says what it lacks."""
    env_dir = tmp_path / "image"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    install_service("registry", python, sources, tmp_path / "wheels")
    assert subprocess.run([python, "-c", "import civitas"], capture_output=True).returncode != 0

    started = subprocess.run([python, "-m", "civitas_registry", "--help"], capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    assert "python -m civitas_registry" in started.stdout and "--port" in started.stdout
    refused = subprocess.run([python, "-m", "civitas_registry", "--port", "1"], capture_output=True, text=True,
                             timeout=60, env={"HOME": str(tmp_path), "CIVITAS_HOME": str(tmp_path / "home")})
    assert refused.returncode == 2 and "set CIVITAS_LOG_URL" in refused.stderr, refused.stderr


def test_a_service_module_loads_no_other_room_than_it_may():
    """In this (whole) environment too: importing a service's app loads only the packages its image holds."""
    for service, allowed in HOLDS.items():
        probe = (f"import sys, civitas_{service}.http; "
                 "print(' '.join(sorted({m.split('.')[0] for m in sys.modules if m.startswith('civitas')})))")
        loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
        assert {m.replace("_", "-") for m in loaded} - {"civitas-schema"} <= allowed, (service, loaded)
