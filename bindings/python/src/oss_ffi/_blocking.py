"""Running a blocking C call so that Ctrl-C and ``cancel_event`` still work.

Every blocking C call that the main thread makes runs on a worker thread while the main thread
waits in a loop with a short timeout. So SIGINT is still delivered to the main thread as
``KeyboardInterrupt``; we then cancel the call through the C ABI (``oss_download_request_cancel``
/ ``oss_get_object_request_cancel``), wait for the worker to return, and re-raise. ctypes
releases the GIL for the whole C call. The workers are kept for the next calls (a few idle at
most; none survives a fork): a new thread per call cost a quarter of a CPU-second per GiB that a
reader read in 1 MiB pieces, and halved its speed on a fast link.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, Callable, Dict, Optional, Tuple

from ._callbacks import _CallContext, _CredentialsContext
from ._errors import take_error


_WAIT_SLICE = 0.05  # seconds the main thread sleeps between checks for signals / cancel_event
_MAX_IDLE = 4  # workers kept for the next calls


# --------------------------------------------------------------------------------------------
# the workers


_Job = Tuple[Callable[[], Optional[int]], Dict[str, Any], threading.Event]


class _Worker:
    """A daemon thread that runs the blocking C calls handed to it, one at a time."""

    def __init__(self) -> None:
        self._jobs: "queue.SimpleQueue[Optional[_Job]]" = queue.SimpleQueue()
        threading.Thread(target=self._loop, name="oss_ffi-call", daemon=True).start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            call, box, done = job
            try:
                box["err"] = call()
            except BaseException as e:  # noqa: BLE001 - e.g. ctypes.ArgumentError
                box["exc"] = e
            finally:
                done.set()

    def run(self, job: _Job) -> None:
        self._jobs.put(job)

    def stop(self) -> None:
        self._jobs.put(None)


_idle: "queue.SimpleQueue[_Worker]" = queue.SimpleQueue()


def _take_worker() -> _Worker:
    try:
        return _idle.get_nowait()
    except queue.Empty:
        return _Worker()


def _give_back(worker: _Worker) -> None:
    """Keeps ``worker`` (whose call has returned) for the next call, or stops it."""
    if _idle.qsize() < _MAX_IDLE:
        _idle.put(worker)
    else:
        worker.stop()


def _forget_workers() -> None:
    """In a forked child the workers' threads do not exist: never hand them a call."""
    global _idle
    _idle = queue.SimpleQueue()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


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
    worker = _take_worker()
    worker.run((call, box, done))
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
    _give_back(worker)
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
