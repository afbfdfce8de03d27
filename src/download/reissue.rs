//! The part's side of a re-request (`straggler`): a part's bytes delivered so far, read by the
//! scheduler at its ticks, and the token of the part's current request, which the scheduler
//! cancels to re-request the rest.
//!
//! The part reads its bytes through one `BodyReader` under its download's cancel plus this
//! token. When the scheduler cancels the token, the reader's request is dropped (its connection
//! closed, its metrics record ending `Cancelled`) and the part goes on with a new reader for its
//! bytes from the first one not delivered, pinned to the same ETag like every request of the
//! download, under a new token. One writer, in order: every byte of the part still goes through
//! its `PartWriter` (and its CRC64), and nothing is written twice, so a dropped request can
//! never leave bytes behind and the checkpoint records the part only once it is complete. The
//! re-request replaces the slow request (never runs beside it), so it needs no memory beyond the
//! part's own slot of the budget, nor a connection beyond the part's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind};

/// One running part, as the scheduler sees it.
#[derive(Debug, Default)]
pub struct Track {
    delivered: AtomicU64,
    /// The token of the part's current request.
    token: Mutex<CancellationToken>,
}

impl Track {
    pub fn new() -> Arc<Track> {
        Arc::new(Track::default())
    }

    /// The part's bytes delivered to its writer so far.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    pub fn add(&self, n: u64) {
        self.delivered.fetch_add(n, Ordering::Relaxed);
    }

    /// `cancel` plus the token of the part's current request.
    pub fn cancel(&self, cancel: &Cancel) -> Cancel {
        cancel.clone().with(self.lock().clone())
    }

    /// Drops the part's current request: the part re-requests the rest (the scheduler's call).
    pub fn reissue(&self) {
        self.lock().cancel();
    }

    /// After the part's reader failed with `e`: the cancel of the re-request when `e` is this
    /// track's reissue (not the download's cancellation, nor a timeout).
    pub fn reissued(&self, cancel: &Cancel, e: &Error) -> Option<Cancel> {
        if e.kind != ErrorKind::Cancelled || cancel.is_cancelled() {
            return None;
        }
        let mut t = self.lock();
        if !t.is_cancelled() {
            return None;
        }
        *t = CancellationToken::new();
        Some(cancel.clone().with(t.clone()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CancellationToken> {
        self.token.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tracks_own_cancellation_is_a_reissue() {
        let t = Track::new();
        let download = CancellationToken::new();
        let cancel = Cancel::new().with(download.clone());
        let cancelled = Error::cancelled("the operation was cancelled");
        // Not reissued: a cancellation is the download's.
        assert!(t.reissued(&cancel, &cancelled).is_none());
        let first = t.cancel(&cancel);
        t.reissue();
        assert!(first.is_cancelled());
        // Another error is not a reissue either, even with the token cancelled.
        let other = Error::io_failure("disk");
        assert!(t.reissued(&cancel, &other).is_none());
        let next = t.reissued(&cancel, &cancelled).expect("a reissue");
        assert!(!next.is_cancelled());
        // Once per cancellation.
        assert!(t.reissued(&cancel, &cancelled).is_none());
        // The download's cancellation wins over a pending reissue.
        t.reissue();
        download.cancel();
        assert!(t.reissued(&cancel, &cancelled).is_none());
        assert!(next.is_cancelled());
    }
}
