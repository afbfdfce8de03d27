"""``Client``: one configured client of an OSS endpoint and the calls made with it.

The package, a file per concept (mirroring the library's): ``_client`` (Client), ``_config``
(its keyword arguments applied to an ``oss_config_t``), ``_transfer`` (Transfer, TransferState,
TransferStatus), ``_stream`` (ObjectStream), ``_meta`` (ObjectMeta), ``_credentials``
(credentials sources), ``_errors`` (the exceptions), ``_sdk`` (initialise, shut down, log,
CRC64), ``_blocking`` (blocking C calls that Ctrl-C interrupts), ``_callbacks`` (the registry
and the trampolines C calls back through), ``_convert`` (argument conversion), over one
prototype table, ``_lib`` (checked against the header by ``tests/test_prototypes.py``).
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import threading
from ctypes import byref, c_void_p
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from . import _lib
from ._blocking import _raise_for, _run_blocking
from ._callbacks import (
    _CREDENTIALS,
    _CallContext,
    _CredentialsContext,
    _FREE,
    _PROGRESS,
    _WRITE,
    _credentials_tuple,
    _register,
    _unregister,
)
from ._config import _apply_config
from ._convert import (
    ByteRange,
    Credentials,
    DateLike,
    ETags,
    PathLike,
    ProgressCallback,
    _U64,
    _bool,
    _callable,
    _download_settings,
    _expiry,
    _int,
    _object_settings,
    _opt_str,
    _path,
    _response_headers,
    _size,
    _str,
)
from ._credentials import CredentialsSource
from ._errors import check, take_error
from ._lib import FREE_CB
from ._meta import ObjectMeta
from ._metrics import _METRICS, RequestStats, _stats
from ._sdk import initialize
from ._listing import ListedObject, iter_pages
from ._reader import AsyncObjectReader, ObjectReader
from ._stream import ObjectStream
from ._transfer import Transfer, _DONE, _PROGRESS_ABORTABLE, _require_async, _token_bytes
from ._batch import (
    BatchProgress,
    BatchReport,
    ObjectOutcome,
    _BatchContext,
    _OBJECT as _BATCH_OBJECT,
    _PROGRESS as _BATCH_PROGRESS,
    build_request as _batch_request,
    take_report as _take_report,
)


class Client:
    """A client for one OSS endpoint; thread-safe, meant to be shared (one connection pool).

    Args:
        endpoint: ``"https://oss-cn-hangzhou.aliyuncs.com"``, ``"http://127.0.0.1:9000"``...
        credentials: ``(access_key_id, access_key_secret)`` or with a third STS token; None to
            read ``OSS_ACCESS_KEY_ID`` / ``OSS_ACCESS_KEY_SECRET`` / ``OSS_SESSION_TOKEN`` before
            each request; or a callable returning ``(ak, sk, token_or_None)``, asked before each
            request (rotating STS credentials; it runs on a library thread); or a cloud source:
            :class:`DefaultChain`, :class:`Profile`, :class:`EcsRamRole`, :class:`OidcRole`,
            :class:`RamRoleArn` (fetched and refreshed by the library).
        region: the V4 signing region, e.g. ``"cn-hangzhou"``. None: the region the endpoint
            names (``oss-<region>[-internal].aliyuncs.com``, also after ``<bucket>.``); any
            other endpoint (an IP, a CNAME, ``oss-accelerate``, which serves every region) has
            none, and every V4 call then fails with :class:`InvalidArgumentError` saying so.
        signature_version: ``"v4"`` (OSS4-HMAC-SHA256) or ``"v1"`` (HMAC-SHA1).
        **config: ``max_connections``, ``connect_timeout_ms``, ``request_timeout_ms`` (idle),
            ``call_timeout_ms`` (a deadline for every whole call, retries included; 0/None:
            none; past it :class:`TimeoutError`, a resumable download keeps its checkpoint),
            ``retries``, ``retry_base_delay_ms``, ``verify_tls``, ``ca_file``, ``ca_path``,
            ``path_style``, ``cname``, ``crc64``, ``date_skew_adjustment``,
            ``reissue_slow_parts`` (default True: a download's part far slower than its
            peers is re-requested on a new connection), ``recv_rate_limit_kbps``, ``memory_budget`` (bytes, the memory of all the
            client's downloads together: 16 MiB..1 TiB, default 64 MiB), ``proxy`` (``"http://user:pw@host:port"``), ``user_agent``,
            ``resume_token_key`` (bytes, 16 to 1024: the key that seals and checks resume
            tokens; default: the per-user key file ``~/.config/oss-ffi/resume-token.key``, see
            the README's "Resume tokens are authenticated"),
            ``resolve`` (``"HOST:PORT:ADDR[,ADDR...]"`` or a list of them: addresses for HOST
            and BUCKET.HOST instead of the name service's, as curl's ``--resolve``; PORT must be
            the endpoint's; connections are spread over a host's addresses either way),
            ``metrics`` (a callable, called with a :class:`RequestMetrics` once per request
            attempt, retries included, from library threads; it must be quick and must not call
            the client; its exceptions are ignored. It also makes :meth:`request_stats` and
            :meth:`Transfer.request_stats` count).

    Making a client initialises the SDK if needed. Use it as a context manager (or call
    :meth:`close`) to release it deterministically; the garbage collector is the fallback.
    """

    _handle: Optional[int] = None

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials = None,
        region: Optional[str] = None,
        signature_version: str = "v4",
        **config: Any,
    ) -> None:
        self._lock = threading.Lock()
        self._handle = None
        self._credentials_ctx: Optional[_CredentialsContext] = None
        endpoint_b = _str(endpoint, "endpoint")
        region_b = _opt_str(region, "region")
        if not isinstance(signature_version, str) or signature_version.lower() not in ("v1", "v4"):
            raise ValueError("signature_version must be 'v1' or 'v4', got %r" % (signature_version,))
        sig = 1 if signature_version.lower() == "v4" else 0
        static = None
        source = credentials if isinstance(credentials, CredentialsSource) else None
        if credentials is not None and source is None and not callable(credentials):
            static = _credentials_tuple(credentials)
        initialize()
        lib = self._lib = _lib.lib()
        metrics = config.pop("metrics", None)
        if metrics is not None and not callable(metrics):
            raise TypeError("metrics must be a callable taking a RequestMetrics")
        cfg = lib.oss_config_new()
        provider = c_void_p()
        try:
            _apply_config(lib, cfg, config)
            if metrics is not None:
                mkey = _register(metrics)
                # On failure the library calls _FREE (which unregisters) at once.
                check(lib, lib.oss_config_set_request_metrics_callback(cfg, _METRICS, mkey, _FREE))
            check(lib, lib.oss_config_set_signature_version(cfg, sig))
            if region_b is not None:
                check(lib, lib.oss_config_set_region(cfg, region_b))
            if source is not None:
                provider = source._provider(lib)
            elif credentials is None:
                check(lib, lib.oss_credentials_provider_new_env(byref(provider)))
            elif static is not None:
                check(lib, lib.oss_credentials_provider_new_static(*static, byref(provider)))
            else:
                ctx = _CredentialsContext(lib, credentials)  # type: ignore[arg-type]
                key = _register(ctx)
                err = lib.oss_credentials_provider_new_callback(_CREDENTIALS, key, _FREE, byref(provider))
                if err:
                    _unregister(key)
                check(lib, err)
                self._credentials_ctx = ctx
            out = c_void_p()
            check(lib, lib.oss_client_new(endpoint_b, provider, cfg, byref(out)))
            self._handle = out.value
        finally:
            lib.oss_config_free(cfg)
            lib.oss_credentials_provider_free(provider)  # the client keeps its own reference

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the client. Calls already running keep their own reference and finish."""
        with self._lock:
            h, self._handle = self._handle, None
        if h:
            self._lib.oss_client_free(h)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except BaseException:  # noqa: BLE001 - interpreter shutdown
            pass

    @property
    def closed(self) -> bool:
        return self._handle is None

    def request_stats(self) -> RequestStats:
        """Every request of this client so far, added up (all zero without ``metrics``)."""
        h = self._ref()
        try:
            st = _lib.RequestStatsC()
            check(self._lib, self._lib.oss_client_request_stats(h, byref(st)))
            return _stats(st)
        finally:
            self._lib.oss_client_free(h)

    def _ref(self) -> int:
        """A reference of our own for one call (``oss_client_clone``), so that ``close`` from
        another thread can never free the handle under a running call."""
        with self._lock:
            if not self._handle:
                raise ValueError("the client is closed")
            return int(self._lib.oss_client_clone(self._handle))

    def set_region(self, region: str) -> None:
        """Changes the V4 signing region for later requests."""
        h = self._ref()
        try:
            check(self._lib, self._lib.oss_client_set_region(h, _str(region, "region")))
        finally:
            self._lib.oss_client_free(h)

    def presign(
        self,
        bucket: str,
        key: str,
        expires: Union[int, float, _dt.timedelta, _dt.datetime] = 3600,
        *,
        version_id: Optional[str] = None,
        response_headers: Optional[Mapping[str, str]] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
    ) -> str:
        """A presigned GET URL of the object (``oss_client_presign_get_object``): anyone with it
        can read the object with a plain HTTP GET until it expires. Signed locally with the
        client's credentials, signature version and addressing; nothing is sent.

        ``expires``: seconds from now (a number or ``timedelta``, > 0), or an aware ``datetime``
        (the moment it expires). ``response_headers``: overrides of the answer's headers, keyed
        ``Content-Type``, ``Content-Language``, ``Expires``, ``Cache-Control``,
        ``Content-Disposition``, ``Content-Encoding`` (any case, ``_`` for ``-``).
        ``version_id``, ``traffic_limit`` and ``request_payer`` go into the URL and its
        signature. Raises :class:`InvalidArgumentError` for an invalid bucket/key or V4 without
        a region."""
        lib = self._lib
        fn = lib.oss_client_presign_get_object
        if fn is None:
            raise NotImplementedError("this liboss_ffi has no oss_client_presign_get_object: update it")
        at = _expiry(expires)
        overrides = _response_headers(response_headers)
        req = self._object_request(
            bucket, key, version_id, None, None, None, None, None, traffic_limit, request_payer
        )
        url = c_void_p()
        h: Optional[int] = None
        try:
            for which, value in overrides:
                check(lib, lib.oss_get_object_request_set_response_header(req, which, value))
            h = self._ref()
            e = take_error(lib, fn(h, req, at, byref(url)))
            if e is not None:
                e._set_object(bucket, key)
                raise e
            return ctypes.string_at(url.value).decode("utf-8") if url.value else ""
        finally:
            lib.oss_string_free(url)
            if h is not None:
                lib.oss_client_free(h)
            lib.oss_get_object_request_free(req)

    def generate_presigned_url(
        self,
        bucket: str,
        key: str,
        expires: Union[int, float, _dt.timedelta, _dt.datetime] = 3600,
        **options: Any,
    ) -> str:
        """:meth:`presign` under the name the other SDKs use (the C++ SDK's
        ``GeneratePresignedUrl``)."""
        return self.presign(bucket, key, expires, **options)

    def disable_requests(self) -> None:
        """Aborts every request of this client in flight and refuses new ones until
        :meth:`enable_requests`."""
        h = self._ref()
        try:
            self._lib.oss_client_disable_requests(h)
        finally:
            self._lib.oss_client_free(h)

    def enable_requests(self) -> None:
        """Allows requests again after :meth:`disable_requests`."""
        h = self._ref()
        try:
            self._lib.oss_client_enable_requests(h)
        finally:
            self._lib.oss_client_free(h)

    # -- calls -------------------------------------------------------------------------------

    def resumable_download(
        self,
        bucket: str,
        key: str,
        path: Optional[PathLike] = None,
        *,
        checkpoint_dir: Optional[PathLike] = None,
        part_size: Optional[int] = None,
        threads: Optional[int] = None,
        range: Optional[ByteRange] = None,  # noqa: A002 - the name users expect
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        verify_on_resume: bool = True,
        direct_io: bool = True,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
        throughput_target: Union[int, str, None] = None,
    ) -> ObjectMeta:
        """Downloads ``bucket/key`` to ``path`` in parts, concurrently, verified (CRC64).

        Args:
            path: the destination (default: the key, relative to the current directory).
            checkpoint_dir: an existing directory; makes the download resumable (a cancelled
                or interrupted download continues where it stopped on the next call).
            part_size: bytes per part (102400 .. 5 GiB; default 8 MiB).
            threads: parts downloaded at once (1..1000; default 4).
            range: ``(start, end)`` inclusive; ``end`` None means to the end.
            progress: ``progress(increment, transferred, total)``, called on a library thread
                (serialised, about 10 times a second); ``transferred`` never decreases and ends
                at ``total``. If it raises, the download is cancelled and the exception is
                re-raised here.
            cancel_event: when set (from any thread, e.g. a progress callable), the download is
                cancelled and :class:`CancelledError` raised; the checkpoint is kept.
            verify_on_resume: re-read the finished parts of a resumed download and check their
                CRC64 (default True: every byte of the file is then either received or read
                back and checked by the call); False trusts the checkpoint's recorded CRCs.
            direct_io: write the temp file with direct I/O (O_DIRECT) where the file system
                allows it (default True: no second copy into the page cache, durability almost
                free); False writes through the page cache. Same bytes, same guarantees.
            throughput_target: instead of ``threads``, a rate to reach in bytes per second, or
                ``"max"`` for as fast as the link allows: parts in flight start at what the
                target implies (64 for ``"max"``), double while each step raises the rate
                measured over a few round trips by 10% or more and shrink on a capped link,
                within the client's ``memory_budget``.

        Ctrl-C (KeyboardInterrupt) cancels the download, leaves the checkpoint, and re-raises.

        Returns the object's metadata. Raises :class:`OssError` (a subclass per kind).
        """
        if cancel_event is not None and not isinstance(cancel_event, threading.Event):
            raise TypeError("cancel_event must be a threading.Event")
        _callable(progress, "progress")
        lib = self._lib
        req = self._download_request(
            bucket, key, path, checkpoint_dir, part_size, threads, range, version_id, if_match,
            if_none_match, if_modified_since, if_unmodified_since, verify_on_resume, direct_io,
            traffic_limit, request_payer, throughput_target,
        )
        ctx = _CallContext(lib, progress, bucket, key)
        ctx_key = _register(ctx)
        h: Optional[int] = None
        meta = c_void_p()
        try:
            if progress is not None:
                check(lib, lib.oss_download_request_set_progress(req, _PROGRESS, ctx_key, FREE_CB()))
            req_ptr = req
            ctx.set_cancel(lambda: lib.oss_download_request_cancel(req_ptr))
            h = self._ref()
            handle = h
            err = _run_blocking(
                lambda: lib.oss_client_resumable_download_object(handle, req_ptr, byref(meta)),
                ctx,
                cancel_event,
            )
            _raise_for(ctx, err, self._credentials_ctx)
            return ObjectMeta._take(lib, meta.value)
        finally:
            # _run_blocking only returns once C has returned: nothing uses req any more.
            lib.oss_object_meta_free(meta)
            if h is not None:
                lib.oss_client_free(h)
            lib.oss_download_request_free(req)
            _unregister(ctx_key)

    def _download_request(
        self,
        bucket: str,
        key: str,
        path: Optional[PathLike],
        checkpoint_dir: Optional[PathLike],
        part_size: Optional[int],
        threads: Optional[int],
        range_: Optional[ByteRange],
        version_id: Optional[str],
        if_match: ETags,
        if_none_match: ETags,
        if_modified_since: Optional[DateLike],
        if_unmodified_since: Optional[DateLike],
        verify_on_resume: bool,
        direct_io: bool,
        traffic_limit: Optional[int],
        request_payer: bool,
        throughput_target: Union[int, str, None] = None,
    ) -> int:
        """A new ``oss_download_request_t *`` (the caller's to free) with every option set; the
        arguments are all checked before C is called."""
        lib = self._lib
        bucket_b, key_b = _str(bucket, "bucket"), _str(key, "key")
        path_b = None if path is None else _path(path, "path")
        own = _download_settings(checkpoint_dir, part_size, threads, verify_on_resume, direct_io, throughput_target)
        shared = _object_settings(
            version_id, range_, if_match, if_none_match, if_modified_since, if_unmodified_since,
            traffic_limit, request_payer,
        )
        out = c_void_p()
        check(lib, lib.oss_download_request_new(bucket_b, key_b, path_b, byref(out)))
        req = int(out.value or 0)
        try:
            own.apply(lib, "oss_download_request_", req)
            shared.apply(lib, "oss_download_request_", req)
        except BaseException:
            lib.oss_download_request_free(req)
            raise
        return req

    def _object_request(self, bucket: str, key: str, *options: Any) -> int:
        """A new ``oss_get_object_request_t *`` (the caller's to free) with every option set
        (``options``: the arguments of :func:`_object_settings`, in its order); the arguments
        are all checked before C is called."""
        lib = self._lib
        bucket_b, key_b = _str(bucket, "bucket"), _str(key, "key")
        settings = _object_settings(*options)
        req = c_void_p()
        check(lib, lib.oss_get_object_request_new(bucket_b, key_b, byref(req)))
        try:
            settings.apply(lib, "oss_get_object_request_", req)
        except BaseException:
            lib.oss_get_object_request_free(req)
            raise
        return int(req.value or 0)

    def _object_call(
        self,
        req: int,
        ctx: _CallContext,
        call: Callable[[int, int, Any], Optional[int]],
        cancel_event: Optional[threading.Event],
        want_meta: bool = True,
    ) -> Optional[ObjectMeta]:
        """Runs ``call(client, request, meta_out)``; frees the request, the meta and the error."""
        lib = self._lib
        ctx_key = _register(ctx)
        meta = c_void_p()
        h: Optional[int] = None
        try:
            if ctx.progress is not None:
                check(lib, lib.oss_get_object_request_set_progress(req, _PROGRESS, ctx_key, FREE_CB()))
            cancel_fn = lib.oss_get_object_request_cancel
            if cancel_fn is not None:
                ctx.set_cancel(lambda: cancel_fn(req))
            h = self._ref()
            handle = h
            err = _run_blocking(lambda: call(handle, req, byref(meta)), ctx, cancel_event)
            _raise_for(ctx, err, self._credentials_ctx)
            return ObjectMeta._take(lib, meta.value) if want_meta else None
        finally:
            lib.oss_object_meta_free(meta)
            if h is not None:
                lib.oss_client_free(h)
            lib.oss_get_object_request_free(req)
            _unregister(ctx_key)

    def head_object(
        self,
        bucket: str,
        key: str,
        version_id: Optional[str] = None,
        *,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        request_payer: bool = False,
    ) -> ObjectMeta:
        """HeadObject: size, ETag, Last-Modified, CRC64, content type, user metadata, headers."""
        req = self._object_request(
            bucket, key, version_id, None, if_match, if_none_match, if_modified_since,
            if_unmodified_since, None, request_payer,
        )
        lib = self._lib
        meta = self._object_call(
            req, _CallContext(lib, None, bucket, key), lambda c, r, m: lib.oss_client_head_object(c, r, m), None
        )
        assert meta is not None
        return meta

    def get_object_meta(
        self, bucket: str, key: str, version_id: Optional[str] = None, *, request_payer: bool = False
    ) -> ObjectMeta:
        """GetObjectMeta (``HEAD ?objectMeta``): size, ETag, Last-Modified, CRC64."""
        req = self._object_request(
            bucket, key, version_id, None, None, None, None, None, None, request_payer
        )
        lib = self._lib
        meta = self._object_call(
            req, _CallContext(lib, None, bucket, key), lambda c, r, m: lib.oss_client_get_object_meta(c, r, m), None
        )
        assert meta is not None
        return meta

    def get_object(
        self,
        bucket: str,
        key: str,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> bytes:
        """GetObject into memory (one request; a cut body is resumed; whole objects are
        CRC-checked). Returns the bytes (of the range, when given)."""
        return self.get_object_with_meta(
            bucket, key, range, version_id=version_id, progress=progress, if_match=if_match,
            if_none_match=if_none_match, if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since, traffic_limit=traffic_limit,
            request_payer=request_payer, cancel_event=cancel_event,
        )[0]

    def get_object_with_meta(
        self,
        bucket: str,
        key: str,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> Tuple[bytes, ObjectMeta]:
        """Like :meth:`get_object`, also returning the metadata."""
        _callable(progress, "progress")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        lib = self._lib
        ctx = _CallContext(lib, progress, bucket, key)
        ctx_key = _register(ctx)  # the write callback's user data
        try:
            meta = self._object_call(
                req,
                ctx,
                lambda c, r, m: lib.oss_client_get_object(c, r, _WRITE, ctx_key, m),
                cancel_event,
            )
        finally:
            _unregister(ctx_key)
        assert meta is not None
        return b"".join(ctx.chunks), meta

    def get_object_stream(
        self,
        bucket: str,
        key: str,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> ObjectStream:
        """GetObject as a file object to read from (:class:`ObjectStream`, an
        :class:`io.RawIOBase`), for objects too big for :meth:`get_object`'s memory and not
        wanted in a file. Sends the request and checks the answer's headers (a missing object
        raises :class:`NoSuchKeyError` here); the body is read by the caller. ``cancel_event``
        applies to this opening only (use :meth:`ObjectStream.cancel` later)."""
        lib = self._lib
        if lib.oss_client_get_object_stream_open is None:
            raise NotImplementedError("this liboss_ffi has no oss_client_get_object_stream_open: update it")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        out = c_void_p()
        try:
            meta = self._object_call(
                req,
                _CallContext(lib, None, bucket, key),
                lambda c, r, m: lib.oss_client_get_object_stream_open(c, r, byref(out), m),
                cancel_event,
            )
        except BaseException:
            # e.g. Ctrl-C that arrived as C returned an open stream: nobody else will free it
            lib.oss_object_stream_free(out)
            raise
        assert meta is not None and out.value
        return ObjectStream(lib, int(out.value), meta, bucket, key)

    def open(
        self,
        bucket: str,
        key: str,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        part_size: Union[int, str, None] = None,
        max_window: Union[int, str, None] = None,
        read_ahead: Union[int, str, None] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> ObjectReader:
        """Opens the object (or ``range``, positions then from its start) as a seekable binary
        file that reads with prefetching (:class:`ObjectReader`). Sends a HEAD (a missing object
        raises :class:`NoSuchKeyError` here); bytes are fetched by the reads. ``part_size`` (the
        smallest GET of a sequential read, default 1 MiB; a wide window asks for up to 8 MiB), ``max_window`` (the most fetched ahead, default
        64 MiB, bounded by the client's ``memory_budget``) and ``read_ahead`` (beyond what a
        random read asks, default 64 KiB) take ints or strings like ``"8M"``. ``cancel_event``
        applies to the opening only (use :meth:`ObjectReader.cancel` later)."""
        lib = self._lib
        if lib.oss_client_open_reader is None:
            raise NotImplementedError("this liboss_ffi has no oss_client_open_reader: update it")
        sizes = [
            (part_size, "part_size", lib.oss_reader_options_set_part_size),
            (max_window, "max_window", lib.oss_reader_options_set_max_window),
            (read_ahead, "read_ahead", lib.oss_reader_options_set_read_ahead),
        ]
        values = [(None if v is None else _size(v, n, 0, _U64), setter) for v, n, setter in sizes]
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, None, request_payer,
        )
        opts = c_void_p()
        out = c_void_p()
        try:
            check(lib, lib.oss_reader_options_new(byref(opts)))
            for v, setter in values:
                if v is not None:
                    check(lib, setter(opts, v))
            self._object_call(
                req,
                _CallContext(lib, None, bucket, key),
                lambda c, r, m: lib.oss_client_open_reader(c, r, opts, byref(out)),
                cancel_event,
                want_meta=False,
            )
            h = int(out.value or 0)
            meta_p = c_void_p()
            check(lib, lib.oss_reader_meta(h, byref(meta_p)))
            meta = ObjectMeta._take(lib, meta_p.value)
            lib.oss_object_meta_free(meta_p)
            size = int(lib.oss_reader_size(h))
        except BaseException:
            # e.g. Ctrl-C that arrived as C returned an open reader: nobody else will free it
            lib.oss_reader_free(out)
            raise
        finally:
            lib.oss_reader_options_free(opts)
        return ObjectReader(lib, h, meta, size, bucket, key)

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str = "",
        *,
        start_after: str = "",
        max_keys: int = 1000,
    ) -> Iterator[Tuple[List[ListedObject], List[str]]]:
        """ListObjectsV2, page by page: yields ``(objects, common_prefixes)`` per page
        (:class:`ListedObject`: key, size, ETag, Last-Modified, storage class; prefixes end with
        the delimiter). Keys come back exactly as stored; a server that loops, truncates without
        a token or sends unusable keys is an error, never an endless walk."""
        lib = self._lib
        if lib.oss_client_list_objects is None:
            raise NotImplementedError("this liboss_ffi has no oss_client_list_objects: update it")
        b = _str(bucket, "bucket")
        p, d, s = _str(prefix, "prefix"), _str(delimiter, "delimiter"), _str(start_after, "start_after")
        n = _int(max_keys, "max_keys", 1, 1000)
        h = self._ref()
        try:
            yield from iter_pages(lib, h, b, p, d, s, n, (bucket, prefix))
        finally:
            lib.oss_client_free(h)

    async def open_async(self, bucket: str, key: str, range: Optional[ByteRange] = None, **kwargs: Any) -> AsyncObjectReader:  # noqa: A002
        """:meth:`open` for asyncio: the HEAD runs in the loop's default executor; the reader's
        reads are coroutines (:class:`AsyncObjectReader`)."""
        import asyncio
        import functools

        loop = asyncio.get_running_loop()
        reader = await loop.run_in_executor(None, functools.partial(self.open, bucket, key, range, **kwargs))
        return AsyncObjectReader(reader)

    def get_object_to_file(
        self,
        bucket: str,
        key: str,
        path: PathLike,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        cancel_event: Optional[threading.Event] = None,
    ) -> ObjectMeta:
        """GetObject into ``path`` (written to ``path + ".temp"``, renamed when complete and
        verified; on failure ``path`` is untouched). One request, not resumable across runs."""
        _callable(progress, "progress")
        path_b = _path(path, "path")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        lib = self._lib
        meta = self._object_call(
            req,
            _CallContext(lib, progress, bucket, key),
            lambda c, r, m: lib.oss_client_get_object_to_file(c, r, path_b, m),
            cancel_event,
        )
        assert meta is not None
        return meta


    # -- many objects into a directory (a batch) ------------------------------------------------

    def _batch(self, bucket: str, options: Dict[str, Any]) -> Tuple[int, _BatchContext]:
        """A new ``oss_batch_request_t *`` with its callbacks (the caller frees it)."""
        progress, on_object = options.pop("progress", None), options.pop("on_object", None)
        _callable(progress, "progress")
        _callable(on_object, "on_object")
        lib = self._lib
        if lib.oss_client_download_objects is None:
            raise RuntimeError("%s (oss_ffi %s) has no batch download" % (lib.path, lib.version))
        req = _batch_request(lib, bucket, **options)
        ctx = _BatchContext(lib, progress, on_object)
        try:
            # Each registration is released by the library (_FREE) with the last copy of the
            # request that holds it (this one, and a transfer's).
            if progress is not None:
                k = _register(ctx)
                check(lib, lib.oss_batch_request_set_progress_callback(req, _BATCH_PROGRESS, k, _FREE))
            if on_object is not None:
                k = _register(ctx)
                check(lib, lib.oss_batch_request_set_object_callback(req, _BATCH_OBJECT, k, _FREE))
        except BaseException:
            lib.oss_batch_request_free(req)
            raise
        return req, ctx

    @staticmethod
    def _batch_outcome(report: BatchReport) -> BatchReport:
        """Returns the report, or raises its stop (with the report as ``e.report``)."""
        if report.stopped is not None:
            e = report.stopped
            e.report = report  # type: ignore[attr-defined]
            raise e
        return report

    def download_objects(
        self,
        bucket: str,
        *,
        prefix: Optional[str] = None,
        keys: Optional[Iterable[str]] = None,
        dest: PathLike,
        include: Union[str, Iterable[str]] = (),
        exclude: Union[str, Iterable[str]] = (),
        min_size: Union[int, str, None] = None,
        max_size: Union[int, str, None] = None,
        modified_after: Union[int, float, _dt.datetime, None] = None,
        modified_before: Union[int, float, _dt.datetime, None] = None,
        overwrite: str = "if-changed",
        on_failure: str = "continue",
        dry_run: bool = False,
        progress: Optional[Callable[[BatchProgress], Any]] = None,
        on_object: Optional[Callable[[ObjectOutcome], Any]] = None,
        max_objects_in_flight: Optional[int] = None,
        checkpoint_dir: Optional[PathLike] = None,
        part_size: Union[int, str, None] = None,
        threads: Optional[int] = None,
        verify_on_resume: bool = True,
        direct_io: bool = True,
        cancel_event: Optional[threading.Event] = None,
    ) -> BatchReport:
        """Downloads every object under ``prefix`` (listed), or every key of ``keys``, into the
        directory ``dest`` (made if missing), as one resumable, verified job.

        A key's file: for a prefix, ``dest`` + the key minus the prefix's directory part
        (everything up to its last ``/``: prefix ``logs/2026-12-0`` puts
        ``logs/2026-12-01/a.gz`` at ``dest/2026-12-01/a.gz``); for ``keys``, ``dest`` + the
        whole key. A key that would leave ``dest`` (``..``, absolute, control characters) or
        collide with another key's file fails alone (code ``UnsafeKey`` / ``KeyCollision``);
        nothing is written outside ``dest`` and links in it are not followed.

        Args:
            include, exclude: glob patterns on the path below ``dest``, as rclone's filters
                (``*`` and ``?`` stay within a directory, ``**`` crosses them; ``/x`` is
                anchored at ``dest``, ``*.gz`` matches every ``.gz`` file); an exclude wins.
            min_size, max_size: inclusive bounds in bytes (ints, or ``"10M"``-style strings).
            modified_after, modified_before: bounds on the listing's Last-Modified (an aware
                ``datetime`` or Unix seconds).
            overwrite: ``"if-changed"`` (skip what the batch's journal records as done with the
                listing's ETag and size: nothing fetched), ``"always"`` or ``"never"`` (keep
                existing files).
            on_failure: ``"continue"`` (record every failure and go on) or ``"stop"``.
            dry_run: report what would be downloaded (``Outcome.WOULD_DOWNLOAD``), fetch and
                write nothing.
            progress: ``progress(BatchProgress)``, on a library thread, at most every 100 ms
                and once at the end. on_object: ``on_object(ObjectOutcome)`` once per object.
                If either raises, the batch is cancelled and the exception re-raised here.
            max_objects_in_flight: objects downloaded at once (1..1024; default 64), within the
                client's ``memory_budget``.
            checkpoint_dir: where the journal and the large objects' checkpoints go (default:
                hidden files in ``dest``).
            part_size, threads, verify_on_resume, direct_io: for each large object (over twice
                ``part_size``), as in :meth:`resumable_download`.
            cancel_event: when set, the batch is cancelled (finished objects stay done: the
                same call again goes on from there).

        Returns the :class:`BatchReport`; objects that failed are in ``report.failures`` (see
        :attr:`BatchReport.ok`, :meth:`BatchReport.raise_for_failures`). Raises when the batch
        stopped before its end (the listing failed, :class:`CancelledError`,
        ``on_failure="stop"``), with the report as the exception's ``report`` attribute, and
        :class:`InvalidArgumentError` / TypeError / ValueError for bad arguments. Ctrl-C
        cancels the batch and re-raises.
        """
        # The batch's options: every argument but these (first, before any other local).
        options = dict(locals())
        for name in ("self", "bucket", "cancel_event"):
            del options[name]
        if cancel_event is not None and not isinstance(cancel_event, threading.Event):
            raise TypeError("cancel_event must be a threading.Event")
        lib = self._lib
        req, ctx = self._batch(bucket, options)
        rep = c_void_p()
        report: Optional[BatchReport] = None
        err: Optional[int] = None
        h: Optional[int] = None
        try:
            req_ptr = req
            ctx.set_cancel(lambda: lib.oss_batch_request_cancel(req_ptr))
            if cancel_event is not None and cancel_event.is_set():
                ctx.cancel()  # set already: the batch is cancelled at its start
            h = self._ref()
            handle = h
            try:
                err = _run_blocking(
                    lambda: lib.oss_client_download_objects(handle, req_ptr, byref(rep)), ctx, cancel_event
                )
            finally:
                report = _take_report(lib, rep.value)  # also when interrupted: C has returned
        finally:
            if h is not None:
                lib.oss_client_free(h)
            lib.oss_batch_request_free(req)
        e = take_error(lib, err)
        if ctx.error is not None:
            if e is not None:
                raise ctx.error from e
            raise ctx.error
        if report is None:
            if e is not None:
                raise e
            raise RuntimeError("the batch gave no report")  # pragma: no cover
        return self._batch_outcome(report)

    def start_download_objects(self, bucket: str, **options: Any) -> Transfer:
        """Starts :meth:`download_objects` on the library's threads and returns its
        :class:`Transfer` at once (same keyword options but ``cancel_event``: use
        :meth:`Transfer.cancel`). :meth:`Transfer.pause` stops the batch and returns a token
        that :meth:`start_resume` / :meth:`resume` continue, here or in another process (the
        batch lists again and fetches only what is not finished; its callbacks are not carried
        by the token). :attr:`Transfer.report` is the :class:`BatchReport` once it ended."""
        lib = self._lib
        _require_async(lib)
        req, ctx = self._batch(bucket, dict(options))
        return self._start_batch(
            req,
            ctx,
            lambda c, d, k, f, o: lib.oss_client_start_download_objects(c, req, d, k, f, o),
            bucket,
        )

    def _start_batch(self, req: int, ctx: _BatchContext, start: Any, bucket: str) -> Transfer:
        """Starts a batch's transfer with ``start(client, done, key, free, out)``, then frees
        ``req`` (the transfer has its own copy) and ties ``ctx`` to the transfer."""
        lib = self._lib
        holder: Dict[str, Transfer] = {}
        ctx.set_cancel(lambda: holder["t"].cancel() if "t" in holder else None)
        try:
            t = self._start(True, None, None, start, (bucket, ""))
        finally:
            lib.oss_batch_request_free(req)  # the transfer has its own copy
        t._batch_ctx = ctx
        holder["t"] = t
        if ctx.cancelled:
            t.cancel()
        return t

    def start_resume_batch(
        self,
        token: bytes,
        *,
        progress: Optional[Callable[[BatchProgress], Any]] = None,
        on_object: Optional[Callable[[ObjectOutcome], Any]] = None,
        max_objects_in_flight: Optional[int] = None,
        threads: Optional[int] = None,
        verify_on_resume: bool = True,
        direct_io: bool = True,
    ) -> Transfer:
        """Continues a paused batch from its resume token (:meth:`Transfer.pause` of a
        :meth:`start_download_objects` transfer), in this process or another, and returns its
        :class:`Transfer` at once. The token gives what the batch is (bucket, prefix or keys,
        destination, filters, policies, part size); these options give how it runs:
        ``progress`` and ``on_object`` report the resumed batch (every object again: those its
        journal holds as done are ``skipped`` ``unchanged``, nothing of them fetched), and
        ``max_objects_in_flight``, ``threads``, ``verify_on_resume``, ``direct_io`` as for
        :meth:`download_objects` (their defaults unless given). A single download's token, or a
        damaged one, raises :class:`InvalidArgumentError` here, nothing started.
        :attr:`Transfer.report` is the :class:`BatchReport` once it ended."""
        lib = self._lib
        _require_async(lib)
        tok = _token_bytes(token)
        if lib.oss_client_start_resume_batch is None:
            raise RuntimeError("%s (oss_ffi %s) cannot resume a batch with callbacks" % (lib.path, lib.version))
        options = dict(
            prefix="", dest=".", progress=progress, on_object=on_object,
            max_objects_in_flight=max_objects_in_flight, threads=threads,
            verify_on_resume=verify_on_resume, direct_io=direct_io,
        )
        req, ctx = self._batch("settings", options)
        return self._start_batch(
            req,
            ctx,
            lambda c, d, k, f, o: lib.oss_client_start_resume_batch(c, tok, len(tok), req, d, k, f, o),
            "",
        )

    def resume_batch(
        self, token: bytes, *, cancel_event: Optional[threading.Event] = None, **options: Any
    ) -> BatchReport:
        """Blocking :meth:`start_resume_batch`: the :class:`BatchReport` once the batch ended
        (its stop, if any, raised with the report as ``e.report``). ``cancel_event``: when set
        (from any thread), the batch is cancelled as :meth:`download_objects`' is (finished
        objects stay done; the report says it was cancelled)."""
        if cancel_event is not None and not isinstance(cancel_event, threading.Event):
            raise TypeError("cancel_event must be a threading.Event")
        t = self.start_resume_batch(token, **options)
        if cancel_event is not None and cancel_event.is_set():
            t.cancel()  # set already: the batch is cancelled at its start
        t._wait_interruptible(cancel_event)
        return self._batch_transfer_outcome(t)

    def _batch_transfer_outcome(self, t: Transfer) -> BatchReport:
        """The report of the batch transfer ``t``, which ended: a callback's exception, or the
        batch's stop (with the report as ``e.report``), raised."""
        ctx = t._batch_ctx
        if ctx is not None and ctx.error is not None:
            raise ctx.error
        report = t.report
        if report is None:
            t._raise_outcome()
            raise RuntimeError("the batch gave no report")  # pragma: no cover
        return self._batch_outcome(report)

    async def download_objects_async(self, bucket: str, **options: Any) -> BatchReport:
        """``await client.download_objects_async(bucket, prefix=..., dest=..., ...)``: the
        asyncio form of :meth:`download_objects` (same keyword options but ``cancel_event``),
        with no thread. Cancelling the awaiting task cancels the batch (finished objects stay
        done), waits until it stopped and raises ``asyncio.CancelledError``."""
        t = self.start_download_objects(bucket, **options)
        await t._ended_async()
        return self._batch_transfer_outcome(t)

    # -- asynchronous transfers ----------------------------------------------------------------

    def _start(
        self,
        pausable: bool,
        progress: Optional[ProgressCallback],
        set_progress: Any,
        start: Any,
        object_: Tuple[str, str] = ("", ""),
    ) -> Transfer:
        """Registers a :class:`Transfer`, sets the abortable progress trampoline through
        ``set_progress(cb, key, free)`` when ``progress`` is given, and calls
        ``start(client, done, key, free, out)``."""
        lib = self._lib
        t = Transfer(lib, pausable)
        t._progress = progress
        t._object = object_
        if progress is not None:
            pkey = _register(t)
            err = set_progress(_PROGRESS_ABORTABLE, pkey, _FREE)
            if err:
                _unregister(pkey)
            check(lib, err)
        h = self._ref()  # the transfer keeps a client reference of its own
        try:
            key = _register(t)
            out = c_void_p()
            # On an error C called _FREE (unregistering key) before returning; done never runs.
            check(lib, start(h, _DONE, key, _FREE, byref(out)))
        finally:
            lib.oss_client_free(h)
        t._started(int(out.value or 0))
        return t

    def start_resumable_download(
        self,
        bucket: str,
        key: str,
        path: Optional[PathLike] = None,
        *,
        checkpoint_dir: Optional[PathLike] = None,
        part_size: Optional[int] = None,
        threads: Optional[int] = None,
        range: Optional[ByteRange] = None,  # noqa: A002
        progress: Optional[ProgressCallback] = None,
        version_id: Optional[str] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        verify_on_resume: bool = True,
        direct_io: bool = True,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
        throughput_target: Union[int, str, None] = None,
    ) -> Transfer:
        """Starts :meth:`resumable_download` on the library's threads and returns its
        :class:`Transfer` at once (``await`` it, or :meth:`Transfer.result`). Same options,
        except ``cancel_event`` (use :meth:`Transfer.cancel`). ``progress`` runs on a library
        thread; if it raises, the transfer is aborted (the checkpoint kept) and the exception is
        re-raised by ``await`` / :meth:`Transfer.result`. Errors in the arguments raise here;
        every other failure (the server's, validation...) ends the transfer with that error."""
        lib = self._lib
        _require_async(lib)
        _callable(progress, "progress")
        req = self._download_request(
            bucket, key, path, checkpoint_dir, part_size, threads, range, version_id, if_match,
            if_none_match, if_modified_since, if_unmodified_since, verify_on_resume, direct_io,
            traffic_limit, request_payer, throughput_target,
        )
        try:
            return self._start(
                True,
                progress,
                lambda cb, k, f: lib.oss_download_request_set_progress_abortable(req, cb, k, f),
                lambda c, d, k, f, o: lib.oss_client_start_resumable_download(c, req, d, k, f, o),
                (bucket, key),
            )
        finally:
            lib.oss_download_request_free(req)  # the transfer has its own copy

    async def resumable_download_async(
        self, bucket: str, key: str, path: Optional[PathLike] = None, **options: Any
    ) -> ObjectMeta:
        """``await client.resumable_download_async(bucket, key, path, **options)``: the
        asyncio form of :meth:`resumable_download` (same keyword options but ``cancel_event``),
        with no thread per download. Cancelling the awaiting task cancels the download (the
        checkpoint is kept), waits until it stopped and raises ``asyncio.CancelledError``."""
        return await self.start_resumable_download(bucket, key, path, **options)

    def _resume_settings(
        self,
        checkpoint_dir: Optional[PathLike],
        threads: Optional[int],
        direct_io: Optional[bool],
    ) -> Optional[int]:
        if checkpoint_dir is None and threads is None and direct_io is None:
            return None
        req = self._download_request(
            "settings", "settings", None, checkpoint_dir, None, threads, None, None, None, None,
            None, None, True, True if direct_io is None else direct_io, None, False,
        )
        return req

    def start_resume(
        self,
        token: bytes,
        *,
        progress: Optional[ProgressCallback] = None,
        threads: Optional[int] = None,
        direct_io: Optional[bool] = None,
        checkpoint_dir: Optional[PathLike] = None,
    ) -> Transfer:
        """Continues a paused download from its resume token (:meth:`Transfer.pause`), in this
        process or another, and returns its :class:`Transfer` at once. The token names the
        object, the destination, the range and the finished parts; only ``progress``,
        ``threads``, ``direct_io`` and ``checkpoint_dir`` may be given. A damaged (truncated,
        altered) token raises :class:`InvalidArgumentError` here; a token that does not hold
        (another object: :class:`ObjectChangedError`; a changed temp file...) ends the transfer
        with the error: tokens are checked, never trusted. Accept tokens only from where you
        would accept download requests (a token names its destination)."""
        lib = self._lib
        _require_async(lib)
        tok = _token_bytes(token)
        _callable(progress, "progress")
        if direct_io is not None:
            _bool(direct_io, "direct_io")
        settings = self._resume_settings(checkpoint_dir, threads, direct_io)
        if progress is not None and settings is None:
            settings = self._download_request(
                "settings", "settings", None, None, None, None, None, None, None, None, None,
                None, True, True, None, False,
            )
        try:
            return self._start(
                True,
                progress,
                lambda cb, k, f: lib.oss_download_request_set_progress_abortable(settings, cb, k, f),
                lambda c, d, k, f, o: lib.oss_client_start_resume(c, tok, len(tok), settings, d, k, f, o),
            )
        finally:
            if settings is not None:
                lib.oss_download_request_free(settings)

    def resume(self, token: bytes, **options: Any) -> ObjectMeta:
        """Blocking :meth:`start_resume`: returns the object's metadata once the download is
        complete and verified. Ctrl-C cancels it (a new token can be had only by pausing) and
        re-raises."""
        return self.start_resume(token, **options)._result_interruptible()

    async def resume_async(self, token: bytes, **options: Any) -> ObjectMeta:
        """``await client.resume_async(token, **options)``: :meth:`start_resume`, awaited."""
        return await self.start_resume(token, **options)

    def start_get_object_to_file(
        self,
        bucket: str,
        key: str,
        path: PathLike,
        range: Optional[ByteRange] = None,  # noqa: A002
        *,
        version_id: Optional[str] = None,
        progress: Optional[ProgressCallback] = None,
        if_match: ETags = None,
        if_none_match: ETags = None,
        if_modified_since: Optional[DateLike] = None,
        if_unmodified_since: Optional[DateLike] = None,
        traffic_limit: Optional[int] = None,
        request_payer: bool = False,
    ) -> Transfer:
        """Starts :meth:`get_object_to_file` on the library's threads and returns its
        :class:`Transfer` (it cannot be paused; cancel removes the temp file)."""
        lib = self._lib
        _require_async(lib)
        _callable(progress, "progress")
        path_b = _path(path, "path")
        req = self._object_request(
            bucket, key, version_id, range, if_match, if_none_match, if_modified_since,
            if_unmodified_since, traffic_limit, request_payer,
        )
        try:
            return self._start(
                False,
                progress,
                lambda cb, k, f: lib.oss_get_object_request_set_progress_abortable(req, cb, k, f),
                lambda c, d, k, f, o: lib.oss_client_start_get_object_to_file(c, req, path_b, d, k, f, o),
                (bucket, key),
            )
        finally:
            lib.oss_get_object_request_free(req)

    async def get_object_to_file_async(
        self, bucket: str, key: str, path: PathLike, range: Optional[ByteRange] = None, **options: Any  # noqa: A002
    ) -> ObjectMeta:
        """``await client.get_object_to_file_async(bucket, key, path, range, **options)``:
        :meth:`start_get_object_to_file`, awaited (task cancellation cancels it)."""
        return await self.start_get_object_to_file(bucket, key, path, range, **options)
