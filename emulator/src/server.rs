//! The HTTP server: connection handling, request dispatch, object answers, the body
//! pump (faults, throttle, shaping) and the admin endpoint.

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::addressing::resolve;
use crate::auth::{authenticate, query_pairs, SignedRequest};
use crate::error::OssError;
use crate::faults::{CutPoint, FaultPlan, FaultState, Faults};
use crate::meta::{valid_bucket_name, validate_key, MetaStore};
use crate::rules::{
    decide_range, evaluate_conditions, parse_traffic_limit, CondOutcome, Conditions, RangeDecision,
};
use crate::shaping::{ConnShaping, Shaping, ShapingState};
use crate::util::{fmt_http_date, fmt_rfc3339_millis};
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
    /// Whether any shaping is configured: the only thing the unshaped paths look at.
    shaping_on: AtomicBool,
    shaping: RwLock<Arc<ShapingState>>,
    shaping_generation: AtomicU64,
}

/// Held by a request's [`Ctx`] (shared by its clones): the request counts as in flight until the
/// last clone is gone, which is after its log entry was recorded.
struct InFlight(Arc<AtomicU64>);

impl InFlight {
    fn new(counter: &Arc<AtomicU64>) -> Arc<InFlight> {
        counter.fetch_add(1, Ordering::SeqCst);
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
            shaping_on: AtomicBool::new(shaping.is_active()),
            shaping: RwLock::new(Arc::new(ShapingState::new(shaping, seed, 1, CHUNK))),
            shaping_generation: AtomicU64::new(1),
        }
    }

    /// How many requests are being answered now (their log entries are not recorded yet).
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// The admin API's wait for the answers being sent (the admin request itself is not one).
    async fn wait_idle(&self, limit: Duration) {
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
    fn shaping_state(&self) -> Option<Arc<ShapingState>> {
        if self.shaping_on.load(Ordering::Relaxed) {
            Some(self.shaping.read().unwrap().clone())
        } else {
            None
        }
    }

    fn next_request_id(&self) -> (u64, String) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        (n, format!("{:08X}{:016X}", self.rid_prefix, n))
    }

    fn record(&self, entry: LogEntry) {
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

/// The connection's socket, with a flag that turns its close into a TCP reset.
pub struct ConnIo {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl ConnIo {
    pub fn new(inner: TcpStream) -> (ConnIo, Arc<AtomicBool>) {
        let reset = Arc::new(AtomicBool::new(false));
        (
            ConnIo {
                inner,
                reset: reset.clone(),
            },
            reset,
        )
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.reset.load(Ordering::SeqCst) {
            let _ = this.inner.set_zero_linger();
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// Response body: either a fixed buffer or a channel fed by the pump.
pub enum RespBody {
    Full(Option<Bytes>),
    Stream {
        rx: mpsc::Receiver<Result<Bytes, io::Error>>,
        remaining: u64,
    },
}

impl Body for RespBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            RespBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            RespBody::Stream { rx, remaining } => match rx.poll_recv(cx) {
                Poll::Ready(Some(Ok(b))) => {
                    *remaining = remaining.saturating_sub(b.len() as u64);
                    Poll::Ready(Some(Ok(Frame::data(b))))
                }
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RespBody::Full(b) => b.as_ref().map_or(true, |b| b.is_empty()),
            RespBody::Stream { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RespBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            RespBody::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

fn full(b: impl Into<Bytes>) -> RespBody {
    RespBody::Full(Some(b.into()))
}

/// Serves one accepted connection (plain or TLS) until it closes.
pub async fn serve_connection<I>(
    shared: Arc<Shared>,
    io: I,
    peer: SocketAddr,
    reset: Arc<AtomicBool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let conn = Arc::new(ConnShaping::default());
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let reset = reset.clone();
        let conn = conn.clone();
        async move { handle(shared, req, peer, reset, conn).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(4 << 20)
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

/// Log fields gathered along the way; turned into a [`LogEntry`] when the answer is done.
#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    seq: u64,
    request_id: String,
    method: String,
    path: String,
    query: String,
    bucket: String,
    key: String,
    host_id: String,
    range: Option<String>,
    range_behavior: Option<String>,
    if_match: Option<String>,
    auth: String,
    fault: Option<String>,
    shaping_delay_us: u64,
    started: SystemTime,
    _in_flight: Arc<InFlight>,
}

impl Ctx {
    fn finish(&self, status: u16, bytes_sent: u64) {
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
        });
    }

    fn base(&self, status: u16) -> http::response::Builder {
        Response::builder()
            .status(status)
            .header("server", "AliyunOSS")
            .header("date", fmt_http_date(SystemTime::now()))
            .header("x-oss-request-id", &self.request_id)
    }

    fn error(&self, err: OssError, no_body: bool) -> Response<RespBody> {
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

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
    reset: Arc<AtomicBool>,
    conn: Arc<ConnShaping>,
) -> Result<Response<RespBody>, io::Error> {
    let (seq, request_id) = shared.next_request_id();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if path.starts_with("/__admin/") && shared.admin && peer.ip().is_loopback() {
        return Ok(admin(&shared, req, &path).await);
    }
    let h = req.headers();
    let host = header_str(h, "host")
        .map(str::to_string)
        .or_else(|| req.uri().host().map(str::to_string));
    let mut ctx = Ctx {
        shared: shared.clone(),
        seq,
        request_id,
        method: req.method().as_str().to_string(),
        path: path.clone(),
        query: query.clone(),
        bucket: String::new(),
        key: String::new(),
        host_id: host.clone().unwrap_or_default(),
        range: header_str(h, "range").map(str::to_string),
        range_behavior: header_str(h, "x-oss-range-behavior").map(str::to_string),
        if_match: header_str(h, "if-match").map(str::to_string),
        auth: "anonymous".to_string(),
        fault: None,
        shaping_delay_us: 0,
        started: SystemTime::now(),
        _in_flight: InFlight::new(&shared.in_flight),
    };
    let is_head = req.method() == Method::HEAD;

    // Shaping: the connection's set-up latency (first answer only), the request's latency
    // and jitter, before anything is answered (errors included).
    let first_on_conn = !conn.answered.swap(true, Ordering::Relaxed);
    if let Some(st) = shared.shaping_state() {
        let d = st.request_delay(first_on_conn);
        ctx.shaping_delay_us = d.as_micros() as u64;
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    let addressed = match resolve(host.as_deref(), &path, shared.path_style) {
        Ok(a) => a,
        Err(e) => return Ok(ctx.error(e, is_head)),
    };
    let Some(bucket) = addressed.bucket.clone() else {
        return Ok(ctx.error(
            OssError::method_not_allowed(req.method().as_str())
                .with("Detail", "service-level operations are not emulated"),
            is_head,
        ));
    };
    ctx.bucket = bucket.clone();
    ctx.key = addressed.key.clone().unwrap_or_default();
    if !valid_bucket_name(&bucket) {
        return Ok(ctx.error(OssError::invalid_bucket_name(&bucket), is_head));
    }
    if !shared.store.bucket_exists(&bucket) {
        return Ok(ctx.error(OssError::no_such_bucket(&bucket), is_head));
    }

    // Authentication.
    let headers: Vec<(String, String)> = h
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let sreq = SignedRequest {
        method: req.method().as_str(),
        bucket: Some(&bucket),
        key: addressed.key.as_deref(),
        raw_query: &query,
        headers: &headers,
    };
    ctx.auth = crate::auth::claimed_scheme(&sreq).to_string();
    match authenticate(&sreq, &shared.credentials, SystemTime::now()) {
        Ok(info) => {
            ctx.auth = info.scheme.to_string();
            if info.scheme == "anonymous" && !shared.credentials.is_empty() {
                let public = shared.public_read.contains(&bucket)
                    && (req.method() == Method::GET || req.method() == Method::HEAD);
                if !public {
                    return Ok(ctx.error(
                        OssError::access_denied(
                            "You have no right to access this object because of bucket acl.",
                        ),
                        is_head,
                    ));
                }
            }
        }
        Err(e) => return Ok(ctx.error(e, is_head)),
    }

    let Some(key) = addressed.key.clone() else {
        return Ok(ctx.error(
            OssError::method_not_allowed(req.method().as_str())
                .with("Detail", "bucket-level operations are not emulated"),
            is_head,
        ));
    };
    if let Err(e) = validate_key(&key) {
        return Ok(ctx.error(e, is_head));
    }

    // Faults.
    let plan = shared.faults.lock().unwrap().plan(
        req.method().as_str(),
        &bucket,
        &key,
        ctx.range.is_some(),
    );
    ctx.fault = plan.describe();
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    if plan.reset_before {
        reset.store(true, Ordering::SeqCst);
        ctx.finish(0, 0);
        return Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "injected reset",
        ));
    }
    if let Some((status, code)) = &plan.status {
        let code = code.clone().unwrap_or_else(|| {
            if *status == 503 {
                "ServiceUnavailable".to_string()
            } else if *status == 500 {
                "InternalError".to_string()
            } else {
                "InjectedFault".to_string()
            }
        });
        return Ok(ctx.error(OssError::internal(*status, &code), is_head));
    }

    let method = req.method().clone();
    let resp = match method {
        Method::GET | Method::HEAD => get_object(ctx, req, bucket, key, plan, reset, conn).await,
        Method::PUT => put_object(ctx, req, bucket, key).await,
        Method::DELETE => delete_object(ctx, bucket, key).await,
        m => ctx.error(OssError::method_not_allowed(m.as_str()), false),
    };
    Ok(resp)
}

fn internal_error(e: impl std::fmt::Display) -> OssError {
    OssError::new(
        500,
        "InternalError",
        format!("emulator I/O error: {e}"),
        "0000-00000001",
    )
}

fn query_value(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find(|p| p.2 == name)
        .map(|p| p.3)
}

async fn get_object(
    mut ctx: Ctx,
    req: Request<Incoming>,
    bucket: String,
    key: String,
    plan: FaultPlan,
    reset: Arc<AtomicBool>,
    conn: Arc<ConnShaping>,
) -> Response<RespBody> {
    let is_head = req.method() == Method::HEAD;
    let h = req.headers();
    let qpairs = query_pairs(&ctx.query);
    let object_meta_only = is_head && qpairs.iter().any(|p| p.2 == "objectMeta");

    // Throttle.
    let traffic = header_str(h, "x-oss-traffic-limit")
        .map(str::to_string)
        .or_else(|| query_value(&ctx.query, "x-oss-traffic-limit"));
    let rate = match traffic.as_deref().map(parse_traffic_limit) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return ctx.error(e, is_head),
    };

    let shared = ctx.shared.clone();
    if plan.mutate {
        let (s, b, k) = (shared.clone(), bucket.clone(), key.clone());
        match tokio::task::spawn_blocking(move || s.store.mutate(&b, &k)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return ctx.error(internal_error(e), is_head),
            Err(e) => return ctx.error(internal_error(e), is_head),
        }
    }
    let (s, b, k) = (shared.clone(), bucket.clone(), key.clone());
    let opened = match tokio::task::spawn_blocking(move || s.store.open(&b, &k)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return ctx.error(internal_error(e), is_head),
        Err(e) => return ctx.error(internal_error(e), is_head),
    };
    let Some((meta, file)) = opened else {
        return ctx.error(OssError::no_such_key(&key), is_head);
    };

    let asked_version = query_value(&ctx.query, "versionId");
    if let Some(v) = &asked_version {
        if *v != meta.version_id && v != "null" {
            return ctx.error(
                OssError::new(
                    404,
                    "NoSuchVersion",
                    "The specified version does not exist.",
                    "0026-00000002",
                )
                .with("Key", key.clone())
                .with("VersionId", v.clone()),
                is_head,
            );
        }
    }
    let last_modified = meta.last_modified_time();
    let lm_str = fmt_http_date(last_modified);

    let with_object_headers = |mut b: http::response::Builder| {
        b = b
            .header("etag", &meta.etag)
            .header("last-modified", &lm_str)
            .header("x-oss-hash-crc64ecma", meta.crc64.to_string());
        if asked_version.is_some() {
            b = b.header("x-oss-version-id", &meta.version_id);
        }
        b
    };

    if object_meta_only {
        let b = with_object_headers(ctx.base(200)).header("content-length", meta.size.to_string());
        ctx.finish(200, 0);
        return b.body(full(Bytes::new())).expect("response");
    }

    let cond = Conditions {
        if_match: header_str(h, "if-match"),
        if_none_match: header_str(h, "if-none-match"),
        if_modified_since: header_str(h, "if-modified-since"),
        if_unmodified_since: header_str(h, "if-unmodified-since"),
    };
    match evaluate_conditions(&cond, &meta.etag, last_modified) {
        CondOutcome::Proceed => {}
        CondOutcome::PreconditionFailed(c) => {
            return ctx.error(OssError::precondition_failed(c), is_head)
        }
        CondOutcome::NotModified => {
            let xml = OssError::not_modified().to_xml(&ctx.request_id, &ctx.host_id);
            let b = with_object_headers(ctx.base(304)).header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            );
            ctx.finish(304, 0);
            return b.body(full(Bytes::new())).expect("response");
        }
    }

    let standard = ctx
        .range_behavior
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("standard"));
    let decision = if is_head {
        RangeDecision::Whole
    } else {
        decide_range(ctx.range.as_deref(), standard, meta.size)
    };
    let (status, first, len) = match decision {
        RangeDecision::Whole => (200u16, 0u64, meta.size),
        RangeDecision::Partial { first, last } => (206, first, last - first + 1),
        RangeDecision::Unsatisfiable => {
            return ctx.error(
                OssError::invalid_range(ctx.range.as_deref().unwrap_or(""), meta.size),
                is_head,
            )
        }
    };

    let mut b = with_object_headers(ctx.base(status))
        .header("accept-ranges", "bytes")
        .header("x-oss-object-type", "Normal")
        .header("x-oss-storage-class", "Standard");
    let mut content_type = meta.content_type.clone();
    let mut overrides: Vec<(&str, String)> = Vec::new();
    for (q, hname) in [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ] {
        if let Some(v) = qpairs.iter().find(|p| p.2 == q).map(|p| p.3.clone()) {
            if hname == "content-type" {
                content_type = v;
            } else {
                overrides.push((hname, v));
            }
        }
    }
    b = b.header("content-type", content_type);
    for (n, v) in overrides {
        if let Ok(v) = HeaderValue::from_str(&v) {
            b = b.header(n, v);
        }
    }
    for (k, v) in &meta.user_meta {
        if let Ok(v) = HeaderValue::from_str(v) {
            b = b.header(format!("x-oss-meta-{k}"), v);
        }
    }
    if status == 206 {
        let shift = plan.content_range_shift;
        let f = first as i64 + shift;
        let l = (first + len - 1) as i64 + shift;
        b = b.header("content-range", format!("bytes {}-{}/{}", f, l, meta.size));
    }
    // Body length as sent (faults may make it disagree with the range).
    let body_len = (len.saturating_sub(plan.short_by)) + plan.long_by;
    b = b.header("content-length", body_len.to_string());

    if is_head {
        ctx.finish(status, 0);
        return b.body(full(Bytes::new())).expect("response");
    }
    ctx.range = ctx.range.clone();
    let (tx, rx) = mpsc::channel(4);
    let pump = Pump {
        file,
        first,
        len: len.saturating_sub(plan.short_by),
        extra: plan.long_by,
        rate,
        plan,
        reset,
        status,
        conn,
    };
    tokio::task::spawn_blocking(move || pump.run(tx, ctx));
    b.body(RespBody::Stream {
        rx,
        remaining: body_len,
    })
    .expect("response")
}

/// A read-only, populated memory map of part of a file: the body is handed to the
/// socket straight from the page cache, without a copy into a buffer of ours.
struct MappedChunk {
    base: *mut libc::c_void,
    map_len: usize,
    skip: usize,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; it can be read from
// and unmapped on any thread.
unsafe impl Send for MappedChunk {}
// SAFETY: as above, shared access is read-only.
unsafe impl Sync for MappedChunk {}

impl AsRef<[u8]> for MappedChunk {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `base` maps `map_len` bytes readable for the lifetime of `self` and
        // `skip + len <= map_len`. Objects are replaced by rename, never rewritten in
        // place, so the mapped pages stay valid (a file truncated by hand while it is
        // being served could fault; that is outside what the emulator supports).
        unsafe { std::slice::from_raw_parts((self.base as *const u8).add(self.skip), self.len) }
    }
}

impl Drop for MappedChunk {
    fn drop(&mut self) {
        // SAFETY: `base`/`map_len` are exactly what mmap returned; unmapped once.
        unsafe {
            libc::munmap(self.base, self.map_len);
        }
    }
}

fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64)
}

/// `len` bytes of `file` at `offset`: memory-mapped when possible, else read.
fn read_chunk(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    use std::os::fd::AsRawFd;
    if len == 0 {
        return Ok(Bytes::new());
    }
    let page = page_size();
    let aligned = offset - offset % page;
    let skip = (offset - aligned) as usize;
    let map_len = skip + len;
    // SAFETY: a fresh read-only shared mapping of an open file; the result is checked.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            map_len,
            libc::PROT_READ,
            libc::MAP_SHARED | libc::MAP_POPULATE,
            file.as_raw_fd(),
            aligned as libc::off_t,
        )
    };
    if base == libc::MAP_FAILED {
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, offset)?;
        return Ok(Bytes::from(buf));
    }
    Ok(Bytes::from_owner(MappedChunk {
        base,
        map_len,
        skip,
        len,
    }))
}

struct Pump {
    file: File,
    first: u64,
    len: u64,
    extra: u64,
    /// bytes per second
    rate: Option<u64>,
    plan: FaultPlan,
    reset: Arc<AtomicBool>,
    status: u16,
    /// The connection's shaping state (its bucket).
    conn: Arc<ConnShaping>,
}

impl Pump {
    fn run(self, tx: mpsc::Sender<Result<Bytes, io::Error>>, ctx: Ctx) {
        let total = self.len + self.extra;
        let cut_at = self.plan.cut.map(|(p, rst)| {
            let at = match p {
                CutPoint::At(n) => n,
                CutPoint::Random(f) => ((total as f64) * f) as u64,
            };
            (at.min(total), rst)
        });
        let mut stall = self.plan.stall;
        let chunk_limit = match self.rate {
            // ~20 sends per second when throttled.
            Some(r) => ((r / 20).max(1024) as usize).min(CHUNK),
            None => CHUNK,
        };
        let started = Instant::now();
        let mut sent: u64 = 0;
        let mut buf_err: Option<io::Error> = None;
        let mut aborted = false;
        while sent < total {
            if let Some((at, rst)) = cut_at {
                if sent >= at {
                    if rst {
                        self.reset.store(true, Ordering::SeqCst);
                    }
                    // Let hyper take and write out what was sent before the cut: an
                    // error frame makes it drop the connection without flushing.
                    let t0 = Instant::now();
                    while tx.capacity() < tx.max_capacity() && t0.elapsed() < Duration::from_secs(2)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    let _ = tx.blocking_send(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "injected cut",
                    )));
                    aborted = true;
                    break;
                }
            }
            if let Some((at, ms)) = stall {
                if sent >= at {
                    std::thread::sleep(Duration::from_millis(ms));
                    stall = None;
                }
            }
            // Shaping (looked up per chunk, so a change applies to the rest of the body).
            let shaping = ctx.shared.shaping_state();
            let mut n = ((total - sent) as usize).min(chunk_limit);
            if let Some(c) = shaping.as_ref().and_then(|s| s.chunk()) {
                n = n.min(c);
            }
            if let Some((at, _)) = cut_at {
                if at > sent {
                    n = n.min((at - sent) as usize);
                }
            }
            if let Some((at, _)) = stall {
                if at > sent {
                    n = n.min((at - sent) as usize);
                }
            }
            if let Some(st) = shaping.as_ref().filter(|s| s.caps_bodies()) {
                let wait = st.reserve(&self.conn, n as u64, CHUNK);
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
            // Real bytes first, then junk for the long-body fault.
            let real_left = self.len.saturating_sub(sent);
            let real_n = (n as u64).min(real_left) as usize;
            let chunk = if real_n == n {
                match read_chunk(&self.file, self.first + sent, n) {
                    Ok(b) => b,
                    Err(e) => {
                        buf_err = Some(e);
                        break;
                    }
                }
            } else {
                let mut buf = vec![0u8; n];
                if real_n > 0 {
                    if let Err(e) = self
                        .file
                        .read_exact_at(&mut buf[..real_n], self.first + sent)
                    {
                        buf_err = Some(e);
                        break;
                    }
                }
                for (i, b) in buf[real_n..].iter_mut().enumerate() {
                    *b = b"JUNK"[i % 4];
                }
                Bytes::from(buf)
            };
            if tx.blocking_send(Ok(chunk)).is_err() {
                aborted = true; // client went away
                break;
            }
            sent += n as u64;
            if let Some(r) = self.rate {
                let due = Duration::from_secs_f64(sent as f64 / r as f64);
                let el = started.elapsed();
                if due > el {
                    std::thread::sleep(due - el);
                }
            }
        }
        if let Some(e) = buf_err {
            let _ = tx.blocking_send(Err(e));
            aborted = true;
        }
        let _ = aborted;
        ctx.finish(self.status, sent);
    }
}

async fn put_object(
    ctx: Ctx,
    req: Request<Incoming>,
    bucket: String,
    key: String,
) -> Response<RespBody> {
    use md5::{Digest, Md5};
    let h = req.headers().clone();
    let content_type = header_str(&h, "content-type").map(str::to_string);
    let user_meta: Vec<(String, String)> = h
        .iter()
        .filter_map(|(k, v)| {
            k.as_str().strip_prefix("x-oss-meta-").map(|n| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => return ctx.error(internal_error(e), false),
    };
    if let Some(md5_b64) = header_str(&h, "content-md5") {
        let got = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body));
        if got != md5_b64.trim() {
            return ctx.error(
                OssError::new(
                    400,
                    "InvalidDigest",
                    "The Content-MD5 you specified was invalid.",
                    "0016-00000012",
                )
                .with("Content-MD5", md5_b64),
                false,
            );
        }
    }
    if let Some(sha) = header_str(&h, "x-oss-content-sha256") {
        if sha.len() == 64 && sha.bytes().all(|c| c.is_ascii_hexdigit()) {
            let got = crate::util::hex_lower(&sha2::Sha256::digest(&body));
            if !got.eq_ignore_ascii_case(sha) {
                return ctx.error(
                    OssError::new(
                        400,
                        "InvalidArgument",
                        "x-oss-content-sha256 does not match the body.",
                        "0016-00000013",
                    ),
                    false,
                );
            }
        }
    }
    let forbid =
        header_str(&h, "x-oss-forbid-overwrite").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let shared = ctx.shared.clone();
    let (b, k) = (bucket.clone(), key.clone());
    let res = tokio::task::spawn_blocking(move || {
        if forbid && shared.store.open(&b, &k)?.is_some() {
            return Ok(None);
        }
        shared
            .store
            .put(&b, &k, &body[..], content_type.as_deref(), user_meta)
            .map(Some)
    })
    .await;
    match res {
        Ok(Ok(Some(meta))) => {
            let b = ctx
                .base(200)
                .header("etag", &meta.etag)
                .header("x-oss-hash-crc64ecma", meta.crc64.to_string())
                .header("content-length", "0");
            ctx.finish(200, 0);
            b.body(full(Bytes::new())).expect("response")
        }
        Ok(Ok(None)) => ctx.error(
            OssError::new(
                409,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten.",
                "0016-00000204",
            ),
            false,
        ),
        Ok(Err(e)) => ctx.error(internal_error(e), false),
        Err(e) => ctx.error(internal_error(e), false),
    }
}

async fn delete_object(ctx: Ctx, bucket: String, key: String) -> Response<RespBody> {
    let shared = ctx.shared.clone();
    match tokio::task::spawn_blocking(move || shared.store.delete(&bucket, &key)).await {
        Ok(Ok(_)) => {
            let b = ctx.base(204);
            ctx.finish(204, 0);
            b.body(full(Bytes::new())).expect("response")
        }
        Ok(Err(e)) => ctx.error(internal_error(e), false),
        Err(e) => ctx.error(internal_error(e), false),
    }
}

fn json_response(status: u16, body: String) -> Response<RespBody> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header("content-type", "application/json")
        .body(full(body))
        .expect("response")
}

/// `GET|PUT|DELETE /__admin/faults`, `GET|PUT|DELETE /__admin/shaping`,
/// `GET|DELETE /__admin/log`.
async fn admin(shared: &Arc<Shared>, req: Request<Incoming>, path: &str) -> Response<RespBody> {
    let method = req.method().clone();
    match (method, path) {
        (Method::GET, "/__admin/faults") => json_response(
            200,
            serde_json::to_string(&shared.faults()).unwrap_or_default(),
        ),
        (Method::PUT, "/__admin/faults") | (Method::POST, "/__admin/faults") => {
            let body = match req.into_body().collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => return json_response(400, format!("{{\"error\":{:?}}}", e.to_string())),
            };
            match serde_json::from_slice::<Faults>(&body) {
                Ok(f) => {
                    shared.set_faults(f);
                    json_response(
                        200,
                        serde_json::to_string(&shared.faults()).unwrap_or_default(),
                    )
                }
                Err(e) => json_response(400, format!("{{\"error\":{:?}}}", e.to_string())),
            }
        }
        (Method::DELETE, "/__admin/faults") => {
            shared.set_faults(Faults::default());
            json_response(200, "{}".to_string())
        }
        (Method::GET, "/__admin/shaping") => json_response(
            200,
            serde_json::to_string(&shared.shaping()).unwrap_or_default(),
        ),
        (Method::PUT, "/__admin/shaping") | (Method::POST, "/__admin/shaping") => {
            let body = match req.into_body().collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => return json_response(400, format!("{{\"error\":{:?}}}", e.to_string())),
            };
            let set = serde_json::from_slice::<Shaping>(&body)
                .map_err(|e| e.to_string())
                .and_then(|s| shared.set_shaping(s));
            match set {
                Ok(()) => json_response(
                    200,
                    serde_json::to_string(&shared.shaping()).unwrap_or_default(),
                ),
                Err(e) => json_response(400, format!("{{\"error\":{e:?}}}")),
            }
        }
        (Method::DELETE, "/__admin/shaping") => {
            let _ = shared.set_shaping(Shaping::default());
            json_response(200, "{}".to_string())
        }
        (Method::GET, "/__admin/log") => {
            // As Emulator::log: the answers still being sent are waited for (5 s at most).
            shared.wait_idle(Duration::from_secs(5)).await;
            let mut log = shared.log.lock().unwrap().clone();
            log.sort_by_key(|e| e.seq);
            let mut out = String::new();
            for e in log.iter() {
                out.push_str(&serde_json::to_string(e).unwrap_or_default());
                out.push('\n');
            }
            Response::builder()
                .status(200)
                .header("content-type", "application/x-ndjson")
                .body(full(out))
                .expect("response")
        }
        (Method::DELETE, "/__admin/log") => {
            shared.wait_idle(Duration::from_secs(10)).await;
            shared.log.lock().unwrap().clear();
            json_response(200, "{}".to_string())
        }
        _ => json_response(404, "{\"error\":\"unknown admin path\"}".to_string()),
    }
}
