"""An object read with prefetching (``oss_reader_t``): what :meth:`Client.open` returns, and its
asyncio form."""

from __future__ import annotations

import asyncio
import ctypes
import io
import threading
from ctypes import byref, c_size_t, c_uint64
from typing import Any, Iterator, Optional

from ._blocking import _raise_for, _run_blocking
from ._callbacks import _CallContext
from ._convert import _int
from ._errors import take_error
from ._lib import Library
from ._meta import ObjectMeta


_LINE_CHUNK = 64 * 1024


class ObjectReader(io.BufferedIOBase):
    """One version of an object (or of a range of it) as a seekable binary file: what
    :meth:`Client.open` returns.

    Reads that continue where the last one ended keep several ranged GETs in flight ahead
    (a window that grows up to ``max_window``, bounded by the client's memory budget); a seek
    elsewhere collapses it, and the next read fetches what it asks for plus ``read_ahead``
    bytes (a Parquet footer and two column chunks cost three GETs). Every GET is pinned to the
    ETag the object had when it was opened: a change raises :class:`ObjectChangedError`, never
    mixes versions. A read from the start to the end is checked against the object's CRC64: a
    mismatch is raised (:class:`CrcMismatchError`) by the read that would have returned the end.

    An :class:`io.BufferedIOBase`: ``read(n)`` (``n`` bytes unless the end comes first),
    ``read1``, ``readinto(buf)`` and ``readinto1`` (straight into the caller's buffer: the bytes
    are copied once, from the HTTP stack), ``seek``/``tell`` with ``io.SEEK_SET/CUR/END``,
    ``readline`` and iteration over lines, :meth:`iter_chunks`; a context manager; ``close`` is
    idempotent and a closed reader raises ``ValueError``. Reads are serialised; :meth:`cancel`
    works from any thread; Ctrl-C cancels a read of the main thread.
    """

    def __init__(self, lib: Library, handle: int, meta: ObjectMeta, size: int, bucket: str, key: str) -> None:
        super().__init__()
        self._lib = lib
        self._h: Optional[int] = handle
        self._state = threading.Lock()  # guards _h against close
        self._read_lock = threading.Lock()  # one call at a time; close waits for it
        self.meta = meta
        self.size = size
        self.bucket = bucket
        self.key = key
        self.name = "oss://%s/%s" % (bucket, key)
        self.mode = "rb"
        # Bytes read from C but not yet handed out (only `peek`, `readline` and iteration fill
        # it, in pieces of at most `_LINE_CHUNK`); `tell` is the C position minus its length.
        self._pending = b""

    # -- io contracts ---------------------------------------------------------------------------

    def readable(self) -> bool:
        self._checkClosed()
        return True

    def seekable(self) -> bool:
        self._checkClosed()
        return True

    def _handle(self) -> int:
        h = self._h
        if h is None:
            raise ValueError("I/O operation on closed file")
        return h

    def _read_some(self, view: memoryview) -> int:
        """One C read into ``view`` (at least one byte unless at the end)."""
        lib = self._lib
        h = self._handle()
        n = len(view)
        target = (ctypes.c_char * n).from_buffer(view)
        got = c_size_t()
        ctx = _CallContext(lib, None, self.bucket, self.key)
        ctx.set_cancel(lambda: lib.oss_reader_cancel(h))
        err = _run_blocking(lambda: lib.oss_reader_read(h, ctypes.addressof(target), n, byref(got)), ctx, None)
        _raise_for(ctx, err)
        return int(got.value)

    @staticmethod
    def _writable_view(buffer: Any) -> memoryview:
        view = memoryview(buffer).cast("B")
        if view.readonly:
            raise TypeError("readinto needs a writable buffer")
        return view

    def readinto1(self, buffer: Any) -> int:
        """Reads the bytes received at the position (at least one, at most ``len(buffer)``)
        into ``buffer``; 0 only at the end (after the CRC64 check)."""
        self._checkClosed()
        view = self._writable_view(buffer)
        if len(view) == 0:
            return 0
        with self._read_lock:
            if self._pending:
                return self._from_pending(view)
            return self._read_some(view)

    def _from_pending(self, view: memoryview) -> int:
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def readinto(self, buffer: Any) -> int:
        """Fills ``buffer`` (fewer bytes only at the end); returns the count."""
        self._checkClosed()
        view = self._writable_view(buffer)
        total = 0
        with self._read_lock:
            if self._pending:
                total = self._from_pending(view)
            while total < len(view):
                n = self._read_some(view[total:])
                if n == 0:
                    break
                total += n
            if total == len(view) and total and self._at_end():
                # Filled up to the last byte: the read of the end runs the whole-object CRC64
                # check now (a mismatch raises here, never a silent end of file).
                self._read_some(memoryview(bytearray(1)))
        return total

    def _at_end(self) -> bool:
        return not self._pending and int(self._lib.oss_reader_tell(self._handle())) >= self.size

    def read(self, size: Optional[int] = -1) -> bytes:
        """``size`` bytes (fewer only at the end); all the rest for ``size`` < 0 or None."""
        self._checkClosed()
        if size != 0:
            # Never more than the rest: a huge `size` (sys.maxsize: "everything") must not
            # allocate what it asks for.
            rest = max(self.size - self.tell(), 0)
            size = rest if size is None or size < 0 else min(size, rest)
            if size == 0:
                # at (or past) the end: one read so that the end's CRC64 check runs
                buf = bytearray(1)
                n = self.readinto1(buf)
                return bytes(buf[:n])
        buf = bytearray(size)
        n = self.readinto(buf)
        return bytes(buf) if n == size else bytes(memoryview(buf)[:n])

    def peek(self, size: int = 0) -> bytes:
        """Bytes at the position without moving it (at least one unless at the end)."""
        self._checkClosed()
        with self._read_lock:
            if not self._pending:
                buf = bytearray(_LINE_CHUNK)
                n = self._read_some(memoryview(buf))
                self._pending = bytes(memoryview(buf)[:n])
            return self._pending

    def readline(self, size: Optional[int] = -1) -> bytes:
        """The bytes up to and including the next ``\\n`` (at most ``size``)."""
        self._checkClosed()
        limit = -1 if size is None else size
        out = []
        got = 0
        while limit < 0 or got < limit:
            chunk = self.peek()
            if not chunk:
                break
            end = chunk.find(b"\n") + 1 or len(chunk)
            if limit >= 0:
                end = min(end, limit - got)
            out.append(chunk[:end])
            got += end
            with self._read_lock:
                self._pending = self._pending[end:]
            if out[-1].endswith(b"\n"):
                break
        return b"".join(out)

    def read1(self, size: int = -1) -> bytes:
        """The bytes received at the position, at most ``size`` (1 MiB when < 0)."""
        if size is None or size < 0:
            size = 1 << 20
        # At most the rest (at least one byte: the end's read runs the CRC64 check).
        buf = bytearray(max(min(size, self.size - self.tell()), 1) if size else 0)
        n = self.readinto1(buf)
        return bytes(memoryview(buf)[:n])

    def readall(self) -> bytes:
        return self.read(-1)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Moves the position (sends nothing; positions past the end read as the end)."""
        self._checkClosed()
        offset = _int(offset, "offset", -(1 << 63), (1 << 63) - 1)
        if whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise ValueError("whence must be io.SEEK_SET, io.SEEK_CUR or io.SEEK_END, not %r" % (whence,))
        pos = c_uint64()
        with self._read_lock:
            if whence == io.SEEK_CUR:
                offset, whence = offset - len(self._pending), io.SEEK_SET
                offset += int(self._lib.oss_reader_tell(self._handle()))
                # Past the end is allowed; the C call takes an int64 (ctypes would wrap the sum).
                offset = min(offset, (1 << 63) - 1)
            self._pending = b""
            err = self._lib.oss_reader_seek(self._handle(), offset, whence, byref(pos))
        e = take_error(self._lib, err)
        if e is not None:
            e._set_object(self.bucket, self.key)
            raise e  # a position before the start: InvalidArgumentError, a ValueError
        return int(pos.value)

    def tell(self) -> int:
        self._checkClosed()
        return int(self._lib.oss_reader_tell(self._handle())) - len(self._pending)

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The rest of the object as pieces of at most ``chunk_size`` bytes."""
        size = _int(chunk_size, "chunk_size", 1, 1 << 31)
        buf = bytearray(size)
        while True:
            n = self.readinto1(buf)
            if not n:
                return
            yield bytes(buf[:n])

    def verified(self) -> bool:
        """Whether a read reached the end and the whole object's CRC64 matched the server's."""
        self._checkClosed()
        meta = ctypes.c_void_p()
        with self._read_lock:
            err = self._lib.oss_reader_meta(self._handle(), byref(meta))
        e = take_error(self._lib, err)
        if e is not None:
            raise e
        try:
            return bool(self._lib.oss_object_meta_verified(meta))
        finally:
            self._lib.oss_object_meta_free(meta)

    def cancel(self) -> None:
        """Makes a running read and every later one raise :class:`CancelledError`; from any
        thread."""
        with self._state:
            if self._h is not None:
                self._lib.oss_reader_cancel(self._h)

    def close(self) -> None:
        """Stops the GETs in flight and gives back their memory; a read running in another
        thread is cancelled first. Idempotent."""
        with self._state:
            if self._h is not None and self._read_lock.locked():
                self._lib.oss_reader_cancel(self._h)
        with self._read_lock:
            with self._state:
                h, self._h = self._h, None
            if h:
                self._lib.oss_reader_free(h)
        super().close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return "<oss_ffi.ObjectReader %s%s>" % (self.name, " closed" if self.closed else "")


class AsyncObjectReader:
    """The asyncio form of :class:`ObjectReader` (what :meth:`Client.open_async` returns): the
    same reader, its blocking reads run in the loop's default executor so that the loop never
    blocks. ``await read(n)``, ``await readinto(buf)``, ``seek``/``tell`` (they send nothing),
    ``async for chunk in reader`` (pieces of at most 1 MiB), ``async with``. A read whose task is
    cancelled cancels the reader (later reads raise :class:`CancelledError`)."""

    def __init__(self, reader: ObjectReader) -> None:
        self._r = reader
        self.meta = reader.meta
        self.size = reader.size
        self.name = reader.name

    async def _run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(None, fn, *args)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            self._r.cancel()
            try:
                await fut
            except BaseException:  # noqa: BLE001 - the read's own CancelledError
                pass
            raise

    async def read(self, size: int = -1) -> bytes:
        data: bytes = await self._run(self._r.read, size)
        return data

    async def readinto(self, buffer: Any) -> int:
        n: int = await self._run(self._r.readinto, buffer)
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._r.seek(offset, whence)

    def tell(self) -> int:
        return self._r.tell()

    def cancel(self) -> None:
        self._r.cancel()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._r.close)

    @property
    def closed(self) -> bool:
        return self._r.closed

    def __aiter__(self) -> "AsyncObjectReader":
        return self

    async def __anext__(self) -> bytes:
        chunk: bytes = await self._run(self._r.read1, 1 << 20)
        if not chunk:
            raise StopAsyncIteration
        return chunk

    async def __aenter__(self) -> "AsyncObjectReader":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return "<oss_ffi.AsyncObjectReader %s%s>" % (self.name, " closed" if self.closed else "")
