//! Request handles: `oss_get_object_request_t` (HeadObject / GetObjectMeta / GetObject) and
//! `oss_download_request_t` (ResumableDownloadObject, the C++ SDK's `DownloadObjectRequest`).

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::download::{DownloadRequest, ProgressFn, MAX_PART_SIZE, MAX_THREAD_NUM, MIN_PART_SIZE};
use crate::error::{Error, ErrorKind, Result};
use crate::ffi::boundary::{
    arg_mut, arg_ref, arg_str, check_out, ffi_boundary, ffi_try, opt_str, write_out, UserData,
};
use crate::ffi::error::oss_error_t;
use crate::object::{user_range, ObjectRequest, ResponseHeader};

/// The `response-*` overrides (values fixed).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_response_header_t {
    OSS_RESPONSE_CONTENT_TYPE = 0,
    OSS_RESPONSE_CONTENT_LANGUAGE = 1,
    OSS_RESPONSE_EXPIRES = 2,
    OSS_RESPONSE_CACHE_CONTROL = 3,
    OSS_RESPONSE_CONTENT_DISPOSITION = 4,
    OSS_RESPONSE_CONTENT_ENCODING = 5,
}

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
fn progress_fn(
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

fn header_value(v: &str, what: &str) -> Result<String> {
    if v.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(Error::validate(format!(
            "{what} contains control characters"
        )));
    }
    Ok(v.to_string())
}

fn http_date(v: &str, what: &str) -> Result<String> {
    httpdate::parse_http_date(v).map_err(|_| {
        Error::validate(format!(
            "{what} must be an RFC 1123 GMT date like 'Fri, 13 Nov 2015 14:47:53 GMT', got '{}'",
            v.escape_debug()
        ))
    })?;
    Ok(v.to_string())
}

/// Reads a C array of `count` strings.
///
/// # Safety
/// `items` NULL (only with count 0) or valid for `count` NUL-terminated strings.
unsafe fn string_array(
    items: *const *const c_char,
    count: usize,
    name: &str,
) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Error::new(
            ErrorKind::NullArgument,
            "ValidateError",
            format!("the argument '{name}' must not be NULL when count > 0"),
        ));
    }
    if count > 1024 {
        return Err(Error::validate(format!(
            "at most 1024 values in '{name}', got {count}"
        )));
    }
    // SAFETY: items is valid for count elements per the contract.
    let slice = unsafe { std::slice::from_raw_parts(items, count) };
    slice
        .iter()
        // SAFETY: each element NULL or NUL-terminated per the contract.
        .map(|p| unsafe { arg_str(*p, name) }.and_then(|s| header_value(s, name)))
        .collect()
}

fn response_header(which: u32) -> Result<ResponseHeader> {
    Ok(match which {
        0 => ResponseHeader::ContentType,
        1 => ResponseHeader::ContentLanguage,
        2 => ResponseHeader::Expires,
        3 => ResponseHeader::CacheControl,
        4 => ResponseHeader::ContentDisposition,
        5 => ResponseHeader::ContentEncoding,
        n => {
            return Err(Error::validate(format!(
                "unknown response header {n} (see oss_response_header_t)"
            )))
        }
    })
}

fn traffic_limit(bits_per_sec: u64) -> Result<Option<u64>> {
    match bits_per_sec {
        0 => Ok(None),
        v if (245_760..=838_860_800).contains(&v) => Ok(Some(v)),
        v => Err(Error::validate(format!(
            "the traffic limit must be 0 (none) or 245760..838860800 bit/s, got {v}"
        ))),
    }
}

/// Per-request cancellation, shared by both request handles: `cancel` (any thread) stops the
/// call running with the request, or the next one when none runs; a used-up token is renewed
/// when its call returns, so the request can be used again (to resume, say).
#[derive(Default)]
pub(crate) struct CallCancel(Mutex<CancellationToken>);

impl CallCancel {
    fn lock(&self) -> std::sync::MutexGuard<'_, CancellationToken> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn cancel(&self) {
        self.lock().cancel();
    }

    /// Runs `call` with the token of a call starting now, then renews the token if it was used.
    pub(crate) fn around<T>(&self, call: impl FnOnce(CancellationToken) -> T) -> T {
        let token = self.lock().clone();
        let result = call(token.clone());
        let mut current = self.lock();
        if token.is_cancelled() && current.is_cancelled() {
            *current = CancellationToken::new();
        }
        result
    }
}

/// Parameters of HeadObject, GetObjectMeta and GetObject.
///
/// Ownership: Box; `oss_get_object_request_new` / `oss_get_object_request_free`. Lifetime: calls
/// that use it copy what they need. Threads: setters mutate (caller serialises); a `const`
/// request may be used by several calls at once; `oss_get_object_request_cancel` may be called
/// from any thread at any time.
#[allow(non_camel_case_types)]
pub struct oss_get_object_request_t {
    pub(crate) object: ObjectRequest,
    pub(crate) range: Option<(i64, i64)>,
    pub(crate) progress: Option<ProgressFn>,
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
        // SAFETY: strings NULL or NUL-terminated per the contract.
        let (bucket, key) = unsafe { (arg_str(bucket, "bucket")?, arg_str(key, "key")?) };
        let r = oss_get_object_request_t {
            object: ObjectRequest { bucket: bucket.to_string(), key: key.to_string(), ..Default::default() },
            range: None,
            progress: None,
            cancel: CallCancel::default(),
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(request_out, Box::into_raw(Box::new(r))) };
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
        // SAFETY: url NULL or NUL-terminated per the contract.
        let url = unsafe { arg_str(url, "url") }?;
        crate::transport::parse_object_url(url)?;
        let r = oss_get_object_request_t {
            object: ObjectRequest { url: Some(url.to_string()), ..Default::default() },
            range: None,
            progress: None,
            cancel: CallCancel::default(),
        };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(request_out, Box::into_raw(Box::new(r))) };
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
        if !request.is_null() {
            // SAFETY: from Box::into_raw, freed once.
            drop(unsafe { Box::from_raw(request) });
        }
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
        // SAFETY: NULL or live per the contract.
        if let Some(r) = unsafe { request.as_ref() } {
            r.cancel.cancel();
        }
    }
}

/// Common setters: each validates, then stores into the `ObjectRequest`.
fn set_object(
    o: &mut ObjectRequest,
    f: impl FnOnce(&mut ObjectRequest) -> Result<()>,
) -> Result<()> {
    let mut next = o.clone();
    f(&mut next)?;
    *o = next;
    Ok(())
}

macro_rules! object_of {
    ($req:expr, $field:ident) => {{
        // SAFETY: req is NULL or a live, unaliased handle (the function's contract).
        &mut unsafe { arg_mut($req, "request") }?.$field
    }};
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
        *object_of!(request, range) = Some((start, end));
        Ok(())
    }
}

/// Reads version `version_id` (NULL or "": the current version).
///
/// # Safety
/// `request` NULL or live; `version_id` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_version_id(
    request: *mut oss_get_object_request_t,
    version_id: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(version_id, "version_id") }?;
        set_object(object_of!(request, object), |o| set_version(o, v))
    }
}

/// Sets `If-Match` to any of `etags` (count 0 clears).
///
/// # Safety
/// `request` NULL or live; `etags` valid for `count` strings.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_matching_etags(
    request: *mut oss_get_object_request_t,
    etags: *const *const c_char,
    count: usize,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: per the contract.
        let v = unsafe { string_array(etags, count, "etags") }?;
        set_object(object_of!(request, object), |o| { o.if_match = v; Ok(()) })
    }
}

/// Sets `If-None-Match` to `etags` (count 0 clears).
///
/// # Safety
/// `request` NULL or live; `etags` valid for `count` strings.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_nonmatching_etags(
    request: *mut oss_get_object_request_t,
    etags: *const *const c_char,
    count: usize,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: per the contract.
        let v = unsafe { string_array(etags, count, "etags") }?;
        set_object(object_of!(request, object), |o| { o.if_none_match = v; Ok(()) })
    }
}

/// Sets `If-Modified-Since` (RFC 1123 GMT; NULL clears).
///
/// # Safety
/// `request` NULL or live; `gmt` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_modified_since(
    request: *mut oss_get_object_request_t,
    gmt: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(gmt, "gmt") }?;
        set_object(object_of!(request, object), |o| { o.if_modified_since = v.map(|d| http_date(d, "If-Modified-Since")).transpose()?; Ok(()) })
    }
}

/// Sets `If-Unmodified-Since` (RFC 1123 GMT; NULL clears).
///
/// # Safety
/// `request` NULL or live; `gmt` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_unmodified_since(
    request: *mut oss_get_object_request_t,
    gmt: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(gmt, "gmt") }?;
        set_object(object_of!(request, object), |o| { o.if_unmodified_since = v.map(|d| http_date(d, "If-Unmodified-Since")).transpose()?; Ok(()) })
    }
}

/// Overrides a response header (`which`: an `oss_response_header_t`); NULL value removes it.
///
/// # Safety
/// `request` NULL or live; `value` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_response_header(
    request: *mut oss_get_object_request_t,
    which: u32,
    value: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(value, "value") }?;
        set_object(object_of!(request, object), |o| set_response_header(o, which, v))
    }
}

/// Server-side throttle in bit/s (245760..838860800; 0 = none).
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_traffic_limit(
    request: *mut oss_get_object_request_t,
    bits_per_sec: u64,
) -> *mut oss_error_t {
    ffi_try! {
        let v = traffic_limit(bits_per_sec)?;
        set_object(object_of!(request, object), |o| { o.traffic_limit = v; Ok(()) })
    }
}

/// Sends `x-oss-request-payer: requester` when true.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_request_payer(
    request: *mut oss_get_object_request_t,
    requester: bool,
) -> *mut oss_error_t {
    ffi_try! { set_object(object_of!(request, object), |o| { o.request_payer = requester; Ok(()) }) }
}

/// Sets (or with NULL `cb`, clears) the progress callback of GetObject. `user_data_free`, if
/// not NULL, is called once with `user_data` when it is no longer needed (request freed or
/// callback replaced, and no call using it still running).
///
/// # Safety
/// `request` NULL or live; `cb` callable from library threads with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_get_object_request_set_progress(
    request: *mut oss_get_object_request_t,
    cb: oss_progress_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
) -> *mut oss_error_t {
    ffi_try! {
        let p = progress_fn(cb, user_data, user_data_free);
        *object_of!(request, progress) = p;
        Ok(())
    }
}

fn set_version(o: &mut ObjectRequest, v: Option<&str>) -> Result<()> {
    o.version_id = match v {
        None | Some("") => None,
        Some(v) => Some(header_value(v, "version_id")?),
    };
    Ok(())
}

fn set_response_header(o: &mut ObjectRequest, which: u32, v: Option<&str>) -> Result<()> {
    let h = response_header(which)?;
    o.response_headers.retain(|(k, _)| *k != h);
    if let Some(v) = v {
        o.response_headers
            .push((h, header_value(v, "response header value")?));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

/// A resumable download (the C++ SDK's `DownloadObjectRequest`): bucket, key, destination, part
/// size (default 8 MiB), threads (default 4), checkpoint directory (set = resumable), range,
/// conditions, progress, and per-download cancellation.
///
/// Ownership: Box; `oss_download_request_new` / `oss_download_request_free` (not while a download
/// using it runs). Threads: setters mutate (caller serialises); `oss_download_request_cancel`
/// may be called from any thread at any time, also from the progress callback.
#[allow(non_camel_case_types)]
pub struct oss_download_request_t {
    pub(crate) request: DownloadRequest,
    /// `oss_download_request_cancel`.
    pub(crate) cancel: CallCancel,
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
        // SAFETY: strings NULL or NUL-terminated per the contract.
        let (bucket, key, path) = unsafe { (arg_str(bucket, "bucket")?, arg_str(key, "key")?, opt_str(file_path, "file_path")?) };
        let mut request = DownloadRequest::new(bucket, key);
        request.file_path = path.filter(|p| !p.is_empty()).map(PathBuf::from);
        let r = oss_download_request_t { request, cancel: CallCancel::default() };
        // SAFETY: checked non-NULL, writable per the contract.
        unsafe { write_out(request_out, Box::into_raw(Box::new(r))) };
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
        if !request.is_null() {
            // SAFETY: from Box::into_raw, freed once.
            drop(unsafe { Box::from_raw(request) });
        }
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
        // SAFETY: NULL or live per the contract.
        if let Some(r) = unsafe { request.as_ref() } {
            r.cancel.cancel();
        }
    }
}

macro_rules! download_of {
    ($req:expr) => {{
        // SAFETY: req is NULL or a live, unaliased handle (the function's contract).
        &mut unsafe { arg_mut($req, "request") }?.request
    }};
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
        // SAFETY: NULL or NUL-terminated.
        let p = unsafe { opt_str(file_path, "file_path") }?;
        download_of!(request).file_path = p.filter(|p| !p.is_empty()).map(PathBuf::from);
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
        if part_size < MIN_PART_SIZE {
            return Err(Error::validate(format!("The part size is less than 100KB ({part_size} bytes given)")));
        }
        if part_size > MAX_PART_SIZE {
            return Err(Error::validate(format!("The part size is more than 5GB ({part_size} bytes given)")));
        }
        download_of!(request).part_size = part_size;
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
        if thread_num < 1 {
            return Err(Error::validate("The thread num is less than 1."));
        }
        if thread_num > MAX_THREAD_NUM {
            return Err(Error::validate(format!("The thread num is more than {MAX_THREAD_NUM} ({thread_num} given)")));
        }
        download_of!(request).thread_num = thread_num;
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
        // SAFETY: NULL or NUL-terminated.
        let d = unsafe { opt_str(dir, "dir") }?;
        download_of!(request).checkpoint_dir = d.filter(|d| !d.is_empty()).map(PathBuf::from);
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
        user_range(Some((start, end))).map_err(|_| Error::validate(format!("Invalid range of resumable download: {start}-{end}")))?;
        download_of!(request).range = Some((start, end));
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
    ffi_try! { download_of!(request).verify_parts_on_resume = verify; Ok(()) }
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
    ffi_try! { download_of!(request).direct_io = direct_io; Ok(()) }
}

/// Downloads version `version_id` (NULL or "": the current version).
///
/// # Safety
/// `request` NULL or live; `version_id` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_version_id(
    request: *mut oss_download_request_t,
    version_id: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(version_id, "version_id") }?;
        set_object(&mut download_of!(request).object, |o| set_version(o, v))
    }
}

/// Only downloads when the ETag matches one of `etags` (count 0 clears); else PreconditionFailed.
///
/// # Safety
/// `request` NULL or live; `etags` valid for `count` strings.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_matching_etags(
    request: *mut oss_download_request_t,
    etags: *const *const c_char,
    count: usize,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: per the contract.
        let v = unsafe { string_array(etags, count, "etags") }?;
        set_object(&mut download_of!(request).object, |o| { o.if_match = v; Ok(()) })
    }
}

/// Only downloads when the ETag matches none of `etags` (count 0 clears); else NotModified.
///
/// # Safety
/// `request` NULL or live; `etags` valid for `count` strings.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_nonmatching_etags(
    request: *mut oss_download_request_t,
    etags: *const *const c_char,
    count: usize,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: per the contract.
        let v = unsafe { string_array(etags, count, "etags") }?;
        set_object(&mut download_of!(request).object, |o| { o.if_none_match = v; Ok(()) })
    }
}

/// Only downloads when modified since `gmt` (RFC 1123; NULL clears).
///
/// # Safety
/// `request` NULL or live; `gmt` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_modified_since(
    request: *mut oss_download_request_t,
    gmt: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(gmt, "gmt") }?;
        set_object(&mut download_of!(request).object, |o| { o.if_modified_since = v.map(|d| http_date(d, "If-Modified-Since")).transpose()?; Ok(()) })
    }
}

/// Only downloads when not modified since `gmt` (RFC 1123; NULL clears).
///
/// # Safety
/// `request` NULL or live; `gmt` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_unmodified_since(
    request: *mut oss_download_request_t,
    gmt: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(gmt, "gmt") }?;
        set_object(&mut download_of!(request).object, |o| { o.if_unmodified_since = v.map(|d| http_date(d, "If-Unmodified-Since")).transpose()?; Ok(()) })
    }
}

/// Overrides a response header (`which`: an `oss_response_header_t`); NULL value removes it.
///
/// # Safety
/// `request` NULL or live; `value` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_response_header(
    request: *mut oss_download_request_t,
    which: u32,
    value: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or NUL-terminated.
        let v = unsafe { opt_str(value, "value") }?;
        set_object(&mut download_of!(request).object, |o| set_response_header(o, which, v))
    }
}

/// Server-side throttle per request in bit/s (245760..838860800; 0 = none).
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_traffic_limit(
    request: *mut oss_download_request_t,
    bits_per_sec: u64,
) -> *mut oss_error_t {
    ffi_try! {
        let v = traffic_limit(bits_per_sec)?;
        download_of!(request).object.traffic_limit = v;
        Ok(())
    }
}

/// Sends `x-oss-request-payer: requester` when true.
///
/// # Safety
/// `request` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_request_payer(
    request: *mut oss_download_request_t,
    requester: bool,
) -> *mut oss_error_t {
    ffi_try! { download_of!(request).object.request_payer = requester; Ok(()) }
}

/// Sets (or with NULL `cb`, clears) the progress callback; see `oss_progress_cb`.
/// `user_data_free`, if not NULL, is called once with `user_data` when it is no longer needed.
///
/// # Safety
/// `request` NULL or live; `cb` callable from library threads with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_download_request_set_progress(
    request: *mut oss_download_request_t,
    cb: oss_progress_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
) -> *mut oss_error_t {
    ffi_try! {
        let p = progress_fn(cb, user_data, user_data_free);
        download_of!(request).progress = p;
        Ok(())
    }
}

/// Borrow helper for the client module.
///
/// # Safety
/// `p` NULL or live.
pub(crate) unsafe fn download_ref<'a>(
    p: *const oss_download_request_t,
) -> Result<&'a oss_download_request_t> {
    // SAFETY: forwarded contract.
    unsafe { arg_ref(p, "request") }
}
