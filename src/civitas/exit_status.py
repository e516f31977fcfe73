"""Exit codes of the civitas command, in one place."""

from enum import IntEnum


class ExitStatus(IntEnum):
    SUCCESS = 0
    ERROR = 1  # the command was refused or failed: the message says why
    USAGE = 2  # the command line itself is wrong
    INTEGRITY = 3  # verification found tampering, a gap or a forgery
    UNCHECKED = 4  # an archive recounts, but nothing the auditor holds says whose key signed it
