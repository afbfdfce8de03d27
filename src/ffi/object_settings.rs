//! The GetObject settings both request handles share, validated before they are stored: the
//! `response-*` overrides, version id, ETag and date conditions, traffic limit.

use std::ffi::c_char;

use crate::error::{Error, Result};
use crate::ffi::boundary::arg_str;
use crate::object::{ObjectRequest, ResponseHeader};

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
