//! The resumable downloader (`ResumableDownloadObject`): the object (or a range of it) cut into
//! parts downloaded concurrently into `<file>.temp`, verified with CRC64, renamed into place; with
//! a checkpoint directory, an interrupted download resumes where it stopped. A fresh download
//! starts with the GET of its first part (no HEAD): an object of at most one part costs one
//! request.
//!
//! Flow of `resumable_download`:
//! 1. `validate::check`: every local check that opens nothing, before any network traffic
//!    (`ValidateError`).
//!    Admission (`admit`): then the download waits for the slot of the client's memory budget
//!    its first request and first part will use, holding nothing open meanwhile (no directory,
//!    lock, file or socket): only admitted downloads hold descriptors, and each keeps a slot
//!    until it ended and closed them, so at most `MemoryBudget::capacity(admission_cost())`
//!    downloads and GetObjects to a file of one client hold descriptors at once.
//!    `validate::validate`: once admitted, the destination is named canonically (its directory
//!    opened once, `validate::Paths`), and every later file operation is relative to the
//!    directories opened there (`directory`).
//! 2. `lock`: `<file>.temp.lock` is locked; a second download to the same file gets `FileLocked`.
//!    An existing checkpoint, temp or lock file owned by another user or writable by its group
//!    or others is refused here, before any traffic (`IOError`).
//! 3. `start`: the first request, with the user's conditions (they apply to this request only;
//!    the parts after it are pinned to the ETag it saw instead), version id, payer and traffic
//!    limit, not the response-* overrides (the metadata returned is the object's own). A fresh
//!    download (no checkpoint file there) asks for its first part with a ranged GET
//!    (`bytes=<start>-<start + part_size - 1>`, the range's own end if sooner,
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
//! 5. `prepare`, `checkpoint`: an existing checkpoint is believed only if it matches the request and the
//!    object and the temp file is the one it describes (`checkpoint::TempIdentity`) with the right
//!    size; otherwise the checkpoint and temp are discarded and the download starts clean. Its
//!    finished parts are then re-read from the temp file and checked against their recorded
//!    CRC64 (`verify_parts_on_resume`, on by default); parts that fail are downloaded again. So
//!    every byte of the destination was either received by this call (its CRC computed on the
//!    way) or read back from the disk by it. An object that changed since the checkpoint is an
//!    `ObjectChanged` error (and the stale state is removed, so the next call starts fresh).
//! 6. `job`, `schedule`, `part`: at most `thread_num` parts in flight (or the count a throughput target's
//!    `ramp` finds), each holding a slot of the client's memory budget (`memory_budget`: a part
//!    waits for one rather than allocate), each pinned to the first answer's ETag,
//!    written at its offsets by a `part_writer::PartWriter` (large positional writes on the
//!    blocking pool, direct I/O where the file system allows it (`direct`), CRC64 computed on the
//!    way); the first part streams the first GET's body through the same writer (and asks,
//!    pinned, for whatever that body did not deliver: every part reads through the object
//!    layer's one body reader, `object::BodyReader`). Finished parts are recorded in the
//!    checkpoint in batches, after the temp file was synced (`checkpoint::commit`). The first unrecoverable failure
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
//!
//! Pause and resume tokens (`pausable_download`, the asynchronous API's): a pause (`suspend`)
//! stops the parts like a cancel, but keeps the temp file synced with or without a checkpoint
//! directory, and leaves a resume token (`resume_token`): the request and the record of the
//! finished parts. A run from a token starts with a HEAD and judges the token's record in
//! `prepare` exactly as a checkpoint's (object identity, plan, temp file identity and size,
//! every finished part re-read), except that a record that does not hold is refused with an
//! error instead of discarded.

mod blocking;
mod checkpoint;
mod direct;
pub mod directory;
mod get_to_file;
mod job;
pub(crate) mod lock;
mod part;
mod part_writer;
pub(crate) mod pause_at;
pub mod plan;
mod prepare;
mod progress;
pub mod ramp;
mod reissue;
mod request;
pub mod resume_key;
pub(crate) mod resume_token;
mod schedule;
mod start;
pub mod straggler;
pub mod suspend;
pub(crate) mod temp_file;
pub(crate) mod test_hooks;
pub(crate) mod validate;

pub use self::request::{
    DownloadRequest, DEFAULT_PART_SIZE, DEFAULT_THREAD_NUM, MAX_PART_SIZE, MAX_THREAD_NUM,
    MIN_PART_SIZE,
};
#[cfg(feature = "test-hooks")]
pub use self::test_hooks::fuzzing;

pub(crate) use self::get_to_file::{get_into, SmallFile};
pub(crate) use self::temp_file::umask;

use self::blocking::blocking;
use self::checkpoint::{CheckpointFile, ObjectIdentity, Record};
use self::job::Job;
use self::plan::Plan;
use self::prepare::{prepare, Prepared, Previous};
use self::request::object_changed;
use self::resume_token::ResumeToken;
use self::start::start;
use self::suspend::Suspend;
use self::validate::Paths;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::Result;
use crate::object::ObjectMeta;

pub use crate::progress::ProgressFn;
#[cfg(feature = "test-hooks")]
use std::path::PathBuf;

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
    validate::check(req)?;
    let cancel = &client.call_cancel(cancel.clone());
    // Declared before the paths: given back to the budget after every descriptor was closed.
    let (mut admission, cancel) = admit(client, req, cancel).await?;
    let paths = validate::validate(req)?;
    download(client, req, &cancel, &paths, None, None, &mut admission).await
}

/// The batch's download of one large object: as `resumable_download`, into `name` in the
/// already opened directory `dir` (opened by the batch without following links), with its
/// checkpoint in `checkpoint_dir`, and without the final fsyncs of the file and the directory:
/// the batch syncs the file system once per group of objects before its journal records them
/// (`Paths::defer_sync`). `req.file_path` must be `dir`'s path joined with `name` (messages,
/// the checkpoint's name); `req.checkpoint_dir` is ignored. The client's call timeout is a
/// deadline over this object's download, as for `resumable_download`.
pub(crate) async fn download_in(
    client: &Client,
    req: &DownloadRequest,
    dir: std::sync::Arc<directory::Directory>,
    name: std::ffi::OsString,
    checkpoint_dir: Option<std::sync::Arc<directory::Directory>>,
    cancel: &Cancel,
) -> Result<ObjectMeta> {
    let cancel = &client.call_cancel(cancel.clone());
    let (mut admission, cancel) = admit(client, req, cancel).await?;
    let paths = Paths::opened(dir, name, checkpoint_dir, true)?;
    download(client, req, &cancel, &paths, None, None, &mut admission).await
}

/// A download that can be paused (`suspend`) and may continue from a resume token (`token`,
/// whose request `req` must be: `ResumeToken::request` plus the caller's threads, progress and
/// I/O settings). A pause ends the call with a `Cancelled` error and leaves the resume token in
/// `suspend` (`Suspend::take_token`): the temp file is kept, with or without a checkpoint
/// directory. A token's record is judged like a checkpoint (`prepare`) and refused with an error
/// when it does not hold.
pub(crate) async fn pausable_download(
    client: &Client,
    req: &DownloadRequest,
    cancel: &Cancel,
    suspend: &Suspend,
    token: Option<&ResumeToken>,
) -> Result<ObjectMeta> {
    validate::check(req)?;
    // Declared before the paths: given back to the budget after every descriptor was closed.
    let mut admission = None;
    let (result, dest) = match admit(client, req, cancel).await {
        Ok((slot, cancel)) => {
            admission = slot;
            let paths = validate::validate(req)?;
            let result = download(
                client,
                req,
                &cancel,
                &paths,
                Some(suspend),
                token,
                &mut admission,
            )
            .await;
            (result, Some(paths.dest.clone()))
        }
        Err(e) => (Err(e), None),
    };
    if let Err(e) = &result {
        if e.kind == crate::ErrorKind::Cancelled && suspend.stop_is_pause() {
            let record = suspend.take_record().or_else(|| {
                // Paused before the job ran (the job decides with the same switch, so it never
                // removed the temp file of a stop that is a pause): a token's own record holds.
                token
                    .filter(|_| suspend.temp_kept())
                    .and_then(|t| t.record.clone())
            });
            // Paused while waiting for its admission: the destination's canonical name is
            // looked up now (its directories opened and closed again).
            let dest = match dest {
                Some(d) => Some(d),
                None => validate::validate(req).ok().map(|p| p.dest),
            };
            // Sealed with the client's resume token key; without one (no key file can be made,
            // none configured) the pause still keeps the temp file, and taking the token says
            // why there is none.
            if let Some(dest) = dest {
                let token = ResumeToken::new(req, &dest, record);
                suspend.set_token(
                    resume_key::key_for(client.config().resume_token_key.as_ref())
                        .map(|key| token.encode(&key)),
                );
            }
        }
    }
    drop(admission);
    result
}

/// Admission: the slot of the client's memory budget that the download's first request and
/// first part will use, waited for before the download opens anything (its directories, its
/// lock, its temp file) or connects. So a download waiting for room holds no descriptor, no
/// socket and no lock, and the downloads holding any are at most the slots the budget holds
/// (`MemoryBudget::capacity`; each download keeps one slot until it ended: `Job::run`).
/// Always `Some`: the option is the caller's hold on the slot, which `Job::run` takes and fills
/// again at its end (left `None` only if a panicking part task lost every slot). Returns the
/// cancel of the rest of the download: `cancel`, with the time waited for the slot for the
/// metrics of its first request (when measured).
async fn admit(
    client: &Client,
    req: &DownloadRequest,
    cancel: &Cancel,
) -> Result<(Option<crate::memory_budget::Slot>, Cancel)> {
    // A client inherited through fork(): the slots its parent held at the fork are never given
    // back here, so waiting for one could last forever.
    client.check_process()?;
    client.check_signing()?;
    cancel.check()?;
    let (budget, cost) = (client.memory_budget(), job::slot_cost(req));
    // Measured: a slot free at once is no wait; one waited for is timed.
    let measured = client.config().request_metrics.is_some();
    if let Some(slot) = measured.then(|| budget.try_acquire(cost)).flatten() {
        return Ok((Some(slot), cancel.clone()));
    }
    let since = measured.then(std::time::Instant::now);
    let slot = cancel.run(async { Ok(budget.acquire(cost).await) }).await?;
    let cancel = match since {
        Some(t) => cancel.clone().with_memory_wait(t.elapsed()),
        None => cancel.clone(),
    };
    Ok((Some(slot), cancel))
}

/// The download once admitted (`admit`): `admission` holds its slot, which the first request
/// and the first part use, and gets back the slot the download holds at its end.
async fn download(
    client: &Client,
    req: &DownloadRequest,
    cancel: &Cancel,
    paths: &Paths,
    suspend: Option<&Suspend>,
    token: Option<&ResumeToken>,
    admission: &mut Option<crate::memory_budget::Slot>,
) -> Result<ObjectMeta> {
    let paths = paths.clone();
    let token_record = token.and_then(|t| t.record.clone());
    let _lock = lock::DestinationLock::acquire(&paths.dir, &paths.lock_name, &paths.dest)?;
    let ckpt = checkpoint_of(req, &paths);
    check_local_state(ckpt.as_ref(), &paths)?;
    // The first request's answer is the first part's body: it is made with the slot of the
    // memory budget that part will hold (the admission), so a download waiting for room has
    // no answer open.
    // A resume (a checkpoint there, or a token's record) starts with a HEAD: the record is
    // judged on the object's identity before any byte is asked for.
    let head_first = token_record.is_some() || ckpt.as_ref().is_some_and(|c| c.exists());
    let asked = std::time::Instant::now();
    let (meta, first_body) = start(client, req, head_first, cancel).await?;
    let round_trip = Some(asked.elapsed());
    let plan = plan_for(req, &meta, first_body.is_some())?;
    let (record, temp, own_cut) =
        prepare_files(req, &meta, &plan, &paths, ckpt.clone(), token_record).await?;
    // A resumed record cut otherwise than this run would (with or without a throughput target)
    // goes on with its own cut.
    let plan = own_cut.unwrap_or(plan);
    let job = Job {
        client,
        req,
        cancel,
        paths: &paths,
        plan: &plan,
        meta: &meta,
        ckpt: ckpt.as_ref(),
        suspend,
        round_trip,
    };
    let verified = job.run(record, temp, first_body, admission).await?;
    Ok(ObjectMeta { verified, ..meta })
}

/// Another user's (or a group/world-writable) checkpoint or temp file: refused before any
/// traffic (they are checked again on the open files later).
fn check_local_state(ckpt: Option<&CheckpointFile>, paths: &Paths) -> Result<()> {
    if let Some(c) = ckpt {
        c.check_trusted()?;
        // A directory that cannot hold a checkpoint fails here, before any request: a resumable
        // download that could never resume must not look like one.
        c.check_writable()?;
    }
    temp_file::check_existing(&paths.dir, &paths.temp_name, &paths.temp)?;
    Ok(())
}

/// The parts of the bytes to fetch, once the first answer told the object's size. Every
/// request after the first answer is pinned to its ETag (`If-Match`); an answer without one
/// cannot pin them (`object::unpinnable` says why no other pin is used), so a download that
/// needs another request is refused here, before its temp file exists. One that the first
/// GET's body completes (one part) needs no pin.
fn plan_for(req: &DownloadRequest, meta: &ObjectMeta, has_first_body: bool) -> Result<Plan> {
    let (first, total) = plan::resolve_range(req.range, meta.content_length)?;
    let part_size = plan::part_size_for(total, req.part_size, req.throughput_target);
    let plan = Plan::new(first, total, part_size);
    let later_requests = plan.parts.len() > 1 || (!plan.parts.is_empty() && !has_first_body);
    if meta.etag.is_empty() && later_requests {
        return Err(crate::object::unpinnable(&req.object, "the download of")
            .with_request_id(meta.request_id.clone()));
    }
    Ok(plan)
}

/// The record to continue and its temp file (`prepare`, on the blocking pool): a checkpoint's
/// or a token's record judged, or a fresh temp file.
async fn prepare_files(
    req: &DownloadRequest,
    meta: &ObjectMeta,
    plan: &Plan,
    paths: &Paths,
    ckpt: Option<CheckpointFile>,
    token_record: Option<Record>,
) -> Result<(Record, temp_file::TempFile, Option<Plan>)> {
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
        plan,
        &paths.dest,
        &paths.temp,
    );
    let (plan, paths, direct) = (plan.clone(), paths.clone(), req.direct_io);
    // A token's parts are always re-read: nothing in a token is taken on trust.
    let verify = req.verify_parts_on_resume || token_record.is_some();
    let prepared = blocking(move || {
        let previous = match (token_record, ckpt.as_ref()) {
            (Some(r), _) => Previous::Token(Box::new(r)),
            (None, Some(c)) => Previous::Checkpoint(c),
            (None, None) => Previous::None,
        };
        prepare(
            previous,
            ckpt.as_ref(),
            record,
            &plan,
            &paths,
            verify,
            direct,
        )
    })
    .await?;
    match prepared {
        Prepared::Ready(r, temp, own) => Ok((*r, temp, own)),
        Prepared::ObjectChanged { old_etag } => Err(object_changed(
            &req.object,
            &old_etag,
            &meta.etag,
            "since the interrupted download started",
        )),
    }
}
