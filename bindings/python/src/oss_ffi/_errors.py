"""``OssError`` and its per-kind subclasses, built from (and freeing) ``oss_error_t``.

Each class is also the built-in exception that fits it, so that generic handlers work:
:class:`TimeoutError` is a :class:`builtins.TimeoutError`, :class:`LocalIOError` an
:class:`OSError` (``errno``, ``strerror``, ``filename`` where the library said them),
:class:`NoSuchKeyError` a :class:`FileNotFoundError`, :class:`InvalidArgumentError` a
:class:`ValueError`. They print as ``oss_ffi.<Name>``.
"""

from __future__ import annotations

import builtins
import enum
import errno as _errno
import re
from typing import Any, Dict, Optional, Tuple, Type

from ._lib import Library


class ErrorKind(enum.IntEnum):
    """Mirror of ``oss_error_kind_t`` (values fixed by the C ABI)."""

    NONE = 0
    INVALID_ARGUMENT = 1
    NULL_ARGUMENT = 2
    INVALID_UTF8 = 3
    SERVER = 4
    TRANSPORT = 5
    TIMEOUT = 6
    CRC_MISMATCH = 7
    CANCELLED = 8
    IO = 9
    OBJECT_CHANGED = 10
    NOT_INITIALIZED = 11
    BUSY = 12
    PANIC = 13


class OssError(Exception):
    """Any failure reported by liboss_ffi.

    Attributes:
        kind: the :class:`ErrorKind` (stable, for programmatic handling).
        code: exactly what the C++ SDK's ``OssError::Code()`` returns (``NoSuchKey``,
            ``SignatureDoesNotMatch``, ``ClientError:200028``, ``Cancelled``...).
        message: a readable message (never contains secrets).
        request_id: the server's request id ("" when no answer was received).
        host: the host the failing request went to ("" when none).
        http_status: the HTTP status of the failing answer (0 when none).
        ec: the server's ``EC`` detail code ("" when none).
        bucket, key: the object the failing call was about ("" when the call named none, e.g.
            :meth:`Client.resume`, whose token names it).
    """

    bucket: str = ""
    key: str = ""

    def __init__(
        self,
        kind: "ErrorKind | int",
        code: str,
        message: str,
        request_id: str = "",
        host: str = "",
        http_status: int = 0,
        ec: str = "",
    ) -> None:
        super().__init__(kind, code, message, request_id, host, http_status, ec)
        self.kind = kind
        self.code = code
        self.message = message
        self.request_id = request_id
        self.host = host
        self.http_status = http_status
        self.ec = ec

    def __str__(self) -> str:
        s = "%s: %s" % (self.code, self.message)
        extra = []
        if self.http_status:
            extra.append("HTTP %d" % self.http_status)
        if self.request_id:
            extra.append("request id %s" % self.request_id)
        if self.host:
            extra.append("host %s" % self.host)
        return s + (" (%s)" % ", ".join(extra) if extra else "")

    def __repr__(self) -> str:
        return "%s(kind=%s, code=%r, message=%r, request_id=%r, http_status=%d)" % (
            type(self).__name__,
            getattr(self.kind, "name", self.kind),
            self.code,
            self.message,
            self.request_id,
            self.http_status,
        )

    def _set_object(self, bucket: str, key: str) -> None:
        """Records the object the failing call was about."""
        self.bucket = bucket
        self.key = key

    def __reduce__(self) -> Tuple[Any, ...]:
        args = (self.kind, self.code, self.message, self.request_id, self.host, self.http_status, self.ec)
        return (type(self), args, {"bucket": self.bucket, "key": self.key})

    def __setstate__(self, state: Optional[Dict[str, Any]]) -> None:
        state = state or {}
        self._set_object(state.get("bucket", ""), state.get("key", ""))


class InvalidArgumentError(OssError, ValueError):
    """Bad parameters (also NULL argument, invalid UTF-8, signature V4 without a region);
    nothing was sent. Also a :class:`ValueError`."""


class ServerError(OssError):
    """The server answered with an error (``http_status``, ``request_id`` set)."""


class TransportError(OssError):
    """Connecting, sending or receiving failed after all retries."""


class NoSuchKeyError(ServerError, FileNotFoundError):
    """The object does not exist (``code == "NoSuchKey"``, HTTP 404): a :class:`ServerError`
    and a :class:`FileNotFoundError` (``errno.ENOENT``, ``filename`` ``"oss://bucket/key"``).

    Deliberately not a :class:`KeyError`: the client is not a mapping, and a ``KeyError``
    handler around dictionary lookups should not swallow a missing remote object."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.errno = _errno.ENOENT
        self.strerror = self.message

    def _set_object(self, bucket: str, key: str) -> None:
        super()._set_object(bucket, key)
        if bucket or key:
            self.filename = "oss://%s/%s" % (bucket, key)


class TimeoutError(OssError, builtins.TimeoutError):  # noqa: A001 - oss_ffi.TimeoutError
    """No data arrived within the request timeout after all retries, or the call's deadline
    (``call_timeout_ms``) passed. Also a :class:`builtins.TimeoutError`."""


class CrcMismatchError(OssError):
    """The CRC64 of the downloaded data differs from the server's."""


class CancelledError(OssError):
    """Cancelled (by the caller, ``Client.disable_requests`` or shutdown); resumable."""


#: The library's local I/O messages: ``<what> '<path>': <reason> (os error <n>)``.
_IO_MESSAGE = re.compile(r"^[^']*'(?P<path>.*)': (?P<reason>.*?)(?: \(os error (?P<errno>\d+)\))?$", re.S)


class LocalIOError(OssError, OSError):
    """A local file-system operation failed. Also an :class:`OSError`: ``errno`` and
    ``filename`` are set when the library's message names them (``None`` otherwise),
    ``strerror`` is the reason."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        m = _IO_MESSAGE.match(self.message)
        self.strerror = m.group("reason") if m else self.message
        if m:
            self.filename = m.group("path")
            if m.group("errno"):
                self.errno = int(m.group("errno"))


class ObjectChangedError(OssError):
    """The object changed on the server; stale state was removed, call again."""


class NotInitializedError(OssError):
    """The SDK is not initialised or was shut down."""


class BusyError(OssError):
    """Another download holds the destination file."""


class PanicError(OssError):
    """A bug in the library (a caught panic)."""


for _cls in (
    OssError, InvalidArgumentError, ServerError, NoSuchKeyError, TransportError, TimeoutError,
    CrcMismatchError, CancelledError, LocalIOError, ObjectChangedError, NotInitializedError,
    BusyError, PanicError,
):
    _cls.__module__ = "oss_ffi"  # tracebacks say oss_ffi.TimeoutError, not oss_ffi._errors...

_CLASSES: Dict[int, Type[OssError]] = {
    ErrorKind.INVALID_ARGUMENT: InvalidArgumentError,
    ErrorKind.NULL_ARGUMENT: InvalidArgumentError,
    ErrorKind.INVALID_UTF8: InvalidArgumentError,
    ErrorKind.SERVER: ServerError,
    ErrorKind.TRANSPORT: TransportError,
    ErrorKind.TIMEOUT: TimeoutError,
    ErrorKind.CRC_MISMATCH: CrcMismatchError,
    ErrorKind.CANCELLED: CancelledError,
    ErrorKind.IO: LocalIOError,
    ErrorKind.OBJECT_CHANGED: ObjectChangedError,
    ErrorKind.NOT_INITIALIZED: NotInitializedError,
    ErrorKind.BUSY: BusyError,
    ErrorKind.PANIC: PanicError,
}


def _s(b: Optional[bytes]) -> str:
    return b.decode("utf-8", "replace") if b else ""


def take_error(lib: Library, err: Optional[int]) -> Optional[OssError]:
    """Converts an ``oss_error_t *`` into an :class:`OssError` and frees it (exactly once).

    Returns None for NULL (success).
    """
    if not err:
        return None
    try:
        return read_error(lib, err)
    finally:
        lib.oss_error_free(err)


def read_error(lib: Library, err: int) -> OssError:
    """An :class:`OssError` read from a live ``const oss_error_t *`` (not NULL; not freed)."""
    raw_kind = int(lib.oss_error_kind(err))
    # A kind added by a newer patch release stays a plain int with the base class.
    kind: "ErrorKind | int" = (
        ErrorKind(raw_kind) if raw_kind in ErrorKind._value2member_map_ else raw_kind
    )
    cls = _CLASSES.get(kind, OssError)
    code = _s(lib.oss_error_code(err))
    if cls is ServerError and code == "NoSuchKey":
        cls = NoSuchKeyError
    return cls(
        kind,
        code,
        _s(lib.oss_error_message(err)),
        _s(lib.oss_error_request_id(err)),
        _s(lib.oss_error_host(err)),
        int(lib.oss_error_http_status(err)),
        _s(lib.oss_error_ec(err)),
    )


def check(lib: Library, err: Optional[int]) -> None:
    """Raises the error ``err`` (freeing it) unless it is NULL."""
    e = take_error(lib, err)
    if e is not None:
        raise e
