//! Key to local path: which file (or directory) under the batch's destination an object key
//! becomes, the keys refused for that (with a per-key error naming the key and the rule), the
//! collisions between keys, and opening a path's parent directory without ever leaving the
//! destination.
//!
//! Rules (a key refused is refused alone; the batch goes on):
//! - For a prefix, the local path is the key minus the prefix's directory part (everything up to
//!   and including the prefix's last `/`); a key that does not start with that part is refused.
//!   For a key list, the whole key.
//! - A key ending in `/` of size 0 is a directory marker (the directory is created, no file).
//!   Another key ending in `/` is refused.
//! - Refused (`UnsafeKey`, kind `InvalidArgument`): an empty path, a leading `/`, an empty
//!   component (`a//b`), a `.` or `..` component, NUL or another control character (0x00-0x1f,
//!   0x7f), a component over 255 bytes, a path over 4095 bytes.
//! - Collisions (`KeyCollision`, naming the other key): a key whose path is (or is below) a path
//!   another key claimed as a file (`a` then `a/b`), a file key whose path another key made a
//!   directory (`a/b` then `a`), two keys with one path. The first key keeps its path.
//! - Creating: every directory is made with `mkdirat` and opened with `O_DIRECTORY | O_NOFOLLOW`
//!   relative to the destination's open descriptor; a link or a file in the way is that key's
//!   error. Nothing is ever created outside the destination.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Arc;

use super::known::digest;
use crate::download::directory::Directory;
use crate::error::{Error, Result};
use crate::listing::shown;

/// The longest component a local file system takes (`NAME_MAX`).
pub const MAX_COMPONENT_BYTES: usize = 255;
/// The longest relative path we write (`PATH_MAX - 1`).
pub const MAX_PATH_BYTES: usize = 4095;

/// A validated relative path: components that are plain names (non-empty, not `.` or `..`, no
/// `/`, NUL or control character, at most 255 bytes), at most 4095 bytes in all. Empty (no
/// component) only for the directory marker of the destination itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelPath {
    /// The components joined with `/` (valid UTF-8: keys are).
    text: String,
}

impl RelPath {
    /// The components, in order.
    pub fn components(&self) -> impl Iterator<Item = &OsStr> {
        self.text
            .split('/')
            .filter(|c| !c.is_empty())
            .map(OsStr::new)
    }

    /// The relative path (join it to the destination for a message).
    pub fn as_path(&self) -> PathBuf {
        PathBuf::from(&self.text)
    }

    /// The path as text, components joined with `/` (the journal's `path`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the destination itself (a marker of the prefix's own directory).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl std::fmt::Display for RelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What a key becomes locally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Planned {
    /// A file at this path.
    File(RelPath),
    /// A directory marker (a key ending in `/`, size 0): this directory, no file.
    DirectoryMarker(RelPath),
}

/// Maps keys to local paths and remembers what the batch claimed (for collisions).
#[derive(Debug, Default)]
pub struct KeyPaths {
    /// What is stripped from every key (the prefix's directory part; empty for a key list).
    strip: String,
    /// Paths claimed as files, by digest (`known::digest`: 16 bytes per key, whatever the
    /// path's length; the key is `strip + path`, the path being the one asked about).
    files: HashSet<[u64; 2]>,
    /// Paths claimed as directories, with the first key that made each one.
    dirs: HashMap<Box<str>, Box<str>>,
    /// Paths compared lower-cased (a case-insensitive destination, [`KeyPaths::fold_case`]).
    fold: bool,
    /// With `fold`: the claimed file path of each lower-cased one that differs from it.
    originals: HashMap<Box<str>, Box<str>>,
}

impl KeyPaths {
    /// For a prefix: strips the prefix's directory part (up to and including its last `/`), so
    /// that prefix `logs/2026-12-0` puts `logs/2026-12-01/a.gz` at `2026-12-01/a.gz`.
    pub fn for_prefix(prefix: &str) -> KeyPaths {
        let strip = match prefix.rfind('/') {
            Some(i) => prefix[..=i].to_string(),
            None => String::new(),
        };
        KeyPaths {
            strip,
            ..KeyPaths::default()
        }
    }

    /// For a caller's key list: the whole key is the path.
    pub fn for_keys() -> KeyPaths {
        KeyPaths::default()
    }

    /// Compares paths case-insensitively from now on (Unicode lower case), for a destination
    /// whose file system does ([`is_case_insensitive`]): there `README` and `readme` are one
    /// file, so the second is a collision instead of overwriting the first while both are
    /// journaled as done. Call before the first claim.
    pub fn fold_case(&mut self, on: bool) {
        self.fold = on;
    }

    /// What is stripped from every key.
    pub fn stripped(&self) -> &str {
        &self.strip
    }

    /// Maps `key` (of `size` bytes) to its local path and claims it; a per-key error
    /// (`UnsafeKey` or `KeyCollision`) when the key cannot have one. A refused key claims
    /// nothing.
    pub fn claim(&mut self, key: &str, size: u64) -> Result<Planned> {
        let Some(rest) = key.strip_prefix(self.strip.as_str()) else {
            return Err(refuse(
                key,
                &format!(
                    "it does not start with '{}', the directory part of the listed prefix",
                    self.strip.escape_debug()
                ),
            ));
        };
        let ends_in_slash = || {
            refuse(
                key,
                &format!("it ends in '/' but is not an empty directory marker ({size} bytes)"),
            )
        };
        let (text, marker) = if rest.is_empty() {
            // The key is the prefix's own directory part (`logs/` listed under `logs/`), or
            // empty.
            match key.ends_with('/') {
                true if size == 0 => ("", true),
                true => return Err(ends_in_slash()),
                false => return Err(refuse(key, "it is empty")),
            }
        } else {
            match rest.strip_suffix('/') {
                Some(dir) if size == 0 => (dir, true),
                Some(_) => return Err(ends_in_slash()),
                None => (rest, false),
            }
        };
        check_path(key, text, marker && rest == "/")?;
        let rel = RelPath {
            text: text.to_string(),
        };
        let folded = if self.fold {
            std::borrow::Cow::Owned(text.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        if marker {
            self.claim_dir(key, &folded)?;
            Ok(Planned::DirectoryMarker(rel))
        } else {
            self.claim_file(key, &folded)?;
            if *folded != *text {
                self.originals.insert(folded.as_ref().into(), text.into());
            }
            Ok(Planned::File(rel))
        }
    }

    /// The key of the claimed file `path` (as compared).
    fn key_of(&self, path: &str) -> String {
        let original = self.originals.get(path).map_or(path, |p| &**p);
        format!("{}{original}", self.strip)
    }

    /// The first ancestor of `path` (a proper one) claimed as a file.
    fn file_ancestor(&self, key: &str, path: &str) -> Result<()> {
        for (i, _) in path.match_indices('/') {
            let ancestor = &path[..i];
            if self.files.contains(&digest(ancestor)) {
                return Err(collision(
                    key,
                    &self.key_of(ancestor),
                    &format!("its directory '{ancestor}' is that key's file"),
                ));
            }
        }
        Ok(())
    }

    fn claim_dir(&mut self, key: &str, path: &str) -> Result<()> {
        if path.is_empty() {
            return Ok(()); // the destination itself
        }
        if self.files.contains(&digest(path)) {
            return Err(collision(
                key,
                &self.key_of(path),
                &format!("'{path}' is that key's file"),
            ));
        }
        self.file_ancestor(key, path)?;
        self.add_dirs(key, path, true);
        Ok(())
    }

    fn claim_file(&mut self, key: &str, path: &str) -> Result<()> {
        if self.files.contains(&digest(path)) {
            return Err(collision(
                key,
                &self.key_of(path),
                &format!("both are the local file '{path}'"),
            ));
        }
        if let Some(other) = self.dirs.get(path) {
            return Err(collision(
                key,
                other,
                &format!("'{path}' is a directory of that key"),
            ));
        }
        self.file_ancestor(key, path)?;
        self.add_dirs(key, path, false);
        self.files.insert(digest(path));
        Ok(())
    }

    /// Records `path`'s ancestors (and `path` itself when `including`) as directories.
    fn add_dirs(&mut self, key: &str, path: &str, including: bool) {
        let ends = path
            .match_indices('/')
            .map(|(i, _)| i)
            .chain(including.then_some(path.len()));
        for i in ends {
            if !self.dirs.contains_key(&path[..i]) {
                self.dirs.insert(path[..i].into(), key.into());
            }
        }
    }
}

/// A key OSS cannot hold (over 1023 bytes, or with a NUL: `listing::key_rule`), listed or in a
/// caller's key list, refused for that key (`UnsafeKey`). `shown` is the key as
/// `listing::shown` gives it (escaped, cut): the error keeps no more of it.
pub fn refuse_unusable(shown: String, rule: &str) -> Error {
    let message = format!(
        "refusing the key '{shown}': {rule}; no object can have it, nothing was fetched or \
         written for it"
    );
    Error::unsafe_key(&shown, message)
}

fn refuse(key: &str, why: &str) -> Error {
    Error::unsafe_key(
        key,
        format!(
            "refusing the key '{}': {why}; it cannot be a local path inside the destination, \
             nothing was written for it",
            shown(key)
        ),
    )
}

fn collision(key: &str, other: &str, why: &str) -> Error {
    Error::key_collision(
        key,
        format!(
            "refusing the key '{}': its local path collides with the key '{}' ({why}); the \
             first key keeps the path, nothing was written for this one",
            shown(key),
            shown(other)
        ),
    )
}

/// Checks the local path `text` of `key` (`/`-separated); `bare_slash` for the key "/" alone.
fn check_path(key: &str, text: &str, bare_slash: bool) -> Result<()> {
    if let Some(c) = text.chars().find(|&c| c == '\0' || c.is_ascii_control()) {
        let what = if c == '\0' {
            "NUL".to_string()
        } else {
            format!("the control character 0x{:02x}", c as u32)
        };
        return Err(refuse(
            key,
            &format!("it contains {what} (control characters are not written into file names)"),
        ));
    }
    if bare_slash || text.starts_with('/') {
        return Err(refuse(
            key,
            "its local path starts with '/' (an absolute path)",
        ));
    }
    if text.len() > MAX_PATH_BYTES {
        return Err(refuse(
            key,
            &format!(
                "its local path is {} bytes long, over the {MAX_PATH_BYTES} bytes a path may have",
                text.len()
            ),
        ));
    }
    if text.is_empty() {
        return Ok(()); // the destination's own marker
    }
    for c in text.split('/') {
        match c {
            "" => {
                return Err(refuse(
                    key,
                    "its local path has an empty component ('//' or a trailing '/')",
                ))
            }
            "." | ".." => {
                return Err(refuse(
                    key,
                    &format!("its local path has a '{c}' component"),
                ))
            }
            c if c.len() > MAX_COMPONENT_BYTES => {
                return Err(refuse(
                    key,
                    &format!(
                        "a component of its local path is {} bytes long, over the \
                         {MAX_COMPONENT_BYTES} bytes a file name may have",
                        c.len()
                    ),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Opens the parent directory of `rel` under `dest`, creating the missing directories with
/// `mkdirat` (mode 0755 before the umask) and never following a link; returns it and the final
/// component. A link, a file or anything else that is not a directory in the way is an error
/// (`IOError`, naming the path); nothing is created outside `dest`.
pub fn open_parent(dest: &Directory, rel: &RelPath) -> Result<(Directory, OsString)> {
    let components: Vec<&OsStr> = rel.components().collect();
    let Some((last, dirs)) = components.split_last() else {
        return Err(Error::validate(
            "the destination itself has no parent to open inside it",
        ));
    };
    let parent = open_dirs(dest, dirs)?;
    Ok((parent, last.to_os_string()))
}

/// Opens the directory `rel` under `dest` (the destination itself for an empty path), creating
/// what is missing as [`open_parent`] does: for a directory marker.
pub fn create_dir(dest: &Directory, rel: &RelPath) -> Result<Directory> {
    let components: Vec<&OsStr> = rel.components().collect();
    open_dirs(dest, &components)
}

fn open_dirs(dest: &Directory, components: &[&OsStr]) -> Result<Directory> {
    let mut dir = dest
        .try_clone()
        .map_err(|e| Error::io("opening the destination directory", dest.path(), &e))?;
    for c in components {
        dir = open_or_make(&dir, c)?;
    }
    Ok(dir)
}

fn open_or_make(dir: &Directory, name: &OsStr) -> Result<Directory> {
    use std::io::ErrorKind;
    // Two rounds: another worker may make the same directory between our open and mkdir.
    for _ in 0..2 {
        match dir.open_child(name) {
            Ok(d) => return Ok(d),
            Err(e) if e.kind() == ErrorKind::NotFound => match dir.mkdir_child(name, 0o755) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("creating the directory", &dir.join(name), &e)),
            },
            Err(e) => return Err(in_the_way(dir, name, &e)),
        }
    }
    dir.open_child(name).map_err(|e| in_the_way(dir, name, &e))
}

/// The error for something at `name` that is not a directory we may enter.
fn in_the_way(dir: &Directory, name: &OsStr, err: &std::io::Error) -> Error {
    let path = dir.join(name);
    let what = match dir.stat(name) {
        Ok(Some(s)) if s.is_symlink() => "a symbolic link (links are not followed)",
        Ok(Some(s)) if s.is_file() => "a file",
        Ok(Some(s)) if !s.is_dir() => "not a directory",
        _ => return Error::io("opening the directory", &path, err),
    };
    Error::io_failure(format!(
        "cannot create the directory '{}': {what} is in the way; nothing was written there",
        path.display()
    ))
}

/// The name of the case probe (see [`is_case_insensitive`]), and that name in lower case. A key
/// whose path is this name at the top of the destination (in any case) is refused (`UnsafeKey`,
/// in the job's working names): it is the batch's own file.
pub const CASE_PROBE: &str = ".OSS-FFI-CASE-PROBE";
const CASE_PROBE_LOWER: &str = ".oss-ffi-case-probe";

/// Whether `dest` treats names case-insensitively (vfat, exFAT, NTFS, an ext4 casefold
/// directory...): a probe file with an upper-case name is looked up in lower case, then removed.
/// False when the probe cannot be made.
///
/// The probe is a destination lock (`download::lock`) on a fixed name: made 0600, held by an
/// `flock` while it looks, removed on release. A batch killed (or a power cut) between the
/// probe's creation and its removal leaves the file; the next probe in that directory takes it
/// over, looks and removes it, so no run leaves more than that one file and the next run removes
/// it. (A random name per probe was left behind for good.) A probe another process holds is not
/// waited for (the answer is false), and only an empty plain file of this user is taken over:
/// anything else at that name is left alone (and the answer is false).
pub fn is_case_insensitive(dest: &Arc<Directory>) -> bool {
    let (upper, lower) = (OsStr::new(CASE_PROBE), OsStr::new(CASE_PROBE_LOWER));
    // A user's file of that name keeps its bytes (the lock itself refuses what is not a plain
    // file of ours).
    if matches!(dest.stat(upper), Ok(Some(s)) if s.size != 0) {
        return false;
    }
    let Ok(probe) = crate::download::lock::DestinationLock::acquire(dest, upper, dest.path())
    else {
        return false;
    };
    matches!(dest.stat(lower), Ok(Some(s)) if probe.is_file(&s))
    // `probe` dropped: the file removed (if still the one locked), then unlocked.
}

/// `FUSE_SUPER_MAGIC`: `syncfs` on a FUSE mount does not reach the file system's server (the
/// kernel forwards it to virtiofs only), so it makes nothing the server holds durable.
const FUSE_SUPER_MAGIC: i64 = 0x6573_5546;

/// Whether one `syncfs` of `dest`'s file system makes the batch's files durable. Not on FUSE
/// (a power cut then loses files and renames that `syncfs` returned for): use [`sync_files`].
pub fn syncfs_is_enough(dest: &Directory) -> bool {
    match rustix::fs::fstatfs(dest.as_fd()) {
        // `f_type`'s integer type differs between architectures.
        #[allow(clippy::unnecessary_cast)]
        Ok(st) => st.f_type as i64 != FUSE_SUPER_MAGIC,
        Err(_) => false,
    }
}

/// Makes the files at `paths` (relative, as the journal records them) under `dest` durable one
/// by one: each file `fdatasync`ed, then each directory on the way (`dest` included) `fsync`ed
/// once, so that their names survive too. Opens nothing outside `dest` and follows no link.
/// For file systems where [`syncfs_is_enough`] is false.
pub fn sync_files(dest: &Directory, paths: &[&str]) -> Result<()> {
    let mut dirs: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for p in paths {
        let rel = RelPath {
            text: (*p).to_string(),
        };
        let components: Vec<&OsStr> = rel.components().collect();
        let Some((name, parents)) = components.split_last() else {
            continue;
        };
        let mut dir = dest
            .try_clone()
            .map_err(|e| Error::io("opening the destination directory", dest.path(), &e))?;
        for c in parents {
            dir = dir.open_child(c).map_err(|e| in_the_way(&dir, c, &e))?;
        }
        let file = dir
            .open_file(name, rustix::fs::OFlags::RDONLY, 0)
            .map_err(|e| Error::io("opening a downloaded file", &dir.join(name), &e))?;
        file.sync_data()
            .map_err(|e| Error::io("syncing a downloaded file", &dir.join(name), &e))?;
        let mut at = 0;
        dirs.insert("");
        while let Some(i) = p[at..].find('/') {
            dirs.insert(&p[..at + i]);
            at += i + 1;
        }
    }
    for d in dirs {
        let dir = create_dir(
            dest,
            &RelPath {
                text: d.to_string(),
            },
        )?;
        rustix::fs::fsync(dir.as_fd())
            .map_err(|e| Error::io("syncing a directory", dir.path(), &e.into()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn file(p: &str) -> Planned {
        Planned::File(RelPath { text: p.into() })
    }
    fn marker(p: &str) -> Planned {
        Planned::DirectoryMarker(RelPath { text: p.into() })
    }
    fn code(r: Result<Planned>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
        e.code.clone()
    }

    #[test]
    fn a_prefix_strips_its_directory_part() {
        let mut k = KeyPaths::for_prefix("logs/2026-12-0");
        assert_eq!(
            k.claim("logs/2026-12-01/a.gz", 5).unwrap(),
            file("2026-12-01/a.gz")
        );
        assert_eq!(k.claim("logs/2026-12-02", 5).unwrap(), file("2026-12-02"));
        let mut k = KeyPaths::for_prefix("data/");
        assert_eq!(k.claim("data/x/y", 1).unwrap(), file("x/y"));
        let mut k = KeyPaths::for_prefix("pre");
        assert_eq!(k.claim("prefix/a", 1).unwrap(), file("prefix/a"));
        let mut k = KeyPaths::for_prefix("");
        assert_eq!(k.claim("a/b", 1).unwrap(), file("a/b"));
    }

    #[test]
    fn a_key_outside_the_prefix_is_refused() {
        let mut k = KeyPaths::for_prefix("logs/");
        let e = k.claim("other/a", 1).unwrap_err();
        assert_eq!(e.code, "UnsafeKey");
        assert!(e.message.contains("'other/a'"), "{e}");
        assert!(e.message.contains("does not start with 'logs/'"), "{e}");
        assert_eq!(e.key, "other/a");
    }

    #[test]
    fn a_key_list_keeps_the_whole_key() {
        let mut k = KeyPaths::for_keys();
        assert_eq!(k.claim("a/b/c.txt", 3).unwrap(), file("a/b/c.txt"));
        assert_eq!(code(k.claim("", 0)), "UnsafeKey");
    }

    #[test]
    fn directory_markers_are_directories_and_other_slash_keys_are_refused() {
        let mut k = KeyPaths::for_prefix("d/");
        assert_eq!(k.claim("d/", 0).unwrap(), marker(""));
        assert_eq!(k.claim("d/sub/", 0).unwrap(), marker("sub"));
        assert_eq!(k.claim("d/sub/f", 4).unwrap(), file("sub/f"));
        // A marker after its files and a second marker of one directory are harmless.
        assert_eq!(k.claim("d/sub/", 0).unwrap(), marker("sub"));
        let e = k.claim("d/big/", 7).unwrap_err();
        assert_eq!(e.code, "UnsafeKey");
        assert!(e.message.contains("ends in '/'"), "{e}");
        assert_eq!(code(k.claim("d/", 3)), "UnsafeKey");
        let mut k = KeyPaths::for_prefix("d/");
        assert_eq!(code(k.claim("d/", 1)), "UnsafeKey");
        let mut k = KeyPaths::for_keys();
        assert_eq!(k.claim("m/", 0).unwrap(), marker("m"));
        assert_eq!(code(k.claim("/", 0)), "UnsafeKey");
        assert_eq!(code(k.claim("x//", 0)), "UnsafeKey");
    }

    #[test]
    fn paths_that_leave_the_destination_are_refused() {
        let mut k = KeyPaths::for_keys();
        for (key, rule) in [
            ("../etc/passwd", "'..' component"),
            ("a/../../b", "'..' component"),
            ("a/..", "'..' component"),
            ("..", "'..' component"),
            ("./a", "'.' component"),
            ("a/./b", "'.' component"),
            ("/etc/passwd", "starts with '/'"),
            ("//x", "starts with '/'"),
            ("a//b", "empty component"),
        ] {
            let e = k.claim(key, 1).unwrap_err();
            assert_eq!(e.code, "UnsafeKey", "{key}");
            assert_eq!(e.kind, ErrorKind::InvalidArgument);
            assert!(e.message.contains(rule), "{key}: {e}");
            assert!(e.message.contains(&shown(key)), "{key}: {e}");
        }
        let mut k = KeyPaths::for_prefix("p/");
        assert_eq!(code(k.claim("p//etc", 1)), "UnsafeKey");
        assert_eq!(code(k.claim("p/../x", 1)), "UnsafeKey");
        // Names that merely look like dots are names.
        assert_eq!(k.claim("p/...", 1).unwrap(), file("..."));
        assert_eq!(k.claim("p/.hidden", 1).unwrap(), file(".hidden"));
        assert_eq!(k.claim("p/a\\..\\b", 1).unwrap(), file("a\\..\\b"));
    }

    #[test]
    fn control_characters_are_refused_and_shown_escaped() {
        let mut k = KeyPaths::for_keys();
        for c in (0u8..0x20).chain([0x7f]) {
            let key = format!("a{}b", c as char);
            let e = k.claim(&key, 1).unwrap_err();
            assert_eq!(e.code, "UnsafeKey", "{c:#x}");
            assert!(!e.message.chars().any(|m| m.is_control()), "{e:?}");
            let rule = if c == 0 {
                "NUL".to_string()
            } else {
                format!("0x{c:02x}")
            };
            assert!(e.message.contains(&rule), "{e}");
        }
        // The rule is about control characters only: other Unicode is a name.
        assert_eq!(k.claim("a\u{85}b", 1).unwrap(), file("a\u{85}b"));
    }

    #[test]
    fn component_and_path_lengths_are_bounded_in_bytes() {
        let mut k = KeyPaths::for_keys();
        let c255 = "x".repeat(255);
        assert_eq!(k.claim(&c255, 1).unwrap(), file(&c255));
        assert_eq!(code(k.claim(&"y".repeat(256), 1)), "UnsafeKey");
        // 85 three-byte characters are 255 bytes; 86 are 258 (bytes count, not characters).
        let e85 = "\u{20ac}".repeat(85);
        assert_eq!(
            k.claim(&format!("d/{e85}"), 1).unwrap(),
            file(&format!("d/{e85}"))
        );
        let e = k.claim(&"\u{20ac}".repeat(86), 1).unwrap_err();
        assert!(e.message.contains("258 bytes"), "{e}");
        // A 1023-byte key (the longest OSS allows) in components of 255 bytes is a path.
        let key1023 = format!(
            "{c}/{c}/{c}/{c}/{d}",
            c = "k".repeat(200),
            d = "z".repeat(219)
        );
        assert_eq!(key1023.len(), 1023);
        assert_eq!(k.claim(&key1023, 1).unwrap(), file(&key1023));
        // A path over 4095 bytes (a hostile listing's 10,000-character key) is refused, and its
        // message stays short.
        let long = vec!["q".repeat(100); 100].join("/");
        let e = k.claim(&long, 1).unwrap_err();
        assert!(e.message.contains("over the 4095 bytes"), "{e}");
        assert!(e.message.len() < 600, "{}", e.message.len());
        assert!(e.message.contains("10099 bytes in all"), "{e}");
    }

    #[test]
    fn utf8_keys_are_names() {
        let mut k = KeyPaths::for_prefix("数据/");
        assert_eq!(k.claim("数据/日志/a.txt", 1).unwrap(), file("日志/a.txt"));
        assert_eq!(k.claim("数据/\u{feff}bom", 1).unwrap(), file("\u{feff}bom"));
        assert_eq!(
            k.claim("数据/\u{202e}gpj.exe", 1).unwrap(),
            file("\u{202e}gpj.exe")
        );
        assert_eq!(k.claim("数据/😀/🚀", 1).unwrap(), file("😀/🚀"));
        // Composed and decomposed é are different names (Linux file names are bytes).
        assert_eq!(k.claim("数据/\u{e9}", 1).unwrap(), file("\u{e9}"));
        assert_eq!(k.claim("数据/e\u{301}", 1).unwrap(), file("e\u{301}"));
        // A prefix cut inside a multi-byte character strips up to its last '/' only.
        let mut k = KeyPaths::for_prefix("数据/日");
        assert_eq!(k.claim("数据/日志", 1).unwrap(), file("日志"));
    }

    #[test]
    fn a_file_then_a_key_below_it_collides() {
        let mut k = KeyPaths::for_keys();
        assert_eq!(k.claim("a", 1).unwrap(), file("a"));
        let e = k.claim("a/b", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision");
        assert!(
            e.message.contains("'a/b'") && e.message.contains("key 'a'"),
            "{e}"
        );
        let e = k.claim("a/x/y", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision");
        let e = k.claim("a/", 0).unwrap_err();
        assert_eq!(e.code, "KeyCollision", "{e}");
        // A refused key claimed nothing: a sibling is fine.
        assert_eq!(k.claim("ab/c", 1).unwrap(), file("ab/c"));
    }

    #[test]
    fn a_key_below_then_its_directory_as_a_file_collides() {
        let mut k = KeyPaths::for_prefix("p/");
        assert_eq!(k.claim("p/a/b", 1).unwrap(), file("a/b"));
        let e = k.claim("p/a", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision");
        assert!(
            e.message.contains("'p/a'") && e.message.contains("key 'p/a/b'"),
            "{e}"
        );
        let mut k = KeyPaths::for_keys();
        k.claim("m/", 0).unwrap();
        let e = k.claim("m", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision");
        assert!(e.message.contains("key 'm/'"), "{e}");
    }

    #[test]
    fn on_a_case_insensitive_destination_keys_differing_in_case_collide() {
        let mut k = KeyPaths::for_prefix("p/");
        k.fold_case(true);
        assert_eq!(k.claim("p/Docs/README", 1).unwrap(), file("Docs/README"));
        let e = k.claim("p/docs/readme", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision");
        assert!(e.message.contains("key 'p/Docs/README'"), "{e}");
        let e = k.claim("p/DOCS/README/x", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision", "{e}");
        assert!(e.message.contains("key 'p/Docs/README'"), "{e}");
        let e = k
            .claim("p/\u{c9}T\u{c9}", 1)
            .map(|_| k.claim("p/\u{e9}t\u{e9}", 1));
        assert_eq!(e.unwrap().unwrap_err().code, "KeyCollision");
        // The paths themselves keep their case.
        assert_eq!(k.claim("p/docs/Other", 1).unwrap(), file("docs/Other"));
        // Without folding (the default) they are different names.
        let mut k = KeyPaths::for_keys();
        k.claim("README", 1).unwrap();
        assert_eq!(k.claim("readme", 1).unwrap(), file("readme"));
    }

    #[test]
    fn the_case_probe_leaves_nothing_behind() {
        let t = tempfile::tempdir().unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        // tmpfs and the usual Linux file systems tell case apart.
        assert!(!is_case_insensitive(&dest));
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_probe_left_by_a_killed_batch_is_removed_by_the_next_probe() {
        use std::os::unix::fs::OpenOptionsExt;
        let t = tempfile::tempdir().unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        // What a batch killed between the probe's creation and its removal left.
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(t.path().join(CASE_PROBE))
            .unwrap();
        assert!(!is_case_insensitive(&dest));
        let left: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        // A probe that another process holds is not taken: the answer is "cannot tell" (false),
        // and the holder's file stays.
        let held = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(t.path().join(CASE_PROBE))
            .unwrap();
        held.lock().unwrap();
        assert!(!is_case_insensitive(&dest));
        assert!(t.path().join(CASE_PROBE).exists());
        drop(held);
        assert!(!is_case_insensitive(&dest));
        assert!(!t.path().join(CASE_PROBE).exists());
    }

    #[test]
    fn the_case_probe_leaves_another_users_probe_alone() {
        let t = tempfile::tempdir().unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        // Not a plain file: not ours to use or remove.
        std::fs::create_dir(t.path().join(CASE_PROBE)).unwrap();
        assert!(!is_case_insensitive(&dest));
        assert!(t.path().join(CASE_PROBE).is_dir());
    }

    #[test]
    fn the_case_probe_never_removes_a_file_with_content() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        // A file of the user's at that name (made by anything but a probe): left as it is.
        let p = t.path().join(CASE_PROBE);
        std::fs::write(&p, b"the user's bytes").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(!is_case_insensitive(&dest));
        assert_eq!(std::fs::read(&p).unwrap(), b"the user's bytes");
    }

    #[test]
    fn two_keys_for_one_path_collide() {
        let mut k = KeyPaths::for_keys();
        k.claim("dup", 1).unwrap();
        let e = k.claim("dup", 1).unwrap_err();
        assert_eq!(e.code, "KeyCollision");
        assert!(e.message.contains("both are the local file 'dup'"), "{e}");
    }

    fn tree(dest: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let e = e.unwrap();
                let p = e.path();
                out.push(p.strip_prefix(base).unwrap().display().to_string());
                if e.file_type().unwrap().is_dir() {
                    walk(base, &p, out);
                }
            }
        }
        walk(dest, dest, &mut out);
        out.sort();
        out
    }

    fn rel(p: &str) -> RelPath {
        RelPath { text: p.into() }
    }

    #[test]
    fn open_parent_creates_the_directories_inside_the_destination() {
        let t = tempfile::tempdir().unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        let (parent, name) = open_parent(&dest, &rel("a/b/c.txt")).unwrap();
        assert_eq!(name, "c.txt");
        assert_eq!(parent.path(), dest.path().join("a/b"));
        parent.create_private(&name).unwrap();
        assert!(t.path().join("a/b/c.txt").is_file());
        let (parent, name) = open_parent(&dest, &rel("top")).unwrap();
        assert_eq!(
            (parent.path(), name.as_os_str()),
            (dest.path(), OsStr::new("top"))
        );
        // Existing directories are reused.
        let (parent, _) = open_parent(&dest, &rel("a/b/d")).unwrap();
        assert_eq!(parent.path(), dest.path().join("a/b"));
        let d = create_dir(&dest, &rel("m/n")).unwrap();
        assert_eq!(d.path(), dest.path().join("m/n"));
        assert!(t.path().join("m/n").is_dir());
        assert_eq!(create_dir(&dest, &rel("")).unwrap().path(), dest.path());
        assert!(open_parent(&dest, &rel("")).is_err());
        assert_eq!(tree(t.path()), ["a", "a/b", "a/b/c.txt", "m", "m/n"]);
    }

    #[test]
    fn a_link_planted_in_the_destination_is_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        let dest_path = t.path().join("dest");
        std::fs::create_dir(&outside).unwrap();
        std::fs::create_dir(&dest_path).unwrap();
        std::os::unix::fs::symlink(&outside, dest_path.join("evil")).unwrap();
        std::os::unix::fs::symlink("../outside", dest_path.join("rel")).unwrap();
        std::fs::create_dir(dest_path.join("ok")).unwrap();
        std::os::unix::fs::symlink(&outside, dest_path.join("ok/deeper")).unwrap();
        let dest = Directory::open(&dest_path).unwrap();
        for p in [
            "evil/x",
            "evil/new/x",
            "rel/x",
            "ok/deeper/x",
            "ok/deeper/y/z",
        ] {
            let e = open_parent(&dest, &rel(p)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Io, "{p}: {e}");
            assert!(e.message.contains("symbolic link"), "{p}: {e}");
            assert!(create_dir(&dest, &rel(p)).is_err(), "{p}");
        }
        assert!(create_dir(&dest, &rel("evil")).is_err());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn a_file_in_the_way_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"x").unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        let e = open_parent(&dest, &rel("f/g")).unwrap_err();
        assert!(e.message.contains("a file is in the way"), "{e}");
        assert_eq!(std::fs::read(t.path().join("f")).unwrap(), b"x");
    }

    #[test]
    fn sync_files_syncs_the_files_and_their_directories_and_follows_no_link() {
        let t = tempfile::tempdir().unwrap();
        let dest_path = t.path().join("dest");
        std::fs::create_dir_all(dest_path.join("a/b")).unwrap();
        std::fs::write(dest_path.join("a/b/f"), b"f").unwrap();
        std::fs::write(dest_path.join("top"), b"t").unwrap();
        std::os::unix::fs::symlink(t.path(), dest_path.join("link")).unwrap();
        std::fs::write(t.path().join("outside"), b"o").unwrap();
        let dest = Directory::open(&dest_path).unwrap();
        assert!(syncfs_is_enough(&dest)); // tmpfs or a disk, not FUSE
        sync_files(&dest, &["a/b/f", "top"]).unwrap();
        assert!(sync_files(&dest, &["link/outside"]).is_err());
        assert!(sync_files(&dest, &["missing"]).is_err());
        assert_eq!(tree(&dest_path), ["a", "a/b", "a/b/f", "link", "top"]);
    }

    #[test]
    fn a_long_key_makes_its_directories() {
        let t = tempfile::tempdir().unwrap();
        let dest = Arc::new(Directory::open(t.path()).unwrap());
        let key = format!(
            "{c}/{c}/{c}/{c}/{d}",
            c = "k".repeat(200),
            d = "z".repeat(219)
        );
        let Planned::File(r) = KeyPaths::for_keys().claim(&key, 1).unwrap() else {
            panic!("not a file")
        };
        let (parent, name) = open_parent(&dest, &r).unwrap();
        parent.create_private(&name).unwrap();
        assert!(t.path().join(&key).is_file());
    }
}
