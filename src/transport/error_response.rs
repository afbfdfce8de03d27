//! Failed answers: the error of a non-2xx answer from its XML body (`Code`, `Message`,
//! `RequestId`, `HostId`, `EC`, ...) or, for bodiless answers, the base64 `x-oss-err` header;
//! bounded reads, lenient parsing that never loses the status.

use std::time::Duration;

use base64::Engine as _;

use crate::error::Error;

use super::request::header_str;

/// Largest error body read into memory.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Builds the error for a failed answer: XML body, or `x-oss-err` for bodiless answers.
pub(crate) async fn read_error(
    mut resp: reqwest::Response,
    host: &str,
    method: &reqwest::Method,
    timeout: Duration,
) -> Error {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let header_request_id = header_str(&headers, "x-oss-request-id").unwrap_or_default();
    let mut body = Vec::new();
    let mut cut_short = false;
    if method != reqwest::Method::HEAD {
        // Bounded in size and in total time (not only between bytes): a body trickled one byte
        // at a time must not keep the attempt alive for minutes.
        let read = async {
            while let Ok(Some(c)) = resp.chunk().await {
                body.extend_from_slice(&c);
                if body.len() >= MAX_ERROR_BODY {
                    body.truncate(MAX_ERROR_BODY);
                    break;
                }
            }
        };
        cut_short = tokio::time::timeout(timeout, read).await.is_err();
    }
    if body.is_empty() {
        if let Some(b64) = header_str(&headers, "x-oss-err") {
            if let Ok(xml) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                body = xml;
            }
        }
    }
    let mut err = parse_error_body(status, &body);
    if cut_short {
        err.message.push_str(&format!(
            " (the error body was not complete after {} ms; read no further)",
            timeout.as_millis()
        ));
    }
    if err.request_id.is_empty() {
        err.request_id = header_request_id;
    }
    if err.ec.is_empty() {
        err.ec = header_str(&headers, "x-oss-ec").unwrap_or_default();
    }
    err.host = host.to_string();
    err
}

/// Turns an error answer into an `Error` (exposed for tests and fuzzing).
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    let fields = parse_error_xml(&text);
    let mut err = match fields.as_ref().and_then(|f| f.get("Code")) {
        Some(code) if !code.is_empty() => {
            let f = fields.as_ref().expect("fields exist");
            let mut message = f.get("Message").cloned().unwrap_or_default();
            if let Some(t) = f.get("ServerTime") {
                message.push_str(&format!(" (ServerTime={t})"));
            }
            let mut e = Error::server(code.clone(), message);
            e.request_id = f.get("RequestId").cloned().unwrap_or_default();
            e.ec = f.get("EC").cloned().unwrap_or_default();
            e
        }
        _ => {
            let message = if text.trim().is_empty() {
                format!("HTTP {status} with no error body")
            } else {
                let t: String = text.chars().take(512).collect();
                format!("HTTP {status} with an unparseable error body: {t}")
            };
            Error::server(format!("ServerError:{status}"), message)
        }
    };
    err.http_status = status;
    err
}

/// The child elements of `<Error>` as name -> text, or None when the body is no such XML.
pub(crate) fn parse_error_xml(text: &str) -> Option<std::collections::HashMap<String, String>> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut fields = std::collections::HashMap::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut current: Option<String> = None;
    let mut value = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                if depth == 1 {
                    if name != "Error" {
                        return None;
                    }
                    saw_root = true;
                } else if depth == 2 {
                    current = Some(name);
                    value.clear();
                }
            }
            Ok(Event::Text(t)) => {
                if depth == 2 {
                    value.push_str(&t.unescape().ok()?);
                }
            }
            Ok(Event::CData(t)) => {
                if depth == 2 {
                    value.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(_)) => {
                if depth == 2 {
                    if let Some(n) = current.take() {
                        fields.insert(n, value.trim().to_string());
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Empty(e)) => {
                if depth == 1 {
                    let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                    fields.insert(name, String::new());
                } else if depth == 0 {
                    return None;
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    saw_root.then_some(fields)
}

pub(crate) fn server_time(err: &Error) -> Option<std::time::SystemTime> {
    // Stashed by `read_error` in `ec`-independent form: "ServerTime=<value>" in message tail.
    let marker = "ServerTime=";
    let idx = err.message.rfind(marker)?;
    let v = err.message[idx + marker.len()..].trim_end_matches(')');
    crate::date::parse_time(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_xml() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The specified key does not exist.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <HostId>bucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Key>a&amp;b</Key>
  <EC>0026-00000001</EC>
</Error>"#;
        let e = parse_error_body(404, body);
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.http_status, 404);
        assert_eq!(e.request_id, "5C3D9175B6FC201293AD****");
        assert_eq!(e.ec, "0026-00000001");
        assert_eq!(e.kind, crate::error::ErrorKind::Server);
    }

    #[test]
    fn unparseable_bodies_keep_status_and_text() {
        let e = parse_error_body(502, b"<html>bad gateway</html>");
        assert_eq!(e.code, "ServerError:502");
        assert!(e.message.contains("bad gateway"));
        let e = parse_error_body(503, b"");
        assert_eq!(e.code, "ServerError:503");
        assert!(e.is_retryable());
        assert!(!parse_error_body(404, b"").is_retryable());
    }

    #[test]
    fn server_time_is_parsed_for_skew() {
        let body = b"<Error><Code>RequestTimeTooSkewed</Code><Message>skewed</Message><ServerTime>2023-12-16T16:20:57.000Z</ServerTime></Error>";
        let e = parse_error_body(403, body);
        assert!(e.is_retryable());
        let t = server_time(&e).unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            1702743657
        );
    }
}
