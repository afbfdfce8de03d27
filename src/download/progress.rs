//! Progress reporting: aggregates the bytes received by all parts and paces the user's callback.
//!
//! Guarantees: calls never overlap (they are made under one mutex); `transferred` never decreases
//! and never exceeds `total`; the first call after a resume reports the bytes already on disk; the
//! last call of a successful download has `transferred == total` (a 0-byte download gets exactly
//! one call, `(0, 0, 0)`); `increment` is the difference with the previous call.
//!
//! Pacing: a call is made when at least 100 ms have passed since the previous one, or when at
//! least 1% of the total (and at least 1 MiB) arrived since it, plus the final call. So a
//! download makes at most ~10 calls per second plus ~100 calls overall.
//!
//! Thread: the callback runs on the download's runtime threads (a tokio worker thread of the
//! runtime that runs the download — the SDK's runtime when called through the C ABI), or on the
//! thread that awaits the download for the first and last calls. It must not block for long:
//! parts wait for it. A panic in the callback is caught and ignored.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::progress::ProgressFn;

const MIN_INTERVAL: Duration = Duration::from_millis(100);
const MIN_STEP: u64 = 1024 * 1024;

pub struct Progress {
    callback: Option<ProgressFn>,
    total: u64,
    step: u64,
    /// Bytes received by this call, callback or not (the throughput target's measure).
    received: AtomicU64,
    state: Mutex<State>,
}

struct State {
    transferred: u64,
    reported: u64,
    called: bool,
    last_call: Instant,
}

impl Progress {
    /// `already`: bytes on disk before this run (a resume).
    pub fn new(callback: Option<ProgressFn>, total: u64, already: u64) -> Progress {
        Progress {
            callback,
            total,
            step: (total / 100).max(MIN_STEP),
            received: AtomicU64::new(0),
            state: Mutex::new(State {
                transferred: already.min(total),
                // The bytes already on disk are reported by `start` with increment 0, so that a
                // caller can tell a resume (first call: increment 0, transferred > 0) and the
                // increments add up to the bytes transferred by this call.
                reported: already.min(total),
                called: false,
                last_call: Instant::now(),
            }),
        }
    }

    /// The first call of a resumed download: the bytes already on disk.
    pub fn start(&self) {
        let mut s = self.lock();
        if s.transferred > 0 {
            self.call(&mut s);
        }
    }

    /// Bytes received by this call so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// `n` more bytes arrived.
    pub fn add(&self, n: u64) {
        self.received.fetch_add(n, Ordering::Relaxed);
        if self.callback.is_none() {
            return;
        }
        let mut s = self.lock();
        s.transferred = (s.transferred + n).min(self.total);
        let pending = s.transferred - s.reported;
        if pending > 0 && (pending >= self.step || s.last_call.elapsed() >= MIN_INTERVAL) {
            self.call(&mut s);
        }
    }

    /// The final call of a successful download (`transferred == total`).
    pub fn finish(&self) {
        let mut s = self.lock();
        s.transferred = self.total;
        if !s.called || s.reported != self.total {
            self.call(&mut s);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn call(&self, s: &mut State) {
        let increment = s.transferred - s.reported;
        s.reported = s.transferred;
        s.called = true;
        s.last_call = Instant::now();
        if let Some(cb) = &self.callback {
            let (t, total) = (s.transferred, self.total);
            let _ =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(increment, t, total)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    type Calls = Arc<Mutex<Vec<(u64, u64, u64)>>>;

    fn recorder() -> (ProgressFn, Calls) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c = calls.clone();
        (
            Arc::new(move |i, t, tot| c.lock().unwrap().push((i, t, tot))),
            calls,
        )
    }

    #[test]
    fn zero_bytes_gets_one_call() {
        let (cb, calls) = recorder();
        let p = Progress::new(Some(cb), 0, 0);
        p.start();
        p.finish();
        assert_eq!(*calls.lock().unwrap(), vec![(0, 0, 0)]);
    }

    #[test]
    fn resume_reports_bytes_on_disk_first_and_total_last() {
        let (cb, calls) = recorder();
        let total = 100 << 20;
        let p = Progress::new(Some(cb), total, 10 << 20);
        p.start();
        for _ in 0..90 {
            p.add(1 << 20);
        }
        p.finish();
        let calls = calls.lock().unwrap();
        assert_eq!(calls[0], (0, 10 << 20, total));
        assert_eq!(calls.last().unwrap().1, total);
        assert_eq!(calls.iter().map(|c| c.0).sum::<u64>(), total - (10 << 20));
        assert!(calls.windows(2).all(|w| w[0].1 < w[1].1));
    }
}
