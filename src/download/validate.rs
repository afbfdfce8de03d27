//! Validation of a download request before any network traffic, and the local paths it implies.

use std::ffi::{OsStr, OsString};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::directory::{is_plain_name, with_suffix, Directory};
use super::request::{DownloadRequest, MAX_PART_SIZE, MAX_THREAD_NUM, MIN_PART_SIZE};
use crate::error::{Error, Result};

/// The local paths of one download.
///
/// The destination is named once, canonically: its directory is opened (links in it resolved)
/// and named by its canonical path, its file name kept. So every spelling of one file
/// (`dir/f`, `link-to-dir/f`, `./dir/../dir/f`) shares one lock, one temp file and one
/// checkpoint, and every later file operation is relative to the directory opened here.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The destination's directory, opened once.
    pub dir: Arc<Directory>,
    /// The destination's file name in `dir`, and those of its temp and lock files.
    pub name: OsString,
    pub temp_name: OsString,
    pub lock_name: OsString,
    /// The destination, canonical (the directory's canonical path and the file name).
    pub dest: PathBuf,
    /// `dest + ".temp"`: the file the parts are written into (`temp_name`); the lock file is
    /// `dest + ".temp.lock"` (`lock_name`), held while a download to `dest` runs.
    pub temp: PathBuf,
    /// The checkpoint directory (opened) when the download is resumable.
    pub checkpoint_dir: Option<Arc<Directory>>,
    /// The file put in place is not fsynced, nor its directory: the caller (a batch) syncs the
    /// whole file system once for many files before it records them as done.
    pub defer_sync: bool,
}

/// The part-size rule (the official SDK's wording first): 100 KiB ..= 5 GiB.
pub fn check_part_size(part_size: u64) -> Result<()> {
    if part_size < MIN_PART_SIZE {
        return Err(Error::validate(format!(
            "The part size is less than 100KB: {part_size} bytes (allowed: {MIN_PART_SIZE}..={MAX_PART_SIZE})"
        )));
    }
    if part_size > MAX_PART_SIZE {
        return Err(Error::validate(format!(
            "The part size is more than 5GB: {part_size} bytes (allowed: {MIN_PART_SIZE}..={MAX_PART_SIZE})"
        )));
    }
    Ok(())
}

/// The thread-count rule: 1 ..= `MAX_THREAD_NUM`.
pub fn check_thread_num(thread_num: u32) -> Result<()> {
    if thread_num < 1 {
        return Err(Error::validate("The thread num is less than 1."));
    }
    if thread_num > MAX_THREAD_NUM {
        return Err(Error::validate(format!(
            "The thread num is more than {MAX_THREAD_NUM}: {thread_num}"
        )));
    }
    Ok(())
}

/// The range rule of a resumable download: `0 <= start <= end`, or `end == -1` for the end.
pub fn check_range(range: Option<(i64, i64)>) -> Result<()> {
    crate::object::user_range(range).map(|_| ()).map_err(|_| {
        let (start, end) = range.unwrap_or_default();
        Error::validate(format!(
            "Invalid range of resumable download: ({start}, {end}); expected 0 <= start <= end, or end = -1 for the end of the object"
        ))
    })
}

/// Checks everything that can be checked without holding anything open: the request's fields,
/// that the checkpoint directory exists, that the destination names a file whose directory
/// exists (a default destination: that the key makes a safe relative path). No descriptor is
/// left open by it: a download runs it before it waits for its admission (a slot of the
/// client's memory budget), and opens its directories (`validate`) only once admitted.
pub fn check(req: &DownloadRequest) -> Result<()> {
    validate_bucket(&req.object.bucket)?;
    validate_key(&req.object.key)?;
    check_part_size(req.part_size)?;
    check_thread_num(req.thread_num)?;
    check_range(req.range)?;
    req.object.check_conditions()?;
    if let Some(limit) = req.object.traffic_limit {
        crate::object::check_traffic_limit(limit)?;
    }
    if let Some(v) = &req.object.version_id {
        if v.is_empty() || v.bytes().any(|b| b.is_ascii_control()) {
            return Err(Error::validate(
                "The version id is empty or has control characters",
            ));
        }
    }
    if let Some(d) = req
        .checkpoint_dir
        .as_ref()
        .filter(|d| !d.as_os_str().is_empty())
    {
        check_checkpoint_dir(d)?;
    }
    match &req.file_path {
        Some(p) if p.as_os_str().is_empty() => {
            Err(Error::validate("The path of file download to is empty"))
        }
        Some(p) => check_explicit_destination(p, true).map(|_| ()),
        None => default_path_for_key(&req.object.key).map(|_| ()),
    }
}

/// Checks everything that can be checked locally (`check`), then opens the directories:
/// returns the paths to use.
pub fn validate(req: &DownloadRequest) -> Result<Paths> {
    check(req)?;
    let checkpoint_dir = match &req.checkpoint_dir {
        Some(d) if !d.as_os_str().is_empty() => {
            check_checkpoint_dir(d)?;
            let dir = Directory::open(d)
                .map_err(|e| Error::io("opening the checkpoint directory", d, &e))?;
            Some(Arc::new(dir))
        }
        _ => None,
    };
    let (dir, name) = match &req.file_path {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(Error::validate("The path of file download to is empty"));
        }
        Some(p) => explicit_destination(p, true)?,
        None => default_destination(&req.object.key)?,
    };
    Paths::new(dir, name, checkpoint_dir)
}

fn check_checkpoint_dir(d: &Path) -> Result<()> {
    if !d.is_dir() {
        return Err(Error::checkpoint_dir_missing(format!(
            "Checkpoint directory is not exist: '{}' does not exist or is not a directory",
            d.display()
        )));
    }
    Ok(())
}

/// `check` for a GetObject to `path`: the path is not empty and names a file (a directory that
/// does not exist is an `IOError` when it is opened, `file_destination`).
pub fn check_file_destination(path: &Path) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::validate("The path of file download to is empty"));
    }
    check_explicit_destination(path, false).map(|_| ())
}

/// The paths of a GetObject to `path` (no checkpoint): the same destination rules as a resumable
/// download, with `IOError` for a directory that does not exist.
pub fn file_destination(path: &Path) -> Result<Paths> {
    check_file_destination(path)?;
    let (dir, name) = explicit_destination(path, false)?;
    Paths::new(dir, name, None)
}

impl Paths {
    fn new(
        dir: Directory,
        name: OsString,
        checkpoint_dir: Option<Arc<Directory>>,
    ) -> Result<Paths> {
        Paths::opened(Arc::new(dir), name, checkpoint_dir, false)
    }

    /// The paths of `name` in the opened directory `dir` (`defer_sync`: see the field).
    pub(crate) fn opened(
        dir: Arc<Directory>,
        name: OsString,
        checkpoint_dir: Option<Arc<Directory>>,
        defer_sync: bool,
    ) -> Result<Paths> {
        let dest = dir.join(&name);
        match dir.stat(&name) {
            Ok(Some(m)) if m.is_dir() => {
                return Err(Error::validate(format!(
                    "The path of file download to '{}' is a directory",
                    dest.display()
                )));
            }
            Ok(Some(m)) if !m.is_file() && !m.is_symlink() => {
                return Err(Error::validate(format!(
                    "The path of file download to '{}' exists and is not a regular file",
                    dest.display()
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(Error::io("inspecting the destination", &dest, &e)),
        }
        let temp_name = with_suffix(&name, ".temp");
        let lock_name = with_suffix(&name, ".temp.lock");
        Ok(Paths {
            temp: dir.join(&temp_name),
            dest,
            dir,
            name,
            temp_name,
            lock_name,
            checkpoint_dir,
            defer_sync,
        })
    }
}

/// The absolute path of an explicit destination and its file name, checked without opening
/// anything. `missing_is_validate`: a missing directory is a `ValidateError` (resumable
/// download) rather than an `IOError` when it is opened (GetObject).
fn check_explicit_destination(p: &Path, missing_is_validate: bool) -> Result<(PathBuf, OsString)> {
    let abs = absolute(p)?;
    let Some(name) = abs.file_name().filter(|n| is_plain_name(n)) else {
        return Err(Error::validate(format!(
            "The path of file download to '{}' does not name a file",
            abs.display()
        )));
    };
    let name = name.to_owned();
    let parent = abs.parent().unwrap_or(Path::new("/"));
    if missing_is_validate && !parent.is_dir() {
        return Err(Error::validate(format!(
            "The directory of the file download to, '{}', does not exist",
            parent.display()
        )));
    }
    Ok((abs, name))
}

/// The directory (opened, links in the path followed as the caller wrote them) and file name of
/// an explicit destination (checked by `check_explicit_destination`).
fn explicit_destination(p: &Path, missing_is_validate: bool) -> Result<(Directory, OsString)> {
    let (abs, name) = check_explicit_destination(p, missing_is_validate)?;
    let parent = abs.parent().unwrap_or(Path::new("/"));
    let dir = Directory::open(parent)
        .map_err(|e| Error::io("opening the directory of the file download to", parent, &e))?;
    Ok((dir, name))
}

/// The default destination: the key as a path beneath the current directory, each directory of
/// it opened without following symbolic links (a link already in the working directory could
/// point anywhere).
fn default_destination(key: &str) -> Result<(Directory, OsString)> {
    let rel = default_path_for_key(key)?;
    let parts: Vec<&OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let Some((name, dirs)) = parts.split_last() else {
        return Err(Error::validate(format!(
            "No file path was given and the object key '{}' names no file",
            key.escape_debug()
        )));
    };
    let dir = Directory::open_beneath_cwd(dirs).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => Error::validate(format!(
            "No file path was given and the object key '{}' cannot be used as one: a directory \
             of '{}' in the working directory is a symbolic link or not a directory (links there \
             are not followed)",
            key.escape_debug(),
            rel.display()
        )),
        Some(libc::ENOENT) => Error::validate(format!(
            "The directory of the file download to, '{}', does not exist",
            rel.parent().unwrap_or(Path::new(".")).display()
        )),
        _ => Error::io("opening the directory of the file download to", &rel, &e),
    })?;
    Ok((dir, name.to_os_string()))
}

/// Bucket and key rules are the endpoint module's (the same checks every request makes).
use crate::endpoint::{validate_bucket, validate_key};

/// The default destination: the key as a path relative to the current directory, refused when it
/// could land outside it (absolute, `..`, control characters such as NUL) or names no file.
pub fn default_path_for_key(key: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Err(Error::validate(format!(
            "No file path was given and the object key '{}' cannot be used as one: {why}",
            key.escape_debug()
        )))
    };
    if key.chars().any(|c| c.is_control()) {
        return refuse("it contains control characters");
    }
    if key.ends_with('/') {
        return refuse("it names a directory");
    }
    let path = Path::new(key);
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return refuse("it contains '..'"),
            Component::RootDir | Component::Prefix(_) => return refuse("it is absolute"),
        }
    }
    if path.file_name().is_none() {
        return refuse("it names no file");
    }
    Ok(path.to_path_buf())
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io("resolving the path", p, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        for ok in ["abc", "a-b", "0bucket9", &"a".repeat(63)] {
            validate_bucket(ok).unwrap();
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "ABC",
            "a_b",
            "a.b",
            "",
            &"a".repeat(64),
        ] {
            assert_eq!(
                validate_bucket(bad).unwrap_err().code,
                "ValidateError",
                "{bad}"
            );
        }
    }

    #[test]
    fn keys() {
        validate_key("a").unwrap();
        validate_key(&"k".repeat(1023)).unwrap();
        assert!(validate_key("").is_err());
        assert!(validate_key(&"k".repeat(1024)).is_err());
        assert!(validate_key("\\x").is_err());
    }

    #[test]
    fn default_paths_never_escape() {
        assert_eq!(
            default_path_for_key("a/b.txt").unwrap(),
            PathBuf::from("a/b.txt")
        );
        assert_eq!(default_path_for_key("./x").unwrap(), PathBuf::from("./x"));
        for bad in [
            "../x",
            "/abs",
            "a/../../b",
            "a/..",
            "..",
            "a\0b",
            "a\nb",
            "dir/",
            ".",
            "a/b/..",
        ] {
            assert!(default_path_for_key(bad).is_err(), "{bad:?}");
        }
    }
}
