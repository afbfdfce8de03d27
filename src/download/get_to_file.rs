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
    /// A file is at the destination (found by the caller): it is replaced through a named temp
    /// file and a rename. Otherwise the object is written into an unnamed file that is linked
    /// at the destination once whole (one directory operation instead of two, nothing left by
    /// a crash), with the named temp file as the fallback.
    pub replace: bool,
}

/// The batch's GetObject of one small object into `name` in the opened directory `dir` (opened
/// by the batch without following links): the lock checked free (`lock::check_free`, no lock
/// file made), the whole-object CRC64 check of `get_object_to_file`, with a write buffer of
/// `file.buffer` bytes and without the fsyncs of the file and the directory (the batch syncs the
/// file system once per group of objects before its journal records them). Where nothing is at
/// the destination the bytes go into an unnamed file (`O_TMPFILE`, 0600) that is linked there
/// only once whole and verified: one directory operation instead of a temp name and a rename,
/// and a crash leaves nothing behind. A file there (`file.replace`), a file put there
/// meanwhile, a file system without unnamed files or a system without `/proc`: the temp file
/// `<name>.temp` (0600, beside the target) and the rename, as `get_object_to_file`. The caller
/// holds the memory budget's slot. Returns the metadata of the answer (the version written).
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
    let get = (req, None, progress, cancel);
    let unnamed = match file.replace {
        true => None,
        false => dir
            .create_unnamed()
            .map_err(|e| Error::io("creating the temp file in", dir.path(), &e))?,
    };
    if let Some(unnamed) = unnamed {
        let meta = stream_into(client, get, file.buffer, &unnamed, &dest).await?;
        rustix::fs::fchmod(&unnamed, rustix::fs::Mode::from_raw_mode(file.mode))
            .map_err(|e| Error::io("setting the mode of the file", &dest, &e.into()))?;
        return match dir.link_unnamed(&unnamed, name) {
            Ok(()) => Ok(meta),
            // A file there now (put there meanwhile: replaced, as a rename does), or no
            // `/proc`: the bytes go through a named temp file.
            Err(_) => {
                let temp = named_temp(dir, name)?;
                let copied = copy_whole(&unnamed, &temp.file)
                    .map_err(|e| Error::io("copying into the temp file", &temp.path, &e))
                    .and_then(|()| temp.commit_with(name, false, Some(file.mode)));
                if copied.is_err() {
                    temp.remove();
                }
                copied.map(|()| meta)
            }
        };
    }
    let temp = named_temp(dir, name)?;
    get_into_temp(client, get, file.buffer, temp, |t| {
        t.commit_with(name, false, Some(file.mode))
    })
    .await
}

/// One GET: the request, its range, the progress callback and the cancel.
type Get<'a> = (
    &'a ObjectRequest,
    Option<(i64, i64)>,
    Option<ProgressFn>,
    &'a Cancel,
);

/// The temp file `<name>.temp` beside the destination (0600).
fn named_temp(
    dir: &std::sync::Arc<super::directory::Directory>,
    name: &std::ffi::OsStr,
) -> Result<TempFile> {
    TempFile::create(dir, &super::directory::with_suffix(name, ".temp"), 0, false)
}

/// Copies the whole of `from` into `to` (at their starts; in the kernel where it can).
fn copy_whole(from: &std::fs::File, to: &std::fs::File) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let (mut from, mut to) = (from, to);
    from.seek(SeekFrom::Start(0))?;
    to.seek(SeekFrom::Start(0))?;
    std::io::copy(&mut from, &mut to).map(|_| ())
}

/// One GET streamed into `file` through a write buffer of `buffer` bytes (`path` names it in
/// errors). Returns the metadata of the answer (the version written).
async fn stream_into(
    client: &Client,
    (req, range, progress, cancel): Get<'_>,
    buffer: usize,
    file: &std::fs::File,
    path: &Path,
) -> Result<ObjectMeta> {
    let mut writer = std::io::BufWriter::with_capacity(buffer, file);
    let meta = client
        .get_object_with(req, range, progress, cancel, |data| {
            std::io::Write::write_all(&mut writer, data)
                .map_err(|e| Error::io("cannot write", path, &e))
        })
        .await?;
    writer
        .into_inner()
        .map_err(|e| Error::io("cannot write", path, e.error()))?;
    Ok(meta)
}

/// One GET (`req`, `range`, `progress`, `cancel`) streamed into `temp` through a write buffer of
/// `buffer` bytes, then `commit` (the rename into place); on any failure the temp file is
/// removed. Returns the metadata of the answer (the version written).
async fn get_into_temp(
    client: &Client,
    (req, range, progress, cancel): Get<'_>,
    buffer: usize,
    temp: TempFile,
    commit: impl FnOnce(&TempFile) -> Result<()>,
) -> Result<ObjectMeta> {
    let get = (req, range, progress, cancel);
    let result = async {
        let meta = stream_into(client, get, buffer, &temp.file, &temp.path).await?;
        commit(&temp)?;
        Ok(meta)
    }
    .await;
    if result.is_err() {
        temp.remove();
    }
    result
}
