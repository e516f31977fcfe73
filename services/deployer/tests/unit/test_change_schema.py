"""The change stream's bodies are known to the log's decoder, as every stream's are."""

from civitas_kernel.events import NewEvent, decode_body
from civitas_schema.v1 import change_pb2


def test_every_change_body_round_trips_through_the_decoder():
    revision = change_pb2.ChangeRevision(number=2, base_commit="b" * 40, changed_paths=["a", "b"],
                                         content_hash="c" * 64)
    bodies = [
        change_pb2.ProposalProposed(proposal="1", proposer="alice@example.org", revision=revision),
        change_pb2.ProposalRevised(proposal="1", revision=revision),
        change_pb2.ProposalWithdrawn(proposal="1", content_hash="c" * 64),
        change_pb2.ChangeVoteCast(proposal="1", voter="bob@example.org", content_hash="c" * 64,
                                  choice=change_pb2.CHOICE_ABSTAIN),
        change_pb2.ChangeVoteWithdrawn(proposal="1", voter="bob@example.org", content_hash="c" * 64),
        change_pb2.DelegationSet(voter="bob@example.org", scope="*", delegates=["a@x.org", "b@x.org"]),
        change_pb2.DelegationSet(voter="bob@example.org", scope="pages", none=True),
        change_pb2.DelegationCleared(voter="bob@example.org", scope="pages"),
    ]
    for body in bodies:
        event = NewEvent.of(body, "bob@example.org")
        assert decode_body(event.type, event.body) == body
