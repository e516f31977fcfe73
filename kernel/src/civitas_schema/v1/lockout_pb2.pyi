from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class OperatorRefused(_message.Message):
    __slots__ = ("kind", "method", "route", "client", "at_us", "folded")
    KIND_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    FOLDED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    method: str
    route: str
    client: str
    at_us: int
    folded: int
    def __init__(self, kind: _Optional[str] = ..., method: _Optional[str] = ..., route: _Optional[str] = ..., client: _Optional[str] = ..., at_us: _Optional[int] = ..., folded: _Optional[int] = ...) -> None: ...
