from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DeploymentStarted(_message.Message):
    __slots__ = ("deployment", "decision", "proposal", "revision", "content_hash", "diff_hash", "base", "commit", "previous", "previous_release", "rebased_from", "kind", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    DIFF_HASH_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RELEASE_FIELD_NUMBER: _ClassVar[int]
    REBASED_FROM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    decision: str
    proposal: str
    revision: int
    content_hash: str
    diff_hash: str
    base: str
    commit: str
    previous: str
    previous_release: str
    rebased_from: str
    kind: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., decision: _Optional[str] = ..., proposal: _Optional[str] = ..., revision: _Optional[int] = ..., content_hash: _Optional[str] = ..., diff_hash: _Optional[str] = ..., base: _Optional[str] = ..., commit: _Optional[str] = ..., previous: _Optional[str] = ..., previous_release: _Optional[str] = ..., rebased_from: _Optional[str] = ..., kind: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentPhase(_message.Message):
    __slots__ = ("deployment", "phase", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    phase: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., phase: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentApplied(_message.Message):
    __slots__ = ("deployment", "commit", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    commit: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., commit: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentFailed(_message.Message):
    __slots__ = ("deployment", "phase", "reason", "log_tail", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    phase: str
    reason: str
    log_tail: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., phase: _Optional[str] = ..., reason: _Optional[str] = ..., log_tail: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentRolledBack(_message.Message):
    __slots__ = ("deployment", "revert", "release", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    REVERT_FIELD_NUMBER: _ClassVar[int]
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    revert: str
    release: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., revert: _Optional[str] = ..., release: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentRefused(_message.Message):
    __slots__ = ("deployment", "decision", "proposal", "revision", "content_hash", "base", "reason", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    BASE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    decision: str
    proposal: str
    revision: int
    content_hash: str
    base: str
    reason: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., decision: _Optional[str] = ..., proposal: _Optional[str] = ..., revision: _Optional[int] = ..., content_hash: _Optional[str] = ..., base: _Optional[str] = ..., reason: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentsPaused(_message.Message):
    __slots__ = ("decision", "request", "at_us")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    decision: str
    request: str
    at_us: int
    def __init__(self, decision: _Optional[str] = ..., request: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentsResumed(_message.Message):
    __slots__ = ("decision", "request", "at_us")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    decision: str
    request: str
    at_us: int
    def __init__(self, decision: _Optional[str] = ..., request: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...

class DeploymentReverted(_message.Message):
    __slots__ = ("deployment", "decision", "request", "revert", "release", "main", "at_us")
    DEPLOYMENT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    REVERT_FIELD_NUMBER: _ClassVar[int]
    RELEASE_FIELD_NUMBER: _ClassVar[int]
    MAIN_FIELD_NUMBER: _ClassVar[int]
    AT_US_FIELD_NUMBER: _ClassVar[int]
    deployment: str
    decision: str
    request: str
    revert: str
    release: str
    main: str
    at_us: int
    def __init__(self, deployment: _Optional[str] = ..., decision: _Optional[str] = ..., request: _Optional[str] = ..., revert: _Optional[str] = ..., release: _Optional[str] = ..., main: _Optional[str] = ..., at_us: _Optional[int] = ...) -> None: ...
