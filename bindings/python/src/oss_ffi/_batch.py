"""The batch download (``oss_batch_request_t``, ``oss_batch_report_t``): a prefix or a list of
keys into a directory, as one resumable, verified job (:meth:`Client.download_objects`).

The report is copied out of C into plain Python values (:class:`BatchReport`), so it outlives
the call and can be pickled; the callbacks get :class:`BatchProgress` and :class:`ObjectOutcome`
values copied the same way.
"""

from __future__ import annotations

import datetime as _dt
import enum
import re
from ctypes import byref, c_char_p, c_void_p
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, Union

from . import _lib
from ._callbacks import _CallContext, _lookup
from ._convert import PathLike, _U32, _U64, _bool, _int, _path, _str
from ._errors import OssError, check, read_error, take_error
from ._lib import BATCH_OBJECT_CB, BATCH_PROGRESS_CB, Library

__all__ = ["BatchProgress", "BatchReport", "ObjectOutcome", "Outcome"]


class Outcome(enum.IntEnum):
    """Mirror of ``oss_batch_outcome_t`` (values fixed by the C ABI)."""

    DOWNLOADED = 0
    SKIPPED_UNCHANGED = 1
    SKIPPED_EXISTS = 2
    SKIPPED_FILTERED = 3
    SKIPPED_DIRECTORY_MARKER = 4
    WOULD_DOWNLOAD = 5
    FAILED = 6


_OVERWRITE = {"always": 0, "if-changed": 1, "never": 2}
_ON_FAILURE = {"continue": 0, "stop": 1}


@dataclass(frozen=True)
class BatchProgress:
    """A batch's counts: objects listed (so far), downloaded (or, in a dry run, that would be),
    skipped (unchanged, existing, filtered, directory markers), failed; bytes written and the
    bytes of the objects to download known so far; the recent rate; whether the listing is
    complete."""

    objects_listed: int = 0
    objects_done: int = 0
    objects_skipped: int = 0
    objects_failed: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    bytes_per_sec: int = 0
    listing_done: bool = False

    @classmethod
    def _from_c(cls, c: Any) -> "BatchProgress":
        return cls(
            int(c.objects_listed),
            int(c.objects_done),
            int(c.objects_skipped),
            int(c.objects_failed),
            int(c.bytes_done),
            int(c.bytes_total),
            int(c.bytes_per_sec),
            bool(c.listing_done),
        )


@dataclass(frozen=True)
class ObjectOutcome:
    """What happened to one object (``on_object``): its key, its local path (None when the key
    has no safe one), its size and ETag as listed, the :class:`Outcome`, and the error of a
    failed object."""

    key: str
    path: Optional[str]
    size: int
    etag: str
    outcome: Outcome
    error: Optional[OssError] = None


@dataclass
class BatchReport:
    """What a batch did.

    Attributes:
        progress: the final :class:`BatchProgress`.
        failures: ``(key, error)`` of the objects that failed, in the order they failed: the
            first 1000 (``progress.objects_failed`` counts them all; ``on_object`` sees each).
        deleted: keys the journal knew from an earlier run that the listing no longer has (their
            local files are left alone).
        stopped: why the batch stopped before its end (the listing failed, cancelled, paused,
            ``on_failure="stop"``), else None.
        journal_path: the batch's journal ("" when none was opened: a dry run, an early stop).
        elapsed: seconds the batch ran.
    """

    progress: BatchProgress = field(default_factory=BatchProgress)
    failures: List[Tuple[str, OssError]] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)
    stopped: Optional[OssError] = None
    journal_path: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """Nothing failed and the batch ran to its end."""
        return not self.failures and self.stopped is None

    def raise_for_failures(self) -> None:
        """Raises the batch's stop, else the first failure (with this report as its
        ``report`` attribute), unless :attr:`ok`."""
        e = self.stopped or (self.failures[0][1] if self.failures else None)
        if e is not None:
            e.report = self  # type: ignore[attr-defined]
            raise e

    @classmethod
    def _take(cls, lib: Library, rep: int) -> "BatchReport":
        """Copies a report out of C (the caller frees it)."""

        def err(ptr: Optional[int]) -> Optional[OssError]:
            return _copy_error(lib, ptr)

        def s(b: Optional[bytes]) -> str:
            return b.decode("utf-8", "replace") if b else ""

        failures = []
        for i in range(int(lib.oss_batch_report_failure_count(rep))):
            e = err(lib.oss_batch_report_failure_error(rep, i))
            k = s(lib.oss_batch_report_failure_key(rep, i))
            if e is not None:
                e._set_object("", k)
                failures.append((k, e))
        deleted = [
            s(lib.oss_batch_report_deleted_key(rep, i))
            for i in range(int(lib.oss_batch_report_deleted_count(rep)))
        ]
        p = _lib.BatchProgressC()
        check(lib, lib.oss_batch_report_progress(rep, byref(p)))
        return cls(
            BatchProgress._from_c(p),
            failures,
            deleted,
            err(lib.oss_batch_report_stopped(rep)),
            s(lib.oss_batch_report_journal_path(rep)),
            int(lib.oss_batch_report_elapsed_ms(rep)) / 1000.0,
        )


def _copy_error(lib: Library, ptr: Optional[int]) -> Optional[OssError]:
    """An :class:`OssError` copied from a borrowed ``const oss_error_t *`` (not freed)."""
    if not ptr:
        return None
    return read_error(lib, ptr)


class _BatchContext(_CallContext):
    """Per-batch state shared by the trampolines: the callables, the first exception one
    raised (``error``), and how to cancel the batch (the blocking call's request, or the
    transfer)."""

    def __init__(
        self,
        lib: Library,
        progress: Optional[Callable[[BatchProgress], Any]],
        on_object: Optional[Callable[[ObjectOutcome], Any]],
    ) -> None:
        super().__init__(lib, None)
        self.batch_progress = progress
        self.on_object = on_object


def _progress_trampoline(p: Any, user_data: Optional[int]) -> None:
    try:
        ctx = _lookup(user_data)
        if ctx is None or ctx.error is not None or ctx.batch_progress is None or not p:
            return
        try:
            ctx.batch_progress(BatchProgress._from_c(p.contents))
        except BaseException as e:  # noqa: BLE001 - must never propagate into C
            ctx.fail(e)
    except BaseException:  # noqa: BLE001
        pass


def _object_trampoline(o: Any, user_data: Optional[int]) -> None:
    try:
        ctx = _lookup(user_data)
        if ctx is None or ctx.error is not None or ctx.on_object is None or not o:
            return
        c = o.contents
        try:
            outcome = Outcome(int(c.outcome))
        except ValueError:  # an outcome added by a later release
            outcome = Outcome.FAILED if c.error else Outcome.DOWNLOADED
        path = c.path.decode("utf-8", "replace") if c.path else ""
        key = c.key.decode("utf-8", "replace") if c.key else ""
        err = _copy_error(ctx.lib, c.error)
        if err is not None:
            err._set_object("", key)
        value = ObjectOutcome(
            key,
            path or None,
            int(c.size),
            c.etag.decode("utf-8", "replace") if c.etag else "",
            outcome,
            err,
        )
        try:
            ctx.on_object(value)
        except BaseException as e:  # noqa: BLE001 - must never propagate into C
            ctx.fail(e)
    except BaseException:  # noqa: BLE001
        pass


_PROGRESS = BATCH_PROGRESS_CB(_progress_trampoline)
_OBJECT = BATCH_OBJECT_CB(_object_trampoline)


def _strings(values: Any, name: str) -> List[bytes]:
    if isinstance(values, (str, bytes)):
        values = (values,)
    try:
        items = list(values)
    except TypeError:
        raise TypeError("%s must be a sequence of str" % name) from None
    return [_str(v, name) for v in items]


def _array(items: Sequence[bytes]) -> Any:
    return (c_char_p * len(items))(*items) if items else None


def _epoch(value: Union[None, int, float, _dt.datetime], name: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("%s must be a datetime or Unix seconds, not bool" % name)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("%s: a naive datetime is ambiguous; give it a tzinfo" % name)
        return int(value.timestamp())
    if isinstance(value, (int, float)):
        return int(value)
    raise TypeError("%s must be a datetime or Unix seconds, not %s" % (name, type(value).__name__))


_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(i?B)?\s*$", re.IGNORECASE)


def _size(value: Any, name: str) -> Optional[int]:
    """An int, or a string with a suffix as the CLI takes it: K, M, G, T (powers of 1024, also
    KiB...) or KB, MB, GB, TB (powers of 1000)."""
    if value is None:
        return None
    if isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError("%s: not a size: %r (e.g. 1048576, 1M, 1MiB, 1MB)" % (name, value))
        n, unit, b = int(m.group(1)), m.group(2).upper(), (m.group(3) or "")
        power = "KMGT".find(unit) + 1 if unit else 0
        base = 1000 if b.upper() == "B" and unit else 1024
        value = n * base**power
    return _int(value, name, 0, _U64)


def build_request(
    lib: Library,
    bucket: str,
    *,
    dest: PathLike,
    prefix: Optional[str] = None,
    keys: Optional[Iterable[str]] = None,
    include: Any = (),
    exclude: Any = (),
    min_size: Any = None,
    max_size: Any = None,
    modified_after: Any = None,
    modified_before: Any = None,
    overwrite: str = "if-changed",
    on_failure: str = "continue",
    dry_run: bool = False,
    max_objects_in_flight: Optional[int] = None,
    checkpoint_dir: Optional[PathLike] = None,
    part_size: Optional[int] = None,
    threads: Optional[int] = None,
    verify_on_resume: bool = True,
    direct_io: bool = True,
) -> int:
    """A new ``oss_batch_request_t *`` (the caller's to free) with every option set; the
    arguments are all checked before C is called. The keyword options and their defaults are
    :meth:`Client.download_objects`'s (but its callbacks and ``cancel_event``)."""
    if (prefix is None) == (keys is None):
        raise ValueError("give exactly one of prefix= and keys=")
    bucket_b = _str(bucket, "bucket")
    dest_b = _path(dest, "dest")
    prefix_b = None if prefix is None else _str(prefix, "prefix")
    keys_b = None if keys is None else _strings(keys, "keys")
    inc, exc = _strings(include, "include"), _strings(exclude, "exclude")
    lo, hi = _size(min_size, "min_size"), _size(max_size, "max_size")
    after, before = _epoch(modified_after, "modified_after"), _epoch(modified_before, "modified_before")
    if overwrite not in _OVERWRITE:
        raise ValueError("overwrite must be one of %s, not %r" % (", ".join(_OVERWRITE), overwrite))
    if on_failure not in _ON_FAILURE:
        raise ValueError("on_failure must be one of %s, not %r" % (", ".join(_ON_FAILURE), on_failure))
    dry = _bool(dry_run, "dry_run")
    inflight = None if max_objects_in_flight is None else _int(max_objects_in_flight, "max_objects_in_flight", 1, 1024)
    ckpt = None if checkpoint_dir is None else _path(checkpoint_dir, "checkpoint_dir")
    part = None if part_size is None else _size(part_size, "part_size")
    nthreads = None if threads is None else _int(threads, "threads", 1, _U32)
    verify, direct = _bool(verify_on_resume, "verify_on_resume"), _bool(direct_io, "direct_io")
    out = c_void_p()
    if keys_b is not None:
        arr = _array(keys_b)
        check(lib, lib.oss_batch_request_new_keys(bucket_b, arr, len(keys_b), dest_b, byref(out)))
    else:
        check(lib, lib.oss_batch_request_new_prefix(bucket_b, prefix_b, dest_b, byref(out)))
    req = int(out.value or 0)
    try:
        if inc:
            check(lib, lib.oss_batch_request_set_include(req, _array(inc), len(inc)))
        if exc:
            check(lib, lib.oss_batch_request_set_exclude(req, _array(exc), len(exc)))
        if lo is not None or hi is not None:
            check(lib, lib.oss_batch_request_set_size_range(req, lo or 0, _U64 if hi is None else hi))
        if after is not None or before is not None:
            check(
                lib,
                lib.oss_batch_request_set_modified_range(
                    req, -(2**63) if after is None else after, 2**63 - 1 if before is None else before
                ),
            )
        check(lib, lib.oss_batch_request_set_overwrite(req, _OVERWRITE[overwrite]))
        check(lib, lib.oss_batch_request_set_on_failure(req, _ON_FAILURE[on_failure]))
        check(lib, lib.oss_batch_request_set_dry_run(req, dry))
        if inflight is not None:
            check(lib, lib.oss_batch_request_set_max_objects_in_flight(req, inflight))
        if ckpt is not None:
            check(lib, lib.oss_batch_request_set_checkpoint_dir(req, ckpt))
        if part is not None:
            check(lib, lib.oss_batch_request_set_part_size(req, part))
        if nthreads is not None:
            check(lib, lib.oss_batch_request_set_thread_num(req, nthreads))
        check(lib, lib.oss_batch_request_set_verify_on_resume(req, verify))
        check(lib, lib.oss_batch_request_set_direct_io(req, direct))
    except BaseException:
        lib.oss_batch_request_free(req)
        raise
    return req


def take_report(lib: Library, rep: Optional[int]) -> Optional[BatchReport]:
    """Copies and frees an ``oss_batch_report_t *`` (None for NULL)."""
    if not rep:
        return None
    try:
        return BatchReport._take(lib, rep)
    finally:
        lib.oss_batch_report_free(rep)


def transfer_report(lib: Library, transfer: Optional[int]) -> Optional[BatchReport]:
    """The report of a batch transfer that ended (None when it has none)."""
    out = c_void_p()
    e = take_error(lib, lib.oss_transfer_batch_report(transfer, byref(out)))
    if e is not None:
        return None
    return take_report(lib, out.value)

