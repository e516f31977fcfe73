"""The core tree stays a tree; peripheral links may loop; what flows where; pages; retries."""

import pytest

from civitas_sync.domain.flows import EventId, pulled, refusal, served
from civitas_sync.domain.pages import Fetch, page_of, page_span, plan
from civitas_sync.domain.peers import Network, Peer, TopologyError, attach, detach
from civitas_sync.domain.retries import retry_delay

KEY, OTHER = bytes(32), bytes([1]) * 32


def peer(site, role, key=KEY):
    return Peer(site, role, f"http://{site}:8000", key)


def test_a_second_super_site_is_refused():
    network = attach(Network("town.example"), peer("county.example", "super"))
    with pytest.raises(TopologyError, match="already has a super-site, county.example"):
        attach(network, peer("state.example", "super"))


def test_a_super_site_below_this_site_is_refused():
    network = attach(Network("county.example"), peer("town.example", "sub"))
    with pytest.raises(TopologyError, match="cycle"):
        attach(network, peer("village.example", "super"), descendants=frozenset({"town.example", "village.example"}))


def test_the_super_site_cannot_also_be_a_sub_site_nor_the_site_itself():
    network = attach(Network("town.example"), peer("county.example", "super"))
    with pytest.raises(TopologyError, match="already attached as super"):
        attach(network, Peer("county.example", "sub", "http://other:1", KEY))
    with pytest.raises(TopologyError, match="itself"):
        attach(network, peer("town.example", "sub"))


def test_peripheral_links_may_loop():
    a = attach(attach(Network("a.example"), peer("b.example", "source")), peer("c.example", "peripheral"))
    assert [p.site for p in a.peers] == ["b.example", "c.example"]  # b feeds a, a feeds c, c may feed b: harmless


def test_a_site_back_under_its_name_with_another_key_is_refused():
    with pytest.raises(TopologyError, match="another key"):
        attach(Network("a.example"), peer("b.example", "sub", OTHER), known_keys={"b.example": KEY})


def test_attach_is_idempotent_and_detach_names_the_peers():
    network = attach(Network("a.example"), peer("b.example", "sub"))
    assert attach(network, peer("b.example", "sub")) == network
    with pytest.raises(TopologyError, match="peers: b.example"):
        detach(network, "c.example")
    assert detach(network, "b.example").peers == ()


def test_bad_peer_fields_say_what_to_write():
    with pytest.raises(ValueError, match="role"):
        Peer("b.example", "boss", "http://b:1", KEY)
    with pytest.raises(ValueError, match="URL"):
        Peer("b.example", "sub", "ftp://b", KEY)
    with pytest.raises(ValueError, match="64 hex"):
        Peer("b.example", "sub", "http://b:1", b"short")


def test_doubt_never_flows_and_only_the_origin_seals_its_streams():
    assert not served("doubt") and served("trust")
    for role in ("sub", "source", "super", "peripheral"):
        assert not pulled(role, "a.example", "b.example", "doubt")
        assert not pulled(role, "a.example", "a.example", "trust")
    assert "doubt never leaves" in refusal("source", "a.example", "b.example", "doubt")


def test_upward_registration_and_trust_outward_the_public_input():
    assert pulled("sub", "county", "town", "trust") and pulled("sub", "county", "village", "registration")
    assert not pulled("sub", "county", "town", "vote")
    assert all(pulled("source", "p", "core", s) for s in ("registration", "trust", "poll", "vote", "change"))
    assert not pulled("source", "p", "core", "draft") and not served("draft")  # private groups' posts stay home
    assert not pulled("super", "town", "county", "trust") and not pulled("peripheral", "core", "p", "vote")


def test_an_event_is_the_same_wherever_it_travels():
    assert EventId("a", "vote", 3, b"h") == EventId("a", "vote", 3, b"h")
    assert len({EventId("a", "vote", 3, b"h"), EventId("a", "vote", 3, b"h"), EventId("a", "vote", 3, b"x")}) == 2


def test_pages_cut_a_stream_at_fixed_positions():
    assert page_of(1, 10) == 1 and page_of(10, 10) == 1 and page_of(11, 10) == 2
    assert page_span(3, 10) == (21, 30)


def test_a_new_link_starts_at_position_one_and_whole_pages_are_asked_whole():
    assert plan(0, 25, 10) == [Fetch(1, 0, 10, True), Fetch(2, 10, 20, True), Fetch(3, 20, 25, False)]


def test_a_resumed_link_asks_only_what_it_lacks():
    assert plan(13, 25, 10) == [Fetch(2, 13, 20, False), Fetch(3, 20, 25, False)]
    assert plan(25, 25, 10) == [] and plan(30, 25, 10) == []


def test_retries_back_off_exponentially_up_to_the_cap():
    assert [retry_delay(n, 2, 60) for n in range(0, 8)] == [0, 2, 4, 8, 16, 32, 60, 60]
    assert retry_delay(10_000, 2, 3600) == 3600
