//! The preparation before any byte is written: the checkpoint loaded and judged against the
//! request, the object and the temp file; finished parts re-read and checked; or a fresh temp
//! file created (steps 4-5 of the module doc).

use super::checkpoint::{CheckpointFile, Loaded, Record, Verdict};
use super::plan::{is_a_cut_for, Plan};
use super::temp_file;
use super::temp_file::{NotResumable, TempFile};
use super::validate::Paths;
use crate::error::{Error, Result};
use crate::log::{self, Level};

pub(super) enum Prepared {
    /// The record to continue and the temp file it describes; the plan of the record's own cut
    /// when it is not this run's (`plan::is_a_cut_for`: a run with a throughput target resuming
    /// one without, or the reverse).
    Ready(Box<Record>, TempFile, Option<Plan>),
    ObjectChanged {
        old_etag: String,
    },
}

/// Where the record of an earlier run comes from.
pub(super) enum Previous<'a> {
    /// A fresh download (no checkpoint directory, no token).
    None,
    /// The checkpoint file: a record that does not hold is discarded (logged) and the download
    /// starts afresh.
    Checkpoint(&'a CheckpointFile),
    /// A resume token's record: judged like a checkpoint's, but one that does not hold is an
    /// error (the caller asked for this continuation; it is never silently replaced).
    Token(Box<Record>),
}

/// Loads and judges the earlier record; returns the record to continue (with its finished parts,
/// re-read and checked when `verify`) and the temp file to write, or the old ETag when the object
/// changed since. `ckpt` is the checkpoint file this run saves to (if any).
pub(super) fn prepare(
    previous: Previous<'_>,
    ckpt: Option<&CheckpointFile>,
    record: Record,
    plan: &Plan,
    paths: &Paths,
    verify: bool,
    direct_io: bool,
) -> Result<Prepared> {
    let from_token = matches!(previous, Previous::Token(_));
    let discard = |why: &str| -> Result<()> {
        if from_token {
            return Err(Error::validate(format!(
                "The resume token is refused: {why} (the token does not describe the download \
                 it names; nothing was written)"
            )));
        }
        if let Some(cp) = ckpt {
            log::log(Level::Warn, || {
                format!(
                    "discarding the checkpoint '{}': {why}; starting the download afresh",
                    cp.path.display()
                )
            });
            cp.remove();
        }
        Ok(())
    };
    let loaded = match previous {
        Previous::None => Loaded::None,
        Previous::Checkpoint(cp) => cp.load()?,
        Previous::Token(r) => Loaded::Record(r),
    };
    match loaded {
        Loaded::None => {}
        Loaded::Discard(why) => discard(&why)?,
        Loaded::Record(old) => {
            let own = own_cut(&old, &record, plan);
            let judged = Record {
                part_size: own.as_ref().map_or(plan.part_size, |p| p.part_size),
                ..record.clone()
            };
            let judged_plan = own.as_ref().unwrap_or(plan);
            match old.verdict(&judged, judged_plan) {
                Verdict::Resume => match TempFile::open_existing(
                    &paths.dir,
                    &paths.temp_name,
                    plan.total,
                    &old.temp_file,
                    direct_io,
                )? {
                    Ok(temp) => {
                        let resumed = Resumed {
                            ckpt,
                            plan: judged_plan,
                            paths,
                            verify,
                            from_token,
                        };
                        return resumed.continue_with(*old, judged, temp, own.clone());
                    }
                    Err(NotResumable::Missing) => discard("its temp file is missing")?,
                    Err(NotResumable::WrongSize) => {
                        discard("its temp file has the wrong size")?
                    }
                    Err(NotResumable::NotDescribed) => discard(
                        "the temp file is not the one it describes (it was recreated by another download)",
                    )?,
                },
                Verdict::ObjectChanged { old_etag } => return Ok(changed(ckpt, paths, old_etag)),
                Verdict::Discard(why) => discard(&why)?,
            }
        }
    }
    fresh(ckpt, record, plan, paths, direct_io)
}

/// The plan of `old`'s own cut, when it differs from this run's but the request could have made
/// it (one run with a throughput target, the other without): the record is judged, and
/// continued, with it.
fn own_cut(old: &Record, record: &Record, plan: &Plan) -> Option<Plan> {
    (old.part_size != plan.part_size
        && old.first == plan.first
        && old.total == plan.total
        && is_a_cut_for(plan.total, record.requested_part_size, old.part_size))
    .then(|| Plan::new(plan.first, plan.total, old.part_size))
}

/// The object changed since the record: its checkpoint and temp file removed.
fn changed(ckpt: Option<&CheckpointFile>, paths: &Paths, old_etag: String) -> Prepared {
    if let Some(cp) = ckpt {
        cp.remove();
    }
    temp_file::remove_temp(&paths.dir, &paths.temp_name);
    Prepared::ObjectChanged { old_etag }
}

/// A fresh temp file for `record`.
fn fresh(
    ckpt: Option<&CheckpointFile>,
    mut record: Record,
    plan: &Plan,
    paths: &Paths,
    direct_io: bool,
) -> Result<Prepared> {
    let temp = TempFile::create(&paths.dir, &paths.temp_name, plan.total, direct_io)?;
    if ckpt.is_some() {
        // A checkpoint will record parts written into this new file: its name (and the removal
        // of an older temp file it replaces) must be durable first. Otherwise a power cut can
        // bring back the old file under a checkpoint that claims parts it never held (with the
        // checkpoint in another directory, under fsync(2)'s strict rules: the power phase's
        // temp-directory sequence). One directory fsync per fresh start.
        temp.sync_dir();
    }
    record.temp_file = temp.identity()?;
    Ok(Prepared::Ready(Box::new(record), temp, None))
}

/// A record that holds, with its temp file open: what continuing it needs.
struct Resumed<'a> {
    ckpt: Option<&'a CheckpointFile>,
    plan: &'a Plan,
    paths: &'a Paths,
    verify: bool,
    from_token: bool,
}

impl Resumed<'_> {
    /// `record` continues `old`: its finished parts (re-read and checked when `verify`; a
    /// token's that fail are refused, a checkpoint's are downloaded again) in `temp`.
    fn continue_with(
        &self,
        old: Record,
        mut record: Record,
        temp: TempFile,
        own: Option<Plan>,
    ) -> Result<Prepared> {
        let (plan, paths) = (self.plan, self.paths);
        let mut parts = old.parts;
        let before = parts.len();
        if self.verify {
            let t0 = std::time::Instant::now();
            let bytes: u64 = parts.iter().map(|p| p.size).sum();
            parts.retain(|p| {
                TempFile::read_crc(&temp.file, plan.file_offset(p.offset), p.size)
                    .is_ok_and(|crc| crc == p.crc64)
            });
            log::log(Level::Info, || {
                format!(
                    "resuming '{}': {before} finished parts ({bytes} bytes) re-read and checked in {} ms",
                    paths.dest.display(),
                    t0.elapsed().as_millis()
                )
            });
        }
        if self.from_token && parts.len() != before {
            // A token's parts are not repaired: one that lies about its bytes is refused (its
            // temp file left as it is).
            return Err(Error::validate(format!(
                "The resume token is refused: {} of its {before} finished parts do not match the \
                 bytes of the temp file '{}' (nothing was written)",
                before - parts.len(),
                temp.path.display()
            )));
        }
        record.parts = parts;
        record.temp_file = old.temp_file;
        if record.parts.len() != before {
            log::log(Level::Warn, || {
                format!(
                    "{} finished parts in '{}' failed verification; downloading them again",
                    before - record.parts.len(),
                    temp.path.display()
                )
            });
            if let Some(cp) = self.ckpt {
                if let Err(e) = cp.save(&record) {
                    log::log(Level::Warn, || format!("{e}"));
                }
            }
        }
        Ok(Prepared::Ready(Box::new(record), temp, own))
    }
}
