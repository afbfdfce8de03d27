//! Failures below HTTP (connect, TLS, timeouts, resets) mapped to the SDK's error codes, with
//! the whole cause chain in the message.

use crate::error::{curl, Error, ErrorKind};

/// The text of an error and its sources.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// Maps a reqwest failure to `ClientError:<200000 + curl code>`.
pub(crate) fn map_reqwest_error(e: &reqwest::Error, host: &str) -> Error {
    let text = error_chain(e);
    let lower = text.to_ascii_lowercase();
    let (kind, code) = if e.is_timeout() || lower.contains("timed out") {
        (ErrorKind::Timeout, curl::OPERATION_TIMEDOUT)
    } else if lower.contains("certificate") || lower.contains("unknownissuer") {
        (ErrorKind::Transport, curl::PEER_FAILED_VERIFICATION)
    } else if lower.contains("dns error") || lower.contains("failed to lookup") {
        (ErrorKind::Transport, curl::COULDNT_RESOLVE_HOST)
    } else if e.is_connect() {
        (ErrorKind::Transport, curl::COULDNT_CONNECT)
    } else if e.is_request() && !e.is_body() {
        (ErrorKind::Transport, curl::SEND_ERROR)
    } else {
        (ErrorKind::Transport, curl::RECV_ERROR)
    };
    let hint = scheme_hint(e, &lower);
    Error::client(
        kind,
        code,
        format!("request to {host} failed: {text}{hint}"),
    )
    .with_host(host)
}

/// A hint when the endpoint's scheme does not match what the port speaks: TLS sent to a plain
/// HTTP port fails with a "corrupt message" (the answer is not a TLS record); plain HTTP sent
/// to a TLS port gets a TLS alert back, which does not parse as an HTTP status line.
fn scheme_hint(e: &reqwest::Error, lower: &str) -> &'static str {
    let https = e.url().is_some_and(|u| u.scheme() == "https");
    if https && (lower.contains("invalidcontenttype") || lower.contains("corrupt message")) {
        "; the server does not speak TLS on this port: should the endpoint be http:// rather than https://?"
    } else if !https && (lower.contains("invalid http version") || lower.contains("invalid status"))
    {
        "; the answer is not HTTP: if this port speaks TLS, the endpoint should be https:// rather than http://"
    } else {
        ""
    }
}
