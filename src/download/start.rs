//! The first request of a download. A fresh download sends the ranged GET of its first part
//! (the answer tells the object, and its body becomes the first part's); a resume, a 0-byte
//! object and a GET that failed past its retries use a HEAD instead (see the module doc, step 3).

use super::request::DownloadRequest;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::Result;
use crate::log::{self, Level};
use crate::object::{ByteRange, ObjectBody, ObjectMeta, ObjectRequest};

/// The download's first request, which carries the user's conditions and tells the object's
/// metadata: the ranged GET of the first part for a fresh download (its body, not read yet, is
/// returned to be streamed into the temp file as that part), a HEAD for a resume (an existing
/// checkpoint: it is judged on the object's identity before any byte is asked for, and the
/// first part may well be on disk already).
///
/// The GET falls back to today's HEAD-first start when its answer cannot start the download:
/// a 416 (a 0-byte object, whatever the Range, or a range starting at or past the object's end:
/// the HEAD then tells the size and `plan::resolve_range` judges as before), or a retryable
/// failure left after the client's retries (5xx bursts, resets, a malformed answer: the HEAD
/// path's parts have their own retry budget, so the HEAD-less start is never less robust), but
/// not a connection refused or a name that did not resolve (the HEAD would go to the same
/// address: only the wait would double).
/// Every other error (NoSuchKey, 403, the user's conditions failing with 412/304...) is
/// returned as it is: the same code and kind as the HEAD gave, the error XML coming in the body
/// or in `x-oss-err`. The GET carries what the HEAD carried (conditions, version id, payer) plus
/// the traffic limit, not the response-* overrides.
pub(super) async fn start(
    client: &Client,
    req: &DownloadRequest,
    head_first: bool,
    cancel: &Cancel,
) -> Result<(ObjectMeta, Option<ObjectBody>)> {
    if head_first {
        return Ok((client.head_object(&req.object, cancel).await?, None));
    }
    let size = super::plan::first_request_size(req.part_size, req.throughput_target);
    let range = first_part_range(req.range, size);
    // Without the response-* overrides (a HEAD has none): the metadata returned is the object's
    // own (Content-Type...), as it was from the HEAD. The parts still send them.
    let first = ObjectRequest {
        response_headers: Vec::new(),
        ..req.object.clone()
    };
    match client.get_range(&first, Some(range), None, cancel).await {
        Ok(body) => {
            let meta = meta_of_first_answer(&body.meta);
            Ok((meta, Some(body)))
        }
        Err(e)
            if (e.http_status == 416 || (e.is_retryable() && !never_reached(&e)))
                && !cancel.is_cancelled() =>
        {
            log::log(Level::Info, || {
                format!(
                    "{}/{}: the first part's GET gave {e}; starting with a HEAD instead",
                    req.object.bucket, req.object.key
                )
            });
            Ok((client.head_object(&req.object, cancel).await?, None))
        }
        Err(e) => Err(e),
    }
}

/// Whether a failure is one where no connection to the server was made (it refused it, or its
/// name did not resolve): a HEAD to the same address after the GET's retries would only repeat
/// them, doubling the wait before the error.
fn never_reached(e: &crate::Error) -> bool {
    use crate::error::{curl, CLIENT_ERROR_BASE};
    [curl::COULDNT_CONNECT, curl::COULDNT_RESOLVE_HOST]
        .iter()
        .any(|c| e.code == format!("ClientError:{}", CLIENT_ERROR_BASE + c))
}

/// The bytes of the first part of a download: from the range's start (0 without a range),
/// `part_size` bytes, or fewer when the user's range ends before. An end past the object is
/// clamped by the server (`x-oss-range-behavior: standard`). The plan may raise the part size
/// for a huge object: the first part is then longer than this answer and its rest is asked for
/// by `part::download`. `range` was validated (start >= 0, end >= start or -1).
pub(super) fn first_part_range(range: Option<(i64, i64)>, part_size: u64) -> ByteRange {
    let (start, end) = range.unwrap_or((0, -1));
    let first = u64::try_from(start).unwrap_or(0);
    let mut last = first.saturating_add(part_size.max(1) - 1);
    if let Ok(end) = u64::try_from(end) {
        last = last.min(end.max(first));
    }
    ByteRange { first, last }
}

/// The object's metadata from the first part's 206, as a HEAD gives it: `content_length` is
/// already the whole object's size (Content-Range's total, set by `get_range`); the headers'
/// `content-length` is made that size too and `content-range` dropped, so that the headers
/// read like a HEAD's whichever request started the download.
pub(super) fn meta_of_first_answer(meta: &ObjectMeta) -> ObjectMeta {
    let mut meta = meta.clone();
    let size = meta.content_length.to_string();
    meta.headers.retain(|(k, _)| k != "content-range");
    for (k, v) in &mut meta.headers {
        if k == "content-length" {
            v.clone_from(&size);
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::MAX_PART_SIZE;

    #[test]
    fn the_first_request_asks_for_the_first_part_of_the_range() {
        let r = |first, last| ByteRange { first, last };
        assert_eq!(first_part_range(None, 100), r(0, 99));
        assert_eq!(first_part_range(Some((0, -1)), 100), r(0, 99));
        assert_eq!(first_part_range(Some((5, -1)), 100), r(5, 104));
        assert_eq!(first_part_range(Some((5, 10)), 100), r(5, 10));
        assert_eq!(first_part_range(Some((5, 5)), 100), r(5, 5));
        assert_eq!(first_part_range(Some((5, 104)), 100), r(5, 104));
        assert_eq!(first_part_range(Some((5, 105)), 100), r(5, 104));
        assert_eq!(
            first_part_range(Some((i64::MAX, -1)), MAX_PART_SIZE),
            r(i64::MAX as u64, i64::MAX as u64 + MAX_PART_SIZE - 1)
        );
    }

    #[test]
    fn the_first_answers_meta_reads_like_a_heads() {
        let meta = ObjectMeta {
            content_length: 1000,
            headers: vec![
                ("etag".into(), "\"E\"".into()),
                ("content-length".into(), "100".into()),
                ("content-range".into(), "bytes 0-99/1000".into()),
            ],
            ..ObjectMeta::default()
        };
        let m = meta_of_first_answer(&meta);
        assert_eq!(m.content_length, 1000);
        assert_eq!(
            m.headers,
            vec![
                ("etag".to_string(), "\"E\"".to_string()),
                ("content-length".to_string(), "1000".to_string()),
            ]
        );
    }
}
