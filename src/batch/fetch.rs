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
use super::known::KnownObject;
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

/// The largest write buffer of a small object (a larger object is written in pieces of this
/// size). Not the object's size up to 1 MiB: buffers that size, allocated and freed for every
/// object, fragmented glibc's heaps once its mmap threshold had risen, and the batch's peak RSS
/// went over the client's budget (BENCHMARKS.md, "10,000 objects with the 64 KiB write buffer";
/// `tests/download_memory.rs` `peak_rss_of_a_batch_of_many_small_objects`).
const SMALL_BUFFER_MAX: usize = 64 << 10;
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
    /// The parent directories of recent objects, held open.
    pub parents: Parents,
    /// The connection permits of the small objects' GETs: the batch's `max_objects_in_flight`,
    /// whatever the client's `max_connections` (`transport::with_connections`).
    pub connections: Arc<tokio::sync::Semaphore>,
    /// The user's cancel, the pause and the batch's own stop.
    pub cancel: Cancel,
    /// The process's umask, read once (the mode of the files made).
    pub umask: u32,
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

/// What is at an object's path: the file's stat, and whether it carries the CLI's record of
/// this very object (`user.oss-ffi.object`, see `recorded_by_the_cli`).
#[derive(Debug, Default)]
pub struct Found {
    pub file: Option<FileStat>,
    pub recorded: bool,
}

/// Decides what to do with `item` given what the journal says (`known`) and what is at its
/// path. A link or anything but a regular file there is that key's error: never followed,
/// never replaced.
pub fn decide(
    overwrite: Overwrite,
    item: &Item,
    known: Option<&KnownObject>,
    found: &Found,
    path: &std::path::Path,
) -> Result<Decision> {
    if let Some(f) = found.file.as_ref().filter(|f| !f.is_file()) {
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
            crate::listing::shown(&item.key)
        ));
        e.key = item.key.clone();
        return Err(e);
    }
    Ok(match (overwrite, &found.file) {
        (Overwrite::Always, _) | (_, None) => Decision::Download,
        (Overwrite::Never, Some(_)) => Decision::Skip(SkipReason::Exists),
        (Overwrite::IfChanged, Some(f)) => {
            let journal_says = known.is_some_and(|k| k.is(item.size, &item.etag));
            let unknown_but_recorded = known.is_none() && found.recorded;
            if f.size == item.size && (journal_says || unknown_but_recorded) {
                Decision::Skip(SkipReason::Unchanged)
            } else {
                Decision::Download
            }
        }
    })
}

/// The extended attribute in which the CLI (`oss_download`) records the object a file holds:
/// `v1 size=<n> crc64=<n or -> file_size=<n> mtime=<s>.<ns> etag=<etag>`.
pub const RECORD_XATTR: &str = "user.oss-ffi.object";

/// Whether `name` in `parent` carries the CLI's record of `item` (same size and ETag) written
/// for the file as it is now (same size and modification time): a file downloaded by the CLI
/// before the batch existed is not fetched again. Any doubt (no record, no xattr support, a
/// field that differs): `false`.
fn recorded_by_the_cli(parent: &Directory, name: &OsStr, item: &Item) -> bool {
    use std::os::unix::fs::MetadataExt;
    let flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK;
    let Ok(file) = parent.open_file(name, flags, 0) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let mut buf = [0u8; 1536];
    let Ok(n) = rustix::fs::fgetxattr(&file, RECORD_XATTR, &mut buf[..]) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&buf[..n]) else {
        return false;
    };
    meta.is_file() && record_matches(text, item, meta.len(), meta.mtime(), meta.mtime_nsec())
}

fn record_matches(text: &str, item: &Item, file_size: u64, sec: i64, nsec: i64) -> bool {
    let Some((fields, etag)) = text
        .strip_prefix("v1 ")
        .and_then(|r| r.split_once(" etag="))
    else {
        return false;
    };
    let field = |name: &str| {
        fields
            .split(' ')
            .find_map(|f| f.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
    };
    etag == item.etag
        && field("size") == Some(item.size.to_string().as_str())
        && field("file_size") == Some(file_size.to_string().as_str())
        && field("mtime") == Some(format!("{sec}.{nsec:09}").as_str())
}

/// An object's parent directory, opened, and its final name.
type Parent = (Arc<Directory>, std::ffi::OsString);

/// What is at `rel`: opened (made) through `open_parent` for a download, looked up without
/// creating anything for a dry run (no parent: a directory on the way is missing).
fn look(
    ctx: &Context,
    rel: &RelPath,
    item: &Item,
    known: Option<&KnownObject>,
) -> Result<(Option<Parent>, Found)> {
    let Some(dest) = &ctx.dest else {
        return Ok((None, Found::default()));
    };
    let at = if ctx.dry_run {
        look_read_only(dest, rel)?.map(|(d, n)| (Arc::new(d), n))
    } else {
        Some(ctx.parents.open(dest, rel)?)
    };
    let Some((parent, name)) = at else {
        return Ok((None, Found::default()));
    };
    let file = parent
        .stat(&name)
        .map_err(|e| Error::io("inspecting", &parent.join(&name), &e))?;
    let maybe_recorded = ctx.overwrite == Overwrite::IfChanged
        && known.is_none()
        && file.is_some_and(|f| f.is_file() && f.size == item.size);
    let recorded = maybe_recorded && recorded_by_the_cli(&parent, &name, item);
    Ok((Some((parent, name)), Found { file, recorded }))
}

/// One object: looked at, decided, downloaded.
pub async fn object(
    ctx: Arc<Context>,
    item: Item,
    rel: RelPath,
    known: Option<KnownObject>,
) -> Result<Done> {
    let r = object_at(&ctx, item, &rel, known).await;
    if r.is_err() {
        ctx.parents.forget(&rel);
    }
    r
}

async fn object_at(
    ctx: &Arc<Context>,
    item: Item,
    rel: &RelPath,
    known: Option<KnownObject>,
) -> Result<Done> {
    let is_small = item.size <= ctx.part_size.saturating_mul(2);
    // A small object's slot of the memory budget is waited for before anything is opened: the
    // objects waiting for room hold no descriptor. (A large one waits for its admission in the
    // downloader, holding its parent directory only: at most one per object in flight.)
    let slot = match is_small && !ctx.dry_run {
        true => {
            let cost = small_cost(item.size).1;
            let budget = ctx.client.memory_budget();
            Some(
                ctx.cancel
                    .run(async { Ok(budget.acquire(cost).await) })
                    .await?,
            )
        }
        false => None,
    };
    let (at, found) = look(ctx, rel, &item, known.as_ref())?;
    let path = match &ctx.dest {
        Some(d) => d.path().join(rel.as_path()),
        None => rel.as_path(),
    };
    if let Decision::Skip(r) = decide(ctx.overwrite, &item, known.as_ref(), &found, &path)? {
        return Ok(Done::Skipped(r));
    }
    ctx.tracker.to_download(item.size);
    if ctx.dry_run {
        return Ok(Done::WouldDownload);
    }
    let (parent, name) = at.ok_or_else(|| Error::io_failure("the destination is not open"))?;
    if let (Some(_), Some(j)) = (&known, &ctx.journal) {
        // The file is about to be replaced: the journal must not vouch for it meanwhile.
        ctx.forgets.forget(j, item.key.clone()).await?;
    }
    let meta = if is_small {
        // The mode the file gets: the one there (a regular file: `decide`), else the umask's.
        let mode = found
            .file
            .as_ref()
            .map_or(0o666 & !ctx.umask, FileStat::permissions);
        let replace = found.file.is_some();
        let r = small(ctx, &item, &parent, &name, (mode, replace)).await;
        drop(slot); // after every descriptor of the GET was closed
        r?
    } else {
        large(ctx, &item, parent, name).await?
    };
    Ok(Done::Downloaded(JournalEntry {
        key: item.key,
        etag: meta.etag,
        size: meta.content_length,
        crc64: meta.crc64.filter(|_| meta.verified),
        path: rel.as_str().to_string(),
    }))
}

/// The parent directory of `rel` under `dest` and its final name, looked up without creating or
/// following anything (a dry run): `None` when a directory on the way is missing.
fn look_read_only(
    dest: &Directory,
    rel: &RelPath,
) -> Result<Option<(Directory, std::ffi::OsString)>> {
    let comps: Vec<&OsStr> = rel.components().collect();
    let Some((last, dirs)) = comps.split_last() else {
        return Ok(None);
    };
    let mut held = dest
        .try_clone()
        .map_err(|e| Error::io("opening", dest.path(), &e))?;
    for c in dirs {
        match held.open_child(c) {
            Ok(d) => held = d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("opening", &held.join(c), &e)),
        }
    }
    Ok(Some((held, last.to_os_string())))
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

/// A small object's write buffer and what it reserves of the memory budget (the buffer and its
/// connection's share, both sized to the object: `MemoryBudget::small_get_cost`).
fn small_cost(size: u64) -> (usize, u64) {
    let buffer = usize::try_from(size)
        .unwrap_or(usize::MAX)
        .clamp(SMALL_BUFFER_MIN, SMALL_BUFFER_MAX);
    (buffer, MemoryBudget::small_get_cost(buffer, size))
}

/// A small object: one GetObject into a temp file beside the target (the caller holds its
/// slot of the memory budget).
async fn small(
    ctx: &Context,
    item: &Item,
    parent: &Arc<Directory>,
    name: &OsStr,
    (mode, replace): (u32, bool),
) -> Result<ObjectMeta> {
    let buffer = small_cost(item.size).0;
    let req = ObjectRequest {
        bucket: ctx.bucket.clone(),
        key: item.key.clone(),
        ..ObjectRequest::default()
    };
    let progress = Some(progress_of(&ctx.tracker));
    let get = crate::download::get_into(
        &ctx.client,
        &req,
        parent,
        name,
        crate::download::SmallFile {
            buffer,
            mode,
            replace,
        },
        progress,
        &ctx.cancel,
    );
    crate::transport::with_connections(ctx.connections.clone(), get).await
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

/// The parent directories of the last objects, held open (opened through `open_parent`, never
/// following a link), so that the objects of one directory do not open it (and every
/// directory on its way) each: an object directly in the destination uses the destination's
/// own descriptor, one in a subdirectory the one opened for an earlier object there. Small: the
/// source gives keys in order, so the objects in flight share few directories.
#[derive(Default)]
pub struct Parents {
    recent: Mutex<std::collections::VecDeque<(String, Arc<Directory>)>>,
}

/// The parent directories `Parents` holds open at most.
const PARENTS_HELD: usize = 16;

impl Parents {
    /// The parent directory of `rel` under `dest` (made as needed) and its final name.
    pub fn open(&self, dest: &Arc<Directory>, rel: &RelPath) -> Result<Parent> {
        let Some((dir, name)) = rel.as_str().rsplit_once('/') else {
            return Ok((dest.clone(), std::ffi::OsString::from(rel.as_str())));
        };
        let held = |q: &std::collections::VecDeque<(String, Arc<Directory>)>| {
            q.iter().find(|(d, _)| d == dir).map(|(_, p)| p.clone())
        };
        if let Some(p) = held(&self.lock()) {
            return Ok((p, std::ffi::OsString::from(name)));
        }
        let (parent, name) = key_path::open_parent(dest, rel)?;
        let parent = Arc::new(parent);
        let mut q = self.lock();
        if held(&q).is_none() {
            if q.len() >= PARENTS_HELD {
                q.pop_front();
            }
            q.push_back((dir.to_string(), parent.clone()));
        }
        Ok((parent, name))
    }

    /// Forgets the directory of `rel` (an object there failed: the next one opens it again,
    /// making it anew if it was removed meanwhile).
    pub fn forget(&self, rel: &RelPath) {
        if let Some((dir, _)) = rel.as_str().rsplit_once('/') {
            self.lock().retain(|(d, _)| d != dir);
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(String, Arc<Directory>)>> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner())
    }
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
