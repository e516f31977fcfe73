from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class VoteCast(_message.Message):
    __slots__ = ("poll", "voter", "candidate")
    POLL_FIELD_NUMBER: _ClassVar[int]
    VOTER_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    poll: str
    voter: str
    candidate: str
    def __init__(self, poll: _Optional[str] = ..., voter: _Optional[str] = ..., candidate: _Optional[str] = ...) -> None: ...

class VoteWithdrawn(_message.Message):
    __slots__ = ("poll", "voter")
    POLL_FIELD_NUMBER: _ClassVar[int]
    VOTER_FIELD_NUMBER: _ClassVar[int]
    poll: str
    voter: str
    def __init__(self, poll: _Optional[str] = ..., voter: _Optional[str] = ...) -> None: ...
