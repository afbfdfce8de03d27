//! What the transport sends and gets back: an HTTP request before signing, a successful answer
//! with its connection permit, and the header and URL helpers both sides of the wire use.

use reqwest::header::HeaderMap;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::{Error, Result};

/// An HTTP request before signing.
#[derive(Debug, Clone)]
pub(crate) struct HttpRequest {
    pub method: reqwest::Method,
    pub bucket: String,
    pub key: String,
    pub query: Vec<(String, Option<String>)>,
    pub headers: Vec<(String, String)>,
    /// A complete URL sent as it is, unsigned (`ObjectRequest::url`).
    pub url: Option<String>,
}

impl HttpRequest {
    /// What the metrics see of it (`crate::metrics`, which knows no transport type).
    pub(crate) fn metrics_view(&self) -> crate::metrics::RequestView<'_> {
        crate::metrics::RequestView {
            method: self.method.as_str(),
            bucket: &self.bucket,
            key: &self.key,
            query: &self.query,
            headers: &self.headers,
            url: self.url.is_some(),
        }
    }
}

/// A successful answer (2xx, or 304 handled by the caller) holding its connection permit.
pub(crate) struct Response {
    pub resp: reqwest::Response,
    pub host: String,
    pub permit: OwnedSemaphorePermit,
    /// The attempt's metrics, reported when the body is read or the answer dropped.
    pub metrics: Option<Box<crate::metrics::Attempt>>,
}

pub(crate) fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_string())
}

/// An http(s) URL with a host, and its `host[:port]` (for errors).
pub(crate) fn parse_object_url(url: &str) -> Result<(reqwest::Url, String)> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::validate(format!("the URL is invalid: {e}")))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(Error::validate(format!(
            "the URL's scheme must be http or https, not {}",
            parsed.scheme()
        )));
    }
    let Some(h) = parsed.host_str() else {
        return Err(Error::validate("the URL has no host"));
    };
    let host = match parsed.port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_string(),
    };
    Ok((parsed, host))
}
