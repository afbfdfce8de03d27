//! `oss_download_request_t`: the parameters of a resumable download (the C++ SDK's
//! `DownloadObjectRequest`), and its setters.

use std::ffi::c_char;
use std::path::PathBuf;

use crate::download::ramp::Target;
use crate::download::{validate, DownloadRequest};
use crate::ffi::boundary::{arg_str, check_out, ffi_boundary, ffi_try, opt_str, write_out};
use crate::ffi::call_cancel::CallCancel;
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, try_mut, Castable, OwnershipBox};
use crate::ffi::object_settings::{object_settings, ObjectSettings};
use crate::object::ObjectRequest;
use crate::progress::{AbortableProgressFn, ProgressFn};

/// A resumable download (the C++ SDK's `DownloadObjectRequest`): bucket, key, destination, part
/// size (default 8 MiB), threads (default 4), checkpoint directory (set = resumable), range,
/// conditions, progress, and per-download cancellation.
///
/// Ownership: Box; `oss_download_request_new` / `oss_download_request_free` (not while a download
/// using it runs). Threads: setters mutate (caller serialises); `oss_download_request_cancel`
/// may be called from any thread at any time, also from the progress callback.
#[allow(non_camel_case_types)]
pub struct oss_download_request_t {
    _private: [u8; 0],
}

impl Castable for oss_download_request_t {
    type Ownership = OwnershipBox;
    type RustType = DownloadParams;
}

/// What an `oss_download_request_t` holds.
pub(crate) struct DownloadParams {
    pub(crate) request: DownloadRequest,
    /// `oss_download_request_cancel`.
    pub(crate) cancel: CallCancel,
    /// `oss_download_request_set_progress_abortable` (replaces `request.progress` when set).
    pub(crate) abortable: Option<AbortableProgressFn>,
}

/// A download of `key` in `bucket` to `file_path` (NULL or "": the key as a path relative to
/// the current directory; refused when that would leave it).
///
/// # Safety
/// Strings NULL or NUL-terminated; `request_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_new(
    bucket: *const c_char,
    key: *const c_char,
    file_path: *const c_char,
    request_out: *mut *mut oss_download_request_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(request_out, "request_out")?;
        // SAFETY: the export's `# Safety` contract: `bucket` and `key` are NULL (refused) or
        // NUL-terminated and outlive the call (UTF-8 checked); `file_path` is NULL (None) or
        // NUL-terminated and outlives the call (UTF-8 checked).
        let (bucket, key, path) = unsafe { (arg_str(bucket, "bucket")?, arg_str(key, "key")?, opt_str(file_path, "file_path")?) };
        let mut request = DownloadRequest::new(bucket, key);
        request.file_path = path.filter(|p| !p.is_empty()).map(PathBuf::from);
        let r = DownloadParams { request, cancel: CallCancel::default(), abortable: None };
        // SAFETY: the export's `# Safety` contract: `request_out` is NULL (skipped) or writable for
        // one value (required outs were checked non-NULL first).
        unsafe { write_out(request_out, to_boxed_mut_ptr::<oss_download_request_t>(r)) };
        Ok(())
    }
}

/// Frees a download request. NULL is a no-op.
///
/// # Safety
/// NULL or from `oss_download_request_new`, freed once, not while a download uses it.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_free(request: *mut oss_download_request_t) {
    ffi_boundary! {
        // SAFETY: request is NULL or from oss_download_request_new (to_boxed_mut_ptr), freed once.
        unsafe { free_box(request) };
    }
}

/// Cancels the download running with this request (it returns `OSS_ERROR_KIND_CANCELLED`
/// promptly and leaves its checkpoint for a later resume). When no download is running, the
/// next one returns cancelled at once. Threads: any, also from the progress callback.
///
/// # Safety
/// `request` NULL (no-op) or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_cancel(request: *const oss_download_request_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `request` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        if let Some(r) = unsafe { opt_ref(request) } {
            r.cancel.cancel();
        }
    }
}

/// Sets the destination path (NULL or "": the key in the current directory).
///
/// # Safety
/// `request` NULL or live; `file_path` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_file_path(
    request: *mut oss_download_request_t,
    file_path: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `file_path` is NULL (None) or NUL-terminated
        // and outlives the call (UTF-8 checked).
        let p = unsafe { opt_str(file_path, "file_path") }?;
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.file_path = p.filter(|p| !p.is_empty()).map(PathBuf::from);
        Ok(())
    }
}

/// Part size in bytes: 102400 (100 KiB) ..= 5 GiB. Raised automatically for objects that would
/// need more than 10000 parts.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_part_size(
    request: *mut oss_download_request_t,
    part_size: u64,
) -> *mut oss_error_t {
    ffi_try! {
        validate::check_part_size(part_size)?;
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.part_size = part_size;
        Ok(())
    }
}

/// Parts downloaded at once: 1..=1000 (default 4; the C++ layer passes its own 3). Never more than there are parts.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_thread_num(
    request: *mut oss_download_request_t,
    thread_num: u32,
) -> *mut oss_error_t {
    ffi_try! {
        validate::check_thread_num(thread_num)?;
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.thread_num = thread_num;
        Ok(())
    }
}

/// Instead of a thread count: the rate to reach in bytes per second, or `UINT64_MAX` for as fast
/// as the link allows; 0 (the default) turns it off (`oss_download_request_set_thread_num`
/// counts again). With a target the download starts wide (the target over 50 MB/s per part, or
/// 64 parts for `UINT64_MAX`, within the object's parts and the client's memory budget,
/// `oss_config_set_memory_budget`), doubles its parts in flight while each step raises its
/// measured rate by 10% or more and the target is not met, and halves them while fewer hold the
/// rate (a capped link); the thread count is then ignored. An object smaller than that start
/// times the part size is cut into that many parts (4 MiB at least, never more than the part
/// size set), so that a 64 MiB object is not 8 requests however fast the link; a resume keeps
/// the cut of the run it continues. Errors: NULL `request`.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_throughput_target(
    request: *mut oss_download_request_t,
    bytes_per_sec: u64,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.throughput_target = match bytes_per_sec {
            0 => None,
            u64::MAX => Some(Target::Max),
            rate => Some(Target::Rate(rate)),
        };
        Ok(())
    }
}

/// Sets the checkpoint directory (must exist when the download starts); NULL or "" turns
/// resumability off (the C++ SDK's meaning of an empty checkpointDir).
///
/// # Safety
/// `request` NULL or live; `dir` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_checkpoint_dir(
    request: *mut oss_download_request_t,
    dir: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `dir` is NULL (None) or NUL-terminated and
        // outlives the call (UTF-8 checked).
        let d = unsafe { opt_str(dir, "dir") }?;
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.checkpoint_dir = d.filter(|d| !d.is_empty()).map(PathBuf::from);
        Ok(())
    }
}

/// Downloads only bytes `start..=end` (end = -1: to the end); the file holds exactly those bytes.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_range(
    request: *mut oss_download_request_t,
    start: i64,
    end: i64,
) -> *mut oss_error_t {
    ffi_try! {
        validate::check_range(Some((start, end)))?;
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.range = Some((start, end));
        Ok(())
    }
}

/// On resume, re-reads the finished parts and checks them against their recorded CRC64 (parts
/// that fail are downloaded again). On by default: every byte of the file is then either
/// received by the call or read back and checked by it; `false` trusts the recorded CRCs.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_verify_on_resume(
    request: *mut oss_download_request_t,
    verify: bool,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.verify_parts_on_resume = verify;
        Ok(())
    }
}

/// Writes the temp file with direct I/O (`O_DIRECT`) where the file system allows it: the aligned
/// bulk of every part goes from the library's buffers to the disk, skipping the page cache (no
/// second copy, no writeback left for the final fsync). On by default; file systems that refuse
/// direct I/O get buffered writes either way. `false`: every write goes through the page cache.
/// The bytes on disk and every durability guarantee are the same both ways.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_direct_io(
    request: *mut oss_download_request_t,
    direct_io: bool,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.request.direct_io = direct_io;
        Ok(())
    }
}

object_settings! {
    oss_download_request_t {
        version_id: oss_download_request_set_version_id,
        matching_etags: oss_download_request_set_matching_etags,
        nonmatching_etags: oss_download_request_set_nonmatching_etags,
        modified_since: oss_download_request_set_modified_since,
        unmodified_since: oss_download_request_set_unmodified_since,
        response_header: oss_download_request_set_response_header,
        traffic_limit: oss_download_request_set_traffic_limit,
        request_payer: oss_download_request_set_request_payer,
        progress: oss_download_request_set_progress,
        progress_abortable: oss_download_request_set_progress_abortable,
    }
}

impl ObjectSettings for DownloadParams {
    fn object_mut(&mut self) -> &mut ObjectRequest {
        &mut self.request.object
    }

    fn set_progress(&mut self, plain: Option<ProgressFn>, abortable: Option<AbortableProgressFn>) {
        self.request.progress = plain;
        self.abortable = abortable;
    }
}
