"""The batch download: Client.download_objects (a prefix, a key list, filters, dry run, a re-run
that fetches nothing, failures in the report, raising callbacks, bad arguments), its asyncio
form, and a batch transfer paused into a token and resumed."""
from __future__ import annotations

import asyncio
import os
import threading

import pytest

import oss_ffi
from conftest import AK, BUCKET, REGION, SK, data_of

N = 12


@pytest.fixture(scope="module")
def objects(emu) -> dict:
    out = {}
    for i in range(N - 1):
        out["batch/set/f%02d.bin" % i] = emu.put("batch/set/f%02d.bin" % i, data_of(500 + 37 * i, 300 + i))
    out["batch/set/sub/g.txt"] = emu.put("batch/set/sub/g.txt", data_of(77, 299))
    emu.put("batch/other.bin", b"outside the prefix")
    return out


def files_of(dest: str) -> dict:
    found = {}
    for root, _, names in os.walk(dest):
        for n in names:
            if n.startswith("."):
                continue  # the journal and checkpoint directories
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                found[os.path.relpath(p, dest)] = f.read()
    return found


def test_a_prefix_lands_below_dest_with_progress_and_outcomes(v4, objects, tmp_path):
    dest = tmp_path / "d"
    seen = []
    last = []
    report = v4.download_objects(
        BUCKET, prefix="batch/set/", dest=dest, on_object=seen.append, progress=last.append
    )
    assert isinstance(report, oss_ffi.BatchReport)
    assert report.ok and report.failures == [] and report.stopped is None
    assert report.progress.objects_listed == N and report.progress.objects_done == N
    assert report.progress.listing_done
    assert report.journal_path
    want = {k[len("batch/set/"):]: v for k, v in objects.items()}
    assert files_of(str(dest)) == want
    assert sorted(o.key for o in seen) == sorted(objects)
    assert all(o.outcome == oss_ffi.Outcome.DOWNLOADED and o.error is None for o in seen)
    assert last and isinstance(last[-1], oss_ffi.BatchProgress) and last[-1].listing_done

    # Again: nothing fetched, everything unchanged.
    seen.clear()
    again = v4.download_objects(BUCKET, prefix="batch/set/", dest=dest, on_object=seen.append)
    assert again.progress.objects_done == 0 and again.progress.objects_skipped == N
    assert {o.outcome for o in seen} == {oss_ffi.Outcome.SKIPPED_UNCHANGED}


def test_filters_and_dry_run(v4, objects, tmp_path):
    dest = tmp_path / "dry"
    seen = []
    report = v4.download_objects(
        BUCKET, prefix="batch/set/", dest=dest, dry_run=True, on_object=seen.append,
        include=["*.bin"], exclude="f0[0-4].bin", max_size="1K",
    )
    would = sorted(o.key for o in seen if o.outcome == oss_ffi.Outcome.WOULD_DOWNLOAD)
    assert would == ["batch/set/f%02d.bin" % i for i in range(5, N - 1) if 500 + 37 * i <= 1024]
    assert report.progress.objects_done == len(would)
    assert files_of(str(dest)) == {}


def test_a_key_list_reports_the_missing_key_and_downloads_the_rest(v4, objects, tmp_path):
    dest = tmp_path / "keys"
    report = v4.download_objects(
        BUCKET, keys=["batch/set/f01.bin", "batch/set/no-such"], dest=str(dest)
    )
    assert not report.ok
    assert [k for k, _ in report.failures] == ["batch/set/no-such"]
    assert isinstance(report.failures[0][1], oss_ffi.NoSuchKeyError)
    assert (dest / "batch/set/f01.bin").read_bytes() == objects["batch/set/f01.bin"]
    with pytest.raises(oss_ffi.NoSuchKeyError) as e:
        report.raise_for_failures()
    assert e.value.report is report


def test_a_raising_callback_cancels_the_batch_and_is_reraised(v4, objects, tmp_path):
    class Boom(Exception):
        pass

    def on_object(o):
        raise Boom(o.key)

    with pytest.raises(Boom):
        v4.download_objects(
            BUCKET, prefix="batch/set/", dest=tmp_path / "boom", on_object=on_object, max_objects_in_flight=1
        )


def test_a_set_cancel_event_stops_the_batch_with_its_report(v4, objects, tmp_path):
    ev = threading.Event()
    ev.set()
    with pytest.raises(oss_ffi.CancelledError) as e:
        v4.download_objects(BUCKET, prefix="batch/set/", dest=tmp_path / "c", cancel_event=ev)
    assert isinstance(e.value.report, oss_ffi.BatchReport)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(), ValueError),  # neither prefix nor keys
        (dict(prefix="a/", keys=["a"]), ValueError),
        (dict(prefix="a/", overwrite="sometimes"), ValueError),
        (dict(prefix="a/", on_failure="panic"), ValueError),
        (dict(prefix="a/", max_objects_in_flight=0), ValueError),
        (dict(prefix="a/", min_size="lots"), ValueError),
        (dict(prefix="a/", include=[3]), TypeError),
        (dict(prefix=3), TypeError),
        (dict(prefix="a/", progress=5), TypeError),
    ],
)
def test_bad_arguments_raise_before_anything_runs(v4, tmp_path, kwargs, exc):
    with pytest.raises(exc):
        v4.download_objects(BUCKET, dest=tmp_path / "bad", **kwargs)
    assert not (tmp_path / "bad").exists()


def test_the_asyncio_form_returns_the_report(v4, objects, tmp_path):
    dest = tmp_path / "a"

    async def main():
        return await v4.download_objects_async(BUCKET, prefix="batch/set/", dest=dest)

    report = asyncio.run(main())
    assert report.ok and report.progress.objects_done == N
    assert len(files_of(str(dest))) == N


def paused_batch(client, dest):
    """A batch of batch/set/ into ``dest`` paused after its third object: (token, finished)."""
    reached = threading.Event()
    go = threading.Event()
    done = []

    def on_object(o):
        done.append(o.key)
        if len(done) == 3:
            reached.set()
            go.wait(60)

    t = client.start_download_objects(
        BUCKET, prefix="batch/set/", dest=dest, on_object=on_object, max_objects_in_flight=1
    )
    assert reached.wait(60)
    t.request_pause()
    go.set()
    token = t.pause(60)
    assert t.state == oss_ffi.TransferState.PAUSED
    assert isinstance(token, bytes) and token
    assert t.report is not None and isinstance(t.report.stopped, oss_ffi.CancelledError)
    finished = t.report.progress.objects_done
    assert finished >= 3
    return token, finished


def tampered(token):
    bad = bytearray(token)
    bad[len(bad) // 2] ^= 0x20
    return bytes(bad)


def test_a_paused_batch_resumes_from_its_token_without_fetching_finished_objects(v4, objects, tmp_path):
    dest = tmp_path / "p"
    token, finished = paused_batch(v4, dest)
    with pytest.raises(oss_ffi.InvalidArgumentError):
        v4.start_resume(tampered(token))
    r = v4.start_resume(token)
    r.result(120)
    assert r.report is not None and r.report.ok
    assert r.report.progress.objects_skipped >= finished
    assert r.report.progress.objects_done + r.report.progress.objects_skipped == N
    want = {k[len("batch/set/"):]: v for k, v in objects.items()}
    assert files_of(str(dest)) == want


def test_a_resumed_batch_reports_through_the_callbacks_given_with_its_token(v4, objects, tmp_path):
    dest = tmp_path / "p"
    token, finished = paused_batch(v4, dest)
    with pytest.raises(oss_ffi.InvalidArgumentError):
        v4.start_resume_batch(tampered(token), on_object=print)
    outcomes, progress = [], []
    report = v4.resume_batch(token, on_object=outcomes.append, progress=progress.append)
    assert report.ok and report.progress.objects_skipped >= finished
    assert sorted(o.key for o in outcomes) == sorted(objects)
    skipped = [o for o in outcomes if o.outcome != oss_ffi.Outcome.DOWNLOADED]
    assert len(skipped) >= finished and all(o.outcome == oss_ffi.Outcome.SKIPPED_UNCHANGED for o in skipped)
    assert progress and progress[-1].listing_done
    want = {k[len("batch/set/"):]: v for k, v in objects.items()}
    assert files_of(str(dest)) == want


def test_a_resumed_batch_is_cancelled_by_its_cancel_event(v4, objects, tmp_path):
    dest = tmp_path / "p"
    token, finished = paused_batch(v4, dest)
    with pytest.raises(TypeError):
        v4.resume_batch(token, cancel_event=object())
    stop = threading.Event()
    stop.set()
    with pytest.raises(oss_ffi.CancelledError) as e:
        v4.resume_batch(token, cancel_event=stop)
    assert e.value.report.progress.objects_done < N - finished
    # Set during the run, from a callback: cancelled once it is seen, finished objects kept.
    stop = threading.Event()
    seen = []

    def on_object(o):
        seen.append(o)
        stop.set()

    try:
        report = v4.resume_batch(token, cancel_event=stop, on_object=on_object, max_objects_in_flight=1)
        assert report.ok  # the rest may all have ended before the cancel was seen
    except oss_ffi.CancelledError as err:
        assert err.report.progress.objects_done + err.report.progress.objects_skipped < N
    assert seen and stop.is_set()


@pytest.mark.parametrize("form", ["blocking", "transfer"])
def test_the_call_timeout_bounds_each_object_not_the_whole_batch(emu, tmp_path, form):
    # 12 objects of 100 KiB through a client capped at 256 KiB/s: the batch needs several
    # seconds (the cap's lower bound), each object about 0.4 s, well within the 2 s call timeout.
    for i in range(12):
        emu.put("batch/timed/o%02d.bin" % i, data_of(100 * 1024, 700 + i))
    with oss_ffi.Client(
        emu.endpoint, credentials=(AK, SK), region=REGION, recv_rate_limit_kbps=256, call_timeout_ms=2000
    ) as c:
        opts = dict(prefix="batch/timed/", dest=tmp_path / "t", max_objects_in_flight=1)
        if form == "blocking":
            report = c.download_objects(BUCKET, **opts)
        else:
            t = c.start_download_objects(BUCKET, **opts)
            t.result(120)
            report = t.report
        assert report.ok, report.failures or report.stopped
        assert report.progress.objects_done == 12
        assert report.elapsed > 2.0
