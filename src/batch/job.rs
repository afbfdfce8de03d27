//! The batch's job: the source (a listing, or HEADs of a key list: `source`) feeds objects
//! through the key -> path mapping (`key_path`) and the filters into tasks (`fetch`), at most
//! `max_objects_in_flight` at a time (small objects on connections of the batch's own, not bounded
//! by the client's `max_connections`; large ones on the client's); each finished
//! download joins the current group, and a group (256 objects, or 2 s, and at the end) is made
//! durable with one `syncfs` of the destination's file system (file by file where that is not
//! enough: `key_path::syncfs_is_enough`) before the journal records it, so the journal is never
//! ahead of the files. The failure policy, cancel and pause stop the
//! scheduling; the report collects every outcome.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::fetch::{self, Context, Done};
use super::filter::Filter;
use super::journal::{self, Journal, JournalEntry};
use super::key_path::{self, KeyPaths, Planned, RelPath};
use super::known::Known;
use super::progress::Tracker;
use super::report::{BatchReport, ObjectOutcome, Outcome, SkipReason};
use super::request::{BatchRequest, OnFailure, Source};
use super::source::{self, Item, Listed};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::download::directory::Directory;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{self, Level};

/// A group is made durable and recorded after this many objects...
pub const GROUP_OBJECTS: usize = 256;
/// ...or this long after its first object finished.
pub const GROUP_TIME: Duration = Duration::from_secs(2);

/// What a task gives back: the object, its local path, its end.
type Finished = (Item, Option<PathBuf>, Result<Done>);

pub(super) async fn run(
    client: &Client,
    req: &BatchRequest,
    cancel: &Cancel,
    pause: &CancellationToken,
) -> BatchReport {
    let started = Instant::now();
    let tracker = Arc::new(Tracker::new(req.progress.clone()));
    let stop = CancellationToken::new();
    let mut report = BatchReport::default();
    let task_cancel = cancel.clone().with(pause.clone()).with(stop.clone());
    match open(client, req, task_cancel, &tracker).await {
        Ok(opened) => {
            let hidden = opened.hidden.clone();
            let mut batch = Batch::new(req, opened, stop);
            batch.run(cancel, pause).await;
            if let (Some(name), Some(dest)) = (hidden, &batch.ctx.dest) {
                let complete = batch.report.stopped.is_none() && batch.report.failures.is_empty();
                if let (true, Some(c)) = (complete, &batch.ctx.checkpoint_dir) {
                    clear_checkpoints(c);
                }
                // Kept while it holds a checkpoint (fails then: not empty).
                let _ = rustix::fs::unlinkat(dest.as_fd(), &name, rustix::fs::AtFlags::REMOVEDIR);
            }
            report = batch.report;
        }
        Err(e) => report.stopped = Some(e),
    }
    report.progress = tracker.finish();
    report.elapsed = started.elapsed();
    report
}

/// Removes what a batch that ended with every object done leaves in its own hidden checkpoint
/// directory: checkpoints (and their `.tmp` files) whose removal a power cut undid after the
/// journal recorded their objects, which no later run would touch. Only regular files of ours
/// named like checkpoints; never in a checkpoint directory the caller gave.
fn clear_checkpoints(dir: &Directory) {
    let Ok(entries) = rustix::fs::Dir::read_from(dir.as_fd()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = std::ffi::OsStr::from_bytes(entry.file_name().to_bytes());
        if name.as_bytes().starts_with(b"oss-download-") {
            dir.unlink_if_ours(name);
        }
    }
}

/// What the job opened before its first object: the task context, the filter, the journal's
/// entries.
struct Opened {
    ctx: Arc<Context>,
    filter: Filter,
    known: Known,
    /// The journal read by a dry run (read-only; a run records into `ctx.journal`).
    read_only: Option<Journal>,
    journal_path: Option<PathBuf>,
    hidden: Option<std::ffi::OsString>,
}

/// Checks the request, opens (creates) the destination, the checkpoint directory and the
/// journal (a dry run only reads it).
async fn open(
    client: &Client,
    req: &BatchRequest,
    cancel: Cancel,
    tracker: &Arc<Tracker>,
) -> Result<Opened> {
    req.validate()?;
    client.check_process()?;
    client.check_signing()?;
    let filter = req.filter()?;
    let (req2, host) = (req.clone(), client.endpoint().host.clone());
    let files = fetch::blocking(move || open_files(&req2, &host)).await?;
    let dropped = files.dropped;
    if dropped > 0 {
        log::log(Level::Warn, || {
            format!("the batch journal had {dropped} torn or corrupt line(s), dropped: those objects are checked again")
        });
    }
    let journal_path = files.journal.as_ref().map(|j| j.path().to_path_buf());
    let ctx = Context {
        client: client.clone(),
        bucket: req.bucket.clone(),
        dest: files.dest,
        checkpoint_dir: files.checkpoints,
        journal: files.journal.map(|j| Arc::new(Mutex::new(j))),
        forgets: fetch::Forgets::default(),
        overwrite: req.overwrite,
        dry_run: req.dry_run,
        part_size: req.part_size,
        thread_num: req.thread_num,
        verify_parts_on_resume: req.verify_parts_on_resume,
        direct_io: req.direct_io,
        tracker: tracker.clone(),
        parents: fetch::Parents::default(),
        connections: Arc::new(tokio::sync::Semaphore::new(
            (req.max_objects_in_flight as usize).max(1),
        )),
        cancel,
        umask: crate::download::umask(),
    };
    Ok(Opened {
        ctx: Arc::new(ctx),
        filter,
        known: files.known,
        read_only: files.read_only,
        journal_path,
        hidden: files.hidden,
    })
}

/// What `open_files` opened.
struct Files {
    dest: Option<Arc<Directory>>,
    /// Where large objects keep their checkpoints.
    checkpoints: Option<Arc<Directory>>,
    /// The hidden directory of checkpoints made in the destination (no checkpoint directory
    /// given): removed at the end when empty.
    hidden: Option<std::ffi::OsString>,
    journal: Option<Journal>,
    /// A dry run's journal, opened for reading only.
    read_only: Option<Journal>,
    known: Known,
    dropped: u64,
}

/// The destination (created when missing, not in a dry run), the checkpoint directory (by
/// default a hidden directory in the destination) and the journal (in the checkpoint directory
/// given, else in the destination) with its entries.
fn open_files(req: &BatchRequest, host: &str) -> Result<Files> {
    let d = &req.dest_dir;
    if !req.dry_run {
        match std::fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("creating the destination directory", d, &e)),
        }
    }
    let dest = match Directory::open(d) {
        Ok(dir) => Some(Arc::new(dir)),
        Err(e) if req.dry_run && e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("opening the destination directory", d, &e)),
    };
    let given = match &req.checkpoint_dir {
        Some(c) if !c.is_dir() => {
            return Err(Error::checkpoint_dir_missing(format!(
                "the batch's checkpoint directory '{}' does not exist or is not a directory",
                c.display()
            )))
        }
        Some(c) => {
            Some(Arc::new(Directory::open(c).map_err(|e| {
                Error::io("opening the checkpoint directory", c, &e)
            })?))
        }
        None => None,
    };
    let dest_name = match &dest {
        Some(dir) => dir.path().to_path_buf(),
        None => std::path::absolute(d).map_err(|e| Error::io("resolving", d, &e))?,
    };
    let identity = journal::identity(host, &req.bucket, &req.source, &dest_name);
    let journal_dir = given.clone().or_else(|| dest.clone());
    let (journal, read_only, known, dropped) = match (&journal_dir, req.dry_run) {
        (None, _) => (None, None, Known::default(), 0),
        (Some(c), true) => match Journal::open_read_only(c, &identity)? {
            Some((j, known, dropped)) => (None, Some(j), known, dropped),
            None => (None, None, Known::default(), 0),
        },
        (Some(c), false) => {
            let (j, known, dropped) = Journal::open(c, &identity)?;
            (Some(j), None, known, dropped)
        }
    };
    let (checkpoints, hidden) = match (given, &dest) {
        (Some(g), _) => (Some(g), None),
        (None, Some(dest)) if !req.dry_run => {
            let name = hidden_name(&identity);
            (Some(Arc::new(hidden_dir(dest, &name)?)), Some(name))
        }
        _ => (None, None),
    };
    Ok(Files {
        dest,
        checkpoints,
        hidden,
        journal,
        read_only,
        known,
        dropped,
    })
}

/// `.oss-ffi-batch-<16 hex>.checkpoints`, beside the journal's `.journal`.
fn hidden_name(identity: &str) -> std::ffi::OsString {
    let journal = journal::file_name(identity);
    let stem = journal.to_string_lossy();
    let stem = stem.strip_suffix(".journal").unwrap_or(&stem);
    std::ffi::OsString::from(format!("{stem}.checkpoints"))
}

/// The hidden checkpoint directory `name` in `dest`: made 0700, or the existing one when it is
/// a directory of ours that no other user may write (never a link).
fn hidden_dir(dest: &Directory, name: &std::ffi::OsStr) -> Result<Directory> {
    let path = dest.join(name);
    match dest.mkdir_child(name, 0o700) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("creating the checkpoint directory", &path, &e)),
    }
    let dir = dest
        .open_child(name)
        .map_err(|e| Error::io("opening the checkpoint directory", &path, &e))?;
    let stat = dest
        .stat(name)
        .map_err(|e| Error::io("inspecting", &path, &e))?
        .ok_or_else(|| Error::io_failure(format!("'{}' vanished", path.display())))?;
    stat.check_trusted("checkpoint directory", &path)?;
    Ok(dir)
}

/// The job once opened.
struct Batch<'a> {
    req: &'a BatchRequest,
    ctx: Arc<Context>,
    filter: Filter,
    paths: KeyPaths,
    names: WorkingNames,
    /// What the journal says of each key, each given out once, when the source gives the key:
    /// at the end, the keys never given out are the deleted ones.
    known: Known,
    /// A dry run's journal (read only), for those keys' names.
    read_only: Option<Journal>,
    /// Objects in flight at most.
    limit: usize,
    tasks: JoinSet<Finished>,
    /// Downloaded, not yet durable nor recorded.
    group: Vec<JournalEntry>,
    group_since: Instant,
    /// Cancels the objects in flight (the `Stop` policy; cancel and pause reach them directly).
    stop: CancellationToken,
    /// Whether one `syncfs` makes a group durable (not on FUSE: each file is synced then).
    syncfs_is_enough: bool,
    report: BatchReport,
}

impl<'a> Batch<'a> {
    fn new(req: &'a BatchRequest, opened: Opened, stop: CancellationToken) -> Batch<'a> {
        let paths = match &req.source {
            Source::Prefix(p) => KeyPaths::for_prefix(p),
            Source::Keys(_) => KeyPaths::for_keys(),
        };
        // Small objects take their connections from the batch's own permits
        // (`Context::connections`), not the client's `max_connections`: the batch's bound is
        // its own.
        let limit = (req.max_objects_in_flight as usize).max(1);
        let syncfs_is_enough = opened
            .ctx
            .dest
            .as_ref()
            .is_some_and(|d| key_path::syncfs_is_enough(d));
        // `README` and `readme` are one file there: the later key is a collision. (The probe
        // makes a file: not in a dry run.)
        let fold = !req.dry_run
            && opened
                .ctx
                .dest
                .as_ref()
                .is_some_and(key_path::is_case_insensitive);
        let mut paths = paths;
        paths.fold_case(fold);
        Batch {
            req,
            ctx: opened.ctx,
            filter: opened.filter,
            paths,
            names: WorkingNames {
                fold,
                ..WorkingNames::default()
            },
            known: opened.known,
            read_only: opened.read_only,
            limit,
            tasks: JoinSet::new(),
            group: Vec::new(),
            group_since: Instant::now(),
            syncfs_is_enough,
            stop,
            report: BatchReport {
                journal_path: opened.journal_path,
                ..BatchReport::default()
            },
        }
    }

    /// The loop: objects taken from the source while there is room, finished ones collected,
    /// groups made durable and recorded; until the source is exhausted (or the batch stopped)
    /// and every task ended.
    async fn run(&mut self, cancel: &Cancel, pause: &CancellationToken) {
        let (mut rx, producer) = source::start(
            &self.ctx.client,
            &self.req.bucket,
            &self.req.source,
            self.ctx.cancel.clone(),
        );
        let mut source_open = true;
        let mut listing_done = false;
        loop {
            let stopped = self.report.stopped.is_some();
            if (stopped || !source_open) && self.tasks.is_empty() {
                break;
            }
            let room = source_open && !stopped && self.tasks.len() < self.limit;
            let flush_at = tokio::time::Instant::from_std(self.group_since + GROUP_TIME);
            tokio::select! {
                biased;
                _ = cancel.cancelled(), if !stopped => {
                    let e = cancel.check().err();
                    self.stop_with(e.unwrap_or_else(|| Error::cancelled("the batch was cancelled")), false);
                }
                _ = pause.cancelled(), if !stopped => self.stop_with(Error::cancelled("paused"), false),
                Some(joined) = self.tasks.join_next(), if !self.tasks.is_empty() => match joined {
                    Ok(f) => self.finished(f),
                    Err(e) => self.stop_with(Error::panic(format!("a batch task failed: {e}")), true),
                },
                listed = rx.recv(), if room => match listed {
                    Some(l) => self.take(l),
                    None => (source_open, listing_done) = (false, true),
                },
                _ = tokio::time::sleep_until(flush_at), if !self.group.is_empty() => self.flush().await,
            }
            if self.group.len() >= GROUP_OBJECTS {
                self.flush().await;
            }
        }
        producer.abort();
        self.flush().await;
        if listing_done && self.report.stopped.is_none() {
            self.ctx.tracker.listing_finished();
            if matches!(self.req.source, Source::Prefix(_)) {
                self.report.deleted = self.deleted().await;
            }
        }
    }

    /// The keys of the journal's entries that the listing did not give (deleted since they
    /// were recorded), sorted; their names are read from the journal again.
    async fn deleted(&mut self) -> Vec<String> {
        if self.known.is_empty() {
            return Vec::new();
        }
        let mut known = std::mem::take(&mut self.known);
        let (run, dry) = (self.ctx.journal.clone(), self.read_only.take());
        let r = fetch::blocking(move || match (run, dry) {
            (Some(j), _) => fetch::lock(&j).unseen_keys(&mut known),
            (None, Some(j)) => j.unseen_keys(&mut known),
            (None, None) => Ok(Vec::new()),
        })
        .await;
        match r {
            Ok(mut deleted) => {
                deleted.sort();
                deleted
            }
            Err(e) => {
                log::log(Level::Warn, || {
                    format!("the batch journal could not be read again for the keys deleted since the last run: {e}")
                });
                Vec::new()
            }
        }
    }

    /// Ends the scheduling with `e` (the first reason wins); `cancel_in_flight`: the objects in
    /// flight are cancelled too (cancel and pause reach them through their own tokens).
    fn stop_with(&mut self, e: Error, cancel_in_flight: bool) {
        if self.report.stopped.is_none() {
            self.report.stopped = Some(e);
        }
        if cancel_in_flight {
            self.stop.cancel();
        }
    }

    /// One message of the source.
    fn take(&mut self, listed: Listed) {
        match listed {
            Listed::ListingFailed(e) => self.stop_with(e, false),
            Listed::KeyFailed(key, e) => {
                self.ctx.tracker.listed(1);
                let item = Item {
                    key,
                    size: 0,
                    etag: String::new(),
                    modified: None,
                };
                self.outcome(&item, None, Outcome::Failed(e));
            }
            Listed::Object(item) => {
                self.ctx.tracker.listed(1);
                self.admit(item);
            }
        }
    }

    /// An object from the source: its path claimed, filtered, then its task started.
    fn admit(&mut self, item: Item) {
        let known = self.known.take(&item.key);
        let rel = match self.paths.claim(&item.key, item.size) {
            Ok(Planned::File(rel)) => rel,
            Ok(Planned::DirectoryMarker(rel)) => return self.marker(&item, &rel),
            Err(e) => return self.outcome(&item, None, Outcome::Failed(e)),
        };
        let path = self.local_path(&rel);
        let hidden_files_here = self.req.checkpoint_dir.is_none();
        if let Err(e) = self.names.claim(&item.key, rel.as_str(), hidden_files_here) {
            return self.outcome(&item, Some(path), Outcome::Failed(e));
        }
        if !self.filter.accepts(rel.as_str(), item.size, item.modified) {
            return self.outcome(&item, Some(path), Outcome::Skipped(SkipReason::Filtered));
        }
        let ctx = self.ctx.clone();
        self.tasks.spawn(async move {
            let r = std::panic::AssertUnwindSafe(fetch::object(ctx, item.clone(), rel, known))
                .catch_unwind()
                .await
                .unwrap_or_else(|p| Err(Error::panic(panic_text(&p))));
            (item, Some(path), r)
        });
    }

    fn local_path(&self, rel: &RelPath) -> PathBuf {
        self.req.dest_dir.join(rel.as_path())
    }

    /// A directory marker: its directory made (not in a dry run), counted as skipped.
    fn marker(&mut self, item: &Item, rel: &RelPath) {
        let path = self.local_path(rel);
        let made = match (&self.ctx.dest, self.req.dry_run) {
            (Some(dest), false) => key_path::create_dir(dest, rel).map(drop),
            _ => Ok(()),
        };
        let outcome = match made {
            Ok(()) => Outcome::Skipped(SkipReason::DirectoryMarker),
            Err(e) => Outcome::Failed(e),
        };
        self.outcome(item, Some(path), outcome);
    }

    /// A task's end.
    fn finished(&mut self, (item, path, r): Finished) {
        let outcome = match r {
            Ok(Done::Downloaded(entry)) => {
                if self.group.is_empty() {
                    self.group_since = Instant::now();
                }
                self.group.push(entry);
                Outcome::Downloaded
            }
            Ok(Done::Skipped(reason)) => Outcome::Skipped(reason),
            Ok(Done::WouldDownload) => Outcome::WouldDownload,
            // Stopped (cancel, pause, the Stop policy): not the object's failure.
            Err(e) if e.kind == ErrorKind::Cancelled && self.report.stopped.is_some() => return,
            Err(e) => Outcome::Failed(e),
        };
        self.outcome(&item, path, outcome);
    }

    /// Counts, reports and calls back one object's outcome; a failure under `Stop` stops the
    /// batch.
    fn outcome(&mut self, item: &Item, path: Option<PathBuf>, outcome: Outcome) {
        let tracker = &self.ctx.tracker;
        match &outcome {
            Outcome::Downloaded | Outcome::WouldDownload => tracker.done(),
            Outcome::Skipped(_) => tracker.skipped(),
            Outcome::Failed(e) => {
                tracker.failed();
                let mut e = e.clone();
                if e.key.is_empty() {
                    e.key = item.key.clone();
                }
                if self.report.failures.len() < super::report::FAILURES_KEPT {
                    self.report.failures.push((item.key.clone(), e.clone()));
                }
                if self.req.on_failure == OnFailure::Stop {
                    let mut stop = e;
                    stop.message = format!(
                        "the batch stopped at its first failure (on_failure = Stop): {}: {}",
                        crate::listing::shown(&item.key),
                        stop.message
                    );
                    self.stop_with(stop, true);
                }
            }
        }
        if let Some(cb) = &self.req.on_object {
            let o = ObjectOutcome {
                key: item.key.clone(),
                path,
                size: item.size,
                etag: item.etag.clone(),
                outcome,
            };
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&o)));
        }
    }

    /// Makes the group durable (one `syncfs` of the destination's file system), then records it
    /// in the journal. A failure stops the batch (its objects are in place, not recorded: the
    /// next run checks them again).
    async fn flush(&mut self) {
        if self.group.is_empty() {
            return;
        }
        let group = std::mem::take(&mut self.group);
        let (Some(dest), Some(journal)) = (self.ctx.dest.clone(), self.ctx.journal.clone()) else {
            return;
        };
        let one_syncfs = self.syncfs_is_enough;
        let checkpoints = self.ctx.checkpoint_dir.clone();
        let r = fetch::blocking(move || {
            if one_syncfs {
                rustix::fs::syncfs(dest.as_fd()).map_err(|e| {
                    Error::io(
                        "syncing the destination's file system",
                        dest.path(),
                        &e.into(),
                    )
                })?;
            } else {
                let paths: Vec<&str> = group.iter().map(|e| e.path.as_str()).collect();
                key_path::sync_files(&dest, &paths)?;
            }
            // The checkpoints the group's large objects removed stay removed (the checkpoint
            // directory may be on another file system, or one `syncfs` does not reach it):
            // otherwise a power cut could bring back a checkpoint of an object the journal
            // then skips, never to be cleaned up.
            if let Some(c) = checkpoints {
                c.sync();
            }
            fetch::lock(&journal).record(&group)
        })
        .await;
        if let Err(e) = r {
            self.stop_with(e, true);
        }
    }
}

/// The names the job itself uses beside the objects: an object's temp and lock files
/// (`<path>.temp`, `<path>.temp.lock`) and, when no checkpoint directory is given, the journal
/// and the hidden checkpoint directory (`.oss-ffi-batch-*` at the top of the destination). A
/// key whose path is one of them for another key of the batch (`a` and `a.temp`) would have its
/// file replaced or removed by the other's download: the later key is refused
/// (`KeyCollision`); a key whose path is one of the job's own files, too (`UnsafeKey`).
/// Remembers a hash per path (the memory of a million keys stays small).
#[derive(Default)]
struct WorkingNames {
    claimed: std::collections::HashSet<u64>,
    /// The destination folds case: paths are compared in lower case.
    fold: bool,
}

const WORKING_SUFFIXES: [&str; 2] = [".temp", ".temp.lock"];

impl WorkingNames {
    fn claim(&mut self, key: &str, path: &str, hidden_files_here: bool) -> Result<()> {
        if path.eq_ignore_ascii_case(key_path::CASE_PROBE) {
            return Err(Error::unsafe_key(
                key,
                format!(
                    "the key '{}' names the batch's own case probe ('{}' at the top of the \
                     destination, in any case): download it with a single download instead",
                    crate::listing::shown(key),
                    key_path::CASE_PROBE
                ),
            ));
        }
        if hidden_files_here && !path.contains('/') && path.starts_with(".oss-ffi-batch-") {
            return Err(Error::unsafe_key(
                key,
                format!(
                    "the key '{}' would be written over the batch's own journal or checkpoints \
                     (names '.oss-ffi-batch-*' at the top of the destination); give the batch \
                     a checkpoint directory to download it",
                    crate::listing::shown(key)
                ),
            ));
        }
        let hash = |p: &str| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            p.hash(&mut h);
            h.finish()
        };
        // Compared as the destination compares names.
        let folded;
        let path = match self.fold {
            true => {
                folded = path.to_lowercase();
                folded.as_str()
            }
            false => path,
        };
        for suffix in WORKING_SUFFIXES {
            let base = path
                .strip_suffix(suffix)
                .filter(|b| self.claimed.contains(&hash(b)));
            let with = self.claimed.contains(&hash(&format!("{path}{suffix}")));
            if base.is_some() || with {
                let (a, b) = match base {
                    Some(b) => (b.to_string(), path.to_string()),
                    None => (path.to_string(), format!("{path}{suffix}")),
                };
                return Err(Error::key_collision(
                    key,
                    format!(
                        "the key '{}' is refused: the local path '{b}' is the temp or lock file \
                         of '{a}' while that one downloads, and another key of the batch has one \
                         of these paths",
                        crate::listing::shown(key)
                    ),
                ));
            }
        }
        self.claimed.insert(hash(path));
        Ok(())
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    format!("a batch object task panicked: {what}")
}
