"""The rooms' import rules, read from every module's source (ast), so a forbidden edge fails here, not in a container.

- No service and nothing in the kernel imports the site package (`civitas`); the kernel imports no service.
- A service imports another service only where the layout allows it (the gateway: registry, polls, counter; the
  counter: registry, polls), and then only names that service's package exports (`__all__` of its `__init__`).
- A service's `domain/` is pure: no I/O, clock or randomness, no framework or database, no adapter of its own.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src" / f"civitas_{p.name}").is_dir())
MAY_USE = {"gateway": {"registry", "polls", "counter"}, "counter": {"registry", "polls"}}
# What a pure rule never needs: I/O, clocks, randomness, processes, frameworks, databases, brokers.
IMPURE_MODULES = {
    "os", "sys", "io", "time", "random", "secrets", "uuid", "socket", "subprocess", "pathlib", "shutil", "tempfile",
    "sqlite3", "threading", "multiprocessing", "asyncio", "logging", "urllib.request", "http", "requests",
    "fastapi", "starlette", "pydantic_settings", "sqlalchemy", "psycopg", "aiokafka", "httpx", "aiohttp", "uvicorn",
    "civitas_kernel.service", "civitas_kernel.sql", "civitas_kernel.kafka", "civitas_kernel.log",
    "civitas_kernel.records", "civitas_kernel.segment", "civitas_kernel.settings", "civitas_kernel.telemetry",
    "civitas_kernel.application", "civitas_kernel.testing",
}


@dataclass(frozen=True)
class Edge:
    source: Path
    line: int
    module: str  # what is imported, absolute
    names: tuple[str, ...]  # for `from module import a, b`; empty for `import module`

    def __str__(self) -> str:
        what = f"from {self.module} import {', '.join(self.names)}" if self.names else f"import {self.module}"
        return f"{self.source.name}:{self.line}: {what}"


def module_name(path: Path) -> str:
    """services/polls/src/civitas_polls/domain/votes.py -> civitas_polls.domain.votes."""
    src = next(parent for parent in path.parents if parent.name == "src")
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def edges_of(path: Path) -> list[Edge]:
    """Every import of the module at `path`, top level or inside a function, relative ones made absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Edge(path, node.lineno, alias.name, ()) for alias in node.names]
        # `from . import x` in package a.b is a.b; `from ..c import x` in module a.b.m is a.c
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.append(Edge(path, node.lineno, module, tuple(alias.name for alias in node.names)))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def within(module: str, prefixes: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def exported(service: str, root: Path) -> set[str]:
    """The names a service's package exports: its `__all__`, read from the source."""
    init = root / "services" / service / "src" / f"civitas_{service}" / "__init__.py"
    if not init.exists():
        return set()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def modules_of(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not p.name.endswith("_pb2.py"))


def kernel_modules() -> list[Path]:
    return modules_of(ROOT / "kernel" / "src")


def service_modules(service: str, root: Path = ROOT) -> list[Path]:
    return modules_of(root / "services" / service / "src" / f"civitas_{service}")


def forbidden_edges(service: str | None, paths: list[Path], root: Path = ROOT) -> list[str]:
    """service None: the kernel's modules."""
    bad = []
    for edge in (e for p in paths for e in edges_of(p)):
        room = top(edge.module)
        if room == "civitas":
            bad.append(f"{edge}  (the site package is the composition root: nothing below it imports it)")
        elif room.startswith("civitas_") and room not in ("civitas_kernel", "civitas_schema"):
            other = room.removeprefix("civitas_")
            if service is None:
                bad.append(f"{edge}  (the kernel imports no service)")
            elif other != service and other not in MAY_USE.get(service, set()):
                bad.append(f"{edge}  ({service} may not use the {other} service)")
            elif other != service and (edge.module != room or not set(edge.names) <= exported(other, root)):
                bad.append(f"{edge}  (only the names civitas_{other} exports in __all__: {sorted(exported(other, root))})")
    return bad


def impure_edges(service: str, root: Path = ROOT) -> list[str]:
    domain = root / "services" / service / "src" / f"civitas_{service}" / "domain"
    own_adapters = f"civitas_{service}"
    bad = []
    for edge in (e for p in modules_of(domain) for e in edges_of(p)):
        if within(edge.module, IMPURE_MODULES):
            bad.append(f"{edge}  (a domain does no I/O, reads no clock, draws no random number)")
        elif top(edge.module) == own_adapters and not within(edge.module, {f"{own_adapters}.domain"}):
            bad.append(f"{edge}  (a domain never imports its service's adapters)")
    return bad


def test_the_kernel_imports_neither_the_site_nor_a_service():
    assert forbidden_edges(None, kernel_modules()) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_only_what_the_layout_allows(service):
    assert forbidden_edges(service, service_modules(service)) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_domain_is_pure(service):
    assert impure_edges(service) == []


def test_the_rules_catch_what_they_forbid(tmp_path):
    """A tree with each forbidden edge, checked by the same functions: every one is named, and nothing else."""

    def write(relative: str, text: str) -> None:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    polls, counter = "services/polls/src/civitas_polls", "services/counter/src/civitas_counter"
    write(f"{polls}/__init__.py", '__all__ = ["PollCommands"]\n')
    write(f"{polls}/domain/__init__.py", "")
    write(f"{polls}/domain/rules.py", "import time\nfrom ..http import app\nfrom civitas_polls.commands import X\n"
                                      "from civitas_kernel.events import RecordedEvent\n")
    write(f"{polls}/http.py", "from civitas.site import Site\nfrom civitas_counter.records import record_store\n"
                              "def later():\n    from civitas_gateway import create_app\n")
    write(f"{counter}/__init__.py", '__all__ = ["compile_count"]\n')
    write(f"{counter}/http.py", "from civitas_registry.domain.trust import levels\nfrom civitas_polls import secret\n"
                                "from civitas_polls import PollCommands\n")

    def what(lines: list[str]) -> list[str]:
        return [line.split("  (")[0].split(": ", 1)[1] for line in lines]

    assert what(forbidden_edges("polls", service_modules("polls", tmp_path), tmp_path)) == [
        "from civitas.site import Site", "from civitas_counter.records import record_store",
        "from civitas_gateway import create_app"]
    assert what(forbidden_edges("counter", service_modules("counter", tmp_path), tmp_path)) == [
        "from civitas_registry.domain.trust import levels", "from civitas_polls import secret"]
    assert what(impure_edges("polls", tmp_path)) == [
        "import time", "from civitas_polls.http import app", "from civitas_polls.commands import X"]
