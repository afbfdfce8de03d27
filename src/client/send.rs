//! A client's requests on the wire: checked (process, signing), signed (V1/V4) with the client's
//! credentials, region and corrected clock, sent through its transport and retried per its
//! configuration with exponential backoff; a `RequestTimeTooSkewed` answer corrects the clock.

use std::time::{Duration, Instant};

use super::{Client, MAX_CLOCK_SKEW_SECS};
use crate::cancel::Cancel;
use crate::config::SignatureVersion;
use crate::error::{Error, Result};
use crate::log::{self, Level};
use crate::metrics::Attempt;
use crate::sign::{self, SignableRequest};
use crate::transport::{parse_object_url, server_time, Body, HttpRequest, Response};

impl Client {
    /// Sends `req`, retrying per the configuration; returns the first answer with status < 300.
    pub(crate) async fn send(&self, req: &HttpRequest, cancel: &Cancel) -> Result<Response> {
        self.check_process()?;
        if req.url.is_none() {
            self.check_signing()?;
        }
        let cancel = self.switched(cancel);
        let cfg = self.config();
        let mut attempt = 0u32;
        let started = std::time::Instant::now();
        let mut retry_wait = Duration::ZERO;
        loop {
            cancel.check()?;
            // Only with a callback: no allocation nor clock read otherwise.
            let mut metrics = cfg.request_metrics.as_ref().map(|cb| {
                // A read's requests count their attempts on (a resumed body is the next one).
                let n = cancel.next_attempt().unwrap_or(attempt + 1);
                let mut m = Attempt::start(
                    cb,
                    [Some(self.stats()), cancel.stats()],
                    &req.metrics_view(),
                    n,
                    retry_wait,
                );
                m.set_memory_wait(cancel.take_memory_wait());
                if let Some(p) = cancel.part() {
                    m.set_part(p);
                }
                m
            });
            let result = cancel.run(self.send_once(req, &mut metrics)).await;
            let err = match result {
                Ok(mut r) => {
                    r.metrics = metrics;
                    return Ok(r);
                }
                Err(e) => {
                    if let Some(m) = &mut metrics {
                        m.failed(&e);
                    }
                    drop(metrics);
                    e
                }
            };
            let tries = attempt + 1;
            let give_up =
                move |err: Error| Err(describe_failure(err, req, tries, started.elapsed()));
            // Clock skew: the server's time is believed only within MAX_CLOCK_SKEW of ours.
            let skew_corrected = err.code == "RequestTimeTooSkewed"
                && cfg.enable_date_skew_adjustment
                && self.correct_clock(&err);
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
            retry_wait = delay;
            cancel.sleep(delay).await?;
        }
    }

    /// One attempt: a URL request as it is (unsigned, without `x-oss-*` headers), any other
    /// signed for the client's endpoint.
    async fn send_once(
        &self,
        req: &HttpRequest,
        metrics: &mut Option<Box<Attempt>>,
    ) -> Result<Response> {
        let transport = self.transport();
        let clock = metrics.as_ref().map(|_| Instant::now());
        let permit = transport.permit().await?;
        let clock = clock.map(|t| {
            let now = Instant::now();
            if let Some(m) = metrics.as_mut() {
                m.set_permit_wait(now - t);
            }
            now
        });
        if let Some(url) = &req.url {
            let (url, host) = parse_object_url(url)?;
            // x-oss-* headers are part of both signatures: adding any would break the URL's.
            let headers = req
                .headers
                .iter()
                .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("x-oss-"));
            log::log(Level::Debug, || format!("{} <url> -> {host}", req.method));
            return transport
                .send(permit, &req.method, url, host, headers, metrics)
                .await;
        }
        let creds = self.credentials().credentials_async().await?;
        creds.validate()?;
        let (url, host) = self
            .endpoint()
            .object_url(&req.bucket, &req.key, self.addressing());
        let mut signable = SignableRequest {
            method: req.method.as_str().to_string(),
            bucket: req.bucket.clone(),
            key: req.key.clone(),
            query: req.query.clone(),
            headers: req.headers.clone(),
        };
        let now = self.now();
        match self.config().signature_version {
            SignatureVersion::V1 => sign::v1::sign(&mut signable, &creds, now),
            SignatureVersion::V4 => sign::v4::sign_cached(
                &mut signable,
                &creds,
                &self.region(),
                &[],
                now,
                self.v4_keys(),
            ),
        }
        let mut url = reqwest::Url::parse(&url)
            .map_err(|e| Error::validate(format!("cannot build a URL for the object: {e}")))?;
        if !req.query.is_empty() {
            url.set_query(Some(&crate::endpoint::query_string(&req.query)));
        }
        log::log(Level::Debug, || {
            format!("{} {}/{} -> {host}", req.method, req.bucket, req.key)
        });
        if let (Some(t), Some(m)) = (clock, metrics.as_mut()) {
            m.set_sign(t.elapsed());
        }
        transport
            .send(
                permit,
                &req.method,
                url,
                host,
                signable.headers.iter(),
                metrics,
            )
            .await
    }

    /// The body of answer `r`, which must deliver exactly `len` bytes, read under the client's
    /// idle timeout, rate limit and enable/disable switch.
    pub(crate) fn body(&self, r: Response, len: u64, cancel: &Cancel) -> Body {
        self.transport().body(r, len, self.switched(cancel))
    }

    /// `cancel`, also cancelled by the client's enable/disable switch (`disable_requests`).
    pub(crate) fn switched(&self, cancel: &Cancel) -> Cancel {
        cancel.clone().with(self.requests_token())
    }

    /// Learns the clock offset from a `RequestTimeTooSkewed` answer; false (offset unchanged, the
    /// error to be returned as it is) when its `ServerTime` is missing, unparseable or absurd.
    fn correct_clock(&self, err: &Error) -> bool {
        let Some(t) = server_time(err) else {
            log::log(Level::Warn, || {
                "RequestTimeTooSkewed without a usable ServerTime; the clock offset is unchanged"
                    .to_string()
            });
            return false;
        };
        match self.set_clock_offset(t) {
            Ok(()) => true,
            Err(off) => {
                log::log(Level::Warn, || {
                    format!(
                        "the server's time is {off} s away from the local clock (more than the {} s accepted); \
                         the clock offset is unchanged",
                        MAX_CLOCK_SKEW_SECS
                    )
                });
                false
            }
        }
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
