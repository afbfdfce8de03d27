//! The HTTP transport: a client's connection pool, connection permits and receive-rate limiter,
//! requests sent once (signing, retries and the clock are the client's: `crate::client`), failed
//! answers read into errors, reqwest errors mapped to the SDK's codes, checked bodies. It knows
//! HTTP, not objects (those are `crate::object`). Parts: `http_client` (the reqwest client and
//! TLS), `error_response` (failed answers), `body` (checked bodies), `failure` (reqwest
//! failures), `request` (request and answer types).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cancel::Cancel;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::rate_limit::RateLimiter;

mod body;
mod connect_time;
mod env_proxy;
pub(crate) mod error_response;
mod failure;
mod http_client;
mod request;
pub mod spread;

pub(crate) use body::Body;
use error_response::read_error;
pub(crate) use error_response::server_time;
use failure::map_reqwest_error;
pub(crate) use http_client::build_http_client;
pub use http_client::MAX_OWN_CONNECTIONS;
pub(crate) use request::{header_str, parse_object_url, HttpRequest, Response};

tokio::task_local! {
    /// The connection permits of the requests of the task running inside `with_connections`
    /// instead of the client's (a batch's small objects: bounded by the batch's own objects in
    /// flight).
    static OWN_CONNECTIONS: Arc<Semaphore>;
}

/// Runs `f` with its requests taking their connection permits from `permits` instead of the
/// client's `max_connections` (a batch's small objects, whose bound is the batch's
/// `max_objects_in_flight`; every other request of the client, large objects of the batch
/// included, keeps the client's permits).
pub(crate) async fn with_connections<F: std::future::Future>(
    permits: Arc<Semaphore>,
    f: F,
) -> F::Output {
    OWN_CONNECTIONS.scope(permits, f).await
}

/// What a client's requests go through: the reqwest client (connection pool), at most
/// `max_connections` requests in flight, the receive-rate limiter and the idle timeout.
pub struct Transport {
    http: reqwest::Client,
    /// At most `max_connections` requests in flight.
    permits: Arc<Semaphore>,
    rate: Option<RateLimiter>,
    /// The longest wait for a byte (`Config::request_timeout`).
    idle_timeout: Duration,
}

impl Transport {
    /// Builds the HTTP client of a (validated) configuration. Sends nothing.
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        let http = build_http_client(config)?;
        let rate = match &config.recv_rate_source {
            Some(source) => Some(RateLimiter::with_source(source.clone())),
            None => (config.recv_rate_limit > 0).then(|| RateLimiter::new(config.recv_rate_limit)),
        };
        Ok(Transport {
            http,
            permits: Arc::new(Semaphore::new(config.max_connections as usize)),
            rate,
            idle_timeout: config.request_timeout,
        })
    }

    /// One of the connection permits (the client's, or those of `with_connections`), waited
    /// for.
    pub(crate) async fn permit(&self) -> Result<OwnedSemaphorePermit> {
        OWN_CONNECTIONS
            .try_with(Arc::clone)
            .unwrap_or_else(|_| self.permits.clone())
            .acquire_owned()
            .await
            .map_err(|_| Error::cancelled("the client is closed"))
    }

    /// Sends one request (already signed, or a URL sent as it is) under `permit`; an answer with
    /// status >= 300 is read into its error.
    pub(crate) async fn send<'a>(
        &self,
        permit: OwnedSemaphorePermit,
        method: &reqwest::Method,
        url: reqwest::Url,
        host: String,
        headers: impl Iterator<Item = &'a (String, String)>,
        metrics: &mut Option<Box<crate::metrics::Attempt>>,
    ) -> Result<Response> {
        let mut rb = self.http.request(method.clone(), url);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let (resp, sent, connect) = match metrics.is_some() {
            // Measured: the connect this request waits for, if any, is timed (`connect_time`).
            true => {
                let sent = std::time::Instant::now();
                let (resp, connect) = connect_time::timed(rb.send()).await;
                (resp, Some(sent), connect)
            }
            false => (rb.send().await, None, None),
        };
        if let (Some(t), Some(m)) = (sent, metrics.as_mut()) {
            m.set_connect(connect);
            match &resp {
                Ok(r) => m.headers(r, t.elapsed()),
                Err(_) => m.no_answer(t.elapsed()),
            }
        }
        let resp = resp.map_err(|e| map_reqwest_error(&e, &host))?;
        if resp.status().as_u16() < 300 {
            return Ok(Response {
                resp,
                host,
                permit,
                metrics: None,
            });
        }
        Err(read_error(resp, &host, method, self.idle_timeout).await)
    }

    /// The body of answer `r`, which must deliver exactly `len` bytes, read under the idle
    /// timeout and rate limit; the connection permit is held until it is dropped.
    pub(crate) fn body(&self, r: Response, len: u64, cancel: Cancel) -> Body {
        Body::new(r, len, self.idle_timeout, self.rate.clone(), cancel)
    }

    /// The whole body of answer `r` when it holds at most `cap` bytes (`body::read_capped`).
    pub(crate) async fn read_capped(
        &self,
        r: Response,
        cap: u64,
        cancel: &Cancel,
    ) -> Result<std::result::Result<bytes::Bytes, u64>> {
        body::read_capped(self.idle_timeout, r, cap, cancel).await
    }
}
