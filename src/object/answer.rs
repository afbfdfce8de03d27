//! The checks of an object answer's headers (strict decimal lengths, one valid CRC64 header,
//! Content-Range) and the object metadata read from them. Nothing here trusts a header that
//! does not parse exactly.

use reqwest::header::HeaderMap;

use super::ObjectMeta;
use crate::error::{curl, Error, ErrorKind, Result};
use crate::transport::header_str;

/// A decimal number exactly as HTTP writes one (RFC 9110 `1*DIGIT`, optional whitespace around
/// it): no sign, no list, no overflow.
pub(crate) fn decimal(v: &str) -> Option<u64> {
    let v = v.trim_matches(|c| c == ' ' || c == '\t');
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// A malformed answer: a transport error (`ClientError:200056`), never trusted.
pub(crate) fn malformed(host: &str, what: String) -> Error {
    Error::client(
        ErrorKind::Transport,
        curl::RECV_ERROR,
        format!("the answer from {host} is not usable: {what}"),
    )
    .with_host(host)
}

/// The answer's `Content-Length`: `None` when there is none; an error when there is one that is
/// not a valid number (`abc`, `-1`, `+7`, empty, too large) or several that disagree.
pub(crate) fn content_length(h: &HeaderMap, host: &str) -> Result<Option<u64>> {
    let mut found = None;
    for v in h.get_all("content-length") {
        let text = String::from_utf8_lossy(v.as_bytes());
        let n = v.to_str().ok().and_then(decimal).ok_or_else(|| {
            malformed(
                host,
                format!("invalid Content-Length '{}'", text.escape_debug()),
            )
        })?;
        if found.is_some_and(|f| f != n) {
            return Err(malformed(host, "conflicting Content-Length headers".into()));
        }
        found = Some(n);
    }
    Ok(found)
}

/// Refuses an `x-oss-hash-crc64ecma` that is present but not one decimal number (it would
/// silently turn the CRC64 check off).
pub(crate) fn check_crc_header(h: &HeaderMap, host: &str) -> Result<()> {
    let mut values = h.get_all("x-oss-hash-crc64ecma").iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(()),
        (Some(v), None) if v.to_str().ok().and_then(decimal).is_some() => Ok(()),
        (Some(v), _) => Err(malformed(
            host,
            format!(
                "invalid x-oss-hash-crc64ecma '{}'",
                String::from_utf8_lossy(v.as_bytes()).escape_debug()
            ),
        )),
    }
}

/// Object metadata from answer headers, leniently (also what the fuzzer exercises): a missing
/// or invalid Content-Length reads as 0 here. Answers are checked before this is trusted:
/// [`answer_meta`] (HEAD) and `get` refuse a missing or invalid length.
pub(crate) fn meta_from_headers(h: &HeaderMap) -> ObjectMeta {
    let get = |n: &str| header_str(h, n).unwrap_or_default();
    let mut user_meta = Vec::new();
    let mut headers = Vec::new();
    for (k, v) in h.iter() {
        let v = String::from_utf8_lossy(v.as_bytes()).to_string();
        if let Some(m) = k.as_str().strip_prefix("x-oss-meta-") {
            user_meta.push((m.to_string(), v.clone()));
        }
        headers.push((k.as_str().to_string(), v));
    }
    ObjectMeta {
        content_length: header_str(h, "content-length")
            .and_then(|v| decimal(&v))
            .unwrap_or(0),
        etag: get("etag"),
        last_modified: get("last-modified"),
        crc64: header_str(h, "x-oss-hash-crc64ecma").and_then(|v| v.trim().parse().ok()),
        version_id: header_str(h, "x-oss-version-id"),
        request_id: get("x-oss-request-id"),
        content_type: get("content-type"),
        object_type: get("x-oss-object-type"),
        user_meta,
        headers,
        verified: false,
    }
}

/// The metadata of a HEAD answer, which must state the object's size: no `Content-Length`, or an
/// invalid one, is an error (never a 0-byte object).
pub(crate) fn answer_meta(h: &HeaderMap, host: &str) -> Result<ObjectMeta> {
    let len = content_length(h, host)?.ok_or_else(|| {
        malformed(
            host,
            "it has no Content-Length, so the object's size is unknown".into(),
        )
    })?;
    check_crc_header(h, host)?;
    let mut meta = meta_from_headers(h);
    meta.content_length = len;
    Ok(meta)
}

/// `bytes a-b/total` -> (a, b, total).
pub(crate) fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.trim().split_once('-')?;
    let (a, b, total) = (decimal(a)?, decimal(b)?, decimal(total)?);
    (a <= b && b < total).then_some((a, b, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, 10)));
        assert_eq!(parse_content_range("bytes 5-4/10"), None);
        assert_eq!(parse_content_range("bytes 0-10/10"), None);
        assert_eq!(parse_content_range("bytes */10"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range("bytes +0-9/10"), None);
        assert_eq!(parse_content_range("bytes 0-9/*"), None);
        assert_eq!(parse_content_range("bytes 0-9/-10"), None);
        assert_eq!(parse_content_range("bytes 0 - 9 / 10"), Some((0, 9, 10)));
    }

    #[test]
    fn lengths_are_strict_decimals() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h, "h").unwrap(), None);
        for bad in [
            "abc",
            "-1",
            "+7",
            "",
            "7 7",
            "0x10",
            "99999999999999999999999",
        ] {
            h.insert("content-length", bad.parse().unwrap());
            assert!(content_length(&h, "h").is_err(), "{bad}");
            assert!(answer_meta(&h, "h").is_err(), "{bad}");
        }
        h.insert("content-length", "7".parse().unwrap());
        assert_eq!(content_length(&h, "h").unwrap(), Some(7));
        h.append("content-length", "8".parse().unwrap());
        assert!(content_length(&h, "h").is_err(), "conflicting values");
        let h = HeaderMap::new();
        assert!(answer_meta(&h, "h")
            .unwrap_err()
            .message
            .contains("no Content-Length"));
    }
}
