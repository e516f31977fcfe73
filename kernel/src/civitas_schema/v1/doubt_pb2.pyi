from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DoubtRaised(_message.Message):
    __slots__ = ("doubter", "doubted", "reason")
    DOUBTER_FIELD_NUMBER: _ClassVar[int]
    DOUBTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    doubter: str
    doubted: str
    reason: str
    def __init__(self, doubter: _Optional[str] = ..., doubted: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DoubtWithdrawn(_message.Message):
    __slots__ = ("doubter", "doubted")
    DOUBTER_FIELD_NUMBER: _ClassVar[int]
    DOUBTED_FIELD_NUMBER: _ClassVar[int]
    doubter: str
    doubted: str
    def __init__(self, doubter: _Optional[str] = ..., doubted: _Optional[str] = ...) -> None: ...
