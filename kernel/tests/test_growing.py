"""A segment read while it is written (growing.py): a read waits for the writer, and sees the end only at its end."""

from __future__ import annotations

import threading
import time

import pytest

from civitas_kernel.growing import Growing, Stopped


def test_a_reader_follows_the_writer_and_sees_the_end_only_when_it_is_done(tmp_path):
    path = tmp_path / "archive.partial"
    with open(path, "wb") as out:
        out.write(b"H" * 10)  # bytes before the member: never read
        growing = Growing(path, offset=10)
        writer = growing.writer(out)
        reader = growing.open()
        got: list[bytes] = []
        thread = threading.Thread(target=lambda: [got.append(reader.read(n)) for n in (6, 100, 5)], daemon=True)
        thread.start()
        try:
            writer.write(b"abc")
            time.sleep(0.2)
            assert not got  # three bytes of the six asked for: still waiting
            writer.write(b"defgh")
            time.sleep(0.2)
            assert got == [b"abcdef"]  # the rest waits for more, or the end
            writer.write(b"ij")
        finally:
            growing.done()
        thread.join(5)
    assert got == [b"abcdef", b"ghij", b""]
    reader.close()
    with growing.open() as again:  # a second reader (the plain verifier's, after a doubt) reads it all again
        assert again.read() == b"abcdefghij"


def test_a_reader_that_gives_up_stops_the_writer(tmp_path):
    path = tmp_path / "archive.partial"
    with open(path, "wb") as out:
        growing = Growing(path)
        writer = growing.writer(out)
        writer.write(b"abc")
        growing.stop()
        with pytest.raises(Stopped):
            writer.write(b"def")
    assert path.read_bytes() == b"abc"
