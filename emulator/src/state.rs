//! The server's shared state (store, credentials, faults, shaping, the request log and its
//! in-flight count) and the per-request context every answer logs through, with the small
//! request helpers the answers share.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, Response};

use crate::auth::query_pairs;
use crate::error::OssError;
use crate::faults::{FaultState, Faults};
use crate::meta::MetaStore;
use crate::response::{full, RespBody};
use crate::shaping::{Shaping, ShapingState};
use crate::time::{fmt_http_date, fmt_rfc3339_millis};
use crate::{Credential, LogEntry};

/// Body chunk size for GET answers.
pub const CHUNK: usize = 4 << 20;

pub struct Shared {
    pub store: MetaStore,
    pub credentials: Vec<Credential>,
    pub public_read: Vec<String>,
    pub path_style: bool,
    pub admin: bool,
    pub seed: u64,
    pub faults: Mutex<FaultState>,
    pub log: Mutex<Vec<LogEntry>>,
    pub log_file: Option<Mutex<File>>,
    counter: AtomicU64,
    rid_prefix: u32,
    /// Requests whose answer is not finished yet (their log entry is still to come).
    in_flight: Arc<AtomicU64>,
    /// The most requests answered at once since the start (or the last `take_peak_in_flight`).
    in_flight_peak: Arc<AtomicU64>,
    /// Whether any shaping is configured: the only thing the unshaped paths look at.
    shaping_on: AtomicBool,
    shaping: RwLock<Arc<ShapingState>>,
    shaping_generation: AtomicU64,
}

/// Held by a request's [`Ctx`] (shared by its clones): the request counts as in flight until the
/// last clone is gone, which is after its log entry was recorded.
pub(crate) struct InFlight(Arc<AtomicU64>);

impl InFlight {
    pub(crate) fn new(counter: &Arc<AtomicU64>, peak: &Arc<AtomicU64>) -> Arc<InFlight> {
        let now = counter.fetch_add(1, Ordering::SeqCst) + 1;
        peak.fetch_max(now, Ordering::SeqCst);
        Arc::new(InFlight(counter.clone()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: MetaStore,
        credentials: Vec<Credential>,
        public_read: Vec<String>,
        path_style: bool,
        admin: bool,
        seed: u64,
        faults: Faults,
        shaping: Shaping,
        log_file: Option<File>,
    ) -> Shared {
        let rid_prefix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        Shared {
            store,
            credentials,
            public_read,
            path_style,
            admin,
            seed,
            faults: Mutex::new(FaultState::new(faults, seed)),
            log: Mutex::new(Vec::new()),
            log_file: log_file.map(Mutex::new),
            counter: AtomicU64::new(1),
            rid_prefix: rid_prefix ^ rand::random::<u32>(),
            in_flight: Arc::new(AtomicU64::new(0)),
            in_flight_peak: Arc::new(AtomicU64::new(0)),
            shaping_on: AtomicBool::new(shaping.is_active()),
            shaping: RwLock::new(Arc::new(ShapingState::new(shaping, seed, 1, CHUNK))),
            shaping_generation: AtomicU64::new(1),
        }
    }

    /// How many requests are being answered now (their log entries are not recorded yet).
    /// Counts a request in flight until the returned guard's last clone is dropped.
    pub(crate) fn enter(&self) -> Arc<InFlight> {
        InFlight::new(&self.in_flight, &self.in_flight_peak)
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests answered at once since the last call (or the start); resets it to the
    /// requests in flight now.
    pub fn take_peak_in_flight(&self) -> u64 {
        self.in_flight_peak.swap(self.in_flight(), Ordering::SeqCst)
    }

    /// The admin API's wait for the answers being sent (the admin request itself is not one).
    pub(crate) async fn wait_idle(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn set_faults(&self, f: Faults) {
        *self.faults.lock().unwrap() = FaultState::new(f, self.seed);
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().unwrap().faults.clone()
    }

    /// Replaces the shaping (after checking it): new jitter generator, new buckets.
    pub fn set_shaping(&self, s: Shaping) -> Result<(), String> {
        s.validate()?;
        // Under the lock, so that concurrent calls leave the flag and the state agreeing.
        let mut current = self.shaping.write().unwrap();
        let generation = self.shaping_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let active = s.is_active();
        *current = Arc::new(ShapingState::new(s, self.seed, generation, CHUNK));
        self.shaping_on.store(active, Ordering::SeqCst);
        Ok(())
    }

    pub fn shaping(&self) -> Shaping {
        self.shaping.read().unwrap().shaping.clone()
    }

    /// The shaping in force, when there is any.
    pub(crate) fn shaping_state(&self) -> Option<Arc<ShapingState>> {
        if self.shaping_on.load(Ordering::Relaxed) {
            Some(self.shaping.read().unwrap().clone())
        } else {
            None
        }
    }

    pub(crate) fn next_request_id(&self) -> (u64, String) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        (n, format!("{:08X}{:016X}", self.rid_prefix, n))
    }

    pub(crate) fn record(&self, entry: LogEntry) {
        if let Some(f) = &self.log_file {
            if let Ok(mut line) = serde_json::to_string(&entry) {
                line.push('\n');
                use std::io::Write;
                let _ = f.lock().unwrap().write_all(line.as_bytes());
            }
        }
        self.log.lock().unwrap().push(entry);
    }
}

/// Log fields gathered along the way; turned into a [`LogEntry`] when the answer is done.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) seq: u64,
    pub(crate) request_id: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) host_id: String,
    pub(crate) range: Option<String>,
    pub(crate) range_behavior: Option<String>,
    pub(crate) if_match: Option<String>,
    pub(crate) auth: String,
    pub(crate) fault: Option<String>,
    pub(crate) shaping_delay_us: u64,
    pub(crate) local_addr: String,
    pub(crate) peer_addr: String,
    pub(crate) started: SystemTime,
    pub(crate) _in_flight: Arc<InFlight>,
}

impl Ctx {
    pub(crate) fn finish(&self, status: u16, bytes_sent: u64) {
        self.shared.record(LogEntry {
            seq: self.seq,
            time: fmt_rfc3339_millis(self.started),
            method: self.method.clone(),
            path: self.path.clone(),
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            query: self.query.clone(),
            range: self.range.clone(),
            range_behavior: self.range_behavior.clone(),
            if_match: self.if_match.clone(),
            status,
            auth: self.auth.clone(),
            bytes_sent,
            fault: self.fault.clone(),
            shaping_delay_us: self.shaping_delay_us,
            request_id: self.request_id.clone(),
            local_addr: self.local_addr.clone(),
            peer_addr: self.peer_addr.clone(),
        });
    }

    pub(crate) fn base(&self, status: u16) -> http::response::Builder {
        Response::builder()
            .status(status)
            .header("server", "AliyunOSS")
            .header("date", fmt_http_date(SystemTime::now()))
            .header("x-oss-request-id", &self.request_id)
    }

    pub(crate) fn error(&self, err: OssError, no_body: bool) -> Response<RespBody> {
        let xml = err.to_xml(&self.request_id, &self.host_id);
        let mut b = self
            .base(err.status)
            .header("content-type", "application/xml")
            .header("x-oss-ec", &err.ec);
        let body = if no_body || err.status == 304 {
            b = b.header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            );
            if err.status != 304 {
                b = b.header("content-length", "0");
            }
            Bytes::new()
        } else {
            Bytes::from(xml)
        };
        self.finish(err.status, body.len() as u64);
        b.body(full(body)).expect("response")
    }
}

pub(crate) fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub(crate) fn internal_error(e: impl std::fmt::Display) -> OssError {
    OssError::new(
        500,
        "InternalError",
        format!("emulator I/O error: {e}"),
        "0000-00000001",
    )
}

pub(crate) fn query_value(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|p| p.2 == name)
        .map(|p| p.3)
}
