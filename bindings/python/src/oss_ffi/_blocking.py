"""Running a blocking C call so that Ctrl-C and ``cancel_event`` still work.

Every blocking C call that the main thread makes runs on a short-lived worker thread while the
main thread waits in a loop with a short timeout. So SIGINT is still delivered to the main
thread as ``KeyboardInterrupt``; we then cancel the call through the C ABI
(``oss_download_request_cancel`` / ``oss_get_object_request_cancel``), wait for the worker to
return, and re-raise. ctypes releases the GIL for the whole C call.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional

from ._callbacks import _CallContext, _CredentialsContext
from ._errors import take_error


_WAIT_SLICE = 0.05  # seconds the main thread sleeps between checks for signals / cancel_event


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
    if e is not None:
        e._set_object(ctx.bucket, ctx.key)
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
