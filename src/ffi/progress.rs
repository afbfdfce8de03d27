//! The progress callback (`oss_progress_cb`) of both request handles, wrapped for the downloader.

use std::ffi::c_void;
use std::sync::Arc;

use crate::ffi::boundary::UserData;
use crate::progress::{AbortableProgressFn, ProgressFn};

/// Progress: `increment` bytes just arrived, `transferred` of `total` are done. Calls for one
/// operation are serialised and come from a library worker thread; `transferred` never
/// decreases, never exceeds `total`, and the last call has `transferred == total`. After a
/// resume the first call is `(0, bytes_already_on_disk, total)`: an increment of 0 with
/// `transferred > 0` marks a resume, and increments add up to the bytes received by this call. The callback must not call back
/// into the SDK, except `oss_download_request_cancel`, which it may call to stop the download.
#[allow(non_camel_case_types)]
pub type oss_progress_cb = Option<
    unsafe extern "C" fn(increment: usize, transferred: i64, total: i64, user_data: *mut c_void),
>;

/// Wraps a C progress callback as a `ProgressFn`; user data is freed with the last reference.
pub(crate) fn progress_fn(cb: oss_progress_cb, data: UserData) -> Option<ProgressFn> {
    let call = c_call(cb, data)?;
    Some(Arc::new(move |inc: u64, done: u64, total: u64| {
        call(inc, done, total)
    }))
}

/// `cb` as a Rust closure over its user data: the arguments clamped to the C types, user data
/// freed with the closure (at once when `cb` is NULL). Shared by both callback kinds.
fn c_call<R: 'static>(
    cb: Option<unsafe extern "C" fn(usize, i64, i64, *mut c_void) -> R>,
    data: UserData,
) -> Option<impl Fn(u64, u64, u64) -> R + Send + Sync + 'static> {
    let cb = cb?;
    Some(move |inc: u64, done: u64, total: u64| {
        let _keep = &data;
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        // SAFETY: cb was registered for calls with data.ptr from library threads (the contract).
        unsafe {
            cb(
                usize::try_from(inc).unwrap_or(usize::MAX),
                clamp(done),
                clamp(total),
                data.get(),
            )
        }
    })
}

/// Progress that may stop its transfer (libcurl's `CURLOPT_XFERINFOFUNCTION` convention): as
/// `oss_progress_cb`, returning 0 to continue and anything else to abort. The transfer then ends
/// with an error of kind `OSS_ERROR_KIND_CANCELLED`, code `ClientError:200042` (a resumable
/// download keeps its checkpoint, as with a cancel). Same threads and rules as `oss_progress_cb`;
/// it may also call `oss_transfer_cancel` / `oss_transfer_pause` on its own transfer.
#[allow(non_camel_case_types)]
pub type oss_progress_abortable_cb = Option<
    unsafe extern "C" fn(
        increment: usize,
        transferred: i64,
        total: i64,
        user_data: *mut c_void,
    ) -> i32,
>;

/// Wraps a C abortable progress callback; user data is freed with the last reference.
pub(crate) fn abortable_fn(
    cb: oss_progress_abortable_cb,
    data: UserData,
) -> Option<AbortableProgressFn> {
    let call = c_call(cb, data)?;
    Some(Arc::new(move |inc: u64, done: u64, total: u64| {
        call(inc, done, total) == 0
    }))
}

/// The progress a transfer reports to: the abortable callback, or the plain one (never aborts).
pub(crate) fn for_transfer(
    plain: &Option<ProgressFn>,
    abortable: &Option<AbortableProgressFn>,
) -> Option<AbortableProgressFn> {
    abortable.clone().or_else(|| {
        plain.clone().map(|p| -> AbortableProgressFn {
            Arc::new(move |a, b, c| {
                p(a, b, c);
                true
            })
        })
    })
}
