//! The receive-rate limiter: one token bucket per client shared by all its connections (the C++
//! SDK's `recvRateLimiter`, but as an aggregate), with a fixed rate or a rate asked of the
//! caller's source before every chunk.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// An aggregate receive limit shared by every request of a client (bytes per second).
#[derive(Clone)]
pub struct RateLimiter {
    bytes_per_sec: u64,
    /// When set, the limit is read from it on every acquire (0 = unlimited).
    source: Option<crate::config::RateSource>,
    /// The instant at which the bytes reserved so far are "paid for".
    next: Arc<std::sync::Mutex<Instant>>,
}

impl RateLimiter {
    pub fn new(bytes_per_sec: u64) -> Self {
        RateLimiter {
            bytes_per_sec: bytes_per_sec.max(1),
            source: None,
            next: Arc::new(std::sync::Mutex::new(Instant::now())),
        }
    }

    /// A limit read from `source` before every chunk (so it may change while bodies stream).
    pub fn with_source(source: crate::config::RateSource) -> Self {
        RateLimiter {
            bytes_per_sec: 0,
            source: Some(source),
            next: Arc::new(std::sync::Mutex::new(Instant::now())),
        }
    }

    /// Waits until `n` more bytes fit under the limit (allowing a 100 ms burst).
    pub async fn acquire(&self, n: u64) {
        if let Some(wait_until) = self.reserve(n) {
            if wait_until > Instant::now() {
                tokio::time::sleep_until(tokio::time::Instant::from_std(wait_until)).await;
            }
        }
    }

    /// Reserves `n` bytes: the instant until which they must wait (`None`: unlimited now).
    fn reserve(&self, n: u64) -> Option<Instant> {
        let bytes_per_sec = match &self.source {
            // Asked with no lock held: the source is the caller's code.
            Some(source) => (source.0)(),
            None => self.bytes_per_sec,
        };
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if bytes_per_sec == 0 {
            // Unlimited for now: nothing is owed when a limit is set again.
            *next = now;
            return None;
        }
        let burst = Duration::from_millis(100);
        if *next + burst < now {
            *next = now - burst;
        }
        *next += Duration::from_secs_f64(n as f64 / bytes_per_sec as f64);
        Some(*next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

    /// The source is asked on every reservation; a rate of 0 owes nothing (before or after), a
    /// rate owes `n / rate` seconds less the burst. Checked on the reserved instants, not on
    /// elapsed time, so that a loaded machine cannot change the verdict.
    #[test]
    fn a_rate_source_is_asked_on_every_acquire() {
        let rate = Arc::new(AtomicU64::new(0));
        let calls = Arc::new(AtomicU64::new(0));
        let (r, c) = (rate.clone(), calls.clone());
        let limiter = RateLimiter::with_source(crate::config::RateSource(Arc::new(move || {
            c.fetch_add(1, SeqCst);
            r.load(SeqCst)
        })));
        assert_eq!(limiter.reserve(100 << 20), None, "0: unlimited");
        rate.store(1 << 20, SeqCst); // 1 MiB/s from now on
        let before = Instant::now();
        let until = limiter.reserve(512 << 10).expect("limited");
        // Half a second for 512 KiB at 1 MiB/s, less at most the 100 ms burst; nothing of the
        // 100 MiB taken while unlimited is owed.
        assert!(
            until >= before + Duration::from_millis(400),
            "{:?}",
            until - before
        );
        assert!(
            until <= Instant::now() + Duration::from_millis(500),
            "{:?}",
            until - before
        );
        rate.store(0, SeqCst);
        assert_eq!(limiter.reserve(100 << 20), None);
        assert_eq!(calls.load(SeqCst), 3);
    }

    #[test]
    fn a_fixed_rate_accumulates() {
        let limiter = RateLimiter::new(1 << 20);
        let before = Instant::now();
        let first = limiter.reserve(1 << 20).unwrap();
        let second = limiter.reserve(1 << 20).unwrap();
        assert!(first >= before + Duration::from_millis(900));
        assert_eq!(second - first, Duration::from_secs(1));
    }
}
