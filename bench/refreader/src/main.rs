//! refreader: the bench's physical reference for one download (bench/run.py `--tools ref`).
//!
//! What a downloader cannot avoid, and nothing else: no HTTP library, no async runtime, no
//! checkpoint. A HEAD for the size and the server's CRC, then N blocking connections (one thread
//! each) that take parts (ranged GETs, one part per connection by default, as the library splits
//! at its defaults) from a shared counter. Each GET is written by hand and signed with OSS V1
//! (HMAC-SHA1, the emulator checks it); the answer's head is parsed by hand; the body is received
//! straight into 4 KiB-aligned buffers, its CRC-64 (crc-fast, the crate the library uses for
//! long inputs) updated over every received chunk while it is hot, and each full buffer handed to
//! the connection's writer thread, which `pwrite`s it with `O_DIRECT` at its offset and returns
//! the buffer. The object's tail is written as a zero-padded aligned block and the file cut to
//! the size at the end, then `fsync`. The part CRCs are combined and checked against the server's
//! `x-oss-hash-crc64ecma`; a mismatch is an error (exit 1).
//!
//! HTTPS (TLS 1.3): rustls (ring, as the library) does the handshake and a HEAD on each
//! connection; then its traffic secrets are extracted and the records are handled here, as kTLS
//! would: the ciphertext is received into the same aligned buffer and each record decrypted with
//! ring's `open_within`, which writes the plaintext at the buffer's write position in the same
//! pass (no user-space copy between the socket and the output buffer), requests sealed with
//! `seal_in_place_separate_tag`. Session tickets (handshake records after the handshake) are
//! skipped; a key update or an alert is an error.
//!
//!   refreader --endpoint http://127.0.0.1:PORT --bucket B --key K --output FILE
//!             [--connections 3] [--part-size BYTES] [--buffer 1048576] [--buffers 3]
//!             [--ca-file PEM] [--no-direct] [--bounce BYTES]
//!   --bounce (HTTP, an experiment, not the reference): receive into a reused buffer of that size
//!   and copy into the aligned buffer, as through an HTTP library's read buffer
//!   credentials: OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET (anonymous without them)
//!
//! Prints one JSON line: seconds, bytes, connections, parts, part_size, crc64.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Instant, SystemTime};

use base64::Engine;
use hmac::{Hmac, Mac};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

const ALIGN: usize = 4096;

type Res<T> = Result<T, String>;

struct Args {
    tls: bool,
    host: String, // host:port, also the Host header
    bucket: String,
    key: String,
    output: String,
    connections: usize,
    part_size: u64,
    buffer: usize,
    buffers: usize,
    ca_file: Option<String>,
    direct: bool,
    /// HTTP: receive into a reused buffer of this many bytes and copy from it into the aligned
    /// buffer (an HTTP library's read buffer, as hyper's), to measure what that copy costs; 0: off.
    bounce: usize,
    creds: Option<(String, String)>,
}

fn usage(msg: &str) -> ! {
    eprintln!("refreader: {msg}");
    eprintln!(
        "usage: refreader --endpoint URL --bucket B --key K --output FILE [--connections N] \
         [--part-size BYTES] [--buffer BYTES] [--buffers N] [--ca-file PEM] [--no-direct] \
         [--bounce BYTES]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let (mut endpoint, mut bucket, mut key, mut output) = (None, None, None, None);
    let mut a = Args {
        tls: false,
        host: String::new(),
        bucket: String::new(),
        key: String::new(),
        output: String::new(),
        connections: 3,
        part_size: 0,
        buffer: 1 << 20,
        buffers: 3,
        ca_file: None,
        direct: true,
        bounce: 0,
        creds: None,
    };
    while let Some(flag) = it.next() {
        if flag == "--no-direct" {
            a.direct = false;
            continue;
        }
        let v = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| -> u64 {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
        };
        match flag.as_str() {
            "--endpoint" => endpoint = Some(v),
            "--bucket" => bucket = Some(v),
            "--key" => key = Some(v),
            "--output" => output = Some(v),
            "--connections" => a.connections = num(&v) as usize,
            "--part-size" => a.part_size = num(&v),
            "--buffer" => a.buffer = num(&v) as usize,
            "--buffers" => a.buffers = num(&v) as usize,
            "--ca-file" => a.ca_file = Some(v),
            "--bounce" => a.bounce = num(&v) as usize,
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    let endpoint = endpoint.unwrap_or_else(|| usage("--endpoint is required"));
    a.bucket = bucket.unwrap_or_else(|| usage("--bucket is required"));
    a.key = key.unwrap_or_else(|| usage("--key is required"));
    a.output = output.unwrap_or_else(|| usage("--output is required"));
    let rest = if let Some(r) = endpoint.strip_prefix("https://") {
        a.tls = true;
        r
    } else if let Some(r) = endpoint.strip_prefix("http://") {
        r
    } else {
        usage("--endpoint must start with http:// or https://")
    };
    a.host = rest.trim_end_matches('/').to_string();
    if !a.host.contains(':') {
        a.host += if a.tls { ":443" } else { ":80" };
    }
    if a.connections == 0 || a.buffers < 2 || a.buffer == 0 || !a.buffer.is_multiple_of(ALIGN) {
        usage("--connections >= 1, --buffers >= 2, --buffer a multiple of 4096");
    }
    if !a.part_size.is_multiple_of(ALIGN as u64) {
        usage("--part-size must be a multiple of 4096");
    }
    if let (Ok(id), Ok(secret)) = (
        std::env::var("OSS_ACCESS_KEY_ID"),
        std::env::var("OSS_ACCESS_KEY_SECRET"),
    ) {
        a.creds = Some((id, secret));
    }
    a
}

/// Room after a buffer's data for TLS records that end beyond it (a record is at most
/// 5 + 2^14 + 256 bytes), rounded up.
const SLACK: usize = 20 << 10;

/// A 4 KiB-aligned buffer without `unsafe`: a Vec with room to slide to the next 4 KiB boundary,
/// and SLACK bytes after the `cap` data bytes (TLS ciphertext only; never written to the file).
struct AlignedBuf {
    v: Vec<u8>,
    off: usize,
    cap: usize,
}

impl AlignedBuf {
    fn new(cap: usize) -> Self {
        let v = vec![0u8; cap + SLACK + ALIGN];
        let off = v.as_ptr().align_offset(ALIGN);
        AlignedBuf { v, off, cap }
    }
    /// The data bytes (what goes to the file).
    fn buf(&mut self) -> &mut [u8] {
        &mut self.v[self.off..self.off + self.cap]
    }
    /// The data bytes and the slack after them.
    fn full(&mut self) -> &mut [u8] {
        &mut self.v[self.off..self.off + self.cap + SLACK]
    }
}

/// One direction of a TLS 1.3 connection after the handshake: key, IV, sequence number.
struct Direction {
    key: ring::aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Direction {
    fn new((seq, secrets): (u64, rustls::ConnectionTrafficSecrets)) -> Res<Self> {
        use ring::aead::{AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305};
        use rustls::ConnectionTrafficSecrets as S;
        let (alg, key, iv) = match &secrets {
            S::Aes128Gcm { key, iv } => (&AES_128_GCM, key, iv),
            S::Aes256Gcm { key, iv } => (&AES_256_GCM, key, iv),
            S::Chacha20Poly1305 { key, iv } => (&CHACHA20_POLY1305, key, iv),
            _ => return Err("unsupported TLS cipher".into()),
        };
        let key = ring::aead::UnboundKey::new(alg, key.as_ref()).map_err(|_| "bad TLS key")?;
        let iv: [u8; 12] = iv.as_ref().try_into().map_err(|_| "bad TLS IV")?;
        Ok(Direction {
            key: ring::aead::LessSafeKey::new(key),
            iv,
            seq,
        })
    }
    fn nonce(&mut self) -> ring::aead::Nonce {
        let mut n = self.iv;
        for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        self.seq += 1;
        ring::aead::Nonce::assume_unique_for_key(n)
    }
}

/// A TLS 1.3 connection whose records are handled here (see the module comment). The ciphertext
/// not yet decrypted lives in the caller's current buffer at `raw` (always at or after the
/// plaintext write position), or in `raw_carry` after `detach`; plaintext beyond a read's limit
/// waits in `plain_carry`.
struct Tls {
    sock: TcpStream,
    tx: Direction,
    rx: Direction,
    raw: Option<(usize, usize)>,
    raw_carry: Vec<u8>,
    plain_carry: Vec<u8>,
}

/// The length of the TLS record starting at `b[0]` (header included), if its header is there.
fn record_len(b: &[u8]) -> Option<usize> {
    (b.len() >= 5).then(|| 5 + u16::from_be_bytes([b[3], b[4]]) as usize)
}

impl Tls {
    /// Decrypts into `b[filled..limit]` (b = a buffer's `full()`), receiving as needed; returns
    /// the plaintext bytes added (0: the peer closed).
    fn read_at(&mut self, b: &mut [u8], filled: usize, limit: usize) -> io::Result<usize> {
        if !self.plain_carry.is_empty() {
            let n = (limit - filled).min(self.plain_carry.len());
            b[filled..filled + n].copy_from_slice(&self.plain_carry[..n]);
            self.plain_carry.drain(..n);
            return Ok(n);
        }
        let (mut rs, mut re) = match self.raw.take() {
            Some(r) => r,
            None => {
                let n = self.raw_carry.len();
                b[filled..filled + n].copy_from_slice(&self.raw_carry);
                self.raw_carry.clear();
                (filled, filled + n)
            }
        };
        if rs < filled {
            return Err(io::Error::other(
                "TLS: pending ciphertext behind the write position",
            ));
        }
        // receive no further than one record past the limit, so that what is left at a buffer
        // switch (copied by detach) stays small
        let bound = (limit + SLACK).min(b.len());
        let mut out = filled;
        loop {
            while let Some(len) = record_len(&b[rs..re]).filter(|&l| re - rs >= l) {
                let hdr = [b[rs], b[rs + 1], b[rs + 2], b[rs + 3], b[rs + 4]];
                if hdr[0] != 23 {
                    return Err(io::Error::other(format!("TLS record type {}", hdr[0])));
                }
                let nonce = self.rx.nonce();
                let aad = ring::aead::Aad::from(hdr);
                let plain = self
                    .rx
                    .key
                    .open_within(nonce, aad, &mut b[out..rs + len], rs + 5 - out..)
                    .map_err(|_| io::Error::other("TLS record does not decrypt"))?;
                let Some(i) = plain.iter().rposition(|&x| x != 0) else {
                    return Err(io::Error::other("TLS record without a content type"));
                };
                let kind = plain[i];
                rs += len;
                match kind {
                    23 if out + i > limit => {
                        self.plain_carry.extend_from_slice(&b[limit..out + i]);
                        out = limit;
                    }
                    23 => out += i,
                    22 => {} // NewSessionTicket: not used
                    21 => return Err(io::Error::other("TLS alert from the server")),
                    k => return Err(io::Error::other(format!("TLS inner content type {k}"))),
                }
                if out == limit {
                    break;
                }
            }
            if out > filled {
                self.raw = (rs < re).then_some((rs, re));
                return Ok(out - filled);
            }
            let need = record_len(&b[rs..re]).unwrap_or(5);
            if re == bound || rs + need > bound {
                // the partial record does not fit before the bound: move it to the write position
                b.copy_within(rs..re, out);
                re = out + (re - rs);
                rs = out;
            }
            let n = self.sock.read(&mut b[re..bound])?;
            if n == 0 {
                return Ok(0);
            }
            re += n;
        }
    }

    /// Before the caller's buffer goes away: the ciphertext pending in it is kept here.
    fn detach(&mut self, b: &mut [u8]) {
        if let Some((rs, re)) = self.raw.take() {
            self.raw_carry.extend_from_slice(&b[rs..re]);
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let len = (data.len() + 1 + 16) as u16;
        let hdr = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut rec = Vec::with_capacity(5 + len as usize);
        rec.extend_from_slice(&hdr);
        rec.extend_from_slice(data);
        rec.push(23);
        let nonce = self.tx.nonce();
        let tag = self
            .tx
            .key
            .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(hdr), &mut rec[5..])
            .map_err(|_| io::Error::other("TLS seal failed"))?;
        rec.extend_from_slice(tag.as_ref());
        self.sock.write_all(&rec)
    }
}

enum Conn {
    /// The socket and the bounce buffer (empty: off).
    Plain(TcpStream, Vec<u8>),
    Tls(Box<Tls>),
}

impl Conn {
    /// Reads into `buf`'s bytes `filled..limit`; returns how many (0: closed).
    fn read_at(&mut self, buf: &mut AlignedBuf, filled: usize, limit: usize) -> io::Result<usize> {
        match self {
            Conn::Plain(s, bounce) if !bounce.is_empty() => {
                let want = (limit - filled).min(bounce.len());
                let n = s.read(&mut bounce[..want])?;
                buf.buf()[filled..filled + n].copy_from_slice(&bounce[..n]);
                Ok(n)
            }
            Conn::Plain(s, _) => s.read(&mut buf.buf()[filled..limit]),
            Conn::Tls(t) => t.read_at(buf.full(), filled, limit),
        }
    }
    /// Called before `buf` is handed to the writer.
    fn detach(&mut self, buf: &mut AlignedBuf) {
        if let Conn::Tls(t) = self {
            t.detach(buf.full());
        }
    }
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Conn::Plain(s, _) => s.write_all(b),
            Conn::Tls(t) => t.write_all(b),
        }
    }
}

fn tls_config(ca_file: &Option<String>) -> Res<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    let path = ca_file
        .as_deref()
        .ok_or("HTTPS needs --ca-file (the emulator's CA)")?;
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| format!("{path}: {e}"))? {
        roots
            .add(cert.map_err(|e| format!("{path}: {e}"))?)
            .map_err(|e| format!("{path}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.enable_secret_extraction = true;
    Ok(Arc::new(cfg))
}

/// A connection and the answer to a HEAD sent on it. Over TLS the HEAD goes through rustls (so
/// that the handshake and the session tickets sent after it are behind us), then the secrets
/// are extracted; over HTTP the HEAD is sent on the new connection as any request.
fn connect(a: &Args, tls: &Option<Arc<rustls::ClientConfig>>) -> Res<(Conn, Head)> {
    let sock = TcpStream::connect(&a.host).map_err(|e| format!("connect {}: {e}", a.host))?;
    sock.set_nodelay(true).map_err(|e| e.to_string())?;
    let head_req = request(a, "HEAD", None, None);
    let mut hbuf = AlignedBuf::new(64 << 10);
    let Some(cfg) = tls else {
        let mut conn = Conn::Plain(sock, vec![0u8; a.bounce]);
        conn.write_all(head_req.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
        let head = read_head(&mut conn, &mut hbuf)?;
        return Ok((conn, head));
    };
    let host = a.host.rsplit_once(':').map(|(h, _)| h).unwrap_or(&a.host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(|e| e.to_string())?;
    let mut s = rustls::StreamOwned::new(conn, sock);
    s.write_all(head_req.as_bytes())
        .and_then(|_| s.flush())
        .map_err(|e| format!("TLS: {e}"))?;
    let mut filled = 0;
    let end = loop {
        let n = s
            .read(&mut hbuf.buf()[filled..])
            .map_err(|e| format!("TLS: {e}"))?;
        if n == 0 {
            return Err("connection closed before the HEAD answer".into());
        }
        filled += n;
        if let Some(p) = hbuf.buf()[..filled]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            break p + 4;
        }
    };
    if end != filled {
        return Err("bytes after the HEAD answer".into());
    }
    let head = parse_head(&hbuf.buf()[..end], 0)?;
    let (conn, sock) = s.into_parts();
    let secrets = conn
        .dangerous_extract_secrets()
        .map_err(|e| format!("TLS secrets: {e}"))?;
    let tls = Tls {
        sock,
        tx: Direction::new(secrets.tx)?,
        rx: Direction::new(secrets.rx)?,
        raw: None,
        raw_carry: Vec::new(),
        plain_carry: Vec::new(),
    };
    Ok((Conn::Tls(Box::new(tls)), head))
}

/// The request, signed with OSS V1 when there are credentials; the GETs carry the HEAD's ETag in
/// `If-Match` (as the library pins the object's version).
fn request(a: &Args, method: &str, range: Option<(u64, u64)>, etag: Option<&str>) -> String {
    let path = format!("/{}/{}", a.bucket, encode_key(&a.key));
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", a.host);
    if let Some((start, end)) = range {
        req += &format!("Range: bytes={start}-{end}\r\n");
    }
    if let Some(etag) = etag {
        req += &format!("If-Match: {etag}\r\n");
    }
    if let Some((id, secret)) = &a.creds {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let to_sign = format!("{method}\n\n\n{date}\n/{}/{}", a.bucket, a.key);
        let mut mac =
            Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(to_sign.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        req += &format!("Date: {date}\r\nAuthorization: OSS {id}:{sig}\r\n");
    }
    req + "\r\n"
}

fn encode_key(key: &str) -> String {
    let mut s = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            s.push(b as char);
        } else {
            s += &format!("%{b:02X}");
        }
    }
    s
}

struct Head {
    status: u16,
    content_length: Option<u64>,
    crc64: Option<u64>,
    etag: Option<String>,
    /// bytes of the body already in the buffer, moved to its start
    body_in_buf: usize,
}

/// Reads the answer's head into `buf` (recv into the same aligned buffer the body goes to),
/// moves whatever body came with it to the buffer's start.
fn read_head(conn: &mut Conn, buf: &mut AlignedBuf) -> Res<Head> {
    let cap = buf.cap;
    let mut filled = 0;
    let end = loop {
        let n = conn
            .read_at(buf, filled, cap)
            .map_err(|e| format!("recv: {e}"))?;
        if n == 0 {
            return Err("connection closed before the answer's head".into());
        }
        let from = filled.saturating_sub(3);
        filled += n;
        if let Some(p) = buf.buf()[from..filled]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            break from + p + 4;
        }
        if filled == cap {
            return Err("answer head larger than the buffer".into());
        }
    };
    let head = parse_head(&buf.buf()[..end], filled - end)?;
    buf.buf().copy_within(end..filled, 0);
    Ok(head)
}

fn parse_head(bytes: &[u8], body_in_buf: usize) -> Res<Head> {
    let text = std::str::from_utf8(bytes).map_err(|_| "answer head is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let (mut content_length, mut crc64, mut etag) = (None, None, None);
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                content_length = v.parse().ok();
            } else if k.eq_ignore_ascii_case("x-oss-hash-crc64ecma") {
                crc64 = v.parse().ok();
            } else if k.eq_ignore_ascii_case("etag") {
                etag = Some(v.to_string());
            }
        }
    }
    Ok(Head {
        status,
        content_length,
        crc64,
        etag,
        body_in_buf,
    })
}

/// A buffer to write: (buffer, file offset, valid bytes).
type Job = (AlignedBuf, u64, usize);

/// One connection: takes parts until none is left, returns [(part index, crc)].
fn worker(
    a: &Args,
    mut conn: Conn,
    size: u64,
    part_size: u64,
    etag: Option<&str>,
    next: &AtomicU64,
    file: &File,
) -> Res<Vec<(u64, u64)>> {
    let parts = size.div_ceil(part_size);
    let (free_tx, free_rx) = mpsc::channel::<AlignedBuf>();
    for _ in 0..a.buffers {
        free_tx
            .send(AlignedBuf::new(a.buffer))
            .expect("receiver alive");
    }
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let direct = a.direct;
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> Res<()> {
            for (mut buf, off, len) in job_rx {
                let n = if direct {
                    len.next_multiple_of(ALIGN)
                } else {
                    len
                };
                buf.buf()[len..n].fill(0); // the tail's padding (cut off at the end)
                file.write_all_at(&buf.buf()[..n], off)
                    .map_err(|e| format!("pwrite at {off}: {e}"))?;
                let _ = free_tx.send(buf);
            }
            Ok(())
        });
        let mut crcs = Vec::new();
        let result = (|| -> Res<()> {
            loop {
                let idx = next.fetch_add(1, Ordering::Relaxed);
                if idx >= parts {
                    return Ok(());
                }
                let start = idx * part_size;
                let len = part_size.min(size - start);
                conn.write_all(request(a, "GET", Some((start, start + len - 1)), etag).as_bytes())
                    .map_err(|e| format!("send: {e}"))?;
                let mut buf = free_rx.recv().map_err(|_| "the writer stopped")?;
                let head = read_head(&mut conn, &mut buf)?;
                if head.status != 206 || head.content_length != Some(len) {
                    return Err(format!(
                        "part {idx}: status {}, content-length {:?}, expected 206 and {len}",
                        head.status, head.content_length
                    ));
                }
                let mut digest = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Xz);
                let mut filled = head.body_in_buf;
                digest.update(&buf.buf()[..filled]);
                let (mut off, mut got) = (start, filled as u64);
                while got < len {
                    if filled == a.buffer {
                        conn.detach(&mut buf);
                        job_tx
                            .send((buf, off, filled))
                            .map_err(|_| "the writer stopped")?;
                        off += filled as u64;
                        buf = free_rx.recv().map_err(|_| "the writer stopped")?;
                        filled = 0;
                    }
                    let want = (a.buffer - filled).min((len - got) as usize);
                    let n = conn
                        .read_at(&mut buf, filled, filled + want)
                        .map_err(|e| format!("recv: {e}"))?;
                    if n == 0 {
                        return Err(format!("part {idx}: connection closed at {got} of {len}"));
                    }
                    digest.update(&buf.buf()[filled..filled + n]);
                    filled += n;
                    got += n as u64;
                }
                conn.detach(&mut buf);
                job_tx
                    .send((buf, off, filled))
                    .map_err(|_| "the writer stopped")?;
                crcs.push((idx, digest.finalize()));
            }
        })();
        drop(job_tx);
        let w = writer.join().map_err(|_| "writer panicked")?;
        w?; // the writer's error first: it is why the receiving side stopped
        result?;
        Ok(crcs)
    })
}

/// The reflected CRC-64/XZ polynomial.
const POLY: u64 = 0xC96C_5795_D787_0F42;

/// a * b mod P, reflected (bit 63 is x^0); as src/crc64.rs.
fn mult_mod_p(a: u64, mut b: u64) -> u64 {
    let (mut m, mut p) = (1u64 << 63, 0u64);
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        if m == 0 {
            break;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// crc(a ++ b) from crc(a), crc(b), len(b) (zlib's crc32_combine for CRC-64/XZ; src/crc64.rs).
fn combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    if len2 == 0 {
        return crc1;
    }
    let mut x2n = 1u64 << 62; // x^1, squared up to x^(2^k)
    for _ in 0..3 {
        x2n = mult_mod_p(x2n, x2n); // x^8: one byte
    }
    let (mut p, mut n) = (1u64 << 63, len2);
    while n != 0 {
        if n & 1 != 0 {
            p = mult_mod_p(x2n, p);
        }
        n >>= 1;
        x2n = mult_mod_p(x2n, x2n);
    }
    mult_mod_p(p, crc1) ^ crc2
}

fn run(a: &Args) -> Res<()> {
    let t0 = Instant::now();
    let tls = if a.tls {
        Some(tls_config(&a.ca_file)?)
    } else {
        None
    };
    // HEAD on the first connection: the size and the server's CRC
    let (first, head) = connect(a, &tls)?;
    if head.status != 200 {
        return Err(format!("HEAD: status {}", head.status));
    }
    let size = head.content_length.ok_or("HEAD: no Content-Length")?;
    let server_crc = head.crc64;
    let part_size = if a.part_size > 0 {
        a.part_size
    } else {
        size.div_ceil(a.connections as u64)
            .next_multiple_of(ALIGN as u64)
            .max(ALIGN as u64)
    };
    let parts = size.div_ceil(part_size);
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    if a.direct {
        opts.custom_flags(libc::O_DIRECT);
    }
    let file = opts
        .open(&a.output)
        .map_err(|e| format!("{}: {e}", a.output))?;
    if size > 0 {
        rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::empty(), 0, size)
            .map_err(|e| format!("fallocate: {e}"))?;
    }
    let nconn = (a.connections as u64).min(parts).max(1) as usize;
    let next = AtomicU64::new(0);
    let mut conns = vec![first];
    for _ in 1..nconn {
        // over HTTP a plain connect would do; the HEAD keeps both protocols alike (one more
        // request per connection; over TLS it puts the handshake and the tickets behind rustls)
        conns.push(connect(a, &tls)?.0);
    }
    let mut crcs: Vec<(u64, u64)> = Vec::new();
    if size > 0 {
        let results: Vec<Res<Vec<(u64, u64)>>> = std::thread::scope(|s| {
            let hs: Vec<_> = conns
                .into_iter()
                .map(|c| {
                    s.spawn(|| worker(a, c, size, part_size, head.etag.as_deref(), &next, &file))
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("worker panicked".into())))
                .collect()
        });
        for r in results {
            crcs.extend(r?);
        }
    }
    crcs.sort_unstable();
    let mut crc = 0u64;
    for (idx, c) in &crcs {
        let len = part_size.min(size - idx * part_size);
        crc = combine(crc, *c, len);
    }
    if crcs.len() as u64 != parts {
        return Err(format!("{} of {parts} parts done", crcs.len()));
    }
    if a.direct && !size.is_multiple_of(ALIGN as u64) {
        file.set_len(size).map_err(|e| format!("ftruncate: {e}"))?;
    }
    file.sync_all().map_err(|e| format!("fsync: {e}"))?;
    if let Some(want) = server_crc {
        if want != crc {
            return Err(format!(
                "CRC-64 mismatch: got {crc}, the server says {want}"
            ));
        }
    }
    println!(
        "{{\"seconds\": {:.6}, \"bytes\": {size}, \"connections\": {nconn}, \"parts\": {parts}, \
         \"part_size\": {part_size}, \"crc64\": \"{crc}\", \"server_crc64\": {}}}",
        t0.elapsed().as_secs_f64(),
        server_crc.map_or("null".to_string(), |c| format!("\"{c}\""))
    );
    Ok(())
}

fn main() {
    let a = parse_args();
    if let Err(e) = run(&a) {
        eprintln!("refreader: {e}");
        std::process::exit(1);
    }
}
