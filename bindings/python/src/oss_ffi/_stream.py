"""GetObject read piece by piece (``oss_object_stream_t``)."""

from __future__ import annotations

import ctypes
import io
import threading
from ctypes import byref
from typing import Any, Iterator, Optional

from ._blocking import _raise_for, _run_blocking
from ._callbacks import _CallContext
from ._convert import _int
from ._lib import Library
from ._meta import ObjectMeta


# --------------------------------------------------------------------------------------------
# GetObject read piece by piece (oss_object_stream_t)


class ObjectStream(io.RawIOBase):
    """One object (or range) read as a binary file: what :meth:`Client.get_object_stream`
    returns. An :class:`io.RawIOBase`: ``read(n)``, ``readinto(buf)`` (straight into the
    caller's buffer), ``readall()``, ``io.BufferedReader(stream)``, ``shutil.copyfileobj``;
    plus :meth:`iter_chunks`, :attr:`meta` and :meth:`cancel`. A context manager; close it (or
    let it be collected) to release its connection; it need not be read to the end.

    One GET: a body cut mid-way is resumed where it stopped (pinned to the object's ETag, so a
    change is :class:`ObjectChangedError`). A whole object's CRC64 is checked when its last byte
    has been read: a mismatch is raised (:class:`CrcMismatchError`) by the read that would have
    returned the end, never a silent EOF. Each read blocks until at least one byte is there
    (Ctrl-C cancels it); reads are serialised. A later ``Client.open`` (a parallel, prefetching
    reader) will return a file object with this same interface.
    """

    def __init__(self, lib: Library, handle: int, meta: "ObjectMeta", bucket: str, key: str) -> None:
        super().__init__()
        self._lib = lib
        self._h: Optional[int] = handle
        self._state = threading.Lock()  # guards _h against close (cancel under it is safe)
        self._read_lock = threading.Lock()  # one read at a time; close waits for it
        self.meta = meta
        self.bucket = bucket
        self.key = key
        self.name = "oss://%s/%s" % (bucket, key)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        """Reads up to ``len(buffer)`` bytes into ``buffer``; 0 only at the end (after the
        CRC64 check)."""
        self._checkClosed()
        view = memoryview(buffer).cast("B")
        n = len(view)
        if n == 0:
            return 0
        if view.readonly:
            raise TypeError("readinto needs a writable buffer")
        lib = self._lib
        with self._read_lock:
            h = self._h
            if h is None:
                raise ValueError("I/O operation on closed stream")
            target = (ctypes.c_char * n).from_buffer(view)
            got = ctypes.c_size_t()
            ctx = _CallContext(lib, None, self.bucket, self.key)
            ctx.set_cancel(lambda: lib.oss_object_stream_cancel(h))
            err = _run_blocking(
                lambda: lib.oss_object_stream_read(h, ctypes.addressof(target), n, byref(got)), ctx, None
            )
            _raise_for(ctx, err)
            return int(got.value)

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The rest of the object as pieces of at most ``chunk_size`` bytes."""
        size = _int(chunk_size, "chunk_size", 1, 1 << 31)
        buf = bytearray(size)
        while True:
            n = self.readinto(buf)
            if not n:
                return
            yield bytes(buf[:n])

    def cancel(self) -> None:
        """Makes a running read and every later one raise :class:`CancelledError`; from any
        thread."""
        with self._state:
            if self._h is not None:
                self._lib.oss_object_stream_cancel(self._h)

    def close(self) -> None:
        """Releases the connection; a read running in another thread is cancelled first."""
        with self._state:
            if self._h is not None and self._read_lock.locked():
                self._lib.oss_object_stream_cancel(self._h)
        with self._read_lock:
            with self._state:
                h, self._h = self._h, None
            if h:
                self._lib.oss_object_stream_free(h)
        super().close()

    def __repr__(self) -> str:
        return "<oss_ffi.ObjectStream %s%s>" % (self.name, " closed" if self.closed else "")
