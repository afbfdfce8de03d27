//! A resumable download's request (`DownloadRequest`) and its bounds and defaults; the request
//! of the parts (without the user's conditions) and the error of an object that changed.

use std::path::PathBuf;

use super::ramp;
use crate::error::Error;
use crate::object::ObjectRequest;
use crate::progress::ProgressFn;

pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
pub const MIN_PART_SIZE: u64 = 100 * 1024;
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Parts in flight by default: 4 for the C API, the Rust API and Python (the C++ layer keeps the
/// official SDK's 3). Chosen from the thread sweep (BENCHMARKS.md, "Thread and size scaling"):
/// on the 2-core bench machine the throughput peaks at 4 threads (direct I/O: more parts in
/// flight keep the disk's queue full), while peak RSS grows with every thread.
pub const DEFAULT_THREAD_NUM: u32 = 4;
pub const MAX_THREAD_NUM: u32 = 1000;

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
    /// Parts in flight at most: 1..=1000. Ignored with a `throughput_target`.
    pub thread_num: u32,
    /// Instead of a thread count: the rate to reach (or as fast as the link allows); the
    /// download then ramps its parts in flight up while its rate grows, within the client's
    /// memory budget (`ramp`). `None` (the default): `thread_num` parts in flight.
    pub throughput_target: Option<ramp::Target>,
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
    /// the page cache, as before direct I/O existed (the final fsync then waits for the writeback).
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
            throughput_target: None,
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
            .field("throughput_target", &self.throughput_target)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .field("range", &self.range)
            .field("verify_parts_on_resume", &self.verify_parts_on_resume)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The request without its conditions (they apply to the first request only).
pub(super) fn unconditional(req: &ObjectRequest) -> ObjectRequest {
    ObjectRequest {
        if_match: Vec::new(),
        if_none_match: Vec::new(),
        if_modified_since: None,
        if_unmodified_since: None,
        ..req.clone()
    }
}

pub(super) fn object_changed(req: &ObjectRequest, old: &str, new: &str, when: &str) -> Error {
    let mut e = Error::object_changed(format!(
        "the object {}/{} changed on the server {when}: ETag was {old}, now {new}; \
             the partial download was removed, a new call downloads the new version",
        req.bucket, req.key
    ));
    e.http_status = 412;
    e
}
