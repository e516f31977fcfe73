from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("site", "stream", "seq", "event_id", "type", "actor", "recorded_at_us", "body", "prev_hash")
    SITE_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_US_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    site: str
    stream: str
    seq: int
    event_id: str
    type: str
    actor: str
    recorded_at_us: int
    body: bytes
    prev_hash: bytes
    def __init__(self, site: _Optional[str] = ..., stream: _Optional[str] = ..., seq: _Optional[int] = ..., event_id: _Optional[str] = ..., type: _Optional[str] = ..., actor: _Optional[str] = ..., recorded_at_us: _Optional[int] = ..., body: _Optional[bytes] = ..., prev_hash: _Optional[bytes] = ...) -> None: ...

class SealedEvent(_message.Message):
    __slots__ = ("envelope", "hash")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    hash: bytes
    def __init__(self, envelope: _Optional[bytes] = ..., hash: _Optional[bytes] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("site", "stream", "seq", "head_hash", "signed_at_us", "public_key")
    SITE_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_US_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    site: str
    stream: str
    seq: int
    head_hash: bytes
    signed_at_us: int
    public_key: bytes
    def __init__(self, site: _Optional[str] = ..., stream: _Optional[str] = ..., seq: _Optional[int] = ..., head_hash: _Optional[bytes] = ..., signed_at_us: _Optional[int] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class SignedCheckpoint(_message.Message):
    __slots__ = ("checkpoint", "signature")
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    checkpoint: bytes
    signature: bytes
    def __init__(self, checkpoint: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...
