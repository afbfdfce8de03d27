//! The checkpoint file: its name from the request and the canonical destination, loading with
//! nothing believed, the atomic save (tmp file 0600, fsync, rename, directory fsync) and removal,
//! all relative to the opened checkpoint directory.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::OFlags;
use sha2::{Digest, Sha256};

use super::{encode, hex, parse, Record, MAX_FILE_SIZE};
use crate::download::directory::{with_suffix, Directory, FileStat};
use crate::error::{Error, Result};

/// A checkpoint file: its directory (opened) and name.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    dir: Arc<Directory>,
    name: OsString,
    tmp_name: OsString,
    pub path: PathBuf,
}

/// A checkpoint read from disk.
#[derive(Debug)]
pub enum Loaded {
    /// There is no checkpoint.
    None,
    Record(Box<Record>),
    /// Not a trustworthy checkpoint of ours (the reason, for the log): discard it.
    Discard(String),
}

impl CheckpointFile {
    /// The checkpoint file for a request in `dir`.
    pub fn new(
        dir: Arc<Directory>,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        dest: &Path,
    ) -> CheckpointFile {
        let name = name_for(bucket, key, version_id, dest);
        CheckpointFile {
            path: dir.join(&name),
            tmp_name: with_suffix(&name, ".tmp"),
            name,
            dir,
        }
    }

    /// Whether something is there under the checkpoint's name (a stat that fails counts as
    /// something: the caller then takes the careful path of a resume).
    pub fn exists(&self) -> bool {
        !matches!(self.dir.stat(&self.name), Ok(None))
    }

    /// Fails when an existing checkpoint, or its `.tmp` file (which would make every save fail),
    /// is not ours to trust (before any network traffic).
    pub fn check_trusted(&self) -> Result<()> {
        for (name, what) in [
            (&self.name, "checkpoint"),
            (&self.tmp_name, "checkpoint's temporary file"),
        ] {
            if let Ok(Some(s)) = self.dir.stat(name) {
                if s.is_file() {
                    s.check_trusted(what, &self.dir.join(name))?;
                }
            }
        }
        Ok(())
    }

    /// Fails with an `IOError` when the directory cannot hold a checkpoint: it creates the
    /// checkpoint's `.tmp` file (the first step of every save) and removes it again, so that a
    /// read-only file system, a directory without write permission or any other refusal stops
    /// the download at its start (before any request) instead of silently leaving it without a
    /// checkpoint. Something else at the `.tmp` name (a directory, another user's file) fails
    /// it too, with the path in the message. Mode bits alone cannot tell (root writes through them; a read-only mount
    /// refuses even root), hence a real create. Call with the destination's lock held (no other
    /// download of ours uses this `.tmp` name meanwhile) and after [`Self::check_trusted`].
    pub fn check_writable(&self) -> Result<()> {
        // A leftover `.tmp` of ours goes; so does a link there (removed, never followed), which
        // would otherwise make every save fail.
        match self.dir.stat(&self.tmp_name) {
            Ok(Some(s)) if s.is_symlink() => {
                let _ = self.dir.unlink(&self.tmp_name);
            }
            _ => self.dir.unlink_if_ours(&self.tmp_name),
        }
        let tmp_path = self.dir.join(&self.tmp_name);
        match self.dir.create_private(&self.tmp_name) {
            Ok(f) => {
                self.dir.unlink_if_same(&self.tmp_name, &f);
                Ok(())
            }
            Err(e) => Err(Error::io_failure(format!(
                "the checkpoint directory '{}' cannot hold a checkpoint (creating '{}' failed: {e}); \
                 a resumable download needs a checkpoint directory it can write: choose another, \
                 or set none for a download that cannot be resumed",
                self.dir.path().display(),
                tmp_path.display()
            ))),
        }
    }

    /// Reads the checkpoint. `Err` when it belongs to another user or others may write it.
    pub fn load(&self) -> Result<Loaded> {
        let file = match self
            .dir
            .open_file(&self.name, OFlags::RDONLY | OFlags::NONBLOCK, 0)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::None),
            Err(e) => return Ok(Loaded::Discard(format!("cannot open it: {e}"))),
        };
        let meta = match FileStat::of(&file) {
            Ok(m) => m,
            Err(e) => return Ok(Loaded::Discard(format!("cannot inspect it: {e}"))),
        };
        if !meta.is_file() {
            return Ok(Loaded::Discard("it is not a regular file".into()));
        }
        meta.check_trusted("checkpoint", &self.path)?;
        if meta.size > MAX_FILE_SIZE {
            return Ok(Loaded::Discard(format!(
                "it is too large ({} bytes)",
                meta.size
            )));
        }
        let mut text = Vec::new();
        if let Err(e) = Read::by_ref(&mut &file)
            .take(MAX_FILE_SIZE)
            .read_to_end(&mut text)
        {
            return Ok(Loaded::Discard(format!("cannot read it: {e}")));
        }
        Ok(match parse(&text) {
            Ok(r) => Loaded::Record(Box::new(r)),
            Err(why) => Loaded::Discard(why),
        })
    }

    /// Saves `record` atomically (tmp file 0600, fsync, rename, fsync of the directory).
    pub fn save(&self, record: &Record) -> Result<()> {
        let json = encode(record).map_err(|e| {
            Error::io(
                "serialising the checkpoint",
                &self.path,
                &std::io::Error::other(e),
            )
        })?;
        let tmp_path = self.dir.join(&self.tmp_name);
        self.dir.unlink_if_ours(&self.tmp_name);
        let mut f = self
            .dir
            .open_file(
                &self.tmp_name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
                0o600,
            )
            .map_err(|e| Error::io("creating the checkpoint", &tmp_path, &e))?;
        let (head, tail) = json.split_at(json.len() / 2);
        let written = f.write_all(head).and_then(|_| {
            crate::download::pause_at::at("checkpoint_write");
            f.write_all(tail)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|_| {
            crate::download::pause_at::at("checkpoint_rename");
            self.dir.rename(&self.tmp_name, &self.name)
        }) {
            self.dir.unlink_if_same(&self.tmp_name, &f);
            return Err(Error::io("writing the checkpoint", &self.path, &e));
        }
        drop(f);
        self.dir.sync();
        Ok(())
    }

    /// Removes the checkpoint and its tmp file when they are ours (a link is removed, never
    /// followed; another user's file is left alone).
    pub fn remove(&self) {
        for name in [&self.name, &self.tmp_name] {
            match self.dir.stat(name) {
                Ok(Some(s)) if s.is_symlink() => {
                    let _ = self.dir.unlink(name);
                }
                Ok(Some(_)) => self.dir.unlink_if_ours(name),
                _ => {}
            }
        }
    }
}

/// The checkpoint's file name for a request.
pub fn name_for(bucket: &str, key: &str, version_id: Option<&str>, dest: &Path) -> OsString {
    let mut h = Sha256::new();
    for field in [
        bucket.as_bytes(),
        key.as_bytes(),
        version_id.unwrap_or("").as_bytes(),
        dest.as_os_str().as_bytes(),
    ] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field);
    }
    let hex = hex(&h.finalize());
    OsStr::new(&format!("oss-download-{}.ckpt", &hex[..40])).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::checkpoint::tests::sample;
    use crate::download::checkpoint::{DonePart, Verdict};

    fn loaded(c: &CheckpointFile) -> std::result::Result<Option<Record>, String> {
        match c.load().map_err(|e| e.message.clone())? {
            Loaded::None => Ok(None),
            Loaded::Record(r) => Ok(Some(*r)),
            Loaded::Discard(why) => Err(why),
        }
    }

    #[test]
    fn save_load_roundtrip_and_tamper_detection() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, plan) = sample(dir.path());
        r.parts.push(DonePart {
            index: 1,
            offset: 300,
            size: 300,
            crc64: 77,
        });
        let d = Arc::new(Directory::open(dir.path()).unwrap());
        let c = CheckpointFile::new(d, "bkt", "k", None, &dir.path().join("d"));
        let p = c.path.clone();
        assert_eq!(loaded(&c), Ok(None));
        c.save(&r).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "checkpoints are private");
        let back = loaded(&c).unwrap().unwrap();
        assert_eq!(back, r);
        let (expected, _) = sample(dir.path());
        assert_eq!(back.verdict(&expected, &plan), Verdict::Resume);
        assert!(!dir.path().join(&c.tmp_name).exists());

        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace("\"crc64\": 77", "\"crc64\": 78")).unwrap();
        assert!(loaded(&c).unwrap_err().contains("checksum"));
        std::fs::write(&p, &text[..text.len() / 2]).unwrap();
        assert!(loaded(&c).unwrap_err().contains("parse"));
        std::fs::write(&p, b"").unwrap();
        assert!(loaded(&c).is_err());
        // Writable by others: refused with an error, not discarded (nor replaced).
        std::fs::write(&p, &text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = c.load().unwrap_err();
        assert!(
            e.message.contains("refusing the existing checkpoint"),
            "{e}"
        );
        assert!(c.check_trusted().is_err());
        c.remove();
        assert!(
            p.exists(),
            "a checkpoint others may write is not ours to remove"
        );
    }

    #[test]
    fn names_depend_on_every_field() {
        let a = name_for("b", "k", None, Path::new("/x"));
        assert_ne!(a, name_for("b", "k", Some("v"), Path::new("/x")));
        assert_ne!(a, name_for("b", "k2", None, Path::new("/x")));
        assert_ne!(a, name_for("b", "k", None, Path::new("/y")));
        assert_ne!(
            name_for("ab", "c", None, Path::new("/x")),
            name_for("a", "bc", None, Path::new("/x"))
        );
    }
}
