from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PollKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLL_KIND_UNSPECIFIED: _ClassVar[PollKind]
    POLL_KIND_ELECTORAL: _ClassVar[PollKind]
    POLL_KIND_NORMATIVE: _ClassVar[PollKind]
POLL_KIND_UNSPECIFIED: PollKind
POLL_KIND_ELECTORAL: PollKind
POLL_KIND_NORMATIVE: PollKind

class PollConfigured(_message.Message):
    __slots__ = ("name", "title", "kind", "district", "min_trust", "opens_at_us", "closes_at_us")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISTRICT_FIELD_NUMBER: _ClassVar[int]
    MIN_TRUST_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_US_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_US_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    kind: PollKind
    district: str
    min_trust: int
    opens_at_us: int
    closes_at_us: int
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[_Union[PollKind, str]] = ..., district: _Optional[str] = ..., min_trust: _Optional[int] = ..., opens_at_us: _Optional[int] = ..., closes_at_us: _Optional[int] = ...) -> None: ...
