//! `oss_get_object_request_t`: the parameters of HeadObject, GetObjectMeta and GetObject, and its
//! setters.

use std::ffi::c_char;

use crate::ffi::boundary::{arg_str, check_out, ffi_boundary, ffi_try, write_out};
use crate::ffi::call_cancel::CallCancel;
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, try_mut, Castable, OwnershipBox};
use crate::ffi::object_settings::{object_settings, ObjectSettings};
use crate::object::{user_range, ObjectRequest};
use crate::progress::{AbortableProgressFn, ProgressFn};

/// Parameters of HeadObject, GetObjectMeta and GetObject.
///
/// Ownership: Box; `oss_get_object_request_new` / `oss_get_object_request_free`. Lifetime: calls
/// that use it copy what they need. Threads: setters mutate (caller serialises); a `const`
/// request may be used by several calls at once; `oss_get_object_request_cancel` may be called
/// from any thread at any time.
#[allow(non_camel_case_types)]
pub struct oss_get_object_request_t {
    _private: [u8; 0],
}

impl Castable for oss_get_object_request_t {
    type Ownership = OwnershipBox;
    type RustType = GetObjectParams;
}

/// What an `oss_get_object_request_t` holds.
#[derive(Default)]
pub(crate) struct GetObjectParams {
    pub(crate) object: ObjectRequest,
    pub(crate) range: Option<(i64, i64)>,
    pub(crate) progress: Option<ProgressFn>,
    /// `oss_get_object_request_set_progress_abortable` (used instead of `progress` when set).
    pub(crate) abortable: Option<AbortableProgressFn>,
    /// `oss_get_object_request_cancel`.
    pub(crate) cancel: CallCancel,
}

/// A request for `key` in `bucket` (both validated when used).
///
/// # Safety
/// Strings NULL or NUL-terminated; `request_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_new(
    bucket: *const c_char,
    key: *const c_char,
    request_out: *mut *mut oss_get_object_request_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(request_out, "request_out")?;
        // SAFETY: the export's `# Safety` contract: `bucket` and `key` are NULL (refused) or
        // NUL-terminated and outlive the call (UTF-8 checked).
        let (bucket, key) = unsafe { (arg_str(bucket, "bucket")?, arg_str(key, "key")?) };
        let r = GetObjectParams {
            object: ObjectRequest { bucket: bucket.to_string(), key: key.to_string(), ..Default::default() },
            ..Default::default()
        };
        // SAFETY: the export's `# Safety` contract: `request_out` is NULL (skipped) or writable for
        // one value (required outs were checked non-NULL first).
        unsafe { write_out(request_out, to_boxed_mut_ptr::<oss_get_object_request_t>(r)) };
        Ok(())
    }
}

/// A GetObject request for a complete URL (typically presigned, e.g. by
/// `oss_client_presign_get_object`), sent as it is and unsigned (the C++ SDK's `GetObjectByUrl`):
/// use it with `oss_client_get_object` or `oss_client_get_object_to_file`. The answer is checked
/// as for any GetObject (status, length, CRC64 of whole objects). The bucket, key, version id and
/// response-header settings do not apply (the URL carries them); no `x-oss-*` header is sent (it
/// would break the URL's signature).
///
/// Errors: NULL `url`/`request_out`, bad UTF-8, not an http(s) URL with a host (`ValidateError`).
///
/// # Safety
/// `url` NULL or NUL-terminated; `request_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_new_url(
    url: *const c_char,
    request_out: *mut *mut oss_get_object_request_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(request_out, "request_out")?;
        // SAFETY: the export's `# Safety` contract: `url` is NULL (refused) or NUL-terminated and
        // outlives the call (UTF-8 checked).
        let url = unsafe { arg_str(url, "url") }?;
        crate::transport::parse_object_url(url)?;
        let r = GetObjectParams {
            object: ObjectRequest { url: Some(url.to_string()), ..Default::default() },
            ..Default::default()
        };
        // SAFETY: the export's `# Safety` contract: `request_out` is NULL (skipped) or writable for
        // one value (required outs were checked non-NULL first).
        unsafe { write_out(request_out, to_boxed_mut_ptr::<oss_get_object_request_t>(r)) };
        Ok(())
    }
}

/// Frees a request. NULL is a no-op.
///
/// # Safety
/// NULL or from `oss_get_object_request_new`, freed once.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_free(request: *mut oss_get_object_request_t) {
    ffi_boundary! {
        // SAFETY: request is NULL or from oss_get_object_request_new* (to_boxed_mut_ptr), freed
        // once.
        unsafe { free_box(request) };
    }
}

/// Cancels the HeadObject / GetObjectMeta / GetObject calls running with this request (they
/// return `OSS_ERROR_KIND_CANCELLED` promptly; GetObject to a file leaves the destination
/// untouched). When none is running, the next call with it returns cancelled at once.
/// Threads: any, also from the progress or write callback.
///
/// # Safety
/// `request` NULL (no-op) or live.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_cancel(request: *const oss_get_object_request_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `request` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        if let Some(r) = unsafe { opt_ref(request) } {
            r.cancel.cancel();
        }
    }
}

/// Reads bytes `start..=end` (end = -1: to the end). GetObject only. Errors: start < 0, end < -1,
/// end < start.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_range(
    request: *mut oss_get_object_request_t,
    start: i64,
    end: i64,
) -> *mut oss_error_t {
    ffi_try! {
        user_range(Some((start, end)))?;
        // SAFETY: the export's `# Safety` contract: `request` is NULL (refused) or a live handle
        // that no other call uses meanwhile (non-const: the caller serialises).
        let r = unsafe { try_mut(request, "request") }?;
        r.range = Some((start, end));
        Ok(())
    }
}

object_settings! {
    oss_get_object_request_t {
        version_id: oss_get_object_request_set_version_id,
        matching_etags: oss_get_object_request_set_matching_etags,
        nonmatching_etags: oss_get_object_request_set_nonmatching_etags,
        modified_since: oss_get_object_request_set_modified_since,
        unmodified_since: oss_get_object_request_set_unmodified_since,
        response_header: oss_get_object_request_set_response_header,
        traffic_limit: oss_get_object_request_set_traffic_limit,
        request_payer: oss_get_object_request_set_request_payer,
        progress: oss_get_object_request_set_progress,
        progress_abortable: oss_get_object_request_set_progress_abortable,
    }
}

impl ObjectSettings for GetObjectParams {
    fn object_mut(&mut self) -> &mut ObjectRequest {
        &mut self.object
    }

    fn set_progress(&mut self, plain: Option<ProgressFn>, abortable: Option<AbortableProgressFn>) {
        self.progress = plain;
        self.abortable = abortable;
    }
}
