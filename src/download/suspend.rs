//! Pausing a download (the asynchronous API's `pause`), as distinct from cancelling it: both stop
//! the parts the same way (a token of the download's `Cancel`), but a paused download keeps its
//! temp file even without a checkpoint directory, syncs it, and leaves the record of its finished
//! parts here, for a resume token (`resume_token`) to carry to the next run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use super::checkpoint::Record;

/// The pause switch of one download and what the pause left.
#[derive(Debug, Default)]
pub struct Suspend {
    token: CancellationToken,
    requested: AtomicBool,
    record: Mutex<Option<Record>>,
    resume_token: Mutex<Option<Vec<u8>>>,
}

impl Suspend {
    pub fn new() -> Suspend {
        Suspend::default()
    }

    /// Asks the download to pause: its parts stop as if cancelled. Idempotent, any thread.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.token.cancel();
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// The token the download's `Cancel` watches.
    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Called by the job once the temp file was synced: the parts finished so far.
    pub(super) fn keep(&self, record: Record) {
        *self.record.lock().unwrap_or_else(|e| e.into_inner()) = Some(record);
    }

    /// The record the pause left (`None` when it stopped the download before its temp file
    /// existed, or when it did not stop it).
    pub(super) fn take_record(&self) -> Option<Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    pub(super) fn set_token(&self, token: Vec<u8>) {
        *self.resume_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
    }

    /// The resume token of a paused download (once: `None` afterwards, or when the download
    /// was not paused).
    pub fn take_token(&self) -> Option<Vec<u8>> {
        self.resume_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Whether a token is waiting (`take_token` would return one).
    pub fn has_token(&self) -> bool {
        self.resume_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }
}
