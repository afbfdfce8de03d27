"""Many threads calling one client at once."""
from __future__ import annotations

import concurrent.futures

import oss_ffi
from conftest import data_of


def test_sixteen_threads_one_client(client, emu, tmp_path) -> None:
    objects = {i: emu.put("threads/obj-%d.bin" % i, data_of(200_000 + i * 50_000, 100 + i)) for i in range(16)}

    def work(i: int) -> int:
        key = "threads/obj-%d.bin" % i
        data = objects[i]
        dest = tmp_path / ("out-%d.bin" % i)
        for _ in range(2):
            if i % 3 == 0:
                meta = client.resumable_download(
                    "py-bucket", key, dest, part_size=102400, threads=3, progress=lambda *a: None
                )
                assert dest.read_bytes() == data and meta.crc64 == oss_ffi.crc64(data)
            elif i % 3 == 1:
                assert client.get_object("py-bucket", key) == data
                assert client.get_object("py-bucket", key, range=(7, 1006)) == data[7:1007]
            else:
                assert client.head_object("py-bucket", key).content_length == len(data)
                client.get_object_to_file("py-bucket", key, dest)
                assert dest.read_bytes() == data
        return i

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert sorted(pool.map(work, range(16))) == list(range(16))


def test_close_while_other_threads_call(emu) -> None:
    """close() from one thread never frees the handle under a running call."""
    from conftest import AK, REGION, SK

    emu.put("threads/close.bin", data_of(500_000, 3))
    c = oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION)
    results = []

    def work(_: int) -> str:
        try:
            c.get_object("py-bucket", "threads/close.bin")
            return "ok"
        except ValueError:
            return "closed"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futs = [pool.submit(work, i) for i in range(32)]
        c.close()
        results = [f.result() for f in futs]
    assert set(results) <= {"ok", "closed"}
