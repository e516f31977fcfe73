"""The polls service: polls and the votes cast in them."""

from civitas_polls.commands import POLL_STREAMS, PollCommands
from civitas_polls.domain.polls import PollConfig

__all__ = ["POLL_STREAMS", "PollCommands", "PollConfig"]
