"""What a release commits to the GitOps repository: its images by digest only, and the values before carried over."""

from __future__ import annotations

import pytest

from civitas_deployer.gitops.values import BadImages, deployer_values, images_of, release_values

DIGEST = "ghcr.io/town/civitas-gateway@sha256:" + "ab" * 32


def tree_with(tmp_path, text: str | None):
    if text is not None:
        (tmp_path / "deploy").mkdir(parents=True)
        (tmp_path / "deploy" / "images.toml").write_text(text)
    return tmp_path


def test_images_by_digest_are_taken_and_none_named_is_none(tmp_path):
    assert images_of(tree_with(tmp_path, f'[images]\ngateway = "{DIGEST}"\n')) == {"gateway": DIGEST}
    assert images_of(tree_with(tmp_path / "d", f'[images]\ndeployer = "{DIGEST}"\n')) == {"deployer": DIGEST}
    assert images_of(tree_with(tmp_path / "none", None)) == {}


@pytest.mark.parametrize("text, says", [
    ('[images]\ngateway = "ghcr.io/town/civitas-gateway:1.2"\n', "never a tag"),
    (f'[images]\ngateway = "{DIGEST[:-1]}"\n', "not an image by digest"),
    (f'[images]\nmayor = "{DIGEST}"\n', "'mayor' is not a service"),
    (f'[images]\ndeployer = "{DIGEST[:-2]}"\n', "deployer = .* is not an image by digest"),
    ("[images\n", "is not TOML"),
    ('images = "all"\n', "must be a table"),
])
def test_anything_but_a_digest_of_a_known_service_is_refused_saying_what_to_write(tmp_path, text, says):
    with pytest.raises(BadImages, match=says):
        images_of(tree_with(tmp_path, text))


def test_the_values_before_are_kept_and_only_the_release_and_named_images_change():
    before = {"release": {"commit": "a" * 40, "decision": "decision 1"},
              "services": {"gateway": {"image": "old@sha256:" + "0" * 64}, "polls": {"image": "p@sha256:" + "1" * 64}}}
    after = release_values(before, "b" * 40, "decision 2", {"gateway": DIGEST})
    assert after == {"release": {"commit": "b" * 40, "decision": "decision 2"},
                     "services": {"gateway": {"image": DIGEST}, "polls": {"image": "p@sha256:" + "1" * 64}}}
    assert before["release"]["commit"] == "a" * 40  # not changed in place
    assert release_values(None, "c" * 40, "decision 3", {}) == {"release": {"commit": "c" * 40,
                                                                            "decision": "decision 3"}, "services": {}}
    fetched = release_values(after, "d" * 40, "decision 4", {}, "ghcr.io/town/civitas-deployer@sha256:" + "2" * 64)
    assert fetched["siteFiles"] == {"image": "ghcr.io/town/civitas-deployer@sha256:" + "2" * 64}


def test_the_deployers_own_values_name_a_candidate_beside_it_then_the_candidate_as_the_deployer():
    old, new = "d@sha256:" + "0" * 64, "d@sha256:" + "1" * 64
    running = {"deployer": {"image": old, "commit": "a" * 40}}
    proving = deployer_values(running, "b" * 40, new, candidate=True)
    assert proving == {"deployer": {"image": old, "commit": "a" * 40,
                                    "candidate": {"image": new, "commit": "b" * 40}}}
    assert deployer_values(proving, "b" * 40, new, candidate=False) == {"deployer": {"image": new, "commit": "b" * 40}}
    assert running == {"deployer": {"image": old, "commit": "a" * 40}}  # not changed in place
    # before any handover the operator's image runs: the candidate alone is named
    assert deployer_values(None, "b" * 40, new, candidate=True) == {
        "deployer": {"candidate": {"image": new, "commit": "b" * 40}}}
