//! GetObject to a file: one GET (resumed from the byte where a cut body stopped) streamed into
//! the downloader's temp file under the destination's lock, then put in place the way a download
//! is (`temp_file::TempFile::commit`). Lives here, above the object layer, because it uses the
//! downloader's files; the object layer only streams bytes (`Client::get_object_with`).

use std::path::Path;

use super::lock::DestinationLock;
use super::temp_file::TempFile;
use super::validate;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::memory_budget::MemoryBudget;
use crate::object::{ObjectMeta, ObjectRequest};
use crate::progress::ProgressFn;

/// The write buffer.
const BUFFER: usize = 1 << 20;

impl Client {
    /// GetObject into a file: the bytes go to `<path>.temp`, which is renamed over `path` only
    /// when complete and verified; on failure the temp file is removed and `path` untouched.
    ///
    /// The destination is handled as a resumable download's (`download::validate::Paths`): its
    /// directory opened once and named canonically, the lock `<path>.temp.lock` held for the
    /// whole call (a download to the same file already running makes this fail with
    /// `FileLocked`, its temp file untouched), the temp file created 0600 (another user's or a
    /// link there refused), given the destination's mode and checked before the rename. The
    /// call holds a slot of the client's memory budget, waited for before anything is opened.
    /// The client's call timeout (`Config::call_timeout`) is a deadline over the whole call,
    /// the wait for that slot included.
    pub async fn get_object_to_file(
        &self,
        req: &ObjectRequest,
        range: Option<(i64, i64)>,
        path: &Path,
        progress: Option<ProgressFn>,
        cancel: &Cancel,
    ) -> Result<ObjectMeta> {
        validate::check_file_destination(path)?;
        let cancel = &self.call_cancel(cancel.clone());
        // Inherited through fork(): the budget's slots held by the parent never come back here.
        self.check_process()?;
        // Its buffer and connection count in the client's memory budget, like a download's part.
        // Admission first: the slot is waited for before anything is opened (a call waiting for
        // room holds no descriptor, no socket, no lock), and given back after everything was
        // closed (declared first, dropped last).
        let _slot = cancel
            .run(async {
                Ok(self
                    .memory_budget()
                    .acquire(MemoryBudget::slot_cost(BUFFER / 2))
                    .await)
            })
            .await?;
        let paths = validate::file_destination(path)?;
        let _lock = DestinationLock::acquire(&paths.dir, &paths.lock_name, &paths.dest)?;
        let temp = TempFile::create(&paths.dir, &paths.temp_name, 0, false)?;
        let get = (req, range, progress, cancel);
        get_into_temp(self, get, BUFFER, temp, |t| t.commit(&paths.name)).await
    }
}

/// How `get_into` writes its file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SmallFile {
    /// The write buffer, in bytes.
    pub buffer: usize,
    /// The mode the file gets: the existing destination's (found by the caller) or 0666 less the
    /// process's umask (read once by the caller for all its files: `temp_file::umask`).
    pub mode: u32,
}

/// The batch's GetObject of one small object into `name` in the opened directory `dir` (opened
/// by the batch without following links): the lock checked free (`lock::check_free`, no lock
/// file made), the same temp file (0600, beside the target),
/// whole-object CRC64 check and rename as `get_object_to_file`, with a write buffer of
/// `file.buffer` bytes and without the fsyncs of the file and the directory (the batch syncs the file
/// system once per group of objects before its journal records them). The caller holds the
/// memory budget's slot. Returns the metadata of the answer (the version written).
pub(crate) async fn get_into(
    client: &Client,
    req: &ObjectRequest,
    dir: &std::sync::Arc<super::directory::Directory>,
    name: &std::ffi::OsStr,
    file: SmallFile,
    progress: Option<ProgressFn>,
    cancel: &Cancel,
) -> Result<ObjectMeta> {
    let dest = dir.join(name);
    super::lock::check_free(
        dir,
        &super::directory::with_suffix(name, ".temp.lock"),
        &dest,
    )?;
    let temp_name = super::directory::with_suffix(name, ".temp");
    let temp = TempFile::create(dir, &temp_name, 0, false)?;
    let get = (req, None, progress, cancel);
    get_into_temp(client, get, file.buffer, temp, |t| {
        t.commit_with(name, false, Some(file.mode))
    })
    .await
}

/// One GET (`req`, `range`, `progress`, `cancel`) streamed into `temp` through a write buffer of
/// `buffer` bytes, then `commit` (the rename into place); on any failure the temp file is
/// removed. Returns the metadata of the answer (the version written).
async fn get_into_temp(
    client: &Client,
    (req, range, progress, cancel): (
        &ObjectRequest,
        Option<(i64, i64)>,
        Option<ProgressFn>,
        &Cancel,
    ),
    buffer: usize,
    temp: TempFile,
    commit: impl FnOnce(&TempFile) -> Result<()>,
) -> Result<ObjectMeta> {
    let mut writer = std::io::BufWriter::with_capacity(buffer, &*temp.file);
    let result = async {
        let meta = client
            .get_object_with(req, range, progress, cancel, |data| {
                std::io::Write::write_all(&mut writer, data)
                    .map_err(|e| Error::io("cannot write", &temp.path, &e))
            })
            .await?;
        writer
            .into_inner()
            .map_err(|e| Error::io("cannot write", &temp.path, e.error()))?;
        commit(&temp)?;
        Ok(meta)
    }
    .await;
    if result.is_err() {
        temp.remove();
    }
    result
}
