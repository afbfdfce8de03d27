//! Slow connections do not set the pace: a part whose request has fallen far behind the
//! download's other parts is re-requested, for the bytes it has not delivered yet, on a new
//! connection (`reissue`).
//!
//! `Stragglers` is a pure controller, like `ramp::Ramp`: it is told when parts start and end,
//! and, at each tick, the time and the bytes each running part delivered so far; it answers the
//! parts to re-request. No clock is read here, so its tests feed it rates.
//!
//! - **The typical rate** is the median of the rates of the last [`SAMPLES`] requests that
//!   finished a part (bytes over the time from the request's start to the part's end, first
//!   byte included); none before [`MIN_SAMPLES`] finished.
//! - **A straggler** is a part whose current request, after [`AGE_FACTOR`] times what its bytes
//!   take at the typical rate (and at least [`MIN_AGE_ROUND_TRIPS`] round trips and
//!   [`MIN_AGE`]), has delivered at less than 1/[`SLOW_FACTOR`] of the typical rate. A part that
//!   is merely unlucky (twice as slow as its peers) is left alone; one at 1/20 (a slow path, a
//!   congested connection) is re-requested once it has run as long as the whole part should
//!   have taken.
//! - **Bounds**: one request per part at a time (the re-request replaces the slow one, and is
//!   judged afresh from its own start), at most [`limit`] re-requests per download.
//!
//! A request that stopped after its first bytes is a straggler by the same rule. One that
//! delivered nothing yet (connecting, waiting for its first byte, waiting before a retry) is not
//! judged: that is the client's timeouts' and retry policy's business (a re-request must not cut
//! a retry's back-off short), and so is a part with no peers to compare with (the idle timeout,
//! `request_timeout`, resumes a stalled body the same way).

use std::collections::HashMap;
use std::time::Duration;

/// A request slower than the typical rate divided by this is a straggler...
pub const SLOW_FACTOR: f64 = 4.0;
/// ... once it ran this many times what its bytes take at the typical rate (by then a part at
/// the typical rate would be done)...
pub const AGE_FACTOR: f64 = 1.0;
/// ... and at least this many round trips (a new connection's set-up and first byte).
pub const MIN_AGE_ROUND_TRIPS: u32 = 4;
/// ... and at least this long: a re-request costs a connection's set-up, and on a fast link a
/// few milliseconds of a busy CPU must not look like a slow connection.
pub const MIN_AGE: Duration = Duration::from_millis(250);
/// The typical rate is the median of this many last finished requests...
pub const SAMPLES: usize = 32;
/// ... and is not known before this many finished.
pub const MIN_SAMPLES: usize = 3;
/// Re-requests per download: at least this many...
pub const MIN_LIMIT: usize = 8;

/// Re-requests allowed in a download of `parts` parts: a quarter of its parts, at least
/// [`MIN_LIMIT`].
pub fn limit(parts: usize) -> usize {
    (parts / 4).max(MIN_LIMIT)
}

/// Why a part is re-requested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The part (its index).
    pub part: u32,
    /// The rate of its current request, bytes per second.
    pub rate: f64,
    /// The typical rate it was compared with.
    pub typical: f64,
}

#[derive(Debug, Clone, Copy)]
struct Running {
    /// When its current request started, and the part's bytes delivered by then.
    since: Duration,
    base: u64,
    /// The part's size.
    size: u64,
}

/// The controller of one download (see the module documentation).
#[derive(Debug)]
pub struct Stragglers {
    running: HashMap<u32, Running>,
    /// Rates of the last finished requests, oldest first.
    samples: Vec<f64>,
    round_trip: Duration,
    limit: usize,
    reissued: usize,
}

impl Stragglers {
    /// A controller for a download of `parts` parts whose first request took `round_trip`.
    pub fn new(parts: usize, round_trip: Duration) -> Stragglers {
        Stragglers {
            running: HashMap::new(),
            samples: Vec::new(),
            round_trip,
            limit: limit(parts),
            reissued: 0,
        }
    }

    /// Re-requests decided so far.
    pub fn reissued(&self) -> usize {
        self.reissued
    }

    /// Part `part` of `size` bytes started at `now`, `delivered` of its bytes already there.
    pub fn started(&mut self, part: u32, size: u64, delivered: u64, now: Duration) {
        self.running.insert(
            part,
            Running {
                since: now,
                base: delivered,
                size,
            },
        );
    }

    /// Part `part` finished at `now`: its last request's rate becomes a sample.
    pub fn finished(&mut self, part: u32, now: Duration) {
        let Some(r) = self.running.remove(&part) else {
            return;
        };
        let bytes = r.size.saturating_sub(r.base);
        let took = now.saturating_sub(r.since).as_secs_f64();
        if bytes > 0 && took > 0.0 {
            if self.samples.len() == SAMPLES {
                self.samples.remove(0);
            }
            self.samples.push(bytes as f64 / took);
        }
    }

    /// The typical rate of a request (the median of the samples), once known.
    pub fn typical(&self) -> Option<f64> {
        if self.samples.len() < MIN_SAMPLES {
            return None;
        }
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        Some(s[s.len() / 2])
    }

    /// Told the bytes each running part delivered so far at `now` (`(part, delivered)`);
    /// returns the parts to re-request, within the download's limit. A part returned is
    /// judged from `now` on (its re-request's start).
    pub fn observe(&mut self, now: Duration, delivered: &[(u32, u64)]) -> Vec<Decision> {
        let mut out = Vec::new();
        let Some(typical) = self.typical() else {
            return out;
        };
        let min_age = (self.round_trip * MIN_AGE_ROUND_TRIPS).max(MIN_AGE);
        for &(part, done) in delivered {
            if self.reissued >= self.limit {
                break;
            }
            let Some(r) = self.running.get_mut(&part) else {
                continue;
            };
            if done >= r.size || done <= r.base {
                continue; // every byte is there (it is finishing), or none came yet (see above)
            }
            let age = now.saturating_sub(r.since);
            let expected = Duration::from_secs_f64(r.size.saturating_sub(r.base) as f64 / typical);
            if age < min_age || age.as_secs_f64() < AGE_FACTOR * expected.as_secs_f64() {
                continue;
            }
            let rate = done.saturating_sub(r.base) as f64 / age.as_secs_f64();
            if rate * SLOW_FACTOR >= typical {
                continue;
            }
            r.since = now;
            r.base = done;
            self.reissued += 1;
            out.push(Decision {
                part,
                rate,
                typical,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;
    const RTT: Duration = Duration::from_millis(40);

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    /// Parts 0..n of `size` started at 0 and finished at `took`: the typical rate is size/took.
    fn with_typical(n: u32, size: u64, took: f64) -> Stragglers {
        let mut c = Stragglers::new(100, RTT);
        for p in 0..n {
            c.started(p, size, 0, Duration::ZERO);
            c.finished(p, s(took));
        }
        c
    }

    #[test]
    fn nothing_is_judged_before_enough_parts_finished() {
        let mut c = with_typical(MIN_SAMPLES as u32 - 1, 8 * MB, 0.32);
        c.started(10, 8 * MB, 0, Duration::ZERO);
        // Stalled for ten seconds, but no typical rate to compare with: left to the idle timeout.
        assert!(c.observe(s(10.0), &[(10, 0)]).is_empty());
        assert_eq!(c.typical(), None);
    }

    #[test]
    fn a_part_at_a_twentieth_of_its_peers_is_reissued_once_it_ran_as_long_as_a_part_takes() {
        // Peers: 8 MB in 0.32 s (25 MB/s).
        let mut c = with_typical(8, 8 * MB, 0.32);
        assert_eq!(c.typical(), Some(25.0 * MB as f64));
        c.started(20, 8 * MB, 0, s(1.0));
        // At 1.25 MB/s (1/20): not before the expected 0.32 s.
        assert!(c.observe(s(1.3), &[(20, 375_000)]).is_empty());
        let d = c.observe(s(1.34), &[(20, 425_000)]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].part, 20);
        assert!((d[0].rate - 1.25 * MB as f64).abs() < 1.0);
        assert_eq!(c.reissued(), 1);
        // Judged afresh from its re-request: its remaining 7.575 MB at 25 MB/s take 0.303 s.
        assert!(c.observe(s(1.6), &[(20, 425_000)]).is_empty());
        // The re-request is fast: never reissued again; its rate becomes a sample.
        assert!(c.observe(s(1.65), &[(20, 6 * MB)]).is_empty());
        c.finished(20, s(1.7));
        assert_eq!(c.reissued(), 1);
    }

    #[test]
    fn a_part_half_as_fast_as_its_peers_is_left_alone() {
        let mut c = with_typical(8, 8 * MB, 0.32);
        c.started(20, 8 * MB, 0, Duration::ZERO);
        for t in 1..=10 {
            let now = s(0.1 * t as f64);
            let done = (12.5 * MB as f64 * now.as_secs_f64()) as u64;
            assert!(c.observe(now, &[(20, done.min(8 * MB - 1))]).is_empty());
        }
    }

    #[test]
    fn a_part_that_stopped_is_reissued_and_its_reissue_judged_again() {
        let mut c = with_typical(4, MB, 0.04); // 25 MB/s
        c.started(9, MB, 0, Duration::ZERO);
        // Nothing delivered yet (connecting, or waiting before a retry): never judged.
        assert!(c.observe(s(5.0), &[(9, 0)]).is_empty());
        c.started(9, MB, 0, Duration::ZERO);
        // Stopped after 10 KB. The least age (250 ms) beats the expected 40 ms and 4 round
        // trips (160 ms).
        assert!(c.observe(s(0.24), &[(9, 10_000)]).is_empty());
        assert_eq!(c.observe(s(0.25), &[(9, 10_000)]).len(), 1);
        // The re-request stops too (after 100 KB more): reissued again from its start.
        assert!(c.observe(s(0.45), &[(9, 110_000)]).is_empty());
        let d = c.observe(s(0.5), &[(9, 110_000)]);
        assert_eq!(d.len(), 1);
        assert!(d[0].rate * SLOW_FACTOR < d[0].typical);
        // With a slow round trip, four of them are the least age.
        let mut c = Stragglers::new(100, Duration::from_millis(200));
        for p in 0..4 {
            c.started(p, MB, 0, Duration::ZERO);
            c.finished(p, s(0.04));
        }
        c.started(9, MB, 0, Duration::ZERO);
        assert!(c.observe(s(0.79), &[(9, 10_000)]).is_empty());
        assert_eq!(c.observe(s(0.8), &[(9, 10_000)]).len(), 1);
    }

    #[test]
    fn reissues_stop_at_the_download_limit() {
        let mut c = Stragglers::new(8, RTT);
        for p in 0..4 {
            c.started(p, MB, 0, Duration::ZERO);
            c.finished(p, s(0.04));
        }
        let parts: Vec<(u32, u64)> = (100..120).map(|p| (p, 1)).collect();
        for &(p, _) in &parts {
            c.started(p, MB, 0, Duration::ZERO);
        }
        assert_eq!(c.observe(s(1.0), &parts).len(), MIN_LIMIT);
        assert!(c.observe(s(5.0), &parts).is_empty());
        assert_eq!(limit(1000), 250);
    }

    #[test]
    fn the_typical_rate_follows_the_median_of_recent_parts() {
        let mut c = Stragglers::new(100, RTT);
        // A few slow requests among fast ones do not drag the median down.
        for p in 0..10u32 {
            let took = if p % 5 == 0 { 6.4 } else { 0.32 };
            c.started(p, 8 * MB, 0, Duration::ZERO);
            c.finished(p, s(took));
        }
        assert_eq!(c.typical(), Some(25.0 * MB as f64));
        // The link slows down for good: the samples follow it.
        for p in 10..10 + SAMPLES as u32 {
            c.started(p, 8 * MB, 0, Duration::ZERO);
            c.finished(p, s(0.8));
        }
        assert_eq!(c.typical(), Some(10.0 * MB as f64));
        // A finished part unknown to the controller, or one with no bytes left, is no sample.
        c.finished(999, s(1.0));
        c.started(500, MB, MB, Duration::ZERO);
        c.finished(500, s(1.0));
        assert_eq!(c.typical(), Some(10.0 * MB as f64));
    }
}
