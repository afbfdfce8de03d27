//! The GetObject settings both request handles share, validated before they are stored: the
//! `response-*` overrides, version id, ETag and date conditions, traffic limit.

use std::ffi::c_char;

use crate::error::{Error, Result};
use crate::ffi::boundary::arg_str;
use crate::object::{ObjectRequest, ResponseHeader};
use crate::progress::{AbortableProgressFn, ProgressFn};

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

pub(crate) fn header_value(v: &str, what: &str) -> Result<String> {
    if v.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(Error::validate(format!(
            "{what} contains control characters"
        )));
    }
    Ok(v.to_string())
}

/// A date condition, checked by the core's rule (`object::check_http_date`).
pub(crate) fn http_date(v: &str, what: &str) -> Result<String> {
    crate::object::check_http_date(v, what)?;
    Ok(v.to_string())
}

/// Reads a C array of `count` strings.
///
/// # Safety
/// `items` NULL (only with count 0) or valid for `count` NUL-terminated strings.
pub(crate) unsafe fn string_array(
    items: *const *const c_char,
    count: usize,
    name: &str,
) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Error::null_argument(format!(
            "the argument '{name}' must not be NULL when count > 0"
        )));
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

pub(crate) fn response_header(which: u32) -> Result<ResponseHeader> {
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

/// The C ABI's traffic limit: 0 is none, anything else must pass the core's rule.
pub(crate) fn traffic_limit(bits_per_sec: u64) -> Result<Option<u64>> {
    match bits_per_sec {
        0 => Ok(None),
        v => crate::object::check_traffic_limit(v).map(Some),
    }
}

/// Common setters: each validates, then stores into the `ObjectRequest`.
pub(crate) fn set_object(
    o: &mut ObjectRequest,
    f: impl FnOnce(&mut ObjectRequest) -> Result<()>,
) -> Result<()> {
    let mut next = o.clone();
    f(&mut next)?;
    *o = next;
    Ok(())
}

pub(crate) fn set_version(o: &mut ObjectRequest, v: Option<&str>) -> Result<()> {
    o.version_id = match v {
        None | Some("") => None,
        Some(v) => Some(header_value(v, "version_id")?),
    };
    Ok(())
}

pub(crate) fn set_response_header(
    o: &mut ObjectRequest,
    which: u32,
    v: Option<&str>,
) -> Result<()> {
    let h = response_header(which)?;
    o.response_headers.retain(|(k, _)| *k != h);
    if let Some(v) = v {
        o.response_headers
            .push((h, header_value(v, "response header value")?));
    }
    Ok(())
}

/// What both request handles hold that the ten shared setters write: the GetObject settings and
/// the progress callbacks (at most one of the plain and the abortable one is set).
pub(crate) trait ObjectSettings {
    fn object_mut(&mut self) -> &mut ObjectRequest;
    fn set_progress(&mut self, plain: Option<ProgressFn>, abortable: Option<AbortableProgressFn>);
}

/// The ten setters both request handles share, written once and instantiated for each handle
/// type (`oss_get_object_request_t`, `oss_download_request_t`) with its export names. Every
/// setter validates its value first and leaves the handle as it was when that fails.
macro_rules! object_settings {
    (
        $handle:ty {
            version_id: $version_id:ident,
            matching_etags: $matching_etags:ident,
            nonmatching_etags: $nonmatching_etags:ident,
            modified_since: $modified_since:ident,
            unmodified_since: $unmodified_since:ident,
            response_header: $response_header:ident,
            traffic_limit: $traffic_limit:ident,
            request_payer: $request_payer:ident,
            progress: $progress:ident,
            progress_abortable: $progress_abortable:ident $(,)?
        }
    ) => {
        $crate::ffi::boundary::ffi_setter! {
            /// Reads version `version_id` of the object (NULL or "": the current version).
            /// Errors: NULL `request`, bad UTF-8, control characters.
            ///
            /// # Safety
            /// `request` NULL or live; `version_id` NULL or NUL-terminated.
            fn $version_id(request: *mut $handle, version_id: opt_str) |r| {
                $crate::ffi::object_settings::set_object($crate::ffi::object_settings::ObjectSettings::object_mut(r), |o| {
                    $crate::ffi::object_settings::set_version(o, version_id)
                })
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sets `If-Match`: the call reads only when the object's ETag is one of `etags`
            /// (count 0 clears), else it fails with `PreconditionFailed`.
            ///
            /// # Safety
            /// `request` NULL or live; `etags` valid for `count` strings.
            fn $matching_etags(request: *mut $handle, etags: str_array[count]) |r| {
                $crate::ffi::object_settings::set_object($crate::ffi::object_settings::ObjectSettings::object_mut(r), |o| {
                    o.if_match = etags;
                    Ok(())
                })
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sets `If-None-Match`: the call reads only when the object's ETag is none of
            /// `etags` (count 0 clears), else it fails with `NotModified`.
            ///
            /// # Safety
            /// `request` NULL or live; `etags` valid for `count` strings.
            fn $nonmatching_etags(request: *mut $handle, etags: str_array[count]) |r| {
                $crate::ffi::object_settings::set_object($crate::ffi::object_settings::ObjectSettings::object_mut(r), |o| {
                    o.if_none_match = etags;
                    Ok(())
                })
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sets `If-Modified-Since`: the call reads only when the object was modified since
            /// `gmt`, an RFC 1123 GMT date like "Fri, 13 Nov 2015 14:47:53 GMT" (NULL clears);
            /// else `NotModified`. Errors: anything but such a date (`ValidateError`).
            ///
            /// # Safety
            /// `request` NULL or live; `gmt` NULL or NUL-terminated.
            fn $modified_since(request: *mut $handle, gmt: opt_str) |r| {
                $crate::ffi::object_settings::set_object($crate::ffi::object_settings::ObjectSettings::object_mut(r), |o| {
                    o.if_modified_since = gmt
                        .map(|d| $crate::ffi::object_settings::http_date(d, "If-Modified-Since"))
                        .transpose()?;
                    Ok(())
                })
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sets `If-Unmodified-Since`: the call reads only when the object was not modified
            /// since `gmt`, an RFC 1123 GMT date (NULL clears); else `PreconditionFailed`.
            /// Errors: anything but such a date (`ValidateError`).
            ///
            /// # Safety
            /// `request` NULL or live; `gmt` NULL or NUL-terminated.
            fn $unmodified_since(request: *mut $handle, gmt: opt_str) |r| {
                $crate::ffi::object_settings::set_object($crate::ffi::object_settings::ObjectSettings::object_mut(r), |o| {
                    o.if_unmodified_since = gmt
                        .map(|d| $crate::ffi::object_settings::http_date(d, "If-Unmodified-Since"))
                        .transpose()?;
                    Ok(())
                })
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Overrides a response header (`which`: an `oss_response_header_t`); NULL value removes it.
            ///
            /// # Safety
            /// `request` NULL or live; `value` NULL or NUL-terminated.
            fn $response_header(request: *mut $handle, which: u32, value: opt_str) |r| {
                $crate::ffi::object_settings::set_object($crate::ffi::object_settings::ObjectSettings::object_mut(r), |o| {
                    $crate::ffi::object_settings::set_response_header(o, which, value)
                })
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Server-side throttle per request in bit/s (245760..838860800; 0 = none).
            ///
            /// # Safety
            /// `request` NULL or live.
            fn $traffic_limit(request: *mut $handle, bits_per_sec: u64) |r| {
                let v = $crate::ffi::object_settings::traffic_limit(bits_per_sec)?;
                $crate::ffi::object_settings::ObjectSettings::object_mut(r).traffic_limit = v;
                Ok(())
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sends `x-oss-request-payer: requester` when true.
            ///
            /// # Safety
            /// `request` NULL or live.
            fn $request_payer(request: *mut $handle, requester: bool) |r| {
                $crate::ffi::object_settings::ObjectSettings::object_mut(r).request_payer = requester;
                Ok(())
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sets (or with NULL `cb`, clears) the progress callback; see `oss_progress_cb`.
            /// Replaces an abortable one set on the same request. `user_data_free`, if not NULL,
            /// is called once with `user_data` when it is no longer needed (request freed or
            /// callback replaced, and no call using it still running).
            ///
            /// # Safety
            /// `request` NULL or live; `cb` callable from library threads with `user_data`.
            fn $progress(
                request: *mut $handle,
                cb: ($crate::ffi::progress::oss_progress_cb),
                user_data: user_data[user_data_free],
            ) |r| {
                let p = $crate::ffi::progress::progress_fn(cb, user_data);
                $crate::ffi::object_settings::ObjectSettings::set_progress(r, p, None);
                Ok(())
            }
        }

        $crate::ffi::boundary::ffi_setter! {
            /// Sets (or with NULL `cb`, clears) a progress callback that may abort the call by
            /// returning nonzero; see `oss_progress_abortable_cb`. Replaces a plain one set on
            /// the same request. Used by blocking and asynchronous calls alike. `user_data_free`
            /// as for the plain callback.
            ///
            /// # Safety
            /// `request` NULL or live; `cb` callable from library threads with `user_data`.
            fn $progress_abortable(
                request: *mut $handle,
                cb: ($crate::ffi::progress::oss_progress_abortable_cb),
                user_data: user_data[user_data_free],
            ) |r| {
                let p = $crate::ffi::progress::abortable_fn(cb, user_data);
                $crate::ffi::object_settings::ObjectSettings::set_progress(r, None, p);
                Ok(())
            }
        }
    };
}

pub(crate) use object_settings;

#[cfg(test)]
mod tests {
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::ffi::download_request::{
        oss_download_request_set_progress, oss_download_request_set_progress_abortable,
    };
    use crate::ffi::error::oss_error_free;
    use crate::ffi::get_object_request::{
        oss_get_object_request_set_progress, oss_get_object_request_set_progress_abortable,
    };

    static FREES: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn count_free(_: *mut c_void) {
        FREES.fetch_add(1, Ordering::SeqCst);
    }
    unsafe extern "C" fn plain(_: usize, _: i64, _: i64, _: *mut c_void) {}
    unsafe extern "C" fn abortable(_: usize, _: i64, _: i64, _: *mut c_void) -> i32 {
        0
    }

    #[test]
    fn progress_setters_free_the_user_data_once_when_the_handle_is_null() {
        let free = Some(count_free as unsafe extern "C" fn(*mut c_void));
        let ud = std::ptr::null_mut();
        // SAFETY: NULL handles are refused before use; the callbacks and free function are
        // valid for any thread and any user data.
        let errors = unsafe {
            [
                oss_get_object_request_set_progress(std::ptr::null_mut(), Some(plain), ud, free),
                oss_get_object_request_set_progress_abortable(
                    std::ptr::null_mut(),
                    Some(abortable),
                    ud,
                    free,
                ),
                oss_download_request_set_progress(std::ptr::null_mut(), Some(plain), ud, free),
                oss_download_request_set_progress_abortable(
                    std::ptr::null_mut(),
                    Some(abortable),
                    ud,
                    free,
                ),
            ]
        };
        for e in errors {
            assert!(!e.is_null());
            // SAFETY: an error returned by this library, freed once.
            unsafe { oss_error_free(e) };
        }
        assert_eq!(FREES.load(Ordering::SeqCst), 4);
    }
}
