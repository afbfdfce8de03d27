//! The batch's progress: counters updated by every object task, and the pacing of the
//! callback (at most one call per 100 ms, plus one at the end; calls never overlap).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The least time between two progress calls.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// The batch's progress callback: at most one call per 100 ms, plus one at the end; calls never
/// overlap.
pub type BatchProgressFn = Arc<dyn Fn(&BatchProgress) + Send + Sync>;

/// A batch's counts at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchProgress {
    /// Objects the listing (or the key list) gave so far.
    pub objects_listed: u64,
    /// Objects downloaded (or, in a dry run, that would be).
    pub objects_done: u64,
    /// Objects skipped (unchanged, existing, filtered, directory markers).
    pub objects_skipped: u64,
    pub objects_failed: u64,
    /// Bytes received and written (of downloaded objects, resumed bytes of large objects
    /// included).
    pub bytes_done: u64,
    /// Bytes of every object that is to be downloaded, as far as the listing went.
    pub bytes_total: u64,
    /// Whether the listing (or HEADs of the key list) has finished.
    pub listing_done: bool,
    /// Bytes per second, over the last second or so.
    pub bytes_per_sec: u64,
}

/// The live counters of one batch.
pub(crate) struct Tracker {
    listed: AtomicU64,
    done: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    bytes_done: AtomicU64,
    bytes_total: AtomicU64,
    listing_done: AtomicBool,
    callback: Option<BatchProgressFn>,
    pacing: Mutex<Pacing>,
}

struct Pacing {
    started: Instant,
    last_call: Option<Instant>,
    /// (when, bytes_done) a second or so ago, for the rate.
    mark: (Instant, u64),
    rate: u64,
}

impl Tracker {
    pub fn new(callback: Option<BatchProgressFn>) -> Tracker {
        let now = Instant::now();
        Tracker {
            listed: AtomicU64::new(0),
            done: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            bytes_done: AtomicU64::new(0),
            bytes_total: AtomicU64::new(0),
            listing_done: AtomicBool::new(false),
            callback,
            pacing: Mutex::new(Pacing {
                started: now,
                last_call: None,
                mark: (now, 0),
                rate: 0,
            }),
        }
    }

    pub fn listed(&self, n: u64) {
        self.listed.fetch_add(n, Ordering::Relaxed);
        self.tick();
    }
    pub fn to_download(&self, bytes: u64) {
        self.bytes_total.fetch_add(bytes, Ordering::Relaxed);
    }
    pub fn listing_finished(&self) {
        self.listing_done.store(true, Ordering::Relaxed);
        self.tick();
    }
    pub fn bytes(&self, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
        self.tick();
    }
    pub fn done(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }
    pub fn skipped(&self) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }
    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.tick();
    }

    fn counts(&self, rate: u64) -> BatchProgress {
        BatchProgress {
            objects_listed: self.listed.load(Ordering::Relaxed),
            objects_done: self.done.load(Ordering::Relaxed),
            objects_skipped: self.skipped.load(Ordering::Relaxed),
            objects_failed: self.failed.load(Ordering::Relaxed),
            bytes_done: self.bytes_done.load(Ordering::Relaxed),
            bytes_total: self.bytes_total.load(Ordering::Relaxed),
            listing_done: self.listing_done.load(Ordering::Relaxed),
            bytes_per_sec: rate,
        }
    }

    /// Calls the callback when the last call is at least `PROGRESS_INTERVAL` old.
    pub fn tick(&self) {
        if self.callback.is_some() {
            self.emit(false);
        }
    }

    /// The last call (always made), with the rate over the whole batch; returns the final
    /// counts.
    pub fn finish(&self) -> BatchProgress {
        self.emit(true)
    }

    fn emit(&self, last: bool) -> BatchProgress {
        // Held while the callback runs: calls never overlap; a busy tick skips its call.
        let mut p = if last {
            self.pacing.lock().unwrap_or_else(|e| e.into_inner())
        } else {
            match self.pacing.try_lock() {
                Ok(p) => p,
                Err(_) => return BatchProgress::default(),
            }
        };
        let now = Instant::now();
        if !last && p.last_call.is_some_and(|t| now - t < PROGRESS_INTERVAL) {
            return BatchProgress::default();
        }
        let bytes = self.bytes_done.load(Ordering::Relaxed);
        let since = now - p.mark.0;
        if last {
            let secs = (now - p.started).as_secs_f64();
            p.rate = if secs > 0.0 {
                (bytes as f64 / secs) as u64
            } else {
                0
            };
        } else if since >= Duration::from_secs(1) || p.last_call.is_none() {
            let secs = since.as_secs_f64().max(1e-3);
            p.rate = (bytes.saturating_sub(p.mark.1) as f64 / secs) as u64;
            p.mark = (now, bytes);
        }
        p.last_call = Some(now);
        let counts = self.counts(p.rate);
        if let Some(cb) = &self.callback {
            // A panic in the caller's callback is not the batch's failure.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&counts)));
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_paced_and_the_last_one_is_always_made() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c = calls.clone();
        let t = Tracker::new(Some(Arc::new(move |p: &BatchProgress| {
            c.lock().unwrap().push(*p)
        })));
        for _ in 0..1000 {
            t.listed(1);
            t.done();
        }
        let last = t.finish();
        let calls = calls.lock().unwrap();
        assert!(calls.len() < 1000, "{} calls", calls.len());
        assert_eq!(*calls.last().unwrap(), last);
        assert_eq!(last.objects_listed, 1000);
        assert_eq!(last.objects_done, 1000);
    }
}
