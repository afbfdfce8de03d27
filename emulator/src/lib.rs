//! `oss-emulator`: a strict local OSS-compatible server for tests, demos and benchmarks.
//!
//! It serves `ROOT/<bucket>/<key>` over HTTP/1.1 (or HTTPS with a generated
//! certificate), verifies OSS V1 and V4 signatures, follows the OSS Range and
//! conditional-request rules, injects faults on demand and logs every request.
//! See `emulator/README.md`.
//!
//! Modules, each one concept, imports pointing one way (down this list):
//! `conn` (an accepted connection) -> `server` (the dispatch) -> `get`, `list`, `put`, `admin` (the
//! answers) -> `pump` (a GET body read from the object's memory map, with faults, traffic limit
//! and shaping) -> `state` (shared state, the per-request log context) -> `response` (answer
//! bodies), `auth` (V1/V4 verification), `addressing`, `rules` (Range and conditions), `meta`
//! (the object store), `faults`, `shaping`, `error`, `time`, `encoding`, `crc64`, `content` (generated object bytes).
//!
//! ```no_run
//! use oss_emulator::{Credential, Emulator, EmulatorConfig, Faults};
//! let emu = Emulator::start(EmulatorConfig {
//!     root: "/tmp/oss-root".into(),
//!     credentials: vec![Credential::new("ak", "sk")],
//!     ..Default::default()
//! }).unwrap();
//! emu.put_object("bucket", "dir/obj.bin", b"hello").unwrap();
//! emu.set_faults(Faults::fail_next_gets(2, 503));
//! println!("{}", emu.endpoint());
//! ```

pub mod addressing;
mod admin;
pub mod auth;
mod conn;
pub mod content;
pub mod crc64;
pub mod encoding;
pub mod error;
pub mod faults;
mod get;
pub mod list;
pub mod meta;
mod pump;
mod put;
mod response;
pub mod rules;
pub mod server;
pub mod shaping;
mod state;
pub mod time;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use faults::{FaultAction, FaultRule, Faults};
pub use shaping::Shaping;

/// An access key the server accepts. With `security_token` set, requests signed with
/// this key must carry exactly that STS token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
}

impl Credential {
    pub fn new(ak: &str, sk: &str) -> Credential {
        Credential {
            access_key_id: ak.to_string(),
            access_key_secret: sk.to_string(),
            security_token: None,
        }
    }
    pub fn with_token(ak: &str, sk: &str, token: &str) -> Credential {
        Credential {
            security_token: Some(token.to_string()),
            ..Credential::new(ak, sk)
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Directory holding one sub-directory per bucket.
    pub root: PathBuf,
    /// Also listen on these addresses, on the same port (a host with several addresses:
    /// `127.0.0.2`...; the request log tells which one each request came in on).
    pub also_hosts: Vec<String>,
    /// Address to bind, default "127.0.0.1".
    pub host: String,
    /// 0 = ephemeral.
    pub port: u16,
    /// Accepted keys. When empty, every anonymous request is allowed (open mode) and
    /// signed requests are refused with InvalidAccessKeyId.
    pub credentials: Vec<Credential>,
    /// Buckets where anonymous GET/HEAD is allowed.
    pub public_read: Vec<String>,
    /// Serve HTTPS with a generated certificate.
    pub tls: bool,
    /// Where to write the CA certificate (PEM); default `ROOT/.oss-emulator-meta/ca.pem`.
    pub tls_cert_out: Option<PathBuf>,
    /// Treat every Host as path style (`/<bucket>/<key>`).
    pub path_style: bool,
    pub faults: Faults,
    /// Seed of the fault generator (when `Faults::seed` is not set).
    pub seed: u64,
    /// Also append the request log, one JSON line per request, to this file.
    pub log_file: Option<PathBuf>,
    /// Enable the admin endpoint `/__admin/...` (loopback peers only).
    pub admin: bool,
    /// Network shaping: added latency, jitter, bandwidth caps (default: none).
    pub shaping: Shaping,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            root: PathBuf::from("."),
            host: "127.0.0.1".to_string(),
            also_hosts: Vec::new(),
            port: 0,
            credentials: Vec::new(),
            public_read: Vec::new(),
            tls: false,
            tls_cert_out: None,
            path_style: false,
            faults: Faults::default(),
            seed: 0,
            log_file: None,
            admin: false,
            shaping: Shaping::default(),
        }
    }
}

/// One request, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Arrival order (1-based); entries are appended when the answer completes.
    pub seq: u64,
    /// Arrival time, RFC 3339 UTC.
    pub time: String,
    pub method: String,
    /// Raw request path.
    pub path: String,
    pub bucket: String,
    /// Decoded key ("" for none).
    pub key: String,
    /// Raw query string.
    pub query: String,
    pub range: Option<String>,
    pub range_behavior: Option<String>,
    pub if_match: Option<String>,
    /// HTTP status sent; 0 when the connection was reset before any answer.
    pub status: u16,
    /// "v1", "v4", "v1-query", "v4-query" or "anonymous".
    pub auth: String,
    /// Body bytes handed to the connection.
    pub bytes_sent: u64,
    /// Faults that fired, comma-separated.
    pub fault: Option<String>,
    /// Shaping wait before the answer (connection set-up + latency + jitter), microseconds.
    #[serde(default)]
    pub shaping_delay_us: u64,
    pub request_id: String,
    /// The server's address the request came in on (`127.0.0.3:PORT`).
    #[serde(default)]
    pub local_addr: String,
    /// The client's address and port: one per connection.
    #[serde(default)]
    pub peer_addr: String,
}

mod tls;

/// A running emulator. Runs on its own thread and Tokio runtime; stops on
/// [`Emulator::shutdown`] or drop.
pub struct Emulator {
    addr: SocketAddr,
    tls: bool,
    ca_pem: Option<PathBuf>,
    shared: Arc<state::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    /// Binds and starts serving. Callable from sync code and from inside another
    /// Tokio runtime.
    pub fn start(cfg: EmulatorConfig) -> std::io::Result<Emulator> {
        cfg.shaping
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let store = meta::MetaStore::new(&cfg.root)?;
        let log_file = match &cfg.log_file {
            Some(p) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            ),
            None => None,
        };
        let tls_acceptor = if cfg.tls {
            let out = cfg
                .tls_cert_out
                .clone()
                .unwrap_or_else(|| store.root().join(meta::META_DIR).join("ca.pem"));
            Some((tls::make_acceptor(&out)?, out))
        } else {
            None
        };
        let shared = Arc::new(state::Shared::new(
            store,
            cfg.credentials.clone(),
            cfg.public_read.clone(),
            cfg.path_style,
            cfg.admin,
            cfg.seed,
            cfg.faults.clone(),
            cfg.shaping.clone(),
            log_file,
        ));
        let std_listener = std::net::TcpListener::bind((cfg.host.as_str(), cfg.port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let mut also = Vec::new();
        for host in &cfg.also_hosts {
            let l = std::net::TcpListener::bind((host.as_str(), addr.port()))?;
            l.set_nonblocking(true)?;
            also.push(l);
        }
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("oss-emulator")
            .enable_all()
            .build()?;
        let sh = shared.clone();
        let acceptor = tls_acceptor.as_ref().map(|(a, _)| a.clone());
        let thread = std::thread::Builder::new()
            .name("oss-emulator-main".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("oss-emulator: listener: {e}");
                            return;
                        }
                    };
                    for l in also {
                        match tokio::net::TcpListener::from_std(l) {
                            // Until the runtime shuts down, after the main loop's stop.
                            Ok(l) => {
                                let never = Box::pin(std::future::pending::<()>());
                                tokio::spawn(accept_loop(l, sh.clone(), acceptor.clone(), never));
                            }
                            Err(e) => eprintln!("oss-emulator: listener: {e}"),
                        }
                    }
                    let stop = Box::pin(async move {
                        let _ = stop_rx.await;
                    });
                    accept_loop(listener, sh, acceptor, stop).await;
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(Emulator {
            addr,
            tls: cfg.tls,
            ca_pem: tls_acceptor.map(|(_, p)| p),
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn endpoint(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// The CA certificate (PEM) to trust, when serving TLS.
    pub fn ca_pem_path(&self) -> Option<PathBuf> {
        self.ca_pem.clone()
    }

    /// Replaces the fault rules (and re-seeds the fault generator, resetting counters).
    pub fn set_faults(&self, f: Faults) {
        self.shared.set_faults(f)
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Replaces the network shaping (re-seeding the jitter generator; the total bucket and
    /// every connection's bucket start again, full). It applies to requests that arrive
    /// from now on and to the rest of the bodies being sent. Refuses a cap of 0.
    pub fn set_shaping(&self, s: Shaping) -> Result<(), String> {
        self.shared.set_shaping(s)
    }

    pub fn shaping(&self) -> Shaping {
        self.shared.shaping()
    }

    pub fn create_bucket(&self, bucket: &str) -> std::io::Result<()> {
        self.shared.store.create_bucket(bucket)
    }

    /// Stores an object directly (creating the bucket), with fresh metadata.
    pub fn put_object(&self, bucket: &str, key: &str, data: &[u8]) -> std::io::Result<()> {
        self.put_object_meta(bucket, key, data).map(|_| ())
    }

    /// Like [`Emulator::put_object`], returning the metadata (ETag, CRC64, version id).
    pub fn put_object_meta(
        &self,
        bucket: &str,
        key: &str,
        data: &[u8],
    ) -> std::io::Result<meta::ObjectMeta> {
        check_key(key)?;
        self.shared.store.create_bucket(bucket)?;
        self.shared.store.put(bucket, key, data, None, Vec::new())
    }

    /// Deletes an object directly; returns whether it was there.
    pub fn delete_object(&self, bucket: &str, key: &str) -> std::io::Result<bool> {
        self.shared.store.delete(bucket, key)
    }

    /// Creates an object of `size` bytes of deterministic pseudo-random content.
    pub fn create_object(
        &self,
        bucket: &str,
        key: &str,
        size: u64,
    ) -> std::io::Result<meta::ObjectMeta> {
        check_key(key)?;
        self.shared.store.create_pseudo_random(bucket, key, size)
    }

    /// Current metadata of an object (computing it if needed).
    pub fn object_meta(
        &self,
        bucket: &str,
        key: &str,
    ) -> std::io::Result<Option<meta::ObjectMeta>> {
        Ok(self.shared.store.open(bucket, key)?.map(|(m, _)| m))
    }

    /// Path of the object's file.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.shared.store.object_path(bucket, key)
    }

    /// The request log in the order the requests arrived (`seq`), after waiting (up to 5 s) for
    /// the answers still being sent to finish, so that a test reading it right after its client
    /// returned sees every request of that work: an answer is logged when it is finished, a
    /// moment after its client saw the last byte, and a short answer to a later request (a 412)
    /// can finish before a streamed one.
    pub fn log(&self) -> Vec<LogEntry> {
        self.wait_idle(Duration::from_secs(5));
        let mut log = self.shared.log.lock().unwrap().clone();
        log.sort_by_key(|e| e.seq);
        log
    }

    /// Forgets the log, after waiting (up to 10 s) for the answers still being sent: an answer
    /// finishes, and is logged, a moment after its client saw its last byte, so a request of
    /// the work before could otherwise be logged after the clear.
    pub fn clear_log(&self) {
        self.wait_idle(Duration::from_secs(10));
        self.shared.log.lock().unwrap().clear()
    }

    /// The most requests (any client's) that were being answered at once since the last call,
    /// or since the server started; the count starts again from the requests in flight now.
    /// Tests of client-side concurrency bounds read it.
    pub fn take_peak_in_flight(&self) -> u64 {
        self.shared.take_peak_in_flight()
    }

    /// Waits until no request is being answered (every answer so far is in the log), at most
    /// `limit`; returns whether it got there. Tests that count requests or bytes exactly call
    /// it before reading the log.
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if self.shared.in_flight() == 0 {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn check_key(key: &str) -> std::io::Result<()> {
    meta::validate_key(key).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{}: {key:?}", e.message),
        )
    })
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_now();
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<state::Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) {
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok();
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let (io, reset) = conn::ConnIo::new(stream);
            match tls {
                None => conn::serve_connection(shared, io, peer, local, reset).await,
                Some(acc) => {
                    if let Ok(s) = acc.accept(io).await {
                        conn::serve_connection(shared, s, peer, local, reset).await
                    }
                }
            }
        });
    }
}
