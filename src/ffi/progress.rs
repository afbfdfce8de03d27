//! The progress callback (`oss_progress_cb`) of both request handles, wrapped for the downloader.

use std::ffi::c_void;
use std::sync::Arc;

use crate::ffi::boundary::UserData;
use crate::progress::ProgressFn;

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
pub(crate) fn progress_fn(
    cb: oss_progress_cb,
    user_data: *mut c_void,
    free: Option<unsafe extern "C" fn(*mut c_void)>,
) -> Option<ProgressFn> {
    let data = UserData {
        ptr: user_data,
        free,
    };
    let cb = cb?;
    Some(Arc::new(move |inc: u64, done: u64, total: u64| {
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
        };
    }))
}
