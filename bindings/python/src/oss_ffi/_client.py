"""The Pythonic surface over the C ABI: SDK lifecycle, ``Client``, ``ObjectMeta``.

Design notes (see README.md for the long version):

* Every blocking C call that the main thread makes runs on a short-lived worker thread while
  the main thread waits in a loop with a short timeout. So SIGINT is still delivered to the
  main thread as ``KeyboardInterrupt``; we then cancel the call through the C ABI
  (``oss_download_request_cancel`` / ``oss_get_object_request_cancel``), wait for the worker
  to return, and re-raise. ctypes releases the GIL for the whole C call.
* C callbacks (progress, write, credentials, log) go through module-level ctypes trampolines
  that live as long as the module; ``user_data`` is a key into a registry of Python objects,
  so no ctypes callback object can be collected while C may still call it.
* A Python exception never crosses into C: the trampolines catch everything, cancel the
  operation when they can, and the original exception is re-raised by the method that made
  the call once C has returned.
* Asynchronous transfers (``Transfer``) use no Python thread: the library's completion callback
  copies the outcome, frees the ``oss_transfer_t`` and resolves asyncio futures through
  ``loop.call_soon_threadsafe`` (a closed loop is ignored) and a ``threading.Event``.
"""

from __future__ import annotations

import asyncio
import atexit
import builtins
import ctypes
import datetime as _dt
import email.utils
import enum
import itertools
import os
import threading
import urllib.parse
from ctypes import byref, c_char_p, c_uint64, c_void_p
from dataclasses import dataclass, field
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from . import _lib
from ._credentials import CredentialsSource
from ._errors import CancelledError, ErrorKind, InvalidArgumentError, OssError, check, take_error
from ._lib import (
    CREDENTIALS_CB,
    DONE_CB,
    FREE_CB,
    LOG_CB,
    PROGRESS_ABORTABLE_CB,
    PROGRESS_CB,
    WRITE_CB,
    Library,
)

PathLike = Union[str, "os.PathLike[str]"]
#: ``(start, end)`` inclusive byte offsets; ``end`` None or -1 means "to the end".
ByteRange = Tuple[int, Optional[int]]
#: ``progress(increment, transferred, total)``
ProgressCallback = Callable[[int, int, int], Any]
Credentials = Union[
    Tuple[str, str],
    Tuple[str, str, Optional[str]],
    Callable[[], Sequence[Optional[str]]],
    CredentialsSource,
    None,
]
DateLike = Union[str, _dt.datetime]
ETags = Union[str, Iterable[str], None]

_U16, _U32, _U64, _I64 = (1 << 16) - 1, (1 << 32) - 1, (1 << 64) - 1, (1 << 63) - 1
_WAIT_SLICE = 0.05  # seconds the main thread sleeps between checks for signals / cancel_event


# --------------------------------------------------------------------------------------------
# argument conversion: wrong types and values C cannot represent fail here, before C is called


def _str(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (name, type(value).__name__))
    if "\0" in value:
        raise ValueError("%s must not contain NUL characters" % name)
    return value.encode("utf-8", "surrogatepass")


def _opt_str(value: Any, name: str) -> Optional[bytes]:
    return None if value is None else _str(value, name)


def _path(value: Any, name: str) -> bytes:
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError("%s must be a path (str or os.PathLike), not %s" % (name, type(value).__name__))
    b = os.fsencode(value)
    if b"\0" in b:
        raise ValueError("%s must not contain NUL characters" % name)
    return b


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if not lo <= value <= hi:
        raise ValueError("%s must be in %d..%d, got %d" % (name, lo, hi, value))
    return value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError("%s must be a bool, not %s" % (name, type(value).__name__))
    return value


def _callable(value: Any, name: str) -> Any:
    if value is not None and not callable(value):
        raise TypeError("%s must be callable, not %s" % (name, type(value).__name__))
    return value


def _range(value: Any) -> Optional[Tuple[int, int]]:
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError("range must be a (start, end) tuple (end inclusive, None = to the end)")
    start = _int(value[0], "range start", 0, _I64)
    end = -1 if value[1] is None else _int(value[1], "range end", -1, _I64)
    if end != -1 and end < start:
        raise ValueError("range end (%d) is before its start (%d)" % (end, start))
    return start, end


def _etags(value: ETags, name: str) -> Optional[List[bytes]]:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    return [_str(v, name) for v in items]


def _etag_array(items: List[bytes]) -> Any:
    return (c_char_p * len(items))(*items)


def _date(value: Optional[DateLike], name: str) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("%s must be timezone-aware (e.g. datetime.timezone.utc)" % name)
        return email.utils.formatdate(value.timestamp(), usegmt=True).encode()
    return _str(value, name)


# --------------------------------------------------------------------------------------------
# callback registry and trampolines


_registry: Dict[int, Any] = {}
_registry_lock = threading.Lock()
_keys = itertools.count(1)


def _register(obj: Any) -> int:
    with _registry_lock:
        key = next(_keys)
        _registry[key] = obj
        return key


def _unregister(key: int) -> None:
    with _registry_lock:
        _registry.pop(key, None)


def _lookup(user_data: Optional[int]) -> Any:
    return _registry.get(user_data or 0)


class _CallContext:
    """Per-call state shared by the trampolines: the callable, the first exception it raised,
    and how to cancel the C call."""

    def __init__(self, lib: Library, progress: Optional[ProgressCallback]) -> None:
        self.lib = lib
        self.progress = progress
        self.error: Optional[BaseException] = None
        self.chunks: List[bytes] = []
        self.cancelled = False
        self._cancel: Optional[Callable[[], None]] = None

    def set_cancel(self, fn: Optional[Callable[[], None]]) -> None:
        self._cancel = fn

    def cancel(self) -> None:
        self.cancelled = True
        if self._cancel is not None:
            self._cancel()

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.cancel()


def _progress_trampoline(increment: int, transferred: int, total: int, user_data: Optional[int]) -> None:
    ctx = _lookup(user_data)
    if ctx is None or ctx.error is not None or ctx.progress is None:
        return
    try:
        ctx.progress(increment, transferred, total)
    except BaseException as e:  # noqa: BLE001 - must never propagate into C
        ctx.fail(e)


def _write_trampoline(data: Optional[int], length: int, user_data: Optional[int]) -> int:
    ctx = _lookup(user_data)
    if ctx is None or ctx.error is not None or ctx.cancelled:
        return 1
    try:
        ctx.chunks.append(ctypes.string_at(data, length) if length and data else b"")
        return 0
    except BaseException as e:  # noqa: BLE001
        ctx.error = ctx.error or e
        return 1


class _CredentialsContext:
    def __init__(self, lib: Library, fn: Callable[[], Sequence[Optional[str]]]) -> None:
        self.lib = lib
        self.fn = fn
        self.last_error: Optional[BaseException] = None


def _credentials_tuple(value: Any) -> Tuple[bytes, bytes, Optional[bytes]]:
    if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
        raise TypeError(
            "credentials must be (access_key_id, access_key_secret[, security_token]), got %r"
            % type(value).__name__
        )
    token = value[2] if len(value) == 3 else None
    return (
        _str(value[0], "access_key_id"),
        _str(value[1], "access_key_secret"),
        None if token in (None, "") else _str(token, "security_token"),
    )


def _credentials_trampoline(user_data: Optional[int], out: Optional[int]) -> int:
    ctx = _lookup(user_data)
    if ctx is None:
        return 1
    try:
        ak, sk, token = _credentials_tuple(ctx.fn())
        check(ctx.lib, ctx.lib.oss_credentials_set(out, ak, sk, token))
        return 0
    except BaseException as e:  # noqa: BLE001
        ctx.last_error = e
        return 1


def _log_trampoline(level: int, message: Optional[bytes], user_data: Optional[int]) -> None:
    fn = _lookup(user_data)
    if fn is None:
        return
    try:
        fn(int(level), (message or b"").decode("utf-8", "replace"))
    except BaseException:  # noqa: BLE001 - a failing log sink must not break downloads
        pass


def _free_trampoline(user_data: Optional[int]) -> None:
    try:
        _unregister(user_data or 0)
    except BaseException:  # noqa: BLE001 - may run during interpreter shutdown
        pass


# The ctypes function pointers handed to C: module globals, alive as long as the module.
_PROGRESS = PROGRESS_CB(_progress_trampoline)
_WRITE = WRITE_CB(_write_trampoline)
_CREDENTIALS = CREDENTIALS_CB(_credentials_trampoline)
_LOG = LOG_CB(_log_trampoline)
_FREE = FREE_CB(_free_trampoline)


# --------------------------------------------------------------------------------------------
# SDK lifecycle

_sdk_lock = threading.Lock()
_atexit_registered = False
_log_key: Optional[int] = None


def version() -> str:
    """The loaded library's version, e.g. ``"0.1.0"`` (loads the library if needed)."""
    return _lib.lib().version


def initialize() -> None:
    """Initialises the SDK (idempotent). Called automatically when a :class:`Client` is made.

    Registers :func:`shutdown` with :mod:`atexit` the first time.
    """
    global _atexit_registered
    lib = _lib.lib()
    with _sdk_lock:
        if not lib.oss_is_sdk_initialized():
            check(lib, lib.oss_initialize_sdk())
        if not _atexit_registered:
            atexit.register(_atexit_shutdown)
            _atexit_registered = True


def shutdown() -> None:
    """Shuts the SDK down: running calls fail with :class:`CancelledError`, later calls with
    :class:`NotInitializedError` until a new :class:`Client` (or :func:`initialize`)."""
    if _lib._library is None:
        return
    with _sdk_lock:
        _lib._library.oss_shutdown_sdk()


def is_initialized() -> bool:
    """Whether the SDK is initialised."""
    return _lib._library is not None and bool(_lib._library.oss_is_sdk_initialized())


def _atexit_shutdown() -> None:
    try:
        set_log_handler(None)
    finally:
        shutdown()


def set_log_level(level: int) -> None:
    """Sets the library's log level (0 off ... 6 trace, ``oss_log_level_t``)."""
    _lib.lib().oss_set_log_level(_int(level, "level", 0, _U32))


def set_log_handler(handler: Optional[Callable[[int, str], Any]]) -> None:
    """Routes the library's log lines to ``handler(level, message)`` (None: back to stderr).

    The handler runs on library threads; exceptions it raises are ignored.
    """
    global _log_key
    _callable(handler, "handler")
    lib = _lib.lib()
    with _sdk_lock:
        if handler is None:
            lib.oss_set_log_callback(LOG_CB(), None, FREE_CB())
            _log_key = None
            return
        key = _register(handler)
        # The previous handler's key is released by C through _FREE when replaced.
        lib.oss_set_log_callback(_LOG, key, _FREE)
        _log_key = key


def crc64(data: Union[bytes, bytearray, memoryview], crc: int = 0) -> int:
    """CRC-64/XZ (``x-oss-hash-crc64ecma``) of ``data``, continuing ``crc``."""
    buf = bytes(data)
    return int(_lib.lib().oss_crc64(_int(crc, "crc", 0, _U64), buf, len(buf)))


def crc64_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC of A followed by B from crc(A), crc(B) and len(B)."""
    return int(
        _lib.lib().oss_crc64_combine(
            _int(crc1, "crc1", 0, _U64), _int(crc2, "crc2", 0, _U64), _int(len2, "len2", 0, _U64)
        )
    )


# --------------------------------------------------------------------------------------------
# metadata


@dataclass(frozen=True)
class ObjectMeta:
    """Object metadata from HeadObject / GetObjectMeta / GetObject / a resumable download.

    ``content_length`` is the whole object's size (also after a ranged download); ``etag`` is
    verbatim with its quotes; ``crc64`` is None when the server sent no
    ``x-oss-hash-crc64ecma``; ``user_meta`` maps ``x-oss-meta-*`` names (without the prefix,
    lower-case) to values; ``headers`` holds every response header (lower-case names).
    """

    content_length: int
    etag: str
    last_modified: str
    crc64: Optional[int]
    version_id: str
    request_id: str
    content_type: str
    object_type: str
    user_meta: Dict[str, str] = field(default_factory=dict)
    headers: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def _take(cls, lib: Library, ptr: Optional[int]) -> "ObjectMeta":
        """Copies everything out of an ``oss_object_meta_t *`` (does not free it)."""

        def s(b: Optional[bytes]) -> str:
            return b.decode("utf-8", "replace") if b else ""

        crc = c_uint64()
        has_crc = lib.oss_object_meta_crc64(ptr, byref(crc))

        def pairs(count_fn: Any, at_fn: Any) -> Dict[str, str]:
            out: Dict[str, str] = {}
            name, value = c_char_p(), c_char_p()
            for i in range(count_fn(ptr)):
                if at_fn(ptr, i, byref(name), byref(value)):
                    out[s(name.value)] = s(value.value)
            return out

        return cls(
            content_length=int(lib.oss_object_meta_content_length(ptr)),
            etag=s(lib.oss_object_meta_etag(ptr)),
            last_modified=s(lib.oss_object_meta_last_modified(ptr)),
            crc64=int(crc.value) if has_crc else None,
            version_id=s(lib.oss_object_meta_version_id(ptr)),
            request_id=s(lib.oss_object_meta_request_id(ptr)),
            content_type=s(lib.oss_object_meta_content_type(ptr)),
            object_type=s(lib.oss_object_meta_object_type(ptr)),
            user_meta=pairs(lib.oss_object_meta_user_meta_count, lib.oss_object_meta_user_meta_at),
            headers=pairs(lib.oss_object_meta_header_count, lib.oss_object_meta_header_at),
        )


# --------------------------------------------------------------------------------------------
# running a blocking C call so that Ctrl-C and cancel_event still work


def _run_blocking(
    call: Callable[[], Optional[int]],
    ctx: _CallContext,
    cancel_event: Optional[threading.Event],
) -> Optional[int]:
    """Runs ``call`` (a C call returning ``oss_error_t *``) and returns its result.

    From the main thread, or with a ``cancel_event``, the call runs on a worker thread while
    this thread waits in short slices: a ``KeyboardInterrupt`` (or any exception raised here by
    a signal handler) cancels the call, waits for C to return, frees its error and re-raises.
    Other threads call C directly (they never receive signals).
    """
    if cancel_event is None and threading.current_thread() is not threading.main_thread():
        return call()
    box: Dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["err"] = call()
        except BaseException as e:  # noqa: BLE001 - e.g. ctypes.ArgumentError
            box["exc"] = e
        finally:
            done.set()

    worker = threading.Thread(target=work, name="oss_ffi-call", daemon=True)
    worker.start()
    interrupted: Optional[BaseException] = None
    try:
        while not done.wait(_WAIT_SLICE):
            if cancel_event is not None and cancel_event.is_set() and not ctx.cancelled:
                ctx.cancel()
    except BaseException as e:  # KeyboardInterrupt, SystemExit from a signal handler...
        interrupted = e
        ctx.cancel()
        while True:  # C returns promptly once cancelled; a second Ctrl-C must not free early
            try:
                if done.wait(_WAIT_SLICE):
                    break
            except BaseException:  # noqa: BLE001
                ctx.cancel()
    if "exc" in box:
        raise box["exc"]
    err = box.get("err")
    if interrupted is not None:
        take_error(ctx.lib, err)  # frees it; the interruption wins
        raise interrupted
    return err


def _raise_for(
    ctx: _CallContext, err: Optional[int], creds: "Optional[_CredentialsContext]" = None
) -> None:
    """Frees ``err``; raises the callback's exception if one failed, else the OssError (with
    the credentials callable's exception as ``__cause__`` when that is what failed)."""
    e = take_error(ctx.lib, err)
    if e is not None and e.code == "InvalidCredentials" and creds is not None:
        cause = creds.last_error
        if cause is not None:
            e.__cause__ = cause
    if ctx.error is not None:
        if e is not None:
            raise ctx.error from e
        raise ctx.error
    if e is not None:
        raise e


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
                self._error = take_error(lib, err)
            else:
                try:
                    self._meta = ObjectMeta._take(lib, meta.value)
                finally:
                    lib.oss_object_meta_free(meta)
            if final.state == TransferState.PAUSED:
                buf, n = c_void_p(), ctypes.c_size_t()
                e = take_error(lib, lib.oss_transfer_take_resume_token(ptr, byref(buf), byref(n)))
                if e is None:
                    try:
                        self._token = ctypes.string_at(buf.value, n.value) if n.value else b""
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

    @property
    def state(self) -> TransferState:
        return self.status().state

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
        return self._callback_error or self._error

    def _raise_outcome(self) -> None:
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
        try:
            self.wait()
        except BaseException:
            self.cancel()
            while True:
                try:
                    self.wait()
                    break
                except BaseException:  # noqa: BLE001 - a second Ctrl-C
                    self.cancel()
            raise
        return self._outcome()

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

    def __await__(self) -> Any:
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


# --------------------------------------------------------------------------------------------
# the client

_CONFIG_KEYS = (
    "user_agent",
    "max_connections",
    "connect_timeout_ms",
    "request_timeout_ms",
    "call_timeout_ms",
    "retries",
    "retry_base_delay_ms",
    "proxy",
    "verify_tls",
    "ca_file",
    "ca_path",
    "cname",
    "path_style",
    "crc64",
    "date_skew_adjustment",
    "recv_rate_limit_kbps",
    "memory_budget",
    "resolve",
)


def _apply_config(lib: Library, cfg: int, config: Dict[str, Any]) -> None:
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    if unknown:
        raise TypeError(
            "unknown Client option(s) %s; known: %s" % (", ".join(unknown), ", ".join(_CONFIG_KEYS))
        )
    c = config
    if c.get("user_agent") is not None:
        check(lib, lib.oss_config_set_user_agent(cfg, _str(c["user_agent"], "user_agent")))
    if c.get("max_connections") is not None:
        n = _int(c["max_connections"], "max_connections", 0, _U32)
        check(lib, lib.oss_config_set_max_connections(cfg, n))
    for key, fn in (
        ("connect_timeout_ms", lib.oss_config_set_connect_timeout_ms),
        ("request_timeout_ms", lib.oss_config_set_request_timeout_ms),
        ("call_timeout_ms", lib.oss_config_set_call_timeout_ms),
        ("recv_rate_limit_kbps", lib.oss_config_set_recv_rate_limit_kbps),
        ("memory_budget", lib.oss_config_set_memory_budget),
    ):
        if c.get(key) is not None:
            check(lib, fn(cfg, _int(c[key], key, 0, _U64)))
    if c.get("retries") is not None or c.get("retry_base_delay_ms") is not None:
        retries = 3 if c.get("retries") is None else _int(c["retries"], "retries", 0, _U32)
        base = 300 if c.get("retry_base_delay_ms") is None else c["retry_base_delay_ms"]
        check(lib, lib.oss_config_set_retry(cfg, retries, _int(base, "retry_base_delay_ms", 0, _U64)))
    for key, fn in (
        ("verify_tls", lib.oss_config_set_verify_tls),
        ("cname", lib.oss_config_set_cname),
        ("path_style", lib.oss_config_set_path_style),
        ("crc64", lib.oss_config_set_crc64),
        ("date_skew_adjustment", lib.oss_config_set_date_skew_adjustment),
    ):
        if c.get(key) is not None:
            check(lib, fn(cfg, _bool(c[key], key)))
    if c.get("ca_file") is not None:
        check(lib, lib.oss_config_set_ca_file(cfg, _path(c["ca_file"], "ca_file")))
    if c.get("ca_path") is not None:
        check(lib, lib.oss_config_set_ca_path(cfg, _path(c["ca_path"], "ca_path")))
    if c.get("resolve") is not None:
        entries = c["resolve"]
        if isinstance(entries, (str, bytes)):
            entries = [entries]
        if not isinstance(entries, (list, tuple)):
            raise TypeError("resolve must be a 'HOST:PORT:ADDR[,ADDR...]' string or a list of them")
        for entry in entries:
            check(lib, lib.oss_config_add_resolve(cfg, _str(entry, "resolve")))
    if c.get("proxy") is not None:
        proxy = _str(c["proxy"], "proxy").decode()
        u = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        if not u.hostname:
            raise ValueError("proxy must look like http://[user:password@]host:port, got %r" % proxy)
        port = u.port or (443 if u.scheme == "https" else 80)
        check(
            lib,
            lib.oss_config_set_proxy(
                cfg,
                u.scheme.encode(),
                u.hostname.encode(),
                port,
                None if u.username is None else urllib.parse.unquote(u.username).encode(),
                None if u.password is None else urllib.parse.unquote(u.password).encode(),
            ),
        )


class Client:
    """A client for one OSS endpoint; thread-safe, meant to be shared (one connection pool).

    Args:
        endpoint: ``"https://oss-cn-hangzhou.aliyuncs.com"``, ``"http://127.0.0.1:9000"``...
        credentials: ``(access_key_id, access_key_secret)`` or with a third STS token; None to
            read ``OSS_ACCESS_KEY_ID`` / ``OSS_ACCESS_KEY_SECRET`` / ``OSS_SESSION_TOKEN`` before
            each request; or a callable returning ``(ak, sk, token_or_None)``, asked before each
            request (rotating STS credentials; it runs on a library thread); or a cloud source:
            :class:`DefaultChain`, :class:`Profile`, :class:`EcsRamRole`, :class:`OidcRole`,
            :class:`RamRoleArn` (fetched and refreshed by the library).
        region: the V4 signing region, e.g. ``"cn-hangzhou"`` (required for V4).
        signature_version: ``"v4"`` (OSS4-HMAC-SHA256) or ``"v1"`` (HMAC-SHA1).
        **config: ``max_connections``, ``connect_timeout_ms``, ``request_timeout_ms`` (idle),
            ``call_timeout_ms`` (a deadline for every whole call, retries included; 0/None:
            none; past it :class:`TimeoutError`, a resumable download keeps its checkpoint),
            ``retries``, ``retry_base_delay_ms``, ``verify_tls``, ``ca_file``, ``ca_path``,
            ``path_style``, ``cname``, ``crc64``, ``date_skew_adjustment``,
            ``recv_rate_limit_kbps``, ``memory_budget`` (bytes, the memory of all the
            client's downloads together: 16 MiB..1 TiB, default 64 MiB), ``proxy`` (``"http://user:pw@host:port"``), ``user_agent``,
            ``resolve`` (``"HOST:PORT:ADDR[,ADDR...]"`` or a list of them: addresses for HOST
            and BUCKET.HOST instead of the name service's, as curl's ``--resolve``; PORT must be
            the endpoint's; connections are spread over a host's addresses either way).

    Making a client initialises the SDK if needed. Use it as a context manager (or call
    :meth:`close`) to release it deterministically; the garbage collector is the fallback.
    """

    _handle: Optional[int] = None

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials = None,
        region: Optional[str] = None,
        signature_version: str = "v4",
        **config: Any,
    ) -> None:
        self._lock = threading.Lock()
        self._handle = None
        self._credentials_ctx: Optional[_CredentialsContext] = None
        endpoint_b = _str(endpoint, "endpoint")
        region_b = _opt_str(region, "region")
        if not isinstance(signature_version, str) or signature_version.lower() not in ("v1", "v4"):
            raise ValueError("signature_version must be 'v1' or 'v4', got %r" % (signature_version,))
        sig = 1 if signature_version.lower() == "v4" else 0
        if sig == 1 and not region:
            raise ValueError("signature_version='v4' needs a region (e.g. region='cn-hangzhou')")
        static = None
        source = credentials if isinstance(credentials, CredentialsSource) else None
        if credentials is not None and source is None and not callable(credentials):
            static = _credentials_tuple(credentials)
        initialize()
        lib = self._lib = _lib.lib()
        cfg = lib.oss_config_new()
        provider = c_void_p()
        try:
            _apply_config(lib, cfg, config)
            check(lib, lib.oss_config_set_signature_version(cfg, sig))
            if region_b is not None:
                check(lib, lib.oss_config_set_region(cfg, region_b))
            if source is not None:
                provider = source._provider(lib)
            elif credentials is None:
                check(lib, lib.oss_credentials_provider_new_env(byref(provider)))
            elif static is not None:
                check(lib, lib.oss_credentials_provider_new_static(*static, byref(provider)))
            else:
                ctx = _CredentialsContext(lib, credentials)  # type: ignore[arg-type]
                key = _register(ctx)
                err = lib.oss_credentials_provider_new_callback(_CREDENTIALS, key, _FREE, byref(provider))
                if err:
                    _unregister(key)
                check(lib, err)
                self._credentials_ctx = ctx
            out = c_void_p()
            check(lib, lib.oss_client_new(endpoint_b, provider, cfg, byref(out)))
            self._handle = out.value
        finally:
            lib.oss_config_free(cfg)
            lib.oss_credentials_provider_free(provider)  # the client keeps its own reference

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the client. Calls already running keep their own reference and finish."""
        with self._lock:
            h, self._handle = self._handle, None
        if h:
            self._lib.oss_client_free(h)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except BaseException:  # noqa: BLE001 - interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._handle is None

    def _ref(self) -> int:
        """A reference of our own for one call (``oss_client_clone``), so that ``close`` from
        another thread can never free the handle under a running call."""
        with self._lock:
            if not self._handle:
                raise ValueError("the client is closed")
            return int(self._lib.oss_client_clone(self._handle))

    def set_region(self, region: str) -> None:
        """Changes the V4 signing region for later requests."""
        h = self._ref()
        try:
            check(self._lib, self._lib.oss_client_set_region(h, _str(region, "region")))
        finally:
            self._lib.oss_client_free(h)

    def disable_requests(self) -> None:
        """Aborts every request of this client in flight and refuses new ones until
        :meth:`enable_requests`."""
        h = self._ref()
        try:
            self._lib.oss_client_disable_requests(h)
        finally:
            self._lib.oss_client_free(h)

    def enable_requests(self) -> None:
        """Allows requests again after :meth:`disable_requests`."""
        h = self._ref()
        try:
            self._lib.oss_client_enable_requests(h)
        finally:
            self._lib.oss_client_free(h)

    # -- calls -------------------------------------------------------------------------------

    def resumable_download(
        self,
        bucket: str,
        key: str,
        path: Optional[PathLike] = None,
        *,
        checkpoint_dir: Optional[PathLike] = None,
        part_size: Optional[int] = None,
        threads: Optional[int] = None,
        range: Optional[ByteRange] = None,  # noqa: A002 - the name users expect
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        verify_on_resume: bool = True,
        direct_io: bool = True,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
        throughput_target: Union[int, str, None] = None,
    ) -> ObjectMeta:
        """Downloads ``bucket/key`` to ``path`` in parts, concurrently, verified (CRC64).

        Args:
            path: the destination (default: the key, relative to the current directory).
            checkpoint_dir: an existing directory; makes the download resumable (a cancelled
                or interrupted download continues where it stopped on the next call).
            part_size: bytes per part (102400 .. 5 GiB; default 8 MiB).
            threads: parts downloaded at once (1..1000; default 4).
            range: ``(start, end)`` inclusive; ``end`` None means to the end.
            progress: ``progress(increment, transferred, total)``, called on a library thread
                (serialised, about 10 times a second); ``transferred`` never decreases and ends
                at ``total``. If it raises, the download is cancelled and the exception is
                re-raised here.
            cancel_event: when set (from any thread, e.g. a progress callable), the download is
                cancelled and :class:`CancelledError` raised; the checkpoint is kept.
            verify_on_resume: re-read the finished parts of a resumed download and check their
                CRC64 (default True: every byte of the file is then either received or read
                back and checked by the call); False trusts the checkpoint's recorded CRCs.
            direct_io: write the temp file with direct I/O (O_DIRECT) where the file system
                allows it (default True: no second copy into the page cache, durability almost
                free); False writes through the page cache. Same bytes, same guarantees.
            throughput_target: instead of ``threads``, a rate to reach in bytes per second, or
                ``"max"`` for as fast as the link allows: parts in flight start at what the
                target implies (64 for ``"max"``), double while each step raises the rate
                measured over a few round trips by 10% or more and shrink on a capped link,
                within the client's ``memory_budget``.

        Ctrl-C (KeyboardInterrupt) cancels the download, leaves the checkpoint, and re-raises.

        Returns the object's metadata. Raises :class:`OssError` (a subclass per kind).
        """
        if cancel_event is not None and not isinstance(cancel_event, threading.Event):
            raise TypeError("cancel_event must be a threading.Event")
        _callable(progress, "progress")
        lib = self._lib
        req = self._download_request(
            bucket, key, path, checkpoint_dir, part_size, threads, range, version_id, if_match,
            if_none_match, if_modified_since, if_unmodified_since, verify_on_resume, direct_io,
            traffic_limit, request_payer, throughput_target,
        )
        ctx = _CallContext(lib, progress)
        ctx_key = _register(ctx)
        h: Optional[int] = None
        meta = c_void_p()
        try:
            if progress is not None:
                check(lib, lib.oss_download_request_set_progress(req, _PROGRESS, ctx_key, FREE_CB()))
            req_ptr = req
            ctx.set_cancel(lambda: lib.oss_download_request_cancel(req_ptr))
            h = self._ref()
            handle = h
            err = _run_blocking(
                lambda: lib.oss_client_resumable_download_object(handle, req_ptr, byref(meta)),
                ctx,
                cancel_event,
            )
            _raise_for(ctx, err, self._credentials_ctx)
            return ObjectMeta._take(lib, meta.value)
        finally:
            # _run_blocking only returns once C has returned: nothing uses req any more.
            lib.oss_object_meta_free(meta)
            if h is not None:
                lib.oss_client_free(h)
            lib.oss_download_request_free(req)
            _unregister(ctx_key)

    def _download_request(
        self,
        bucket: str,
        key: str,
        path: Optional[PathLike],
        checkpoint_dir: Optional[PathLike],
        part_size: Optional[int],
        threads: Optional[int],
        range_: Optional[ByteRange],
        version_id: Optional[str],
        if_match: ETags,
        if_none_match: ETags,
        if_modified_since: Optional[DateLike],
        if_unmodified_since: Optional[DateLike],
        verify_on_resume: bool,
        direct_io: bool,
        traffic_limit: Optional[int],
        request_payer: bool,
        throughput_target: Union[int, str, None] = None,
    ) -> int:
        """A new ``oss_download_request_t *`` (the caller's to free) with every option set; the
        arguments are all checked before C is called."""
        lib = self._lib
        bucket_b, key_b = _str(bucket, "bucket"), _str(key, "key")
        path_b = None if path is None else _path(path, "path")
        ckpt_b = None if checkpoint_dir is None else _path(checkpoint_dir, "checkpoint_dir")
        part = None if part_size is None else _int(part_size, "part_size", 1, _U64)
        nthreads = None if threads is None else _int(threads, "threads", 1, _U32)
        rng = _range(range_)
        vid = _opt_str(version_id, "version_id")
        match, nomatch = _etags(if_match, "if_match"), _etags(if_none_match, "if_none_match")
        since, unsince = _date(if_modified_since, "if_modified_since"), _date(
            if_unmodified_since, "if_unmodified_since"
        )
        verify = _bool(verify_on_resume, "verify_on_resume")
        direct = _bool(direct_io, "direct_io")
        target = (
            None
            if throughput_target is None
            else _U64
            if throughput_target == "max"
            else _int(throughput_target, "throughput_target", 1, _U64 - 1)
        )
        limit = None if traffic_limit is None else _int(traffic_limit, "traffic_limit", 0, _U64)
        payer = _bool(request_payer, "request_payer")
        out = c_void_p()
        check(lib, lib.oss_download_request_new(bucket_b, key_b, path_b, byref(out)))
        req = int(out.value or 0)
        try:
            if ckpt_b is not None:
                check(lib, lib.oss_download_request_set_checkpoint_dir(req, ckpt_b))
            if part is not None:
                check(lib, lib.oss_download_request_set_part_size(req, part))
            if nthreads is not None:
                check(lib, lib.oss_download_request_set_thread_num(req, nthreads))
            if rng is not None:
                check(lib, lib.oss_download_request_set_range(req, *rng))
            if vid is not None:
                check(lib, lib.oss_download_request_set_version_id(req, vid))
            if match is not None:
                check(lib, lib.oss_download_request_set_matching_etags(req, _etag_array(match), len(match)))
            if nomatch is not None:
                check(
                    lib,
                    lib.oss_download_request_set_nonmatching_etags(req, _etag_array(nomatch), len(nomatch)),
                )
            if since is not None:
                check(lib, lib.oss_download_request_set_modified_since(req, since))
            if unsince is not None:
                check(lib, lib.oss_download_request_set_unmodified_since(req, unsince))
            check(lib, lib.oss_download_request_set_verify_on_resume(req, verify))
            check(lib, lib.oss_download_request_set_direct_io(req, direct))
            if target is not None:
                check(lib, lib.oss_download_request_set_throughput_target(req, target))
            if limit is not None:
                check(lib, lib.oss_download_request_set_traffic_limit(req, limit))
            if payer:
                check(lib, lib.oss_download_request_set_request_payer(req, True))
        except BaseException:
            lib.oss_download_request_free(req)
            raise
        return req

    def _object_request(
        self,
        bucket: str,
        key: str,
        version_id: Optional[str],
        range_: Optional[ByteRange],
        if_match: ETags,
        if_none_match: ETags,
        if_modified_since: Optional[DateLike],
        if_unmodified_since: Optional[DateLike],
        traffic_limit: Optional[int],
        request_payer: bool,
    ) -> int:
        lib = self._lib
        bucket_b, key_b = _str(bucket, "bucket"), _str(key, "key")
        vid = _opt_str(version_id, "version_id")
        rng = _range(range_)
        match, nomatch = _etags(if_match, "if_match"), _etags(if_none_match, "if_none_match")
        since = _date(if_modified_since, "if_modified_since")
        unsince = _date(if_unmodified_since, "if_unmodified_since")
        limit = None if traffic_limit is None else _int(traffic_limit, "traffic_limit", 0, _U64)
        payer = _bool(request_payer, "request_payer")
        req = c_void_p()
        check(lib, lib.oss_get_object_request_new(bucket_b, key_b, byref(req)))
        try:
            if vid is not None:
                check(lib, lib.oss_get_object_request_set_version_id(req, vid))
            if rng is not None:
                check(lib, lib.oss_get_object_request_set_range(req, *rng))
            if match is not None:
                check(lib, lib.oss_get_object_request_set_matching_etags(req, _etag_array(match), len(match)))
            if nomatch is not None:
                check(
                    lib,
                    lib.oss_get_object_request_set_nonmatching_etags(req, _etag_array(nomatch), len(nomatch)),
                )
            if since is not None:
                check(lib, lib.oss_get_object_request_set_modified_since(req, since))
            if unsince is not None:
                check(lib, lib.oss_get_object_request_set_unmodified_since(req, unsince))
            if limit is not None:
                check(lib, lib.oss_get_object_request_set_traffic_limit(req, limit))
            if payer:
                check(lib, lib.oss_get_object_request_set_request_payer(req, True))
        except BaseException:
            lib.oss_get_object_request_free(req)
            raise
        return int(req.value or 0)

    def _object_call(
        self,
        req: int,
        ctx: _CallContext,
        call: Callable[[int, int, Any], Optional[int]],
        cancel_event: Optional[threading.Event],
        want_meta: bool = True,
    ) -> Optional[ObjectMeta]:
        """Runs ``call(client, request, meta_out)``; frees the request, the meta and the error."""
        lib = self._lib
        ctx_key = _register(ctx)
        meta = c_void_p()
        h: Optional[int] = None
        try:
            if ctx.progress is not None:
                check(lib, lib.oss_get_object_request_set_progress(req, _PROGRESS, ctx_key, FREE_CB()))
            cancel_fn = lib.oss_get_object_request_cancel
            if cancel_fn is not None:
                ctx.set_cancel(lambda: cancel_fn(req))
            h = self._ref()
            handle = h
            err = _run_blocking(lambda: call(handle, req, byref(meta)), ctx, cancel_event)
            _raise_for(ctx, err, self._credentials_ctx)
            return ObjectMeta._take(lib, meta.value) if want_meta else None
        finally:
            lib.oss_object_meta_free(meta)
            if h is not None:
                lib.oss_client_free(h)
            lib.oss_get_object_request_free(req)
            _unregister(ctx_key)

    def head_object(
        self,
        bucket: str,
        key: str,
        version_id: Optional[str] = None,
        *,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        request_payer: bool = False,
    ) -> ObjectMeta:
        """HeadObject: size, ETag, Last-Modified, CRC64, content type, user metadata, headers."""
        req = self._object_request(
            bucket, key, version_id, None, if_match, if_none_match, if_modified_since,
            if_unmodified_since, None, request_payer,
        )
        lib = self._lib
        meta = self._object_call(
            req, _CallContext(lib, None), lambda c, r, m: lib.oss_client_head_object(c, r, m), None
        )
        assert meta is not None
        return meta

    def get_object_meta(
        self, bucket: str, key: str, version_id: Optional[str] = None, *, request_payer: bool = False
    ) -> ObjectMeta:
        """GetObjectMeta (``HEAD ?objectMeta``): size, ETag, Last-Modified, CRC64."""
        req = self._object_request(
            bucket, key, version_id, None, None, None, None, None, None, request_payer
        )
        lib = self._lib
        meta = self._object_call(
            req, _CallContext(lib, None), lambda c, r, m: lib.oss_client_get_object_meta(c, r, m), None
        )
        assert meta is not None
        return meta

    def get_object(
        self,
        bucket: str,
        key: str,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> bytes:
        """GetObject into memory (one request; a cut body is resumed; whole objects are
        CRC-checked). Returns the bytes (of the range, when given)."""
        return self.get_object_with_meta(
            bucket, key, range, version_id=version_id, progress=progress, if_match=if_match,
            if_none_match=if_none_match, if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since, traffic_limit=traffic_limit,
            request_payer=request_payer, cancel_event=cancel_event,
        )[0]

    def get_object_with_meta(
        self,
        bucket: str,
        key: str,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> Tuple[bytes, ObjectMeta]:
        """Like :meth:`get_object`, also returning the metadata."""
        _callable(progress, "progress")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        lib = self._lib
        ctx = _CallContext(lib, progress)
        ctx_key = _register(ctx)  # the write callback's user data
        try:
            meta = self._object_call(
                req,
                ctx,
                lambda c, r, m: lib.oss_client_get_object(c, r, _WRITE, ctx_key, m),
                cancel_event,
            )
        finally:
            _unregister(ctx_key)
        assert meta is not None
        return b"".join(ctx.chunks), meta

    def get_object_to_file(
        self,
        bucket: str,
        key: str,
        path: PathLike,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> ObjectMeta:
        """GetObject into ``path`` (written to ``path + ".temp"``, renamed when complete and
        verified; on failure ``path`` is untouched). One request, not resumable across runs."""
        _callable(progress, "progress")
        path_b = _path(path, "path")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        lib = self._lib
        meta = self._object_call(
            req,
            _CallContext(lib, progress),
            lambda c, r, m: lib.oss_client_get_object_to_file(c, r, path_b, m),
            cancel_event,
        )
        assert meta is not None
        return meta


    # -- asynchronous transfers ----------------------------------------------------------------

    def _start(
        self, pausable: bool, progress: Optional[ProgressCallback], set_progress: Any, start: Any
    ) -> Transfer:
        """Registers a :class:`Transfer`, sets the abortable progress trampoline through
        ``set_progress(cb, key, free)`` when ``progress`` is given, and calls
        ``start(client, done, key, free, out)``."""
        lib = self._lib
        t = Transfer(lib, pausable)
        t._progress = progress
        if progress is not None:
            pkey = _register(t)
            err = set_progress(_PROGRESS_ABORTABLE, pkey, _FREE)
            if err:
                _unregister(pkey)
            check(lib, err)
        h = self._ref()  # the transfer keeps a client reference of its own
        try:
            key = _register(t)
            out = c_void_p()
            # On an error C called _FREE (unregistering key) before returning; done never runs.
            check(lib, start(h, _DONE, key, _FREE, byref(out)))
        finally:
            lib.oss_client_free(h)
        t._started(int(out.value or 0))
        return t

    def start_resumable_download(
        self,
        bucket: str,
        key: str,
        path: Optional[PathLike] = None,
        *,
        checkpoint_dir: Optional[PathLike] = None,
        part_size: Optional[int] = None,
        threads: Optional[int] = None,
        range: Optional[ByteRange] = None,  # noqa: A002
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        verify_on_resume: bool = True,
        direct_io: bool = True,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        throughput_target: Union[int, str, None] = None,
    ) -> Transfer:
        """Starts :meth:`resumable_download` on the library's threads and returns its
        :class:`Transfer` at once (``await`` it, or :meth:`Transfer.result`). Same options,
        except ``cancel_event`` (use :meth:`Transfer.cancel`). ``progress`` runs on a library
        thread; if it raises, the transfer is aborted (the checkpoint kept) and the exception is
        re-raised by ``await`` / :meth:`Transfer.result`. Errors in the arguments raise here;
        every other failure (the server's, validation...) ends the transfer with that error."""
        lib = self._lib
        _require_async(lib)
        _callable(progress, "progress")
        req = self._download_request(
            bucket, key, path, checkpoint_dir, part_size, threads, range, version_id, if_match,
            if_none_match, if_modified_since, if_unmodified_since, verify_on_resume, direct_io,
            traffic_limit, request_payer, throughput_target,
        )
        try:
            return self._start(
                True,
                progress,
                lambda cb, k, f: lib.oss_download_request_set_progress_abortable(req, cb, k, f),
                lambda c, d, k, f, o: lib.oss_client_start_resumable_download(c, req, d, k, f, o),
            )
        finally:
            lib.oss_download_request_free(req)  # the transfer has its own copy

    async def resumable_download_async(
        self, bucket: str, key: str, path: Optional[PathLike] = None, **options: Any
    ) -> ObjectMeta:
        """``await client.resumable_download_async(bucket, key, path, **options)``: the
        asyncio form of :meth:`resumable_download` (same keyword options but ``cancel_event``),
        with no thread per download. Cancelling the awaiting task cancels the download (the
        checkpoint is kept), waits until it stopped and raises ``asyncio.CancelledError``."""
        return await self.start_resumable_download(bucket, key, path, **options)

    def _resume_settings(
        self,
        checkpoint_dir: Optional[PathLike],
        threads: Optional[int],
        direct_io: Optional[bool],
    ) -> Optional[int]:
        if checkpoint_dir is None and threads is None and direct_io is None:
            return None
        req = self._download_request(
            "settings", "settings", None, checkpoint_dir, None, threads, None, None, None, None,
            None, None, True, True if direct_io is None else direct_io, None, False,
        )
        return req

    def start_resume(
        self,
        token: bytes,
        *,
        progress: Optional[ProgressCallback] = None,
        threads: Optional[int] = None,
        direct_io: Optional[bool] = None,
        checkpoint_dir: Optional[PathLike] = None,
    ) -> Transfer:
        """Continues a paused download from its resume token (:meth:`Transfer.pause`), in this
        process or another, and returns its :class:`Transfer` at once. The token names the
        object, the destination, the range and the finished parts; only ``progress``,
        ``threads``, ``direct_io`` and ``checkpoint_dir`` may be given. A damaged (truncated,
        altered) token raises :class:`InvalidArgumentError` here; a token that does not hold
        (another object: :class:`ObjectChangedError`; a changed temp file...) ends the transfer
        with the error: tokens are checked, never trusted. Accept tokens only from where you
        would accept download requests (a token names its destination)."""
        lib = self._lib
        _require_async(lib)
        tok = _token_bytes(token)
        _callable(progress, "progress")
        if direct_io is not None:
            _bool(direct_io, "direct_io")
        settings = self._resume_settings(checkpoint_dir, threads, direct_io)
        if progress is not None and settings is None:
            settings = self._download_request(
                "settings", "settings", None, None, None, None, None, None, None, None, None,
                None, True, True, None, False,
            )
        try:
            return self._start(
                True,
                progress,
                lambda cb, k, f: lib.oss_download_request_set_progress_abortable(settings, cb, k, f),
                lambda c, d, k, f, o: lib.oss_client_start_resume(c, tok, len(tok), settings, d, k, f, o),
            )
        finally:
            if settings is not None:
                lib.oss_download_request_free(settings)

    def resume(self, token: bytes, **options: Any) -> ObjectMeta:
        """Blocking :meth:`start_resume`: returns the object's metadata once the download is
        complete and verified. Ctrl-C cancels it (a new token can be had only by pausing) and
        re-raises."""
        return self.start_resume(token, **options)._result_interruptible()

    async def resume_async(self, token: bytes, **options: Any) -> ObjectMeta:
        """``await client.resume_async(token, **options)``: :meth:`start_resume`, awaited."""
        return await self.start_resume(token, **options)

    def start_get_object_to_file(
        self,
        bucket: str,
        key: str,
        path: PathLike,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
    ) -> Transfer:
        """Starts :meth:`get_object_to_file` on the library's threads and returns its
        :class:`Transfer` (it cannot be paused; cancel removes the temp file)."""
        lib = self._lib
        _require_async(lib)
        _callable(progress, "progress")
        path_b = _path(path, "path")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        try:
            return self._start(
                False,
                progress,
                lambda cb, k, f: lib.oss_get_object_request_set_progress_abortable(req, cb, k, f),
                lambda c, d, k, f, o: lib.oss_client_start_get_object_to_file(c, req, path_b, d, k, f, o),
            )
        finally:
            lib.oss_get_object_request_free(req)

    async def get_object_to_file_async(
        self, bucket: str, key: str, path: PathLike, range: Optional[ByteRange] = None, **options: Any  # noqa: A002
    ) -> ObjectMeta:
        """``await client.get_object_to_file_async(bucket, key, path, range, **options)``:
        :meth:`start_get_object_to_file`, awaited (task cancellation cancels it)."""
        return await self.start_get_object_to_file(bucket, key, path, range, **options)


__all__ = [
    "Client",
    "ObjectMeta",
    "Transfer",
    "TransferState",
    "TransferStatus",
    "OssError",
    "CancelledError",
    "initialize",
    "shutdown",
    "is_initialized",
    "version",
    "set_log_level",
    "set_log_handler",
    "crc64",
    "crc64_combine",
]
