"""The worker threads that run the main thread's blocking C calls (``_blocking._run_blocking``)."""
from __future__ import annotations

import os
import threading
import time

import pytest

import oss_ffi
from oss_ffi import _blocking
from oss_ffi._callbacks import _CallContext


def _ctx() -> _CallContext:
    return _CallContext(oss_ffi._lib.lib(), None, "bucket", "key")


def test_the_main_threads_calls_reuse_their_worker_thread() -> None:
    """A reader's 1 MiB reads are one blocking call each: a new thread per call cost a quarter
    of a CPU-second per GiB. Calls one after the other run on one kept worker."""
    assert threading.current_thread() is threading.main_thread()
    ran_on = []
    for _ in range(20):
        assert _blocking._run_blocking(lambda: ran_on.append(threading.current_thread()), _ctx(), None) is None
    assert all(t is not threading.main_thread() for t in ran_on)
    assert all(t is ran_on[0] for t in ran_on), f"{len({id(t) for t in ran_on})} threads for 20 calls"
    # A call's exception still reaches the caller, and the worker stays usable.
    def boom() -> None:
        raise ValueError("from the call")

    with pytest.raises(ValueError, match="from the call"):
        _blocking._run_blocking(boom, _ctx(), None)
    assert _blocking._run_blocking(lambda: 7, _ctx(), None) == 7


def test_calls_at_once_from_several_threads_with_cancel_events_each_get_a_worker() -> None:
    """Calls made at once (threads with a cancel_event go through the workers too) never share
    one: each waits for its own call, and no more than a few workers are kept idle afterwards."""
    gate = threading.Barrier(6)
    results = {}

    def call(i: int) -> None:
        def inner() -> int:
            gate.wait(timeout=30)  # all six calls in progress at once
            return i

        results[i] = _blocking._run_blocking(inner, _ctx(), threading.Event())

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {i: i for i in range(6)}
    assert _blocking._idle.qsize() <= _blocking._MAX_IDLE


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_runs_blocking_calls() -> None:
    """The parent's kept workers do not exist in a forked child: the child makes its own."""
    assert _blocking._run_blocking(lambda: 1, _ctx(), None) == 1  # a worker is kept now
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if the call ran
        try:
            code = 0 if _blocking._run_blocking(lambda: 5, _ctx(), None) == 5 else 1
        except BaseException:  # noqa: BLE001
            code = 2
        os._exit(code)
    deadline = time.monotonic() + 60  # a guard against a hang, not a measure
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's blocking call never ran")
        time.sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
