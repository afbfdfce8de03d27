"""Client.open: the prefetching reader (oss_reader_t) as a seekable binary file, and its asyncio
form: sequential and random reads, readinto into the caller's buffer, seek/tell, iteration,
the whole object's CRC64 at the end, a changed object, cancel and close."""
from __future__ import annotations

import asyncio
import io
import sys
import threading

import pytest

import oss_ffi
from conftest import BUCKET, data_of

SIZE = 3 * 1024 * 1024 + 4321


def test_open_reads_the_whole_object_and_verifies_it(client, emu) -> None:
    data = emu.put("reader/whole.bin", data_of(SIZE, 21))
    with client.open(BUCKET, "reader/whole.bin", part_size="256K", max_window="2M") as f:
        assert isinstance(f, io.BufferedIOBase) and f.readable() and f.seekable()
        assert f.size == SIZE and f.meta.content_length == SIZE
        assert f.name == "oss://py-bucket/reader/whole.bin" and f.mode == "rb"
        head = f.read(10)
        buf = bytearray(100_000)
        assert f.readinto(buf) == len(buf)  # filled: only the end reads short
        rest = f.read()
        assert head + bytes(buf) + rest == data
        assert f.tell() == SIZE
        assert f.read(10) == b"" and f.readinto(bytearray(5)) == 0
        assert f.verified()
    assert f.closed
    f.close()  # idempotent
    with pytest.raises(ValueError):
        f.read(1)
    with pytest.raises(ValueError):
        f.seek(0)


def test_seek_tell_and_random_reads_follow_the_io_contract(v4, emu) -> None:
    data = emu.put("reader/random.bin", data_of(SIZE, 22))
    with v4.open(BUCKET, "reader/random.bin") as f:
        assert f.seek(-1000, io.SEEK_END) == SIZE - 1000
        assert f.read(1000) == data[-1000:]
        assert f.seek(12345) == 12345
        assert f.seek(100, io.SEEK_CUR) == 12445 and f.tell() == 12445
        assert f.read(5000) == data[12445:17445]
        assert f.seek(SIZE + 10) == SIZE + 10
        assert f.read(5) == b""
        with pytest.raises(ValueError):
            f.seek(-1)
        with pytest.raises(ValueError):
            f.seek(0, 7)
        f.seek(0)
        assert b"".join(f.iter_chunks(1 << 16)) == data


def test_readinto_fills_the_callers_buffer_without_a_copy_of_its_own(v4, emu) -> None:
    data = emu.put("reader/into.bin", data_of(SIZE, 23))
    target = memoryview(bytearray(SIZE))
    with v4.open(BUCKET, "reader/into.bin") as f:
        n = 0
        while n < SIZE:
            k = f.readinto1(target[n:])
            assert k > 0
            n += k
        assert f.readinto1(bytearray(1)) == 0
    assert target.tobytes() == data
    with v4.open(BUCKET, "reader/into.bin") as f, pytest.raises(TypeError):
        f.readinto(b"read-only")


def test_a_range_reads_as_a_file_of_its_own(v4, emu) -> None:
    data = emu.put("reader/range.bin", data_of(SIZE, 24))
    with v4.open(BUCKET, "reader/range.bin", (1000, 200_999)) as f:
        assert f.size == 200_000
        assert f.read() == data[1000:201_000]
        f.seek(-10, io.SEEK_END)
        assert f.read() == data[200_990:201_000]


def test_lines_and_buffered_wrappers_work(v4, emu) -> None:
    text = b"".join(b"line %d\n" % i for i in range(20_000))
    emu.put("reader/lines.txt", text)
    with v4.open(BUCKET, "reader/lines.txt") as f:
        lines = list(f)
    assert lines == text.splitlines(keepends=True)
    with v4.open(BUCKET, "reader/lines.txt") as f:
        assert io.TextIOWrapper(f, encoding="ascii").readline() == "line 0\n"


def test_a_missing_object_is_file_not_found_at_open(v4) -> None:
    with pytest.raises(FileNotFoundError) as e:
        v4.open(BUCKET, "reader/missing.bin")
    assert isinstance(e.value, oss_ffi.NoSuchKeyError)


def test_bad_options_are_value_errors(v4, emu) -> None:
    emu.put("reader/opts.bin", b"x" * 10)
    for kw in ({"part_size": 1}, {"part_size": "4X"}, {"read_ahead": "1G"}, {"max_window": 10}):
        with pytest.raises(ValueError):
            v4.open(BUCKET, "reader/opts.bin", **kw)


def test_an_object_changed_while_open_raises_object_changed(v4, emu) -> None:
    data = emu.put("reader/changed.bin", data_of(SIZE, 25))
    with v4.open(BUCKET, "reader/changed.bin") as f:
        f.seek(SIZE - 100)
        assert f.read(100) == data[-100:]
        emu.put("reader/changed.bin", data_of(SIZE, 26))  # same size, other bytes
        f.seek(0)
        with pytest.raises(oss_ffi.ObjectChangedError):
            f.read(1000)


def test_cancel_from_another_thread_stops_a_read(v4, emu) -> None:
    emu.put("reader/cancel.bin", data_of(SIZE, 27))
    emu.set_faults([{"kind": "latency", "ms": 5000, "method": "GET"}])
    with v4.open(BUCKET, "reader/cancel.bin") as f:
        threading.Timer(0.2, f.cancel).start()
        with pytest.raises(oss_ffi.CancelledError):
            f.read(10)


def test_the_async_form_reads_without_blocking_the_loop(v4, emu) -> None:
    data = emu.put("reader/async.bin", data_of(SIZE, 28))

    async def main() -> None:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.ensure_future(ticker())
        async with await v4.open_async(BUCKET, "reader/async.bin", part_size="256K") as f:
            assert f.size == SIZE
            head = await f.read(1000)
            chunks = [head]
            async for chunk in f:
                chunks.append(chunk)
            assert b"".join(chunks) == data
            f.seek(-5, io.SEEK_END)
            assert await f.read() == data[-5:]
        assert f.closed
        stop.set()
        await t
        assert ticks > 1

    asyncio.run(main())


def test_a_read_larger_than_the_rest_returns_the_rest_without_allocating_what_it_asks_for(v4, emu) -> None:
    data = emu.put("reader/huge-ask.bin", data_of(1000, 29))
    with v4.open(BUCKET, "reader/huge-ask.bin") as f:
        # io's contract: read(n) gives at most n bytes, fewer at the end; a caller that asks
        # for "everything" with a huge n (sys.maxsize) must not need n bytes of memory.
        assert f.read(1 << 62) == data
        assert f.verified()
        assert f.read(1 << 62) == b""
        f.seek(990)
        assert f.read(1 << 40) == data[990:]
    with v4.open(BUCKET, "reader/huge-ask.bin", (100, 199)) as r:
        assert r.read(1 << 62) == data[100:200]


def test_a_relative_seek_far_past_the_end_is_past_the_end_not_an_error(v4, emu) -> None:
    data = emu.put("reader/far.bin", data_of(1000, 30))
    with v4.open(BUCKET, "reader/far.bin") as f:
        assert f.read(10) == data[:10]
        # io allows any position past the end; the sum must not wrap around to a negative one.
        assert f.seek(sys.maxsize, io.SEEK_CUR) >= len(data)
        assert f.read() == b""
        assert f.seek(-5, io.SEEK_END) == len(data) - 5 and f.read() == data[-5:]
