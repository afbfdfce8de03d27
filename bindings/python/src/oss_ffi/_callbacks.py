"""The callback registry and the ctypes trampolines C calls back through.

* C callbacks (progress, write, credentials, log) go through module-level ctypes trampolines
  that live as long as the module; ``user_data`` is a key into a registry of Python objects,
  so no ctypes callback object can be collected while C may still call it.
* A Python exception never crosses into C: the trampolines catch everything, cancel the
  operation when they can, and the original exception is re-raised by the method that made
  the call once C has returned.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ._convert import ProgressCallback, _str
from ._errors import check
from ._lib import CREDENTIALS_CB, FREE_CB, LOG_CB, PROGRESS_CB, WRITE_CB, Library


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

    def __init__(
        self, lib: Library, progress: Optional[ProgressCallback], bucket: str = "", key: str = ""
    ) -> None:
        self.lib = lib
        self.progress = progress
        self.bucket = bucket  # named in the error raised
        self.key = key
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
