from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DraftMember(_message.Message):
    __slots__ = ("voter", "nickname", "weight")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    voter: str
    nickname: str
    weight: int
    def __init__(self, voter: _Optional[str] = ..., nickname: _Optional[str] = ..., weight: _Optional[int] = ...) -> None: ...

class DraftGroupVersioned(_message.Message):
    __slots__ = ("parent", "author", "name", "members", "removed", "others_members_weight", "moderation_default_score_micro", "private", "made_at_us", "subject")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    OTHERS_MEMBERS_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MODERATION_DEFAULT_SCORE_MICRO_FIELD_NUMBER: _ClassVar[int]
    PRIVATE_FIELD_NUMBER: _ClassVar[int]
    MADE_AT_US_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    author: str
    name: str
    members: _containers.RepeatedCompositeFieldContainer[DraftMember]
    removed: _containers.RepeatedScalarFieldContainer[str]
    others_members_weight: int
    moderation_default_score_micro: int
    private: bool
    made_at_us: int
    subject: str
    def __init__(self, parent: _Optional[str] = ..., author: _Optional[str] = ..., name: _Optional[str] = ..., members: _Optional[_Iterable[_Union[DraftMember, _Mapping]]] = ..., removed: _Optional[_Iterable[str]] = ..., others_members_weight: _Optional[int] = ..., moderation_default_score_micro: _Optional[int] = ..., private: _Optional[bool] = ..., made_at_us: _Optional[int] = ..., subject: _Optional[str] = ...) -> None: ...

class DraftPosted(_message.Message):
    __slots__ = ("group", "author", "paragraphs", "texts", "reply_to", "reply_to_paragraph", "posted_at_us", "anchor")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPHS_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_PARAGRAPH_FIELD_NUMBER: _ClassVar[int]
    POSTED_AT_US_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    group: str
    author: str
    paragraphs: _containers.RepeatedScalarFieldContainer[str]
    texts: _containers.RepeatedScalarFieldContainer[str]
    reply_to: str
    reply_to_paragraph: str
    posted_at_us: int
    anchor: DraftAnchor
    def __init__(self, group: _Optional[str] = ..., author: _Optional[str] = ..., paragraphs: _Optional[_Iterable[str]] = ..., texts: _Optional[_Iterable[str]] = ..., reply_to: _Optional[str] = ..., reply_to_paragraph: _Optional[str] = ..., posted_at_us: _Optional[int] = ..., anchor: _Optional[_Union[DraftAnchor, _Mapping]] = ...) -> None: ...

class DraftAnchor(_message.Message):
    __slots__ = ("file", "hunk", "revision")
    FILE_FIELD_NUMBER: _ClassVar[int]
    HUNK_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    file: str
    hunk: str
    revision: str
    def __init__(self, file: _Optional[str] = ..., hunk: _Optional[str] = ..., revision: _Optional[str] = ...) -> None: ...

class DraftAmended(_message.Message):
    __slots__ = ("post", "author", "paragraphs", "texts", "made_at_us")
    POST_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPHS_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    MADE_AT_US_FIELD_NUMBER: _ClassVar[int]
    post: str
    author: str
    paragraphs: _containers.RepeatedScalarFieldContainer[str]
    texts: _containers.RepeatedScalarFieldContainer[str]
    made_at_us: int
    def __init__(self, post: _Optional[str] = ..., author: _Optional[str] = ..., paragraphs: _Optional[_Iterable[str]] = ..., texts: _Optional[_Iterable[str]] = ..., made_at_us: _Optional[int] = ...) -> None: ...

class DraftVoted(_message.Message):
    __slots__ = ("group", "voter", "post", "paragraph", "value_micro")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    VOTER_FIELD_NUMBER: _ClassVar[int]
    POST_FIELD_NUMBER: _ClassVar[int]
    PARAGRAPH_FIELD_NUMBER: _ClassVar[int]
    VALUE_MICRO_FIELD_NUMBER: _ClassVar[int]
    group: str
    voter: str
    post: str
    paragraph: str
    value_micro: int
    def __init__(self, group: _Optional[str] = ..., voter: _Optional[str] = ..., post: _Optional[str] = ..., paragraph: _Optional[str] = ..., value_micro: _Optional[int] = ...) -> None: ...

class DraftMemberMoved(_message.Message):
    __slots__ = ("voter", "to_site", "moved_at_us")
    VOTER_FIELD_NUMBER: _ClassVar[int]
    TO_SITE_FIELD_NUMBER: _ClassVar[int]
    MOVED_AT_US_FIELD_NUMBER: _ClassVar[int]
    voter: str
    to_site: str
    moved_at_us: int
    def __init__(self, voter: _Optional[str] = ..., to_site: _Optional[str] = ..., moved_at_us: _Optional[int] = ...) -> None: ...
