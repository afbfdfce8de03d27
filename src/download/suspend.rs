//! Pausing a download (the asynchronous API's `pause`), as distinct from cancelling it: both stop
//! the parts the same way (a token of the download's `Cancel`), but a paused download keeps its
//! temp file even without a checkpoint directory, syncs it, and leaves the record of its finished
//! parts here, for a resume token (`resume_token`) to carry to the next run.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use super::checkpoint::Record;

const OPEN: u8 = 0;
const REQUESTED: u8 = 1;
const CLOSED: u8 = 2;

/// The pause switch of one download and what the pause left.
#[derive(Debug, Default)]
pub struct Suspend {
    token: CancellationToken,
    /// `OPEN`, then `REQUESTED` (a pause) or `CLOSED` (the download stopped otherwise first):
    /// decided once, so the job and the caller agree on whether a stop was a pause.
    state: AtomicU8,
    record: Mutex<Option<Record>>,
    /// The paused job could not keep its temp file (no record to keep): no earlier record
    /// describes the file any more.
    temp_gone: std::sync::atomic::AtomicBool,
    resume_token: Mutex<Option<crate::Result<Vec<u8>>>>,
}

impl Suspend {
    pub fn new() -> Suspend {
        Suspend::default()
    }

    /// Asks the download to pause: its parts stop as if cancelled. Idempotent, any thread. False
    /// once the download stopped otherwise (the request then has no effect).
    pub fn request(&self) -> bool {
        let ok = matches!(
            self.state
                .compare_exchange(OPEN, REQUESTED, Ordering::SeqCst, Ordering::SeqCst),
            Ok(_) | Err(REQUESTED)
        );
        if ok {
            self.token.cancel();
        }
        ok
    }

    /// Decides, once and for all, whether the download that is stopping now was paused: true if
    /// a pause was requested before; otherwise the switch closes (a later `request` does nothing),
    /// so the temp file may be removed without a token ever naming it.
    pub fn stop_is_pause(&self) -> bool {
        match self
            .state
            .compare_exchange(OPEN, CLOSED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => false,
            Err(s) => s == REQUESTED,
        }
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
    /// Called by a paused job that had no record to keep (its temp file was removed).
    pub(super) fn lost_temp(&self) {
        self.temp_gone.store(true, Ordering::SeqCst);
    }

    /// Whether an earlier record (a token's) may still describe the temp file.
    pub(super) fn temp_kept(&self) -> bool {
        !self.temp_gone.load(Ordering::SeqCst)
    }

    pub(super) fn take_record(&self) -> Option<Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// The token of the pause, or why none could be sealed (no resume token key).
    pub(super) fn set_token(&self, token: crate::Result<Vec<u8>>) {
        *self.resume_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
    }

    /// The resume token of a paused download, or why it could not be sealed (once: `None`
    /// afterwards, or when the download was not paused).
    pub fn take_token(&self) -> Option<crate::Result<Vec<u8>>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_a_pause_only_if_requested_before_and_the_decision_sticks() {
        let s = Suspend::new();
        assert!(s.request());
        assert!(s.token().is_cancelled());
        assert!(s.stop_is_pause());
        assert!(s.stop_is_pause());
        let s = Suspend::new();
        assert!(!s.stop_is_pause());
        // Too late: the download stopped otherwise (its temp file may be gone).
        assert!(!s.request());
        assert!(!s.token().is_cancelled());
        assert!(!s.stop_is_pause());
    }
}
