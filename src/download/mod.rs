//! The resumable downloader (`ResumableDownloadObject`): the object (or a range of it) cut into
//! parts downloaded concurrently into `<file>.temp`, verified with CRC64, renamed into place; with
//! a checkpoint directory, an interrupted download resumes where it stopped. A fresh download
//! starts with the GET of its first part (no HEAD): an object of at most one part costs one
//! request.
//!
//! Flow of `resumable_download`:
//! 1. `validate`: every local check, before any network traffic (`ValidateError`).
//!    The destination is named canonically (its directory opened once, `validate::Paths`), and
//!    every later file operation is relative to the directories opened there (`directory`).
//! 2. `lock`: `<file>.temp.lock` is locked; a second download to the same file gets `FileLocked`.
//!    An existing checkpoint, temp or lock file owned by another user or writable by its group
//!    or others is refused here, before any traffic (`IOError`).
//! 3. The first request, with the user's conditions (they apply to this request only; the parts
//!    after it are pinned to the ETag it saw instead), version id, payer and traffic limit, not
//!    the response-* overrides (the metadata returned is the object's own) (`start`). A fresh download (no checkpoint file there) asks for its first part with a
//!    ranged GET (`bytes=<start>-<start + part_size - 1>`, the range's own end if sooner,
//!    `x-oss-range-behavior: standard`): the answer's headers tell the object (Content-Range's
//!    total is its size; ETag, Last-Modified, whole-object `x-oss-hash-crc64ecma`, version id,
//!    request id) and its body, not read yet, becomes the first part's (step 6). A resume (a
//!    checkpoint file exists) sends a HEAD instead: the checkpoint is judged on the object's
//!    identity before any byte is asked for. The GET falls back to the HEAD on a 416 (a 0-byte
//!    object, on which any Range is refused, or a range starting past the end: the HEAD's size
//!    then decides as before) and on a retryable failure left after the client's retries.
//!    A 412/304 of the user's conditions, a 404 or 403 is returned as it is (the same code,
//!    status and kind as from the HEAD). No byte is written before the answer's headers arrived
//!    and step 5 prepared the temp file.
//! 4. `plan`: the bytes to fetch cut into at most `plan::MAX_PARTS` parts.
//! 5. `checkpoint`: an existing checkpoint is believed only if it matches the request and the
//!    object and the temp file is the one it describes (`writer::TempIdentity`) with the right
//!    size; otherwise the checkpoint and temp are discarded and the download starts clean. Its
//!    finished parts are then re-read from the temp file and checked against their recorded
//!    CRC64 (`verify_parts_on_resume`, on by default); parts that fail are downloaded again. So
//!    every byte of the destination was either received by this call (its CRC computed on the
//!    way) or read back from the disk by it. An object that changed since the checkpoint is an
//!    `ObjectChanged` error (and the stale state is removed, so the next call starts fresh).
//! 6. `part`: at most `thread_num` parts in flight, each pinned to the first answer's ETag,
//!    written at its offsets by a `part_writer::PartWriter` (large positional writes on the
//!    blocking pool, direct I/O where the file system allows it (`direct`), CRC64 computed on the
//!    way); the first part streams the first GET's body through the same writer (and asks,
//!    pinned, for whatever that body did not deliver). Finished parts are recorded in the
//!    checkpoint in batches, after the temp file was synced. The first unrecoverable failure
//!    cancels the other parts. A later part finding another ETag (or a pinned 412) is an
//!    `ObjectChanged` error.
//! 7. The part CRCs are combined and compared with `x-oss-hash-crc64ecma` (whole-object downloads,
//!    when CRC is enabled and the header is present); then the temp file is synced, given the
//!    destination's mode, renamed over the destination (after checking that the temp name still
//!    names the file written), the directory synced and the checkpoint deleted.
//!
//! On failure (the final rename included): without a checkpoint directory the temp file is
//! removed; with one, the checkpoint is brought up to date and kept with the temp file for the
//! next call — except after a CRC mismatch or an object change, which remove both.

mod checkpoint;
mod direct;
mod directory;
mod get_to_file;
pub(crate) mod lock;
mod part;
mod part_writer;
mod pause;
pub mod plan;
mod progress;
pub(crate) mod validate;
pub(crate) mod writer;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::checkpoint::{CheckpointFile, DonePart, Loaded, ObjectIdentity, Record, Verdict};
use self::plan::Plan;
use self::progress::Progress;
use self::validate::Paths;
use self::writer::{NotResumable, TempFile};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};
use crate::object::{ByteRange, ObjectBody, ObjectMeta, ObjectRequest};

pub use self::validate::{default_path_for_key, validate_bucket, validate_key};

pub use crate::progress::ProgressFn;

pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
pub const MIN_PART_SIZE: u64 = 100 * 1024;
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Parts in flight by default: 4 for the C API, the Rust API and Python (the C++ layer keeps the
/// official SDK's 3). Chosen from the thread sweep of issue 12 (BENCHMARKS.md, "Defaults"): on
/// the 2-core bench machine 1 GiB came at 1103, 1528, 1887, 1800, 1816 and 1636 MB/s with 1, 2,
/// 4, 8, 16 and 32 threads (direct I/O: more parts in flight keep the disk's queue full), while
/// peak RSS grows ~3.5 MiB per thread (22 MiB at 4).
pub const DEFAULT_THREAD_NUM: u32 = 4;
pub const MAX_THREAD_NUM: u32 = 1000;

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

/// A resumable download.
#[derive(Clone)]
pub struct DownloadRequest {
    /// Bucket, key, version id, conditions, response-* overrides, traffic limit, payer.
    pub object: ObjectRequest,
    /// The destination; `None`: the key as a path relative to the current directory (refused
    /// when it could escape it).
    pub file_path: Option<PathBuf>,
    /// 100 KiB..=5 GiB; raised automatically when the object would need over 10000 parts.
    pub part_size: u64,
    /// Parts in flight at most: 1..=1000.
    pub thread_num: u32,
    /// Set (and existing): the download is resumable, its checkpoint lives there.
    pub checkpoint_dir: Option<PathBuf>,
    /// `(start, end)` inclusive; end -1: to the end. The file holds exactly these bytes.
    pub range: Option<(i64, i64)>,
    /// On resume, re-read the finished parts from the temp file and check their recorded CRC64
    /// (parts that fail are downloaded again). On by default: then every byte of the destination
    /// was either received by this call or read back and checked by it, and the final CRC check
    /// covers the bytes on disk. Off: the recorded CRCs of resumed parts are trusted (cheaper by
    /// one read of the resumed bytes, usually from the page cache; a temp file changed between
    /// runs by something else than this library would go unnoticed).
    pub verify_parts_on_resume: bool,
    /// Write the temp file with direct I/O (`O_DIRECT`) where the file system allows it (the
    /// aligned bulk of every part; see `direct.rs`); on by default. Off: every write goes through
    /// the page cache, as before issue 12 (the final fsync then waits for the writeback).
    pub direct_io: bool,
    /// Called with `(increment, transferred, total)`; see [`ProgressFn`].
    pub progress: Option<ProgressFn>,
}

impl DownloadRequest {
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        DownloadRequest {
            object: ObjectRequest {
                bucket: bucket.into(),
                key: key.into(),
                ..ObjectRequest::default()
            },
            file_path: None,
            part_size: DEFAULT_PART_SIZE,
            thread_num: DEFAULT_THREAD_NUM,
            checkpoint_dir: None,
            range: None,
            verify_parts_on_resume: true,
            direct_io: true,
            progress: None,
        }
    }
}

impl std::fmt::Debug for DownloadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadRequest")
            .field("object", &self.object)
            .field("file_path", &self.file_path)
            .field("part_size", &self.part_size)
            .field("thread_num", &self.thread_num)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .field("range", &self.range)
            .field("verify_parts_on_resume", &self.verify_parts_on_resume)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The checkpoint file a request would use (`None` without a checkpoint directory). Every
/// spelling of one destination gives the same file. A test hook (`test-hooks` feature).
#[cfg(feature = "test-hooks")]
pub fn checkpoint_path(req: &DownloadRequest) -> Result<Option<PathBuf>> {
    let paths = validate::validate(req)?;
    Ok(checkpoint_of(req, &paths).map(|c| c.path))
}

fn checkpoint_of(req: &DownloadRequest, paths: &Paths) -> Option<CheckpointFile> {
    paths.checkpoint_dir.as_ref().map(|d| {
        CheckpointFile::new(
            d.clone(),
            &req.object.bucket,
            &req.object.key,
            req.object.version_id.as_deref(),
            &paths.dest,
        )
    })
}

/// Downloads `req.object` to `req.file_path` (see the module documentation). Returns the object's
/// metadata from the first answer, GET or HEAD alike (whole-object size, ETag, Last-Modified,
/// CRC64, version id, request id).
pub async fn resumable_download(
    client: &Client,
    req: &DownloadRequest,
    cancel: &Cancel,
) -> Result<ObjectMeta> {
    let paths = validate::validate(req)?;
    client.check_signing()?;
    cancel.check()?;
    let _lock = lock::DestinationLock::acquire(&paths.dir, &paths.lock_name, &paths.dest)?;
    let ckpt = checkpoint_of(req, &paths);
    // Another user's (or a group/world-writable) checkpoint or temp file: refused before any
    // traffic (they are checked again on the open files below).
    if let Some(c) = &ckpt {
        c.check_trusted()?;
    }
    writer::check_existing(&paths.dir, &paths.temp_name, &paths.temp)?;

    let (meta, first_body) = start(client, req, ckpt.as_ref(), cancel).await?;
    let (first, total) = plan::resolve_range(req.range, meta.content_length)?;
    let plan = Plan::new(first, total, req.part_size);
    let record = Record::new(
        &req.object.bucket,
        &req.object.key,
        req.object.version_id.as_deref(),
        ObjectIdentity {
            size: meta.content_length,
            etag: meta.etag.clone(),
            last_modified: meta.last_modified.clone(),
            crc64: meta.crc64,
        },
        req.range,
        req.part_size,
        &plan,
        &paths.dest,
        &paths.temp,
    );

    let (record, temp) = {
        let (ckpt, plan, paths, verify, direct) = (
            ckpt.clone(),
            plan.clone(),
            paths.clone(),
            req.verify_parts_on_resume,
            req.direct_io,
        );
        blocking(move || prepare(ckpt.as_ref(), record, &plan, &paths, verify, direct)).await?
    };
    let record = match record {
        Prepared::Ready(r) => *r,
        Prepared::ObjectChanged { old_etag } => {
            return Err(object_changed(
                &req.object,
                &old_etag,
                &meta.etag,
                "since the interrupted download started",
            ))
        }
    };

    let job = Job {
        client,
        req,
        cancel,
        paths: &paths,
        plan: &plan,
        meta: &meta,
        ckpt: ckpt.as_ref(),
    };
    job.run(record, temp, first_body).await?;
    Ok(meta)
}

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
/// path's parts have their own retry budget, so the HEAD-less start is never less robust).
/// Every other error (NoSuchKey, 403, the user's conditions failing with 412/304...) is
/// returned as it is: the same code and kind as the HEAD gave, the error XML coming in the body
/// or in `x-oss-err`. The GET carries what the HEAD carried (conditions, version id, payer) plus
/// the traffic limit, not the response-* overrides.
async fn start(
    client: &Client,
    req: &DownloadRequest,
    ckpt: Option<&CheckpointFile>,
    cancel: &Cancel,
) -> Result<(ObjectMeta, Option<ObjectBody>)> {
    if ckpt.is_some_and(|c| c.exists()) {
        return Ok((client.head_object(&req.object, cancel).await?, None));
    }
    let range = first_part_range(req.range, req.part_size);
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
        Err(e) if (e.http_status == 416 || e.is_retryable()) && !cancel.is_cancelled() => {
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

/// The bytes of the first part of a download: from the range's start (0 without a range),
/// `part_size` bytes, or fewer when the user's range ends before. An end past the object is
/// clamped by the server (`x-oss-range-behavior: standard`). The plan may raise the part size
/// for a huge object: the first part is then longer than this answer and its rest is asked for
/// by `part::download`. `range` was validated (start >= 0, end >= start or -1).
fn first_part_range(range: Option<(i64, i64)>, part_size: u64) -> ByteRange {
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
fn meta_of_first_answer(meta: &ObjectMeta) -> ObjectMeta {
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

enum Prepared {
    Ready(Box<Record>),
    ObjectChanged { old_etag: String },
}

/// Loads and judges the checkpoint; returns the record to continue (with its finished parts,
/// re-read and checked when `verify`) and the temp file to write, or the old ETag when the object
/// changed since the checkpoint.
fn prepare(
    ckpt: Option<&CheckpointFile>,
    mut record: Record,
    plan: &Plan,
    paths: &Paths,
    verify: bool,
    direct_io: bool,
) -> Result<(Prepared, Option<TempFile>)> {
    if let Some(cp) = ckpt {
        let discard = |why: &str| {
            log::log(Level::Warn, || {
                format!(
                    "discarding the checkpoint '{}': {why}; starting the download afresh",
                    cp.path.display()
                )
            });
            cp.remove();
        };
        match cp.load()? {
            Loaded::None => {}
            Loaded::Discard(why) => discard(&why),
            Loaded::Record(old) => match old.verdict(&record, plan) {
                Verdict::Resume => match TempFile::open_existing(
                    &paths.dir,
                    &paths.temp_name,
                    plan.total,
                    &old.temp_file,
                    direct_io,
                )? {
                    Ok(temp) => {
                        let mut parts = old.parts;
                        let before = parts.len();
                        if verify {
                            let t0 = std::time::Instant::now();
                            let bytes: u64 = parts.iter().map(|p| p.size).sum();
                            parts.retain(|p| {
                                TempFile::read_crc(&temp.file, plan.file_offset(p.offset), p.size)
                                    .is_ok_and(|crc| crc == p.crc64)
                            });
                            log::log(Level::Info, || {
                                format!(
                                    "resuming '{}': {before} finished parts ({bytes} bytes) re-read and checked in {} ms",
                                    paths.dest.display(),
                                    t0.elapsed().as_millis()
                                )
                            });
                        }
                        record.parts = parts;
                        record.temp_file = old.temp_file;
                        if record.parts.len() != before {
                            log::log(Level::Warn, || {
                                format!(
                                    "{} finished parts in '{}' failed verification; downloading them again",
                                    before - record.parts.len(),
                                    temp.path.display()
                                )
                            });
                            if let Err(e) = cp.save(&record) {
                                log::log(Level::Warn, || format!("{e}"));
                            }
                        }
                        return Ok((Prepared::Ready(Box::new(record)), Some(temp)));
                    }
                    Err(NotResumable::Missing) => discard("its temp file is missing"),
                    Err(NotResumable::WrongSize) => discard("its temp file has the wrong size"),
                    Err(NotResumable::NotDescribed) => discard(
                        "the temp file is not the one it describes (it was recreated by another download)",
                    ),
                },
                Verdict::ObjectChanged { old_etag } => {
                    cp.remove();
                    writer::remove_temp(&paths.dir, &paths.temp_name);
                    return Ok((Prepared::ObjectChanged { old_etag }, None));
                }
                Verdict::Discard(why) => discard(&why),
            },
        }
    }
    let temp = TempFile::create(&paths.dir, &paths.temp_name, plan.total, direct_io)?;
    if ckpt.is_some() {
        // A checkpoint will record parts written into this new file: its name (and the removal
        // of an older temp file it replaces) must be durable first. Otherwise a power cut can
        // bring back the old file under a checkpoint that claims parts it never held (with the
        // checkpoint in another directory, under fsync(2)'s strict rules: the power phase's
        // temp-directory sequence). One directory fsync per fresh start.
        temp.sync_dir();
    }
    record.temp_file = temp.identity()?;
    Ok((Prepared::Ready(Box::new(record)), Some(temp)))
}

/// One download after its preparation.
struct Job<'a> {
    client: &'a Client,
    req: &'a DownloadRequest,
    cancel: &'a Cancel,
    paths: &'a Paths,
    plan: &'a Plan,
    meta: &'a ObjectMeta,
    ckpt: Option<&'a CheckpointFile>,
}

type FlushHandle = JoinHandle<(Record, Result<()>)>;

impl Job<'_> {
    async fn run(
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

/// The request without its conditions (they apply to the first request only).
fn unconditional(req: &ObjectRequest) -> ObjectRequest {
    ObjectRequest {
        if_match: Vec::new(),
        if_none_match: Vec::new(),
        if_modified_since: None,
        if_unmodified_since: None,
        ..req.clone()
    }
}

fn object_changed(req: &ObjectRequest, old: &str, new: &str, when: &str) -> Error {
    let mut e = Error::object_changed(format!(
        "the object {}/{} changed on the server {when}: ETag was {old}, now {new}; \
             the partial download was removed, a new call downloads the new version",
        req.bucket, req.key
    ));
    e.http_status = 412;
    e
}

/// Entry points for the reliability suite's fuzzer (`tests/reliability/fuzz.rs`); not an API:
/// only with the `test-hooks` feature.
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod fuzzing {
    use super::checkpoint::{self, Verdict};
    use super::plan::Plan;
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
    pub fn checkpoint_would_resume(
        bytes: &[u8],
        expected: &[u8],
    ) -> std::result::Result<bool, String> {
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
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::io_failure(format!("a file-system task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

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
