//! Per-request metrics in C: the callback's record (`oss_request_metrics_t`, borrowed for the
//! call, plain fields) and the summaries of a client and of a transfer (`oss_request_stats_t`;
//! the calls that give them, `oss_client_request_stats` and `oss_transfer_request_stats`, are
//! with their handles). It names no handle: the client's configuration (`ffi/config.rs`) and
//! the handles use it.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{MetricsCallback, RequestMetrics, SummarySnapshot};

/// One request attempt, given to the metrics callback; it and its strings are borrowed for the
/// call only (copy what you keep). Strings are NUL-terminated UTF-8, never NULL (empty when
/// unknown). Durations are in microseconds.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug)]
pub struct oss_request_metrics_t {
    /// `HeadObject`, `GetObject`, `ListObjects`, `GetObjectMeta`, `GetUrl`, `HeadUrl`, or the
    /// HTTP method for anything else.
    pub operation: *const c_char,
    pub bucket: *const c_char,
    pub key: *const c_char,
    /// The part of a download the request is for, 1-based (part index + 1); 0 when it is for no
    /// part (a HEAD, a listing, a whole GetObject).
    pub part_number: u32,
    /// The byte range asked for (inclusive); both -1 for the whole object (`range_end` -1 alone:
    /// to the end).
    pub range_start: i64,
    pub range_end: i64,
    /// The HTTP status; 0 when no answer came (connection failure, timeout, cancellation).
    pub http_status: u32,
    /// The attempt's error code (`ServerError:503`-style for an answer, the error's code
    /// otherwise, e.g. a body cut short); empty when the attempt succeeded.
    pub error_code: *const c_char,
    /// `x-oss-request-id` of the answer.
    pub request_id: *const c_char,
    /// The address the answer came from (`ip:port`), empty when unknown.
    pub remote_addr: *const c_char,
    /// 1 for the first attempt, 2 for the first retry...
    pub attempt: u32,
    /// Body bytes received in this attempt.
    pub bytes: u64,
    /// Getting credentials and signing.
    pub sign_us: i64,
    /// Waiting for a connection permit (`oss_config_set_max_connections`).
    pub permit_wait_us: i64,
    /// Connecting a new connection for this attempt (name resolution, TCP, TLS, a proxy's
    /// CONNECT); -1 when it used a pooled connection.
    pub connect_us: i64,
    /// From sending the request to the answer's headers, connecting excluded.
    pub first_byte_us: i64,
    /// Receiving the body, writing excluded.
    pub body_us: i64,
    /// Writing the body's bytes to the destination (a download's parts).
    pub write_us: i64,
    /// The delay waited before this attempt (0 for the first).
    pub retry_wait_us: i64,
    /// The whole attempt, after its retry wait.
    pub total_us: i64,
    /// Waiting for room in the client's memory budget before this attempt (a download's first
    /// request, a part's first request; 0 otherwise).
    pub memory_wait_us: i64,
}

/// Requests added up: a client's (`oss_client_request_stats`) or a transfer's
/// (`oss_transfer_request_stats`). Durations in microseconds, summed over requests (requests in
/// parallel add up to more than the wall time).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct oss_request_stats_t {
    /// Attempts sent, retries included.
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Attempts that failed (retried or not).
    pub failed: u64,
    /// Body bytes received.
    pub bytes: u64,
    pub sign_us: u64,
    pub permit_wait_us: u64,
    pub first_byte_us: u64,
    pub body_us: u64,
    pub write_us: u64,
    pub retry_wait_us: u64,
    /// Connecting, by the attempts that opened a connection.
    pub connect_us: u64,
    /// Waiting for room in the memory budget.
    pub memory_wait_us: u64,
    /// Slow parts of downloads re-requested on a new connection
    /// (`oss_config_set_reissue_slow_parts`).
    pub reissued: u64,
}

/// Called once per request attempt with its metrics (borrowed for the call).
#[allow(non_camel_case_types)]
pub type oss_request_metrics_cb =
    Option<unsafe extern "C" fn(metrics: *const oss_request_metrics_t, user_data: *mut c_void)>;

fn us(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl From<SummarySnapshot> for oss_request_stats_t {
    fn from(s: SummarySnapshot) -> Self {
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        oss_request_stats_t {
            requests: s.requests,
            retries: s.retries,
            failed: s.failed,
            bytes: s.bytes,
            sign_us: us(s.sign),
            permit_wait_us: us(s.permit_wait),
            first_byte_us: us(s.first_byte),
            body_us: us(s.body),
            write_us: us(s.write),
            retry_wait_us: us(s.retry_wait),
            connect_us: us(s.connect),
            memory_wait_us: us(s.memory_wait),
            reissued: s.reissued,
        }
    }
}

/// A C string of `s` (cut at an interior NUL, which no valid name holds).
fn c(s: &str) -> CString {
    let s = s.split('\0').next().unwrap_or("");
    CString::new(s).unwrap_or_default()
}

/// The core callback calling `cb(record, data)`; `call` runs the C function.
pub(crate) fn callback(
    call: impl Fn(*const oss_request_metrics_t) + Send + Sync + 'static,
) -> MetricsCallback {
    MetricsCallback(Arc::new(move |m: &RequestMetrics| {
        let (operation, bucket, key) = (c(m.operation), c(&m.bucket), c(&m.key));
        let (error_code, request_id) = (c(&m.error_code), c(&m.request_id));
        let remote = c(&m.remote_addr.map(|a| a.to_string()).unwrap_or_default());
        let (range_start, range_end) = match m.range {
            None => (-1, -1),
            Some((a, b)) => (
                i64::try_from(a).unwrap_or(-1),
                i64::try_from(b).unwrap_or(-1),
            ),
        };
        let rec = oss_request_metrics_t {
            operation: operation.as_ptr(),
            bucket: bucket.as_ptr(),
            key: key.as_ptr(),
            part_number: m.part.map_or(0, |p| p.saturating_add(1)),
            range_start,
            range_end,
            http_status: u32::from(m.status),
            error_code: error_code.as_ptr(),
            request_id: request_id.as_ptr(),
            remote_addr: remote.as_ptr(),
            attempt: m.attempt,
            bytes: m.bytes,
            sign_us: us(m.sign),
            permit_wait_us: us(m.permit_wait),
            connect_us: m.connect.map_or(-1, us),
            first_byte_us: us(m.first_byte),
            body_us: us(m.body),
            write_us: us(m.write),
            retry_wait_us: us(m.retry_wait),
            total_us: us(m.total),
            memory_wait_us: us(m.memory_wait),
        };
        call(&rec);
    }))
}
