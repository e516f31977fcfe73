"""The polls service: polls and the votes cast in them."""

from civitas_polls.commands import POLL_STREAMS, PollCommands
from civitas_polls.domain.polls import PollConfig
from civitas_polls.release_polls import ReleasePolls, ReleasePollsWatcher, poll_file_problems
from civitas_polls.requests import NewPoll, PollChanges

__all__ = ["POLL_STREAMS", "NewPoll", "PollChanges", "PollCommands", "PollConfig", "ReleasePolls",
           "ReleasePollsWatcher", "poll_file_problems"]
