//! Object reads: HeadObject, GetObjectMeta, ranged GET bodies, GetObject to a file or a sink.
//!
//! The downloader uses `Client::get_range` and never builds HTTP requests itself.

use bytes::Bytes;

use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::Result;

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
}

/// An inclusive byte range `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    pub last: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }
    pub fn is_empty(&self) -> bool {
        false
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
    pub async fn head_object(&self, req: &ObjectRequest, cancel: &Cancel) -> Result<ObjectMeta> {
        crate::transport::head(self, req, false, cancel).await
    }

    /// `HEAD /key?objectMeta`.
    pub async fn get_object_meta(&self, req: &ObjectRequest, cancel: &Cancel) -> Result<ObjectMeta> {
        crate::transport::head(self, req, true, cancel).await
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
        crate::transport::get(self, req, range, pin_etag, cancel).await
    }
}
