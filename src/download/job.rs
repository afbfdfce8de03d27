//! One download after its preparation: parts scheduled (at most `thread_num` in flight, or the
//! count the throughput target's `ramp` finds; each holding a slot of the client's memory
//! budget),
//! finished parts recorded in the checkpoint in batches after a sync, the first failure
//! cancelling the others, then the whole-object CRC check and the final rename (steps 6-7).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::blocking::blocking;
use super::checkpoint::{CheckpointFile, DonePart, Record};
use super::plan::Plan;
use super::progress::Progress;
use super::ramp::Ramp;
use super::request::{object_changed, unconditional, DownloadRequest, MAX_THREAD_NUM};
use super::temp_file::TempFile;
use super::test_hooks::pause_at;
use super::validate::Paths;
use super::{part, part_writer, plan};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::memory_budget::{MemoryBudget, Slot};
use crate::object::{check_whole_object, ObjectBody, ObjectMeta, Pinned};

/// Finished parts are recorded in the checkpoint at most this often (plus once on failure).
/// Without a checkpoint, when the writes go through the page cache (no direct I/O), the temp
/// file is still synced this often: that starts the disk writes while the download runs,
/// instead of leaving all of it to the final fsync (1 GiB, 16 threads: 1.45 s -> 1.0 s on this
/// project's benchmark machine, the final fsync alone took ~0.55 s).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);
/// Write buffers: each part in flight holds up to two of these (one filling, one being written).
/// Their size is `WRITE_BUFFER_BUDGET / thread_num`, clamped to the bounds.
const WRITE_BUFFER_MAX: usize = 1024 * 1024;
const WRITE_BUFFER_MIN: usize = 256 * 1024;
const WRITE_BUFFER_BUDGET: usize = 8 * 1024 * 1024;
/// The write buffers of a download with a throughput target (its part count is not known when
/// they are made): the smallest of the thread-count rule, so that the budget holds the most
/// parts (23 in 64 MiB; with 512 KiB buffers 18 held an uncapped 25 MB/s-per-connection link to
/// 458 MB/s, 23 reach 570).
const TARGET_WRITE_BUFFER: usize = 256 * 1024;
/// How often the throughput target's ramp looks at the bytes received.
const RAMP_TICK: Duration = Duration::from_millis(50);

/// The write buffers' size of a download: a share of `WRITE_BUFFER_BUDGET` per thread, within
/// the bounds; `TARGET_WRITE_BUFFER` with a throughput target.
fn buffer_size(req: &DownloadRequest) -> usize {
    match req.throughput_target {
        None => (WRITE_BUFFER_BUDGET / req.thread_num.max(1) as usize)
            .clamp(WRITE_BUFFER_MIN, WRITE_BUFFER_MAX),
        Some(_) => TARGET_WRITE_BUFFER,
    }
}

/// `len` bytes rounded up to whole 4 KiB blocks, at least one (an `AlignedBuf` has room for
/// the phase of its first byte on top of its capacity).
fn aligned_len(len: u64) -> usize {
    let block = 4096u64;
    usize::try_from(len.div_ceil(block).max(1) * block).unwrap_or(usize::MAX)
}

/// What one part in flight of this download reserves from the client's memory budget before
/// the object's size is known.
pub(super) fn slot_cost(req: &DownloadRequest) -> u64 {
    MemoryBudget::slot_cost(buffer_size(req))
}

/// One download after its preparation.
pub(super) struct Job<'a> {
    pub(super) client: &'a Client,
    pub(super) req: &'a DownloadRequest,
    pub(super) cancel: &'a Cancel,
    pub(super) paths: &'a Paths,
    pub(super) plan: &'a Plan,
    pub(super) meta: &'a ObjectMeta,
    pub(super) ckpt: Option<&'a CheckpointFile>,
    /// The pause switch of a pausable download (`suspend`).
    pub(super) suspend: Option<&'a super::suspend::Suspend>,
}

pub(super) type FlushHandle = JoinHandle<(Record, Result<()>)>;

impl Job<'_> {
    pub(super) async fn run(
        &self,
        record: Record,
        temp: TempFile,
        first_body: Option<ObjectBody>,
        admission: &mut Option<Slot>,
    ) -> Result<bool> {
        let first_slot = admission
            .take()
            .ok_or_else(|| Error::panic("a download ran without its admission slot"))?;
        let plan = self.plan;
        let mut crcs: Vec<Option<u64>> = vec![None; plan.parts.len()];
        for p in &record.parts {
            crcs[p.index as usize] = Some(p.crc64);
        }
        let already: u64 = record.parts.iter().map(|p| p.size).sum();
        let progress = Arc::new(Progress::new(
            self.req.progress.clone(),
            plan.total,
            already,
        ));
        progress.start();

        let threads = self.req.thread_num as usize;
        let budget = self.client.memory_budget();
        // Buffers no larger than the largest part, and slots of what such parts need: small objects take small slots, the first one
        // included (it was reserved before the object's size was known).
        let largest = plan.parts.iter().map(|p| p.size).max().unwrap_or(0);
        let buffer_size = buffer_size(self.req).min(aligned_len(largest));
        let cost = MemoryBudget::slot_cost_for(buffer_size, largest);
        let mut first_slot = first_slot;
        first_slot.shrink_to(cost);
        // Parts in flight: the thread count, or what the throughput target's ramp finds within
        // the memory budget.
        let mut ramp = self.req.throughput_target.map(|target| {
            let most = budget.capacity(cost).min(MAX_THREAD_NUM as usize);
            Ramp::new(target, most, Duration::ZERO)
        });
        let stop = CancellationToken::new();
        let pin = Pinned::of(
            self.client,
            unconditional(&self.req.object),
            self.meta,
            "the download of",
        );
        let ctx = Arc::new(part::PartContext {
            pin: Arc::new(pin),
            cancel: self.cancel.clone().with(stop.clone()),
            file: temp.writer.clone(),
            temp_path: Arc::new(temp.path.clone()),
            first: plan.first,
            progress: progress.clone(),
            buffers: Arc::new(part_writer::BufferPool::new(buffer_size)),
        });
        let mut todo: VecDeque<plan::Part> = plan
            .parts
            .iter()
            .filter(|p| crcs[p.index as usize].is_none())
            .copied()
            .collect();
        // The first answer's body goes to the first part; dropped (its connection closed) if
        // that part needs nothing (a resume that raced in: its bytes are on disk already).
        let mut first_body = first_body.filter(|b| {
            todo.front()
                .is_some_and(|p| p.index == 0 && p.offset == b.offset)
        });

        let mut running = JoinSet::new();
        let mut failure: Option<Error> = None;
        let mut pending: Vec<DonePart> = Vec::new();
        let mut record = Some(record);
        let mut flushing: Option<FlushHandle> = None;
        let mut last_flush = Instant::now();
        // Memory-budget slots held for parts about to start (a finished part's slot goes to
        // the next part; a part starts only with one). The first is the one the download's
        // first request was made with.
        let mut spare: Vec<Slot> = vec![first_slot];
        let started = Instant::now();
        let mut next_tick = started + RAMP_TICK;
        loop {
            let wanted = ramp.as_ref().map_or(threads, Ramp::level);
            while failure.is_none() && running.len() < wanted && !todo.is_empty() {
                let Some(slot) = spare.pop().or_else(|| budget.try_acquire(cost)) else {
                    break;
                };
                let p = todo.pop_front().expect("checked");
                let body = if p.index == 0 {
                    first_body.take()
                } else {
                    None
                };
                let ctx = ctx.clone();
                running.spawn(async move { (part::download(ctx, p, body).await, slot) });
            }
            if (todo.is_empty() || failure.is_some()) && !spare.is_empty() {
                // Not needed any more: back to the budget, with their buffers. Except the last
                // one once no part runs: a download holds a slot (its connection's share) until
                // it ended and closed its files, handed back to the caller (`admission`), so
                // that the downloads holding descriptors are never more than the budget's slots.
                spare.truncate(usize::from(running.is_empty()));
                for s in &mut spare {
                    s.shrink_to(MemoryBudget::admission_cost());
                }
                ctx.buffers.trim(2 * running.len());
            }
            if running.is_empty() && (todo.is_empty() || failure.is_some()) {
                break;
            }
            let want_slot = failure.is_none() && running.len() < wanted && !todo.is_empty();
            let ramping = ramp.as_ref().is_some_and(|r| !r.is_done());
            // Without a checkpoint a flush only starts the disk writes early, which direct
            // writes do not need.
            let can_flush = flushing.is_none()
                && !pending.is_empty()
                && failure.is_none()
                && (self.ckpt.is_some() || !temp.writer.is_direct());
            tokio::select! {
                joined = running.join_next(), if !running.is_empty() => {
                    let outcome = match joined {
                        Some(Ok((r, slot))) => {
                            spare.push(slot);
                            r
                        }
                        Some(Err(e)) => Err(Error::panic(format!("a part task failed: {e}"),
                        )),
                        None => continue,
                    };
                    match outcome {
                        Ok((p, crc)) => {
                            crcs[p.index as usize] = Some(crc);
                            pending.push(DonePart { index: p.index, offset: p.offset, size: p.size, crc64: crc });
                        }
                        Err(e) => {
                            // The first failure is the cause; the others follow from `stop`.
                            failure.get_or_insert(e);
                            stop.cancel();
                        }
                    }
                }
                // Every slot of the budget is taken (by other downloads of the client, or by
                // this one's parts): wait for one, or for the cancellation.
                slot = ctx.cancel.run(async { Ok(budget.acquire(cost).await) }), if want_slot => {
                    match slot {
                        Ok(slot) => spare.push(slot),
                        Err(e) => {
                            failure.get_or_insert(e);
                            stop.cancel();
                        }
                    }
                }
                _ = tokio::time::sleep_until(next_tick), if ramping => {
                    if let Some(r) = ramp.as_mut() {
                        r.observe(started.elapsed(), progress.received());
                    }
                    next_tick = Instant::now() + RAMP_TICK;
                }
                _ = tokio::time::sleep_until(last_flush + CHECKPOINT_INTERVAL), if can_flush => {
                    flushing = self.start_flush(&mut record, &mut pending, &temp);
                    last_flush = Instant::now();
                }
                done = async { flushing.as_mut().expect("guarded").await }, if flushing.is_some() => {
                    flushing = None;
                    if let Err(e) = self.end_flush(done, &mut record) {
                        if failure.is_none() {
                            failure = Some(e);
                            stop.cancel();
                        }
                    }
                }
            }
        }
        *admission = spare.pop();
        drop(spare);
        if let Some(h) = flushing.take() {
            if let Err(e) = self.end_flush(h.await, &mut record) {
                failure.get_or_insert(e);
            }
        }

        if let Some(err) = failure {
            return Err(self.fail(err, record, pending, temp).await);
        }

        // Every part is done: check the CRC, then put the file in place.
        let crc = plan.parts.iter().fold(0u64, |acc, p| {
            crc64::combine(acc, crcs[p.index as usize].unwrap_or(0), p.size)
        });
        let whole = plan.first == 0
            && plan.total == self.meta.content_length
            && self.client.config().enable_crc64;
        let verified = match check_whole_object(&self.req.object, self.meta, whole, crc) {
            Ok(verified) => verified,
            Err(mut e) => {
                self.remove_state(&temp);
                e.message.push_str("; the download was discarded");
                return Err(e);
            }
        };
        let dest_name = self.paths.name.clone();
        let cp = self.ckpt.cloned();
        // The temp file comes back from the task: a failed rename still needs it.
        let (temp, committed) = blocking(move || {
            let committed = temp.commit(&dest_name).map(|()| {
                pause_at::at("after_rename");
                if let Some(cp) = cp {
                    cp.remove();
                }
            });
            Ok((temp, committed))
        })
        .await?;
        if let Err(e) = committed {
            // Not in place: keep the finished download for the next call (checkpoint) or remove it.
            return Err(self.fail(e, record, pending, temp).await);
        }
        progress.finish();
        Ok(verified)
    }

    /// Syncs the temp file and saves the checkpoint (if any) with the parts finished so far, on
    /// the blocking pool. `None` when there is nothing to do.
    fn start_flush(
        &self,
        record: &mut Option<Record>,
        pending: &mut Vec<DonePart>,
        temp: &TempFile,
    ) -> Option<FlushHandle> {
        let cp = self.ckpt.cloned();
        let mut rec = record.take()?;
        let batch = std::mem::take(pending);
        let file = temp.file.clone();
        let path = temp.path.clone();
        Some(tokio::task::spawn_blocking(move || {
            let r = commit(&file, &path, cp.as_ref(), &mut rec, batch);
            (rec, r)
        }))
    }

    fn end_flush(
        &self,
        done: std::result::Result<(Record, Result<()>), tokio::task::JoinError>,
        record: &mut Option<Record>,
    ) -> Result<()> {
        match done {
            Ok((rec, r)) => {
                *record = Some(rec);
                r
            }
            Err(e) => Err(Error::io_failure(format!(
                "the checkpoint writer failed: {e}"
            ))),
        }
    }

    /// Cleans up after a failure and returns the error to report.
    async fn fail(
        &self,
        err: Error,
        record: Option<Record>,
        pending: Vec<DonePart>,
        temp: TempFile,
    ) -> Error {
        if err.kind == ErrorKind::ObjectChanged {
            self.remove_state(&temp);
            let now = match self
                .client
                .head_object(&unconditional(&self.req.object), self.cancel)
                .await
            {
                Ok(m) => m.etag,
                Err(e) => format!("unknown ({})", e.code),
            };
            let mut e = object_changed(
                &self.req.object,
                &self.meta.etag,
                &now,
                "during the download",
            );
            e.request_id = err.request_id.clone();
            e.http_status = err.http_status;
            e.host = err.host.clone();
            return e;
        }
        let paused = self
            .suspend
            .filter(|s| err.kind == ErrorKind::Cancelled && s.stop_is_pause());
        if let (Some(s), Some(rec)) = (paused, record.as_ref()) {
            // Paused: keep the temp file (with or without a checkpoint), synced, and leave the
            // record for the resume token.
            let (cp, mut rec) = (self.ckpt.cloned(), rec.clone());
            let had_checkpoint = cp.is_some();
            let kept = blocking(move || {
                let r = commit(&temp.file, &temp.path, cp.as_ref(), &mut rec, pending);
                Ok((temp, r.map(|()| rec)))
            })
            .await;
            return match kept {
                Ok((_, Ok(rec))) => {
                    s.keep(rec);
                    err
                }
                Ok((temp, Err(e))) => {
                    if !had_checkpoint {
                        temp.remove();
                    }
                    e
                }
                Err(e) => e,
            };
        }
        if let Some(s) = paused {
            s.lost_temp(); // paused with no record: the temp file goes (below, without checkpoint)
        }
        match (self.ckpt, record) {
            (Some(cp), Some(mut rec)) => {
                // Keep what is done for the next call: sync, then record.
                let cp = cp.clone();
                let saved =
                    blocking(move || commit(&temp.file, &temp.path, Some(&cp), &mut rec, pending))
                        .await;
                if let Err(e) = saved {
                    log::log(Level::Warn, || {
                        format!("cannot save the checkpoint after a failure: {e}")
                    });
                }
            }
            _ => temp.remove(),
        }
        err
    }

    fn remove_state(&self, temp: &TempFile) {
        temp.remove();
        if let Some(cp) = self.ckpt {
            cp.remove();
        }
    }
}

/// The one checkpoint commit: the temp file synced, then the parts of `batch` recorded as
/// finished in `rec` and the record saved to `cp` (if any). A failed sync is the error, and
/// nothing is recorded (those bytes may not be on the disk). A failed save only costs
/// resumability (the directory was writable at the start: it changed under the download): it
/// is logged and the record in memory holds the parts all the same.
fn commit(
    file: &std::fs::File,
    path: &std::path::Path,
    cp: Option<&CheckpointFile>,
    rec: &mut Record,
    batch: Vec<DonePart>,
) -> Result<()> {
    file.sync_data()
        .map_err(|e| Error::io("syncing the temp file", path, &e))?;
    rec.parts.extend(batch);
    if let Some(Err(e)) = cp.map(|cp| cp.save(rec)) {
        log::log(Level::Warn, || {
            format!(
                "cannot save the checkpoint: {e}; an interruption now resumes from the last \
                 checkpoint saved"
            )
        });
    }
    Ok(())
}
