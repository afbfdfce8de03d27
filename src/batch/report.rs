//! What a batch did: each object's outcome (given to the per-object callback) and the final
//! report (counts, bytes, every failure with its error, keys deleted since the last run, why the
//! batch stopped early).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::progress::BatchProgress;
use crate::error::{Error, Result};

/// Why an object was not downloaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The journal has it with the same ETag and size, and the file is there with that size.
    Unchanged,
    /// A file is there and the overwrite policy is `Never`.
    Exists,
    /// Left out by the include/exclude patterns or the size or time filters.
    Filtered,
    /// A key ending in `/` of size 0: its directory was created, no file.
    DirectoryMarker,
}

/// One object's outcome.
#[derive(Clone, Debug)]
pub enum Outcome {
    Downloaded,
    Skipped(SkipReason),
    /// A dry run: the object would be downloaded.
    WouldDownload,
    Failed(Error),
}

/// One object's outcome, with what the listing (or HEAD) said of it.
#[derive(Clone, Debug)]
pub struct ObjectOutcome {
    pub key: String,
    /// Its local path (`None` when the key has no safe one).
    pub path: Option<PathBuf>,
    pub size: u64,
    pub etag: String,
    pub outcome: Outcome,
}

/// Called once per object with its outcome (calls never overlap).
pub type ObjectDoneFn = Arc<dyn Fn(&ObjectOutcome) + Send + Sync>;

/// The failures a report keeps with their errors at most (the first ones); the count of all is
/// `progress.objects_failed`, and the per-object callback sees every one. A batch of a million
/// objects into a directory it cannot write fails each of them: their errors would have made
/// the report hundreds of MB.
pub const FAILURES_KEPT: usize = 1000;

/// The final report of a batch.
#[derive(Clone, Debug, Default)]
pub struct BatchReport {
    /// The final counts and bytes (`listing_done` false when the listing did not finish).
    pub progress: BatchProgress,
    /// The failed keys with their errors, in the order they failed: the first
    /// [`FAILURES_KEPT`] (`progress.objects_failed` counts them all).
    pub failures: Vec<(String, Error)>,
    /// Keys the journal had from an earlier run that the listing no longer has (their local
    /// files are left alone). Only for a prefix whose listing finished.
    pub deleted: Vec<String>,
    /// Why the batch ended before every object was handled: the listing failed, it was
    /// cancelled or paused (`Cancelled`, message "paused"), the `Stop` policy met a failure,
    /// the destination or the journal could not be used.
    pub stopped: Option<Error>,
    /// The journal's path (`None` for a dry run, or when it could not be opened).
    pub journal_path: Option<PathBuf>,
    pub elapsed: Duration,
    /// Its requests added up (`crate::metrics`): all zero unless the client has a metrics
    /// callback.
    pub requests: crate::metrics::SummarySnapshot,
}

impl BatchReport {
    /// `Ok` when every object was handled without a failure; otherwise the error that stopped
    /// the batch, or a summary of the failures with the first one's kind and code.
    pub fn result(&self) -> Result<()> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        let Some((key, first)) = self.failures.first() else {
            return Ok(());
        };
        let n = (self.progress.objects_failed as usize).max(self.failures.len());
        let mut e = first.clone();
        e.message = if n == 1 {
            format!("1 object of the batch failed: {key}: {}", first.message)
        } else {
            format!(
                "{n} objects of the batch failed; the first: {key}: {}",
                first.message
            )
        };
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_names_the_first_failure_and_counts_them() {
        let mut r = BatchReport::default();
        assert!(r.result().is_ok());
        r.failures.push(("a".into(), Error::crc_mismatch("bad")));
        r.failures.push(("b".into(), Error::validate("worse")));
        let e = r.result().unwrap_err();
        assert_eq!(e.code, "CrcCheckError");
        assert!(
            e.message.contains("2 objects") && e.message.contains("a: bad"),
            "{e}"
        );
        r.stopped = Some(Error::cancelled("stop"));
        assert_eq!(r.result().unwrap_err().code, "Cancelled");
    }
}
