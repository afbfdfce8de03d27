"""oss_ffi.filesystem.OssFfiFileSystem: the fsspec filesystem (protocol "ossffi") against the
emulator: ls/info/find/glob over ListObjectsV2, open = the prefetching reader, cat_file and
concurrent cat_ranges, get_file, pickling through the storage options, and pandas / PyArrow
reading a Parquet dataset through it."""
from __future__ import annotations

import importlib.metadata
import io
import json
import os
import pickle

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import oss_ffi
from oss_ffi.filesystem import OssFfiFileSystem
from conftest import AK, BUCKET, REGION, SK, data_of


def _registered() -> None:
    """The entry point registers "ossffi" when the package is installed (scripts/test.sh does);
    a run from the source tree registers it by hand."""
    try:
        fsspec.get_filesystem_class("ossffi")
    except (ValueError, ImportError):
        fsspec.register_implementation("ossffi", OssFfiFileSystem, clobber=True)


@pytest.fixture
def opts(emu) -> dict:
    _registered()
    return {"endpoint": emu.endpoint, "key": AK, "secret": SK, "region": REGION}


@pytest.fixture
def fs(opts) -> OssFfiFileSystem:
    return fsspec.filesystem("ossffi", **opts)


@pytest.fixture
def tree(emu) -> dict:
    files = {
        "fs/tree/a.bin": data_of(1000, 1),
        "fs/tree/b.txt": b"hello\nworld\n",
        "fs/tree/sub/c.bin": data_of(300_000, 2),
        "fs/tree/sub/deeper/d.bin": data_of(10, 3),
    }
    for k, v in files.items():
        emu.put(k, v)
    return files


def test_the_entry_point_names_the_filesystem() -> None:
    try:
        eps = importlib.metadata.entry_points(group="fsspec.specs")
    except TypeError:  # Python < 3.10
        eps = importlib.metadata.entry_points().get("fsspec.specs", [])  # type: ignore[attr-defined]
    ours = [e for e in eps if e.name == "ossffi"]
    if not ours:
        pytest.skip("oss_ffi is not installed as a distribution here (source tree run)")
    assert ours[0].value == "oss_ffi.filesystem:OssFfiFileSystem"


def test_ls_info_find_and_glob(fs, tree) -> None:
    base = BUCKET + "/fs/tree"
    assert fs.ls("ossffi://" + base, detail=False) == [base + "/a.bin", base + "/b.txt", base + "/sub"]
    entries = {e["name"]: e for e in fs.ls(base)}
    assert entries[base + "/a.bin"]["size"] == 1000 and entries[base + "/a.bin"]["type"] == "file"
    assert entries[base + "/sub"]["type"] == "directory"
    assert fs.info(base + "/sub/c.bin")["size"] == 300_000
    assert fs.info(base + "/sub")["type"] == "directory"
    assert fs.isdir(base + "/sub") and fs.isfile(base + "/b.txt") and fs.exists(base + "/a.bin")
    assert not fs.exists(base + "/nope")
    with pytest.raises(FileNotFoundError):
        fs.info(base + "/nope")
    assert fs.find(base) == sorted(BUCKET + "/" + k for k in tree)
    assert fs.find(base, maxdepth=1) == [base + "/a.bin", base + "/b.txt"]
    assert base + "/sub/deeper" in fs.find(base, withdirs=True)
    assert fs.glob(base + "/*.bin") == [base + "/a.bin"]
    assert fs.glob(base + "/**/*.bin") == sorted(BUCKET + "/" + k for k in tree if k.endswith(".bin"))
    assert fs.du(base) == sum(len(v) for v in tree.values())


def test_open_is_the_prefetching_reader(fs, tree) -> None:
    path = BUCKET + "/fs/tree/sub/c.bin"
    with fs.open("ossffi://" + path) as f:
        assert isinstance(f, oss_ffi.ObjectReader)
        f.seek(-100, io.SEEK_END)
        assert f.read() == tree["fs/tree/sub/c.bin"][-100:]
        f.seek(0)
        assert f.read() == tree["fs/tree/sub/c.bin"]
        assert f.verified()
    with fs.open(BUCKET + "/fs/tree/b.txt", "rt") as t:
        assert t.read() == "hello\nworld\n"
    with pytest.raises(NotImplementedError):
        fs.open(BUCKET + "/fs/tree/new.bin", "wb")


def test_cat_file_and_concurrent_cat_ranges(fs, tree, emu) -> None:
    path = BUCKET + "/fs/tree/sub/c.bin"
    data = tree["fs/tree/sub/c.bin"]
    assert fs.cat_file(path) == data
    assert fs.cat_file(path, 10, 20) == data[10:20]
    assert fs.cat_file(path, -50) == data[-50:]
    assert fs.cat_file(path, 100, -100) == data[100:-100]
    assert fs.cat_file(path, 20, 10) == b""
    # Past the end, as a slice gives it: nothing, not an error.
    assert fs.cat_file(path, len(data), len(data) + 10) == b""
    assert fs.cat_file(path, len(data) + 5, len(data) + 10) == b""
    assert fs.cat_file(path, len(data) - 3, len(data) + 10) == data[-3:]
    assert fs.cat_ranges([path], [len(data) + 1], [len(data) + 2]) == [b""]
    # Several ranges at once: with every GET held 300 ms, they overlap.
    emu.set_faults([{"kind": "latency", "ms": 300, "method": "GET"}])
    starts = [i * 1000 for i in range(8)]
    got = fs.cat_ranges([path] * 8, starts, [s + 100 for s in starts])
    assert got == [data[s:s + 100] for s in starts]
    out = fs.cat_ranges([path, BUCKET + "/fs/tree/missing"], [0, 0], [5, 5])
    assert out[0] == data[:5] and isinstance(out[1], FileNotFoundError)


def test_get_file_downloads_verified(fs, tree, tmp_path) -> None:
    fs.get(BUCKET + "/fs/tree/sub/c.bin", str(tmp_path / "c.bin"))
    assert (tmp_path / "c.bin").read_bytes() == tree["fs/tree/sub/c.bin"]


def test_get_file_onto_an_existing_directory_raises_instead_of_writing_nothing(fs, tree, tmp_path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError):
        fs.get_file(BUCKET + "/fs/tree/a.bin", str(tmp_path / "d"))
    assert list((tmp_path / "d").iterdir()) == []
    # fsspec's get puts a file into a directory under its own name.
    fs.get(BUCKET + "/fs/tree/a.bin", str(tmp_path / "d"))
    assert (tmp_path / "d" / "a.bin").read_bytes() == tree["fs/tree/a.bin"]


def test_get_file_into_an_open_file_writes_the_object_there(fs, tree) -> None:
    out = io.BytesIO()
    fs.get_file(BUCKET + "/fs/tree/sub/c.bin", out)
    assert out.getvalue() == tree["fs/tree/sub/c.bin"]
    out = io.BytesIO()
    fs.get_file(BUCKET + "/fs/tree/b.txt", "ignored", outfile=out)
    assert out.getvalue() == tree["fs/tree/b.txt"]


def _requests(emu) -> list:
    return [json.loads(line) for line in emu.admin("GET", "log").splitlines() if line.strip()]


def _files(root) -> dict:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def test_get_of_a_directory_copies_it_whole_in_one_batch(fs, tree, tmp_path, emu) -> None:
    want = {k[len("fs/tree/"):]: v for k, v in tree.items()}
    emu.admin("DELETE", "log")
    fs.get(BUCKET + "/fs/tree", str(tmp_path / "new"), recursive=True)
    assert _files(tmp_path / "new") == want  # nothing else: no journal, no temp file
    log = _requests(emu)
    # One GET per object and no HEAD of one: the batch, not a download per file (fsspec's own
    # path rules may HEAD the directories).
    assert not [r for r in log if r["method"] == "HEAD" and r["key"] in tree], log
    assert sorted(r["key"] for r in log if r["method"] == "GET" and r["key"]) == sorted(tree)
    # fsspec's target rules: into an existing directory, the source's name goes along.
    (tmp_path / "there").mkdir()
    fs.get(BUCKET + "/fs/tree", str(tmp_path / "there"), recursive=True)
    assert _files(tmp_path / "there") == {os.path.join("tree", k): v for k, v in want.items()}
    # A local file in the way is replaced, as a copy does.
    (tmp_path / "new" / "a.bin").write_bytes(b"stale")
    fs.get(BUCKET + "/fs/tree/", str(tmp_path / "new") + "/", recursive=True)
    assert _files(tmp_path / "new") == want


def test_get_with_maxdepth_goes_file_by_file_with_fsspecs_targets(fs, tree, tmp_path) -> None:
    fs.get(BUCKET + "/fs/tree", str(tmp_path / "top"), recursive=True, maxdepth=1)
    assert _files(tmp_path / "top") == {"a.bin": tree["fs/tree/a.bin"], "b.txt": tree["fs/tree/b.txt"]}


def test_pickled_filesystems_rebuild_from_their_options_and_never_show_the_secret(fs, opts, tree) -> None:
    assert SK not in repr(fs) and SK not in str(fs)
    clone = pickle.loads(pickle.dumps(fs))
    assert clone.cat_file(BUCKET + "/fs/tree/b.txt") == b"hello\nworld\n"


def test_serving_oss_urls_instead_of_ossfs(opts, tree) -> None:
    fsspec.register_implementation("oss", OssFfiFileSystem, clobber=True)
    with fsspec.open("oss://%s/fs/tree/b.txt" % BUCKET, "rb", **opts) as f:
        assert f.read() == b"hello\nworld\n"


def _dataset(emu, prefix: str, files: int = 3, rows: int = 20_000) -> pd.DataFrame:
    frames = []
    for i in range(files):
        df = pd.DataFrame({
            "id": range(i * rows, (i + 1) * rows),
            "group": [("g%d" % (j % 7)) for j in range(rows)],
            "value": [float(j % 1000) / 10 for j in range(rows)],
            "payload": [("x" * (j % 50)) for j in range(rows)],
        })
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), buf, row_group_size=5_000)
        emu.put("%s/part-%d.parquet" % (prefix, i), buf.getvalue())
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def test_pandas_and_pyarrow_read_a_parquet_dataset(opts, emu) -> None:
    want = _dataset(emu, "fs/parquet")
    url = "ossffi://%s/fs/parquet/" % BUCKET
    got = pd.read_parquet(url, storage_options=opts)
    pd.testing.assert_frame_equal(got.sort_values("id").reset_index(drop=True), want)
    # A projection reads two columns only.
    two = pd.read_parquet(url, columns=["id", "value"], storage_options=opts)
    assert list(two.columns) == ["id", "value"] and len(two) == len(want)
    # pyarrow.dataset over the same filesystem.
    fs = fsspec.filesystem("ossffi", **opts)
    dset = ds.dataset("%s/fs/parquet" % BUCKET, filesystem=fs, format="parquet")
    table = dset.to_table(columns=["group", "value"], filter=ds.field("group") == "g3")
    assert table.num_rows == int((want["group"] == "g3").sum())
    assert abs(sum(table.column("value").to_pylist()) - want[want["group"] == "g3"]["value"].sum()) < 1e-6


def test_dask_on_a_local_cluster_of_two_worker_processes_computes_what_pandas_computes(opts, emu) -> None:
    import dask.dataframe as dd
    from distributed import Client as DaskClient, LocalCluster

    want = _dataset(emu, "fs/dask", files=4, rows=5_000)
    expected = want.groupby("group")["value"].sum().sort_index()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            DaskClient(cluster) as dask_client:
        assert len(dask_client.scheduler_info()["workers"]) == 2
        df = dd.read_parquet("ossffi://%s/fs/dask/" % BUCKET, columns=["group", "value"], storage_options=opts)
        got = df.groupby("group")["value"].sum().compute().sort_index()
    pd.testing.assert_series_equal(got, expected, check_names=False, check_index_type=False)



def _listing_of(keys):
    """A stand-in for Client.list_objects over ``keys``, as OSS lists them (prefix, delimiter):
    the emulator keeps objects as files, so it cannot hold a key with an empty segment."""

    def list_objects(bucket, prefix="", delimiter="", start_after="", max_keys=1000):
        objects, prefixes = [], []
        for k in sorted(keys):
            if not k.startswith(prefix):
                continue
            cut = k.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                p = k[: cut + len(delimiter)]
                if p not in prefixes:
                    prefixes.append(p)
            else:
                objects.append(oss_ffi.ListedObject(k, 1, '"e"', "2026-01-01T00:00:00.000Z", "Standard"))
        yield objects, prefixes

    return list_objects


def test_a_key_with_an_empty_path_segment_never_lists_its_directory_as_its_own_child(fs, monkeypatch) -> None:
    # "fs/odd//x.bin": the listing of "fs/odd/" has the common prefix "fs/odd//", which names
    # the directory being listed once its slashes are stripped: walk recursed forever.
    monkeypatch.setattr(fs._client, "list_objects", _listing_of(["fs/odd//x.bin", "fs/odd/y.bin"]))
    base = BUCKET + "/fs/odd"
    with pytest.warns(RuntimeWarning, match="fs/odd//"):
        assert fs.ls(base, detail=False) == [base + "/y.bin"]
    assert list(fs.walk(base)) == [(base, [], ["y.bin"])]
    assert fs.find(base) == [base + "//x.bin", base + "/y.bin"]


def test_cat_file_from_an_offset_to_the_end_reads_the_object_as_it_is_not_its_listed_size(fs, emu) -> None:
    emu.put("fs/grow/log.txt", data_of(1000, 4))
    path = BUCKET + "/fs/grow/log.txt"
    assert fs.ls(BUCKET + "/fs/grow", detail=False) == [path]  # the listing (1000 bytes) is cached
    grown = emu.put("fs/grow/log.txt", data_of(3000, 5))
    # To the end: the object's end now, never the end the cached listing knew.
    assert fs.cat_file(path, 10) == grown[10:]
    assert fs.cat_file(path, 3000) == b""
    assert fs.cat_file(path, 5000) == b""
    emu.put("fs/grow/empty", b"")
    assert fs.cat_file(BUCKET + "/fs/grow/empty", 0) == b""


def test_find_with_maxdepth_and_withdirs_lists_the_directories_within_the_depth(fs, tree) -> None:
    base = BUCKET + "/fs/tree"
    # As fsspec's own find (over walk) gives them: the directory itself and those up to
    # maxdepth, also the ones holding only deeper files.
    assert fs.find(base, maxdepth=1, withdirs=True) == [base, base + "/a.bin", base + "/b.txt", base + "/sub"]
    assert fs.find(base, maxdepth=2, withdirs=True) == [
        base, base + "/a.bin", base + "/b.txt", base + "/sub", base + "/sub/c.bin", base + "/sub/deeper",
    ]
    # glob over find(maxdepth, withdirs=True): "*" names the directories too.
    assert fs.glob(base + "/*") == [base + "/a.bin", base + "/b.txt", base + "/sub"]
    generic = OssFfiFileSystem.__mro__[1].find  # AbstractFileSystem.find, over walk and ls
    for depth in (1, 2, 3):
        assert fs.find(base, maxdepth=depth, withdirs=True) == generic(fs, base, maxdepth=depth, withdirs=True)


def test_a_missing_bucket_does_not_exist(fs, tree) -> None:
    assert fs.exists(BUCKET) and fs.isdir("ossffi://" + BUCKET)
    assert not fs.exists("no-such-bucket-here")
    assert not fs.isdir("no-such-bucket-here")
    with pytest.raises(FileNotFoundError):
        fs.info("ossffi://no-such-bucket-here")
    with pytest.raises(FileNotFoundError):
        fs.ls("no-such-bucket-here/dir")
    assert fs.find("no-such-bucket-here") == []
