//! A response body that must deliver exactly the promised number of bytes: idle timeout,
//! cancellation, the client's receive-rate limit, early end and overrun reported as retryable
//! transport errors.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

use crate::cancel::Cancel;
use crate::error::{curl, Error, ErrorKind, Result};
use crate::rate_limit::RateLimiter;

use super::failure::map_reqwest_error;
use super::request::Response;

/// A response body that must deliver exactly `remaining` more bytes.
pub(crate) struct Body {
    resp: reqwest::Response,
    remaining: u64,
    timeout: Duration,
    rate: Option<RateLimiter>,
    cancel: Cancel,
    host: String,
    metrics: Option<Box<crate::metrics::Attempt>>,
    // After `metrics`: the attempt is reported before its permit is given back.
    _permit: OwnedSemaphorePermit,
}

impl Body {
    /// The body of answer `r`, which must deliver exactly `len` bytes, read under the idle
    /// `timeout` and `rate` limit; the connection permit is held until it is dropped.
    pub(super) fn new(
        r: Response,
        len: u64,
        timeout: Duration,
        rate: Option<RateLimiter>,
        cancel: Cancel,
    ) -> Body {
        Body {
            resp: r.resp,
            remaining: len,
            timeout,
            rate,
            cancel,
            host: r.host,
            metrics: r.metrics,
            _permit: r.permit,
        }
    }

    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>> {
        // Disjoint borrows: the body is read while the host is only looked at on failure
        // (no per-chunk clone on the hot path).
        let (resp, host, timeout) = (&mut self.resp, &self.host, self.timeout);
        let next = self.cancel.run(next_piece(resp, timeout, host)).await;
        let next = match (next, &mut self.metrics) {
            (next, None) => next?,
            (Ok(next), Some(m)) => {
                m.add_bytes(next.as_ref().map_or(0, |c| c.len() as u64));
                next
            }
            (Err(e), Some(m)) => {
                m.failed(&e);
                return Err(e);
            }
        };
        match next {
            None if self.remaining > 0 => Err(self.failed(
                Error::client(
                    ErrorKind::Transport,
                    curl::PARTIAL_FILE,
                    format!(
                        "the connection to {} closed with {} bytes of the body missing",
                        self.host, self.remaining
                    ),
                )
                .with_host(self.host.clone()),
            )),
            None => Ok(None),
            Some(c) => {
                if c.len() as u64 > self.remaining {
                    let e = Error::client(
                        ErrorKind::Transport,
                        curl::RECV_ERROR,
                        format!("{} sent more bytes than its Content-Length", self.host),
                    )
                    .with_host(self.host.clone());
                    return Err(self.failed(e));
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

    /// The attempt's metrics, when it is measured (the client has a metrics callback).
    pub(crate) fn metrics_mut(&mut self) -> Option<&mut crate::metrics::Attempt> {
        self.metrics.as_deref_mut()
    }

    /// `e`, noted as the end of the attempt's metrics (if measured).
    fn failed(&mut self, e: Error) -> Error {
        if let Some(m) = &mut self.metrics {
            m.failed(&e);
        }
        e
    }
}

/// The whole body of answer `r`, read under the idle `timeout` and cancellation, when it
/// holds at most `cap` bytes: a larger Content-Length is refused before any byte is read, and a
/// body without one is read only up to `cap + 1` bytes (`Ok(Err(size))`: too large, `size` is
/// the Content-Length or a lower bound). A body that ends early is a retryable transport error.
pub(super) async fn read_capped(
    timeout: Duration,
    r: Response,
    cap: u64,
    cancel: &Cancel,
) -> Result<std::result::Result<Bytes, u64>> {
    let declared = r.resp.content_length();
    if let Some(n) = declared.filter(|n| *n > cap) {
        return Ok(Err(n));
    }
    let host = r.host.clone();
    let mut metrics = r.metrics;
    let mut resp = r.resp;
    let mut out = bytes::BytesMut::new();
    loop {
        let next = cancel.run(next_piece(&mut resp, timeout, &host)).await;
        if let Some(m) = &mut metrics {
            match &next {
                Ok(c) => m.add_bytes(c.as_ref().map_or(0, |c| c.len() as u64)),
                Err(e) => m.failed(e),
            }
        }
        let next = next?;
        match next {
            None => break,
            Some(c) => {
                if out.len() as u64 + c.len() as u64 > cap {
                    return Ok(Err(out.len() as u64 + c.len() as u64));
                }
                out.extend_from_slice(&c);
            }
        }
    }
    if let Some(n) = declared.filter(|n| *n != out.len() as u64) {
        let e = Error::client(
            ErrorKind::Transport,
            curl::PARTIAL_FILE,
            format!(
                "the connection to {host} closed with {} bytes of the body missing",
                n.saturating_sub(out.len() as u64)
            ),
        )
        .with_host(host);
        if let Some(m) = &mut metrics {
            m.failed(&e);
        }
        return Err(e);
    }
    Ok(Ok(out.freeze()))
}

/// The next piece of `resp`'s body, waited for at most `timeout` (then a `Timeout` error).
async fn next_piece(
    resp: &mut reqwest::Response,
    timeout: Duration,
    host: &str,
) -> Result<Option<Bytes>> {
    match tokio::time::timeout(timeout, resp.chunk()).await {
        Err(_) => Err(Error::client(
            ErrorKind::Timeout,
            curl::OPERATION_TIMEDOUT,
            format!("no data from {host} for {} ms", timeout.as_millis()),
        )
        .with_host(host)),
        Ok(Err(e)) => Err(map_reqwest_error(&e, host)),
        Ok(Ok(c)) => Ok(c),
    }
}
