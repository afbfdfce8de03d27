//! Entry points for the reliability suite's fuzzer (`tests/reliability/fuzz.rs`); not an API:
//! only with the `test-hooks` feature.

use crate::download::checkpoint::{self, Verdict};
use crate::download::plan::Plan;
/// `crate::object::answer::parse_content_range`.
pub fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    crate::object::answer::parse_content_range(v)
}

/// `crate::transport::error_response::parse_error_body`.
pub fn parse_error_body(status: u16, body: &[u8]) -> crate::error::Error {
    crate::transport::error_response::parse_error_body(status, body)
}

/// `crate::transport::error_response::parse_error_xml`.
pub fn parse_error_xml(text: &str) -> Option<std::collections::HashMap<String, String>> {
    crate::transport::error_response::parse_error_xml(text)
}

/// Parses checkpoint-file bytes as a resume does; on success, the record encoded again.
pub fn checkpoint_reencode(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    checkpoint::encode(&checkpoint::parse(bytes)?)
}

/// A checkpoint file for the record given as JSON (no checksum), sealed with its checksum:
/// lets the fuzzer reach the judgement of well-formed but hostile records.
pub fn checkpoint_seal(record_json: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let record: checkpoint::Record =
        serde_json::from_slice(record_json).map_err(|e| e.to_string())?;
    checkpoint::encode(&record)
}

/// Judges the checkpoint in `bytes` against the request and object recorded in the valid
/// checkpoint `expected` (its parts ignored), as a resume does. `Ok(true)`: it would be resumed.
pub fn checkpoint_would_resume(bytes: &[u8], expected: &[u8]) -> std::result::Result<bool, String> {
    let mut want = checkpoint::parse(expected)?;
    want.parts.clear();
    let plan = Plan::new(want.first, want.total, want.requested_part_size);
    let got = checkpoint::parse(bytes)?;
    Ok(got.verdict(&want, &plan) == Verdict::Resume)
}

/// `crate::date::parse_time` (Date, Last-Modified, ServerTime values).
pub fn parse_time(v: &str) -> Option<std::time::SystemTime> {
    crate::date::parse_time(v)
}

/// `crate::object::answer::meta_from_headers` over raw header pairs (invalid ones skipped).
pub fn meta_from_header_pairs(pairs: &[(&[u8], &[u8])]) -> crate::object::ObjectMeta {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(k),
            reqwest::header::HeaderValue::from_bytes(v),
        ) {
            h.append(k, v);
        }
    }
    crate::object::answer::meta_from_headers(&h)
}
