//! Downloading one part: ranged GETs pinned to the object's ETag, the body streamed into the temp
//! file through a `PartWriter`, a body cut mid-way resumed from the byte where it stopped.
//!
//! The first part of a fresh download starts from the download's first answer (the unpinned GET
//! that carried the user's conditions and told the object's size, `start` in `mod.rs`): its
//! body is streamed like any other, and whatever it did not deliver (a cut, or the rest of a part
//! raised above the requested part size) is fetched by pinned GETs as usual.
//!
//! Retry budget: `get_range` itself retries (per the client's policy) until an answer's headers
//! arrive; a body that fails later with a retryable error is resumed here, and so is an answer
//! whose headers fail the checks (wrong Content-Range or length) or a connection-level failure
//! left after the client's retries (but not a server error status: those the client retried). Failures that delivered
//! no byte count against `max_retries` and wait `retry_delay(n)`; a failure after progress resets
//! that count and resumes at once. The total number of resumes of one part is capped as well, so
//! a server that cuts every answer after a few bytes cannot keep a part alive forever.

use std::path::PathBuf;
use std::sync::Arc;

use super::part_writer::{BufferPool, PartWriter};
use super::plan::Part;
use super::progress::Progress;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::object::{ByteRange, ObjectBody, ObjectRequest};

/// Resumes of one part beyond `max_retries`, whatever the progress.
const MAX_RESUMES_EXTRA: u32 = 64;

/// What every part of one download shares.
pub struct PartContext {
    pub client: Client,
    /// The user's request without its conditions (they applied to the first request).
    pub request: ObjectRequest,
    /// The ETag every part is pinned to (`If-Match`); never empty (`download` refuses an
    /// object without one before any part runs, except one whose only part is the first answer:
    /// a request that part still needs fails with `object::unpinnable`).
    pub etag: String,
    /// The object's size, as seen by the first request (GET or HEAD).
    pub object_size: u64,
    pub cancel: Cancel,
    pub file: Arc<super::direct::FileWriter>,
    pub temp_path: Arc<PathBuf>,
    /// Object offset of file offset 0.
    pub first: u64,
    pub progress: Arc<Progress>,
    /// The write buffers, shared by the parts.
    pub buffers: Arc<BufferPool>,
}

/// Downloads `part` into the temp file; returns its CRC64. `first`: an answer already received
/// for the bytes from `part.offset` on (the download's first GET), streamed before anything is
/// asked.
pub async fn download(
    ctx: Arc<PartContext>,
    part: Part,
    first: Option<ObjectBody>,
) -> Result<(Part, u64)> {
    let mut writer = PartWriter::new(
        ctx.file.clone(),
        ctx.temp_path.clone(),
        ctx.buffers.clone(),
        part.offset - ctx.first,
        part.size,
    );
    let result = fetch(&ctx, part, first, &mut writer).await;
    // Always wait for the write in flight, so that nothing writes to the file after we return.
    let crc = writer.finish(result.is_ok()).await;
    result?;
    Ok((part, crc?))
}

async fn fetch(
    ctx: &PartContext,
    part: Part,
    mut first: Option<ObjectBody>,
    writer: &mut PartWriter,
) -> Result<()> {
    let end = part.offset + part.size;
    let mut pos = part.offset;
    let max_retries = ctx.client.config().max_retries;
    let mut failures = 0u32;
    let mut resumes = 0u32;
    while pos < end {
        ctx.cancel.check()?;
        let start = pos;
        // The first answer (if any) covers `body.len` bytes from `pos`; later ones the rest of
        // the part. The first answer's body was opened with the download's cancel, not this
        // part's: it is read under `ctx.cancel` so that a failed part stops it too.
        let (range, answer, from_first) = match first.take() {
            Some(body) if body.offset == pos && body.len > 0 => (
                ByteRange {
                    first: pos,
                    last: pos + body.len - 1,
                },
                Ok(body),
                true,
            ),
            _ => {
                let range = ByteRange {
                    first: pos,
                    last: end - 1,
                };
                if ctx.etag.is_empty() {
                    return Err(crate::object::unpinnable(&ctx.request, "the download of"));
                }
                let answer = ctx
                    .client
                    .get_range(&ctx.request, Some(range), Some(&ctx.etag), &ctx.cancel)
                    .await;
                (range, answer, false)
            }
        };
        let failure = match answer {
            // An answer whose headers failed the checks (wrong Content-Range, length...) or a
            // connection that failed after the client's own retries: retried here too, within
            // the budget below. Server error statuses were retried by the client already.
            Err(e) if e.http_status == 0 => Some(e),
            Err(e) => return Err(e),
            Ok(mut body) => match check_answer(ctx, &body.meta, body.offset, body.len, range) {
                Err(e) => Some(e),
                Ok(()) => loop {
                    let next = if from_first {
                        ctx.cancel.run(body.chunk()).await
                    } else {
                        body.chunk().await
                    };
                    match next {
                        Ok(Some(bytes)) => {
                            let n = (bytes.len() as u64).min(end - pos);
                            writer.push(bytes.slice(..n as usize)).await?;
                            pos += n;
                            ctx.progress.add(n);
                        }
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                },
            },
        };
        let e = match failure {
            None if pos == end => return Ok(()),
            // The first answer delivered all it promised, the part is longer (its size was
            // raised for a huge object): the rest is asked for.
            None if from_first && pos == range.last + 1 => continue,
            None => Error::client(
                ErrorKind::Transport,
                crate::error::curl::PARTIAL_FILE,
                format!(
                    "the answer for bytes {}-{} ended after {} bytes",
                    range.first,
                    range.last,
                    pos - start
                ),
            ),
            Some(e) => e,
        };
        if !e.is_retryable() {
            return Err(e);
        }
        let progressed = pos > start;
        failures = if progressed { 0 } else { failures + 1 };
        resumes += 1;
        if failures > max_retries || resumes > max_retries + MAX_RESUMES_EXTRA {
            return Err(e);
        }
        log::log(Level::Info, || {
            format!(
                "part {} of {}/{}: {e}; resuming from byte {pos} (resume {resumes})",
                part.index, ctx.request.bucket, ctx.request.key
            )
        });
        if !progressed {
            let delay = ctx.client.config().retry_delay(failures);
            ctx.cancel.sleep(delay).await?;
        }
    }
    Ok(())
}

/// What `get_range` cannot know: the answer is for exactly the bytes of this part (a range the
/// server shortened at the object's end means the object shrank) of an object of the size the
/// download started with. (The ETag pin is `get_range`'s: `object::read::get`.)
fn check_answer(
    ctx: &PartContext,
    meta: &crate::object::ObjectMeta,
    offset: u64,
    len: u64,
    range: ByteRange,
) -> Result<()> {
    if meta.content_length != 0 && meta.content_length != ctx.object_size {
        return Err(Error::object_changed(format!(
            "the object changed during the download: its size was {}, a part's answer says {}",
            ctx.object_size, meta.content_length
        )));
    }
    if offset != range.first || len != range.len() {
        return Err(Error::client(
            ErrorKind::Transport,
            crate::error::curl::RECV_ERROR,
            format!(
                "asked for bytes {}-{}, got {len} bytes from {offset}",
                range.first, range.last
            ),
        ));
    }
    Ok(())
}
