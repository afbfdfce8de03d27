"""Per-request metrics: ``Client(metrics=callable)`` is called once per request attempt (retries
included) with a :class:`RequestMetrics`; :class:`RequestStats` adds a client's or a transfer's
requests up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

from ._lib import REQUEST_METRICS_CB, RequestStatsC


@dataclass(frozen=True)
class RequestMetrics:
    """One request attempt. Times in seconds; ``connect`` is None (connecting is part of
    ``first_byte``: the HTTP stack does not say which request opened a connection)."""

    operation: str
    bucket: str
    key: str
    #: The download part it is for, 1-based; 0 when none.
    part_number: int
    #: (first, last) byte asked for, inclusive; None for the whole object (last -1: to the end).
    range: Optional[Tuple[int, int]]
    #: 0 when no answer came.
    http_status: int
    #: Empty when the attempt succeeded.
    error_code: str
    request_id: str
    #: "ip:port", empty when unknown.
    remote_addr: str
    attempt: int
    bytes: int
    sign: float
    permit_wait: float
    connect: Optional[float]
    first_byte: float
    body: float
    write: float
    retry_wait: float
    total: float
    #: Waiting for room in the client's memory budget before this attempt.
    memory_wait: float = 0.0


@dataclass(frozen=True)
class RequestStats:
    """Requests added up (all zero when the client has no ``metrics`` callback). Times in
    seconds, summed over requests (parallel requests add up to more than the wall time)."""

    requests: int
    retries: int
    failed: int
    bytes: int
    sign: float
    permit_wait: float
    first_byte: float
    body: float
    write: float
    retry_wait: float
    #: Connecting (the attempts that opened a connection) and waiting for the memory budget.
    connect: float = 0.0
    memory_wait: float = 0.0
    #: Slow parts of downloads re-requested on a new connection (``reissue_slow_parts``).
    reissued: int = 0


def _stats(c: RequestStatsC) -> RequestStats:
    return RequestStats(
        int(c.requests),
        int(c.retries),
        int(c.failed),
        int(c.bytes),
        c.sign_us / 1e6,
        c.permit_wait_us / 1e6,
        c.first_byte_us / 1e6,
        c.body_us / 1e6,
        c.write_us / 1e6,
        c.retry_wait_us / 1e6,
        c.connect_us / 1e6,
        c.memory_wait_us / 1e6,
        int(c.reissued),
    )


def _s(b: Optional[bytes]) -> str:
    return (b or b"").decode("utf-8", "replace")


def _metrics_trampoline(p: Any, user_data: Optional[int]) -> None:
    from ._callbacks import _lookup

    fn: Optional[Callable[[RequestMetrics], Any]] = _lookup(user_data)
    if fn is None or not p:
        return
    try:
        m = p.contents
        rng = None if m.range_start < 0 else (int(m.range_start), int(m.range_end))
        fn(
            RequestMetrics(
                _s(m.operation),
                _s(m.bucket),
                _s(m.key),
                int(m.part_number),
                rng,
                int(m.http_status),
                _s(m.error_code),
                _s(m.request_id),
                _s(m.remote_addr),
                int(m.attempt),
                int(m.bytes),
                m.sign_us / 1e6,
                m.permit_wait_us / 1e6,
                None if m.connect_us < 0 else m.connect_us / 1e6,
                m.first_byte_us / 1e6,
                m.body_us / 1e6,
                m.write_us / 1e6,
                m.retry_wait_us / 1e6,
                m.total_us / 1e6,
                m.memory_wait_us / 1e6,
            )
        )
    except BaseException:  # noqa: BLE001 - a failing metrics sink must not break downloads
        pass


#: The ctypes function pointer handed to C: a module global, alive as long as the module.
_METRICS = REQUEST_METRICS_CB(_metrics_trampoline)
