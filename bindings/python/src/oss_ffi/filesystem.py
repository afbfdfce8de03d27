"""An fsspec filesystem over oss_ffi (protocol ``ossffi``): what pandas, PyArrow and Dask read
through when given ``ossffi://bucket/path``.

fsspec finds it by its entry point (``fsspec.specs``, declared in this package's metadata); it
takes ossfs's storage options (``endpoint``, ``key``, ``secret``, ``token``), so that a program
written for ossfs only changes its URLs, or serves ``oss://`` with this class instead of ossfs::

    import fsspec, oss_ffi.filesystem
    fsspec.register_implementation("oss", oss_ffi.filesystem.OssFfiFileSystem, clobber=True)

Read-only: ``ls``, ``info``, ``find``/``glob``/``walk`` (over ListObjectsV2, one flat listing for
``find``), ``open`` (the library's prefetching reader: parallel ranged GETs pinned to one ETag,
CRC64-checked when read to the end; fsspec's own caches are not used, they would defeat its
window), ``cat_file``, ``cat_ranges`` (ranges fetched concurrently), ``get_file`` (the
library's parallel, verified download), ``get`` of a whole directory (one batch download:
:meth:`Client.download_objects`). Picklable through its storage options: a worker of a
distributed scheduler rebuilds the client from them. Its ``repr`` never shows a credential.
"""

from __future__ import annotations

import concurrent.futures
import errno
from glob import has_magic
import os
import shutil
import tempfile
import threading
import warnings
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from fsspec.spec import AbstractFileSystem  # type: ignore[import-untyped]

from ._client import Client
from ._errors import NoSuchKeyError, ServerError


def _split(path: str) -> Tuple[str, str]:
    path = path.strip("/")
    bucket, _, key = path.partition("/")
    return bucket, key


class OssFfiFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """fsspec filesystem for Alibaba Cloud OSS through liboss_ffi (see the module's docs).

    Storage options: ``endpoint`` (required: ``https://oss-cn-hangzhou.aliyuncs.com``),
    ``key``/``secret``/``token`` (an AccessKey pair and an STS token; without them the
    environment's ``OSS_ACCESS_KEY_ID``... as the library reads them), ``region`` (V4 signing;
    default: from the endpoint), ``signature_version``, ``max_workers`` (concurrent ranges of
    ``cat_ranges``, default 16), ``reader_options`` (``part_size``, ``max_window``,
    ``read_ahead`` of every ``open``), ``client_options`` (keyword arguments of
    :class:`oss_ffi.Client`: ``memory_budget``, ``max_connections``...).
    """

    protocol = ("ossffi",)
    root_marker = ""
    # ls results are kept in fsspec's dircache (`fs.invalidate_cache()` forgets them): the
    # sizes of listed files then cost no HEAD.

    def __init__(
        self,
        endpoint: Optional[str] = None,
        key: Optional[str] = None,
        secret: Optional[str] = None,
        token: Optional[str] = None,
        region: Optional[str] = None,
        signature_version: str = "v4",
        max_workers: int = 16,
        reader_options: Optional[Dict[str, Any]] = None,
        client_options: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        endpoint = endpoint or os.environ.get("OSS_ENDPOINT")
        if not endpoint:
            raise ValueError("OssFfiFileSystem needs an endpoint (storage option 'endpoint')")
        if (key is None) != (secret is None):
            raise ValueError("give both 'key' and 'secret', or neither (then the environment's)")
        credentials: Any = None if key is None else ((key, secret, token) if token else (key, secret))
        self._client = Client(
            endpoint, credentials=credentials, region=region, signature_version=signature_version,
            **(client_options or {}),
        )
        self._max_workers = max(1, int(max_workers))
        self._reader_options = dict(reader_options or {})
        # Per thread: the (remote, local) pairs `get` collects from fsspec's own path rules.
        self._local = threading.local()

    def __repr__(self) -> str:
        # Never the storage options: they hold the secret.
        return "<OssFfiFileSystem %s>" % (self.storage_options.get("endpoint", ""),)

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        for proto in ("ossffi://", "oss://", "ossffi::", "oss::"):
            if path.startswith(proto):
                path = path[len(proto):]
                break
        return path.rstrip("/") or cls.root_marker

    def split_path(self, path: str) -> Tuple[str, str]:
        return _split(self._strip_protocol(path))

    # -- listing ------------------------------------------------------------------------------

    def _list_dir(self, path: str) -> List[Dict[str, Any]]:
        bucket, key = self.split_path(path)
        if not bucket:
            raise NotImplementedError("listing the buckets of an account is not supported; name a bucket")
        prefix = key + "/" if key else ""
        out: List[Dict[str, Any]] = []
        for objects, prefixes in _pages(self._client, bucket, prefix, "/"):
            for o in objects:
                if _unusable(o):
                    continue
                if o.key == prefix:
                    continue  # a "directory marker" object
                out.append(self._file_info(bucket, o.key, o.size, o.etag, o.last_modified))
            for p in prefixes:
                if not p[len(prefix):].rstrip("/"):
                    # "dir//": an empty path segment ("dir//x"), whose name would be the
                    # directory listed (walk would recurse into it forever); find reaches
                    # what it holds.
                    warnings.warn(
                        "oss_ffi: ls left out the prefix %r (an empty path segment; find lists its keys)" % p,
                        RuntimeWarning, stacklevel=3,
                    )
                    continue
                out.append({"name": "%s/%s" % (bucket, p.rstrip("/")), "size": 0, "type": "directory"})
        return out

    @staticmethod
    def _file_info(bucket: str, key: str, size: int, etag: str, modified: str) -> Dict[str, Any]:
        return {"name": "%s/%s" % (bucket, key), "size": size, "type": "file", "ETag": etag, "LastModified": modified}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Union[List[str], List[Dict[str, Any]]]:
        path = self._strip_protocol(path)
        cached = None if kwargs.get("refresh") else self.dircache.get(path)
        entries = list(cached) if cached is not None else self._list_dir(path)
        if entries and cached is None:
            # fsspec's listings cache: `info` of a listed file then costs no HEAD
            self.dircache[path] = list(entries)
        if not entries:
            info = self.info(path)  # a file, an empty "directory" or FileNotFoundError
            entries = [info] if info["type"] == "file" else []
        entries.sort(key=lambda e: e["name"])
        return entries if detail else [e["name"] for e in entries]

    def info(self, path: str, **kwargs: Any) -> Dict[str, Any]:
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        if not bucket:
            return {"name": bucket, "size": 0, "type": "directory"}  # the root
        if not key:
            # A bucket: it exists when it can be listed (one request of one key).
            for _ in _pages(self._client, bucket, "", "/", max_keys=1):
                break
            return {"name": bucket, "size": 0, "type": "directory"}
        listed = self.dircache.get(self._parent(path))
        for e in listed or ():
            if e["name"] == path:
                return dict(e)
        try:
            m = self._client.head_object(bucket, key)
            return self._file_info(bucket, key, m.content_length, m.etag, m.last_modified)
        except NoSuchKeyError:
            pass
        for objects, prefixes in _pages(self._client, bucket, key + "/", "/", max_keys=1):
            if objects or prefixes:
                return {"name": path, "size": 0, "type": "directory"}
            break
        raise FileNotFoundError(path)

    def find(
        self, path: str, maxdepth: Optional[int] = None, withdirs: bool = False, detail: bool = False, **kwargs: Any
    ) -> Any:
        """Every file under ``path`` from one flat listing (no listing per directory)."""
        path = self._strip_protocol(path)
        bucket, key = _split(path)
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        out: Dict[str, Dict[str, Any]] = {}
        prefix = key + "/" if key else ""
        try:
            for objects, _ in _pages(self._client, bucket, prefix):
                for o in objects:
                    if _unusable(o):
                        continue
                    rel = o.key[len(prefix):]
                    if not rel or rel.endswith("/"):
                        continue
                    depth = rel.count("/") + 1
                    if withdirs:
                        # Its directories within the depth, also when the file is deeper (as
                        # fsspec's find over walk gives them; glob("dir/*") lists them so).
                        parts = rel.split("/")[:-1]
                        for i in range(1, len(parts) + 1):
                            if maxdepth is not None and i > maxdepth:
                                break
                            d = "%s/%s%s" % (bucket, prefix, "/".join(parts[:i]))
                            out.setdefault(d, {"name": d, "size": 0, "type": "directory"})
                    if maxdepth is not None and depth > maxdepth:
                        continue
                    name = "%s/%s" % (bucket, o.key)
                    out[name] = self._file_info(bucket, o.key, o.size, o.etag, o.last_modified)
        except FileNotFoundError:
            pass  # nothing under a missing bucket, as fsspec's own find (over walk) says
        if out and withdirs and key:
            # The directory itself, as fsspec's own find gives it.
            out.setdefault(path, {"name": path, "size": 0, "type": "directory"})
        if not out and key:
            try:
                info = self.info(path)
                if info["type"] == "file":
                    out[path] = info
            except FileNotFoundError:
                pass
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    # -- reading ------------------------------------------------------------------------------

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> Any:
        if mode != "rb":
            raise NotImplementedError("OssFfiFileSystem is read-only: mode %r" % (mode,))
        bucket, key = self.split_path(path)
        options = dict(self._reader_options)
        for name in ("part_size", "max_window", "read_ahead", "version_id"):
            if name in kwargs:
                options[name] = kwargs[name]
        return self._client.open(bucket, key, **options)

    def cat_file(self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any) -> bytes:
        bucket, key = self.split_path(path)
        if start is None and end is None:
            with self._client.open(bucket, key, **self._reader_options) as f:
                return f.read()
        size = None
        if (start is not None and start < 0) or (end is not None and end < 0):
            # Only an offset from the end needs the size. (To the end is an open range: the
            # object's end now, not the one a cached listing knew.)
            size = self.info(path)["size"]
        first = 0 if start is None else (start if start >= 0 else max(size + start, 0))  # type: ignore[operator]
        stop = None if end is None else (end if end >= 0 else size + end)  # type: ignore[operator]
        if stop is not None and stop <= first:
            return b""
        try:
            return self._client.get_object(bucket, key, (first, -1 if stop is None else stop - 1))
        except ServerError as e:
            # A range that starts at or past the end (416): nothing, as a slice past the end
            # gives (fsspec's meaning of start/end); a missing object is still an error.
            if e.http_status == 416:
                return b""
            raise

    def cat_ranges(
        self, paths: List[str], starts: Union[int, List[int]], ends: Union[int, List[int]],
        max_gap: Any = None, on_error: str = "return", **kwargs: Any,
    ) -> List[Any]:
        """Every range at once (up to ``max_workers`` GETs in flight)."""
        n = len(paths)
        starts_l = starts if isinstance(starts, list) else [starts] * n
        ends_l = ends if isinstance(ends, list) else [ends] * n
        if len(starts_l) != n or len(ends_l) != n:
            raise ValueError("paths, starts and ends must have the same length")

        def one(i: int) -> Any:
            try:
                return self.cat_file(paths[i], starts_l[i], ends_l[i])
            except Exception as e:  # noqa: BLE001 - fsspec's on_error="return"
                if on_error == "return":
                    return e
                raise

        if n <= 1:
            return [one(i) for i in range(n)]
        with concurrent.futures.ThreadPoolExecutor(min(self._max_workers, n)) as pool:
            return list(pool.map(one, range(n)))

    def get_file(self, rpath: str, lpath: str, callback: Any = None, outfile: Any = None, **kwargs: Any) -> None:
        collecting = getattr(self._local, "collect", None)
        if collecting is not None:
            collecting.append((self._strip_protocol(rpath), lpath))
            return
        bucket, key = self.split_path(rpath)
        if outfile is None and hasattr(lpath, "write"):
            outfile = lpath  # fsspec's get_file takes an open file as the target too
        if outfile is not None:
            # Through the prefetching reader, read to its end: CRC64-checked as the download is.
            with self._client.open(bucket, key, **self._reader_options) as f:
                shutil.copyfileobj(f, outfile, 1 << 20)
            return
        is_dir = self.isdir(rpath)
        if os.path.isdir(lpath) and not is_dir:
            # A file onto a directory: refused as fsspec's own copy refuses it, never a silent
            # success with nothing written.
            raise IsADirectoryError(errno.EISDIR, "the target of the object %r is a directory" % rpath, lpath)
        if is_dir:  # a "directory" of a recursive copy: made, nothing fetched
            os.makedirs(lpath, exist_ok=True)
            return
        parent = os.path.dirname(lpath)
        if parent:
            os.makedirs(parent, exist_ok=True)
        self._client.resumable_download(bucket, key, lpath)

    def get(self, rpath: Any, lpath: Any, recursive: bool = False, callback: Any = None,
            maxdepth: Optional[int] = None, **kwargs: Any) -> None:
        """fsspec's ``get`` with fsspec's target paths. A directory copied whole (``recursive``,
        no ``maxdepth``, no glob) is one batch download (:meth:`Client.download_objects`: listed
        once, many objects at a time, each CRC64-checked and renamed into place; its journal
        in a temporary directory, removed after); anything else goes file by file."""
        pairs: List[Tuple[str, str]] = []
        self._local.collect = pairs  # fsspec computes the targets; get_file only records them
        try:
            super().get(rpath, lpath, recursive=recursive, maxdepth=maxdepth, **kwargs)
        finally:
            self._local.collect = None
        whole = (recursive and maxdepth is None and isinstance(rpath, str) and isinstance(lpath, str)
                 and not has_magic(rpath))
        plan = self._one_batch(rpath, pairs) if whole else None
        if plan is None:
            for r, local in pairs:
                self.get_file(r, local, **kwargs)
            return
        bucket, prefix, dest = plan
        with tempfile.TemporaryDirectory(prefix="ossffi-get-") as journal_dir:
            report = self._client.download_objects(
                bucket, prefix=prefix, dest=dest, overwrite="always", checkpoint_dir=journal_dir,
            )
        if report.failures:
            raise report.failures[0][1]

    def _one_batch(self, rpath: str, pairs: List[Tuple[str, str]]) -> Optional[Tuple[str, str, str]]:
        """(bucket, prefix, destination) of one batch that writes exactly fsspec's targets for
        the whole directory ``rpath``: every file's target is the destination plus its key
        below the prefix. None when they are not (then file by file)."""
        bucket, key = self.split_path(rpath)
        if not key:
            return None
        prefix = key.rstrip("/") + "/"
        files = set(self.find(rpath))  # one listing: which of the pairs are files
        dest = None
        for r, local in pairs:
            rb, rk = self.split_path(r)
            if rb != bucket or not rk.startswith(prefix):
                if rk == prefix.rstrip("/"):
                    continue  # the directory itself
                return None
            rel = rk[len(prefix):]
            if not rel or r not in files:
                continue
            if not local.endswith("/" + rel):
                return None
            d = local[: -len(rel) - 1]
            if dest is None:
                dest = d
            elif d != dest:
                return None
        return None if dest is None else (bucket, prefix, dest)

    def ukey(self, path: str) -> str:
        return str(self.info(path).get("ETag", ""))

    # -- read-only ----------------------------------------------------------------------------

    def _readonly(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("OssFfiFileSystem is read-only")

    rm_file = _readonly
    _rm = _readonly
    mkdir = _readonly
    makedirs = _readonly
    rmdir = _readonly
    put_file = _readonly
    cp_file = _readonly
    touch = _readonly
    pipe_file = _readonly


def _pages(client: Client, bucket: str, *args: Any, **kwargs: Any) -> Iterator[Tuple[List[Any], List[str]]]:
    """``client.list_objects``, a missing bucket as :class:`FileNotFoundError` (what fsspec
    expects of a path that does not exist)."""
    try:
        yield from client.list_objects(bucket, *args, **kwargs)
    except ServerError as err:
        if err.code == "NoSuchBucket":
            raise FileNotFoundError(errno.ENOENT, "no such bucket", bucket) from err
        raise


def _unusable(o: Any) -> bool:
    """A listed key OSS cannot hold (a hostile or broken server): left out, with a warning that
    names it, never silently."""
    if o.invalid is None:
        return False
    warnings.warn("oss_ffi: a listed key was left out: %s" % o.invalid, RuntimeWarning, stacklevel=3)
    return True
