"""A live repository and a voter's clone of it, both real git repositories in a temporary directory."""

from __future__ import annotations

import pytest

from civitas_deployer.live_repo import LiveRepository

from .git_repos import T0, Clone


@pytest.fixture
def live(tmp_path) -> LiveRepository:
    return LiveRepository.open_or_create(tmp_path / "live.git", T0)


@pytest.fixture
def clone(live, tmp_path) -> Clone:
    return Clone(live.path, tmp_path / "clone")
