//! A batch download's request (`BatchRequest`): what to fetch (a prefix or a key list), where
//! to, which objects (filters), what to do with existing files and with failures, and the
//! settings each object's download takes; its bounds and defaults, and its check.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::filter::Filter;
use super::progress::BatchProgressFn;
use super::report::ObjectDoneFn;
use crate::download::{
    DEFAULT_PART_SIZE, DEFAULT_THREAD_NUM, MAX_PART_SIZE, MAX_THREAD_NUM, MIN_PART_SIZE,
};
use crate::error::{Error, Result};
use crate::listing::MAX_KEY_BYTES;

/// Objects in flight by default.
pub const DEFAULT_MAX_OBJECTS_IN_FLIGHT: u32 = 64;
/// Objects in flight at most: as many as the transport keeps connections for
/// (`transport::with_connections`).
pub const MAX_OBJECTS_IN_FLIGHT: u32 = crate::transport::MAX_OWN_CONNECTIONS;

/// What a batch downloads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// Every object whose key starts with this (listed with ListObjectsV2, no delimiter); its
    /// local path is the key minus the prefix's directory part (up to its last `/`).
    Prefix(String),
    /// These keys (each HEADed for its size, ETag and Last-Modified); the local path is the
    /// whole key. A key given twice is fetched once.
    Keys(Vec<String>),
}

/// What to do with a file already at an object's path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Overwrite {
    /// Always download and replace it.
    Always,
    /// Skip an object the journal says was downloaded with the same ETag and size, when the
    /// file is there with that size; otherwise download it.
    #[default]
    IfChanged,
    /// Keep any existing file (skipped, `Exists`).
    Never,
}

/// What to do when an object fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnFailure {
    /// Record the failure, go on with the other objects.
    #[default]
    Continue,
    /// Stop at the first failure: nothing more is started, objects in flight are cancelled
    /// (their checkpoints kept).
    Stop,
}

/// A batch download (`Client::download_objects`).
#[derive(Clone, Serialize, Deserialize)]
pub struct BatchRequest {
    pub bucket: String,
    pub source: Source,
    /// The destination directory (created when missing; its parent must exist).
    pub dest_dir: PathBuf,
    /// Where the journal and the checkpoints of large objects live; `None`: `dest_dir` (hidden
    /// files there).
    pub checkpoint_dir: Option<PathBuf>,
    /// Glob patterns matched against the local relative path (see `filter`); none: every object.
    pub include: Vec<String>,
    /// Glob patterns; an object matching one is skipped (exclude wins over include).
    pub exclude: Vec<String>,
    /// Sizes in bytes, inclusive.
    pub min_size: Option<u64>,
    pub max_size: Option<u64>,
    /// Unix seconds, inclusive, compared with the listing's (or HEAD's) Last-Modified.
    pub modified_after: Option<i64>,
    pub modified_before: Option<i64>,
    pub overwrite: Overwrite,
    pub on_failure: OnFailure,
    /// Part size of large objects (objects up to twice this size are fetched in one GET).
    pub part_size: u64,
    /// Parts in flight per large object.
    pub thread_num: u32,
    /// Objects in flight at most: 1..=1024 (each also holds memory of the client's budget).
    pub max_objects_in_flight: u32,
    /// As `DownloadRequest::verify_parts_on_resume`, for resumed large objects.
    pub verify_parts_on_resume: bool,
    /// As `DownloadRequest::direct_io`, for large objects.
    pub direct_io: bool,
    /// List (or HEAD) and filter, decide, report `WouldDownload`: no object is fetched, nothing
    /// is written.
    pub dry_run: bool,
    #[serde(skip)]
    pub progress: Option<BatchProgressFn>,
    #[serde(skip)]
    pub on_object: Option<ObjectDoneFn>,
}

impl std::fmt::Debug for BatchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Prefix(p) => format!("prefix {p:?}"),
            Source::Keys(k) => format!("{} keys", k.len()),
        };
        f.debug_struct("BatchRequest")
            .field("bucket", &self.bucket)
            .field("source", &source)
            .field("dest_dir", &self.dest_dir)
            .field("checkpoint_dir", &self.checkpoint_dir)
            .field("include", &self.include)
            .field("exclude", &self.exclude)
            .field("overwrite", &self.overwrite)
            .field("on_failure", &self.on_failure)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

impl BatchRequest {
    fn new(bucket: impl Into<String>, source: Source, dest: impl Into<PathBuf>) -> Self {
        BatchRequest {
            bucket: bucket.into(),
            source,
            dest_dir: dest.into(),
            checkpoint_dir: None,
            include: Vec::new(),
            exclude: Vec::new(),
            min_size: None,
            max_size: None,
            modified_after: None,
            modified_before: None,
            overwrite: Overwrite::default(),
            on_failure: OnFailure::default(),
            part_size: DEFAULT_PART_SIZE,
            thread_num: DEFAULT_THREAD_NUM,
            max_objects_in_flight: DEFAULT_MAX_OBJECTS_IN_FLIGHT,
            verify_parts_on_resume: true,
            direct_io: true,
            dry_run: false,
            progress: None,
            on_object: None,
        }
    }

    /// Every object under `prefix` into `dest`.
    pub fn for_prefix(
        bucket: impl Into<String>,
        prefix: impl Into<String>,
        dest: impl Into<PathBuf>,
    ) -> Self {
        Self::new(bucket, Source::Prefix(prefix.into()), dest)
    }

    /// The objects `keys` into `dest`.
    pub fn for_keys(
        bucket: impl Into<String>,
        keys: Vec<String>,
        dest: impl Into<PathBuf>,
    ) -> Self {
        Self::new(bucket, Source::Keys(keys), dest)
    }

    /// Every check that needs neither the network nor the file system (`ValidateError`).
    pub fn validate(&self) -> Result<()> {
        crate::endpoint::validate_bucket(&self.bucket)?;
        match &self.source {
            Source::Prefix(p) => check_key_text("prefix", p)?,
            Source::Keys(keys) => {
                // A key OSS cannot hold (over 1023 bytes, NUL) fails alone when the batch runs.
                if keys.iter().any(String::is_empty) {
                    return Err(Error::validate("a key of the key list is empty"));
                }
            }
        }
        if self.dest_dir.as_os_str().is_empty() {
            return Err(Error::validate("the destination directory is empty"));
        }
        self.validate_numbers()?;
        self.filter().map(drop)
    }

    /// Its filters, compiled (`ValidateError` naming a bad pattern).
    pub(crate) fn filter(&self) -> Result<Filter> {
        Filter::new(
            &self.include,
            &self.exclude,
            (self.min_size, self.max_size),
            (self.modified_after, self.modified_before),
        )
    }

    fn validate_numbers(&self) -> Result<()> {
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(Error::validate(format!(
                "part_size must be between {MIN_PART_SIZE} and {MAX_PART_SIZE} bytes, not {}",
                self.part_size
            )));
        }
        if !(1..=MAX_THREAD_NUM).contains(&self.thread_num) {
            return Err(Error::validate(format!(
                "thread_num must be between 1 and {MAX_THREAD_NUM}, not {}",
                self.thread_num
            )));
        }
        if !(1..=MAX_OBJECTS_IN_FLIGHT).contains(&self.max_objects_in_flight) {
            return Err(Error::validate(format!(
                "max_objects_in_flight must be between 1 and {MAX_OBJECTS_IN_FLIGHT}, not {}",
                self.max_objects_in_flight
            )));
        }
        if let (Some(lo), Some(hi)) = (self.min_size, self.max_size) {
            if lo > hi {
                return Err(Error::validate(format!(
                    "min_size ({lo}) is larger than max_size ({hi}): nothing could match"
                )));
            }
        }
        if let (Some(a), Some(b)) = (self.modified_after, self.modified_before) {
            if a > b {
                return Err(Error::validate(format!(
                    "modified_after ({a}) is later than modified_before ({b}): nothing could match"
                )));
            }
        }
        Ok(())
    }
}

fn check_key_text(what: &str, v: &str) -> Result<()> {
    if v.len() > MAX_KEY_BYTES || v.contains('\0') {
        return Err(Error::validate(format!(
            "the {what} {:?} must be at most {MAX_KEY_BYTES} bytes without NUL",
            v.chars().take(64).collect::<String>()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::BatchProgress;
    use std::sync::Arc;

    #[test]
    fn the_data_fields_round_trip_through_serde_and_the_callbacks_do_not() {
        let mut req = BatchRequest::for_keys("bkt", vec!["a".into(), "b/c".into()], "/tmp/d");
        req.include = vec!["*.gz".into()];
        req.min_size = Some(3);
        req.overwrite = Overwrite::Never;
        req.on_failure = OnFailure::Stop;
        req.progress = Some(Arc::new(|_p: &BatchProgress| {}));
        let json = serde_json::to_string(&req).unwrap();
        let back: BatchRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back.source, req.source);
        assert_eq!(back.include, req.include);
        assert_eq!(back.min_size, Some(3));
        assert_eq!(back.overwrite, Overwrite::Never);
        assert_eq!(back.on_failure, OnFailure::Stop);
        assert!(back.progress.is_none());
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let ok = BatchRequest::for_prefix("bkt", "p/", "/tmp/d");
        ok.validate().unwrap();
        type Edit = Box<dyn Fn(&mut BatchRequest)>;
        let bad: Vec<Edit> = vec![
            Box::new(|r| r.bucket = "B".into()),
            Box::new(|r| r.source = Source::Prefix("a\0b".into())),
            Box::new(|r| r.source = Source::Keys(vec![String::new()])),
            Box::new(|r| r.dest_dir = PathBuf::new()),
            Box::new(|r| r.part_size = MIN_PART_SIZE - 1),
            Box::new(|r| r.thread_num = 0),
            Box::new(|r| r.max_objects_in_flight = MAX_OBJECTS_IN_FLIGHT + 1),
            Box::new(|r| (r.min_size, r.max_size) = (Some(2), Some(1))),
            Box::new(|r| (r.modified_after, r.modified_before) = (Some(2), Some(1))),
            Box::new(|r| r.exclude = vec!["[".into()]),
        ];
        // Keys OSS cannot hold fail alone when the batch runs, not the request.
        let mut odd = ok.clone();
        odd.source = Source::Keys(vec!["a".into(), "k".repeat(1024), "n\0ul".into()]);
        odd.validate().unwrap();
        for (i, f) in bad.iter().enumerate() {
            let mut r = ok.clone();
            f(&mut r);
            assert_eq!(r.validate().unwrap_err().code, "ValidateError", "case {i}");
        }
    }
}
