"""Loading liboss_ffi with ctypes, declaring its prototypes, and the ABI version check.

Everything here mirrors ``include/oss_ffi.h``, and ``bindings/python/tests/test_prototypes.py``
checks it against the header (names, argument counts, every argument's type, return types,
callbacks, structs). This table is the only place the package declares a C function: every
``oss_*`` it calls is here. Handles are plain ``c_void_p`` integers; the Python classes of the
package own them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    c_bool,
    c_char_p,
    c_int32,
    c_int64,
    c_size_t,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

#: The ABI this binding was written for: the library's major.minor must be exactly this.
ABI_VERSION: Tuple[int, int] = (0, 1)

#: Environment variable naming the shared library to load.
LIBRARY_ENV = "OSS_FFI_LIBRARY"

#: The versioned soname tried after ``ctypes.util.find_library``.
SONAME = "liboss_ffi.so.%d.%d" % ABI_VERSION

#: The copy a wheel build bundles inside the package (setup.py puts it next to this file).
BUNDLED_NAME = "liboss_ffi.dylib" if sys.platform == "darwin" else "liboss_ffi.so"
BUNDLED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), BUNDLED_NAME)

_err_p = c_void_p  # oss_error_t *

# Callback types (see oss_ffi.h).
PROGRESS_CB = CFUNCTYPE(None, c_size_t, c_int64, c_int64, c_void_p)
WRITE_CB = CFUNCTYPE(c_int32, c_void_p, c_size_t, c_void_p)
CREDENTIALS_CB = CFUNCTYPE(c_int32, c_void_p, c_void_p)
LOG_CB = CFUNCTYPE(None, c_uint32, c_char_p, c_void_p)
FREE_CB = CFUNCTYPE(None, c_void_p)
PROGRESS_ABORTABLE_CB = CFUNCTYPE(c_int32, c_size_t, c_int64, c_int64, c_void_p)
#: oss_transfer_done_cb(const oss_transfer_t *, const oss_error_t *, void *user_data)
DONE_CB = CFUNCTYPE(None, c_void_p, c_void_p, c_void_p)


class TransferStatusC(ctypes.Structure):
    """``oss_transfer_status_t``."""

    _fields_ = [("transferred", c_int64), ("total", c_int64), ("state", c_int32)]


class BatchProgressC(ctypes.Structure):
    """``oss_batch_progress_t``."""

    _fields_ = [
        ("objects_listed", c_uint64),
        ("objects_done", c_uint64),
        ("objects_skipped", c_uint64),
        ("objects_failed", c_uint64),
        ("bytes_done", c_uint64),
        ("bytes_total", c_uint64),
        ("bytes_per_sec", c_uint64),
        ("listing_done", c_bool),
    ]


class BatchObjectC(ctypes.Structure):
    """``oss_batch_object_t`` (every pointer borrowed for the callback only)."""

    _fields_ = [
        ("key", c_char_p),
        ("path", c_char_p),
        ("size", c_uint64),
        ("etag", c_char_p),
        ("outcome", c_int32),
        ("error", c_void_p),
    ]


#: oss_batch_progress_cb(const oss_batch_progress_t *, void *user_data)
BATCH_PROGRESS_CB = CFUNCTYPE(None, POINTER(BatchProgressC), c_void_p)
#: oss_batch_object_cb(const oss_batch_object_t *, void *user_data)
BATCH_OBJECT_CB = CFUNCTYPE(None, POINTER(BatchObjectC), c_void_p)


class RequestMetricsC(ctypes.Structure):
    """``oss_request_metrics_t`` (every pointer borrowed for the callback only)."""

    _fields_ = [
        ("operation", c_char_p),
        ("bucket", c_char_p),
        ("key", c_char_p),
        ("part_number", c_uint32),
        ("range_start", c_int64),
        ("range_end", c_int64),
        ("http_status", c_uint32),
        ("error_code", c_char_p),
        ("request_id", c_char_p),
        ("remote_addr", c_char_p),
        ("attempt", c_uint32),
        ("bytes", c_uint64),
        ("sign_us", c_int64),
        ("permit_wait_us", c_int64),
        ("connect_us", c_int64),
        ("first_byte_us", c_int64),
        ("body_us", c_int64),
        ("write_us", c_int64),
        ("retry_wait_us", c_int64),
        ("total_us", c_int64),
        ("memory_wait_us", c_int64),
    ]


class RequestStatsC(ctypes.Structure):
    """``oss_request_stats_t``."""

    _fields_ = [
        ("requests", c_uint64),
        ("retries", c_uint64),
        ("failed", c_uint64),
        ("bytes", c_uint64),
        ("sign_us", c_uint64),
        ("permit_wait_us", c_uint64),
        ("first_byte_us", c_uint64),
        ("body_us", c_uint64),
        ("write_us", c_uint64),
        ("retry_wait_us", c_uint64),
        ("connect_us", c_uint64),
        ("memory_wait_us", c_uint64),
        ("reissued", c_uint64),
    ]


#: oss_request_metrics_cb(const oss_request_metrics_t *, void *user_data)
REQUEST_METRICS_CB = CFUNCTYPE(None, POINTER(RequestMetricsC), c_void_p)


# name: (restype, argtypes)
_PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    # sdk
    "oss_version": (c_char_p, []),
    "oss_initialize_sdk": (_err_p, []),
    "oss_shutdown_sdk": (None, []),
    "oss_is_sdk_initialized": (c_bool, []),
    "oss_set_log_level": (None, [c_uint32]),
    "oss_get_log_level": (c_uint32, []),
    "oss_set_log_callback": (None, [LOG_CB, c_void_p, FREE_CB]),
    "oss_crc64": (c_uint64, [c_uint64, c_char_p, c_size_t]),
    "oss_crc64_combine": (c_uint64, [c_uint64, c_uint64, c_uint64]),
    # errors
    "oss_error_kind": (c_uint32, [c_void_p]),
    "oss_error_code": (c_char_p, [c_void_p]),
    "oss_error_message": (c_char_p, [c_void_p]),
    "oss_error_request_id": (c_char_p, [c_void_p]),
    "oss_error_host": (c_char_p, [c_void_p]),
    "oss_error_ec": (c_char_p, [c_void_p]),
    "oss_error_http_status": (c_uint16, [c_void_p]),
    "oss_error_free": (None, [c_void_p]),
    # config
    "oss_config_new": (c_void_p, []),
    "oss_config_free": (None, [c_void_p]),
    "oss_config_set_user_agent": (_err_p, [c_void_p, c_char_p]),
    "oss_config_set_max_connections": (_err_p, [c_void_p, c_uint32]),
    "oss_config_set_memory_budget": (_err_p, [c_void_p, c_uint64]),
    "oss_config_set_resume_token_key": (_err_p, [c_void_p, c_char_p, c_size_t]),
    "oss_config_add_resolve": (_err_p, [c_void_p, c_char_p]),
    "oss_config_set_connect_timeout_ms": (_err_p, [c_void_p, c_uint64]),
    "oss_config_set_request_timeout_ms": (_err_p, [c_void_p, c_uint64]),
    "oss_config_set_call_timeout_ms": (_err_p, [c_void_p, c_uint64]),
    "oss_config_set_retry": (_err_p, [c_void_p, c_uint32, c_uint64]),
    "oss_config_set_proxy": (
        _err_p,
        [c_void_p, c_char_p, c_char_p, c_uint16, c_char_p, c_char_p],
    ),
    "oss_config_set_verify_tls": (_err_p, [c_void_p, c_bool]),
    "oss_config_set_ca_file": (_err_p, [c_void_p, c_char_p]),
    "oss_config_set_ca_path": (_err_p, [c_void_p, c_char_p]),
    "oss_config_set_cname": (_err_p, [c_void_p, c_bool]),
    "oss_config_set_path_style": (_err_p, [c_void_p, c_bool]),
    "oss_config_set_crc64": (_err_p, [c_void_p, c_bool]),
    "oss_config_set_reissue_slow_parts": (_err_p, [c_void_p, c_bool]),
    "oss_config_set_date_skew_adjustment": (_err_p, [c_void_p, c_bool]),
    "oss_config_set_recv_rate_limit_kbps": (_err_p, [c_void_p, c_uint64]),
    "oss_config_set_signature_version": (_err_p, [c_void_p, c_uint32]),
    "oss_config_set_region": (_err_p, [c_void_p, c_char_p]),
    # credentials
    "oss_credentials_provider_new_static": (
        _err_p,
        [c_char_p, c_char_p, c_char_p, POINTER(c_void_p)],
    ),
    "oss_credentials_provider_new_env": (_err_p, [POINTER(c_void_p)]),
    "oss_credentials_provider_new_callback": (
        _err_p,
        [CREDENTIALS_CB, c_void_p, FREE_CB, POINTER(c_void_p)],
    ),
    "oss_credentials_set": (_err_p, [c_void_p, c_char_p, c_char_p, c_char_p]),
    "oss_credentials_provider_new_profile": (_err_p, [c_char_p, c_char_p, POINTER(c_void_p)]),
    "oss_credentials_provider_new_ecs_ram_role": (_err_p, [c_char_p, POINTER(c_void_p)]),
    "oss_credentials_provider_new_oidc_role": (
        _err_p,
        [c_char_p, c_char_p, c_char_p, c_char_p, POINTER(c_void_p)],
    ),
    "oss_credentials_provider_new_ram_role_arn": (
        _err_p,
        [c_char_p, c_char_p, c_char_p, c_char_p, c_char_p, POINTER(c_void_p)],
    ),
    "oss_credentials_provider_new_default_chain": (_err_p, [POINTER(c_void_p)]),
    "oss_credentials_provider_free": (None, [c_void_p]),
    # client
    "oss_client_new": (_err_p, [c_char_p, c_void_p, c_void_p, POINTER(c_void_p)]),
    "oss_client_clone": (c_void_p, [c_void_p]),
    "oss_client_free": (None, [c_void_p]),
    "oss_client_set_region": (_err_p, [c_void_p, c_char_p]),
    "oss_client_disable_requests": (None, [c_void_p]),
    "oss_config_set_request_metrics_callback": (_err_p, [c_void_p, REQUEST_METRICS_CB, c_void_p, FREE_CB]),
    "oss_client_request_stats": (_err_p, [c_void_p, POINTER(RequestStatsC)]),
    "oss_transfer_request_stats": (_err_p, [c_void_p, POINTER(RequestStatsC)]),
    "oss_client_enable_requests": (None, [c_void_p]),
    "oss_client_head_object": (_err_p, [c_void_p, c_void_p, POINTER(c_void_p)]),
    "oss_client_get_object_meta": (_err_p, [c_void_p, c_void_p, POINTER(c_void_p)]),
    "oss_client_get_object_to_file": (
        _err_p,
        [c_void_p, c_void_p, c_char_p, POINTER(c_void_p)],
    ),
    "oss_client_get_object": (
        _err_p,
        [c_void_p, c_void_p, WRITE_CB, c_void_p, POINTER(c_void_p)],
    ),
    "oss_client_resumable_download_object": (
        _err_p,
        [c_void_p, c_void_p, POINTER(c_void_p)],
    ),
    # metadata
    "oss_object_meta_content_length": (c_int64, [c_void_p]),
    "oss_object_meta_etag": (c_char_p, [c_void_p]),
    "oss_object_meta_last_modified": (c_char_p, [c_void_p]),
    "oss_object_meta_version_id": (c_char_p, [c_void_p]),
    "oss_object_meta_request_id": (c_char_p, [c_void_p]),
    "oss_object_meta_content_type": (c_char_p, [c_void_p]),
    "oss_object_meta_object_type": (c_char_p, [c_void_p]),
    "oss_object_meta_crc64": (c_bool, [c_void_p, POINTER(c_uint64)]),
    "oss_object_meta_verified": (c_bool, [c_void_p]),
    "oss_object_meta_user_meta_count": (c_size_t, [c_void_p]),
    "oss_object_meta_user_meta_at": (
        c_bool,
        [c_void_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p)],
    ),
    "oss_object_meta_header_count": (c_size_t, [c_void_p]),
    "oss_object_meta_header_at": (
        c_bool,
        [c_void_p, c_size_t, POINTER(c_char_p), POINTER(c_char_p)],
    ),
    "oss_object_meta_header": (c_char_p, [c_void_p, c_char_p]),
    "oss_object_meta_free": (None, [c_void_p]),
    # get-object request
    "oss_get_object_request_new": (_err_p, [c_char_p, c_char_p, POINTER(c_void_p)]),
    "oss_get_object_request_free": (None, [c_void_p]),
    "oss_get_object_request_set_range": (_err_p, [c_void_p, c_int64, c_int64]),
    "oss_get_object_request_set_version_id": (_err_p, [c_void_p, c_char_p]),
    "oss_get_object_request_set_matching_etags": (
        _err_p,
        [c_void_p, POINTER(c_char_p), c_size_t],
    ),
    "oss_get_object_request_set_nonmatching_etags": (
        _err_p,
        [c_void_p, POINTER(c_char_p), c_size_t],
    ),
    "oss_get_object_request_set_modified_since": (_err_p, [c_void_p, c_char_p]),
    "oss_get_object_request_set_unmodified_since": (_err_p, [c_void_p, c_char_p]),
    "oss_get_object_request_set_response_header": (_err_p, [c_void_p, c_uint32, c_char_p]),
    "oss_get_object_request_set_traffic_limit": (_err_p, [c_void_p, c_uint64]),
    "oss_get_object_request_set_request_payer": (_err_p, [c_void_p, c_bool]),
    "oss_get_object_request_set_progress": (
        _err_p,
        [c_void_p, PROGRESS_CB, c_void_p, FREE_CB],
    ),
    # download request
    "oss_download_request_new": (
        _err_p,
        [c_char_p, c_char_p, c_char_p, POINTER(c_void_p)],
    ),
    "oss_download_request_free": (None, [c_void_p]),
    "oss_download_request_cancel": (None, [c_void_p]),
    "oss_download_request_set_file_path": (_err_p, [c_void_p, c_char_p]),
    "oss_download_request_set_part_size": (_err_p, [c_void_p, c_uint64]),
    "oss_download_request_set_thread_num": (_err_p, [c_void_p, c_uint32]),
    "oss_download_request_set_checkpoint_dir": (_err_p, [c_void_p, c_char_p]),
    "oss_download_request_set_range": (_err_p, [c_void_p, c_int64, c_int64]),
    "oss_download_request_set_verify_on_resume": (_err_p, [c_void_p, c_bool]),
    "oss_download_request_set_direct_io": (_err_p, [c_void_p, c_bool]),
    "oss_download_request_set_throughput_target": (_err_p, [c_void_p, c_uint64]),
    "oss_download_request_set_version_id": (_err_p, [c_void_p, c_char_p]),
    "oss_download_request_set_matching_etags": (
        _err_p,
        [c_void_p, POINTER(c_char_p), c_size_t],
    ),
    "oss_download_request_set_nonmatching_etags": (
        _err_p,
        [c_void_p, POINTER(c_char_p), c_size_t],
    ),
    "oss_download_request_set_modified_since": (_err_p, [c_void_p, c_char_p]),
    "oss_download_request_set_unmodified_since": (_err_p, [c_void_p, c_char_p]),
    "oss_download_request_set_response_header": (_err_p, [c_void_p, c_uint32, c_char_p]),
    "oss_download_request_set_traffic_limit": (_err_p, [c_void_p, c_uint64]),
    "oss_download_request_set_request_payer": (_err_p, [c_void_p, c_bool]),
    "oss_download_request_set_progress": (
        _err_p,
        [c_void_p, PROGRESS_CB, c_void_p, FREE_CB],
    ),
}

#: Symbols added in a later 0.1.x patch; the binding works without them (less cancellable).
_OPTIONAL: Dict[str, Tuple[Any, List[Any]]] = {
    "oss_get_object_request_cancel": (None, [c_void_p]),
    # the asynchronous API (oss_transfer_t)
    "oss_get_object_request_set_progress_abortable": (
        _err_p,
        [c_void_p, PROGRESS_ABORTABLE_CB, c_void_p, FREE_CB],
    ),
    "oss_download_request_set_progress_abortable": (
        _err_p,
        [c_void_p, PROGRESS_ABORTABLE_CB, c_void_p, FREE_CB],
    ),
    "oss_client_start_resumable_download": (
        _err_p,
        [c_void_p, c_void_p, DONE_CB, c_void_p, FREE_CB, POINTER(c_void_p)],
    ),
    "oss_client_start_resume": (
        _err_p,
        [c_void_p, c_char_p, c_size_t, c_void_p, DONE_CB, c_void_p, FREE_CB, POINTER(c_void_p)],
    ),
    "oss_client_start_resume_batch": (
        _err_p,
        [c_void_p, c_char_p, c_size_t, c_void_p, DONE_CB, c_void_p, FREE_CB, POINTER(c_void_p)],
    ),
    "oss_client_start_get_object_to_file": (
        _err_p,
        [c_void_p, c_void_p, c_char_p, DONE_CB, c_void_p, FREE_CB, POINTER(c_void_p)],
    ),
    "oss_transfer_poll": (c_int32, [c_void_p]),
    "oss_transfer_wait": (c_int32, [c_void_p, c_int64]),
    "oss_transfer_cancel": (None, [c_void_p]),
    "oss_transfer_pause": (c_bool, [c_void_p]),
    "oss_transfer_status": (_err_p, [c_void_p, POINTER(TransferStatusC)]),
    "oss_transfer_result": (_err_p, [c_void_p, POINTER(c_void_p)]),
    "oss_transfer_take_resume_token": (
        _err_p,
        [c_void_p, POINTER(c_void_p), POINTER(c_size_t)],
    ),
    "oss_bytes_free": (None, [c_void_p, c_size_t]),
    "oss_transfer_clone": (c_void_p, [c_void_p]),
    "oss_transfer_free": (None, [c_void_p]),
    # the batch download (oss_batch_request_t, oss_batch_report_t)
    "oss_batch_request_new_prefix": (_err_p, [c_char_p, c_char_p, c_char_p, POINTER(c_void_p)]),
    "oss_batch_request_new_keys": (
        _err_p,
        [c_char_p, POINTER(c_char_p), c_size_t, c_char_p, POINTER(c_void_p)],
    ),
    "oss_batch_request_free": (None, [c_void_p]),
    "oss_batch_request_cancel": (None, [c_void_p]),
    "oss_batch_request_set_checkpoint_dir": (_err_p, [c_void_p, c_char_p]),
    "oss_batch_request_set_include": (_err_p, [c_void_p, POINTER(c_char_p), c_size_t]),
    "oss_batch_request_set_exclude": (_err_p, [c_void_p, POINTER(c_char_p), c_size_t]),
    "oss_batch_request_set_size_range": (_err_p, [c_void_p, c_uint64, c_uint64]),
    "oss_batch_request_set_modified_range": (_err_p, [c_void_p, c_int64, c_int64]),
    "oss_batch_request_set_overwrite": (_err_p, [c_void_p, c_uint32]),
    "oss_batch_request_set_on_failure": (_err_p, [c_void_p, c_uint32]),
    "oss_batch_request_set_part_size": (_err_p, [c_void_p, c_uint64]),
    "oss_batch_request_set_thread_num": (_err_p, [c_void_p, c_uint32]),
    "oss_batch_request_set_max_objects_in_flight": (_err_p, [c_void_p, c_uint32]),
    "oss_batch_request_set_verify_on_resume": (_err_p, [c_void_p, c_bool]),
    "oss_batch_request_set_direct_io": (_err_p, [c_void_p, c_bool]),
    "oss_batch_request_set_dry_run": (_err_p, [c_void_p, c_bool]),
    "oss_batch_request_set_progress_callback": (
        _err_p,
        [c_void_p, BATCH_PROGRESS_CB, c_void_p, FREE_CB],
    ),
    "oss_batch_request_set_object_callback": (
        _err_p,
        [c_void_p, BATCH_OBJECT_CB, c_void_p, FREE_CB],
    ),
    "oss_client_download_objects": (_err_p, [c_void_p, c_void_p, POINTER(c_void_p)]),
    "oss_client_start_download_objects": (
        _err_p,
        [c_void_p, c_void_p, DONE_CB, c_void_p, FREE_CB, POINTER(c_void_p)],
    ),
    "oss_batch_report_progress": (_err_p, [c_void_p, POINTER(BatchProgressC)]),
    "oss_batch_report_elapsed_ms": (c_uint64, [c_void_p]),
    "oss_batch_report_failure_count": (c_size_t, [c_void_p]),
    "oss_batch_report_failure_key": (c_char_p, [c_void_p, c_size_t]),
    "oss_batch_report_failure_error": (c_void_p, [c_void_p, c_size_t]),
    "oss_batch_report_deleted_count": (c_size_t, [c_void_p]),
    "oss_batch_report_deleted_key": (c_char_p, [c_void_p, c_size_t]),
    "oss_batch_report_stopped": (c_void_p, [c_void_p]),
    "oss_batch_report_journal_path": (c_char_p, [c_void_p]),
    "oss_batch_report_result": (_err_p, [c_void_p]),
    "oss_batch_report_free": (None, [c_void_p]),
    "oss_transfer_batch_report": (_err_p, [c_void_p, POINTER(c_void_p)]),
    "oss_transfer_batch_progress": (_err_p, [c_void_p, POINTER(BatchProgressC)]),
    # presigned URLs: char * out, freed with oss_string_free (so c_void_p, not c_char_p)
    "oss_client_presign_get_object": (
        _err_p,
        [c_void_p, c_void_p, c_int64, POINTER(c_void_p)],
    ),
    "oss_string_free": (None, [c_void_p]),
    # GetObject read piece by piece (oss_object_stream_t)
    "oss_client_get_object_stream_open": (
        _err_p,
        [c_void_p, c_void_p, POINTER(c_void_p), POINTER(c_void_p)],
    ),
    "oss_object_stream_read": (_err_p, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "oss_object_stream_cancel": (None, [c_void_p]),
    "oss_object_stream_free": (None, [c_void_p]),
    # the prefetching reader (oss_reader_t) and its options
    "oss_reader_options_new": (_err_p, [POINTER(c_void_p)]),
    "oss_reader_options_set_part_size": (_err_p, [c_void_p, c_uint64]),
    "oss_reader_options_set_max_window": (_err_p, [c_void_p, c_uint64]),
    "oss_reader_options_set_read_ahead": (_err_p, [c_void_p, c_uint64]),
    "oss_reader_options_free": (None, [c_void_p]),
    "oss_client_open_reader": (_err_p, [c_void_p, c_void_p, c_void_p, POINTER(c_void_p)]),
    "oss_reader_read": (_err_p, [c_void_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "oss_reader_seek": (_err_p, [c_void_p, c_int64, c_int32, POINTER(c_uint64)]),
    "oss_reader_tell": (c_int64, [c_void_p]),
    "oss_reader_size": (c_int64, [c_void_p]),
    "oss_reader_meta": (_err_p, [c_void_p, POINTER(c_void_p)]),
    "oss_reader_cancel": (None, [c_void_p]),
    "oss_reader_free": (None, [c_void_p]),
    # listing page by page (oss_listing_t, oss_list_page_t)
    "oss_client_list_objects": (
        _err_p,
        [c_void_p, c_char_p, c_char_p, c_char_p, c_char_p, c_uint32, POINTER(c_void_p)],
    ),
    "oss_listing_next_page": (_err_p, [c_void_p, POINTER(c_void_p)]),
    "oss_listing_cancel": (None, [c_void_p]),
    "oss_listing_free": (None, [c_void_p]),
    "oss_list_page_object_count": (c_size_t, [c_void_p]),
    "oss_list_page_object_at": (
        c_bool,
        [c_void_p, c_size_t, POINTER(c_char_p), POINTER(c_uint64), POINTER(c_char_p), POINTER(c_char_p), POINTER(c_char_p)],
    ),
    "oss_list_page_object_invalid": (c_char_p, [c_void_p, c_size_t]),
    "oss_list_page_prefix_count": (c_size_t, [c_void_p]),
    "oss_list_page_prefix_at": (c_char_p, [c_void_p, c_size_t]),
    "oss_list_page_free": (None, [c_void_p]),
}


class LibraryNotFoundError(OSError):
    """liboss_ffi could not be loaded; ``tried`` lists every candidate with its failure."""

    def __init__(self, tried: Sequence[Tuple[str, str]]) -> None:
        self.tried = list(tried)
        lines = "\n".join("  %s: %s" % (c, why) for c, why in self.tried)
        super().__init__(
            "cannot load the oss_ffi shared library. Tried, in order:\n%s\n"
            "Reinstall the package from a checkout of the repository (pip install ./bindings/python "
            "builds and bundles the library), or build it (cargo build -p oss-ffi) and set "
            "%s=/path/to/liboss_ffi.so, pass the path to oss_ffi.load_library(), or install it "
            "(make install) where the dynamic loader finds it." % (lines, LIBRARY_ENV)
        )


class IncompatibleLibraryError(ImportError):
    """The loaded library's ABI version (major.minor) is not the one this binding speaks."""

    def __init__(self, path: str, version: str) -> None:
        self.path = path
        self.version = version
        super().__init__(
            "%s is oss_ffi %s, but this binding needs ABI %d.%d.x "
            "(0.x releases may change the ABI between minors)" % (path, version, *ABI_VERSION)
        )


for _cls in (LibraryNotFoundError, IncompatibleLibraryError):
    _cls.__module__ = "oss_ffi"


def parse_version(version: str) -> Tuple[int, int, int]:
    """``"0.1.0"`` -> ``(0, 1, 0)``; anything after the patch number (``-rc1``) is ignored."""
    parts = version.split(".")
    if len(parts) < 3:
        raise ValueError("malformed version %r" % version)
    patch = ""
    for ch in parts[2]:
        if not ch.isdigit():
            break
        patch += ch
    return int(parts[0]), int(parts[1]), int(patch or 0)


def check_version(path: str, version: str) -> None:
    """Raises :class:`IncompatibleLibraryError` unless ``version`` is ABI-compatible."""
    try:
        major, minor, _ = parse_version(version)
    except ValueError:
        raise IncompatibleLibraryError(path, version) from None
    if (major, minor) != ABI_VERSION:
        raise IncompatibleLibraryError(path, version)


def _find_library() -> str:
    """``ctypes.util.find_library("oss_ffi")``, or "" when it finds nothing. It runs programs
    (``/sbin/ldconfig``, ``gcc``/``cc``, ``ld``, ``objdump``, found on ``$PATH``), so it is only
    called once every earlier candidate failed to load."""
    return ctypes.util.find_library("oss_ffi") or ""


def _candidates(
    path: Optional[Union[str, "os.PathLike[str]"]],
) -> Iterator[Tuple[Callable[[], str], str]]:
    """(candidate, where it came from), in the order they are tried. A candidate is a function
    giving the path, called only when that candidate's turn comes: loading the bundled copy or
    ``$OSS_FFI_LIBRARY`` runs no other program (``find_library`` would spawn several)."""
    if path is not None:
        explicit = os.fspath(path)
        yield (lambda: explicit), "explicit path"
        return
    env = os.environ.get(LIBRARY_ENV)
    if env:
        yield (lambda: env), "$" + LIBRARY_ENV
    # The copy a wheel build put inside the package; absent from a source tree or a package
    # installed without it (then the dlopen failure says "No such file").
    yield (lambda: BUNDLED_PATH), "bundled copy in the package"
    yield _find_library, 'ctypes.util.find_library("oss_ffi")'
    yield (lambda: SONAME), "dynamic loader search"
    if sys.platform == "darwin":
        yield (lambda: "liboss_ffi.dylib"), "dynamic loader search"


class Library:
    """A loaded, version-checked liboss_ffi: ``lib.<symbol>`` are the typed C functions."""

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self.cdll = cdll
        self.path = path
        for name, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(cdll, name)
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)
        for name, (restype, argtypes) in _OPTIONAL.items():
            fn = getattr(cdll, name, None)
            if fn is not None:
                fn.restype = restype
                fn.argtypes = argtypes
            setattr(self, name, fn)
        self.version: str = cdll.oss_version().decode("utf-8")

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set in __init__; declares the C functions as dynamic
        # attributes to type checkers.
        raise AttributeError(name)


_lock = threading.Lock()
_library: Optional[Library] = None


def load_library(path: Optional[Union[str, "os.PathLike[str]"]] = None) -> Library:
    """Loads (once per process) and version-checks liboss_ffi.

    Search order: ``path`` when given (nothing else is tried); else ``$OSS_FFI_LIBRARY``, then
    the copy bundled in the package by the wheel build (:data:`BUNDLED_PATH`), then
    ``ctypes.util.find_library("oss_ffi")``, then the soname ``liboss_ffi.so.0.1`` through the
    dynamic loader; a candidate that does not load is skipped. ``find_library`` runs programs
    (ldconfig, gcc, ld, objdump): it is reached only when every candidate before it failed, so
    loading an explicit path, ``$OSS_FFI_LIBRARY`` or the bundled copy starts no process.
    Raises :class:`LibraryNotFoundError` naming every candidate tried, or
    :class:`IncompatibleLibraryError` when the library's major.minor is not 0.1. Calling it
    again returns the library already loaded (a different explicit path is an error).
    """
    global _library
    with _lock:
        if _library is not None:
            if path is not None and os.path.realpath(os.fspath(path)) != os.path.realpath(
                _library.path
            ):
                raise RuntimeError(
                    "oss_ffi is already loaded from %s; cannot load %s as well"
                    % (_library.path, os.fspath(path))
                )
            return _library
        tried: List[Tuple[str, str]] = []
        for get_candidate, source in _candidates(path):
            cand = get_candidate()
            if not cand:
                tried.append(("(nothing)", source + " found nothing"))
                continue
            try:
                cdll = ctypes.CDLL(cand)
            except OSError as e:
                tried.append((cand, "%s: %s" % (source, e)))
                continue
            if not hasattr(cdll, "oss_version"):
                tried.append((cand, "%s: not liboss_ffi (no oss_version symbol)" % source))
                continue
            version = cdll.oss_version
            version.restype = c_char_p
            version.argtypes = []
            check_version(cand, version().decode("utf-8", "replace"))
            _library = Library(cdll, cand)
            return _library
        raise LibraryNotFoundError(tried)


def lib() -> Library:
    """The loaded library, loading it with the default search on first use."""
    return _library if _library is not None else load_library()
