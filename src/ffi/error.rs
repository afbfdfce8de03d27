//! `oss_error_t`: the one error object of the C API.

use std::ffi::{c_char, CString};

use crate::error::{Error, ErrorDetail, ErrorKind, Result};
use crate::ffi::boundary::{c_string, ffi_boundary, PanicDefault};
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, Castable, OwnershipBox};

/// Coarse error classes for programmatic handling. Values are fixed and never renumbered.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_error_kind_t {
    /// Not an error (returned for a NULL error pointer).
    OSS_ERROR_KIND_NONE = 0,
    /// A parameter was invalid; nothing was sent. Code `ValidateError`.
    OSS_ERROR_KIND_INVALID_ARGUMENT = 1,
    /// A required pointer argument was NULL. Code `ValidateError`.
    OSS_ERROR_KIND_NULL_ARGUMENT = 2,
    /// A string argument was not valid UTF-8. Code `ValidateError`.
    OSS_ERROR_KIND_INVALID_UTF8 = 3,
    /// The server answered with an error: code is its XML `Code`, or `ServerError:<status>`.
    OSS_ERROR_KIND_SERVER = 4,
    /// Connecting, sending or receiving failed after all retries. Code `ClientError:<n>`.
    OSS_ERROR_KIND_TRANSPORT = 5,
    /// No data arrived within the request timeout after all retries. Code `ClientError:200028`.
    OSS_ERROR_KIND_TIMEOUT = 6,
    /// The CRC64 of the downloaded data differs from the server's. Code `CrcCheckError`.
    OSS_ERROR_KIND_CRC_MISMATCH = 7,
    /// Cancelled by the caller, by `oss_client_disable_requests` or by SDK shutdown. Code `Cancelled`.
    OSS_ERROR_KIND_CANCELLED = 8,
    /// A local file-system operation failed. Code `IOError` or `RenameError`.
    OSS_ERROR_KIND_IO = 9,
    /// The object changed on the server during the download. Code `ObjectChanged`.
    OSS_ERROR_KIND_OBJECT_CHANGED = 10,
    /// The SDK is not initialised or was shut down. Code `NotInitialized`.
    OSS_ERROR_KIND_NOT_INITIALIZED = 11,
    /// Another download holds the destination file. Code `FileLocked`.
    OSS_ERROR_KIND_BUSY = 12,
    /// A bug: a panic was caught at the boundary. Code `Panic`.
    OSS_ERROR_KIND_PANIC = 13,
}

impl From<ErrorKind> for oss_error_kind_t {
    fn from(k: ErrorKind) -> Self {
        use oss_error_kind_t::*;
        match k {
            ErrorKind::InvalidArgument => OSS_ERROR_KIND_INVALID_ARGUMENT,
            ErrorKind::NullArgument => OSS_ERROR_KIND_NULL_ARGUMENT,
            ErrorKind::InvalidUtf8 => OSS_ERROR_KIND_INVALID_UTF8,
            ErrorKind::Server => OSS_ERROR_KIND_SERVER,
            ErrorKind::Transport => OSS_ERROR_KIND_TRANSPORT,
            ErrorKind::Timeout => OSS_ERROR_KIND_TIMEOUT,
            ErrorKind::CrcMismatch => OSS_ERROR_KIND_CRC_MISMATCH,
            ErrorKind::Cancelled => OSS_ERROR_KIND_CANCELLED,
            ErrorKind::Io => OSS_ERROR_KIND_IO,
            ErrorKind::ObjectChanged => OSS_ERROR_KIND_OBJECT_CHANGED,
            ErrorKind::NotInitialized => OSS_ERROR_KIND_NOT_INITIALIZED,
            ErrorKind::Busy => OSS_ERROR_KIND_BUSY,
            ErrorKind::Panic => OSS_ERROR_KIND_PANIC,
        }
    }
}

/// A stable detail of an error beyond its kind and code, for callers that must tell such errors
/// apart (the C++ layer gives them the official SDK's exact message): map these, never the
/// message text, which may change. Values are fixed and never renumbered; new ones may be added,
/// so treat an unknown value as `OSS_ERROR_DETAIL_NONE`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_error_detail_t {
    /// Nothing beyond kind and code (also for a NULL error).
    OSS_ERROR_DETAIL_NONE = 0,
    /// The download's checkpoint directory does not exist or is not a directory. Kind
    /// `OSS_ERROR_KIND_INVALID_ARGUMENT`, code `ValidateError`.
    OSS_ERROR_DETAIL_CHECKPOINT_DIR_MISSING = 1,
}

impl From<ErrorDetail> for oss_error_detail_t {
    fn from(d: ErrorDetail) -> Self {
        use oss_error_detail_t::*;
        match d {
            ErrorDetail::None => OSS_ERROR_DETAIL_NONE,
            ErrorDetail::CheckpointDirMissing => OSS_ERROR_DETAIL_CHECKPOINT_DIR_MISSING,
        }
    }
}

/// An error: kind, OSS-style code, message, request id, host, HTTP status.
///
/// Ownership: returned by fallible calls (NULL means success); the caller owns it and frees it
/// with `oss_error_free`. Lifetime: strings returned by its accessors live until then.
/// Threads: immutable; may be read from any thread, freed once.
#[allow(non_camel_case_types)]
pub struct oss_error_t {
    _private: [u8; 0],
}

impl Castable for oss_error_t {
    type Ownership = OwnershipBox;
    type RustType = ErrorDetails;
}

/// What an `oss_error_t` holds: the error with its strings made once, NUL-terminated.
pub(crate) struct ErrorDetails {
    kind: oss_error_kind_t,
    detail: oss_error_detail_t,
    code: CString,
    message: CString,
    request_id: CString,
    host: CString,
    ec: CString,
    bucket: CString,
    key: CString,
    http_status: u16,
}

impl oss_error_t {
    pub(crate) fn boxed(e: Error) -> *mut oss_error_t {
        to_boxed_mut_ptr(ErrorDetails {
            kind: e.kind.into(),
            detail: e.detail.into(),
            code: c_string(&e.code),
            message: c_string(&e.message),
            request_id: c_string(&e.request_id),
            host: c_string(&e.host),
            ec: c_string(&e.ec),
            bucket: c_string(&e.bucket),
            key: c_string(&e.key),
            http_status: e.http_status,
        })
    }
}

/// A panic in an export that returns errors becomes an error of kind `OSS_ERROR_KIND_PANIC`.
impl PanicDefault for *mut oss_error_t {
    fn on_panic(message: String) -> Self {
        oss_error_t::boxed(Error::panic(format!("internal error (panic): {message}")))
    }
}

/// NULL on success, a new error otherwise.
pub(crate) fn into_c(r: Result<()>) -> *mut oss_error_t {
    match r {
        Ok(()) => std::ptr::null_mut(),
        Err(e) => {
            crate::log::log(crate::log::Level::Debug, || format!("returning error {e}"));
            oss_error_t::boxed(e)
        }
    }
}

fn field(err: *const oss_error_t, pick: impl Fn(&ErrorDetails) -> &CString) -> *const c_char {
    // SAFETY: err is NULL or a live oss_error_t from this library (the function's contract).
    match unsafe { opt_ref(err) } {
        Some(e) => pick(e).as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The error's kind; `OSS_ERROR_KIND_NONE` for NULL.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_kind(err: *const oss_error_t) -> oss_error_kind_t {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `err` is NULL (nothing done) or a live handle
        // not freed during the call, and only borrowed shared.
        match unsafe { opt_ref(err) } {
            Some(e) => e.kind,
            None => oss_error_kind_t::OSS_ERROR_KIND_NONE,
        }
    }
}

/// The error's stable detail beyond kind and code; `OSS_ERROR_DETAIL_NONE` for most errors and for
/// NULL. Map errors by kind, code and this, never by message text.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_detail(err: *const oss_error_t) -> oss_error_detail_t {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `err` is NULL (nothing done) or a live handle
        // not freed during the call, and only borrowed shared.
        match unsafe { opt_ref(err) } {
            Some(e) => e.detail,
            None => oss_error_detail_t::OSS_ERROR_DETAIL_NONE,
        }
    }
}

/// The code, exactly as the C++ SDK's `OssError::Code()`: the server's `Code` (`NoSuchKey`...),
/// `ValidateError`, `ServerError:<status>`, `ClientError:<n>`, `CrcCheckError`, `RenameError`,
/// `Cancelled`, `ObjectChanged`, `NotInitialized`, `FileLocked`, `IOError`, `Panic`.
/// Borrowed: valid until `oss_error_free(err)`. "" for NULL.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_code(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.code) }
}

/// A readable message (never contains secrets). Borrowed until `oss_error_free`; "" for NULL.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_message(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.message) }
}

/// The server's request id ("" when no answer was received). Borrowed until `oss_error_free`.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_request_id(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.request_id) }
}

/// The host the failing request went to ("" when none). Borrowed until `oss_error_free`.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_host(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.host) }
}

/// The server's `EC` detail code ("" when none). Borrowed until `oss_error_free`.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_ec(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.ec) }
}

/// The bucket of the request that failed ("" when the error is not of a request for an object,
/// and for NULL). Borrowed until `oss_error_free`.
///
/// Ownership: borrowed from `err`. Threads: any (the error is immutable).
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_bucket(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.bucket) }
}

/// The object key of the request that failed ("" when the error is not of a request for an
/// object, and for NULL). Borrowed until `oss_error_free`. The key as given, which may hold any
/// character: escape it before printing it to a terminal.
///
/// Ownership: borrowed from `err`. Threads: any (the error is immutable).
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_key(err: *const oss_error_t) -> *const c_char {
    ffi_boundary! { field(err, |e| &e.key) }
}

/// The name of an error kind as written in this header (`"OSS_ERROR_KIND_SERVER"`...), for
/// logs and messages; `"OSS_ERROR_KIND_UNKNOWN"` for a value that is not a kind (any integer may
/// be passed).
///
/// Ownership: a static string, never freed. Threads: any.
#[no_mangle]
pub extern "C" fn oss_error_kind_name(kind: u32) -> *const c_char {
    ffi_boundary! {
        use oss_error_kind_t::*;
        let known = [
            OSS_ERROR_KIND_NONE,
            OSS_ERROR_KIND_INVALID_ARGUMENT,
            OSS_ERROR_KIND_NULL_ARGUMENT,
            OSS_ERROR_KIND_INVALID_UTF8,
            OSS_ERROR_KIND_SERVER,
            OSS_ERROR_KIND_TRANSPORT,
            OSS_ERROR_KIND_TIMEOUT,
            OSS_ERROR_KIND_CRC_MISMATCH,
            OSS_ERROR_KIND_CANCELLED,
            OSS_ERROR_KIND_IO,
            OSS_ERROR_KIND_OBJECT_CHANGED,
            OSS_ERROR_KIND_NOT_INITIALIZED,
            OSS_ERROR_KIND_BUSY,
            OSS_ERROR_KIND_PANIC,
        ];
        match known.into_iter().find(|k| *k as u32 == kind) {
            Some(k) => kind_name(k).as_ptr(),
            None => c"OSS_ERROR_KIND_UNKNOWN".as_ptr(),
        }
    }
}

fn kind_name(k: oss_error_kind_t) -> &'static std::ffi::CStr {
    use oss_error_kind_t::*;
    match k {
        OSS_ERROR_KIND_NONE => c"OSS_ERROR_KIND_NONE",
        OSS_ERROR_KIND_INVALID_ARGUMENT => c"OSS_ERROR_KIND_INVALID_ARGUMENT",
        OSS_ERROR_KIND_NULL_ARGUMENT => c"OSS_ERROR_KIND_NULL_ARGUMENT",
        OSS_ERROR_KIND_INVALID_UTF8 => c"OSS_ERROR_KIND_INVALID_UTF8",
        OSS_ERROR_KIND_SERVER => c"OSS_ERROR_KIND_SERVER",
        OSS_ERROR_KIND_TRANSPORT => c"OSS_ERROR_KIND_TRANSPORT",
        OSS_ERROR_KIND_TIMEOUT => c"OSS_ERROR_KIND_TIMEOUT",
        OSS_ERROR_KIND_CRC_MISMATCH => c"OSS_ERROR_KIND_CRC_MISMATCH",
        OSS_ERROR_KIND_CANCELLED => c"OSS_ERROR_KIND_CANCELLED",
        OSS_ERROR_KIND_IO => c"OSS_ERROR_KIND_IO",
        OSS_ERROR_KIND_OBJECT_CHANGED => c"OSS_ERROR_KIND_OBJECT_CHANGED",
        OSS_ERROR_KIND_NOT_INITIALIZED => c"OSS_ERROR_KIND_NOT_INITIALIZED",
        OSS_ERROR_KIND_BUSY => c"OSS_ERROR_KIND_BUSY",
        OSS_ERROR_KIND_PANIC => c"OSS_ERROR_KIND_PANIC",
    }
}

/// The HTTP status of the failing answer; 0 when there was none (and for NULL).
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_error_http_status(err: *const oss_error_t) -> u16 {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `err` is NULL (nothing done) or a live handle
        // not freed during the call, and only borrowed shared.
        unsafe { opt_ref(err) }.map(|e| e.http_status).unwrap_or(0)
    }
}

/// Frees an error. NULL is a no-op.
///
/// # Safety
/// `err` must be NULL or an error returned by this library, freed at most once.
#[no_mangle]
pub unsafe extern "C" fn oss_error_free(err: *mut oss_error_t) {
    ffi_boundary! {
        // SAFETY: err is NULL or from oss_error_t::boxed (to_boxed_mut_ptr), freed once.
        unsafe { free_box(err) };
    }
}

impl PanicDefault for oss_error_kind_t {
    fn on_panic(_: String) -> Self {
        oss_error_kind_t::OSS_ERROR_KIND_PANIC
    }
}

impl PanicDefault for oss_error_detail_t {
    fn on_panic(_: String) -> Self {
        oss_error_detail_t::OSS_ERROR_DETAIL_NONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::boundary::ffi_try;

    fn failing_export() -> *mut oss_error_t {
        ffi_try! {
            let v: Vec<u8> = Vec::new();
            let _ = v[3]; // index out of bounds: a panic inside an export
            Ok(())
        }
    }

    #[test]
    fn panics_become_errors() {
        let e = failing_export();
        assert!(!e.is_null());
        // SAFETY: e is a live error from this library; freed once below.
        unsafe {
            assert_eq!(oss_error_kind(e), oss_error_kind_t::OSS_ERROR_KIND_PANIC);
            let code = std::ffi::CStr::from_ptr(oss_error_code(e))
                .to_str()
                .unwrap();
            assert_eq!(code, "Panic");
            let msg = std::ffi::CStr::from_ptr(oss_error_message(e))
                .to_str()
                .unwrap();
            assert!(msg.contains("index out of bounds"), "{msg}");
            assert_eq!(
                oss_error_detail(e),
                oss_error_detail_t::OSS_ERROR_DETAIL_NONE
            );
            oss_error_free(e);
        }
    }

    #[test]
    fn a_missing_checkpoint_directory_has_its_own_detail_whatever_the_message() {
        for message in ["Checkpoint directory is not exist: x", "reworded"] {
            let e = oss_error_t::boxed(Error::checkpoint_dir_missing(message));
            // SAFETY: e is a live error from this library; freed once below.
            unsafe {
                assert_eq!(
                    oss_error_detail(e),
                    oss_error_detail_t::OSS_ERROR_DETAIL_CHECKPOINT_DIR_MISSING
                );
                assert_eq!(
                    oss_error_kind(e),
                    oss_error_kind_t::OSS_ERROR_KIND_INVALID_ARGUMENT
                );
                oss_error_free(e);
            }
        }
        let plain = oss_error_t::boxed(Error::validate("Checkpoint directory is not exist"));
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                oss_error_detail(plain),
                oss_error_detail_t::OSS_ERROR_DETAIL_NONE
            );
            oss_error_free(plain);
            assert_eq!(
                oss_error_detail(std::ptr::null()),
                oss_error_detail_t::OSS_ERROR_DETAIL_NONE
            );
        }
    }
}
