//! hyperread: an experiment of the bench, not a reference and not the library.
//!
//! The library reads bodies through reqwest, whose connector cannot be given the connection's
//! I/O: over HTTPS rustls then reads one TLS record (16 KiB) per `recv` and tokio-rustls hands
//! hyper one record's plaintext per read, so a GiB is ~66,000 system calls and as many body
//! chunks (BENCHMARKS.md "Where the CPU goes"). This program downloads the way the library does
//! at its defaults (hyper 1 through hyper-util's client, a tokio runtime of 2 workers, N ranged
//! GETs of one object at a time, the CRC-64 over each chunk, each chunk copied into 4 KiB-aligned
//! 1 MiB buffers written with `O_DIRECT` `pwrite` on the blocking pool, two buffers per part),
//! with a connector of its own, so that what owning the I/O would save can be measured first:
//!
//!   --below BYTES   a read buffer under TLS (tokio's `BufReader`): one `recv` for many records
//!   --fill          reads above TLS (or TCP) repeated until hyper's buffer is full or the socket
//!                   has nothing more: fewer, larger body chunks
//!   --read-buf BYTES  hyper's read buffer of exactly this size (`http1_read_buf_exact_size`;
//!                   0: hyper's adaptive buffer, as through reqwest)
//!   --discard       no file: each full buffer is dropped after its CRC (a stream read into
//!                   memory, as `curl -o /dev/null` or a reader's caller)
//!   --raw           (HTTP) no HTTP library: each connection's GET written by hand and its body
//!                   read by tokio straight into the aligned buffer (the body path of our own
//!                   that the measurements point to, on the same runtime and writer)
//!
//!   hyperread --url http(s)://127.0.0.1:PORT/BUCKET/KEY --size BYTES --output FILE
//!             [--connections 3] [--part-size 8388608] [--below 0] [--fill] [--read-buf 0]
//!             [--ca-file PEM]
//!
//! The object must be readable anonymously (the emulator's `--public-read BUCKET`). Prints one
//! JSON line: seconds, bytes, chunks, crc64 (of the whole object, parts combined in order).

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio::net::TcpStream;

const ALIGN: usize = 4096;
const BUFFER: usize = 1 << 20;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
struct Args {
    url: http::Uri,
    size: u64,
    output: String,
    connections: usize,
    part_size: u64,
    below: usize,
    fill: bool,
    read_buf: usize,
    ca_file: Option<String>,
    raw: bool,
    discard: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        url: http::Uri::from_static("http://127.0.0.1/"),
        size: 0,
        output: String::new(),
        connections: 3,
        part_size: 8 << 20,
        below: 0,
        fill: false,
        read_buf: 0,
        ca_file: None,
        raw: false,
        discard: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if ["--fill", "--raw", "--discard"].contains(&flag.as_str()) {
            a.fill |= flag == "--fill";
            a.raw |= flag == "--raw";
            a.discard |= flag == "--discard";
            continue;
        }
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = v.parse().expect("--url"),
            "--size" => a.size = v.parse().expect("--size"),
            "--output" => a.output = v,
            "--connections" => a.connections = v.parse().expect("--connections"),
            "--part-size" => a.part_size = v.parse().expect("--part-size"),
            "--below" => a.below = v.parse().expect("--below"),
            "--read-buf" => a.read_buf = v.parse().expect("--read-buf"),
            "--ca-file" => a.ca_file = Some(v),
            _ => panic!("unknown option {flag}"),
        }
    }
    assert!(
        a.size > 0 && !a.output.is_empty(),
        "--size and --output are needed"
    );
    a
}

/// The TCP stream under TLS: as it is, or behind a read buffer.
enum Below {
    Raw(TcpStream),
    Buf(BufReader<TcpStream>),
}

impl AsyncRead for Below {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Below::Raw(s) => Pin::new(s).poll_read(cx, buf),
            Below::Buf(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Below {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Below::Raw(s) => Pin::new(s).poll_write(cx, b),
            Below::Buf(s) => Pin::new(s).poll_write(cx, b),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Below::Raw(s) => Pin::new(s).poll_flush(cx),
            Below::Buf(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Below::Raw(s) => Pin::new(s).poll_shutdown(cx),
            Below::Buf(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

enum Io {
    Plain(Below),
    Tls(Box<tokio_rustls::client::TlsStream<Below>>),
}

/// A connection: its I/O, and whether reads are repeated to fill the caller's buffer.
struct Stream {
    io: Io,
    fill: bool,
}

impl Stream {
    fn read_once(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.io {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.fill {
            return this.read_once(cx, buf);
        }
        let mut got = false;
        loop {
            let before = buf.filled().len();
            match this.read_once(cx, buf) {
                Poll::Ready(Ok(())) => {
                    if buf.filled().len() == before || buf.remaining() == 0 {
                        return Poll::Ready(Ok(()));
                    }
                    got = true;
                }
                // What was read goes up first; the error comes again on the next read.
                Poll::Ready(Err(e)) if !got => return Poll::Ready(Err(e)),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending if got => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_write(cx, b),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, b),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

#[derive(Clone)]
struct Connector {
    tls: Option<tokio_rustls::TlsConnector>,
    below: usize,
    fill: bool,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let me = self.clone();
        Box::pin(async move {
            let host = uri.host().ok_or("no host")?.to_string();
            let port = uri
                .port_u16()
                .unwrap_or(if me.tls.is_some() { 443 } else { 80 });
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let below = match me.below {
                0 => Below::Raw(tcp),
                n => Below::Buf(BufReader::with_capacity(n, tcp)),
            };
            let io = match &me.tls {
                None => Io::Plain(below),
                Some(tls) => {
                    let name = ServerName::try_from(host)?;
                    Io::Tls(Box::new(tls.connect(name, below).await?))
                }
            };
            Ok(TokioIo::new(Stream { io, fill: me.fill }))
        })
    }
}

/// A 4 KiB-aligned buffer of `BUFFER` bytes.
struct Aligned {
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new() -> Aligned {
        let mem = vec![0u8; BUFFER + ALIGN];
        let start = mem.as_ptr().align_offset(ALIGN);
        Aligned { mem, start, len: 0 }
    }
    fn room(&self) -> usize {
        BUFFER - self.len
    }
    fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.room());
        let at = self.start + self.len;
        self.mem[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }
}

type Write = tokio::task::JoinHandle<io::Result<Aligned>>;

/// Writes `buf` at `offset` on the blocking pool (the tail zero-padded to a whole block, as
/// `O_DIRECT` needs; the file is cut to its size at the end).
fn write(file: Arc<File>, mut buf: Aligned, offset: u64) -> Write {
    tokio::task::spawn_blocking(move || {
        let padded = buf.len.div_ceil(ALIGN) * ALIGN;
        let s = buf.start;
        buf.mem[s + buf.len..s + padded].fill(0);
        file.write_all_at(&buf.mem[s..s + padded], offset)?;
        buf.len = 0;
        Ok(buf)
    })
}

/// A part's two aligned buffers: one filling, one being written.
struct PartOut {
    file: Arc<File>,
    filling: Aligned,
    spare: Option<Aligned>,
    inflight: Option<Write>,
    offset: u64,
    /// No writes: a full buffer is reused at once.
    discard: bool,
}

impl PartOut {
    fn new(file: &Arc<File>, offset: u64, discard: bool) -> PartOut {
        PartOut {
            file: file.clone(),
            filling: Aligned::new(),
            spare: Some(Aligned::new()),
            inflight: None,
            offset,
            discard,
        }
    }

    /// Hands a full buffer to the writer (after the one in flight is done).
    async fn flush_full(&mut self) -> io::Result<()> {
        if self.filling.room() > 0 {
            return Ok(());
        }
        if self.discard {
            self.filling.len = 0;
            return Ok(());
        }
        if let Some(w) = self.inflight.take() {
            self.spare = Some(w.await??);
        }
        let next = self.spare.take().expect("two buffers");
        let full = std::mem::replace(&mut self.filling, next);
        self.inflight = Some(write(self.file.clone(), full, self.offset));
        self.offset += BUFFER as u64;
        Ok(())
    }

    /// Writes what is left and waits for every write.
    async fn finish(mut self) -> io::Result<()> {
        if self.discard {
            return Ok(());
        }
        if let Some(w) = self.inflight.take() {
            w.await??;
        }
        if self.filling.len > 0 {
            write(self.file.clone(), self.filling, self.offset).await??;
        }
        Ok(())
    }
}

async fn part(
    client: &Client<Connector, Empty<bytes::Bytes>>,
    a: &Args,
    file: &Arc<File>,
    first: u64,
    end: u64,
    chunks: &AtomicU64,
) -> Result<u64, BoxError> {
    let req = http::Request::get(a.url.clone())
        .header("Range", format!("bytes={first}-{}", end - 1))
        .body(Empty::new())?;
    let resp = client.request(req).await?;
    if resp.status() != 206 {
        return Err(format!("status {}", resp.status()).into());
    }
    let mut body = resp.into_body();
    let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Xz);
    let mut out = PartOut::new(file, first, a.discard);
    let mut got = 0u64;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        chunks.fetch_add(1, Ordering::Relaxed);
        crc.update(&data);
        got += data.len() as u64;
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = out.filling.push(rest);
            rest = &rest[n..];
            out.flush_full().await?;
        }
    }
    out.finish().await?;
    if got != end - first {
        return Err(format!("part {first}: {got} bytes of {}", end - first).into());
    }
    Ok(crc.finalize())
}

/// One part over a kept connection of this task, no HTTP library: the head read into a small
/// buffer and parsed, the body read straight into the aligned buffers.
async fn raw_part(
    conn: &mut Option<TcpStream>,
    a: &Args,
    file: &Arc<File>,
    first: u64,
    end: u64,
    chunks: &AtomicU64,
) -> Result<u64, BoxError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = a.url.authority().ok_or("no authority")?.as_str();
    if conn.is_none() {
        let c = TcpStream::connect(host).await?;
        c.set_nodelay(true)?;
        *conn = Some(c);
    }
    let c = conn.as_mut().expect("just set");
    let path = a.url.path();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nRange: bytes={first}-{}\r\n\r\n",
        end - 1
    );
    c.write_all(head.as_bytes()).await?;
    let mut hb = vec![0u8; 16 << 10];
    let mut have = 0;
    let head_end = loop {
        let n = c.read(&mut hb[have..]).await?;
        if n == 0 {
            return Err("closed before the answer's head".into());
        }
        have += n;
        if let Some(i) = hb[..have].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if have == hb.len() {
            return Err("answer head too long".into());
        }
    };
    let text = std::str::from_utf8(&hb[..head_end])?;
    if !text.starts_with("HTTP/1.1 206") {
        return Err(format!("answer {}", text.lines().next().unwrap_or("")).into());
    }
    let len: u64 = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .ok_or("no Content-Length")?;
    if len != end - first {
        return Err(format!("{len} bytes for a part of {}", end - first).into());
    }
    let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Xz);
    let mut out = PartOut::new(file, first, a.discard);
    let early = &hb[head_end..have];
    crc.update(early);
    out.filling.push(early);
    let mut left = len - early.len() as u64;
    while left > 0 {
        let f = &mut out.filling;
        let at = f.start + f.len;
        let want = f.room().min(left as usize);
        let n = c.read(&mut f.mem[at..at + want]).await?;
        if n == 0 {
            return Err("body cut".into());
        }
        chunks.fetch_add(1, Ordering::Relaxed);
        crc.update(&f.mem[at..at + n]);
        f.len += n;
        left -= n as u64;
        out.flush_full().await?;
    }
    out.finish().await?;
    Ok(crc.finalize())
}

fn tls_config(ca_file: Option<&str>) -> Result<tokio_rustls::TlsConnector, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(f) = ca_file {
        for c in CertificateDer::pem_file_iter(f)? {
            roots.add(c?)?;
        }
    }
    // ring, as reqwest 0.12 (and so the library) uses it.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}

async fn run(a: Args) -> Result<(), BoxError> {
    let tls = match a.url.scheme_str() {
        Some("https") => Some(tls_config(a.ca_file.as_deref())?),
        _ => None,
    };
    let connector = Connector {
        tls,
        below: a.below,
        fill: a.fill,
    };
    let mut b = Client::builder(TokioExecutor::new());
    if a.read_buf > 0 {
        b.http1_read_buf_exact_size(a.read_buf);
    }
    let client: Client<Connector, Empty<bytes::Bytes>> = b.build(connector);
    let file = Arc::new(
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(&a.output)?,
    );
    let t0 = Instant::now();
    let parts = a.size.div_ceil(a.part_size);
    let next = Arc::new(AtomicU64::new(0));
    let chunks = Arc::new(AtomicU64::new(0));
    let crcs = Arc::new(std::sync::Mutex::new(vec![(0u64, 0u64); parts as usize]));
    let mut tasks = Vec::new();
    for _ in 0..a.connections {
        let (client, a, file, next, chunks, crcs) = (
            client.clone(),
            a.clone(),
            file.clone(),
            next.clone(),
            chunks.clone(),
            crcs.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= parts {
                    return Ok::<(), BoxError>(());
                }
                let first = i * a.part_size;
                let end = (first + a.part_size).min(a.size);
                let crc = match a.raw {
                    true => raw_part(&mut conn, &a, &file, first, end, &chunks).await?,
                    false => part(&client, &a, &file, first, end, &chunks).await?,
                };
                crcs.lock().unwrap()[i as usize] = (crc, end - first);
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    if !a.discard {
        file.set_len(a.size)?;
        file.sync_all()?;
    }
    let mut whole = 0u64;
    for (crc, len) in crcs.lock().unwrap().iter() {
        whole = crc_fast::checksum_combine(crc_fast::CrcAlgorithm::Crc64Xz, whole, *crc, *len);
    }
    println!(
        "{{\"seconds\":{:.3},\"bytes\":{},\"chunks\":{},\"crc64\":{}}}",
        t0.elapsed().as_secs_f64(),
        a.size,
        chunks.load(Ordering::Relaxed),
        whole
    );
    Ok(())
}

fn main() {
    let a = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(run(a)) {
        eprintln!("hyperread: {e}");
        std::process::exit(1);
    }
}
