//! The batch download (`Client::download_objects`): a prefix or a list of keys into a directory,
//! as one resumable, verified job with one journal, one memory budget and one report.
//!
//! - `request.rs`: the request (`BatchRequest`), its defaults and checks; the top of the
//!   request's own parts (the filters, the progress, the outcomes), which import none of it.
//! - `filter.rs`: include/exclude globs on the local path, size and time ranges.
//! - `key_path.rs`: key -> safe local path (never outside the destination), collisions, the
//!   directory-relative opening of each object's parent directory.
//! - `journal.rs`: the batch journal (which keys are done, with ETag, size, CRC64).
//! - `job.rs`: the job: listing (or HEADs) feeding the objects through the filters, the
//!   overwrite decision, small objects in one GET, large ones through the resumable downloader,
//!   durability once per group (`syncfs`, then the journal), failure policy, cancel and pause.
//! - `progress.rs`: the counters and the paced progress callback (`BatchProgressFn`).
//! - `report.rs`: each object's outcome (`ObjectDoneFn`) and the final report.

mod fetch;
mod filter;
mod job;
pub mod journal;
pub mod key_path;
pub mod known;
mod progress;
mod report;
mod request;
mod source;

pub use self::filter::{Filter, Glob};
pub use self::progress::{BatchProgress, BatchProgressFn};
pub use self::report::{
    BatchReport, ObjectDoneFn, ObjectOutcome, Outcome, SkipReason, FAILURES_KEPT,
};
pub use self::request::{
    BatchRequest, OnFailure, Overwrite, Source, DEFAULT_MAX_OBJECTS_IN_FLIGHT,
    MAX_OBJECTS_IN_FLIGHT,
};

use tokio_util::sync::CancellationToken;

use crate::cancel::Cancel;
use crate::client::Client;

impl Client {
    /// Downloads a prefix or a list of keys into a directory (see the module documentation).
    /// Never fails as a call: everything, a failure before the first object included, is in the
    /// report (`BatchReport::result` gives it as a `Result`).
    pub async fn download_objects(&self, req: &BatchRequest, cancel: &Cancel) -> BatchReport {
        run(self, req, cancel, &CancellationToken::new()).await
    }
}

/// The batch, stoppable as a pause by `pause` (objects in flight stop, their checkpoints kept;
/// the report's `stopped` is a `Cancelled` error with the message "paused"). For the
/// asynchronous transfer.
pub(crate) async fn run(
    client: &Client,
    req: &BatchRequest,
    cancel: &Cancel,
    pause: &CancellationToken,
) -> BatchReport {
    // Its requests added up when the client measures them (into the caller's summary too when
    // the call has one: a transfer's).
    let Some(_) = &client.config().request_metrics else {
        return job::run(client, req, cancel, pause).await;
    };
    let stats = crate::metrics::Summary::within(cancel.stats());
    let cancel = cancel.clone().with_stats(stats.clone());
    let mut report = job::run(client, req, &cancel, pause).await;
    report.requests = stats.snapshot();
    report
}

/// `run` for the tests (`test-hooks` feature): a batch stoppable as a pause.
#[cfg(feature = "test-hooks")]
pub async fn run_pausable(
    client: &Client,
    req: &BatchRequest,
    cancel: &Cancel,
    pause: &CancellationToken,
) -> BatchReport {
    run(client, req, cancel, pause).await
}
