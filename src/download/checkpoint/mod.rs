//! The checkpoint of a resumable download: what it records, how it is saved, when it is believed.
//!
//! File: `<checkpoint_dir>/oss-download-<sha256(bucket, key, version, canonical destination)[..40]>.ckpt`,
//! JSON `{"checkpoint": {..record..}, "sha256": "<hex of sha256 of the record's canonical JSON>"}`.
//! The record names the object's identity (size, ETag, Last-Modified, CRC64 header), the request
//! (bucket, key, version, range, part size), the destination and temp paths, the identity of the
//! temp file it describes (device, inode, birth time: see `TempIdentity`), and every
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
//!
//! This file holds the record (what it says, its encoding and checksum, when it is believed:
//! `Record::verdict`); `file` holds the checkpoint file (load, atomic save, removal, name).

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::download::directory::FileStat;
use crate::download::plan::Plan;

mod file;
pub use file::{CheckpointFile, Loaded};

/// Files bigger than this are not checkpoints of ours (10000 parts take about 1 MB).
pub(crate) const MAX_FILE_SIZE: u64 = 16 << 20;

pub const FORMAT: &str = "oss-ffi/resumable-download";
/// 2: the record names its temp file's identity (`temp_file`); version 1 files are discarded.
pub const FORMAT_VERSION: u32 = 2;
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

/// What ties a checkpoint to the temp file it describes: device, inode and (when the file system
/// reports one) birth time. Inode numbers are reused as soon as a file is deleted, so the birth
/// time tells a recreated temp file apart; where there is none, the re-read of the finished
/// parts on resume (on by default) still catches a temp file that does not hold what the
/// checkpoint says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempIdentity {
    pub dev: (u32, u32),
    pub ino: u64,
    pub btime: Option<(i64, u32)>,
}

impl TempIdentity {
    pub(crate) fn of(s: &FileStat) -> TempIdentity {
        TempIdentity {
            dev: s.dev,
            ino: s.ino,
            btime: s.btime,
        }
    }
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

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one checkpoint commit: the temp file synced, then the parts of `batch` recorded as
/// finished in `rec` and the record saved to `cp` (if any). A failed sync is the error, and
/// nothing is recorded (those bytes may not be on the disk). A failed save only costs
/// resumability (the directory was writable at the start: it changed under the download): it
/// is logged and the record in memory holds the parts all the same.
pub(crate) fn commit(
    file: &std::fs::File,
    path: &std::path::Path,
    cp: Option<&CheckpointFile>,
    rec: &mut Record,
    batch: Vec<DonePart>,
) -> crate::error::Result<()> {
    file.sync_data()
        .map_err(|e| crate::error::Error::io("syncing the temp file", path, &e))?;
    rec.parts.extend(batch);
    if let Some(Err(e)) = cp.map(|cp| cp.save(rec)) {
        crate::log::log(crate::log::Level::Warn, || {
            format!(
                "cannot save the checkpoint: {e}; an interruption now resumes from the last \
                 checkpoint saved"
            )
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample(dir: &Path) -> (Record, Plan) {
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
}
