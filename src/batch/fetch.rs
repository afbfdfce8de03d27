//! One object of a batch, in its own task: its local file looked at (through the destination's
//! opened directory, never following a link), the overwrite decision, then the download: a
//! small object (at most two parts) in one GetObject into a 0600 temp file beside the target,
//! a large one through the resumable downloader with its checkpoint in the batch's checkpoint
//! directory; both CRC64-checked and renamed into place without an fsync of their own (the job
//! syncs the file system once per group before the journal records it).

use std::ffi::OsStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::journal::{Journal, JournalEntry};
use super::key_path::{self, RelPath};
use super::progress::Tracker;
use super::report::SkipReason;
use super::request::Overwrite;
use super::source::Item;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::download::directory::{Directory, FileStat};
use crate::download::DownloadRequest;
use crate::error::{Error, Result};
use crate::memory_budget::MemoryBudget;
use crate::object::{ObjectMeta, ObjectRequest};
use crate::progress::ProgressFn;

/// The largest write buffer of a small object.
const SMALL_BUFFER_MAX: usize = 1 << 20;
/// The smallest.
const SMALL_BUFFER_MIN: usize = 4096;

/// What every object task of one batch shares.
pub struct Context {
    pub client: Client,
    pub bucket: String,
    /// The destination, opened (`None` only in a dry run whose destination does not exist).
    pub dest: Option<Arc<Directory>>,
    pub checkpoint_dir: Option<Arc<Directory>>,
    /// `None` in a dry run.
    pub journal: Option<Arc<Mutex<Journal>>>,
    /// The keys whose files are about to be replaced, removed from the journal in batches.
    pub forgets: Forgets,
    pub overwrite: Overwrite,
    pub dry_run: bool,
    pub part_size: u64,
    pub thread_num: u32,
    pub verify_parts_on_resume: bool,
    pub direct_io: bool,
    pub tracker: Arc<Tracker>,
    /// The user's cancel, the pause and the batch's own stop.
    pub cancel: Cancel,
}

/// What an object task ended with.
pub enum Done {
    /// Written and in place (not yet durable: the job records it after the group's sync).
    Downloaded(JournalEntry),
    Skipped(SkipReason),
    WouldDownload,
}

/// The overwrite decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Download,
    Skip(SkipReason),
}

/// Decides what to do with `item` given what the journal says (`known`) and what is at its
/// path (`file`: `None` when nothing is there). A link or anything but a regular file there is
/// that key's error: never followed, never replaced.
pub fn decide(
    overwrite: Overwrite,
    item: &Item,
    known: Option<&JournalEntry>,
    file: Option<&FileStat>,
    path: &std::path::Path,
) -> Result<Decision> {
    if let Some(f) = file.filter(|f| !f.is_file()) {
        let what = if f.is_symlink() {
            "a symbolic link (not followed, not replaced)"
        } else if f.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        let mut e = Error::io_failure(format!(
            "the local path '{}' of the key '{}' is {what}",
            path.display(),
            key_path::shown(&item.key)
        ));
        e.key = item.key.clone();
        return Err(e);
    }
    Ok(match (overwrite, file) {
        (Overwrite::Always, _) | (_, None) => Decision::Download,
        (Overwrite::Never, Some(_)) => Decision::Skip(SkipReason::Exists),
        (Overwrite::IfChanged, Some(f)) => {
            let same = known
                .is_some_and(|k| k.etag == item.etag && k.size == item.size && f.size == item.size);
            if same {
                Decision::Skip(SkipReason::Unchanged)
            } else {
                Decision::Download
            }
        }
    })
}

/// One object: looked at, decided, downloaded.
pub async fn object(
    ctx: Arc<Context>,
    item: Item,
    rel: RelPath,
    known: Option<JournalEntry>,
) -> Result<Done> {
    if ctx.dry_run {
        let file = match &ctx.dest {
            Some(d) => look_read_only(d, &rel)?,
            None => None,
        };
        let path = rel.as_path();
        return Ok(
            match decide(ctx.overwrite, &item, known.as_ref(), file.as_ref(), &path)? {
                Decision::Download => {
                    ctx.tracker.to_download(item.size);
                    Done::WouldDownload
                }
                Decision::Skip(r) => Done::Skipped(r),
            },
        );
    }
    let dest = ctx
        .dest
        .as_ref()
        .ok_or_else(|| Error::io_failure("the destination directory is not open"))?;
    let (parent, name) = key_path::open_parent(dest, &rel)?;
    let path = parent.join(&name);
    let file = parent
        .stat(&name)
        .map_err(|e| Error::io("inspecting", &path, &e))?;
    if let Decision::Skip(r) = decide(ctx.overwrite, &item, known.as_ref(), file.as_ref(), &path)? {
        return Ok(Done::Skipped(r));
    }
    if let (Some(k), Some(j)) = (&known, &ctx.journal) {
        // The file is about to be replaced: the journal must not vouch for it meanwhile.
        ctx.forgets.forget(j, k.key.clone()).await?;
    }
    ctx.tracker.to_download(item.size);
    let parent = Arc::new(parent);
    let meta = if item.size <= ctx.part_size.saturating_mul(2) {
        small(&ctx, &item, &parent, &name).await?
    } else {
        large(&ctx, &item, parent, name).await?
    };
    Ok(Done::Downloaded(JournalEntry {
        key: item.key,
        etag: meta.etag,
        size: meta.content_length,
        crc64: meta.crc64.filter(|_| meta.verified),
        path: rel.as_str().to_string(),
    }))
}

/// What is at `rel` under `dest`, looked up without creating or following anything (a dry run):
/// `None` when a directory on the way or the file is missing.
fn look_read_only(dest: &Directory, rel: &RelPath) -> Result<Option<FileStat>> {
    let comps: Vec<&OsStr> = rel.components().collect();
    let Some((last, dirs)) = comps.split_last() else {
        return Ok(None);
    };
    let mut held: Option<Directory> = None;
    for c in dirs {
        let at = held.as_ref().unwrap_or(dest);
        match at.open_child(c) {
            Ok(d) => held = Some(d),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("opening", &at.join(c), &e)),
        }
    }
    let at = held.as_ref().unwrap_or(dest);
    at.stat(last)
        .map_err(|e| Error::io("inspecting", &at.join(last), &e))
}

/// The progress of one object, added to the batch's bytes (resumed bytes included).
fn progress_of(tracker: &Arc<Tracker>) -> ProgressFn {
    let tracker = tracker.clone();
    let seen = AtomicU64::new(0);
    Arc::new(move |_inc, transferred, _total| {
        let before = seen.fetch_max(transferred, Ordering::Relaxed);
        if transferred > before {
            tracker.bytes(transferred - before);
        }
    })
}

/// A small object: one GetObject into a temp file beside the target, holding a slot of the
/// client's memory budget sized for it.
async fn small(
    ctx: &Context,
    item: &Item,
    parent: &Arc<Directory>,
    name: &OsStr,
) -> Result<ObjectMeta> {
    let buffer = usize::try_from(item.size)
        .unwrap_or(usize::MAX)
        .clamp(SMALL_BUFFER_MIN, SMALL_BUFFER_MAX);
    let cost = MemoryBudget::slot_cost_for(buffer, item.size);
    let budget = ctx.client.memory_budget();
    let _slot = ctx
        .cancel
        .run(async { Ok(budget.acquire(cost).await) })
        .await?;
    let req = ObjectRequest {
        bucket: ctx.bucket.clone(),
        key: item.key.clone(),
        ..ObjectRequest::default()
    };
    let progress = Some(progress_of(&ctx.tracker));
    crate::download::get_into(
        &ctx.client,
        &req,
        parent,
        name,
        buffer,
        progress,
        &ctx.cancel,
    )
    .await
}

/// A large object: the resumable downloader (it holds its own slots of the budget), its
/// checkpoint in the batch's checkpoint directory.
async fn large(
    ctx: &Context,
    item: &Item,
    parent: Arc<Directory>,
    name: std::ffi::OsString,
) -> Result<ObjectMeta> {
    let mut req = DownloadRequest::new(&ctx.bucket, &item.key);
    req.file_path = Some(parent.join(&name));
    req.part_size = ctx.part_size;
    req.thread_num = ctx.thread_num;
    req.verify_parts_on_resume = ctx.verify_parts_on_resume;
    req.direct_io = ctx.direct_io;
    req.progress = Some(progress_of(&ctx.tracker));
    let ckpt = ctx.checkpoint_dir.clone();
    crate::download::download_in(&ctx.client, &req, parent, name, ckpt, &ctx.cancel).await
}

/// Removes keys from the journal before their files are replaced, many keys per write and
/// `fdatasync` (a group commit): a task adds its key to the open batch and waits; the first
/// task to get the turn writes every key waiting, the others find their batch done.
#[derive(Default)]
pub struct Forgets {
    queue: Mutex<ForgetQueue>,
    turn: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct ForgetQueue {
    keys: Vec<String>,
    /// The number of the open batch; batches before `done` are written.
    open: u64,
    done: u64,
    /// The batches whose write failed.
    failed: std::collections::HashMap<u64, Error>,
}

impl Forgets {
    /// Removes `key` from `journal` durably (with the other keys waiting).
    pub async fn forget(&self, journal: &Arc<Mutex<Journal>>, key: String) -> Result<()> {
        let mine = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.keys.push(key);
            q.open
        };
        let _turn = self.turn.lock().await;
        let keys = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.done > mine {
                return q.failed.get(&mine).map_or(Ok(()), |e| Err(e.clone()));
            }
            q.open += 1; // `mine` is the open batch: this task writes it
            std::mem::take(&mut q.keys)
        };
        let j = journal.clone();
        let r = blocking(move || {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            lock(&j).forget(&keys)
        })
        .await;
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        q.done = mine + 1;
        if let Err(e) = &r {
            q.failed.insert(mine, e.clone());
        }
        r
    }
}

pub fn lock(j: &Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    j.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs blocking file work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::panic(format!("a batch's file task failed: {e}")))?
}
