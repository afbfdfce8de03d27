"""The SDK lifecycle, logging and CRC64."""

from __future__ import annotations

import atexit
import threading
from typing import Any, Callable, Optional, Union

from . import _lib
from ._callbacks import _FREE, _LOG, _register
from ._convert import _U32, _U64, _callable, _int
from ._errors import check
from ._lib import FREE_CB, LOG_CB


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
