"""Per-request metrics: ``Client(metrics=callable)`` sees every attempt (503s retried), and the
client's and a transfer's summaries add them up. No timing assertions."""
from __future__ import annotations

import asyncio
import threading
from typing import List

import pytest

import oss_ffi
from conftest import AK, BUCKET, REGION, SK, data_of


def _client(emu, seen: List[oss_ffi.RequestMetrics]) -> oss_ffi.Client:
    lock = threading.Lock()

    def record(m: oss_ffi.RequestMetrics) -> None:
        with lock:
            seen.append(m)

    return oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, retry_base_delay_ms=5,
                          metrics=record)


def test_metrics_see_every_attempt_and_the_stats_add_them_up(emu, tmp_path) -> None:
    data = emu.put("metrics/obj.bin", data_of(200_000, 7))
    seen: List[oss_ffi.RequestMetrics] = []
    emu.set_faults([{"kind": "status", "status": 503, "method": "GET", "count": 2}])
    with _client(emu, seen) as c:
        c.resumable_download(BUCKET, "metrics/obj.bin", tmp_path / "out", threads=1)
        assert (tmp_path / "out").read_bytes() == data
        gets = [m for m in seen if m.operation == "GetObject"]
        assert [(m.attempt, m.http_status) for m in gets[:3]] == [(1, 503), (2, 503), (3, 206)]
        assert gets[0].error_code and not gets[2].error_code
        # The client's first request opened its connection, and was timed doing it.
        assert seen[0].connect is not None
        for m in seen:
            assert m.bucket == BUCKET and m.key == "metrics/obj.bin"
            assert m.request_id and m.remote_addr
            assert m.connect is None or m.connect >= 0
            assert m.memory_wait >= 0
            assert 0 <= m.first_byte <= m.total and 0 <= m.body <= m.total
        st = c.request_stats()
        assert st.requests == len(seen)
        assert st.retries == 2 and st.failed == 2
        assert st.bytes == len(data)


def test_a_transfer_adds_up_its_own_requests(emu, tmp_path) -> None:
    emu.put("metrics/a.bin", data_of(300_000, 8))
    seen: List[oss_ffi.RequestMetrics] = []
    with _client(emu, seen) as c:
        t = c.start_resumable_download(BUCKET, "metrics/a.bin", tmp_path / "a", part_size=102400)
        asyncio.run(_await(t))
        st = t.request_stats()
        assert st is not None and st.requests == len(seen) >= 3
        assert st.bytes == 300_000


async def _await(t: oss_ffi.Transfer) -> None:
    await t


def test_without_metrics_nothing_is_counted(v4, emu, tmp_path) -> None:
    emu.put("metrics/b.bin", data_of(1000, 9))
    v4.resumable_download(BUCKET, "metrics/b.bin", tmp_path / "b")
    assert v4.request_stats().requests == 0


def test_metrics_must_be_callable(emu) -> None:
    with pytest.raises(TypeError):
        oss_ffi.Client(emu.endpoint, credentials=(AK, SK), metrics=42)
