//! The HTTP transport: requests signed (V1/V4) and sent with retries and exponential backoff,
//! clock-skew correction, reqwest errors mapped to the SDK's codes. It knows HTTP, signing,
//! retries and errors, not objects (those are `crate::object`). Parts: `http_client` (the
//! reqwest client and TLS), `error_response` (failed answers), `body` (checked bodies),
//! `shared` (the state every request of a client shares: `Client` derefs to it), `failure`
//! (reqwest failures), `request` (request and answer types).

use std::time::Duration;

use crate::cancel::Cancel;
use crate::config::SignatureVersion;
use crate::error::{Error, Result};
use crate::log::{self, Level};
use crate::sign::{self, SignableRequest};

mod body;
mod env_proxy;
pub(crate) mod error_response;
mod failure;
mod http_client;
mod request;
pub mod shared;
pub mod spread;

pub(crate) use body::{read_capped, Body};
use error_response::{read_error, server_time};
use failure::map_reqwest_error;
pub(crate) use http_client::build_http_client;
pub(crate) use request::{header_str, parse_object_url, HttpRequest, Response};
pub use shared::Transport;

/// Sends `req`, retrying per the configuration; returns the first answer with status < 300.
pub(crate) async fn send(
    client: &Transport,
    req: &HttpRequest,
    cancel: &Cancel,
) -> Result<Response> {
    client.check_process()?;
    if req.url.is_none() {
        client.check_signing()?;
    }
    let cancel = cancel.clone().with(client.requests_token());
    let cfg = client.config();
    let mut attempt = 0u32;
    let started = std::time::Instant::now();
    loop {
        cancel.check()?;
        let result = cancel.run(send_once(client, req)).await;
        let err = match result {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        let tries = attempt + 1;
        let give_up = move |err: Error| Err(describe_failure(err, req, tries, started.elapsed()));
        // Clock skew: the server's time is believed only within MAX_CLOCK_SKEW of ours.
        let skew_corrected = err.code == "RequestTimeTooSkewed"
            && cfg.enable_date_skew_adjustment
            && correct_clock(client, &err);
        if !err.is_retryable() || attempt >= cfg.max_retries || cancel.is_cancelled() {
            return give_up(err);
        }
        attempt += 1;
        let mut delay = cfg.retry_delay(attempt);
        if err.code == "RequestTimeTooSkewed" {
            // Retried at once with the corrected clock, or not at all.
            if !skew_corrected {
                return give_up(err);
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

/// The error a request ends with, saying what it was for: the bucket and key (as fields; in the
/// message of a server's answer, whose own message names neither) and, when it was sent more
/// than once, how many times over how long.
fn describe_failure(mut err: Error, req: &HttpRequest, attempts: u32, spent: Duration) -> Error {
    let mut notes = Vec::new();
    if req.url.is_none() && !req.bucket.is_empty() {
        err.bucket = req.bucket.clone();
        err.key = req.key.clone();
        if err.kind == crate::ErrorKind::Server {
            notes.push(if req.key.is_empty() {
                format!("bucket '{}'", req.bucket.escape_debug())
            } else {
                format!(
                    "bucket '{}', key '{}'",
                    req.bucket.escape_debug(),
                    req.key.escape_debug()
                )
            });
        }
    }
    if attempts > 1 {
        notes.push(format!(
            "{attempts} attempts over {:.1} s",
            spent.as_secs_f64()
        ));
    }
    if !notes.is_empty() {
        err.message = format!("{} ({})", err.message, notes.join("; "));
    }
    err
}

async fn send_once(client: &Transport, req: &HttpRequest) -> Result<Response> {
    let inner = client;
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
    let creds = inner.credentials.credentials_async().await?;
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
        url.set_query(Some(&crate::endpoint::query_string(&req.query)));
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
fn correct_clock(client: &Transport, err: &Error) -> bool {
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
                    shared::MAX_CLOCK_SKEW_SECS
                )
            });
            false
        }
    }
}
