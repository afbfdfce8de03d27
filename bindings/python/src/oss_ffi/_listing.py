"""Listing a bucket page by page (``oss_listing_t``): what :meth:`Client.list_objects` yields."""

from __future__ import annotations

from ctypes import byref, c_char_p, c_uint64, c_void_p
from typing import Iterator, List, NamedTuple, Tuple

from ._blocking import _raise_for, _run_blocking
from ._callbacks import _CallContext
from ._errors import check
from ._lib import Library


class ListedObject(NamedTuple):
    """One object of a listing."""

    key: str
    size: int
    etag: str
    last_modified: str
    storage_class: str
    #: None for a usable key; else why the server's key cannot be an OSS key (``key`` is then
    #: ""): a hostile or broken server listed a key over 1023 bytes or with a NUL.
    invalid: "str | None" = None


def _text(b: "bytes | None") -> str:
    return b.decode("utf-8") if b else ""


def iter_pages(
    lib: Library, client: int, bucket: bytes, prefix: bytes, delimiter: bytes, start_after: bytes, max_keys: int,
    names: Tuple[str, str],
) -> Iterator[Tuple[List[ListedObject], List[str]]]:
    """The listing's pages as ``(objects, common_prefixes)``; ``client`` is a reference of the
    caller's, kept for the whole walk."""
    h = c_void_p()
    check(lib, lib.oss_client_list_objects(client, bucket, prefix, delimiter, start_after, max_keys, byref(h)))
    listing = int(h.value or 0)
    try:
        while True:
            page = c_void_p()
            ctx = _CallContext(lib, None, names[0], names[1])
            ctx.set_cancel(lambda: lib.oss_listing_cancel(listing))
            err = _run_blocking(lambda: lib.oss_listing_next_page(listing, byref(page)), ctx, None)
            _raise_for(ctx, err)
            if not page.value:
                return
            try:
                objects: List[ListedObject] = []
                key, etag, modified, klass = c_char_p(), c_char_p(), c_char_p(), c_char_p()
                size = c_uint64()
                for i in range(lib.oss_list_page_object_count(page)):
                    lib.oss_list_page_object_at(page, i, byref(key), byref(size), byref(etag), byref(modified), byref(klass))
                    bad = lib.oss_list_page_object_invalid(page, i)
                    objects.append(
                        ListedObject(_text(key.value), int(size.value), _text(etag.value), _text(modified.value),
                                     _text(klass.value), bad.decode("utf-8", "replace") if bad else None)
                    )
                prefixes = [_text(lib.oss_list_page_prefix_at(page, i)) for i in range(lib.oss_list_page_prefix_count(page))]
            finally:
                lib.oss_list_page_free(page)
            yield objects, prefixes
    finally:
        lib.oss_listing_free(listing)
