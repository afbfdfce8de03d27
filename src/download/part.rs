//! Downloading one part: its bytes read through the object layer's one body reader
//! (`object::BodyReader`: ranged GETs pinned to the object's ETag, a body cut mid-way resumed
//! from the byte where it stopped, within its retry budget) and streamed into the temp file
//! through a `PartWriter`.
//!
//! The first part of a fresh download starts from the download's first answer (the unpinned GET
//! that carried the user's conditions and told the object's size, `start`): its body is
//! streamed like any other, and whatever it did not deliver (a cut, or the rest of a part raised
//! above the requested part size) is fetched by pinned GETs as usual.

use std::path::PathBuf;
use std::sync::Arc;

use super::part_writer::{BufferPool, PartWriter};
use super::plan::Part;
use super::progress::Progress;
use super::reissue::Track;
use crate::cancel::Cancel;
use crate::error::Result;
use crate::object::{BodyReader, ObjectBody, Pinned};

/// What every part of one download shares.
pub struct PartContext {
    /// The client, the user's request without its conditions (they applied to the first
    /// request), the ETag every part is pinned to and the object's size as the first request
    /// saw it. The ETag is never empty (`download` refuses an object without one before any
    /// part runs, except one whose only part is the first answer: a request that part still
    /// needs fails with `object::unpinnable`).
    pub pin: Arc<Pinned>,
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
/// asked. `track`: the part's progress for the scheduler, which may re-request the rest of a
/// slow part through it (`reissue`). `memory_wait`: how long the part waited for its slot of the
/// memory budget (for its first request's metrics).
pub async fn download(
    ctx: Arc<PartContext>,
    part: Part,
    first: Option<ObjectBody>,
    track: Option<Arc<Track>>,
    memory_wait: std::time::Duration,
) -> Result<(Part, u64)> {
    let mut writer = PartWriter::new(
        ctx.file.clone(),
        ctx.temp_path.clone(),
        ctx.buffers.clone(),
        part.offset - ctx.first,
        part.size,
    );
    let result = fetch(
        &ctx,
        part,
        first,
        &mut writer,
        track.as_deref(),
        memory_wait,
    )
    .await;
    // Always wait for the write in flight, so that nothing writes to the file after we return.
    let crc = writer.finish(result.is_ok()).await;
    result?;
    Ok((part, crc?))
}

async fn fetch(
    ctx: &PartContext,
    part: Part,
    first: Option<ObjectBody>,
    writer: &mut PartWriter,
    track: Option<&Track>,
    memory_wait: std::time::Duration,
) -> Result<()> {
    if part.size == 0 {
        return Ok(());
    }
    ctx.cancel.check()?;
    let end = part.offset + part.size;
    // Measured: the part's requests (re-requests included) count their attempts on one count,
    // and the first one carries the wait for the part's slot.
    let base = match ctx.pin.client.config().request_metrics.is_some() {
        true => ctx
            .cancel
            .clone()
            .counting_attempts(0)
            .with_memory_wait(memory_wait),
        false => ctx.cancel.clone(),
    };
    let cancel = track.map_or_else(|| base.clone(), |t| t.cancel(&base));
    let mut reader = BodyReader::new(ctx.pin.clone(), Some(part.index), cancel, part.offset, end);
    // The first answer's body was opened with the download's cancel, not this part's: it is
    // read under `ctx.cancel` so that a failed part stops it too.
    if let Some(body) = first {
        reader = reader.with_first(body, true);
    }
    loop {
        let bytes = match reader.next_chunk().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            // Re-requested (the scheduler found it slow): the rest, on a new request.
            Err(e) => match track.and_then(|t| t.reissued(&base, &e)) {
                Some(cancel) => {
                    let from = reader.position();
                    reader = BodyReader::new(ctx.pin.clone(), Some(part.index), cancel, from, end);
                    continue;
                }
                None => return Err(e),
            },
        };
        let n = bytes.len() as u64;
        // Timed only when measured: no clock read otherwise.
        let t = reader.measured().then(std::time::Instant::now);
        writer.push(bytes).await?;
        if let Some(t) = t {
            reader.add_write(t.elapsed());
        }
        ctx.progress.add(n);
        if let Some(t) = track {
            t.add(n);
        }
    }
    Ok(())
}
