"""Content hashes that name versions, posts, alternatives and paragraphs: anyone can recompute them."""

from __future__ import annotations

import hashlib

from google.protobuf.message import Message

from civitas_schema.v1 import draft_pb2

PERSONAL_PREFIX = "voter:"  # the id of a voter's own single-member group is "voter:" + their address


def _digest(prefix: bytes, data: bytes) -> str:
    return hashlib.sha256(prefix + data).hexdigest()


def paragraph_hash(text: str) -> str:
    return _digest(b"civitas/draft/paragraph/v1\n", text.encode("utf-8"))


def _body(message: Message) -> bytes:
    return message.SerializeToString(deterministic=True)


def version_hash(message: draft_pb2.DraftGroupVersioned) -> str:
    """A group version's id; the first version's is the group's id."""
    return _digest(b"civitas/draft/group-version/v1\n", _body(message))


def _without_texts(message: Message) -> bytes:
    # the texts only carry paragraphs not stored before, so the id must not depend on them
    copy = type(message)()
    copy.CopyFrom(message)
    copy.ClearField("texts")
    return _body(copy)


def post_id(message: draft_pb2.DraftPosted) -> str:
    return _digest(b"civitas/draft/post/v1\n", _without_texts(message))


def alternative_id(message: draft_pb2.DraftAmended) -> str:
    return _digest(b"civitas/draft/alternative/v1\n", _without_texts(message))


def personal_group_id(voter: str) -> str:
    return PERSONAL_PREFIX + voter


def is_hash(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
