"""A package's names loaded on first use, so importing a light module never imports its heavy neighbours."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_names(package: str, homes: dict[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: a name in `homes` is imported from `package.HOME` when first asked for."""
    def load(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(package)
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        setattr(module, name, value)  # asked once: later lookups find it in the module itself
        return value

    return load
