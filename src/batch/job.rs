//! The batch's job (see `batch/mod.rs`).

use tokio_util::sync::CancellationToken;

use super::progress::Tracker;
use super::report::BatchReport;
use super::request::BatchRequest;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::Error;

pub(super) async fn run(
    _client: &Client,
    req: &BatchRequest,
    _cancel: &Cancel,
    _pause: &CancellationToken,
) -> BatchReport {
    let started = std::time::Instant::now();
    let tracker = Tracker::new(req.progress.clone());
    let stopped = match req.validate() {
        Err(e) => e,
        Ok(()) => Error::validate("the batch download is not implemented yet"),
    };
    BatchReport {
        progress: tracker.finish(),
        stopped: Some(stopped),
        elapsed: started.elapsed(),
        ..BatchReport::default()
    }
}
