"""The drafts service's settings, as an operator sets them in the environment (CIVITAS_*)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from civitas_drafts.domain.posts import MAX_POST_BYTES
from civitas_drafts.settings import DraftsSettings


def test_the_query_limits_and_post_size_come_from_the_environment(monkeypatch):
    for name, value in {"QUERY_DEADLINE_S": "0.5", "QUERY_MAX_ROWS": "20", "QUERY_MAX_ANSWER_BYTES": "5000",
                        "QUERY_READY_COPIES": "0", "POST_MAX_BYTES": "2000", "QUERY_AT_ONCE": "3"}.items():
        monkeypatch.setenv(f"CIVITAS_{name}", value)
    settings = DraftsSettings()
    limits = settings.query_limits()
    assert (limits.deadline_s, limits.max_rows, limits.max_answer_bytes) == (0.5, 20, 5000)
    assert settings.drafts_options()["max_post_bytes"] == 2000 and settings.drafts_options()["ready_copies"] == 0
    assert settings.QUERY_AT_ONCE == 3


@pytest.mark.parametrize("name, value", [("QUERY_DEADLINE_S", "0"), ("QUERY_MAX_ROWS", "0"),
                                         ("POST_MAX_BYTES", str(MAX_POST_BYTES + 1)), ("QUERY_AT_ONCE", "0")])
def test_a_setting_out_of_range_is_refused_and_named(monkeypatch, name, value):
    monkeypatch.setenv(f"CIVITAS_{name}", value)
    with pytest.raises(ValidationError, match=name):
        DraftsSettings()
