//! HTTP for the providers that fetch credentials (the ECS metadata service, STS): the library's
//! reqwest on the library's runtime, with a connect timeout and a deadline for the whole
//! exchange, a bounded answer body, and errors that never carry a URL (an STS URL or body may hold
//! a token or a signature).

use std::future::Future;
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::error::{Error, Result};

/// The most bytes of an answer read: credentials answers are a few hundred bytes.
const MAX_BODY: usize = 64 * 1024;

/// A client for credential fetches. `use_env_proxy`: false for the metadata service (a
/// link-local address no proxy can reach), true for STS (reqwest's `HTTPS_PROXY`/`NO_PROXY`).
pub(crate) fn client(
    connect_timeout: Duration,
    timeout: Duration,
    use_env_proxy: bool,
) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!(
            "oss-ffi/",
            env!("CARGO_PKG_VERSION"),
            " credentials"
        ))
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none());
    if !use_env_proxy {
        b = b.no_proxy();
    }
    b.build().map_err(|e| {
        Error::invalid_credentials(format!(
            "cannot build the HTTP client for credentials: {}",
            e.without_url()
        ))
    })
}

/// Sends a request and reads the answer: (status, body as text). `what` names the service in
/// errors ("the ECS metadata service at 127.0.0.1:8080").
pub(crate) async fn exchange(rb: reqwest::RequestBuilder, what: &str) -> Result<(u16, String)> {
    let failed = |e: reqwest::Error| {
        let why = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "cannot connect".to_string()
        } else {
            e.without_url().to_string()
        };
        Error::invalid_credentials(format!("{what}: {why}"))
    };
    let mut resp = rb.send().await.map_err(failed)?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::invalid_credentials(format!(
                "{what}: the answer is larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Runs `fut` to completion from synchronous code: on a thread of a multi-threaded runtime (a
/// provider asked from inside a request, e.g. through a C++ or C credentials callback) without
/// stalling that runtime's other tasks; elsewhere on the library's runtime (which must be
/// initialised).
pub(crate) fn wait<T, F>(fut: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| h.block_on(fut))
        }
        Ok(_) => Err(Error::invalid_credentials(
            "credentials that must be fetched cannot be waited for on a single-threaded async \
             runtime: use credentials_async",
        )),
        Err(_) => crate::runtime::block_on(fut),
    }
}

/// The host (and port) of a URL, for messages.
pub(crate) fn host_of(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "?".to_string(),
    }
}

/// Parses a service address: `host[:port]` (then `default_scheme`) or a URL. Plain `http` is
/// refused for anything but loopback when `https_only` (STS answers carry secrets).
pub(crate) fn service_url(s: &str, default_scheme: &str, https_only: bool) -> Result<reqwest::Url> {
    let s = s.trim().trim_end_matches('/');
    let text = if s.contains("://") {
        s.to_string()
    } else {
        format!("{default_scheme}://{s}")
    };
    let url = reqwest::Url::parse(&text)
        .map_err(|e| Error::validate(format!("invalid service address '{s}': {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if !https_only || is_loopback(&url) => {}
        other => {
            return Err(Error::validate(format!(
                "the service address '{s}' must use https{} (not {other})",
                if https_only {
                    " (plain http only on loopback)"
                } else {
                    " or http"
                }
            )))
        }
    }
    if url.host_str().is_none() || url.query().is_some() || url.path() != "/" {
        return Err(Error::validate(format!(
            "the service address '{s}' must be a scheme, a host and a port only"
        )));
    }
    Ok(url)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_addresses_plain_http_only_on_loopback() {
        assert!(service_url("sts.aliyuncs.com", "https", true).is_ok());
        assert!(service_url("http://127.0.0.1:8080", "https", true).is_ok());
        assert!(service_url("http://sts.aliyuncs.com", "https", true).is_err());
        assert!(service_url("http://100.100.100.200", "http", false).is_ok());
        assert!(service_url("ftp://x", "http", false).is_err());
        assert!(service_url("http://127.0.0.1/path", "http", false).is_err());
    }
}
