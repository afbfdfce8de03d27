//! A tiny hostile HTTP/1.1 server on 127.0.0.1 for tests: every request gets whatever bytes the
//! test's handler returns (missing or garbage headers, absurd dates, escape sequences, bodies
//! trickled one byte at a time), then the connection is closed. One thread per connection;
//! stopped when dropped. Plain std, so it serves Rust tests and C programs alike.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The head of one request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back, step by step; the connection is closed after the last step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Bytes sent at once.
    Send(Vec<u8>),
    /// Bytes sent one at a time, `every` apart.
    Trickle { bytes: Vec<u8>, every: Duration },
}

/// An answer: status line and headers (as given, nothing added) then the steps.
pub fn answer(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<Step> {
    vec![Step::Send(head(status, headers)), Step::Send(body.to_vec())]
}

/// `HTTP/1.1 <status>` plus the headers and `Connection: close`, up to the blank line.
pub fn head(status: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("Connection: close\r\n\r\n");
    s.into_bytes()
}

/// The headers of a well-formed object answer of `len` bytes (HEAD or GET).
pub fn object_headers(len: u64) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Length", len.to_string()),
        ("ETag", "\"0123456789ABCDEF0123456789ABCDEF\"".to_string()),
        ("Last-Modified", "Tue, 01 Dec 2026 07:00:00 GMT".to_string()),
        ("x-oss-request-id", "HOSTILE0000000000000000".to_string()),
        ("Content-Type", "application/octet-stream".to_string()),
    ]
}

type Handler = dyn Fn(&Request, usize) -> Vec<Step> + Send + Sync;

pub struct HostileServer {
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl HostileServer {
    /// Serves every request with `handler(request, n)`, n = 0 for the first request.
    pub fn start(handler: impl Fn(&Request, usize) -> Vec<Step> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (stop2, requests2) = (stop.clone(), requests.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (handler, requests, stop) = (handler.clone(), requests2.clone(), stop2.clone());
                std::thread::spawn(move || serve(conn, &*handler, &requests, &stop));
            }
        });
        HostileServer {
            addr,
            stop,
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client of this server (static credentials `ak`/`sk`) with the configuration `cfg`.
    pub fn client(&self, cfg: oss_ffi::config::Config) -> oss_ffi::client::Client {
        oss_ffi::client::Client::new(
            &self.endpoint(),
            Arc::new(oss_ffi::credentials::StaticProvider::new("ak", "sk", None)),
            cfg,
        )
        .unwrap()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
    }
}

fn serve(
    mut conn: TcpStream,
    handler: &Handler,
    requests: &Mutex<Vec<Request>>,
    stop: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            _ => return,
        }
        if raw.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let req = Request {
        method: first.next().unwrap_or_default().to_string(),
        target: first.next().unwrap_or_default().to_string(),
        headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect(),
    };
    let n = {
        let mut all = requests.lock().unwrap();
        all.push(req.clone());
        all.len() - 1
    };
    for step in handler(&req, n) {
        match step {
            Step::Send(bytes) => {
                if conn.write_all(&bytes).is_err() {
                    return;
                }
            }
            Step::Trickle { bytes, every } => {
                for b in bytes {
                    if stop.load(Ordering::SeqCst) || conn.write_all(&[b]).is_err() {
                        return;
                    }
                    std::thread::sleep(every);
                }
            }
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Write);
    // Let the client read everything before the socket goes away.
    let mut sink = [0u8; 1024];
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}
