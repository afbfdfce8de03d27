//! Per-request metrics: a callback called once per request attempt (retries included) with what
//! the attempt was, how it ended and where its time went, and a summary per call.
//!
//! Cost when no callback is set: the client's `send` checks one `Option` per attempt and carries
//! a `None` (no allocation, no clock read beyond those that already exist). With a callback, an
//! attempt's record is one boxed allocation and a few `Instant::now` reads per phase change
//! (none per chunk of a body).
//!
//! Connecting is measured for the attempt that waited for it (`transport::connect_time`): hyper's
//! pool runs a new connect inside the future of the request that needs it, so the connector
//! layer tells the task it ends in. An attempt that took a pooled connection (or whose connect
//! lost the race against a connection given back to the pool) has `connect == None`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request attempt, as given to the metrics callback (borrowed for the call).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMetrics {
    /// `HeadObject`, `GetObject`, `ListObjects`, `GetObjectMeta`, `GetUrl`, `HeadUrl`, or the
    /// HTTP method for anything else.
    pub operation: &'static str,
    pub bucket: String,
    pub key: String,
    /// The part of a download this request is for (0-based index), when it is one.
    pub part: Option<u32>,
    /// The `Range` asked for, first and last byte (inclusive); `None`: the whole object.
    pub range: Option<(u64, u64)>,
    /// The HTTP status; 0 when no answer came (connection failure, timeout, cancellation).
    pub status: u16,
    /// The error code when the attempt failed (`NoSuchKey`, `ServerError:503`...; a body cut
    /// short: its transport error's code), empty when it succeeded.
    pub error_code: String,
    /// `x-oss-request-id` of the answer, empty when none came.
    pub request_id: String,
    /// The address the answer came from, when known.
    pub remote_addr: Option<SocketAddr>,
    /// 1 for the first attempt, 2 for the first retry...
    pub attempt: u32,
    /// Body bytes received in this attempt.
    pub bytes: u64,
    /// Getting credentials and signing.
    pub sign: Duration,
    /// Waiting for a connection permit (the client's `max_connections`).
    pub permit_wait: Duration,
    /// Connecting a new connection for this attempt (name resolution, TCP, TLS, a proxy's
    /// CONNECT); `None`: it used a pooled connection.
    pub connect: Option<Duration>,
    /// From sending the request to its answer's headers, connecting excluded.
    pub first_byte: Duration,
    /// Receiving the body after the headers, the time spent writing it excluded.
    pub body: Duration,
    /// Writing the body's bytes (a download's part writer), while the body was held.
    pub write: Duration,
    /// Waiting before this attempt (the retry delay; zero for the first attempt).
    pub retry_wait: Duration,
    /// Waiting for room in the client's memory budget before this attempt (a download's slot:
    /// its first request, or a part's first request; zero otherwise).
    pub memory_wait: Duration,
    /// From the start of the attempt (after the retry wait) to its end.
    pub total: Duration,
}

/// The callback: called once per attempt, from library threads, possibly for several requests at
/// once.
#[derive(Clone)]
pub struct MetricsCallback(pub Arc<dyn Fn(&RequestMetrics) + Send + Sync>);

impl std::fmt::Debug for MetricsCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsCallback")
    }
}

impl PartialEq for MetricsCallback {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for MetricsCallback {}

/// The requests of one call (a download, a batch, a transfer), added up: counters shared by its
/// requests, lock-free. Filled only while the client has a metrics callback.
#[derive(Debug, Default)]
pub struct Summary {
    requests: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
    bytes: AtomicU64,
    sign_ns: AtomicU64,
    permit_wait_ns: AtomicU64,
    connect_ns: AtomicU64,
    memory_wait_ns: AtomicU64,
    first_byte_ns: AtomicU64,
    body_ns: AtomicU64,
    write_ns: AtomicU64,
    retry_wait_ns: AtomicU64,
    reissued: AtomicU64,
    /// A summary that also gets everything added here (a transfer's, for its batch's).
    parent: Option<Arc<Summary>>,
}

/// A copy of a `Summary`'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SummarySnapshot {
    /// Attempts sent (retries included).
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Attempts that failed (retried or not).
    pub failed: u64,
    /// Body bytes received.
    pub bytes: u64,
    pub sign: Duration,
    pub permit_wait: Duration,
    /// Connecting (the attempts that opened a connection).
    pub connect: Duration,
    pub memory_wait: Duration,
    pub first_byte: Duration,
    pub body: Duration,
    pub write: Duration,
    pub retry_wait: Duration,
    /// Slow parts of a download re-requested on a new connection (`download::straggler`).
    pub reissued: u64,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Summary {
    pub fn new() -> Arc<Summary> {
        Arc::new(Summary::default())
    }

    /// A summary whose additions also go to `parent`.
    pub fn within(parent: Option<&Arc<Summary>>) -> Arc<Summary> {
        Arc::new(Summary {
            parent: parent.cloned(),
            ..Summary::default()
        })
    }

    fn add(&self, m: &RequestMetrics) {
        if let Some(p) = &self.parent {
            p.add(m);
        }
        let r = Ordering::Relaxed;
        self.requests.fetch_add(1, r);
        if m.attempt > 1 {
            self.retries.fetch_add(1, r);
        }
        if !m.error_code.is_empty() {
            self.failed.fetch_add(1, r);
        }
        self.bytes.fetch_add(m.bytes, r);
        self.sign_ns.fetch_add(ns(m.sign), r);
        self.permit_wait_ns.fetch_add(ns(m.permit_wait), r);
        self.connect_ns
            .fetch_add(ns(m.connect.unwrap_or_default()), r);
        self.memory_wait_ns.fetch_add(ns(m.memory_wait), r);
        self.first_byte_ns.fetch_add(ns(m.first_byte), r);
        self.body_ns.fetch_add(ns(m.body), r);
        self.write_ns.fetch_add(ns(m.write), r);
        self.retry_wait_ns.fetch_add(ns(m.retry_wait), r);
    }

    /// A slow part re-requested (`download::straggler`).
    pub fn add_reissue(&self) {
        if let Some(p) = &self.parent {
            p.add_reissue();
        }
        self.reissued.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> SummarySnapshot {
        let r = Ordering::Relaxed;
        let d = |a: &AtomicU64| Duration::from_nanos(a.load(r));
        SummarySnapshot {
            requests: self.requests.load(r),
            retries: self.retries.load(r),
            failed: self.failed.load(r),
            bytes: self.bytes.load(r),
            sign: d(&self.sign_ns),
            permit_wait: d(&self.permit_wait_ns),
            connect: d(&self.connect_ns),
            memory_wait: d(&self.memory_wait_ns),
            first_byte: d(&self.first_byte_ns),
            body: d(&self.body_ns),
            write: d(&self.write_ns),
            retry_wait: d(&self.retry_wait_ns),
            reissued: self.reissued.load(r),
        }
    }
}

/// What the metrics see of a request: a plain record the transport fills in
/// (`HttpRequest::metrics_view`), borrowed for `Attempt::start`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestView<'a> {
    /// The HTTP method (`GET`, `HEAD`...).
    pub method: &'a str,
    pub bucket: &'a str,
    /// The object's key; empty for a bucket's request (a listing).
    pub key: &'a str,
    /// The query's names and values.
    pub query: &'a [(String, Option<String>)],
    pub headers: &'a [(String, String)],
    /// Whether it is a complete URL sent as it is (a presigned URL), not a signed request.
    pub url: bool,
}

/// The operation a request is, from its method, key and query.
pub(crate) fn operation(req: &RequestView<'_>) -> &'static str {
    let has = |name: &str| req.query.iter().any(|(k, _)| k == name);
    match (req.method, req.url) {
        ("GET", true) => "GetUrl",
        ("HEAD", true) => "HeadUrl",
        ("HEAD", false) => "HeadObject",
        ("GET", false) if has("objectMeta") => "GetObjectMeta",
        ("GET", false) if req.key.is_empty() => "ListObjects",
        ("GET", false) => "GetObject",
        (m, _) => match m {
            "PUT" => "PUT",
            "POST" => "POST",
            "DELETE" => "DELETE",
            _ => "OTHER",
        },
    }
}

/// The `Range: bytes=a-b` of a request's headers.
fn range(req: &RequestView<'_>) -> Option<(u64, u64)> {
    let (_, v) = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("range"))?;
    let (a, b) = v.strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().unwrap_or(u64::MAX)))
}

/// An attempt being measured; reported when it is finished or dropped (exactly once).
pub(crate) struct Attempt {
    m: RequestMetrics,
    cb: MetricsCallback,
    /// The client's and the call's summaries.
    summaries: [Option<Arc<Summary>>; 2],
    started: Instant,
    /// When the answer's headers came (the body's clock starts there).
    headers_at: Option<Instant>,
}

impl Attempt {
    pub(crate) fn start(
        cb: &MetricsCallback,
        summaries: [Option<&Arc<Summary>>; 2],
        req: &RequestView<'_>,
        attempt: u32,
        retry_wait: Duration,
    ) -> Box<Attempt> {
        Box::new(Attempt {
            m: RequestMetrics {
                operation: operation(req),
                bucket: req.bucket.to_string(),
                key: req.key.to_string(),
                range: range(req),
                attempt,
                retry_wait,
                ..Default::default()
            },
            cb: cb.clone(),
            summaries: summaries.map(|s| s.cloned()),
            started: Instant::now(),
            headers_at: None,
        })
    }

    pub(crate) fn set_sign(&mut self, d: Duration) {
        self.m.sign = d;
    }
    pub(crate) fn set_permit_wait(&mut self, d: Duration) {
        self.m.permit_wait = d;
    }
    /// The connect this attempt waited for, if any (set before `headers`/`no_answer`).
    pub(crate) fn set_connect(&mut self, d: Option<Duration>) {
        self.m.connect = d;
    }
    pub(crate) fn set_memory_wait(&mut self, d: Duration) {
        self.m.memory_wait = d;
    }
    /// The attempt's number (1 for the first).
    pub(crate) fn attempt(&self) -> u32 {
        self.m.attempt
    }
    /// The answer's headers came, `since_sent` after the request was sent (connecting included:
    /// `first_byte` is the rest).
    pub(crate) fn headers(&mut self, resp: &reqwest::Response, since_sent: Duration) {
        self.m.first_byte = since_sent.saturating_sub(self.m.connect.unwrap_or_default());
        self.m.status = resp.status().as_u16();
        self.m.remote_addr = resp.remote_addr();
        if let Some(id) = resp
            .headers()
            .get("x-oss-request-id")
            .and_then(|v| v.to_str().ok())
        {
            self.m.request_id = id.to_string();
        }
        self.headers_at = Some(Instant::now());
    }
    /// No answer came: the attempt failed `since_sent` after it was sent.
    pub(crate) fn no_answer(&mut self, since_sent: Duration) {
        self.m.first_byte = since_sent.saturating_sub(self.m.connect.unwrap_or_default());
    }
    pub(crate) fn set_part(&mut self, index: u32) {
        self.m.part = Some(index);
    }
    pub(crate) fn add_write(&mut self, d: Duration) {
        self.m.write += d;
    }
    pub(crate) fn add_bytes(&mut self, n: u64) {
        self.m.bytes += n;
    }
    /// The attempt ends with `err` (reported when dropped).
    pub(crate) fn failed(&mut self, err: &crate::Error) {
        if self.m.error_code.is_empty() {
            self.m.error_code = if err.code.is_empty() {
                format!("{:?}", err.kind)
            } else {
                err.code.clone()
            };
        }
        if self.m.status == 0 && err.http_status != 0 {
            self.m.status = err.http_status;
        }
        if self.m.request_id.is_empty() {
            self.m.request_id = err.request_id.clone();
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let now = Instant::now();
        if let Some(h) = self.headers_at {
            self.m.body = now
                .saturating_duration_since(h)
                .saturating_sub(self.m.write);
        }
        self.m.total = now.saturating_duration_since(self.started);
        for s in self.summaries.iter().flatten() {
            s.add(&self.m);
        }
        // A panicking callback must not unwind through the library (nor across the C boundary).
        let cb = &self.cb.0;
        let m = &self.m;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(m))).is_err() {
            crate::log::log(crate::log::Level::Warn, || {
                "the request metrics callback panicked".to_string()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &'static str, key: &'static str, query: &[&str]) -> RequestView<'static> {
        RequestView {
            method,
            bucket: "b",
            key,
            query: query
                .iter()
                .map(|q| (q.to_string(), None))
                .collect::<Vec<_>>()
                .leak(),
            headers: vec![("Range".into(), "bytes=10-19".into())].leak(),
            url: false,
        }
    }

    #[test]
    fn operations_and_ranges_are_named_from_the_request() {
        assert_eq!(operation(&req("HEAD", "k", &[])), "HeadObject");
        assert_eq!(operation(&req("GET", "k", &[])), "GetObject");
        assert_eq!(
            operation(&req("GET", "k", &["objectMeta"])),
            "GetObjectMeta"
        );
        assert_eq!(operation(&req("GET", "", &["list-type"])), "ListObjects");
        assert_eq!(range(&req("GET", "k", &[])), Some((10, 19)));
    }
}
