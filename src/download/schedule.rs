//! The scheduler of one download's parts, step by step: parts started while slots of the
//! memory budget and the thread count (or the throughput target's `ramp`) allow (`start_parts`),
//! then one event at a time (`step`): a part done, a slot given, a ramp tick, a flush to start
//! (finished parts recorded in the checkpoint in batches after a sync) or a flush done. The
//! first failure stops the other parts.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{self, CheckpointFile, DonePart, Record};
use super::part::{self, PartContext};
use super::plan::Part;
use super::ramp::Ramp;
use super::reissue::Track;
use super::straggler::Stragglers;
use super::temp_file::TempFile;
use crate::error::{Error, Result};
use crate::log::{self, Level};
use crate::memory_budget::{MemoryBudget, Slot};
use crate::object::ObjectBody;

/// Finished parts are recorded in the checkpoint at most this often (plus once on failure).
/// Without a checkpoint, when the writes go through the page cache (no direct I/O), the temp
/// file is still synced this often: that starts the disk writes while the download runs,
/// instead of leaving all of it to the final fsync (faster on the benchmark machine: BENCHMARKS.md,
/// "Direct I/O and the disk", and CHANGELOG.md for the figures before direct I/O).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);
/// How often the throughput target's ramp looks at the bytes received.
/// (Its windows last a few round trips: 60 ms on a 20 ms link.)
const RAMP_TICK: Duration = Duration::from_millis(10);
/// How often the parts in flight are looked at for stragglers (`straggler`).
const STRAGGLER_TICK: Duration = Duration::from_millis(20);

type FlushHandle = JoinHandle<(Record, Result<()>)>;
type PartOutcome = (Result<(Part, u64)>, Slot);

/// Where the parts of one download stand.
pub(super) struct Schedule<'a> {
    pub(super) ctx: Arc<PartContext>,
    temp: &'a TempFile,
    ckpt: Option<&'a CheckpointFile>,
    budget: &'a MemoryBudget,
    /// What one part in flight reserves from the budget.
    cost: u64,
    /// Parts in flight: the thread count, or what the ramp finds.
    threads: usize,
    ramp: Option<Ramp>,
    /// Cancelled on the first failure: the other parts stop.
    stop: CancellationToken,
    todo: VecDeque<Part>,
    /// The first answer's body, for the first part.
    first_body: Option<ObjectBody>,
    running: JoinSet<PartOutcome>,
    /// Memory-budget slots held for parts about to start (a finished part's slot goes to the
    /// next part; a part starts only with one).
    spare: Vec<Slot>,
    /// The CRC64 of every finished part, by index.
    pub(super) crcs: Vec<Option<u64>>,
    /// Finished parts not recorded yet, and the record (`None` while a flush holds it).
    pub(super) pending: Vec<DonePart>,
    pub(super) record: Option<Record>,
    flushing: Option<FlushHandle>,
    last_flush: Instant,
    pub(super) failure: Option<Error>,
    started: Instant,
    next_tick: Instant,
    /// Slow parts re-requested (`None`: not enabled), the running parts' tracks, the next look.
    stragglers: Option<Stragglers>,
    tracks: HashMap<u32, Arc<Track>>,
    next_check: Instant,
    /// Measured (the client has a metrics callback): since when a slot is waited for (the
    /// next part started waited that long, for its first request's metrics).
    measured: bool,
    slot_wanted: Option<Instant>,
}

/// What a schedule starts from.
pub(super) struct Start<'a> {
    pub(super) ctx: Arc<PartContext>,
    pub(super) temp: &'a TempFile,
    pub(super) ckpt: Option<&'a CheckpointFile>,
    pub(super) budget: &'a MemoryBudget,
    pub(super) cost: u64,
    pub(super) threads: usize,
    pub(super) ramp: Option<Ramp>,
    pub(super) stop: CancellationToken,
    pub(super) parts: &'a [Part],
    pub(super) record: Record,
    pub(super) first_body: Option<ObjectBody>,
    /// The slot the download's first request was made with.
    pub(super) first_slot: Slot,
    /// Slow parts are re-requested by this controller (`None`: never).
    pub(super) stragglers: Option<Stragglers>,
}

impl<'a> Schedule<'a> {
    pub(super) fn new(s: Start<'a>) -> Schedule<'a> {
        let mut crcs: Vec<Option<u64>> = vec![None; s.parts.len()];
        for p in &s.record.parts {
            crcs[p.index as usize] = Some(p.crc64);
        }
        let todo: VecDeque<Part> = s
            .parts
            .iter()
            .filter(|p| crcs[p.index as usize].is_none())
            .copied()
            .collect();
        // The first answer's body goes to the first part; dropped (its connection closed) if
        // that part needs nothing (a resume that raced in: its bytes are on disk already).
        let first_body = s.first_body.filter(|b| {
            todo.front()
                .is_some_and(|p| p.index == 0 && p.offset == b.offset)
        });
        let started = Instant::now();
        let measured = s.ctx.pin.client.config().request_metrics.is_some();
        Schedule {
            ctx: s.ctx,
            temp: s.temp,
            ckpt: s.ckpt,
            budget: s.budget,
            cost: s.cost,
            threads: s.threads,
            ramp: s.ramp,
            stop: s.stop,
            todo,
            first_body,
            running: JoinSet::new(),
            spare: vec![s.first_slot],
            crcs,
            pending: Vec::new(),
            record: Some(s.record),
            flushing: None,
            last_flush: started,
            failure: None,
            started,
            next_tick: started + RAMP_TICK,
            stragglers: s.stragglers,
            tracks: HashMap::new(),
            next_check: started + STRAGGLER_TICK,
            measured,
            slot_wanted: None,
        }
    }

    /// Runs the parts to their end (or to the first failure); returns the slot the download
    /// holds at its end, and waits for the flush in flight.
    pub(super) async fn run(&mut self) -> Option<Slot> {
        loop {
            self.start_parts();
            if self.running.is_empty() && (self.todo.is_empty() || self.failure.is_some()) {
                break;
            }
            self.step().await;
        }
        let held = self.spare.pop();
        self.spare.clear();
        if let Some(h) = self.flushing.take() {
            if let Err(e) = self.end_flush(h.await) {
                self.failure.get_or_insert(e);
            }
        }
        held
    }

    /// The parts in flight wanted: the thread count, or the ramp's level.
    fn wanted(&self) -> usize {
        self.ramp.as_ref().map_or(self.threads, Ramp::level)
    }

    /// The slot or ramp step: parts started while slots allow; slots not needed any more given
    /// back.
    fn start_parts(&mut self) {
        while self.failure.is_none() && self.running.len() < self.wanted() && !self.todo.is_empty()
        {
            let Some(slot) = self
                .spare
                .pop()
                .or_else(|| self.budget.try_acquire(self.cost))
            else {
                break;
            };
            let p = self.todo.pop_front().expect("checked");
            let body = if p.index == 0 {
                self.first_body.take()
            } else {
                None
            };
            let ctx = self.ctx.clone();
            let track = self.stragglers.as_mut().map(|c| {
                c.started(p.index, p.size, 0, self.started.elapsed());
                let t = Track::new();
                self.tracks.insert(p.index, t.clone());
                t
            });
            let waited = self
                .slot_wanted
                .take()
                .map_or(Duration::ZERO, |t| t.elapsed());
            self.running
                .spawn(async move { (part::download(ctx, p, body, track, waited).await, slot) });
        }
        let more_to_start = !self.todo.is_empty() && self.failure.is_none();
        let keep = spare_to_keep(
            self.spare.len(),
            self.running.len(),
            self.wanted(),
            more_to_start,
        );
        self.spare.truncate(keep);
        if !more_to_start {
            for s in &mut self.spare {
                s.shrink_to(MemoryBudget::admission_cost());
            }
        }
        // The write buffers alive: what the slots held at a part's cost count (the running
        // parts', and the spare ones while parts are left to start).
        let spare = if more_to_start { self.spare.len() } else { 0 };
        self.ctx.buffers.set_limit(self.running.len() + spare);
    }

    /// Waits for the next event and handles it.
    async fn step(&mut self) {
        let want_slot =
            self.failure.is_none() && self.running.len() < self.wanted() && !self.todo.is_empty();
        if !want_slot {
            self.slot_wanted = None;
        } else if self.measured && self.slot_wanted.is_none() {
            self.slot_wanted = Some(Instant::now());
        }
        // Holding too: a rate that falls starts a new probe. Not once every part started: the
        // rate then falls with the parts left, and the level no longer matters.
        let ramping = self.ramp.is_some() && !self.todo.is_empty() && self.failure.is_none();
        // Without a checkpoint a flush only starts the disk writes early, which direct writes
        // do not need.
        let can_flush = self.flushing.is_none()
            && !self.pending.is_empty()
            && self.failure.is_none()
            && (self.ckpt.is_some() || !self.temp.writer.is_direct());
        let (any_running, any_flush) = (!self.running.is_empty(), self.flushing.is_some());
        let (budget, cost, cancel) = (self.budget, self.cost, &self.ctx.cancel);
        let (running, flushing) = (&mut self.running, &mut self.flushing);
        let (next_tick, flush_at) = (self.next_tick, self.last_flush + CHECKPOINT_INTERVAL);
        let checking = self.stragglers.is_some() && any_running && self.failure.is_none();
        let next_check = self.next_check;
        tokio::select! {
            joined = running.join_next(), if any_running => {
                self.part_done(joined);
            }
            // Every slot of the budget is taken (by other downloads of the client, or by this
            // one's parts): wait for one, or for the cancellation.
            slot = cancel.run(async { Ok(budget.acquire(cost).await) }), if want_slot => {
                match slot {
                    Ok(slot) => self.spare.push(slot),
                    Err(e) => self.fail(e),
                }
            }
            _ = tokio::time::sleep_until(next_tick), if ramping => {
                if let Some(r) = self.ramp.as_mut() {
                    let running = self.running.len();
                    r.observe(self.started.elapsed(), self.ctx.progress.received(), running);
                }
                self.next_tick = Instant::now() + RAMP_TICK;
            }
            _ = tokio::time::sleep_until(next_check), if checking => {
                self.check_stragglers();
                self.next_check = Instant::now() + STRAGGLER_TICK;
            }
            _ = tokio::time::sleep_until(flush_at), if can_flush => {
                self.flushing = self.start_flush();
                self.last_flush = Instant::now();
            }
            done = async { flushing.as_mut().expect("guarded").await }, if any_flush => {
                self.flushing = None;
                if let Err(e) = self.end_flush(done) {
                    self.fail(e);
                }
            }
        }
    }

    /// A part done: its slot kept for the next part, its CRC recorded (or its failure).
    fn part_done(
        &mut self,
        joined: Option<std::result::Result<PartOutcome, tokio::task::JoinError>>,
    ) {
        let outcome = match joined {
            Some(Ok((r, slot))) => {
                self.spare.push(slot);
                r
            }
            Some(Err(e)) => Err(Error::panic(format!("a part task failed: {e}"))),
            None => return,
        };
        match outcome {
            Ok((p, crc)) => {
                if let Some(c) = self.stragglers.as_mut() {
                    c.finished(p.index, self.started.elapsed());
                    self.tracks.remove(&p.index);
                }
                self.crcs[p.index as usize] = Some(crc);
                self.pending.push(DonePart {
                    index: p.index,
                    offset: p.offset,
                    size: p.size,
                    crc64: crc,
                });
            }
            Err(e) => self.fail(e),
        }
    }

    /// The parts in flight looked at: the stragglers re-requested (`straggler`, `reissue`).
    fn check_stragglers(&mut self) {
        let Some(c) = self.stragglers.as_mut() else {
            return;
        };
        let delivered: Vec<(u32, u64)> = self
            .tracks
            .iter()
            .map(|(i, t)| (*i, t.delivered()))
            .collect();
        let before = c.reissued();
        for (i, d) in c
            .observe(self.started.elapsed(), &delivered)
            .into_iter()
            .enumerate()
        {
            let Some(t) = self.tracks.get(&d.part) else {
                continue;
            };
            t.reissue();
            // Counted like the requests: only while the client has a metrics callback.
            if self.ctx.pin.client.config().request_metrics.is_some() {
                self.ctx.pin.client.stats().add_reissue();
                if let Some(stats) = self.ctx.cancel.stats() {
                    stats.add_reissue();
                }
            }
            let (pin, n) = (&self.ctx.pin, before + i + 1);
            log::log(Level::Info, || {
                format!(
                    "part {} of {}/{} is slow ({:.2} MB/s, its peers {:.2} MB/s): re-requesting \
                     the rest on a new connection (re-request {n} of this download)",
                    d.part,
                    pin.req.bucket,
                    pin.req.key,
                    d.rate / 1e6,
                    d.typical / 1e6
                )
            });
        }
    }

    /// The first failure is the cause; the others follow from `stop`.
    fn fail(&mut self, e: Error) {
        if self.failure.is_none() {
            self.failure = Some(e);
            self.stop.cancel();
        }
    }

    /// Syncs the temp file and saves the checkpoint (if any) with the parts finished so far, on
    /// the blocking pool (`checkpoint::commit`). `None` when there is nothing to do.
    fn start_flush(&mut self) -> Option<FlushHandle> {
        let cp = self.ckpt.cloned();
        let mut rec = self.record.take()?;
        let batch = std::mem::take(&mut self.pending);
        let file = self.temp.file.clone();
        let path = self.temp.path.clone();
        Some(tokio::task::spawn_blocking(move || {
            let r = checkpoint::commit(&file, &path, cp.as_ref(), &mut rec, batch);
            (rec, r)
        }))
    }

    /// A flush done: the record back.
    fn end_flush(
        &mut self,
        done: std::result::Result<(Record, Result<()>), tokio::task::JoinError>,
    ) -> Result<()> {
        match done {
            Ok((rec, r)) => {
                self.record = Some(rec);
                r
            }
            Err(e) => Err(Error::io_failure(format!(
                "the checkpoint writer failed: {e}"
            ))),
        }
    }
}

/// The spare slots (`Schedule::spare`) a download keeps, `running` parts running. While parts
/// are left to start: those the parts wanted (`wanted`) beyond the running ones need, no more:
/// after the throughput target's ramp went down, the slots of the parts that end go back to the
/// budget (the client's other downloads wait for them), not kept idle with their buffers to the
/// download's end. Once none is left to start (or a part failed): not needed any more, except
/// one once no part runs: a download holds a slot (its connection's share) until it ended and
/// closed its files, handed back to the caller (`admission`), so that the downloads holding
/// descriptors are never more than the budget's slots.
fn spare_to_keep(spare: usize, running: usize, wanted: usize, more_to_start: bool) -> usize {
    if more_to_start {
        spare.min(wanted.saturating_sub(running))
    } else {
        spare.min(usize::from(running == 0))
    }
}

#[cfg(test)]
mod tests {
    use super::spare_to_keep;

    #[test]
    fn slots_beyond_the_parts_wanted_go_back_to_the_budget() {
        // The ramp went from 16 parts to 8: while the 16 drain, the slots of those that end
        // go back, and none is held idle once 8 run.
        assert_eq!(spare_to_keep(1, 15, 8, true), 0);
        assert_eq!(spare_to_keep(8, 8, 8, true), 0);
        // A slot for a part about to start is kept.
        assert_eq!(spare_to_keep(1, 7, 8, true), 1);
        assert_eq!(spare_to_keep(3, 7, 8, true), 1);
        // Nothing left to start: one slot, the download's own, once no part runs.
        assert_eq!(spare_to_keep(3, 0, 8, false), 1);
        assert_eq!(spare_to_keep(3, 2, 8, false), 0);
        assert_eq!(spare_to_keep(0, 0, 8, false), 0);
    }
}
