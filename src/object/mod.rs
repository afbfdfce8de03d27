//! Object reads: HeadObject, GetObjectMeta, ranged GET bodies, GetObject read piece by piece
//! (`ObjectReader`) or to a sink (to a file: `download::get_to_file`, which uses the
//! downloader's temp file and lock).
//!
//! The downloader uses `Client::get_range` and never builds HTTP requests itself.

use std::sync::Arc;

use bytes::Bytes;

use crate::cancel::Cancel;
use crate::client::Client;
use crate::crc64;
use crate::error::{Error, Result};
use crate::progress::ProgressFn;

pub(crate) mod answer;
mod body_reader;
pub mod prefetch;
pub(crate) mod read;

pub(crate) use body_reader::{BodyReader, Pinned};

/// The `response-*` query overrides of GetObject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseHeader {
    ContentType,
    ContentLanguage,
    Expires,
    CacheControl,
    ContentDisposition,
    ContentEncoding,
}

impl ResponseHeader {
    pub fn query_name(self) -> &'static str {
        match self {
            ResponseHeader::ContentType => "response-content-type",
            ResponseHeader::ContentLanguage => "response-content-language",
            ResponseHeader::Expires => "response-expires",
            ResponseHeader::CacheControl => "response-cache-control",
            ResponseHeader::ContentDisposition => "response-content-disposition",
            ResponseHeader::ContentEncoding => "response-content-encoding",
        }
    }
}

/// The parameters shared by every read of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectRequest {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    /// `If-Match` values (any may match).
    pub if_match: Vec<String>,
    /// `If-None-Match` values.
    pub if_none_match: Vec<String>,
    /// RFC 1123 GMT date.
    pub if_modified_since: Option<String>,
    /// RFC 1123 GMT date.
    pub if_unmodified_since: Option<String>,
    pub response_headers: Vec<(ResponseHeader, String)>,
    /// `x-oss-traffic-limit` in bit/s (245760..838860800); None = unlimited.
    pub traffic_limit: Option<u64>,
    /// Sends `x-oss-request-payer: requester`.
    pub request_payer: bool,
    /// A complete (typically presigned) URL to read instead of `bucket`/`key` on the client's
    /// endpoint: sent as it is, unsigned, with no query added (the C++ SDK's `GetObjectByUrl`).
    pub url: Option<String>,
}

/// What the server says about an object (from HEAD, GetObjectMeta or a GET's headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Size of the whole object (for a ranged GET: the total from Content-Range).
    pub content_length: u64,
    /// Verbatim, quotes included: `"5EB63BBBE01EEED093CB22BB8F5ACDC3"`.
    pub etag: String,
    pub last_modified: String,
    /// `x-oss-hash-crc64ecma`; None when the object has none.
    pub crc64: Option<u64>,
    pub version_id: Option<String>,
    pub request_id: String,
    pub content_type: String,
    pub object_type: String,
    /// `x-oss-meta-*` headers, names without the prefix, lower-case.
    pub user_meta: Vec<(String, String)>,
    /// Every response header (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Whether the call that returned this metadata checked every byte it delivered against the
    /// server's whole-object CRC64 (`x-oss-hash-crc64ecma`): a whole-object download or GetObject
    /// with CRC checking on and the header present. `false` for HEAD / GetObjectMeta, for a
    /// range (no CRC of a range is published), with CRC checking off, and when the server sent
    /// no CRC64 (a proxy, a gateway or another S3-like server): then the bytes were checked for
    /// length and pinned to one ETag, but not verified end to end.
    pub verified: bool,
}

/// An inclusive byte range `first..=last`; `last == u64::MAX` means "to the end".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

// Never empty (`last >= first`), so no `is_empty` beside `len`.
#[allow(clippy::len_without_is_empty)]
impl ByteRange {
    /// The number of bytes of a closed range (an open one, `last == u64::MAX`, has no length:
    /// it saturates).
    pub fn len(&self) -> u64 {
        (self.last - self.first).saturating_add(1)
    }
}

/// A GET answer whose status, Content-Range and length have been checked; read it with `chunk`.
pub struct ObjectBody {
    /// Headers of the answer. `content_length` is the whole object's size.
    pub meta: ObjectMeta,
    /// Offset in the object of the first body byte.
    pub offset: u64,
    /// Number of body bytes the answer promises.
    pub len: u64,
    pub(crate) inner: crate::transport::Body,
}

impl ObjectBody {
    /// The next piece of the body; `Ok(None)` once exactly `len` bytes were delivered.
    /// Fails with a retryable transport error (`ClientError:200018`) when the body ends early,
    /// with `Timeout` when no byte arrives within the idle timeout, and with `Cancelled`.
    /// Applies the client's aggregate receive rate limit.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        self.inner.chunk().await
    }
}

impl Client {
    /// `HEAD /key`.
    /// The client's call timeout (`Config::call_timeout`) is a deadline over the whole call.
    pub async fn head_object(&self, req: &ObjectRequest, cancel: &Cancel) -> Result<ObjectMeta> {
        read::head(self, req, false, &self.call_cancel(cancel.clone())).await
    }

    /// `HEAD /key?objectMeta`, within the client's call timeout as [`Client::head_object`].
    pub async fn get_object_meta(
        &self,
        req: &ObjectRequest,
        cancel: &Cancel,
    ) -> Result<ObjectMeta> {
        read::head(self, req, true, &self.call_cancel(cancel.clone())).await
    }

    /// `GET /key`, for `range` with `x-oss-range-behavior: standard` (206 and a matching
    /// Content-Range required), otherwise the whole object (200 required). `pin_etag` adds
    /// `If-Match` (replacing the request's own) so that every part reads the same version;
    /// a 412 on a pinned request becomes `ObjectChanged`. Retries per the client's policy
    /// until the answer's headers arrive; body failures are the caller's to resume.
    pub async fn get_range(
        &self,
        req: &ObjectRequest,
        range: Option<ByteRange>,
        pin_etag: Option<&str>,
        cancel: &Cancel,
    ) -> Result<ObjectBody> {
        read::get(self, req, range, pin_etag, cancel).await
    }
}

/// Bounds of `x-oss-traffic-limit` in bit/s (the server's).
pub const MIN_TRAFFIC_LIMIT: u64 = 245_760;
pub const MAX_TRAFFIC_LIMIT: u64 = 838_860_800;

/// The traffic-limit rule, for every caller (the C ABI, the downloader's validation, the
/// request builder): `bits_per_sec` within the server's bounds.
pub fn check_traffic_limit(bits_per_sec: u64) -> Result<u64> {
    if (MIN_TRAFFIC_LIMIT..=MAX_TRAFFIC_LIMIT).contains(&bits_per_sec) {
        Ok(bits_per_sec)
    } else {
        Err(Error::validate(format!(
            "the traffic limit must be between {MIN_TRAFFIC_LIMIT} and {MAX_TRAFFIC_LIMIT} bit/s, got {bits_per_sec}"
        )))
    }
}

/// The rule of the date conditions (`If-Modified-Since`, `If-Unmodified-Since`), for every
/// caller (the C ABI's setters, every HEAD or GET sent, the downloader's validation): an RFC 1123
/// GMT date. A date the server cannot parse would be ignored by it, and the condition with it.
pub fn check_http_date(v: &str, what: &str) -> Result<()> {
    httpdate::parse_http_date(v).map(|_| ()).map_err(|_| {
        Error::validate(format!(
            "{what} must be an RFC 1123 GMT date like 'Fri, 13 Nov 2015 14:47:53 GMT', got '{}'",
            v.escape_debug()
        ))
    })
}

impl ObjectRequest {
    /// Checks the date conditions with [`check_http_date`].
    pub fn check_conditions(&self) -> Result<()> {
        if let Some(d) = &self.if_modified_since {
            check_http_date(d, "If-Modified-Since")?;
        }
        if let Some(d) = &self.if_unmodified_since {
            check_http_date(d, "If-Unmodified-Since")?;
        }
        Ok(())
    }
}

/// Turns a user range `(start, end)` (end = -1: to the end) into a `ByteRange`.
pub fn user_range(range: Option<(i64, i64)>) -> Result<Option<ByteRange>> {
    match range {
        None => Ok(None),
        Some((start, end)) => {
            if start < 0 || end < -1 || (end >= 0 && end < start) {
                return Err(Error::validate(format!(
                    "Invalid range {start}-{end}: start must be >= 0 and end >= start (or -1 for the end of the object)"
                )));
            }
            Ok(Some(ByteRange {
                first: start as u64,
                last: if end == -1 { u64::MAX } else { end as u64 },
            }))
        }
    }
}

/// The error of a read that needs a second request for an object whose answer carried no ETag.
///
/// Why refuse rather than pin otherwise: the parts (or the rest of a cut body) must come from the
/// version the first answer came from, and only an ETag names a version. `Last-Modified` has a
/// one-second resolution (two writes within a second share it, and a same-size rewrite then
/// mixes unseen), and `If-Unmodified-Since` is a date comparison that proxies and S3-like
/// servers may ignore. OSS always sends an ETag; a server that does not gets one-request reads
/// (a single part) and nothing more. (The download refuses before its temp file exists:
/// `download::download`.)
pub(crate) fn unpinnable(req: &ObjectRequest, what: &str) -> Error {
    Error::client(
        crate::error::ErrorKind::Transport,
        crate::error::curl::RECV_ERROR,
        format!(
            "{what} {}/{}: the server's answer has no ETag, so the later requests of this read \
             cannot be pinned to the version the first answer came from (mixed versions could not \
             be detected); refused. A read that fits in one request needs no pin: a part size at \
             least the object's size downloads it in one",
            req.bucket, req.key
        ),
    )
}

/// The one whole-object check: `crc`, the CRC64 of every byte read of an object whose answer
/// said `meta`, against the server's `x-oss-hash-crc64ecma`, when `whole` (the whole object was
/// read, with CRC checking on) and the server sent one. `Ok(true)`: verified end to end;
/// `Ok(false)`: not checked (the bytes were pinned to one ETag and length-checked, not verified).
pub(crate) fn check_whole_object(
    req: &ObjectRequest,
    meta: &ObjectMeta,
    whole: bool,
    crc: u64,
) -> Result<bool> {
    match meta.crc64.filter(|_| whole) {
        None => Ok(false),
        Some(server) if server == crc => Ok(true),
        Some(server) => Err(Error::crc_mismatch(format!(
            "CRC64 mismatch for {}/{}: computed {crc}, the server says {server}",
            req.bucket, req.key
        ))
        .with_request_id(meta.request_id.clone())),
    }
}

impl Client {
    /// GetObject, streaming every body byte to `sink` in order (an [`ObjectReader`] read to
    /// its end). Returns the object's metadata (from the first answer). The client's call
    /// timeout (`Config::call_timeout`) is a deadline over the whole call, retries included.
    pub async fn get_object_with<F>(
        &self,
        req: &ObjectRequest,
        range: Option<(i64, i64)>,
        progress: Option<ProgressFn>,
        cancel: &Cancel,
        mut sink: F,
    ) -> Result<ObjectMeta>
    where
        F: FnMut(&[u8]) -> Result<()> + Send,
    {
        let cancel = &self.call_cancel(cancel.clone());
        let mut reader = ObjectReader::open(self, req, range, cancel).await?;
        let total = reader.len();
        if let Some(p) = &progress {
            p(0, 0, total);
        }
        while let Some(data) = reader.next_chunk().await? {
            sink(&data)?;
            if let Some(p) = &progress {
                p(data.len() as u64, reader.delivered(), total);
            }
        }
        Ok(reader.meta)
    }
}

/// A GetObject read piece by piece. A body cut mid-way is resumed from the byte where it stopped
/// (pinned to the first answer's ETag), within the retry budget of every body read
/// (`body_reader`). A whole-object read is checked against `x-oss-hash-crc64ecma` when CRC is
/// on, after its last byte: a mismatch is the error of the read that would have ended it, never
/// a silent end. Holds one of the client's connections until dropped.
pub struct ObjectReader {
    body: BodyReader,
    pin: Arc<Pinned>,
    meta: ObjectMeta,
    first: u64,
    total: u64,
    /// The CRC64 of the bytes so far, of a whole-object read with CRC checking on.
    crc: Option<u64>,
    /// Set once the end was reached (`Ok(None)`) or an error returned: every later read
    /// returns the same.
    outcome: Option<Result<()>>,
}

impl ObjectReader {
    /// Sends the GET (whole object, or `range` as in [`user_range`]) and checks the answer's
    /// headers; no body byte is read yet. `cancel` applies to every later read, and so does the
    /// client's call timeout (`Config::call_timeout`), a deadline from now.
    pub async fn open(
        client: &Client,
        req: &ObjectRequest,
        range: Option<(i64, i64)>,
        cancel: &Cancel,
    ) -> Result<ObjectReader> {
        let want = user_range(range)?;
        let cancel = &client.call_cancel(cancel.clone());
        let body = client.get_range(req, want, None, cancel).await?;
        let meta = body.meta.clone();
        let (first, total) = (body.offset, body.len);
        let whole = want.is_none() || (first == 0 && total == meta.content_length);
        let pin = Arc::new(Pinned::of(client, req.clone(), &meta, "GetObject"));
        let reader = BodyReader::new(pin.clone(), None, cancel.clone(), first, first + total);
        Ok(ObjectReader {
            body: reader.with_first(body, false),
            pin,
            crc: (whole && client.config().enable_crc64).then_some(0),
            meta,
            first,
            total,
            outcome: None,
        })
    }

    /// The first answer's metadata (`content_length` is the whole object's size).
    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    /// The number of bytes this read delivers (the range's, or the object's).
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether it delivers no byte at all (an empty object).
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.body.position() - self.first
    }

    /// The next piece of the object, in order; `Ok(None)` at the end, once the CRC64 check
    /// (whole objects, CRC on) passed. After an error or the end, returns the same again.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if let Some(outcome) = &self.outcome {
            return outcome.clone().map(|()| None);
        }
        let r = self.next_chunk_inner().await;
        match &r {
            Ok(Some(_)) => {}
            Ok(None) => self.outcome = Some(Ok(())),
            Err(e) => self.outcome = Some(Err(e.clone())),
        }
        r
    }

    async fn next_chunk_inner(&mut self) -> Result<Option<Bytes>> {
        match self.body.next_chunk().await? {
            Some(data) => {
                if let Some(crc) = &mut self.crc {
                    *crc = crc64::update(*crc, &data);
                }
                Ok(Some(data))
            }
            None => {
                self.check_crc()?;
                Ok(None)
            }
        }
    }

    /// Checks the whole object's CRC64 (`check_whole_object`) and marks the metadata verified
    /// when it matched.
    fn check_crc(&mut self) -> Result<()> {
        let (whole, crc) = (self.crc.is_some(), self.crc.unwrap_or(0));
        self.meta.verified = check_whole_object(&self.pin.req, &self.meta, whole, crc)?;
        Ok(())
    }
}
