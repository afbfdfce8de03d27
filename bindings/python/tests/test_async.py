"""The asynchronous API: Transfer, the *_async coroutines, pause -> token -> resume (here and in
another process), hostile tokens, a changed object, task cancellation, raising progress callbacks,
closed loops and clients, and no thread per download."""
from __future__ import annotations

import asyncio
import builtins
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import pytest

import oss_ffi
from oss_ffi import _callbacks
from conftest import AK, BUCKET, REGION, SK, data_of

SIZE = 8 * 1024 * 1024 + 3  # ~2 s at the slow client's 4 MiB/s
PART = 256 * 1024
SRC = os.path.join(os.path.dirname(__file__), "..", "src")


@pytest.fixture
def big(emu) -> bytes:
    return emu.put("async/big.bin", data_of(SIZE, 31))


def os_threads() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads: line")


def registry_size() -> int:
    with _callbacks._registry_lock:
        return len(_callbacks._registry)


def registry_back_to(n: int) -> bool:
    """The progress callback's user data is released when the library drops the transfer's copy
    of the request, which may be just after the completion ran: wait a little for it."""
    t0 = time.monotonic()
    while registry_size() != n and time.monotonic() - t0 < 5:
        time.sleep(0.01)
    return registry_size() == n


async def until(cond, timeout: float = 20.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        await asyncio.sleep(0.005)


def test_many_concurrent_downloads_one_loop_no_thread_each(v4, emu, tmp_path) -> None:
    n = 60
    objs = {"async/many/%02d" % i: emu.put("async/many/%02d" % i, data_of(150_000 + i * 23_457, 100 + i))
            for i in range(n)}
    v4.resumable_download(BUCKET, "async/many/00", tmp_path / "warm", part_size=102400)  # runtime up
    base_py, base_os = threading.active_count(), os_threads()
    reg0 = registry_size()
    peak = {"os": base_os, "py": base_py}

    async def main() -> list:
        transfers = [
            v4.start_resumable_download(BUCKET, k, tmp_path / k.replace("/", "_"), part_size=102400,
                                        threads=2)
            for k in objs
        ]

        async def sample() -> None:
            while not all(t.done() for t in transfers):
                peak["os"] = max(peak["os"], os_threads())
                peak["py"] = max(peak["py"], threading.active_count())
                await asyncio.sleep(0.002)

        sampler = asyncio.ensure_future(sample())
        metas = await asyncio.gather(*transfers)
        await sampler
        assert all(t._handle is None for t in transfers)  # every oss_transfer_t freed
        return metas

    metas = asyncio.run(main())
    for (k, data), meta in zip(objs.items(), metas):
        assert meta.content_length == len(data)
        assert (tmp_path / k.replace("/", "_")).read_bytes() == data, k
    # No Python thread at all, and the library's threads are a fixed pool (workers + at most 16
    # blocking threads), not one per download.
    print("threads: python %d -> %d, OS %d -> peak %d" % (base_py, peak["py"], base_os, peak["os"]))
    assert peak["py"] == base_py
    assert peak["os"] - base_os <= 24 < n, (base_os, peak)  # 16 blocking threads at most, slack
    assert registry_back_to(reg0)  # every completion ran once and released its user data


def test_many_concurrent_downloads_via_coroutines(v4, emu, tmp_path) -> None:
    objs = {"async/co/%02d" % i: emu.put("async/co/%02d" % i, data_of(40_000 + i * 999, 300 + i))
            for i in range(50)}

    async def main() -> list:
        return await asyncio.gather(*(
            v4.resumable_download_async(BUCKET, k, tmp_path / k.replace("/", "_")) for k in objs
        ) , *(
            v4.get_object_to_file_async(BUCKET, k, tmp_path / (k.replace("/", "_") + ".g")) for k in objs
        ))

    metas = asyncio.run(main())
    assert len(metas) == 100
    for k, data in objs.items():
        assert (tmp_path / k.replace("/", "_")).read_bytes() == data
        assert (tmp_path / (k.replace("/", "_") + ".g")).read_bytes() == data


def test_sync_use_of_a_transfer(slow, v4, big, tmp_path) -> None:
    t = slow.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "a", part_size=PART)
    assert not t.wait(0) and not t.done()
    with pytest.raises(builtins.TimeoutError):
        t.result(timeout=0.05)
    st = t.status()
    assert st.state == oss_ffi.TransferState.RUNNING
    t.cancel()
    with pytest.raises(oss_ffi.CancelledError):
        t.result(timeout=10)
    assert t.status().state == oss_ffi.TransferState.CANCELLED
    assert isinstance(t.exception(), oss_ffi.CancelledError)
    assert t.resume_token is None
    t2 = v4.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "b", part_size=PART)
    meta = t2.result(timeout=30)
    assert meta.content_length == SIZE and (tmp_path / "b").read_bytes() == big
    st = t2.status()
    assert (st.transferred, st.total, st.state) == (SIZE, SIZE, oss_ffi.TransferState.SUCCEEDED)
    assert t2.pause() is None  # it succeeded: nothing to resume
    assert "SUCCEEDED" in repr(t2)


def test_cancelling_the_task_cancels_the_transfer(slow, v4, big, tmp_path) -> None:
    dest, ckpt = tmp_path / "big.bin", tmp_path / "ckpt"
    ckpt.mkdir()
    seen = []

    async def main() -> oss_ffi.Transfer:
        task = asyncio.ensure_future(slow.resumable_download_async(
            BUCKET, "async/big.bin", dest, checkpoint_dir=ckpt, part_size=PART, threads=4,
            progress=lambda i, d, t: seen.append(d),
        ))
        await until(lambda: seen and seen[-1] >= SIZE // 4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Cancelled, not run to its end.
        assert seen[-1] < SIZE
        # the same with a Transfer: cancelling the awaiting task ends the transfer first
        t = slow.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "other",
                                          part_size=PART)
        async def waiter() -> None:
            await t

        task = asyncio.ensure_future(waiter())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert t.done() and t.status().state == oss_ffi.TransferState.CANCELLED
        return t

    asyncio.run(main())
    assert not dest.exists() and list(ckpt.iterdir()), "the checkpoint is kept"
    first = []
    v4.resumable_download(BUCKET, "async/big.bin", dest, checkpoint_dir=ckpt, part_size=PART,
                          progress=lambda i, d, t: first.append(d) if not first else None)
    assert 0 < first[0] < SIZE and dest.read_bytes() == big


def test_shield_does_not_cancel(v4, emu, tmp_path) -> None:
    data = emu.put("async/shield.bin", data_of(2_000_000, 7))

    async def main() -> None:
        t = v4.start_resumable_download(BUCKET, "async/shield.bin", tmp_path / "s")
        outer = asyncio.ensure_future(asyncio.shield(t))
        await asyncio.sleep(0)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
        assert (await t).content_length == len(data)

    asyncio.run(main())
    assert (tmp_path / "s").read_bytes() == data


def _pause_half_way(client, dest, **kw) -> bytes:
    async def main() -> bytes:
        t = client.start_resumable_download(BUCKET, "async/big.bin", dest, part_size=PART,
                                            threads=4, **kw)
        await until(lambda: t.status().transferred >= SIZE // 4)
        token = await t.pause_async()
        assert isinstance(token, bytes) and token
        assert t.status().state == oss_ffi.TransferState.PAUSED and t.resume_token == token
        with pytest.raises(oss_ffi.CancelledError):
            await t  # a paused transfer ends with kind CANCELLED
        return token

    return asyncio.run(main())


def test_pause_token_resume_same_process(slow, v4, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    reg0 = registry_size()
    token = _pause_half_way(slow, dest)  # no checkpoint directory: the temp file is kept anyway
    assert not dest.exists()
    first = []

    async def resume() -> oss_ffi.ObjectMeta:
        return await v4.resume_async(token, threads=8,
                                     progress=lambda i, d, t: first.append(d) if not first else None)

    meta = asyncio.run(resume())
    assert meta.content_length == SIZE and dest.read_bytes() == big
    assert 0 < first[0] < SIZE, first  # it continued, it did not start afresh
    with pytest.raises(oss_ffi.OssError):
        v4.resume(token)  # a token is good once: the temp file is gone now
    assert registry_back_to(reg0)


def test_sync_pause_and_resume(slow, v4, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    t = slow.start_resumable_download(BUCKET, "async/big.bin", dest, part_size=PART)
    while t.status().transferred < SIZE // 4:
        time.sleep(0.01)
    token = t.pause(timeout=10)
    assert isinstance(token, bytes)
    meta = v4.resume(bytearray(token))
    assert meta.content_length == SIZE and dest.read_bytes() == big


def test_pause_from_the_progress_callback(slow, v4, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    box = {}

    def progress(inc, done, total):
        if done >= total // 3:
            box["t"].request_pause()

    box["t"] = t = slow.start_resumable_download(BUCKET, "async/big.bin", dest, part_size=PART,
                                                 progress=progress)
    with pytest.raises(oss_ffi.CancelledError):
        t.result(timeout=20)
    assert t.status().state == oss_ffi.TransferState.PAUSED
    assert v4.resume(t.resume_token).content_length == SIZE and dest.read_bytes() == big


def test_resume_in_another_process(slow, emu, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    token = _pause_half_way(slow, dest)
    (tmp_path / "token").write_bytes(token)
    script = textwrap.dedent("""
        import asyncio, sys
        import oss_ffi
        token = open(sys.argv[1], "rb").read()
        with oss_ffi.Client(sys.argv[2], credentials=(%r, %r), region=%r) as c:
            meta = asyncio.run(c.resume_async(token))
        print(meta.content_length)
    """ % (AK, SK, REGION))
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    # another working directory: the token holds absolute paths
    r = subprocess.run([sys.executable, "-c", script, str(tmp_path / "token"), emu.endpoint],
                       cwd="/", env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(SIZE)
    assert dest.read_bytes() == big


def test_hostile_tokens_are_refused(slow, v4, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    token = _pause_half_way(slow, dest)
    flipped = bytearray(token)
    flipped[len(flipped) // 2] ^= 0x20
    for bad in (b"", b"junk", token[:-1], token[: len(token) // 2], token + b"\0", bytes(flipped),
                b"\xff" * len(token)):
        with pytest.raises(oss_ffi.InvalidArgumentError) as ei:
            v4.start_resume(bad)
        assert isinstance(ei.value, oss_ffi.OssError) and "refused" in ei.value.message
        with pytest.raises(oss_ffi.OssError):
            v4.resume(bad)
    for wrong in ("a str", None, 42):
        with pytest.raises(TypeError):
            v4.start_resume(wrong)  # type: ignore[arg-type]
    assert not dest.exists()
    # the genuine token still works after all that
    assert v4.resume(token).content_length == SIZE and dest.read_bytes() == big


def test_a_changed_temp_file_is_refused(slow, v4, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    token = _pause_half_way(slow, dest)
    temps = [p for p in tmp_path.iterdir() if p.name != "token"]
    assert len(temps) == 1, temps
    with open(temps[0], "r+b") as f:  # the finished parts are re-read and CRC-checked
        f.write(b"\0" * 1024)
    with pytest.raises(oss_ffi.OssError) as ei:
        v4.resume(token)
    assert "refused" in ei.value.message or ei.value.kind == oss_ffi.ErrorKind.CRC_MISMATCH
    assert not dest.exists()


def test_object_changed_between_pause_and_resume(slow, v4, emu, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    token = _pause_half_way(slow, dest)
    time.sleep(1.1)  # another Last-Modified as well as another ETag
    emu.put("async/big.bin", data_of(SIZE, 32))
    with pytest.raises(oss_ffi.ObjectChangedError):
        asyncio.run(v4.resume_async(token))
    assert not dest.exists()


def test_raising_progress_aborts_and_is_reraised(slow, big, tmp_path) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()

    class Boom(Exception):
        pass

    def progress(inc, done, total):
        if done >= total // 4:
            raise Boom("stop")

    async def main() -> None:
        with pytest.raises(Boom) as ei:
            await slow.resumable_download_async(BUCKET, "async/big.bin", tmp_path / "a",
                                                checkpoint_dir=ckpt, part_size=PART,
                                                progress=progress)
        assert isinstance(ei.value.__cause__, oss_ffi.CancelledError)
        assert ei.value.__cause__.code == "ClientError:200042"
        with pytest.raises(Boom):
            await slow.get_object_to_file_async(BUCKET, "async/big.bin", tmp_path / "g",
                                                progress=progress)

    asyncio.run(main())
    assert list(ckpt.iterdir()), "the checkpoint is kept"
    assert not (tmp_path / "a").exists() and not (tmp_path / "g").exists()


def test_get_object_to_file_transfer(slow, v4, big, tmp_path) -> None:
    t = slow.start_get_object_to_file(BUCKET, "async/big.bin", tmp_path / "g", (10, 1_000_009))
    with pytest.raises(ValueError):
        t.request_pause()
    with pytest.raises(ValueError):
        t.pause()
    assert t.result(timeout=20).content_length == SIZE
    assert (tmp_path / "g").read_bytes() == big[10:1_000_010]


def test_errors_end_the_transfer(v4, tmp_path) -> None:
    async def main() -> None:
        with pytest.raises(oss_ffi.ServerError) as ei:
            await v4.resumable_download_async(BUCKET, "async/no-such-key", tmp_path / "n")
        assert ei.value.code == "NoSuchKey"
        with pytest.raises(oss_ffi.ServerError):
            await v4.get_object_to_file_async(BUCKET, "async/no-such-key", tmp_path / "n")

    asyncio.run(main())
    with pytest.raises(TypeError):
        v4.start_resumable_download(BUCKET, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v4.start_resumable_download(BUCKET, "k", cancel_event=threading.Event())  # type: ignore
    with pytest.raises(TypeError):
        v4.start_resumable_download(BUCKET, "k", progress=3)  # type: ignore[arg-type]


def test_loop_closed_before_the_completion(slow, big, tmp_path) -> None:
    reg0 = registry_size()
    loop = asyncio.new_event_loop()
    t = slow.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "a", part_size=PART)

    async def waiter() -> None:
        await t

    task = loop.create_task(waiter())
    loop.run_until_complete(asyncio.sleep(0.1))  # the task now waits on a future of this loop
    assert not t.done() and t._waiters
    loop.set_exception_handler(lambda loop, context: None)  # "Task was destroyed but it is pending"
    loop.close()  # still pending: the completion must not crash on the closed loop
    del task
    assert t.result(timeout=20).content_length == SIZE
    assert (tmp_path / "a").read_bytes() == big
    assert t._handle is None and registry_back_to(reg0)


def test_client_closed_with_transfers_in_flight(emu, big, tmp_path) -> None:
    c = oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION)
    ts = [c.start_resumable_download(BUCKET, "async/big.bin", tmp_path / ("f%d" % i),
                                     part_size=1 << 20) for i in range(8)]
    c.close()  # each transfer holds a client reference of its own
    with pytest.raises(ValueError):
        c.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "x")
    ts[0].cancel()
    for i, t in enumerate(ts[1:], 1):
        assert t.result(timeout=30).content_length == SIZE
        assert (tmp_path / ("f%d" % i)).read_bytes() == big
    with pytest.raises(oss_ffi.CancelledError):
        ts[0].result(timeout=10)


def test_dropped_transfers_and_exit_with_transfers_in_flight(emu, big, tmp_path) -> None:
    """A subprocess drops Transfer objects, leaves awaiting tasks on a closed loop, closes its
    client and exits with transfers running: the shutdown at exit completes them, no crash."""
    script = textwrap.dedent("""
        import asyncio, gc, sys
        import oss_ffi
        c = oss_ffi.Client(sys.argv[1], credentials=(%r, %r), region=%r, recv_rate_limit_kbps=1024)
        for i in range(5):
            c.start_resumable_download("py-bucket", "async/big.bin", sys.argv[2] + "/d%%d" %% i)
        gc.collect()
        loop = asyncio.new_event_loop()
        ts = [c.start_resumable_download("py-bucket", "async/big.bin", sys.argv[2] + "/e%%d" %% i)
              for i in range(5)]
        async def w(t):
            await t
        tasks = [loop.create_task(w(t)) for t in ts]
        loop.run_until_complete(asyncio.sleep(0.2))
        loop.close()
        c.close()
        print("exiting", flush=True)
    """ % (AK, SK, REGION))
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    r = subprocess.run([sys.executable, "-c", script, emu.endpoint, str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "exiting"
    assert "Fatal" not in r.stderr and "Segmentation" not in r.stderr


def test_waiting_from_its_own_progress_callback_is_refused(slow, big, tmp_path) -> None:
    box, seen = {}, []

    def progress(inc, done, total):
        if done >= total // 5 and not seen:
            try:
                box["t"].pause()  # would wait for itself: refused, not a deadlock
            except RuntimeError as e:
                seen.append(e)
            box["t"].cancel()

    box["t"] = t = slow.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "a",
                                                 part_size=PART, progress=progress)
    with pytest.raises(oss_ffi.CancelledError):
        t.result(timeout=20)
    assert seen and "own progress callback" in str(seen[0])


def _reframe(token: bytes, edit, key=None, version=None) -> bytes:
    """A token with its JSON body edited and sealed again (the format is documented in
    src/download/resume_token.rs: magic, version, body length, body, HMAC-SHA256 under the
    resume token key): with `key` (HMAC-SHA256, the current seal) or, without one, a plain
    SHA-256 (the earlier release's seal, which anyone can compute)."""
    import hashlib
    import hmac
    import json

    n = int.from_bytes(token[20:24], "little")
    body = json.loads(token[24:24 + n])
    edit(body)
    raw = json.dumps(body, separators=(",", ":")).encode()
    v = token[16:20] if version is None else version.to_bytes(4, "little")
    head = token[:16] + v + len(raw).to_bytes(4, "little") + raw
    if key is None:
        return head + hashlib.sha256(head).digest()
    return head + hmac.new(key, head, hashlib.sha256).digest()


def _user_key() -> bytes:
    """The per-user resume token key the first pause made (in conftest's scratch
    XDG_CONFIG_HOME)."""
    from conftest import CONFIG_HOME

    path = os.path.join(CONFIG_HOME, "oss-ffi", "resume-token.key")
    assert os.stat(path).st_mode & 0o777 == 0o600
    with open(path, "rb") as f:
        return f.read()


def test_forged_tokens_are_refused_and_nothing_is_written(slow, v4, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    token = _pause_half_way(slow, dest)
    key = _user_key()
    assert _reframe(token, lambda b: None, key) == token  # the framing is understood
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    decoy = tmp_path / "decoy.temp"
    decoy.write_bytes(b"\0" * SIZE)

    def bad_crc(b):
        b["record"]["parts"][0]["crc64"] ^= 1

    def other_dest(b):
        b["file_path"] = str(victim)

    def other_dest_everywhere(b):
        b["file_path"] = b["record"]["dest_path"] = str(victim)

    def other_temp(b):
        b["record"]["temp_path"] = str(decoy)

    def more_parts(b):
        parts = b["record"]["parts"]
        last = parts[-1]
        parts.append(dict(last, index=last["index"] + 1, offset=last["offset"] + last["size"]))

    def other_key(b):
        b["key"] = "async/other"

    def no_record_other_dest(b):
        b["record"] = None
        b["file_path"] = str(victim)

    edits = (bad_crc, other_dest, other_dest_everywhere, other_temp, more_parts, other_key,
             no_record_other_dest)
    # Sealed under this user's key: authentic but lying, refused by the record's judgment (a
    # record-less request to the victim, which a token under the right key can be, is what a
    # key holder may ask anyway; only the checks after it stand between the others and a file).
    # Re-sealed with a plain SHA-256, in the current format and in the earlier release's, or
    # under another key: refused by the MAC check at the start.
    seals = [("user key", key, None, edits[:-1]), ("unkeyed", None, None, edits),
             ("format 1", None, 1, edits), ("another key", b"\x55" * 32, None, edits),
             ("another user's key", bytes(b ^ 0xFF for b in key), None, edits)]
    for name, k, version, which in seals:
        for edit in which:
            forged = _reframe(token, edit, k, version)
            if k is not key:
                with pytest.raises(oss_ffi.InvalidArgumentError) as ei:
                    v4.start_resume(forged)  # refused at the start, before any request
                msg = ei.value.message
                assert ("earlier release" if version == 1 else "MAC does not verify") in msg, \
                    (name, edit.__name__, msg)
            with pytest.raises(oss_ffi.OssError) as ei:
                asyncio.run(v4.resume_async(forged))
            assert isinstance(ei.value, oss_ffi.InvalidArgumentError), (name, edit.__name__, ei.value)
            assert "refused" in ei.value.message, (name, edit.__name__, ei.value)
            assert victim.read_bytes() == b"precious", (name, edit.__name__)
            assert not dest.exists(), (name, edit.__name__)
    for cut in (1, 32, len(token) - 24):
        with pytest.raises(oss_ffi.InvalidArgumentError):
            v4.start_resume(token[:-cut])
    assert decoy.read_bytes() == b"\0" * SIZE
    # nothing was written: the genuine token still continues the download
    assert v4.resume(token).content_length == SIZE and dest.read_bytes() == big


def test_a_configured_resume_token_key_seals_and_checks_tokens(emu, big, tmp_path) -> None:
    dest = tmp_path / "big.bin"
    k1, k2 = b"\x01" * 32, b"\x02" * 16
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION,
                        recv_rate_limit_kbps=4096, resume_token_key=k1) as slow1:
        token = _pause_half_way(slow1, dest)
    assert _reframe(token, lambda b: None, k1) == token  # sealed with the configured key
    for other in ({"resume_token_key": k2}, {}):  # another key, and the per-user key file
        with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, **other) as c:
            with pytest.raises(oss_ffi.InvalidArgumentError) as ei:
                c.start_resume(token)
            assert "MAC does not verify" in ei.value.message
    assert not dest.exists()
    for bad in (b"short", b"x" * 1025):
        with pytest.raises(oss_ffi.InvalidArgumentError):
            oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, resume_token_key=bad)
    with pytest.raises(TypeError):
        oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION,
                       resume_token_key="a str of 16 chars")
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION,
                        resume_token_key=bytearray(k1)) as c1:
        assert c1.resume(token).content_length == SIZE and dest.read_bytes() == big


def test_wait_for_timeout_cancels_the_transfer(slow, big, tmp_path) -> None:
    async def main() -> oss_ffi.Transfer:
        t = slow.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "a", part_size=PART)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(t, 0.2)
        assert t.done() and t.status().state == oss_ffi.TransferState.CANCELLED
        return t

    asyncio.run(main())
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("target", ["max", 50 << 20])
def test_throughput_target_async(v4, emu, tmp_path, target) -> None:
    data = emu.put("async/target.bin", data_of(3_000_000, 9))
    meta = asyncio.run(v4.resumable_download_async(BUCKET, "async/target.bin", tmp_path / "t",
                                                   part_size=102400, throughput_target=target))
    assert meta.content_length == len(data) and (tmp_path / "t").read_bytes() == data
    with pytest.raises(ValueError):
        v4.start_resumable_download(BUCKET, "async/target.bin", tmp_path / "u",
                                    throughput_target=0)


def test_a_transfer_inherited_through_fork_raises_in_the_child(slow, big, tmp_path) -> None:
    """In a process fork()ed while a transfer runs, awaiting it, waiting for it, reading its
    status or pausing it raises InvalidArgumentError at once (its task and the library's threads
    exist in the parent only: it would never end there); cancel does nothing. The parent's
    transfer is not affected."""
    t = slow.start_resumable_download(BUCKET, "async/big.bin", tmp_path / "a", part_size=PART)
    assert t.status().state == oss_ffi.TransferState.RUNNING
    r, w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads: on purpose
        pid = os.fork()
    if pid == 0:  # the child: reports through the pipe and its exit status, never returns
        code = 1
        try:
            os.close(r)
            signal.alarm(60)  # a hang becomes SIGALRM, which the parent reports
            problems = []

            async def main() -> None:
                await t

            calls = [
                ("await", lambda: asyncio.run(main())),
                ("wait", t.wait),
                ("result", t.result),
                ("status", t.status),
                ("pause", t.pause),
                ("request_pause", t.request_pause),
            ]
            for name, call in calls:
                try:
                    call()
                    problems.append("%s returned" % name)
                except oss_ffi.InvalidArgumentError as e:
                    if "fork" not in str(e):
                        problems.append("%s: %s" % (name, e))
            t.cancel()  # nothing here, nothing in the parent
            if t.done():
                problems.append("done in the child")
            os.write(w, "\n".join(problems).encode())
            code = 1 if problems else 0
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            os.write(w, repr(e).encode())
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        report = f.read().decode()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (
        "child status %d%s: %s"
        % (status, " (hung: SIGALRM)" if os.WIFSIGNALED(status) else "", report)
    )
    meta = t.result(timeout=60)
    assert meta.content_length == SIZE and (tmp_path / "a").read_bytes() == big
