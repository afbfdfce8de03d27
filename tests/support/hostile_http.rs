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

/// [`answer`] with owned header values, as [`object_headers`] gives them.
pub fn answer_owned(status: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<Step> {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    answer(status, &h, body)
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

// --- A scripted bucket: listings whose pages the test writes, objects it serves -----------

/// One listed object as the page tells it (the listing may lie: the GET answers with the
/// [`FakeObject`] of the key, if any).
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key as OSS stores it; sent percent-encoded (`encoding-type=url`), so any byte (NUL
    /// included) can be listed.
    pub key: String,
    pub size: u64,
    pub etag: String,
}

impl Listed {
    pub fn new(key: &str, size: u64, etag: &str) -> Listed {
        Listed {
            key: key.to_string(),
            size,
            etag: etag.to_string(),
        }
    }
}

/// What a GET or HEAD of a key answers.
#[derive(Debug, Clone)]
pub struct FakeObject {
    pub body: Vec<u8>,
    pub etag: String,
    /// The `x-oss-hash-crc64ecma` sent: the body's own when `None`.
    pub crc64: Option<u64>,
    /// No byte of the object past this offset is ever sent (every answer cut there, the
    /// connection closed, whatever range was asked): all sent when `None`.
    pub cut_at: Option<usize>,
}

impl FakeObject {
    pub fn new(body: &[u8], etag: &str) -> FakeObject {
        FakeObject {
            body: body.to_vec(),
            etag: etag.to_string(),
            crc64: None,
            cut_at: None,
        }
    }
}

/// A listing page: entries, and the token of the next page (`IsTruncated` true) or none.
pub type Page = (Vec<Listed>, Option<String>);

/// `key` percent-encoded as OSS does with `encoding-type=url` (`/` kept).
pub fn url_encode_key(key: &str) -> String {
    let mut s = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// A ListObjectsV2 answer body for `page`.
pub fn listing_xml(bucket: &str, page: &Page) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>{bucket}</Name>\
         <EncodingType>url</EncodingType><KeyCount>{}</KeyCount><IsTruncated>{}</IsTruncated>",
        page.0.len(),
        page.1.is_some()
    );
    if let Some(t) = &page.1 {
        x.push_str(&format!(
            "<NextContinuationToken>{t}</NextContinuationToken>"
        ));
    }
    for e in &page.0 {
        x.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>2026-12-01T07:00:00.000Z</LastModified>\
             <ETag>{}</ETag><Size>{}</Size><StorageClass>Standard</StorageClass>\
             <Type>Normal</Type></Contents>",
            url_encode_key(&e.key),
            e.etag.replace('"', "&quot;"),
            e.size
        ));
    }
    x.push_str("</ListBucketResult>");
    x
}

/// The value of `name` in a query string, percent-decoded.
pub fn query_param(target: &str, name: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// A bucket on a [`HostileServer`] (path-style requests, `/<bucket>/<key>`): ListObjectsV2 asks
/// `pages(token)` (`None` for the first page), a GET or HEAD of a key answers its
/// [`FakeObject`] (a `Range` honoured) or 404 `NoSuchKey`.
pub fn fake_bucket(
    bucket: &str,
    pages: impl Fn(Option<&str>) -> Page + Send + Sync + 'static,
    objects: std::collections::HashMap<String, FakeObject>,
) -> HostileServer {
    let bucket = bucket.to_string();
    HostileServer::start(move |req, _| {
        let path = req.target.split('?').next().unwrap_or_default();
        let rest = path
            .strip_prefix(&format!("/{bucket}"))
            .unwrap_or(path)
            .trim_start_matches('/');
        let key = percent_encoding::percent_decode_str(rest)
            .decode_utf8_lossy()
            .into_owned();
        let xml = |status: &str, body: &str| {
            answer(
                status,
                &[
                    ("Content-Type", "application/xml"),
                    ("Content-Length", &body.len().to_string()),
                    ("x-oss-request-id", "HOSTILE000000000000000000"),
                ],
                body.as_bytes(),
            )
        };
        if key.is_empty() && query_param(&req.target, "list-type").is_some() {
            let token = query_param(&req.target, "continuation-token");
            return xml("200 OK", &listing_xml(&bucket, &pages(token.as_deref())));
        }
        let Some(o) = objects.get(&key) else {
            return xml(
                "404 Not Found",
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
                 <Message>The specified key does not exist.</Message>\
                 <RequestId>HOSTILE000000000000000000</RequestId></Error>",
            );
        };
        let total = o.body.len() as u64;
        let (status, start, end) = match req.header("range").and_then(|r| {
            let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
            let a: u64 = a.parse().ok()?;
            let b: u64 = if b.is_empty() {
                total - 1
            } else {
                b.parse().ok()?
            };
            (a <= b && b < total).then_some((a, b))
        }) {
            Some((a, b)) => ("206 Partial Content", a, b + 1),
            None => ("200 OK", 0, total),
        };
        let crc = o.crc64.unwrap_or_else(|| oss_ffi::crc64::checksum(&o.body));
        let mut headers = vec![
            ("Content-Length".to_string(), (end - start).to_string()),
            ("ETag".to_string(), o.etag.clone()),
            (
                "Last-Modified".to_string(),
                "Tue, 01 Dec 2026 07:00:00 GMT".to_string(),
            ),
            (
                "x-oss-request-id".to_string(),
                "HOSTILE000000000000000000".to_string(),
            ),
            (
                "Content-Type".to_string(),
                "application/octet-stream".to_string(),
            ),
            ("x-oss-object-type".to_string(), "Normal".to_string()),
        ];
        if status.starts_with("206") {
            headers.push((
                "Content-Range".to_string(),
                format!("bytes {start}-{}/{total}", end - 1),
            ));
        } else {
            headers.push(("x-oss-hash-crc64ecma".to_string(), crc.to_string()));
        }
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut body = o.body[start as usize..end as usize].to_vec();
        if let Some(cut) = o.cut_at {
            body.truncate((cut as u64).saturating_sub(start) as usize);
        }
        if req.method == "HEAD" {
            body.clear();
        }
        answer(status, &h, &body)
    })
}
