"""The counter service: counts of every poll, the delegate cascade traced from a snapshot, and the records (voter
lists and counts) compiled from a cut of the log."""

from civitas_kernel.count_result import CountResult, Node, PollCount, parse_count

from civitas_counter.domain.count import compile_count
from civitas_counter.records import COMPILERS, STREAMS_OF_KIND, record_store
from civitas_counter.scheduler import CompileScheduler, compile_all
from civitas_counter.settings import CompileSchedule

COUNT_STREAMS = ("poll", "vote")

__all__ = ["COMPILERS", "COUNT_STREAMS", "STREAMS_OF_KIND", "CompileSchedule", "CompileScheduler", "CountResult", "Node",
           "PollCount", "compile_all", "compile_count", "parse_count", "record_store"]
