from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class SiteForked(_message.Message):
    __slots__ = ("parent", "parent_key", "heads", "live_commit")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PARENT_KEY_FIELD_NUMBER: _ClassVar[int]
    HEADS_FIELD_NUMBER: _ClassVar[int]
    LIVE_COMMIT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    parent_key: bytes
    heads: _containers.RepeatedScalarFieldContainer[bytes]
    live_commit: str
    def __init__(self, parent: _Optional[str] = ..., parent_key: _Optional[bytes] = ..., heads: _Optional[_Iterable[bytes]] = ..., live_commit: _Optional[str] = ...) -> None: ...

class InheritanceConfirmed(_message.Message):
    __slots__ = ("voter", "parent", "events")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    voter: str
    parent: str
    events: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, voter: _Optional[str] = ..., parent: _Optional[str] = ..., events: _Optional[_Iterable[bytes]] = ...) -> None: ...

class VoterMovedOut(_message.Message):
    __slots__ = ("voter", "to_site", "to_key", "moved_at_us", "events", "received")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    TO_SITE_FIELD_NUMBER: _ClassVar[int]
    TO_KEY_FIELD_NUMBER: _ClassVar[int]
    MOVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    voter: str
    to_site: str
    to_key: bytes
    moved_at_us: int
    events: _containers.RepeatedScalarFieldContainer[bytes]
    received: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, voter: _Optional[str] = ..., to_site: _Optional[str] = ..., to_key: _Optional[bytes] = ..., moved_at_us: _Optional[int] = ..., events: _Optional[_Iterable[bytes]] = ..., received: _Optional[_Iterable[bytes]] = ...) -> None: ...

class MoveAccepted(_message.Message):
    __slots__ = ("voter", "from_site")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    FROM_SITE_FIELD_NUMBER: _ClassVar[int]
    voter: str
    from_site: str
    def __init__(self, voter: _Optional[str] = ..., from_site: _Optional[str] = ...) -> None: ...

class VoterMovedIn(_message.Message):
    __slots__ = ("voter", "from_site", "from_key", "statement", "checkpoint", "carried", "moved_at_us")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    FROM_SITE_FIELD_NUMBER: _ClassVar[int]
    FROM_KEY_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CARRIED_FIELD_NUMBER: _ClassVar[int]
    MOVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    voter: str
    from_site: str
    from_key: bytes
    statement: bytes
    checkpoint: bytes
    carried: _containers.RepeatedScalarFieldContainer[bytes]
    moved_at_us: int
    def __init__(self, voter: _Optional[str] = ..., from_site: _Optional[str] = ..., from_key: _Optional[bytes] = ..., statement: _Optional[bytes] = ..., checkpoint: _Optional[bytes] = ..., carried: _Optional[_Iterable[bytes]] = ..., moved_at_us: _Optional[int] = ...) -> None: ...
