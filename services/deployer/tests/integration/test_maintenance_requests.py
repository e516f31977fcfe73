"""A request to run a maintenance action is checked when proposed or revised, before anyone votes; and a change that
would weaken the lock-out is judged as constitutional."""

from __future__ import annotations

import pytest

from civitas_deployer.domain.rules import RulesError

from ..sites import ALICE, patch_file
from .test_decisions import change, clock  # noqa: F401 - the change commands deciding as records, on a clock


def _propose(change, clone, tmp_path, files: dict[str, str], title: str = "Run"):
    path = patch_file(clone, tmp_path, title.replace(" ", "-"), files)
    return change.run(ALICE, ["propose", "--patch", path, "--title", title])


def _nothing_written(change, before: int, objects: set[str]) -> None:
    assert len(list(change.log.read("change"))) == before
    assert _objects(change) == objects  # the patch's objects stayed in quarantine


def _objects(change) -> set[str]:
    out = change.repo.git.out("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
    return set(out.split())


def test_a_request_naming_an_action_not_defined_is_refused_when_proposed(change, clone, tmp_path):
    before, objects = len(list(change.log.read("change"))), _objects(change)
    with pytest.raises(RulesError) as refused:
        _propose(change, clone, tmp_path, {"maintenance/runs/wipe.toml": 'action = "format-disk"\n'})
    said = str(refused.value)
    assert "format-disk" in said and "not in maintenance.toml" in said and "compile" in said  # and what there is
    _nothing_written(change, before, objects)


def test_a_revision_naming_an_action_not_defined_is_refused_and_the_proposal_stays(change, clone, tmp_path):
    made = _propose(change, clone, tmp_path, {"maintenance/runs/now.toml": 'action = "compile"\n'}).data
    before, objects = len(list(change.log.read("change"))), _objects(change)
    path = patch_file(clone, tmp_path, "worse", {"maintenance/runs/now.toml": 'action = "reboot"\n'})
    with pytest.raises(RulesError, match="reboot"):
        change.run(ALICE, ["revise", made["proposal"], "--patch", path])
    _nothing_written(change, before, objects)
    assert change.show(None, made["proposal"]).data["revision"] == 1


def test_a_request_for_a_built_in_this_site_does_not_offer_is_refused(change, clone, tmp_path):
    change.offered_builtins = frozenset({"compile", "vacuum"})
    before = len(list(change.log.read("change")))
    with pytest.raises(RulesError) as refused:
        _propose(change, clone, tmp_path, {"maintenance/runs/r.toml": 'action = "restart"\n'})
    assert "restart" in str(refused.value) and "does not offer" in str(refused.value)
    assert len(list(change.log.read("change"))) == before
    assert _propose(change, clone, tmp_path, {"maintenance/runs/c.toml": 'action = "compile"\n'}, "Compile").data


def test_a_request_that_is_not_toml_is_refused_with_what_to_write(change, clone, tmp_path):
    with pytest.raises(RulesError, match="not valid TOML"):
        _propose(change, clone, tmp_path, {"maintenance/runs/x.toml": "action = compile\n"})


LOCKOUT = ["charts/civitas/templates/lockdown.yaml", "charts/civitas/templates/_helpers.tpl",
           "charts/civitas/values.yaml", "kernel/src/civitas_kernel/lockdown.py",
           "kernel/src/civitas_kernel/lockdown_refusals.py", "src/civitas/cli/locked.py",
           "src/civitas/cli/lockdown_command.py", "services/deployer/src/civitas_deployer/maintenance.py",
           "services/deployer/pyproject.toml", "services/gateway/src/civitas_gateway/auth/guards.py"]


@pytest.mark.parametrize("path", LOCKOUT)
def test_a_change_to_the_lock_out_or_the_deployer_is_constitutional(change, clone, tmp_path, path):
    rules, _ = change.rules.at(change.repo.head())
    assert rules.is_constitutional(path)
    made = _propose(change, clone, tmp_path, {path: "# weakened\n"}, "Weaken").data
    assert made["closes_at_us"] - made["opens_at_us"] == 336 * 3600e6  # the constitutional vote, not the ordinary


def test_an_ordinary_change_stays_ordinary(change, clone, tmp_path):
    rules, _ = change.rules.at(change.repo.head())
    assert not rules.is_constitutional("site/about.md") and not rules.is_constitutional("charts/civitas/README.md")
