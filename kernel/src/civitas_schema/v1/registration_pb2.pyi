from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AttributeSet(_message.Message):
    __slots__ = ("voter", "attribute", "value")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    voter: str
    attribute: str
    value: str
    def __init__(self, voter: _Optional[str] = ..., attribute: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class AttributeUnset(_message.Message):
    __slots__ = ("voter", "attribute")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    voter: str
    attribute: str
    def __init__(self, voter: _Optional[str] = ..., attribute: _Optional[str] = ...) -> None: ...
