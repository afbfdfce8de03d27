"""Argument conversion: wrong types and values C cannot represent fail here, before C is called."""

from __future__ import annotations

import datetime as _dt
import email.utils
import os
import time
from ctypes import c_char_p
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._credentials import CredentialsSource
from ._errors import check


PathLike = Union[str, "os.PathLike[str]"]
#: ``(start, end)`` inclusive byte offsets; ``end`` None or -1 means "to the end".
ByteRange = Tuple[int, Optional[int]]
#: ``progress(increment, transferred, total)``
ProgressCallback = Callable[[int, int, int], Any]
Credentials = Union[
    Tuple[str, str],
    Tuple[str, str, Optional[str]],
    Callable[[], Sequence[Optional[str]]],
    CredentialsSource,
    None,
]
DateLike = Union[str, _dt.datetime]
ETags = Union[str, Iterable[str], None]

_U16, _U32, _U64, _I64 = (1 << 16) - 1, (1 << 32) - 1, (1 << 64) - 1, (1 << 63) - 1


# --------------------------------------------------------------------------------------------
# argument conversion: wrong types and values C cannot represent fail here, before C is called


def _str(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (name, type(value).__name__))
    if "\0" in value:
        raise ValueError("%s must not contain NUL characters" % name)
    return value.encode("utf-8", "surrogatepass")


def _opt_str(value: Any, name: str) -> Optional[bytes]:
    return None if value is None else _str(value, name)


def _path(value: Any, name: str) -> bytes:
    if not isinstance(value, (str, bytes, os.PathLike)):
        raise TypeError("%s must be a path (str or os.PathLike), not %s" % (name, type(value).__name__))
    b = os.fsencode(value)
    if b"\0" in b:
        raise ValueError("%s must not contain NUL characters" % name)
    return b


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if not lo <= value <= hi:
        raise ValueError("%s must be in %d..%d, got %d" % (name, lo, hi, value))
    return value


_SIZE_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _size(value: Any, name: str, lo: int, hi: int) -> int:
    """A byte count: an int, or a string with a K/M/G/T suffix (powers of 1024, ``KiB``/``KB``
    spellings allowed) as the CLI takes it."""
    if isinstance(value, str):
        text = value.strip().upper()
        for tail in ("IB", "B"):
            if text.endswith(tail) and len(text) > len(tail) and text[-len(tail) - 1] in "KMGT":
                text = text[: -len(tail)]
                break
        unit = text[-1:] if text[-1:] in "KMGT" else ""
        digits = text[: len(text) - len(unit)]
        if not digits.isdigit():
            raise ValueError("%s must be a number of bytes like 4194304 or '4M', not %r" % (name, value))
        value = int(digits) * _SIZE_SUFFIXES[unit]
    return _int(value, name, lo, hi)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError("%s must be a bool, not %s" % (name, type(value).__name__))
    return value


def _callable(value: Any, name: str) -> Any:
    if value is not None and not callable(value):
        raise TypeError("%s must be callable, not %s" % (name, type(value).__name__))
    return value


#: ``response-*`` overrides: header name -> ``oss_response_header_t``.
_RESPONSE_HEADERS = {
    "content-type": 0,
    "content-language": 1,
    "expires": 2,
    "cache-control": 3,
    "content-disposition": 4,
    "content-encoding": 5,
}


def _response_headers(value: Optional[Mapping[str, str]]) -> List[Tuple[int, bytes]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise TypeError("response_headers must be a mapping of header name to value")
    out = []
    for name, v in value.items():
        if not isinstance(name, str):
            raise TypeError("response_headers names must be str, got %r" % (name,))
        which = _RESPONSE_HEADERS.get(name.lower().replace("_", "-"))
        if which is None:
            raise ValueError(
                "response_headers: %r cannot be overridden (only %s)" % (name, ", ".join(_RESPONSE_HEADERS))
            )
        out.append((which, _str(v, "response_headers[%r]" % name)))
    return out


def _expiry(value: Any) -> int:
    """A presigned URL's expiry as Unix seconds: ``value`` seconds from now, or a datetime."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("expires: a datetime must be timezone-aware")
        return _int(int(value.timestamp()), "expires", 1, _I64)
    if isinstance(value, _dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("expires must be seconds (int/float/timedelta) or a datetime, got %r" % (value,))
    if not value > 0:
        raise ValueError("expires must be > 0 seconds from now, got %r" % (value,))
    return _int(int(time.time() + value), "expires", 1, _I64)


def _range(value: Any) -> Optional[Tuple[int, int]]:
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError("range must be a (start, end) tuple (end inclusive, None = to the end)")
    start = _int(value[0], "range start", 0, _I64)
    end = -1 if value[1] is None else _int(value[1], "range end", -1, _I64)
    if end != -1 and end < start:
        raise ValueError("range end (%d) is before its start (%d)" % (end, start))
    return start, end


def _etags(value: ETags, name: str) -> Optional[List[bytes]]:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    return [_str(v, name) for v in items]


def _etag_array(items: List[bytes]) -> Any:
    return (c_char_p * len(items))(*items)


def _date(value: Optional[DateLike], name: str) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("%s must be timezone-aware (e.g. datetime.timezone.utc)" % name)
        return email.utils.formatdate(value.timestamp(), usegmt=True).encode()
    return _str(value, name)


# --------------------------------------------------------------------------------------------
# request settings: every option of a call checked and converted first, then set on its handle


class _Setters:
    """The settings of one request handle, checked and converted (nothing sent to C yet): each
    a setter's name without its handle prefix and its C arguments after the handle."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Tuple[Any, ...]]] = []

    def add(self, setter: str, *args: Any) -> None:
        self.calls.append((setter, args))

    def add_given(self, setter: str, value: Any) -> None:
        """:meth:`add` with the one argument ``value``, unless it is None (not given)."""
        if value is not None:
            self.add(setter, value)

    def apply(self, lib: Any, prefix: str, req: Any) -> None:
        """Calls ``lib.<prefix><setter>(req, *args)`` for each, in order; raises on the first
        error."""
        for setter, args in self.calls:
            check(lib, getattr(lib, prefix + setter)(req, *args))


def _object_settings(
    version_id: Optional[str],
    range_: Optional[ByteRange],
    if_match: ETags,
    if_none_match: ETags,
    if_modified_since: Optional[DateLike],
    if_unmodified_since: Optional[DateLike],
    traffic_limit: Optional[int],
    request_payer: bool,
) -> _Setters:
    """The GetObject settings both request handles take (``oss_get_object_request_set_*`` and
    ``oss_download_request_set_*``, the C side's ``object_settings!`` rows and the range), the
    ones given."""
    vid = _opt_str(version_id, "version_id")
    rng = _range(range_)
    match, nomatch = _etags(if_match, "if_match"), _etags(if_none_match, "if_none_match")
    since = _date(if_modified_since, "if_modified_since")
    unsince = _date(if_unmodified_since, "if_unmodified_since")
    limit = None if traffic_limit is None else _int(traffic_limit, "traffic_limit", 0, _U64)
    payer = _bool(request_payer, "request_payer")
    s = _Setters()
    s.add_given("set_version_id", vid)
    if rng is not None:
        s.add("set_range", *rng)
    if match is not None:
        s.add("set_matching_etags", _etag_array(match), len(match))
    if nomatch is not None:
        s.add("set_nonmatching_etags", _etag_array(nomatch), len(nomatch))
    s.add_given("set_modified_since", since)
    s.add_given("set_unmodified_since", unsince)
    s.add_given("set_traffic_limit", limit)
    if payer:
        s.add("set_request_payer", True)
    return s


def _download_settings(
    checkpoint_dir: Optional[PathLike],
    part_size: Optional[int],
    threads: Optional[int],
    verify_on_resume: bool,
    direct_io: bool,
    throughput_target: Union[int, str, None],
) -> _Setters:
    """The settings only a resumable download takes (``oss_download_request_set_*``)."""
    ckpt = None if checkpoint_dir is None else _path(checkpoint_dir, "checkpoint_dir")
    part = None if part_size is None else _int(part_size, "part_size", 1, _U64)
    nthreads = None if threads is None else _int(threads, "threads", 1, _U32)
    verify = _bool(verify_on_resume, "verify_on_resume")
    direct = _bool(direct_io, "direct_io")
    target = (
        None
        if throughput_target is None
        else _U64
        if throughput_target == "max"
        else _int(throughput_target, "throughput_target", 1, _U64 - 1)
    )
    s = _Setters()
    s.add_given("set_checkpoint_dir", ckpt)
    s.add_given("set_part_size", part)
    s.add_given("set_thread_num", nthreads)
    s.add("set_verify_on_resume", verify)
    s.add("set_direct_io", direct)
    s.add_given("set_throughput_target", target)
    return s
