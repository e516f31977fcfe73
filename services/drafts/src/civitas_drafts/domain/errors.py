"""The mistakes a voter can make with drafts; each message says what to do instead."""

from __future__ import annotations

from civitas_kernel.commands import CommandError, ConflictError, ForbiddenError, NotFoundError


class DraftError(CommandError):
    """A group version, post, amendment or vote that cannot be accepted as given."""


class GroupChangeRefused(ForbiddenError):
    """The author of a group version may not make one of its changes; the whole version is refused."""


class ForkError(ConflictError):
    """A group version that does not follow the group's current version."""


class TooLargeError(DraftError):
    """A post, paragraph or version over its size limit."""


class VoteValueError(DraftError):
    """A vote value that is not a finite number within the limits."""


class GroupNotFound(NotFoundError):
    pass


class PostNotFound(NotFoundError):
    pass


class NotAllowed(ForbiddenError):
    """A post, reply, amendment or vote that its author may not make in that group."""
