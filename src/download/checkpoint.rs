//! The checkpoint of a resumable download: what it records, how it is saved, when it is believed.
//!
//! File: `<checkpoint_dir>/oss-download-<sha256(bucket, key, version, canonical destination)[..40]>.ckpt`,
//! JSON `{"checkpoint": {..record..}, "sha256": "<hex of sha256 of the record's canonical JSON>"}`.
//! The record names the object's identity (size, ETag, Last-Modified, CRC64 header), the request
//! (bucket, key, version, range, part size), the destination and temp paths, the identity of the
//! temp file it describes (device, inode, birth time: see `writer::TempIdentity`), and every
//! finished part with its CRC64. A part is recorded only after its bytes were synced to the temp
//! file. The destination is canonical (`validate::Paths`), so every spelling of one destination
//! names the same checkpoint.
//!
//! Saving is atomic: the JSON goes to `<file>.tmp` in the same directory (created 0600, `O_EXCL`),
//! which is fsync'd and renamed over the file, then the directory is fsync'd. A crash leaves the
//! old or the new file. Every operation is relative to the opened checkpoint directory.
//!
//! Loading believes nothing: a checkpoint owned by another user or writable by its group or others
//! is refused with an error (never read, never replaced: `directory::FileStat::check_trusted`); a
//! file that does not parse, has the wrong format or version, a wrong checksum, or parts that do
//! not fit the plan, is rejected and the caller starts clean. Even an accepted checkpoint's parts
//! are re-read from the temp file and checked against their CRC64 before they count (unless the
//! request turned that off), so what ends in the destination is what the final check verified.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::OFlags;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::directory::{with_suffix, Directory, FileStat};
use super::plan::Plan;
use super::writer::TempIdentity;
use crate::error::{Error, Result};

pub const FORMAT: &str = "oss-ffi/resumable-download";
/// 2: the record names its temp file's identity (`temp_file`); version 1 files are discarded.
pub const FORMAT_VERSION: u32 = 2;

/// Files bigger than this are not checkpoints of ours (10000 parts take about 1 MB).
const MAX_FILE_SIZE: u64 = 16 << 20;

/// What identifies the object version being downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectIdentity {
    pub size: u64,
    pub etag: String,
    pub last_modified: String,
    pub crc64: Option<u64>,
}

/// A finished part: its bytes are on disk (synced) and hash to `crc64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DonePart {
    pub index: u32,
    pub offset: u64,
    pub size: u64,
    pub crc64: u64,
}

/// The checkpoint's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub format: String,
    pub version: u32,
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    pub object: ObjectIdentity,
    /// The request's range as given (`(start, end)`, end -1 = to the end).
    pub range: Option<(i64, i64)>,
    /// Object offset of the first byte downloaded, and the number of bytes.
    pub first: u64,
    pub total: u64,
    /// The requested part size and the one used (raised for huge objects).
    pub requested_part_size: u64,
    pub part_size: u64,
    pub dest_path: String,
    pub temp_path: String,
    /// The temp file these parts were written into.
    pub temp_file: TempIdentity,
    pub parts: Vec<DonePart>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    checkpoint: Record,
    sha256: String,
}

/// The outcome of comparing a loaded checkpoint with the current request and object.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same request, same object: resume.
    Resume,
    /// Same request, but the object on the server is not the one recorded.
    ObjectChanged { old_etag: String },
    /// Not ours or not trustworthy (the reason is for the log).
    Discard(String),
}

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
            super::pause::at("checkpoint_write");
            f.write_all(tail)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|_| {
            super::pause::at("checkpoint_rename");
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

impl Record {
    /// A record of no finished parts for this request and object.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        object: ObjectIdentity,
        range: Option<(i64, i64)>,
        requested_part_size: u64,
        plan: &Plan,
        dest: &Path,
        temp: &Path,
    ) -> Record {
        Record {
            format: FORMAT.to_string(),
            version: FORMAT_VERSION,
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id: version_id.map(str::to_string),
            object,
            range,
            first: plan.first,
            total: plan.total,
            requested_part_size,
            part_size: plan.part_size,
            dest_path: dest.to_string_lossy().into_owned(),
            temp_path: temp.to_string_lossy().into_owned(),
            temp_file: TempIdentity::default(),
            parts: Vec::new(),
        }
    }

    /// Compares a loaded record with `expected` (built for the current request and object, no
    /// parts) and checks its parts against `plan`.
    pub fn verdict(&self, expected: &Record, plan: &Plan) -> Verdict {
        let same_request = self.format == expected.format
            && self.version == expected.version
            && self.bucket == expected.bucket
            && self.key == expected.key
            && self.version_id == expected.version_id
            && self.range == expected.range
            && self.requested_part_size == expected.requested_part_size
            && self.dest_path == expected.dest_path
            && self.temp_path == expected.temp_path;
        if !same_request {
            return Verdict::Discard("it records another request".into());
        }
        if self.object != expected.object {
            return Verdict::ObjectChanged {
                old_etag: self.object.etag.clone(),
            };
        }
        if self.first != expected.first
            || self.total != expected.total
            || self.part_size != expected.part_size
        {
            return Verdict::Discard("its plan differs from this request's".into());
        }
        let mut seen = vec![false; plan.parts.len()];
        for p in &self.parts {
            let Some(planned) = plan.parts.get(p.index as usize) else {
                return Verdict::Discard(format!("part {} is not in the plan", p.index));
            };
            if planned.offset != p.offset || planned.size != p.size {
                return Verdict::Discard(format!("part {} does not match the plan", p.index));
            }
            if std::mem::replace(&mut seen[p.index as usize], true) {
                return Verdict::Discard(format!("part {} is recorded twice", p.index));
            }
        }
        Verdict::Resume
    }
}

/// Parses the bytes of a checkpoint file; `Err(reason)` when they are not a trustworthy one.
pub fn parse(text: &[u8]) -> std::result::Result<Record, String> {
    if text.len() as u64 > MAX_FILE_SIZE {
        return Err(format!("it is too large ({} bytes)", text.len()));
    }
    let env: Envelope =
        serde_json::from_slice(text).map_err(|e| format!("it does not parse: {e}"))?;
    if env.checkpoint.format != FORMAT || env.checkpoint.version != FORMAT_VERSION {
        return Err(format!(
            "unknown format {} version {}",
            env.checkpoint.format, env.checkpoint.version
        ));
    }
    if checksum(&env.checkpoint) != env.sha256 {
        return Err("its checksum does not match its content".into());
    }
    Ok(env.checkpoint)
}

/// The bytes of the checkpoint file for `record` (what `save` writes).
pub fn encode(record: &Record) -> std::result::Result<Vec<u8>, String> {
    let env = Envelope {
        sha256: checksum(record),
        checkpoint: record.clone(),
    };
    serde_json::to_vec_pretty(&env).map_err(|e| e.to_string())
}

fn checksum(record: &Record) -> String {
    let canonical = serde_json::to_vec(record).unwrap_or_default();
    hex(&Sha256::digest(&canonical))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> (Record, Plan) {
        let plan = Plan::new(0, 1000, 300);
        let id = ObjectIdentity {
            size: 1000,
            etag: "\"E1\"".into(),
            last_modified: "Fri, 13 Nov 2015 14:47:53 GMT".into(),
            crc64: Some(5),
        };
        let r = Record::new(
            "bkt",
            "k",
            None,
            id,
            None,
            300,
            &plan,
            &dir.join("d"),
            &dir.join("d.temp"),
        );
        (r, plan)
    }

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
    fn verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let (expected, plan) = sample(dir.path());
        let mut changed = expected.clone();
        changed.object.etag = "\"E0\"".into();
        assert_eq!(
            changed.verdict(&expected, &plan),
            Verdict::ObjectChanged {
                old_etag: "\"E0\"".into()
            }
        );
        let mut foreign = expected.clone();
        foreign.key = "other".into();
        assert!(matches!(
            foreign.verdict(&expected, &plan),
            Verdict::Discard(_)
        ));
        let mut bad = expected.clone();
        bad.parts.push(DonePart {
            index: 0,
            offset: 1,
            size: 300,
            crc64: 0,
        });
        assert!(matches!(bad.verdict(&expected, &plan), Verdict::Discard(_)));
        let mut dup = expected.clone();
        let p = DonePart {
            index: 3,
            offset: 900,
            size: 100,
            crc64: 0,
        };
        dup.parts.extend([p, p]);
        assert!(matches!(dup.verdict(&expected, &plan), Verdict::Discard(_)));
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
