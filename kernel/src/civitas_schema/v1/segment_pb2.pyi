from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StreamRange(_message.Message):
    __slots__ = ("stream", "first_seq", "last_seq", "anchor_hash")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_HASH_FIELD_NUMBER: _ClassVar[int]
    stream: str
    first_seq: int
    last_seq: int
    anchor_hash: bytes
    def __init__(self, stream: _Optional[str] = ..., first_seq: _Optional[int] = ..., last_seq: _Optional[int] = ..., anchor_hash: _Optional[bytes] = ...) -> None: ...

class SegmentHeader(_message.Message):
    __slots__ = ("format", "site", "public_key", "ranges", "exported_at_us")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    EXPORTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    format: str
    site: str
    public_key: bytes
    ranges: _containers.RepeatedCompositeFieldContainer[StreamRange]
    exported_at_us: int
    def __init__(self, format: _Optional[str] = ..., site: _Optional[str] = ..., public_key: _Optional[bytes] = ..., ranges: _Optional[_Iterable[_Union[StreamRange, _Mapping]]] = ..., exported_at_us: _Optional[int] = ...) -> None: ...

class SegmentTrailer(_message.Message):
    __slots__ = ("event_count", "digest")
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    event_count: int
    digest: bytes
    def __init__(self, event_count: _Optional[int] = ..., digest: _Optional[bytes] = ...) -> None: ...
