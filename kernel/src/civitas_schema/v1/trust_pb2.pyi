from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TrustExtended(_message.Message):
    __slots__ = ("truster", "trustee")
    TRUSTER_FIELD_NUMBER: _ClassVar[int]
    TRUSTEE_FIELD_NUMBER: _ClassVar[int]
    truster: str
    trustee: str
    def __init__(self, truster: _Optional[str] = ..., trustee: _Optional[str] = ...) -> None: ...

class TrustWithdrawn(_message.Message):
    __slots__ = ("truster", "trustee")
    TRUSTER_FIELD_NUMBER: _ClassVar[int]
    TRUSTEE_FIELD_NUMBER: _ClassVar[int]
    truster: str
    trustee: str
    def __init__(self, truster: _Optional[str] = ..., trustee: _Optional[str] = ...) -> None: ...

class PrimaryTrustExtended(_message.Message):
    __slots__ = ("voter", "edges")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    voter: str
    edges: int
    def __init__(self, voter: _Optional[str] = ..., edges: _Optional[int] = ...) -> None: ...

class PrimaryTrustWithdrawn(_message.Message):
    __slots__ = ("voter",)
    VOTER_FIELD_NUMBER: _ClassVar[int]
    voter: str
    def __init__(self, voter: _Optional[str] = ...) -> None: ...
