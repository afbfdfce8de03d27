//! One download after its preparation: its parts scheduled (`schedule`: at most `thread_num`
//! in flight, or the count the throughput target's `ramp` finds; each holding a slot of the
//! client's memory budget; finished parts recorded in the checkpoint in batches after a sync;
//! the first failure cancelling the others), then the whole-object CRC check and the final
//! rename (steps 6-7), or the clean-up after a failure or a pause.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::blocking::blocking;
use super::checkpoint::{self, CheckpointFile, DonePart, Record};
use super::pause_at;
use super::plan::Plan;
use super::progress::Progress;
use super::ramp::{self, Ramp};
use super::request::{object_changed, unconditional, DownloadRequest, MAX_THREAD_NUM};
use super::schedule::{Schedule, Start};
use super::straggler::Stragglers;
use super::temp_file::TempFile;
use super::validate::Paths;
use super::{part, part_writer};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::memory_budget::{MemoryBudget, Slot};
use crate::object::{check_whole_object, ObjectBody, ObjectMeta, Pinned};

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

/// The write buffers' size of a download: a share of `WRITE_BUFFER_BUDGET` per thread, within
/// the bounds; `TARGET_WRITE_BUFFER` with a throughput target.
fn buffer_size(req: &DownloadRequest) -> usize {
    match req.throughput_target {
        None => (WRITE_BUFFER_BUDGET / req.thread_num.max(1) as usize)
            .clamp(WRITE_BUFFER_MIN, WRITE_BUFFER_MAX),
        Some(_) => TARGET_WRITE_BUFFER,
    }
}

/// A throughput target's write buffers once its parts are known: the largest of 1 MiB and
/// 512 KiB whose slots the budget holds for every part the target starts in flight (`wanted`),
/// when the first slot (reserved for `TARGET_WRITE_BUFFER` before the size was known) can grow
/// to it now; `TARGET_WRITE_BUFFER` otherwise (the most parts the budget holds). Larger buffers
/// are fewer writes and wake-ups per GiB: a 64 MiB object's 16 parts fit with 512 KiB, where
/// 256 KiB buffers made it 1,439 `futex` and 4x the `pwrite64` calls of 8 threads' 1 MiB.
fn target_buffer_size(
    budget: &MemoryBudget,
    first_slot: &mut Slot,
    largest: u64,
    wanted: usize,
) -> usize {
    for size in [WRITE_BUFFER_MAX, WRITE_BUFFER_MAX / 2] {
        let cost = MemoryBudget::slot_cost_for(size.min(aligned_len(largest)), largest);
        if budget.capacity(cost) < wanted {
            continue;
        }
        let have = first_slot.bytes();
        if cost <= have {
            return size;
        }
        if let Some(more) = budget.try_acquire(cost - have) {
            first_slot.absorb(more);
            return size;
        }
    }
    TARGET_WRITE_BUFFER
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
    /// How long the download's first request took to answer: the throughput target's ramp
    /// sizes its windows in these.
    pub(super) round_trip: Option<Duration>,
}

impl Job<'_> {
    /// Runs the parts (`schedule`), then checks the whole object and puts the file in place
    /// (`finish`). `admission` holds the slot the first request was made with, and gets back
    /// the slot the download holds at its end. Returns whether the bytes were verified.
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
        let already: u64 = record.parts.iter().map(|p| p.size).sum();
        let progress = Arc::new(Progress::new(
            self.req.progress.clone(),
            self.plan.total,
            already,
        ));
        progress.start();
        let mut schedule = self.schedule(&temp, record, first_body, first_slot, &progress);
        *admission = schedule.run().await;
        let Schedule {
            crcs,
            record,
            pending,
            failure,
            ..
        } = schedule;
        if let Some(err) = failure {
            return Err(self.fail(err, record, pending, temp).await);
        }
        let verified = self.finish(&crcs, record, pending, temp).await?;
        progress.finish();
        Ok(verified)
    }

    /// The schedule of the parts: their buffers and slots sized for the largest part, the
    /// parts in flight (the thread count, or the throughput target's ramp within the budget).
    fn schedule<'s>(
        &'s self,
        temp: &'s TempFile,
        record: Record,
        first_body: Option<ObjectBody>,
        mut first_slot: Slot,
        progress: &Arc<Progress>,
    ) -> Schedule<'s> {
        let plan = self.plan;
        let budget = self.client.memory_budget();
        // Buffers no larger than the largest part, and slots of what such parts need: small
        // objects take small slots, the first one included (it was reserved before the
        // object's size was known).
        let largest = plan.parts.iter().map(|p| p.size).max().unwrap_or(0);
        let todo_count = plan.parts.len().saturating_sub(record.parts.len());
        let buffer_size = match self.req.throughput_target {
            Some(t) => {
                let wanted = ramp::start_level(t).min(todo_count.max(1));
                target_buffer_size(budget, &mut first_slot, largest, wanted)
            }
            None => buffer_size(self.req),
        }
        .min(aligned_len(largest));
        let cost = MemoryBudget::slot_cost_for(buffer_size, largest);
        first_slot.shrink_to(cost);
        let ramp = self.req.throughput_target.map(|target| {
            let most = budget
                .capacity(cost)
                .min(MAX_THREAD_NUM as usize)
                .min(todo_count.max(1));
            let done: u64 = record.parts.iter().map(|p| p.size).sum();
            let todo_bytes = plan.total.saturating_sub(done);
            Ramp::new(target, most, self.round_trip, Duration::ZERO).with_total(todo_bytes)
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
            buffers: Arc::new(part_writer::BufferPool::new(
                buffer_size,
                largest,
                1,
                budget.buffers().clone(),
            )),
        });
        Schedule::new(Start {
            ctx,
            temp,
            ckpt: self.ckpt,
            budget,
            cost,
            threads: self.req.thread_num as usize,
            ramp,
            stop,
            parts: &plan.parts,
            record,
            first_body,
            first_slot,
            stragglers: self.stragglers(todo_count),
        })
    }

    /// The re-requests of slow parts (`straggler`), unless the client's configuration turned
    /// them off; none for a single part (no peers to compare it with).
    fn stragglers(&self, todo_count: usize) -> Option<Stragglers> {
        let on = self.client.config().reissue_slow_parts && todo_count > 1;
        on.then(|| {
            let rtt = self
                .round_trip
                .unwrap_or(ramp::DEFAULT_ROUND_TRIP)
                .clamp(ramp::ROUND_TRIP_MIN, ramp::ROUND_TRIP_MAX);
            Stragglers::new(self.plan.parts.len(), rtt)
        })
    }

    /// The finish, every part done: the whole-object check, then the file put in place (and the
    /// checkpoint removed). Returns whether the bytes were verified.
    async fn finish(
        &self,
        crcs: &[Option<u64>],
        record: Option<Record>,
        pending: Vec<DonePart>,
        temp: TempFile,
    ) -> Result<bool> {
        let plan = self.plan;
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
        let sync = !self.paths.defer_sync;
        let cp = self.ckpt.cloned();
        // The temp file comes back from the task: a failed rename still needs it.
        let (temp, committed) = blocking(move || {
            let committed = temp.commit_with(&dest_name, sync, None).map(|()| {
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
        Ok(verified)
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
                let r = checkpoint::commit(&temp.file, &temp.path, cp.as_ref(), &mut rec, pending);
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
                let saved = blocking(move || {
                    checkpoint::commit(&temp.file, &temp.path, Some(&cp), &mut rec, pending)
                })
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
