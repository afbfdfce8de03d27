"""Client.get_object_stream: a GetObject read as a file object (oss_object_stream_t), with the
whole object's CRC64 checked at its end."""
from __future__ import annotations

import io
import os
import shutil
import threading

import pytest

import oss_ffi
from conftest import BUCKET, data_of

SIZE = 3 * 1024 * 1024 + 4321


def test_stream_reads_the_whole_object(client, emu) -> None:
    data = emu.put("stream/whole.bin", data_of(SIZE, 11))
    with client.get_object_stream(BUCKET, "stream/whole.bin") as s:
        assert isinstance(s, io.RawIOBase) and s.readable() and not s.seekable()
        assert s.meta.content_length == SIZE and s.meta.crc64 == oss_ffi.crc64(data)
        assert s.name == "oss://py-bucket/stream/whole.bin"
        head = s.read(1)
        buf = bytearray(100_000)
        n = s.readinto(buf)
        assert 0 < n <= len(buf)
        rest = s.read()  # readall
        assert head + bytes(buf[:n]) + rest == data
        assert s.read(10) == b"" and s.readinto(bytearray(5)) == 0  # the end stays the end
    assert s.closed
    with pytest.raises(ValueError):
        s.read(1)


def test_stream_as_a_buffered_file_and_in_chunks(v4, emu, tmp_path) -> None:
    data = emu.put("stream/chunks.bin", data_of(SIZE, 12))
    with io.BufferedReader(v4.get_object_stream(BUCKET, "stream/chunks.bin"), 64 * 1024) as f:
        with open(tmp_path / "copy", "wb") as out:
            shutil.copyfileobj(f, out, 1000)
    assert (tmp_path / "copy").read_bytes() == data
    with v4.get_object_stream(BUCKET, "stream/chunks.bin") as s:
        chunks = list(s.iter_chunks(300_000))
    assert b"".join(chunks) == data and max(map(len, chunks)) <= 300_000
    with v4.get_object_stream(BUCKET, "stream/chunks.bin", range=(1000, 2999)) as s:
        assert s.read() == data[1000:3000]
        assert s.meta.content_length == SIZE
    with v4.get_object_stream(BUCKET, "stream/chunks.bin") as s:  # closed half-way: fine
        assert s.read(10) == data[:10]


def test_stream_crc_mismatch_raises_from_the_final_read(v4, emu) -> None:
    """The server's CRC64 (recorded before the bytes changed behind its back) differs from the
    bytes sent: every byte is delivered, then the read that would return the end raises."""
    data = emu.put("stream/crc.bin", data_of(SIZE, 13))
    v4.head_object(BUCKET, "stream/crc.bin")  # the server records the CRC64 now
    path = os.path.join(emu.root, BUCKET, "stream/crc.bin")
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(SIZE // 2)
        f.write(b"XYZ")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size and mtime: CRC kept
    got = bytearray()
    with v4.get_object_stream(BUCKET, "stream/crc.bin") as s:
        with pytest.raises(oss_ffi.CrcMismatchError) as ei:
            while True:
                piece = s.read(256 * 1024)
                if not piece:
                    break
                got += piece
        assert len(got) == SIZE and bytes(got) != data
        assert ei.value.kind is oss_ffi.ErrorKind.CRC_MISMATCH and ei.value.key == "stream/crc.bin"
        with pytest.raises(oss_ffi.CrcMismatchError):  # never a silent EOF afterwards either
            s.read(1)
    # a range is not CRC-checked (no CRC of a range is known)
    with v4.get_object_stream(BUCKET, "stream/crc.bin", range=(0, 99)) as s:
        assert s.read() == data[:100]


def test_stream_resumes_a_cut_body(v4, emu) -> None:
    data = emu.put("stream/cut.bin", data_of(SIZE, 14))
    emu.set_faults([{"kind": "cut", "bytes": 100_000, "count": 2, "method": "GET", "prefix": "stream/cut"}])
    with v4.get_object_stream(BUCKET, "stream/cut.bin") as s:
        assert s.read() == data


def test_stream_errors_and_cancel(v4, emu) -> None:
    with pytest.raises(FileNotFoundError) as ei:
        v4.get_object_stream(BUCKET, "stream/missing")
    assert type(ei.value) is oss_ffi.NoSuchKeyError and ei.value.key == "stream/missing"
    data = emu.put("stream/cancel.bin", data_of(SIZE, 15))
    with v4.get_object_stream(BUCKET, "stream/cancel.bin") as s:
        assert s.read(5) == data[:5]
        s.cancel()
        with pytest.raises(oss_ffi.CancelledError):
            s.read(5)
    # a read blocked in another thread is cancelled by close()
    emu.set_faults([{"kind": "stall", "bytes": 1000, "ms": 20_000, "method": "GET", "prefix": "stream/cancel"}])
    s = v4.get_object_stream(BUCKET, "stream/cancel.bin")
    outcome: list = []
    started = threading.Event()

    def reader() -> None:
        started.set()
        try:
            while s.read(64 * 1024):
                pass
            outcome.append("eof")
        except BaseException as e:  # noqa: BLE001
            outcome.append(e)

    t = threading.Thread(target=reader)
    t.start()
    started.wait()
    s.close()
    t.join(15)
    assert not t.is_alive()
    assert outcome and isinstance(outcome[0], (oss_ffi.CancelledError, ValueError)), outcome
