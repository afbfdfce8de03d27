"""Asynchronous transfers (``oss_transfer_t``).

A ``Transfer`` uses no Python thread: the library's completion callback copies the outcome,
frees the ``oss_transfer_t`` and resolves asyncio futures through ``loop.call_soon_threadsafe``
(a closed loop is ignored) and a ``threading.Event``.
"""

from __future__ import annotations

import asyncio
import builtins
import ctypes
import enum
import os
import threading
from ctypes import byref, c_void_p
from dataclasses import dataclass
from typing import Any, Generator, List, Optional, Tuple

from . import _lib
from ._blocking import _WAIT_SLICE
from ._callbacks import _lookup
from ._convert import ProgressCallback
from ._errors import ErrorKind, InvalidArgumentError, OssError, check, take_error
from ._lib import DONE_CB, PROGRESS_ABORTABLE_CB, Library
from ._meta import ObjectMeta


# --------------------------------------------------------------------------------------------
# asynchronous transfers (oss_transfer_t)


class TransferState(enum.IntEnum):
    """Mirror of ``oss_transfer_state_t`` (values fixed by the C ABI)."""

    RUNNING = 0
    SUCCEEDED = 1
    FAILED = 2
    CANCELLED = 3
    PAUSED = 4
    #: Seen from a process ``fork()``-ed from the one that started it (it runs there only).
    OTHER_PROCESS = 5


@dataclass(frozen=True)
class TransferStatus:
    """A transfer's live status: bytes in the file so far (as of the last progress report; after
    a resume it starts at the bytes already on disk), the bytes it will hold (0 until known) and
    its :class:`TransferState`."""

    transferred: int
    total: int
    state: TransferState


def _state(value: int) -> TransferState:
    try:
        return TransferState(value)
    except ValueError:  # a state added by a later patch release: not running any more
        return TransferState.FAILED


def _require_async(lib: Library) -> None:
    if lib.oss_client_start_resumable_download is None:
        raise RuntimeError(
            "%s (oss_ffi %s) has no asynchronous API (oss_client_start_*, oss_transfer_*)"
            % (lib.path, lib.version)
        )


def _token_bytes(token: Any) -> bytes:
    if isinstance(token, str) or not isinstance(token, (bytes, bytearray, memoryview)):
        raise TypeError("token must be bytes (from Transfer.pause()), not %s" % type(token).__name__)
    return bytes(token)


def _resolve_future(fut: Any) -> None:
    if not fut.done():
        fut.set_result(None)


class Transfer:
    """One asynchronous transfer running on the library's threads (``oss_transfer_t``).

    Made by :meth:`Client.start_resumable_download`, :meth:`Client.start_resume` and
    :meth:`Client.start_get_object_to_file`; no Python thread is used. ``await transfer`` (from
    any event loop, any number of times) returns the :class:`ObjectMeta` or raises the error;
    cancelling the awaiting task cancels the transfer (the checkpoint is kept), waits until it
    ended, and raises :class:`asyncio.CancelledError` (``await asyncio.shield(transfer)`` does
    not cancel it). :meth:`result` and :meth:`wait` are the blocking equivalents.

    The C handle is freed exactly once, by the completion (or, if the completion ran before the
    start call returned, right after it); dropping the object does not stop the transfer.

    A transfer belongs to the process that started it. In a process ``fork()``-ed from it while
    it ran, ``await transfer``, :meth:`wait`, :meth:`result`, :meth:`pause`,
    :meth:`request_pause` and :meth:`status` raise :class:`InvalidArgumentError` at once (the
    library's error, which says so) instead of waiting for a completion that never comes there;
    :meth:`cancel` does nothing (the parent's transfer goes on). One that had ended before the
    fork keeps its outcome.
    """

    def __init__(self, lib: Library, pausable: bool) -> None:
        self._lib = lib
        self._pausable = pausable
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._handle: Optional[int] = None
        self._users = 0  # C calls on _handle in progress (outside the lock)
        self._free_pending = False
        self._done = False
        self._waiters: List[Tuple[Any, Any]] = []  # (loop, future) to resolve at the end
        self._progress: Optional[ProgressCallback] = None
        self._callback_error: Optional[BaseException] = None
        self._final: Optional[TransferStatus] = None
        self._meta: Optional[ObjectMeta] = None
        self._error: Optional[BaseException] = None
        self._token: Optional[bytes] = None
        self._callback_thread: Optional[int] = None  # the thread running our progress callable
        self._pid = os.getpid()  # the process whose library threads run it
        self._object: Tuple[str, str] = ("", "")  # (bucket, key), named in its error
        self._report: Any = None  # a batch's BatchReport, copied at the end
        self._batch_ctx: Any = None  # a batch's callbacks' context (their first exception)
        self._final_stats: Any = None  # its RequestStats, copied at the end

    # -- the handle: C calls on it never run under the lock and never overlap its free -------

    def _acquire(self) -> Optional[int]:
        with self._lock:
            if self._handle is None:
                return None
            self._users += 1
            return self._handle

    def _release(self) -> None:
        h = None
        with self._lock:
            self._users -= 1
            if self._users == 0 and self._free_pending:
                h, self._handle, self._free_pending = self._handle, None, False
        if h:
            self._lib.oss_transfer_free(h)

    def _started(self, handle: int) -> None:
        """The start call returned ``handle`` (our one reference)."""
        with self._lock:
            if not self._done:
                self._handle = handle
                return
        self._lib.oss_transfer_free(handle)  # it already ended: nothing will use it

    def _finish(self, ptr: Optional[int]) -> None:
        """The completion (a library thread, exactly once): copies the outcome out of C, frees
        our reference, wakes every waiter. Never raises."""
        lib = self._lib
        final = TransferStatus(0, 0, TransferState.FAILED)
        try:
            st = _lib.TransferStatusC()
            e = take_error(lib, lib.oss_transfer_status(ptr, byref(st)))
            if e is None:
                final = TransferStatus(int(st.transferred), int(st.total), _state(st.state))
            meta = c_void_p()
            err = lib.oss_transfer_result(ptr, byref(meta))
            if err:
                self._error = e = take_error(lib, err)
                if isinstance(e, OssError):
                    e._set_object(*self._object)
            else:
                try:
                    self._meta = ObjectMeta._take(lib, meta.value)
                finally:
                    lib.oss_object_meta_free(meta)
            from ._metrics import _stats  # noqa: PLC0415

            rs = _lib.RequestStatsC()
            if take_error(lib, lib.oss_transfer_request_stats(ptr, byref(rs))) is None:
                self._final_stats = _stats(rs)
            if lib.oss_transfer_batch_report is not None:
                from ._batch import transfer_report  # noqa: PLC0415 - _batch imports us

                self._report = transfer_report(lib, ptr)
            if final.state == TransferState.PAUSED:
                buf, n = c_void_p(), ctypes.c_size_t()
                e = take_error(lib, lib.oss_transfer_take_resume_token(ptr, byref(buf), byref(n)))
                if e is None:
                    try:
                        self._token = ctypes.string_at(buf.value, n.value) if n.value and buf.value else b""
                    finally:
                        lib.oss_bytes_free(buf, n)
                elif self._error is None:
                    self._error = e
        except BaseException as e:  # noqa: BLE001 - never into C
            if self._error is None and self._meta is None:
                self._error = e
        h = None
        with self._lock:
            self._final = final
            self._done = True
            if self._users:
                self._free_pending = True
            else:
                h, self._handle = self._handle, None
            waiters, self._waiters = self._waiters, []
        try:
            if h:
                lib.oss_transfer_free(h)
        except BaseException:  # noqa: BLE001
            pass
        self._event.set()
        for loop, fut in waiters:
            try:
                loop.call_soon_threadsafe(_resolve_future, fut)
            except BaseException:  # noqa: BLE001 - the loop is closed: nobody is waiting there
                pass

    def _check_process(self) -> None:
        """Raises the library's error in a process fork()-ed from the one that started the
        transfer, unless it had ended before the fork. Takes no lock: another thread of the
        parent may have held ours at the fork."""
        if self._pid == os.getpid() or self._event.is_set():
            return
        h = self._handle
        e = take_error(self._lib, self._lib.oss_transfer_result(h, None)) if h else None
        if e is None:  # pragma: no cover - the library always says so
            e = InvalidArgumentError(
                ErrorKind.INVALID_ARGUMENT,
                "ValidateError",
                "this transfer was started in process %d and this process was fork()ed from it"
                % self._pid,
            )
        raise e

    # -- state --------------------------------------------------------------------------------

    def done(self) -> bool:
        """Whether the transfer ended (and its outcome is available)."""
        return self._event.is_set()

    def status(self) -> TransferStatus:
        """Bytes done, total, state; never blocks."""
        if self._final is not None:
            return self._final
        self._check_process()
        h = self._acquire()
        if h is None:
            return self._final or TransferStatus(0, 0, TransferState.RUNNING)
        try:
            st = _lib.TransferStatusC()
            check(self._lib, self._lib.oss_transfer_status(h, byref(st)))
            return TransferStatus(int(st.transferred), int(st.total), _state(st.state))
        finally:
            self._release()

    def request_stats(self) -> Any:
        """Its requests so far, added up (a :class:`RequestStats`; all zero when the client has
        no ``metrics`` callback); after the end, as they were at the end."""
        if self._done:
            return self._final_stats
        h = self._acquire()
        if h is None:
            return self._final_stats
        try:
            from ._metrics import _stats

            st = _lib.RequestStatsC()
            check(self._lib, self._lib.oss_transfer_request_stats(h, byref(st)))
            return _stats(st)
        finally:
            self._release()

    @property
    def state(self) -> TransferState:
        return self.status().state

    @property
    def report(self) -> Any:
        """A batch's :class:`BatchReport` once it ended (also when it failed, was cancelled or
        paused); None while it runs and for a single download."""
        return self._report if self._event.is_set() else None

    @property
    def resume_token(self) -> Optional[bytes]:
        """The resume token once the transfer ended paused (else None): pass it to
        :meth:`Client.resume` / :meth:`Client.start_resume`, here or in another process."""
        return self._token if self._event.is_set() else None

    # -- control ------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Cancels the transfer (returns at once; no-op once it ended). It then ends
        ``CANCELLED`` and awaiting it raises :class:`oss_ffi.CancelledError`; a resumable
        download keeps its checkpoint (when it has a checkpoint directory). Does nothing in a
        process fork()-ed from the one that started it."""
        if self._pid != os.getpid():
            return
        h = self._acquire()
        if h is None:
            return
        try:
            self._lib.oss_transfer_cancel(h)
        finally:
            self._release()

    def request_pause(self) -> None:
        """Asks the download to pause and returns at once (safe from a progress callback); see
        :meth:`pause`. Raises ValueError for a GetObject transfer (it cannot be paused)."""
        if not self._pausable:
            raise ValueError("a GetObject transfer cannot be paused (cancel it instead)")
        self._check_process()
        h = self._acquire()
        if h is None:
            return
        try:
            self._lib.oss_transfer_pause(h)
        finally:
            self._release()

    def _token_or_raise(self) -> Optional[bytes]:
        if self._token is not None:
            return self._token
        if self._meta is not None:
            return None  # it succeeded before the pause took effect: nothing to resume
        self._raise_outcome()
        return None  # pragma: no cover

    def pause(self, timeout: Optional[float] = None) -> Optional[bytes]:
        """Pauses the download and blocks until it stopped: returns the resume token (bytes;
        the temp file is kept, with or without a checkpoint directory), or None when it
        succeeded first. Raises the transfer's error when it failed or was cancelled first, and
        :class:`builtins.TimeoutError` when ``timeout`` seconds passed (it is then still
        pausing). From the transfer's own progress callback it raises RuntimeError (use
        :meth:`request_pause` there)."""
        self._not_from_own_callback()
        self.request_pause()
        if not self.wait(timeout):
            raise _builtin_timeout("the transfer did not stop within %s s" % timeout)
        return self._token_or_raise()

    async def pause_async(self) -> Optional[bytes]:
        """:meth:`pause` for asyncio: ``token = await transfer.pause_async()``."""
        self.request_pause()
        await self._ended_async()
        return self._token_or_raise()

    # -- waiting ------------------------------------------------------------------------------

    def _not_from_own_callback(self) -> None:
        if self._callback_thread == threading.get_ident() and not self._event.is_set():
            raise RuntimeError(
                "cannot wait for a transfer from its own progress callback "
                "(use request_pause() or cancel(), which return at once)"
            )

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Blocks until the transfer ended, at most ``timeout`` seconds (None: no limit);
        returns whether it ended. Ctrl-C interrupts the wait (the transfer goes on). Raises
        RuntimeError from the transfer's own progress callback (it would wait for itself)."""
        self._not_from_own_callback()
        self._check_process()
        if timeout is None:
            while not self._event.wait(_WAIT_SLICE):
                pass
            return True
        return self._event.wait(timeout)

    def result(self, timeout: Optional[float] = None) -> ObjectMeta:
        """Waits (see :meth:`wait`) and returns the object's metadata, or raises the transfer's
        error (:class:`OssError`; the progress callback's exception when it raised), or
        :class:`builtins.TimeoutError` when ``timeout`` passed."""
        if not self.wait(timeout):
            raise _builtin_timeout("the transfer did not end within %s s" % timeout)
        return self._outcome()

    def exception(self) -> Optional[BaseException]:
        """The error the transfer ended with (None on success or while it runs)."""
        if not self._event.is_set():
            return None
        return self._own_callback_error() or self._error

    def _own_callback_error(self) -> Optional[BaseException]:
        ctx = self._batch_ctx
        return self._callback_error or (ctx.error if ctx is not None else None)

    def _raise_outcome(self) -> None:
        if self._batch_ctx is not None and self._batch_ctx.error is not None and self._callback_error is None:
            self._callback_error = self._batch_ctx.error
        e = self._error
        if self._callback_error is not None:
            if e is not None:
                raise self._callback_error from e
            raise self._callback_error
        if e is not None:
            raise e

    def _outcome(self) -> ObjectMeta:
        self._raise_outcome()
        if self._meta is None:
            raise OssError(0, "Unknown", "the transfer ended without a result")
        return self._meta

    def _result_interruptible(self) -> ObjectMeta:
        """:meth:`result` for the blocking wrappers: Ctrl-C cancels the transfer, waits until
        it ended and re-raises, like the blocking calls do."""
        self._wait_interruptible()
        return self._outcome()

    def _wait_interruptible(self, cancel_event: Optional[threading.Event] = None) -> None:
        """Waits for the end; Ctrl-C cancels the transfer, waits until it ended and re-raises.
        ``cancel_event`` set (from any thread) cancels it too, and the wait goes on to its end."""
        try:
            if cancel_event is None:
                self.wait()
            else:
                while not self.wait(_WAIT_SLICE):
                    if cancel_event.is_set():
                        self.cancel()
                        self.wait()
                        break
        except BaseException:
            self.cancel()
            while True:
                try:
                    self.wait()
                    break
                except BaseException:  # noqa: BLE001 - a second Ctrl-C
                    self.cancel()
            raise

    async def _ended_async(self) -> None:
        """Awaits the end; if the awaiting task is cancelled, cancels the transfer, awaits its
        end and re-raises asyncio.CancelledError."""
        if self._event.is_set():
            return
        self._check_process()
        loop = asyncio.get_running_loop()
        try:
            await self._future(loop)
        except asyncio.CancelledError:
            self.cancel()
            while not self._event.is_set():
                try:
                    await self._future(loop)
                except asyncio.CancelledError:
                    self.cancel()
            raise

    def _future(self, loop: Any) -> Any:
        fut = loop.create_future()
        with self._lock:
            if self._done:
                fut.set_result(None)
            else:
                self._waiters.append((loop, fut))
        return fut

    async def _await(self) -> ObjectMeta:
        await self._ended_async()
        return self._outcome()

    def __await__(self) -> Generator[Any, None, ObjectMeta]:
        return self._await().__await__()

    def __repr__(self) -> str:
        try:
            st = self.status()
        except OssError:
            return "<oss_ffi.Transfer OTHER_PROCESS>"
        return "<oss_ffi.Transfer %s %d/%d>" % (st.state.name, st.transferred, st.total)


def _builtin_timeout(msg: str) -> BaseException:
    return builtins.TimeoutError(msg)


def _done_trampoline(transfer: Optional[int], error: Optional[int], user_data: Optional[int]) -> None:
    try:
        t = _lookup(user_data)
        if t is not None:
            t._finish(transfer)
    except BaseException:  # noqa: BLE001 - must never propagate into C
        pass


def _progress_abortable_trampoline(
    increment: int, transferred: int, total: int, user_data: Optional[int]
) -> int:
    try:
        t = _lookup(user_data)
        if t is None or t._progress is None:
            return 0
        if t._callback_error is not None:
            return 1
        t._callback_thread = threading.get_ident()
        try:
            t._progress(increment, transferred, total)
            return 0
        except BaseException as e:  # noqa: BLE001
            t._callback_error = e
            return 1
        finally:
            t._callback_thread = None
    except BaseException:  # noqa: BLE001 - must never propagate into C
        return 1


_DONE = DONE_CB(_done_trampoline)
_PROGRESS_ABORTABLE = PROGRESS_ABORTABLE_CB(_progress_abortable_trampoline)
