//! `oss_transfer_t`: the asynchronous C API (handles and their calls only; the machinery is
//! `crate::transfer`).

use std::ffi::c_void;
use std::time::Duration;

use crate::error::Error;
use crate::ffi::boundary::{check_out, ffi_boundary, ffi_try, write_out, PanicDefault};
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{clone_arc, opt_ref, take_arc, try_ref, Castable, OwnershipArc};
use crate::ffi::meta::oss_object_meta_t;
use crate::ffi::metrics::oss_request_stats_t;
use crate::transfer::{Transfer, TransferState};

/// One asynchronous transfer: a resumable download (`oss_client_start_resumable_download`), a
/// download continued from a resume token (`oss_client_start_resume`) or a GetObject to a file
/// (`oss_client_start_get_object_to_file`), running on library threads.
///
/// Ownership: Arc; the start call writes one reference to `*transfer_out`,
/// `oss_transfer_clone` makes another, each released by `oss_transfer_free`. Lifetime: freeing
/// every reference does not stop a running transfer (call `oss_transfer_cancel` first to stop
/// it): it runs on and its completion callback is still called, with a handle that is valid
/// during that call. Threads: every call takes `const oss_transfer_t *` and may be made from any
/// thread, also from the transfer's own progress and completion callbacks.
///
/// Admission: a transfer first waits for a slot of its client's memory budget
/// (`oss_config_set_memory_budget`) and only then opens its directories, takes its destination's
/// lock, creates its temp file and connects; it keeps a slot until it ended and closed them. So
/// transfers waiting for room hold no file descriptor, socket or lock, and the transfers (and
/// blocking downloads and GetObjects to a file) of one client holding any are at most
/// (budget - 12 MiB) / 1.75 MiB at once (29 with the 64 MiB default), each with at most 6 files
/// (destination directory, checkpoint directory, lock, temp file opened twice, checkpoint being
/// written) and its connections. Thousands can be started at once under a low descriptor limit.
///
/// fork(): a transfer belongs to the process that started it. In a process `fork()`ed from it
/// (where its task and the library's threads do not exist) every `oss_transfer_*` call returns
/// at once: `oss_transfer_poll` and `oss_transfer_wait` give `OSS_TRANSFER_STATE_OTHER_PROCESS`,
/// `oss_transfer_cancel` does nothing and `oss_transfer_pause` returns false,
/// `oss_transfer_status`, `oss_transfer_result` and `oss_transfer_take_resume_token` return an
/// error of kind `OSS_ERROR_KIND_INVALID_ARGUMENT` saying so, `oss_transfer_clone` works and
/// `oss_transfer_free` only forgets the reference; the completion is never called there. The
/// transfer goes on in the parent, unaffected. A client made before the fork cannot start
/// transfers in the child (`oss_client_start_*` fail at once); make a new one there.
#[allow(non_camel_case_types)]
pub struct oss_transfer_t {
    _private: [u8; 0],
}

impl Castable for oss_transfer_t {
    type Ownership = OwnershipArc;
    type RustType = Transfer;
}

/// Where a transfer is. Values are stable.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum oss_transfer_state_t {
    /// Still running (or its completion callback has not returned yet, for `oss_transfer_wait`).
    OSS_TRANSFER_STATE_RUNNING = 0,
    /// Done: the file is complete and verified.
    OSS_TRANSFER_STATE_SUCCEEDED = 1,
    /// Failed: `oss_transfer_result` gives the error.
    OSS_TRANSFER_STATE_FAILED = 2,
    /// Cancelled (`oss_transfer_cancel`, the progress callback, `oss_client_disable_requests`,
    /// `oss_shutdown_sdk`); a resumable download kept its checkpoint.
    OSS_TRANSFER_STATE_CANCELLED = 3,
    /// Paused: `oss_transfer_take_resume_token` gives the token that continues it.
    OSS_TRANSFER_STATE_PAUSED = 4,
    /// The transfer was started by another process, this one being `fork()`ed from it: it runs
    /// (or ran) there only and cannot be waited for, cancelled or read here. Never changes.
    OSS_TRANSFER_STATE_OTHER_PROCESS = 5,
}

impl From<TransferState> for oss_transfer_state_t {
    fn from(s: TransferState) -> Self {
        use oss_transfer_state_t::*;
        match s {
            TransferState::Running => OSS_TRANSFER_STATE_RUNNING,
            TransferState::Succeeded => OSS_TRANSFER_STATE_SUCCEEDED,
            TransferState::Failed => OSS_TRANSFER_STATE_FAILED,
            TransferState::Cancelled => OSS_TRANSFER_STATE_CANCELLED,
            TransferState::Paused => OSS_TRANSFER_STATE_PAUSED,
            TransferState::OtherProcess => OSS_TRANSFER_STATE_OTHER_PROCESS,
        }
    }
}

impl PanicDefault for oss_transfer_state_t {
    fn on_panic(_: String) -> Self {
        oss_transfer_state_t::OSS_TRANSFER_STATE_FAILED
    }
}

/// A transfer's live status (`oss_transfer_status`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct oss_transfer_status_t {
    /// Bytes in the file so far, as of the last progress report (at most ~100 ms or 1% old);
    /// after a resume it starts at the bytes already on disk.
    pub transferred: i64,
    /// Bytes the file will hold (the range's length for a ranged download); 0 until known.
    pub total: i64,
    pub state: oss_transfer_state_t,
}

/// Called exactly once when a transfer ended: `error` is NULL on success, else the error
/// (borrowed for the call: copy it with `oss_transfer_result` to keep it). `transfer` is the
/// pointer the start call wrote, lent for the call: it is valid during the call even if every
/// reference was freed already (freeing it there releases the caller's own reference, the one
/// the start call gave, as anywhere else). Runs on a library thread, never
/// inside the start call; for a transfer still running when `oss_shutdown_sdk` stopped waiting
/// for it, on the thread calling `oss_shutdown_sdk` (with `OSS_ERROR_KIND_CANCELLED`). It may call
/// any `oss_transfer_*` function and start new transfers; it must not make blocking SDK calls (they
/// fail with `OSS_ERROR_KIND_INVALID_ARGUMENT`), and `oss_transfer_wait` does not wait there.
/// `user_data_free` (if not NULL) is called with `user_data` right after it returned.
#[allow(non_camel_case_types)]
pub type oss_transfer_done_cb = Option<
    unsafe extern "C" fn(
        transfer: *const oss_transfer_t,
        error: *const oss_error_t,
        user_data: *mut c_void,
    ),
>;

/// The transfer's state now (`OSS_TRANSFER_STATE_FAILED` for NULL). Never blocks. The state
/// changes from RUNNING once, before the completion callback is called. In a process `fork()`ed
/// from the one that started it: `OSS_TRANSFER_STATE_OTHER_PROCESS`.
///
/// # Safety
/// `transfer` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_poll(
    transfer: *const oss_transfer_t,
) -> oss_transfer_state_t {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        match unsafe { opt_ref(transfer) } {
            Some(t) => t.state().into(),
            None => oss_transfer_state_t::OSS_TRANSFER_STATE_FAILED,
        }
    }
}

/// Waits until the transfer ended and its completion callback returned, at most `timeout_ms`
/// milliseconds (negative: no limit; 0: do not wait), and returns its state then
/// (`OSS_TRANSFER_STATE_RUNNING` when the time ran out; `OSS_TRANSFER_STATE_FAILED` for NULL).
/// Called from a library callback it does not wait (it returns the state now). In a process
/// `fork()`ed from the one that started it, it returns `OSS_TRANSFER_STATE_OTHER_PROCESS` at once
/// (the transfer runs in the parent only: nothing here would ever end it).
///
/// # Safety
/// `transfer` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_wait(
    transfer: *const oss_transfer_t,
    timeout_ms: i64,
) -> oss_transfer_state_t {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        match unsafe { opt_ref(transfer) } {
            Some(t) => {
                let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
                t.wait(timeout).into()
            }
            None => oss_transfer_state_t::OSS_TRANSFER_STATE_FAILED,
        }
    }
}

/// Cancels the transfer: it ends `OSS_TRANSFER_STATE_CANCELLED` promptly (a resumable download
/// keeps its checkpoint, as `oss_download_request_cancel` does). No-op once it ended, for NULL,
/// and in a process `fork()`ed from the one that started it (the parent's transfer goes on).
/// Threads: any, also from the transfer's callbacks.
///
/// # Safety
/// `transfer` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_cancel(transfer: *const oss_transfer_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        if let Some(t) = unsafe { opt_ref(transfer) } {
            t.cancel();
        }
    }
}

/// Asks a download to pause and returns at once: its parts stop, the temp file is synced and
/// kept (with or without a checkpoint directory) and the transfer ends
/// `OSS_TRANSFER_STATE_PAUSED`, its error of kind `OSS_ERROR_KIND_CANCELLED`; then
/// `oss_transfer_take_resume_token` gives the token. A transfer that ends otherwise first
/// (succeeded, failed) keeps that outcome. Returns false (and does nothing) for NULL, for a
/// GetObject transfer, which cannot be paused, and in a process `fork()`ed from the one that
/// started it. Threads: any, also from the transfer's callbacks.
///
/// # Safety
/// `transfer` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_pause(transfer: *const oss_transfer_t) -> bool {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        unsafe { opt_ref(transfer) }.is_some_and(|t| t.pause())
    }
}

/// The transfer's live status: bytes done, total, state. Readable from any thread at any time.
/// Errors: NULL arguments; in a process `fork()`ed from the one that started it,
/// `OSS_ERROR_KIND_INVALID_ARGUMENT` (the status there is the parent's).
///
/// # Safety
/// `transfer` NULL or live; `status_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_status(
    transfer: *const oss_transfer_t,
    status_out: *mut oss_transfer_status_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(status_out, "status_out")?;
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows from any thread).
        let t = unsafe { try_ref(transfer, "transfer")? };
        if !t.started_here() {
            return Err(t.other_process_error());
        }
        let s = t.status();
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let status = oss_transfer_status_t { transferred: clamp(s.transferred), total: clamp(s.total), state: s.state.into() };
        // SAFETY: the export's `# Safety` contract: `status_out` is NULL (skipped) or writable for
        // one value (required outs were checked non-NULL first).
        unsafe { write_out(status_out, status) };
        Ok(())
    }
}

/// The result of a transfer that ended: NULL on success (then `*meta_out`, if `meta_out` is not
/// NULL, is the object's metadata, the caller's to free), else a copy of its error (the caller's).
/// While it runs: an error of kind `OSS_ERROR_KIND_INVALID_ARGUMENT` ("still running"); in a
/// process `fork()`ed from the one that started it, an error of that kind saying so.
///
/// # Safety
/// `transfer` NULL or live; `meta_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_result(
    transfer: *const oss_transfer_t,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows from any thread).
        let t = unsafe { try_ref(transfer, "transfer")? };
        let meta = t
            .result()
            .ok_or_else(|| Error::validate("the transfer is still running (no result yet)"))??;
        if !meta_out.is_null() {
            // SAFETY: the export's `# Safety` contract: `meta_out` is NULL (skipped) or writable
            // for one value (required outs were checked non-NULL first).
            unsafe { write_out(meta_out, oss_object_meta_t::boxed(&meta)) };
        }
        Ok(())
    }
}

/// The requests of `transfer` so far (a download, a GetObject or a batch, with all its objects),
/// added up, into `*stats_out` (all zero when its client has no metrics callback). Errors: NULL
/// arguments.
///
/// Threads: any, also while it runs.
///
/// # Safety
/// `transfer` NULL or live; `stats_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_request_stats(
    transfer: *const oss_transfer_t,
    stats_out: *mut oss_request_stats_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(stats_out, "stats_out")?;
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows).
        let t = unsafe { try_ref(transfer, "transfer")? };
        // SAFETY: stats_out was checked non-NULL and is writable (the contract).
        unsafe { write_out(stats_out, oss_request_stats_t::from(t.request_stats())) };
        Ok(())
    }
}

/// Takes the resume token of a paused transfer (state `OSS_TRANSFER_STATE_PAUSED`): an opaque
/// byte string for `oss_client_start_resume`, here or in another process (it holds no secret:
/// bucket, key, version, destination, range, part size and the finished parts' CRCs; it is
/// sealed with HMAC-SHA256 under the client's resume token key, so an edited token is refused).
/// Once per transfer. Ownership: `*token_out` (`*len_out` bytes) is the caller's, freed with
/// `oss_bytes_free`. Errors: NULL arguments; not paused or taken already, or asked in a process
/// `fork()`ed from the one that started it (`ValidateError`, `OSS_ERROR_KIND_INVALID_ARGUMENT`); no
/// resume token key (none configured and the per-user key file cannot be made or is refused:
/// the error says why; the temp file is kept).
///
/// # Safety
/// `transfer` NULL or live; `token_out`, `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_take_resume_token(
    transfer: *const oss_transfer_t,
    token_out: *mut *mut u8,
    len_out: *mut usize,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(token_out, "token_out")?;
        check_out(len_out, "len_out")?;
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows from any thread).
        let t = unsafe { try_ref(transfer, "transfer")? };
        let bytes = t.take_resume_token()?.into_boxed_slice();
        let len = bytes.len();
        // SAFETY: both checked non-NULL and writable per the contract.
        unsafe {
            write_out(len_out, len);
            write_out(token_out, Box::into_raw(bytes).cast::<u8>());
        }
        Ok(())
    }
}

/// Frees bytes returned by the library (`oss_transfer_take_resume_token`) with their length.
/// NULL is a no-op.
///
/// # Safety
/// `bytes` NULL or from this library with exactly `len`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_bytes_free(bytes: *mut u8, len: usize) {
    ffi_boundary! {
        if !bytes.is_null() {
            // SAFETY: bytes came from Box::into_raw of a boxed slice of len bytes, freed once.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(bytes, len)) });
        }
    }
}

/// Another reference to the same transfer (NULL for NULL); release it with `oss_transfer_free`.
///
/// # Safety
/// `transfer` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_clone(
    transfer: *const oss_transfer_t,
) -> *const oss_transfer_t {
    ffi_boundary! {
        // SAFETY: NULL or from a start call / oss_transfer_clone (Arc handles), live.
        unsafe { clone_arc(transfer) }
    }
}

/// Releases one reference. NULL is a no-op. A running transfer is not stopped by this (cancel
/// it first to stop it); its completion callback is still called once. In a process `fork()`ed
/// from the one that started it, the reference is only forgotten (the transfer's state is
/// shared with the parent's threads, whose locks may have been held at the fork).
///
/// # Safety
/// NULL or from a start call / `oss_transfer_clone`, each released once, not while another call
/// on that reference runs.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_free(transfer: *const oss_transfer_t) {
    ffi_boundary! {
        // SAFETY: NULL or an Arc handle of ours, released once.
        if let Some(t) = unsafe { take_arc(transfer) } {
            if t.started_here() {
                drop(t);
            } else {
                std::mem::forget(t);
            }
        }
    }
}
