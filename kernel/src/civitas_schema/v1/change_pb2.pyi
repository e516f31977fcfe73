from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Choice(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHOICE_UNSPECIFIED: _ClassVar[Choice]
    CHOICE_YES: _ClassVar[Choice]
    CHOICE_NO: _ClassVar[Choice]
    CHOICE_ABSTAIN: _ClassVar[Choice]
CHOICE_UNSPECIFIED: Choice
CHOICE_YES: Choice
CHOICE_NO: Choice
CHOICE_ABSTAIN: Choice

class ChangeRevision(_message.Message):
    __slots__ = ("number", "base_commit", "result_commit", "tree_hash", "changed_paths", "content_hash", "title", "voter_list", "made_at_us")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    BASE_COMMIT_FIELD_NUMBER: _ClassVar[int]
    RESULT_COMMIT_FIELD_NUMBER: _ClassVar[int]
    TREE_HASH_FIELD_NUMBER: _ClassVar[int]
    CHANGED_PATHS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VOTER_LIST_FIELD_NUMBER: _ClassVar[int]
    MADE_AT_US_FIELD_NUMBER: _ClassVar[int]
    number: int
    base_commit: str
    result_commit: str
    tree_hash: str
    changed_paths: _containers.RepeatedScalarFieldContainer[str]
    content_hash: str
    title: str
    voter_list: str
    made_at_us: int
    def __init__(self, number: _Optional[int] = ..., base_commit: _Optional[str] = ..., result_commit: _Optional[str] = ..., tree_hash: _Optional[str] = ..., changed_paths: _Optional[_Iterable[str]] = ..., content_hash: _Optional[str] = ..., title: _Optional[str] = ..., voter_list: _Optional[str] = ..., made_at_us: _Optional[int] = ...) -> None: ...

class ProposalProposed(_message.Message):
    __slots__ = ("proposal", "proposer", "revision")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    proposal: str
    proposer: str
    revision: ChangeRevision
    def __init__(self, proposal: _Optional[str] = ..., proposer: _Optional[str] = ..., revision: _Optional[_Union[ChangeRevision, _Mapping]] = ...) -> None: ...

class ProposalRevised(_message.Message):
    __slots__ = ("proposal", "revision")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    proposal: str
    revision: ChangeRevision
    def __init__(self, proposal: _Optional[str] = ..., revision: _Optional[_Union[ChangeRevision, _Mapping]] = ...) -> None: ...

class ProposalWithdrawn(_message.Message):
    __slots__ = ("proposal", "content_hash")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    proposal: str
    content_hash: str
    def __init__(self, proposal: _Optional[str] = ..., content_hash: _Optional[str] = ...) -> None: ...

class ChangeVoteCast(_message.Message):
    __slots__ = ("proposal", "voter", "content_hash", "choice")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    VOTER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    CHOICE_FIELD_NUMBER: _ClassVar[int]
    proposal: str
    voter: str
    content_hash: str
    choice: Choice
    def __init__(self, proposal: _Optional[str] = ..., voter: _Optional[str] = ..., content_hash: _Optional[str] = ..., choice: _Optional[_Union[Choice, str]] = ...) -> None: ...

class ChangeVoteWithdrawn(_message.Message):
    __slots__ = ("proposal", "voter", "content_hash")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    VOTER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    proposal: str
    voter: str
    content_hash: str
    def __init__(self, proposal: _Optional[str] = ..., voter: _Optional[str] = ..., content_hash: _Optional[str] = ...) -> None: ...

class DelegationSet(_message.Message):
    __slots__ = ("voter", "scope", "delegates", "none")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    DELEGATES_FIELD_NUMBER: _ClassVar[int]
    NONE_FIELD_NUMBER: _ClassVar[int]
    voter: str
    scope: str
    delegates: _containers.RepeatedScalarFieldContainer[str]
    none: bool
    def __init__(self, voter: _Optional[str] = ..., scope: _Optional[str] = ..., delegates: _Optional[_Iterable[str]] = ..., none: _Optional[bool] = ...) -> None: ...

class DelegationCleared(_message.Message):
    __slots__ = ("voter", "scope")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    voter: str
    scope: str
    def __init__(self, voter: _Optional[str] = ..., scope: _Optional[str] = ...) -> None: ...
