//! One download after its preparation: parts scheduled (at most `thread_num` in flight),
//! finished parts recorded in the checkpoint in batches after a sync, the first failure
//! cancelling the others, then the whole-object CRC check and the final rename (steps 6-7).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::checkpoint::{CheckpointFile, DonePart, Record};
use super::plan::Plan;
use super::progress::Progress;
use super::validate::Paths;
use super::writer::TempFile;
use super::{
    blocking, object_changed, part, part_writer, pause, plan, unconditional, DownloadRequest,
};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::object::{ObjectBody, ObjectMeta};

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
        temp: Option<TempFile>,
        first_body: Option<ObjectBody>,
    ) -> Result<()> {
        let temp = temp.ok_or_else(|| Error::io_failure("no temp file"))?;
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
        let stop = CancellationToken::new();
        let ctx = Arc::new(part::PartContext {
            client: self.client.clone(),
            request: unconditional(&self.req.object),
            etag: (!self.meta.etag.is_empty()).then(|| self.meta.etag.clone()),
            object_size: self.meta.content_length,
            cancel: self.cancel.clone().with(stop.clone()),
            file: temp.writer.clone(),
            temp_path: Arc::new(temp.path.clone()),
            first: plan.first,
            progress: progress.clone(),
            buffers: Arc::new(part_writer::BufferPool::new(
                (WRITE_BUFFER_BUDGET / threads).clamp(WRITE_BUFFER_MIN, WRITE_BUFFER_MAX),
            )),
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
        loop {
            while failure.is_none() && running.len() < threads {
                let Some(p) = todo.pop_front() else { break };
                let body = if p.index == 0 {
                    first_body.take()
                } else {
                    None
                };
                running.spawn(part::download(ctx.clone(), p, body));
            }
            if running.is_empty() {
                break;
            }
            // Without a checkpoint a flush only starts the disk writes early, which direct
            // writes do not need.
            let can_flush = flushing.is_none()
                && !pending.is_empty()
                && failure.is_none()
                && (self.ckpt.is_some() || !temp.writer.is_direct());
            tokio::select! {
                joined = running.join_next() => {
                    let outcome = match joined {
                        Some(Ok(r)) => r,
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
        let whole = plan.first == 0 && plan.total == self.meta.content_length;
        if let (true, true, Some(server)) =
            (whole, self.client.config().enable_crc64, self.meta.crc64)
        {
            if server != crc {
                self.remove_state(&temp);
                return Err(Error::crc_mismatch(format!(
                        "CRC64 mismatch for {}/{}: computed {crc}, the server says {server}; the download was discarded",
                        self.req.object.bucket, self.req.object.key
                    ),
                ));
            }
        }
        let dest_name = self.paths.name.clone();
        let cp = self.ckpt.cloned();
        // The temp file comes back from the task: a failed rename still needs it.
        let (temp, committed) = blocking(move || {
            let committed = temp.commit(&dest_name).map(|()| {
                pause::at("after_rename");
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
        Ok(())
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
            if let Err(e) = file.sync_data() {
                return (rec, Err(Error::io("syncing the temp file", &path, &e)));
            }
            rec.parts.extend(batch);
            let Some(cp) = cp else {
                return (rec, Ok(()));
            };
            if let Err(e) = cp.save(&rec) {
                // The download itself is still correct; only resumability suffers.
                log::log(Level::Warn, || format!("cannot save the checkpoint: {e}"));
            }
            (rec, Ok(()))
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
                if let Err(e) = temp.sync_data() {
                    return Ok((temp, Err(e)));
                }
                rec.parts.extend(pending);
                if let Some(cp) = cp {
                    if let Err(e) = cp.save(&rec) {
                        log::log(Level::Warn, || format!("cannot save the checkpoint: {e}"));
                    }
                }
                Ok((temp, Ok(rec)))
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
                    temp.sync_data()?;
                    rec.parts.extend(pending);
                    cp.save(&rec)
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
