"""Downloads, metadata and progress against the local OSS server (V1 and V4)."""
from __future__ import annotations

import hashlib
import threading

import pytest

import oss_ffi
from conftest import AK, REGION, SK, data_of


def _crc(data: bytes) -> int:
    return oss_ffi.crc64(data)


def test_version_and_crc() -> None:
    assert oss_ffi.version().startswith("0.1.")
    assert oss_ffi.crc64(b"123456789") == 0x995DC9BBDF1939FA
    a, b = b"hello ", b"world"
    assert oss_ffi.crc64_combine(oss_ffi.crc64(a), oss_ffi.crc64(b), len(b)) == oss_ffi.crc64(a + b)


@pytest.mark.parametrize("size", [0, 1, 100_000])
def test_small_download(client, emu, tmp_path, size) -> None:
    data = emu.put("small/obj-%d.bin" % size, data_of(size, size))
    dest = tmp_path / "out.bin"
    meta = client.resumable_download("py-bucket", "small/obj-%d.bin" % size, dest)
    assert dest.read_bytes() == data
    assert meta.content_length == size
    assert meta.etag == '"%s"' % hashlib.md5(data).hexdigest().upper()
    assert meta.crc64 == _crc(data)
    assert meta.object_type == "Normal"
    assert meta.request_id
    assert meta.last_modified.endswith("GMT")
    assert meta.headers["etag"] == meta.etag
    with pytest.raises(Exception):
        meta.etag = "x"  # frozen


def test_multipart_download(client, emu, tmp_path) -> None:
    data = emu.put("big/multi.bin", data_of(3 * 1024 * 1024 + 12345, 7))
    dest = tmp_path / "multi.bin"
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    meta = client.resumable_download(
        "py-bucket", "big/multi.bin", str(dest), checkpoint_dir=ckpt, part_size=256 * 1024, threads=8
    )
    assert dest.read_bytes() == data
    assert meta.content_length == len(data) and meta.crc64 == _crc(data)
    assert list(ckpt.iterdir()) == []  # checkpoint removed on success


@pytest.mark.parametrize("direct_io", [True, False])
def test_direct_io_on_and_off(client, emu, tmp_path, direct_io) -> None:
    # A part size off the 4 KiB grid: every part boundary falls inside a block.
    data = emu.put("big/direct.bin", data_of(1024 * 1024 + 777, 11))
    dest = tmp_path / "direct.bin"
    meta = client.resumable_download(
        "py-bucket", "big/direct.bin", dest, part_size=102400 + 1, threads=4, direct_io=direct_io
    )
    assert dest.read_bytes() == data
    assert meta.crc64 == _crc(data)


@pytest.mark.parametrize("target", ["max", 1, 10**9])
def test_throughput_target_and_memory_budget(emu, tmp_path, target) -> None:
    data = emu.put("big/target.bin", data_of(2 * 1024 * 1024 + 5, 12))
    dest = tmp_path / "target.bin"
    with oss_ffi.Client(
        emu.endpoint, credentials=(AK, SK), region=REGION, memory_budget=16 * 1024 * 1024
    ) as c:
        c.resumable_download(
            "py-bucket", "big/target.bin", dest, part_size=102400, throughput_target=target
        )
    assert dest.read_bytes() == data


def test_bad_throughput_target_and_memory_budget(emu, tmp_path) -> None:
    with pytest.raises(oss_ffi.OssError, match="memory budget"):
        oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, memory_budget=1)
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION) as c:
        for bad in (0, -1, "fast", 2**64):
            with pytest.raises((ValueError, TypeError)):
                c.resumable_download("py-bucket", "k", tmp_path / "x", throughput_target=bad)


@pytest.mark.parametrize("rng", [(0, 0), (1000, 300_000), (500_000, None), (10, 10**9)])
def test_ranged_download(client, emu, tmp_path, rng) -> None:
    data = emu.put("big/ranged.bin", data_of(700_000, 9))
    dest = tmp_path / "ranged.bin"
    meta = client.resumable_download(
        "py-bucket", "big/ranged.bin", dest, range=rng, part_size=102400, threads=4
    )
    start, end = rng
    want = data[start:] if end is None else data[start : end + 1]
    assert dest.read_bytes() == want
    assert meta.content_length == len(data)  # the whole object's size


def test_verified_says_whether_the_whole_object_crc64_was_checked(client, emu, tmp_path) -> None:
    data = emu.put("verified/obj.bin", data_of(300_000, 12))
    meta = client.resumable_download("py-bucket", "verified/obj.bin", tmp_path / "a", part_size=102400)
    assert meta.verified and meta.crc64 == _crc(data)
    assert client.get_object_to_file("py-bucket", "verified/obj.bin", tmp_path / "b").verified
    assert client.get_object_with_meta("py-bucket", "verified/obj.bin")[1].verified
    # a range has no CRC64 of its own; a HEAD downloads nothing
    assert not client.resumable_download("py-bucket", "verified/obj.bin", tmp_path / "c",
                                          range=(10, 99)).verified
    assert not client.head_object("py-bucket", "verified/obj.bin").verified
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, crc64=False) as c:
        meta = c.resumable_download("py-bucket", "verified/obj.bin", tmp_path / "d")
        assert not meta.verified and meta.crc64 == _crc(data)  # the header came, unchecked
    assert (tmp_path / "d").read_bytes() == data


def test_head_and_meta(client, emu) -> None:
    data = emu.put("meta/obj.txt", b"hello metadata")
    head = client.head_object("py-bucket", "meta/obj.txt")
    assert head.content_length == len(data)
    assert head.crc64 == _crc(data)
    assert head.content_type
    assert isinstance(head.user_meta, dict)
    assert head.headers.get("x-oss-request-id") == head.request_id
    meta = client.get_object_meta("py-bucket", "meta/obj.txt")
    assert (meta.content_length, meta.etag) == (head.content_length, head.etag)
    assert client.head_object("py-bucket", "meta/obj.txt", if_match=head.etag).etag == head.etag


def test_get_object_bytes_and_file(client, emu, tmp_path) -> None:
    data = emu.put("get/obj.bin", data_of(1_500_000, 11))
    assert client.get_object("py-bucket", "get/obj.bin") == data
    assert client.get_object("py-bucket", "get/obj.bin", range=(100, 199)) == data[100:200]
    assert client.get_object("py-bucket", "get/obj.bin", (1_400_000, None)) == data[1_400_000:]
    body, meta = client.get_object_with_meta("py-bucket", "get/obj.bin", range=(0, 9))
    assert body == data[:10] and meta.content_length == len(data)
    dest = tmp_path / "file.bin"
    meta = client.get_object_to_file("py-bucket", "get/obj.bin", dest)
    assert dest.read_bytes() == data and meta.crc64 == _crc(data)
    assert not (tmp_path / "file.bin.temp").exists()


def test_unicode_key(client, emu, tmp_path) -> None:
    key = "dir/ünïcode + spaces & ?.txt"
    data = emu.put(key, "データ".encode())
    assert client.get_object("py-bucket", key) == data
    client.resumable_download("py-bucket", key, tmp_path / "u.txt")
    assert (tmp_path / "u.txt").read_bytes() == data


def test_progress_invariants(client, emu, tmp_path) -> None:
    data = emu.put("big/progress.bin", data_of(4 * 1024 * 1024 + 1, 13))
    calls = []
    busy = threading.Lock()
    threads = set()

    def progress(increment: int, transferred: int, total: int) -> None:
        assert busy.acquire(blocking=False), "progress calls overlap"
        try:
            calls.append((increment, transferred, total))
            threads.add(threading.get_ident())
        finally:
            busy.release()

    client.resumable_download(
        "py-bucket", "big/progress.bin", tmp_path / "p.bin", part_size=102400, threads=6, progress=progress
    )
    assert calls, "no progress call"
    assert all(t == len(data) for _, _, t in calls)
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[-1] == len(data) and max(done) <= len(data)
    assert sum(i for i, _, _ in calls) == len(data)
    prev = 0
    for inc, d, _ in calls:
        assert inc == d - prev
        prev = d
    assert threading.main_thread().ident not in threads

    # GetObject reports progress the same way.
    calls.clear()
    client.get_object("py-bucket", "big/progress.bin", progress=progress)
    assert calls[-1][1] == calls[-1][2] == len(data)
    assert sum(i for i, _, _ in calls) == len(data)


def test_retries_are_transparent(v4, emu, tmp_path) -> None:
    data = emu.put("faults/retry.bin", data_of(600_000, 17))
    emu.set_faults([{"kind": "status", "status": 503, "method": "GET", "count": 2}])
    v4.resumable_download("py-bucket", "faults/retry.bin", tmp_path / "r.bin", part_size=102400)
    assert (tmp_path / "r.bin").read_bytes() == data
    emu.set_faults([{"kind": "cut", "bytes": 300_000, "method": "GET", "count": 1}])
    assert v4.get_object("py-bucket", "faults/retry.bin") == data


def test_sts_and_rotating_credentials(emu) -> None:
    from conftest import AK, SK, STS_AK, STS_SK, STS_TOKEN

    emu.put("creds/obj.txt", b"creds")
    with oss_ffi.Client(emu.endpoint, credentials=(STS_AK, STS_SK, STS_TOKEN), region="cn-hangzhou") as c:
        assert c.get_object("py-bucket", "creds/obj.txt") == b"creds"
    asked = []

    def rotating():
        asked.append(threading.get_ident())
        return (STS_AK, STS_SK, STS_TOKEN) if len(asked) % 2 else (AK, SK, None)

    with oss_ffi.Client(emu.endpoint, credentials=rotating, region="cn-hangzhou", signature_version="v1") as c:
        for _ in range(4):
            assert c.get_object("py-bucket", "creds/obj.txt") == b"creds"
    assert len(asked) >= 4


def test_env_credentials(emu, monkeypatch) -> None:
    from conftest import AK, SK

    emu.put("creds/env.txt", b"env")
    monkeypatch.setenv("OSS_ACCESS_KEY_ID", AK)
    monkeypatch.setenv("OSS_ACCESS_KEY_SECRET", SK)
    monkeypatch.delenv("OSS_SESSION_TOKEN", raising=False)
    with oss_ffi.Client(emu.endpoint, region="cn-hangzhou") as c:
        assert c.get_object("py-bucket", "creds/env.txt") == b"env"
    monkeypatch.delenv("OSS_ACCESS_KEY_ID")
    with pytest.raises(oss_ffi.OssError):
        oss_ffi.Client(emu.endpoint, region="cn-hangzhou")


def test_resolve_pins_a_name_to_addresses_past_a_dead_one(emu, tmp_path) -> None:
    data = emu.put("big/resolve.bin", data_of(700_000, 13))
    port = emu.endpoint.rsplit(":", 1)[1]
    # 127.0.0.9: nothing listens there; the download goes to 127.0.0.1.
    with oss_ffi.Client(
        "http://py-resolve.test:%s" % port,
        credentials=(AK, SK),
        region=REGION,
        resolve=["py-resolve.test:%s:127.0.0.9,127.0.0.1" % port],
    ) as c:
        c.resumable_download(
            "py-bucket", "big/resolve.bin", tmp_path / "r.bin", part_size=102400, threads=4
        )
    assert (tmp_path / "r.bin").read_bytes() == data


def test_bad_resolve_entries_are_refused(emu) -> None:
    for bad in ("py-resolve.test", "h:0:127.0.0.1", "h:80:not-an-address", ["h:80:1.2.3.4", "x"]):
        with pytest.raises(oss_ffi.OssError, match="HOST:PORT:ADDR"):
            oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, resolve=bad)
    with pytest.raises(TypeError):
        oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, resolve=80)
    # The port must be the endpoint's.
    with pytest.raises(oss_ffi.OssError, match="port"):
        oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, resolve="h:1:127.0.0.1")
