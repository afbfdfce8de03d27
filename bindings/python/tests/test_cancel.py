"""Cancellation: cancel_event, Ctrl-C (KeyboardInterrupt / a real SIGINT), raising callbacks."""
from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import oss_ffi
from conftest import AK, REGION, SK, data_of

SIZE = 8 * 1024 * 1024 + 3  # ~2 s at the slow client's 4 MiB/s
PART = 256 * 1024


@pytest.fixture
def big(emu) -> bytes:
    return emu.put("cancel/big.bin", data_of(SIZE, 21))


def _resume_and_check(client, tmp_path, dest, ckpt, data) -> None:
    """Resumes: the first progress call reports the bytes already on disk; the file is right."""
    first = []
    client.resumable_download(
        "py-bucket", "cancel/big.bin", dest, checkpoint_dir=ckpt, part_size=PART, threads=4,
        progress=lambda i, d, t: first.append(d) if not first else None,
    )
    assert first and 0 < first[0] < SIZE, first
    assert dest.read_bytes() == data
    assert list(ckpt.iterdir()) == []


def test_cancel_event_then_resume(slow, big, tmp_path) -> None:
    dest, ckpt = tmp_path / "big.bin", tmp_path / "ckpt"
    ckpt.mkdir()
    stop = threading.Event()

    def progress(inc: int, done: int, total: int) -> None:
        if done >= total // 4:
            stop.set()  # a client-side cancel from the callback thread

    with pytest.raises(oss_ffi.CancelledError) as ei:
        slow.resumable_download(
            "py-bucket", "cancel/big.bin", dest, checkpoint_dir=ckpt, part_size=PART, threads=4,
            progress=progress, cancel_event=stop,
        )
    assert ei.value.kind == oss_ffi.ErrorKind.CANCELLED and ei.value.code == "Cancelled"
    assert not dest.exists()
    assert list(ckpt.iterdir()), "no checkpoint left"
    _resume_and_check(slow, tmp_path, dest, ckpt, big)


def test_keyboard_interrupt_cancels_and_leaves_checkpoint(slow, big, tmp_path) -> None:
    dest, ckpt = tmp_path / "big.bin", tmp_path / "ckpt"
    ckpt.mkdir()
    fired = []

    def progress(inc: int, done: int, total: int) -> None:
        if done >= total // 4 and not fired:
            fired.append(done)
            _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread

    with pytest.raises(KeyboardInterrupt):
        slow.resumable_download(
            "py-bucket", "cancel/big.bin", dest, checkpoint_dir=ckpt, part_size=PART, threads=4,
            progress=progress,
        )
    assert fired and not dest.exists()
    assert list(ckpt.iterdir()), "no checkpoint left"
    _resume_and_check(slow, tmp_path, dest, ckpt, big)


def test_real_sigint_in_a_subprocess(emu, big, tmp_path) -> None:
    dest, ckpt = tmp_path / "big.bin", tmp_path / "ckpt"
    ckpt.mkdir()
    script = textwrap.dedent(
        """
        import sys, oss_ffi
        c = oss_ffi.Client(sys.argv[1], credentials=(%r, %r), region=%r, recv_rate_limit_kbps=2048)
        def progress(inc, done, total):
            if done:
                print("started", flush=True)
        try:
            c.resumable_download("py-bucket", "cancel/big.bin", sys.argv[2], checkpoint_dir=sys.argv[3],
                                 part_size=%d, threads=4, progress=progress)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
        print("finished", flush=True)
        """
        % (AK, SK, REGION, PART)
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(oss_ffi.__path__[0])] + sys.path)
    p = subprocess.Popen(
        [sys.executable, "-c", script, emu.endpoint, str(dest), str(ckpt)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert p.stdout is not None
    line = p.stdout.readline()
    assert line.strip() == "started", (line, p.stderr.read() if p.stderr else "")
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, (out, err)
    assert "interrupted" in out and "Traceback" not in err
    assert not dest.exists() and list(ckpt.iterdir())
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION) as c:
        _resume_and_check(c, tmp_path, dest, ckpt, big)


class Boom(Exception):
    pass


def test_raising_progress_cancels_and_reraises(slow, big, tmp_path) -> None:
    dest, ckpt = tmp_path / "big.bin", tmp_path / "ckpt"
    ckpt.mkdir()
    calls = []

    def progress(inc: int, done: int, total: int) -> None:
        calls.append(done)
        if done >= total // 4:
            raise Boom("from the progress callable")

    with pytest.raises(Boom) as ei:
        slow.resumable_download(
            "py-bucket", "cancel/big.bin", dest, checkpoint_dir=ckpt, part_size=PART, threads=4,
            progress=progress,
        )
    # The raising callable cancelled the download (it did not run to its end).
    assert isinstance(ei.value.__cause__, oss_ffi.CancelledError)
    assert calls[-1] < SIZE
    # Not called again after it raised.
    assert calls[-1] >= SIZE // 4 and len([c for c in calls if c >= SIZE // 4]) == 1
    assert list(ckpt.iterdir())
    _resume_and_check(slow, tmp_path, dest, ckpt, big)


def test_raising_progress_from_a_worker_thread(v4, emu, tmp_path) -> None:
    """Same from a non-main thread (the C call then runs directly on that thread)."""
    emu.put("cancel/small.bin", data_of(300_000, 5))
    box = {}

    def run() -> None:
        try:
            v4.resumable_download(
                "py-bucket", "cancel/small.bin", tmp_path / "s.bin", part_size=102400,
                progress=lambda *a: 1 / 0,
            )
        except BaseException as e:  # noqa: BLE001
            box["e"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    assert isinstance(box.get("e"), ZeroDivisionError)


def test_get_object_cancel_and_raise(slow, big, tmp_path) -> None:
    stop = threading.Event()
    with pytest.raises(oss_ffi.CancelledError):
        slow.get_object(
            "py-bucket", "cancel/big.bin",
            progress=lambda i, d, t: stop.set() if d > t // 4 else None, cancel_event=stop,
        )

    def boom(i: int, d: int, t: int) -> None:
        raise Boom()

    with pytest.raises(Boom):
        slow.get_object("py-bucket", "cancel/big.bin", progress=boom)
    # After a cancel the same client keeps working.
    assert slow.get_object("py-bucket", "cancel/big.bin", range=(0, 99)) == big[:100]


def test_get_object_to_file_cancel(slow, big, tmp_path) -> None:
    lib = oss_ffi._lib.lib()
    if lib.oss_get_object_request_cancel is None:
        pytest.skip("library without oss_get_object_request_cancel")
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"old")
    stop = threading.Event()
    with pytest.raises(oss_ffi.CancelledError):
        slow.get_object_to_file(
            "py-bucket", "cancel/big.bin", dest,
            progress=lambda i, d, t: stop.set() if d > 0 else None, cancel_event=stop,
        )
    assert dest.read_bytes() == b"old"
    assert not (tmp_path / "f.bin.temp").exists()


def test_keyboard_interrupt_during_get_object_to_file(slow, big, tmp_path) -> None:
    lib = oss_ffi._lib.lib()
    if lib.oss_get_object_request_cancel is None:
        pytest.skip("library without oss_get_object_request_cancel")
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        slow.get_object_to_file("py-bucket", "cancel/big.bin", tmp_path / "g.bin")
    assert not (tmp_path / "g.bin").exists()
