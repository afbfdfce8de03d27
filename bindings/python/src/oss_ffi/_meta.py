"""Object metadata (``oss_object_meta_t``)."""

from __future__ import annotations

from ctypes import byref, c_char_p, c_uint64
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from ._lib import Library


# --------------------------------------------------------------------------------------------
# metadata


@dataclass(frozen=True)
class ObjectMeta:
    """Object metadata from HeadObject / GetObjectMeta / GetObject / a resumable download.

    ``content_length`` is the whole object's size (also after a ranged download); ``etag`` is
    verbatim with its quotes; ``crc64`` is None when the server sent no
    ``x-oss-hash-crc64ecma``; ``user_meta`` maps ``x-oss-meta-*`` names (without the prefix,
    lower-case) to values; ``headers`` holds every response header (lower-case names).
    ``verified`` is True only when the call checked every byte it delivered against the
    server's whole-object CRC64 (a whole-object download or GetObject with ``crc64`` on and the
    header present); False for HEAD / GetObjectMeta, ranges, ``crc64=False`` and servers that
    send no CRC64 (proxies, gateways, other S3-like servers): such bytes were pinned to one ETag
    and length-checked, not verified end to end.
    """

    content_length: int
    etag: str
    last_modified: str
    crc64: Optional[int]
    version_id: str
    request_id: str
    content_type: str
    object_type: str
    user_meta: Dict[str, str] = field(default_factory=dict)
    headers: Dict[str, str] = field(default_factory=dict)
    verified: bool = False

    @classmethod
    def _take(cls, lib: Library, ptr: Optional[int]) -> "ObjectMeta":
        """Copies everything out of an ``oss_object_meta_t *`` (does not free it)."""

        def s(b: Optional[bytes]) -> str:
            return b.decode("utf-8", "replace") if b else ""

        crc = c_uint64()
        has_crc = lib.oss_object_meta_crc64(ptr, byref(crc))

        def pairs(count_fn: Any, at_fn: Any) -> Dict[str, str]:
            out: Dict[str, str] = {}
            name, value = c_char_p(), c_char_p()
            for i in range(count_fn(ptr)):
                if at_fn(ptr, i, byref(name), byref(value)):
                    out[s(name.value)] = s(value.value)
            return out

        return cls(
            content_length=int(lib.oss_object_meta_content_length(ptr)),
            etag=s(lib.oss_object_meta_etag(ptr)),
            last_modified=s(lib.oss_object_meta_last_modified(ptr)),
            crc64=int(crc.value) if has_crc else None,
            version_id=s(lib.oss_object_meta_version_id(ptr)),
            request_id=s(lib.oss_object_meta_request_id(ptr)),
            content_type=s(lib.oss_object_meta_content_type(ptr)),
            object_type=s(lib.oss_object_meta_object_type(ptr)),
            user_meta=pairs(lib.oss_object_meta_user_meta_count, lib.oss_object_meta_user_meta_at),
            headers=pairs(lib.oss_object_meta_header_count, lib.oss_object_meta_header_at),
            verified=bool(lib.oss_object_meta_verified(ptr)),
        )
