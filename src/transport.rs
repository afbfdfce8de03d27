//! HTTP transport over reqwest: request building and signing, retries with exponential backoff,
//! clock-skew correction, XML error parsing, and the checked body reader.
//!
//! TLS: rustls (pure Rust, no system OpenSSL to match at build or run time; system roots via
//! rustls-native-certs, plus `caFile` / `caPath` bundles).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::sync::OwnedSemaphorePermit;

use crate::cancel::Cancel;
use crate::client::Client;
use crate::config::{Config, SignatureVersion};
use crate::error::{curl, Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::object::{ByteRange, ObjectBody, ObjectMeta, ObjectRequest};
use crate::rate_limit::RateLimiter;
use crate::sign::{self, SignableRequest};

/// Largest error body read into memory.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Builds the reqwest client for a configuration.
pub(crate) fn build_http_client(config: &Config) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.request_timeout)
        .pool_max_idle_per_host(config.max_connections as usize)
        .pool_idle_timeout(Duration::from_secs(50))
        .tcp_nodelay(true)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(!config.verify_tls);
    if config.proxy.host.is_empty() {
        b = b.no_proxy();
    } else {
        let scheme = if config.proxy.scheme.is_empty() {
            "http"
        } else {
            config.proxy.scheme.as_str()
        };
        let port = if config.proxy.port == 0 {
            String::new()
        } else {
            format!(":{}", config.proxy.port)
        };
        let url = format!("{scheme}://{}{port}", config.proxy.host);
        let mut proxy = reqwest::Proxy::all(&url)
            .map_err(|e| Error::validate(format!("invalid proxy '{url}': {e}")))?;
        if !config.proxy.username.is_empty() {
            proxy = proxy.basic_auth(&config.proxy.username, &config.proxy.password);
        }
        b = b.proxy(proxy);
    }
    for cert in load_ca_certificates(config)? {
        b = b.add_root_certificate(cert);
    }
    b.build().map_err(|e| {
        Error::new(
            ErrorKind::InvalidArgument,
            "ValidateError",
            format!("cannot build the HTTP client: {}", error_chain(&e)),
        )
    })
}

fn load_ca_certificates(config: &Config) -> Result<Vec<reqwest::Certificate>> {
    let mut out = Vec::new();
    let mut load = |path: &std::path::Path, required: bool| -> Result<()> {
        let pem = match std::fs::read(path) {
            Ok(p) => p,
            Err(e) if required => return Err(Error::io("cannot read the CA file", path, &e)),
            Err(_) => return Ok(()),
        };
        match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certs) if !certs.is_empty() => out.extend(certs),
            _ if required => {
                return Err(Error::validate(format!(
                    "the CA file '{}' holds no PEM certificate",
                    path.display()
                )))
            }
            _ => {}
        }
        Ok(())
    };
    if !config.ca_file.is_empty() {
        load(std::path::Path::new(&config.ca_file), true)?;
    }
    if !config.ca_path.is_empty() {
        let dir = std::path::Path::new(&config.ca_path);
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io("cannot read the CA directory", dir, &e))?;
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                load(&entry.path(), false)?;
            }
        }
    }
    Ok(out)
}

/// The text of an error and its sources.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// Maps a reqwest failure to `ClientError:<200000 + curl code>`.
fn map_reqwest_error(e: &reqwest::Error, host: &str) -> Error {
    let text = error_chain(e);
    let lower = text.to_ascii_lowercase();
    let (kind, code) = if e.is_timeout() || lower.contains("timed out") {
        (ErrorKind::Timeout, curl::OPERATION_TIMEDOUT)
    } else if lower.contains("certificate") || lower.contains("unknownissuer") {
        (ErrorKind::Transport, curl::PEER_FAILED_VERIFICATION)
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        (ErrorKind::Transport, curl::COULDNT_RESOLVE_HOST)
    } else if e.is_connect() {
        (ErrorKind::Transport, curl::COULDNT_CONNECT)
    } else if e.is_request() && !e.is_body() {
        (ErrorKind::Transport, curl::SEND_ERROR)
    } else {
        (ErrorKind::Transport, curl::RECV_ERROR)
    };
    Error::client(kind, code, format!("request to {host} failed: {text}")).with_host(host)
}

/// An HTTP request before signing.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub method: reqwest::Method,
    pub bucket: String,
    pub key: String,
    pub query: Vec<(String, Option<String>)>,
    pub headers: Vec<(String, String)>,
    /// A complete URL sent as it is, unsigned (`ObjectRequest::url`).
    pub url: Option<String>,
}

/// A successful answer (2xx, or 304 handled by the caller) holding its connection permit.
pub(crate) struct Response {
    pub resp: reqwest::Response,
    pub host: String,
    pub permit: OwnedSemaphorePermit,
}

/// Sends `req`, retrying per the configuration; returns the first answer with status < 300.
pub(crate) async fn send(client: &Client, req: &HttpRequest, cancel: &Cancel) -> Result<Response> {
    client.check_process()?;
    if req.url.is_none() {
        client.check_signing()?;
    }
    let cancel = cancel.clone().with(client.requests_token());
    let cfg = client.config();
    let mut attempt = 0u32;
    loop {
        cancel.check()?;
        let result = cancel.run(send_once(client, req)).await;
        let err = match result {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        // Clock skew: the server's time is believed only within MAX_CLOCK_SKEW of ours.
        let skew_corrected = err.code == "RequestTimeTooSkewed"
            && cfg.enable_date_skew_adjustment
            && correct_clock(client, &err);
        if !err.is_retryable() || attempt >= cfg.max_retries || cancel.is_cancelled() {
            return Err(err);
        }
        attempt += 1;
        let mut delay = cfg.retry_delay(attempt);
        if err.code == "RequestTimeTooSkewed" {
            // Retried at once with the corrected clock, or not at all.
            if !skew_corrected {
                return Err(err);
            }
            delay = Duration::ZERO;
        }
        log::log(Level::Warn, || {
            format!(
                "{} {}/{}: {err}; retry {attempt}/{} in {} ms",
                req.method,
                req.bucket,
                req.key,
                cfg.max_retries,
                delay.as_millis()
            )
        });
        cancel.sleep(delay).await?;
    }
}

async fn send_once(client: &Client, req: &HttpRequest) -> Result<Response> {
    let inner = &client.inner;
    let permit = inner
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::cancelled("the client is closed"))?;
    if let Some(url) = &req.url {
        let (url, host) = parse_object_url(url)?;
        let mut rb = inner.http.request(req.method.clone(), url);
        // x-oss-* headers are part of both signatures: adding any would break the URL's.
        for (k, v) in req
            .headers
            .iter()
            .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("x-oss-"))
        {
            rb = rb.header(k.as_str(), v.as_str());
        }
        log::log(Level::Debug, || format!("{} <url> -> {host}", req.method));
        let resp = rb.send().await.map_err(|e| map_reqwest_error(&e, &host))?;
        if resp.status().as_u16() < 300 {
            return Ok(Response { resp, host, permit });
        }
        return Err(read_error(resp, &host, &req.method, inner.config.request_timeout).await);
    }
    let creds = inner.credentials.credentials()?;
    creds.validate()?;
    let (url, host) = inner
        .endpoint
        .object_url(&req.bucket, &req.key, client.addressing());
    let mut signable = SignableRequest {
        method: req.method.as_str().to_string(),
        bucket: req.bucket.clone(),
        key: req.key.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
    };
    let now = client.now();
    match inner.config.signature_version {
        SignatureVersion::V1 => sign::v1::sign(&mut signable, &creds, now),
        SignatureVersion::V4 => sign::v4::sign(&mut signable, &creds, &client.region(), &[], now),
    }
    let mut url = reqwest::Url::parse(&url)
        .map_err(|e| Error::validate(format!("cannot build a URL for the object: {e}")))?;
    if !req.query.is_empty() {
        let q: Vec<String> = req
            .query
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!(
                    "{}={}",
                    crate::endpoint::encode_unreserved(k),
                    crate::endpoint::encode_unreserved(v)
                ),
                None => crate::endpoint::encode_unreserved(k),
            })
            .collect();
        url.set_query(Some(&q.join("&")));
    }
    let mut rb = inner.http.request(req.method.clone(), url);
    for (k, v) in &signable.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    log::log(Level::Debug, || {
        format!("{} {}/{} -> {host}", req.method, req.bucket, req.key)
    });
    let resp = rb.send().await.map_err(|e| map_reqwest_error(&e, &host))?;
    let status = resp.status().as_u16();
    if status < 300 {
        return Ok(Response { resp, host, permit });
    }
    Err(read_error(resp, &host, &req.method, inner.config.request_timeout).await)
}

/// Learns the clock offset from a `RequestTimeTooSkewed` answer; false (offset unchanged, the
/// error to be returned as it is) when its `ServerTime` is missing, unparseable or absurd.
fn correct_clock(client: &Client, err: &Error) -> bool {
    let Some(t) = server_time(err) else {
        log::log(Level::Warn, || {
            "RequestTimeTooSkewed without a usable ServerTime; the clock offset is unchanged"
                .to_string()
        });
        return false;
    };
    match client.set_clock_offset(t) {
        Ok(()) => true,
        Err(off) => {
            log::log(Level::Warn, || {
                format!(
                    "the server's time is {off} s away from the local clock (more than the {} s accepted); \
                     the clock offset is unchanged",
                    crate::client::MAX_CLOCK_SKEW_SECS
                )
            });
            false
        }
    }
}

fn server_time(err: &Error) -> Option<std::time::SystemTime> {
    // Stashed by `read_error` in `ec`-independent form: "ServerTime=<value>" in message tail.
    let marker = "ServerTime=";
    let idx = err.message.rfind(marker)?;
    let v = err.message[idx + marker.len()..].trim_end_matches(')');
    crate::date::parse_time(v)
}

/// Builds the error for a failed answer: XML body, or `x-oss-err` for bodiless answers.
async fn read_error(
    mut resp: reqwest::Response,
    host: &str,
    method: &reqwest::Method,
    timeout: Duration,
) -> Error {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let header_request_id = header_str(&headers, "x-oss-request-id").unwrap_or_default();
    let mut body = Vec::new();
    let mut cut_short = false;
    if method != reqwest::Method::HEAD {
        // Bounded in size and in total time (not only between bytes): a body trickled one byte
        // at a time must not keep the attempt alive for minutes.
        let read = async {
            while let Ok(Some(c)) = resp.chunk().await {
                body.extend_from_slice(&c);
                if body.len() >= MAX_ERROR_BODY {
                    body.truncate(MAX_ERROR_BODY);
                    break;
                }
            }
        };
        cut_short = tokio::time::timeout(timeout, read).await.is_err();
    }
    if body.is_empty() {
        if let Some(b64) = header_str(&headers, "x-oss-err") {
            if let Ok(xml) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                body = xml;
            }
        }
    }
    let mut err = parse_error_body(status, &body);
    if cut_short {
        err.message.push_str(&format!(
            " (the error body was not complete after {} ms; read no further)",
            timeout.as_millis()
        ));
    }
    if err.request_id.is_empty() {
        err.request_id = header_request_id;
    }
    if err.ec.is_empty() {
        err.ec = header_str(&headers, "x-oss-ec").unwrap_or_default();
    }
    err.host = host.to_string();
    err
}

/// Turns an error answer into an `Error` (exposed for tests and fuzzing).
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    let fields = parse_error_xml(&text);
    let kind = ErrorKind::Server;
    let mut err = match fields.as_ref().and_then(|f| f.get("Code")) {
        Some(code) if !code.is_empty() => {
            let f = fields.as_ref().expect("fields exist");
            let mut message = f.get("Message").cloned().unwrap_or_default();
            if let Some(t) = f.get("ServerTime") {
                message.push_str(&format!(" (ServerTime={t})"));
            }
            let mut e = Error::new(kind, code.clone(), message);
            e.request_id = f.get("RequestId").cloned().unwrap_or_default();
            e.ec = f.get("EC").cloned().unwrap_or_default();
            e
        }
        _ => {
            let message = if text.trim().is_empty() {
                format!("HTTP {status} with no error body")
            } else {
                let t: String = text.chars().take(512).collect();
                format!("HTTP {status} with an unparseable error body: {t}")
            };
            Error::new(kind, format!("ServerError:{status}"), message)
        }
    };
    err.http_status = status;
    err
}

/// The child elements of `<Error>` as name -> text, or None when the body is no such XML.
pub(crate) fn parse_error_xml(text: &str) -> Option<std::collections::HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut fields = std::collections::HashMap::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut current: Option<String> = None;
    let mut value = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                if depth == 1 {
                    if name != "Error" {
                        return None;
                    }
                    saw_root = true;
                } else if depth == 2 {
                    current = Some(name);
                    value.clear();
                }
            }
            Ok(Event::Text(t)) => {
                if depth == 2 {
                    value.push_str(&t.unescape().ok()?);
                }
            }
            Ok(Event::CData(t)) => {
                if depth == 2 {
                    value.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(_)) => {
                if depth == 2 {
                    if let Some(n) = current.take() {
                        fields.insert(n, value.trim().to_string());
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Empty(e)) => {
                if depth == 1 {
                    let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                    fields.insert(name, String::new());
                } else if depth == 0 {
                    return None;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    saw_root.then_some(fields)
}

pub(crate) fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_string())
}

/// A decimal number exactly as HTTP writes one (RFC 9110 `1*DIGIT`, optional whitespace around
/// it): no sign, no list, no overflow.
fn decimal(v: &str) -> Option<u64> {
    let v = v.trim_matches(|c| c == ' ' || c == '\t');
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// A malformed answer: a transport error (`ClientError:200056`), never trusted.
fn malformed(host: &str, what: String) -> Error {
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
fn check_crc_header(h: &HeaderMap, host: &str) -> Result<()> {
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
    }
}

/// The metadata of a HEAD answer, which must state the object's size: no `Content-Length`, or an
/// invalid one, is an error (never a 0-byte object).
fn answer_meta(h: &HeaderMap, host: &str) -> Result<ObjectMeta> {
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

/// An http(s) URL with a host, and its `host[:port]` (for errors).
pub(crate) fn parse_object_url(url: &str) -> Result<(reqwest::Url, String)> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::validate(format!("the URL is invalid: {e}")))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(Error::validate(format!(
            "the URL's scheme must be http or https, not {}",
            parsed.scheme()
        )));
    }
    let Some(h) = parsed.host_str() else {
        return Err(Error::validate("the URL has no host"));
    };
    let host = match parsed.port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_string(),
    };
    Ok((parsed, host))
}

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
            if !(245_760..=838_860_800).contains(&limit) {
                return Err(Error::validate(format!(
                    "the traffic limit must be between 245760 and 838860800 bit/s, got {limit}"
                )));
            }
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
        if v.bytes().any(|b| b < 0x20 || b == 0x7f) {
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
    let r = send(client, &http, cancel).await?;
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
    }
    let r = match send(client, &http, cancel).await {
        Err(e) if pin_etag.is_some() && e.http_status == 412 => {
            return Err(e.reclassify(
                ErrorKind::ObjectChanged,
                "ObjectChanged",
                format!(
                    "the object changed on the server while it was being read (its ETag is no longer {})",
                    pin_etag.unwrap_or_default()
                ),
            ))
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
    let (offset, len) = match range {
        Some(want) => {
            if status != 206 {
                return Err(bad(format!(
                    "asked for bytes {}-{} but the server answered {status} instead of 206",
                    want.first, want.last
                )));
            }
            let cr = header_str(&headers, "content-range").unwrap_or_default();
            let (first, last, total) = parse_content_range(&cr)
                .ok_or_else(|| bad(format!("invalid Content-Range '{cr}'")))?;
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
            meta.content_length = total;
            (first, len)
        }
        None => {
            if status != 200 {
                return Err(bad(format!(
                    "expected status 200 for a whole-object GET, got {status}"
                )));
            }
            let len = content_length.ok_or_else(|| {
                bad("the answer has no Content-Length; cannot verify the length".to_string())
            })?;
            meta.content_length = len;
            (0, len)
        }
    };
    if let (Some(pin), false) = (pin_etag, meta.etag.is_empty()) {
        if meta.etag != pin {
            return Err(Error::new(
                ErrorKind::ObjectChanged,
                "ObjectChanged",
                format!(
                    "the object changed on the server (ETag {pin} became {})",
                    meta.etag
                ),
            )
            .with_request_id(meta.request_id.clone())
            .with_host(r.host.clone()));
        }
    }
    let cancel = cancel.clone().with(client.requests_token());
    Ok(ObjectBody {
        meta,
        offset,
        len,
        inner: Body {
            resp: r.resp,
            remaining: len,
            timeout: client.config().request_timeout,
            rate: client.inner.rate.clone(),
            cancel,
            host: r.host,
            _permit: r.permit,
        },
    })
}

/// `bytes a-b/total` -> (a, b, total).
pub(crate) fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.trim().split_once('-')?;
    let (a, b, total) = (decimal(a)?, decimal(b)?, decimal(total)?);
    (a <= b && b < total).then_some((a, b, total))
}

/// A response body that must deliver exactly `remaining` more bytes.
pub(crate) struct Body {
    resp: reqwest::Response,
    remaining: u64,
    timeout: Duration,
    rate: Option<RateLimiter>,
    cancel: Cancel,
    host: String,
    _permit: OwnedSemaphorePermit,
}

impl Body {
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>> {
        // Disjoint borrows: the body is read while the host is only looked at on failure
        // (no per-chunk clone on the hot path).
        let (resp, host, timeout) = (&mut self.resp, &self.host, self.timeout);
        let next = self
            .cancel
            .run(async {
                match tokio::time::timeout(timeout, resp.chunk()).await {
                    Err(_) => Err(Error::client(
                        ErrorKind::Timeout,
                        curl::OPERATION_TIMEDOUT,
                        format!("no data from {host} for {} ms", timeout.as_millis()),
                    )
                    .with_host(host.as_str())),
                    Ok(Err(e)) => Err(map_reqwest_error(&e, host)),
                    Ok(Ok(c)) => Ok(c),
                }
            })
            .await?;
        match next {
            None if self.remaining > 0 => Err(Error::client(
                ErrorKind::Transport,
                curl::PARTIAL_FILE,
                format!(
                    "the connection to {} closed with {} bytes of the body missing",
                    self.host, self.remaining
                ),
            )
            .with_host(self.host.clone())),
            None => Ok(None),
            Some(c) => {
                if c.len() as u64 > self.remaining {
                    return Err(Error::client(
                        ErrorKind::Transport,
                        curl::RECV_ERROR,
                        format!("{} sent more bytes than its Content-Length", self.host),
                    )
                    .with_host(self.host.clone()));
                }
                self.remaining -= c.len() as u64;
                if let Some(rate) = &self.rate {
                    self.cancel
                        .run(async {
                            rate.acquire(c.len() as u64).await;
                            Ok(())
                        })
                        .await?;
                }
                Ok(Some(c))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_xml() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The specified key does not exist.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Key>a&amp;b</Key>
  <EC>0026-00000001</EC>
</Error>"#;
        let e = parse_error_body(404, body);
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.http_status, 404);
        assert_eq!(e.request_id, "5C3D9175B6FC201293AD****");
        assert_eq!(e.ec, "0026-00000001");
        assert_eq!(e.kind, ErrorKind::Server);
    }

    #[test]
    fn unparseable_bodies_keep_status_and_text() {
        let e = parse_error_body(502, b"<html>bad gateway</html>");
        assert_eq!(e.code, "ServerError:502");
        assert!(e.message.contains("bad gateway"));
        let e = parse_error_body(503, b"");
        assert_eq!(e.code, "ServerError:503");
        assert!(e.is_retryable());
        assert!(!parse_error_body(404, b"").is_retryable());
    }

    #[test]
    fn server_time_is_parsed_for_skew() {
        let body = b"<Error><Code>RequestTimeTooSkewed</Code><Message>skewed</Message><ServerTime>2023-12-16T16:20:57.000Z</ServerTime></Error>";
        let e = parse_error_body(403, body);
        assert!(e.is_retryable());
        let t = server_time(&e).unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            1702743657
        );
    }

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
