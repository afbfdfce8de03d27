//! `oss_batch_report_t`: what a batch did (counts, bytes, time, every failed key with its
//! error, the keys the listing no longer has), from `oss_client_download_objects` or a batch
//! transfer (`oss_transfer_batch_report`).

use std::ffi::{c_char, CString};

use crate::batch::BatchReport;
use crate::ffi::batch_progress::oss_batch_progress_t;
use crate::ffi::boundary::{c_string, check_out, ffi_boundary, ffi_getter, ffi_try, write_out};
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{free_box, to_boxed_mut_ptr, try_ref, Castable, OwnershipBox};
use crate::ffi::transfer::oss_transfer_t;

/// A batch's final report.
///
/// Ownership: Box; given by `oss_client_download_objects` and `oss_transfer_batch_report`,
/// freed by `oss_batch_report_free`. Lifetime: the strings and errors its getters return are
/// borrowed until then. Threads: immutable; its getters may be called from any thread at once.
#[allow(non_camel_case_types)]
pub struct oss_batch_report_t {
    _private: [u8; 0],
}

impl Castable for oss_batch_report_t {
    type Ownership = OwnershipBox;
    type RustType = ReportDetails;
}

/// An `oss_error_t` the report owns (freed with it), lent by its getters.
pub(crate) struct OwnedError(*mut oss_error_t);

impl OwnedError {
    fn new(e: crate::Error) -> Self {
        OwnedError(oss_error_t::boxed(e))
    }
}

impl Drop for OwnedError {
    fn drop(&mut self) {
        // SAFETY: the pointer is from oss_error_t::boxed, owned here and freed once.
        unsafe { free_box(self.0) };
    }
}

/// What an `oss_batch_report_t` holds: the report with its strings made once.
pub(crate) struct ReportDetails {
    progress: oss_batch_progress_t,
    elapsed_ms: u64,
    failure_keys: Vec<CString>,
    failure_errors: Vec<OwnedError>,
    deleted: Vec<CString>,
    stopped: Option<OwnedError>,
    journal_path: CString,
    result: Option<crate::Error>,
}

impl ReportDetails {
    pub(crate) fn boxed(r: BatchReport) -> *mut oss_batch_report_t {
        let (failure_keys, failure_errors) = r
            .failures
            .iter()
            .map(|(k, e)| (c_string(k), OwnedError::new(e.clone())))
            .unzip();
        to_boxed_mut_ptr::<oss_batch_report_t>(ReportDetails {
            progress: (&r.progress).into(),
            elapsed_ms: u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
            failure_keys,
            failure_errors,
            deleted: r.deleted.iter().map(|k| c_string(k)).collect(),
            stopped: r.stopped.clone().map(OwnedError::new),
            journal_path: c_string(
                &r.journal_path
                    .as_ref()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            result: r.result().err(),
        })
    }
}

/// The final counts and bytes (objects listed, downloaded, skipped, failed; bytes written,
/// bytes of the objects to download; the mean rate) into `*progress_out`. Errors: NULL
/// arguments.
///
/// # Safety
/// `report` NULL or live; `progress_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_report_progress(
    report: *const oss_batch_report_t,
    progress_out: *mut oss_batch_progress_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(progress_out, "progress_out")?;
        // SAFETY: the export's `# Safety` contract: `report` is NULL (refused) or live, only read.
        let r = unsafe { try_ref(report, "report")? };
        // SAFETY: progress_out was checked non-NULL and is writable (the contract).
        unsafe { write_out(progress_out, r.progress) };
        Ok(())
    }
}

ffi_getter! {
    /// How long the batch ran, in milliseconds (0 for NULL).
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_elapsed_ms(report: *const oss_batch_report_t) -> u64
        = 0; |r| r.elapsed_ms
}

ffi_getter! {
    /// How many failures the report holds with their errors (0 for NULL): every failed object's,
    /// up to the first 1000 (`oss_batch_report_progress`'s `objects_failed` counts them all;
    /// the object callback sees each one).
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_failure_count(report: *const oss_batch_report_t) -> usize
        = 0; |r| r.failure_keys.len()
}

ffi_getter! {
    /// The key of failed object `i` (0-based, in the order they failed); "" when `i` is out of
    /// range or `report` NULL. Borrowed until `oss_batch_report_free`.
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_failure_key(report: *const oss_batch_report_t, i: usize) -> *const c_char
        = c"".as_ptr(); |r| r.failure_keys.get(i).map_or(c"".as_ptr(), |k| k.as_ptr())
}

ffi_getter! {
    /// The error of failed object `i`; NULL when `i` is out of range or `report` NULL. Borrowed
    /// until `oss_batch_report_free` (do not free it).
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_failure_error(report: *const oss_batch_report_t, i: usize) -> *const oss_error_t
        = std::ptr::null(); |r| r.failure_errors.get(i).map_or(std::ptr::null(), |e| e.0.cast_const())
}

ffi_getter! {
    /// How many keys the journal knew from an earlier run that the listing no longer has (their
    /// local files are left alone); 0 for NULL.
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_deleted_count(report: *const oss_batch_report_t) -> usize
        = 0; |r| r.deleted.len()
}

ffi_getter! {
    /// Deleted key `i`; "" when `i` is out of range or `report` NULL. Borrowed until
    /// `oss_batch_report_free`.
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_deleted_key(report: *const oss_batch_report_t, i: usize) -> *const c_char
        = c"".as_ptr(); |r| r.deleted.get(i).map_or(c"".as_ptr(), |k| k.as_ptr())
}

ffi_getter! {
    /// Why the batch stopped before its end (the listing failed, cancelled, paused, the stop
    /// policy); NULL when it ran to its end (failed objects are in the failure list) or
    /// `report` is NULL. Borrowed until `oss_batch_report_free`.
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_stopped(report: *const oss_batch_report_t) -> *const oss_error_t
        = std::ptr::null(); |r| r.stopped.as_ref().map_or(std::ptr::null(), |e| e.0.cast_const())
}

ffi_getter! {
    /// The path of the batch's journal ("" when none was opened: a dry run, a batch that
    /// stopped before, or NULL). Borrowed until `oss_batch_report_free`.
    ///
    /// # Safety
    /// `report` NULL or live.
    fn oss_batch_report_journal_path(report: *const oss_batch_report_t) -> *const c_char
        = c"".as_ptr(); |r| r.journal_path.as_ptr()
}

/// The batch's result, as `oss_client_download_objects` returned it: NULL when nothing failed
/// and it was not stopped, else a new error (the caller's: `oss_error_free`). Errors: NULL
/// `report`.
///
/// # Safety
/// `report` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_report_result(
    report: *const oss_batch_report_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `report` is NULL (refused) or live, only read.
        let r = unsafe { try_ref(report, "report")? };
        match &r.result {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

/// Frees a report. NULL is a no-op.
///
/// # Safety
/// NULL or a report from this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_report_free(report: *mut oss_batch_report_t) {
    ffi_boundary! {
        // SAFETY: report is NULL or from ReportDetails::boxed (to_boxed_mut_ptr), freed once.
        unsafe { free_box(report) };
    }
}

/// The report of a batch transfer that ended (`oss_client_start_download_objects`, or a
/// batch's resume token given to `oss_client_start_resume`), also when it failed, was cancelled
/// or paused. Ownership: `*report_out` is the caller's (`oss_batch_report_free`); each call
/// gives a new copy. Errors: NULL arguments; the transfer is not a batch, still running, was
/// stopped by `oss_shutdown_sdk` before it reported, or asked in a process `fork()`ed from the
/// one that started it (`OSS_ERROR_KIND_INVALID_ARGUMENT`).
///
/// # Safety
/// `transfer` NULL or live; `report_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_transfer_batch_report(
    transfer: *const oss_transfer_t,
    report_out: *mut *mut oss_batch_report_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(report_out, "report_out")?;
        // SAFETY: the export's `# Safety` contract: `transfer` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows).
        let t = unsafe { try_ref(transfer, "transfer")? };
        let report = t.batch_report()?;
        // SAFETY: report_out was checked non-NULL and is writable (the contract).
        unsafe { write_out(report_out, ReportDetails::boxed(report)) };
        Ok(())
    }
}
