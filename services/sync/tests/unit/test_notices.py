"""What the voters' pages are told of the network: only what this site receives can leave voters out of its lists
and counts, each cause said once, in words."""

from __future__ import annotations

from civitas_sync.domain.notices import counting_notices


def peer(site, pulled=True, failures=0, last_contact="2026-01-01T00:00:00Z", lag=0, error=None, streams=()):
    return {"site": site, "pulled": pulled, "failures": failures, "last_contact": last_contact, "lag": lag,
            "error": error, "streams": list(streams)}


def test_a_sender_behind_or_silent_is_said_and_a_receiver_behind_is_not():
    said = counting_notices("county.example", [
        peer("town.example", lag=7), peer("news.example", failures=3), peer("new.example", last_contact=None),
        peer("state.example", pulled=False, lag=40, failures=2), peer("ok.example")], [])
    assert said == [
        "This site is 7 events behind town.example: lists and counts here may be missing its latest voters until "
        "they arrive.",
        "news.example has not answered since 2026-01-01T00:00:00Z: lists and counts here may be missing voters it "
        "registered, trusted or saw vote since.",
        "new.example has not been reached yet: its voters are not in the lists and counts here yet."]


def test_a_key_mismatch_and_a_frozen_stream_of_another_origin_are_said_once():
    stream = {"stream": "city.example/trust",
              "error": "forged: the checkpoint is signed by another key than the site's"}
    evidence = [{"origin": "village.example", "stream": "trust", "seq": 12}] * 2 + [
        {"origin": "county.example", "stream": "vote", "seq": 3}]  # its own stream restored elsewhere: its counts stand
    said = counting_notices("county.example", [peer("city.example", lag=5, streams=[stream])], evidence)
    assert len(said) == 2
    assert said[0].startswith("village.example showed two different versions of its trust events (a split view): "
                              "what it sent from position 12 on is held back")
    assert said[1].startswith("city.example answers with another key than the one this site pinned for it")
