//! Object reads on the wire: the HTTP request of a HEAD or GET of an object (version, response
//! overrides, traffic limit, payer, the user's conditions or the ETag pin), sent through the
//! transport, and its answer checked (status, Content-Range, length, ETag) before any byte is
//! handed out.

use super::answer::{
    answer_meta, check_crc_header, content_length, meta_from_headers, parse_content_range,
};
use super::{ByteRange, ObjectBody, ObjectMeta, ObjectRequest};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{curl, Error, ErrorKind, Result};
use crate::transport::{header_str, HttpRequest};

/// Query and headers common to reads of `req`; conditions only when not pinned.
pub(crate) fn read_request(
    method: reqwest::Method,
    req: &ObjectRequest,
    object_meta: bool,
    pin_etag: Option<&str>,
) -> Result<HttpRequest> {
    if req.url.is_none() {
        crate::endpoint::validate_bucket(&req.bucket)?;
        crate::endpoint::validate_key(&req.key)?;
    }
    req.check_conditions()?;
    let mut query = Vec::new();
    let mut headers = Vec::new();
    if object_meta {
        query.push(("objectMeta".to_string(), None));
    }
    if let Some(v) = &req.version_id {
        query.push(("versionId".to_string(), Some(v.clone())));
    }
    if method == reqwest::Method::GET {
        for (h, v) in &req.response_headers {
            query.push((h.query_name().to_string(), Some(v.clone())));
        }
        if let Some(limit) = req.traffic_limit {
            super::check_traffic_limit(limit)?;
            headers.push(("x-oss-traffic-limit".to_string(), limit.to_string()));
        }
    }
    if req.request_payer {
        headers.push(("x-oss-request-payer".to_string(), "requester".to_string()));
    }
    match pin_etag {
        Some(etag) => headers.push(("If-Match".to_string(), etag.to_string())),
        None => {
            if !req.if_match.is_empty() {
                headers.push(("If-Match".to_string(), req.if_match.join(", ")));
            }
            if !req.if_none_match.is_empty() {
                headers.push(("If-None-Match".to_string(), req.if_none_match.join(", ")));
            }
            if let Some(d) = &req.if_modified_since {
                headers.push(("If-Modified-Since".to_string(), d.clone()));
            }
            if let Some(d) = &req.if_unmodified_since {
                headers.push(("If-Unmodified-Since".to_string(), d.clone()));
            }
        }
    }
    for (k, v) in &headers {
        if crate::header_value::has_control_chars(v) {
            return Err(Error::validate(format!(
                "the value of {k} contains control characters"
            )));
        }
    }
    if req.url.is_some() {
        // The URL carries its own (signed) query.
        query.clear();
    }
    Ok(HttpRequest {
        method,
        bucket: req.bucket.clone(),
        key: req.key.clone(),
        query,
        headers,
        url: req.url.clone(),
    })
}

/// HEAD /key (or ?objectMeta).
pub(crate) async fn head(
    client: &Client,
    req: &ObjectRequest,
    object_meta: bool,
    cancel: &Cancel,
) -> Result<ObjectMeta> {
    let http = read_request(reqwest::Method::HEAD, req, object_meta, None)?;
    let r = client.send(&http, cancel).await?;
    answer_meta(r.resp.headers(), &r.host).map_err(|e| {
        let id = header_str(r.resp.headers(), "x-oss-request-id").unwrap_or_default();
        e.with_request_id(id)
    })
}

/// GET /key (whole, or a range with `x-oss-range-behavior: standard`), answer checked.
pub(crate) async fn get(
    client: &Client,
    req: &ObjectRequest,
    range: Option<ByteRange>,
    pin_etag: Option<&str>,
    cancel: &Cancel,
) -> Result<ObjectBody> {
    let mut http = read_request(reqwest::Method::GET, req, false, pin_etag)?;
    if let Some(r) = range {
        add_range(&mut http, r)?;
    }
    let r = match client.send(&http, cancel).await {
        Err(e) if pin_etag.is_some() && e.http_status == 412 => {
            return Err(e.reclassify(Error::object_changed(format!(
                "the object changed on the server while it was being read (its ETag is no longer {})",
                pin_etag.unwrap_or_default()
            ))))
        }
        other => other?,
    };
    let status = r.resp.status().as_u16();
    let headers = r.resp.headers().clone();
    let mut meta = meta_from_headers(&headers);
    let bad = |msg: String| {
        Error::client(ErrorKind::Transport, curl::RECV_ERROR, msg)
            .with_host(r.host.clone())
            .with_request_id(meta.request_id.clone())
    };
    let content_length = content_length(&headers, &r.host)
        .and_then(|cl| check_crc_header(&headers, &r.host).map(|()| cl))
        .map_err(|e| e.with_request_id(meta.request_id.clone()))?;
    let (offset, len, total) = match range {
        Some(want) => ranged_span(want, status, &headers, content_length, &bad)?,
        None => whole_span(status, content_length, &bad)?,
    };
    if let Some(pin) = pin_etag {
        check_pin(&meta, pin, &bad).map_err(|e| e.with_host(r.host.clone()))?;
    }
    meta.content_length = total;
    Ok(ObjectBody {
        meta,
        offset,
        len,
        inner: client.body(r, len, cancel),
    })
}

/// Asks for `r` only, with `x-oss-range-behavior: standard` (206 and an exact Content-Range).
fn add_range(http: &mut HttpRequest, r: ByteRange) -> Result<()> {
    if r.last < r.first {
        return Err(Error::validate(format!(
            "invalid range {}-{}",
            r.first, r.last
        )));
    }
    let spec = if r.last == u64::MAX {
        format!("bytes={}-", r.first)
    } else {
        format!("bytes={}-{}", r.first, r.last)
    };
    http.headers.push(("Range".to_string(), spec));
    http.headers
        .push(("x-oss-range-behavior".to_string(), "standard".to_string()));
    Ok(())
}

/// The bytes of a ranged answer: `(offset, len, object size)`, when it is a 206 for exactly
/// `want` (or `want` shortened at the object's end) and its Content-Length agrees.
fn ranged_span(
    want: ByteRange,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    content_length: Option<u64>,
    bad: &dyn Fn(String) -> Error,
) -> Result<(u64, u64, u64)> {
    if status != 206 {
        return Err(bad(format!(
            "asked for bytes {}-{} but the server answered {status} instead of 206",
            want.first, want.last
        )));
    }
    let cr = header_str(headers, "content-range").unwrap_or_default();
    let (first, last, total) =
        parse_content_range(&cr).ok_or_else(|| bad(format!("invalid Content-Range '{cr}'")))?;
    if first != want.first || last > want.last || last < first {
        return Err(bad(format!(
            "asked for bytes {}-{} but the server sent Content-Range '{cr}'",
            want.first, want.last
        )));
    }
    if last != want.last && last + 1 != total {
        return Err(bad(format!(
            "the server shortened the range {}-{} to '{cr}' without reaching the object's end",
            want.first, want.last
        )));
    }
    let len = last - first + 1;
    if let Some(cl) = content_length {
        if cl != len {
            return Err(bad(format!(
                "Content-Length {cl} does not match Content-Range '{cr}'"
            )));
        }
    }
    Ok((first, len, total))
}

/// The bytes of a whole-object answer: `(0, len, len)`, when it is a 200 with a Content-Length.
fn whole_span(
    status: u16,
    content_length: Option<u64>,
    bad: &dyn Fn(String) -> Error,
) -> Result<(u64, u64, u64)> {
    if status != 200 {
        return Err(bad(format!(
            "expected status 200 for a whole-object GET, got {status}"
        )));
    }
    let len = content_length.ok_or_else(|| {
        bad("the answer has no Content-Length; cannot verify the length".to_string())
    })?;
    Ok((0, len, len))
}

/// The answer to a request pinned to ETag `pin` is of that version.
fn check_pin(meta: &ObjectMeta, pin: &str, bad: &dyn Fn(String) -> Error) -> Result<()> {
    if meta.etag.is_empty() {
        // An answer that does not say its version cannot be checked against the pin (a server
        // or proxy that ignores If-Match and drops the header would mix versions).
        return Err(bad(format!(
            "the answer to a request pinned to ETag {pin} has no ETag; its version cannot be \
             checked"
        )));
    }
    if meta.etag != pin {
        return Err(Error::object_changed(format!(
            "the object changed on the server (ETag {pin} became {})",
            meta.etag
        ))
        .with_request_id(meta.request_id.clone()));
    }
    Ok(())
}
