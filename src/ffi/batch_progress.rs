//! A batch's progress in C: `oss_batch_progress_t` (the counts, given to the progress callback
//! and by the report), the callback's type `oss_batch_progress_cb`, and a batch transfer's
//! progress now (`oss_transfer_batch_progress`). The request (`batch_request`) and the report
//! (`batch_report`) both use it.

use std::ffi::c_void;

use crate::batch::BatchProgress;
use crate::ffi::boundary::{check_out, ffi_boundary, ffi_try, write_out};
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::try_ref;
use crate::ffi::transfer::oss_transfer_t;

/// A batch's progress (`oss_batch_progress_cb`, `oss_batch_report_progress`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
#[allow(non_camel_case_types)]
pub struct oss_batch_progress_t {
    /// Objects the listing (or the key list) gave so far.
    pub objects_listed: u64,
    /// Objects downloaded (or, in a dry run, that would be).
    pub objects_done: u64,
    /// Objects skipped (unchanged, existing, filtered, directory markers).
    pub objects_skipped: u64,
    /// Objects that failed.
    pub objects_failed: u64,
    /// Bytes written so far (of downloaded objects and of those in flight).
    pub bytes_done: u64,
    /// Bytes of the objects to download known so far (grows while the listing goes on).
    pub bytes_total: u64,
    /// The recent download rate.
    pub bytes_per_sec: u64,
    /// Whether the listing (or the key list) is complete: the counts are final once the
    /// objects in flight are done.
    pub listing_done: bool,
}

impl From<&BatchProgress> for oss_batch_progress_t {
    fn from(p: &BatchProgress) -> Self {
        oss_batch_progress_t {
            objects_listed: p.objects_listed,
            objects_done: p.objects_done,
            objects_skipped: p.objects_skipped,
            objects_failed: p.objects_failed,
            bytes_done: p.bytes_done,
            bytes_total: p.bytes_total,
            bytes_per_sec: p.bytes_per_sec,
            listing_done: p.listing_done,
        }
    }
}

/// The batch's progress: at most every 100 ms while it runs, and once at the end. Calls are
/// serialised, on a library thread; `progress` is borrowed for the call. It must not call back
/// into the SDK except `oss_batch_request_cancel`, `oss_transfer_cancel` and
/// `oss_transfer_pause`.
#[allow(non_camel_case_types)]
pub type oss_batch_progress_cb =
    Option<unsafe extern "C" fn(progress: *const oss_batch_progress_t, user_data: *mut c_void)>;

/// A batch transfer's progress now (objects and bytes; as its progress callback last saw it).
/// Errors: NULL arguments; not a batch, or in a process `fork()`ed from the one that started it
/// (`OSS_ERROR_KIND_INVALID_ARGUMENT`).
///
/// # Safety
/// `transfer` NULL or live; `progress_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_batch_progress(
    transfer: *const oss_transfer_t,
    progress_out: *mut oss_batch_progress_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(progress_out, "progress_out")?;
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows).
        let t = unsafe { try_ref(transfer, "transfer")? };
        if !t.started_here() {
            return Err(t.other_process_error());
        }
        let p = t.batch_progress().ok_or_else(|| crate::Error::validate("this transfer is not a batch: it has no batch progress"))?;
        // SAFETY: progress_out was checked non-NULL and is writable (the contract).
        unsafe { write_out(progress_out, oss_batch_progress_t::from(&p)) };
        Ok(())
    }
}
