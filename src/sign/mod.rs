//! Request signing: V1 (`OSS ak:sig`, HMAC-SHA1) and V4 (`OSS4-HMAC-SHA256`).
//!
//! Both work on a [`SignableRequest`]: method, bucket, raw (unencoded) key, raw query
//! parameters and the headers to send. They add the headers they need (Date / x-oss-date,
//! x-oss-content-sha256, x-oss-security-token) and the Authorization header.

pub mod v1;
pub mod v4;

/// A request as the signers see it. Query values are raw (unencoded); `None` = bare key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignableRequest {
    pub method: String,
    /// Empty for service-level requests.
    pub bucket: String,
    /// Raw object key; empty for bucket-level requests.
    pub key: String,
    pub query: Vec<(String, Option<String>)>,
    /// Header names as sent; lookups are case-insensitive.
    pub headers: Vec<(String, String)>,
}

impl SignableRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets a header, replacing any with the same name.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }
}

/// Lower-cased name and trimmed value of every header that `keep` selects, sorted by name.
fn canonical_headers(req: &SignableRequest, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .filter(|(k, _)| keep(k))
        .collect();
    out.sort();
    out
}
