"""The counter service: counts of every poll, the delegate cascade traced from a snapshot."""

from civitas_kernel.count_result import CountResult, Node, PollCount, parse_count

from civitas_counter.domain.count import compile_count

COUNT_STREAMS = ("poll", "vote")

__all__ = ["COUNT_STREAMS", "CountResult", "Node", "PollCount", "compile_count", "parse_count"]
