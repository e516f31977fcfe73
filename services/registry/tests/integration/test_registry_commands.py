"""The register's commands through `run`, on every log backend: what voters type and what the log keeps."""

from __future__ import annotations

import pytest

from civitas_kernel.commands import CommandError, ForbiddenError, KeyReusedError
from civitas_kernel.voter_list import VoterEntry, VoterList, decode_voter_list
from civitas_registry import REGISTER_STREAMS, ListConfig, RegistryCommands, compile_voter_list

A, B, C = "a@x.org", "b@x.org", "c@x.org"


@pytest.fixture
def log(make_log):
    return make_log()


@pytest.fixture
def registry(log):
    return RegistryCommands(log)


def heads(log) -> dict[str, int]:
    return {stream: log.head(stream).seq for stream in REGISTER_STREAMS}


def test_set_and_unset_show_the_old_and_new_value(registry, log):
    reply = registry.run("A@X.org", ["set", "name", "Alice", "  Smith"])
    assert reply.text == "name: (none) -> Alice Smith"
    assert reply.data == {"voter": A, "attribute": "name", "before": None, "after": "Alice Smith", "changed": True}
    assert registry.run(A, ["set", "name", "Alice", "B."]).text == "name: Alice Smith -> Alice B."
    assert registry.run(A, ["unset", "name"]).text == "name: Alice B. -> (none)"
    registry.run(A, ["set", "residence", "1", "Elm", "St,", "Springfield", "90210"])
    assert registry.attributes("a@x.ORG") == {"residence": "1 Elm St, Springfield 90210"}
    assert [(e.type, e.actor) for e in log.read("registration")][0] == ("civitas.v1.AttributeSet", A)
    assert heads(log) == {"registration": 4, "trust": 0, "doubt": 0}


def test_trust_untrust_and_listing(registry, log):
    assert registry.run(A, ["trust", "B@x.org"]).text == "you trust b@x.org"
    reply = registry.run(A, ["trust", B])
    assert "already" in reply.text and reply.data["changed"] is False
    registry.run(A, ["trust", C])
    assert registry.run(A, ["trust"]).data == {"voter": A, "trusts": [B, C]}
    assert registry.run(B, ["trust", "--alter", A]).text == "a@x.org trusts 2:\n  b@x.org\n  c@x.org"
    assert registry.run(B, ["trust"]).text == "you trust nobody"
    assert registry.run(A, ["untrust", B]).text == "you no longer trust b@x.org"
    assert "did not trust" in registry.run(A, ["untrust", B]).text
    assert registry.trusted_by(A) == [C]
    assert heads(log)["trust"] == 3  # trust B, trust C, untrust B: the repeats wrote nothing


def test_doubt_with_a_reason_and_listing(registry, log):
    assert registry.run(A, ["doubt", B, "never", "met", "them"]).text == "you doubt b@x.org: never met them"
    registry.run(A, ["doubt", C])
    assert registry.doubts_by(A) == [(B, "never met them"), (C, "")]
    assert registry.run(C, ["doubt", "--alter", A]).data["doubts"] == [
        {"doubted": B, "reason": "never met them"}, {"doubted": C, "reason": ""}]
    registry.run(A, ["undoubt", B])
    assert registry.doubts_by(A) == [(C, "")]
    assert heads(log)["doubt"] == 3


def test_hello_help_and_command_help(registry):
    assert registry.run(A, ["hello"]).text.startswith("hello a@x.org")
    text = registry.run(A, ["help"]).text
    assert all(command in text for command in ("set", "unset", "trust", "untrust", "doubt", "undoubt"))
    assert registry.run(A, ["trust", "--help"]).text.startswith("trust VOTER")
    assert registry.run(A, []).data == registry.run(A, ["help"]).data


@pytest.mark.parametrize("args, words", [
    (["shout"], "no command 'shout'"),
    (["set", "shoe", "9"], "no attribute 'shoe'"),
    (["set", "name"], "write `set"),
    (["unset"], "write `unset"),
    (["set", "link", "not", "a", "link"], "https://example.org/me"),
    (["set", "name", "x" * 101], "at most 100"),
    (["set", "note", "a\tb"], "one line"),
    (["trust", "not-an-address"], "alice@example.org"),
    (["trust", A], "yourself"),
    (["trust", B, C], "write `trust VOTER`"),
    (["doubt", "x" * 20], "alice@example.org"),
    (["doubt", B, "x" * 501], "at most 500"),
    (["untrust"], "write `untrust VOTER`"),
    (["hello", "there"], "takes no arguments"),
    (["set", "--alter"], "--alter VOTER"),
])
def test_mistakes_are_refused_and_nothing_is_written(registry, log, args, words):
    with pytest.raises(CommandError, match=words.replace("[", r"\[")):
        registry.run(A, args)
    assert heads(log) == {"registration": 0, "trust": 0, "doubt": 0}


def test_a_malformed_voter_is_refused(registry):
    with pytest.raises(CommandError, match="alice@example.org"):
        registry.run("nobody", ["hello"])


def test_a_retried_command_with_the_same_key_appends_once(registry, log):
    first = registry.run(A, ["trust", B], idempotency_key="k-1")
    again = registry.run(A, ["trust", B], idempotency_key="k-1")
    assert first.data["changed"] and again == first
    registry.run(A, ["set", "name", "Al"], idempotency_key="k-2")
    assert registry.run(A, ["set", "name", "Al"], idempotency_key="k-2").text == "name: (none) -> Al"
    assert heads(log) == {"registration": 1, "trust": 1, "doubt": 0}


def test_keys_are_each_callers_own_and_stand_for_one_request(registry, log):
    registry.run(A, ["trust", B], idempotency_key="k-1")
    assert registry.run(C, ["trust", B], idempotency_key="k-1").data == {
        "truster": C, "trustee": B, "trusts": True, "changed": True}
    with pytest.raises(KeyReusedError, match="idempotency key 'k-1'"):
        registry.run(A, ["untrust", B], idempotency_key="k-1")
    assert registry.trusted_by(A) == [B] and heads(log) == {"registration": 0, "trust": 2, "doubt": 0}


def test_two_writers_on_one_log_decide_again_when_the_other_got_there_first(log):
    first, second = RegistryCommands(log), RegistryCommands(log)
    first.catch_up(), second.catch_up()
    first.run(A, ["trust", B])  # second has not seen this
    second.run(C, ["trust", B])  # decided at position 0, appended at 1 after catching up
    assert [(e.seq, e.actor) for e in log.read("trust")] == [(1, A), (2, C)]
    assert second.trusted_by(A) == [B]
    first.run(A, ["set", "name", "Al"])
    reply = second.run(A, ["set", "name", "Alice"])  # stale state said (none); the retry saw Al
    assert reply.text == "name: Al -> Alice"
    assert second.run(A, ["trust", B]).data["changed"] is False  # not a second edge after catching up
    assert log.head("trust").seq == 2


def test_registrar_sets_and_withdraws_primary_edges(registry, log):
    assert registry.registrar_trust("A@x.org", 2).text == "primary trust in a@x.org: 0 -> 2 edges"
    assert registry.registrar_trust(A, 3).data == {"voter": A, "before": 2, "edges": 3, "changed": True}
    assert registry.registrar_untrust(A).text == "primary trust in a@x.org: 3 -> 0 edges"
    assert registry.registrar_untrust(A).data["changed"] is False
    with pytest.raises(CommandError, match="1 to 1000"):
        registry.registrar_trust(A, 0)
    assert [e.actor for e in log.read("trust")] == ["registrar"] * 3


def reported(*entries: VoterEntry):
    voter_list = VoterList(list(entries))
    return lambda: voter_list


@pytest.mark.parametrize("minimum, reported_list, allowed", [
    (0, lambda: None, True),
    (1, lambda: None, False),
    (1, reported(VoterEntry(B, 1)), True),
    (2, reported(VoterEntry(B, 1)), False),
    (1, reported(VoterEntry(C, 5)), False),  # B is absent from the list: level 0
    (0, reported(VoterEntry(C, 5)), True),
])
def test_alter_pre_registers_only_with_the_sites_minimum_level(log, minimum, reported_list, allowed):
    registry = RegistryCommands(log, ListConfig(pre_registration_min=minimum), reported_list=reported_list)
    if allowed:
        assert registry.run(B, ["set", "--alter", A, "name", "Alice"]).text == "a@x.org name: (none) -> Alice"
        assert registry.attributes(A) == {"name": "Alice"}
        assert [e.actor for e in log.read("registration")] == [B]
    else:
        with pytest.raises(ForbiddenError, match=f"trust level {minimum}"):
            registry.run(B, ["set", "--alter", A, "name", "Alice"])
        assert log.head("registration").seq == 0


def test_alter_stops_once_the_registrant_sets_their_own(registry, log):
    registry.run(B, ["set", "--alter", A, "name", "Alice"])
    registry.run(B, ["unset", "--alter", A, "name"])
    registry.run(A, ["set", "note", "mine now"])
    with pytest.raises(ForbiddenError, match="only they can change them"):
        registry.run(B, ["set", "--alter", A, "name", "Mallory"])
    assert registry.attributes(A) == {"note": "mine now"}
    assert log.head("registration").seq == 3


def test_a_list_compiled_from_the_log_reflects_the_commands(registry, log):
    registry.run(A, ["set", "residence", "1 Elm St, Springfield 90210"])
    registry.run(B, ["set", "residence", "2 Elm St, Springfield 90210"])
    registry.registrar_trust(A, 2)
    registry.run(A, ["trust", B])
    registry.run(B, ["doubt", C, "unknown"])
    cut = [e for stream in REGISTER_STREAMS for e in log.read(stream)]
    result = compile_voter_list(cut, ListConfig())
    assert compile_voter_list(cut, ListConfig()) == result
    voters = decode_voter_list(result)
    assert [(e.voter, e.trust_level, e.doubts, e.bar) for e in voters.entries] == [
        (A, 2, 0, ""), (B, 1, 0, ""), (C, 0, 1, "no residence given")]
    assert registry.registrants() == [A, B, C]


def test_a_new_registry_on_the_same_log_rebuilds_the_same_state(registry, log):
    registry.run(A, ["set", "name", "Alice"])
    registry.run(A, ["trust", B])
    registry.run(A, ["doubt", C, "hm"])
    fresh = RegistryCommands(log)
    fresh.catch_up()
    assert fresh.state == registry.state


def test_help_is_asked_before_a_value_and_is_a_word_inside_one(registry, log):
    assert registry.run(A, ["set", "--help"]).text.startswith("set [--alter VOTER]")
    assert registry.run(A, ["set", "--alter", B, "--help"]).data["command"] == "set"
    assert registry.run(A, ["doubt", "--help"]).data["command"] == "doubt"
    assert registry.run(A, ["set", "note", "type", "--help", "for", "help"]).text == "note: (none) -> type --help for help"
    assert log.head("registration").seq == 1


def test_setting_the_same_value_again_says_so_and_writes_nothing(registry, log):
    registry.run(A, ["set", "name", "Alice"])
    reply = registry.run(A, ["set", "name", "Alice"])
    assert reply.text == "name: Alice -> Alice (unchanged)" and reply.data["changed"] is False
    assert log.head("registration").seq == 1


def test_reads_for_the_api_name_voters_by_normalised_address(registry):
    registry.run(A, ["doubt", B, "never", "met"])
    registry.run(C, ["trust", A])
    assert registry.doubted_by("A@X.ORG") == [(B, "never met")]
    assert registry.trusted_by(" c@x.org ") == [A]
    assert registry.attributes(C) == {}
    assert registry.registrants() == [A, B, C]
