from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class MaintenanceStarted(_message.Message):
    __slots__ = ("decision", "proposal", "content_hash", "request", "action", "runs")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    decision: int
    proposal: str
    content_hash: str
    request: str
    action: str
    runs: str
    def __init__(self, decision: _Optional[int] = ..., proposal: _Optional[str] = ..., content_hash: _Optional[str] = ..., request: _Optional[str] = ..., action: _Optional[str] = ..., runs: _Optional[str] = ...) -> None: ...

class MaintenanceFinished(_message.Message):
    __slots__ = ("decision", "request", "exit_code", "output", "took_ms")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    TOOK_MS_FIELD_NUMBER: _ClassVar[int]
    decision: int
    request: str
    exit_code: int
    output: str
    took_ms: int
    def __init__(self, decision: _Optional[int] = ..., request: _Optional[str] = ..., exit_code: _Optional[int] = ..., output: _Optional[str] = ..., took_ms: _Optional[int] = ...) -> None: ...

class MaintenanceInterrupted(_message.Message):
    __slots__ = ("decision", "request")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    decision: int
    request: str
    def __init__(self, decision: _Optional[int] = ..., request: _Optional[str] = ...) -> None: ...
