"""Pausing the cycle collector: overlapping pauses end together, and a collector that was off stays off."""

from __future__ import annotations

import gc

import pytest

from civitas_kernel.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_restored():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_comes_back_when_the_last_of_overlapping_pauses_ends():
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()  # as a second consumer's round in another thread would
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second pause is still running
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_pause_that_fails_still_ends():
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a round failed")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_operator_stays_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
