//! Validation of a download request before any network traffic, and the local paths it implies.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::{DownloadRequest, MAX_PART_SIZE, MAX_THREAD_NUM, MIN_PART_SIZE};
use crate::error::{Error, Result};

/// Bounds of `x-oss-traffic-limit` in bit/s.
pub const MIN_TRAFFIC_LIMIT: u64 = 245_760;
pub const MAX_TRAFFIC_LIMIT: u64 = 838_860_800;

/// The local paths of one download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The destination, absolute.
    pub dest: PathBuf,
    /// `dest + ".temp"`: the file the parts are written into.
    pub temp: PathBuf,
    /// `dest + ".temp.lock"`: held while a download to `dest` runs.
    pub lock: PathBuf,
    /// The checkpoint directory when the download is resumable.
    pub checkpoint_dir: Option<PathBuf>,
}

/// Checks everything that can be checked locally; returns the paths to use.
pub fn validate(req: &DownloadRequest) -> Result<Paths> {
    validate_bucket(&req.object.bucket)?;
    validate_key(&req.object.key)?;
    if req.part_size < MIN_PART_SIZE {
        return Err(Error::validate(format!(
            "The part size is less than 100KB: {} bytes (allowed: {MIN_PART_SIZE}..={MAX_PART_SIZE})",
            req.part_size
        )));
    }
    if req.part_size > MAX_PART_SIZE {
        return Err(Error::validate(format!(
            "The part size is more than 5GB: {} bytes (allowed: {MIN_PART_SIZE}..={MAX_PART_SIZE})",
            req.part_size
        )));
    }
    if req.thread_num < 1 {
        return Err(Error::validate("The thread num is less than 1."));
    }
    if req.thread_num > MAX_THREAD_NUM {
        return Err(Error::validate(format!(
            "The thread num is more than {MAX_THREAD_NUM}: {}",
            req.thread_num
        )));
    }
    if let Some((start, end)) = req.range {
        if start < 0 || end < -1 || (end != -1 && end < start) {
            return Err(Error::validate(format!(
                "Invalid range of resumable download: ({start}, {end}); expected 0 <= start <= end, or end = -1 for the end of the object"
            )));
        }
    }
    if let Some(limit) = req.object.traffic_limit {
        if !(MIN_TRAFFIC_LIMIT..=MAX_TRAFFIC_LIMIT).contains(&limit) {
            return Err(Error::validate(format!(
                "The traffic limit {limit} bit/s is out of range ({MIN_TRAFFIC_LIMIT}..={MAX_TRAFFIC_LIMIT})"
            )));
        }
    }
    if let Some(v) = &req.object.version_id {
        if v.is_empty() || v.bytes().any(|b| b.is_ascii_control()) {
            return Err(Error::validate(
                "The version id is empty or has control characters",
            ));
        }
    }
    let checkpoint_dir = match &req.checkpoint_dir {
        Some(d) if !d.as_os_str().is_empty() => {
            if !d.is_dir() {
                return Err(Error::validate(format!(
                    "Checkpoint directory is not exist: '{}' does not exist or is not a directory",
                    d.display()
                )));
            }
            Some(absolute(d)?)
        }
        _ => None,
    };
    let dest = match &req.file_path {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(Error::validate("The path of file download to is empty"));
        }
        Some(p) => p.clone(),
        None => default_path_for_key(&req.object.key)?,
    };
    let dest = absolute(&dest)?;
    if dest.file_name().is_none() {
        return Err(Error::validate(format!(
            "The path of file download to '{}' does not name a file",
            dest.display()
        )));
    }
    match std::fs::symlink_metadata(&dest) {
        Ok(m) if m.is_dir() => {
            return Err(Error::validate(format!(
                "The path of file download to '{}' is a directory",
                dest.display()
            )));
        }
        Ok(m) if !m.is_file() && !m.file_type().is_symlink() => {
            return Err(Error::validate(format!(
                "The path of file download to '{}' exists and is not a regular file",
                dest.display()
            )));
        }
        _ => {}
    }
    let parent = dest.parent().unwrap_or(Path::new("/"));
    if !parent.is_dir() {
        return Err(Error::validate(format!(
            "The directory of the file download to, '{}', does not exist",
            parent.display()
        )));
    }
    let temp = with_suffix(&dest, ".temp");
    let lock = with_suffix(&dest, ".temp.lock");
    Ok(Paths {
        dest,
        temp,
        lock,
        checkpoint_dir,
    })
}

/// Bucket and key rules are the endpoint module's (the same checks every request makes).
pub use crate::endpoint::{validate_bucket, validate_key};

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

/// `path` with `suffix` appended to its last component.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
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
