//! The throughput target: instead of a thread count, the caller gives a rate to reach (or "as
//! fast as the link allows") and the downloader finds the parts in flight that deliver it.
//!
//! `Ramp` starts with [`START`] parts in flight and measures the download's rate over a window
//! after each change (a settling time first, so that the new parts' connections and first bytes
//! are not counted against them). While a step up raised the rate by at least [`GAIN`] (10%), it
//! steps up again (x2: a step costs 0.45 s, and a 1 GiB download at 25 MB/s per connection must
//! not spend its life ramping); when a step gave less, or the target rate was reached, or the memory
//! budget holds no more parts, it stops there for the rest of the download. It never steps
//! down: the parts it reached fit in the budget, and on a link whose total is capped one more
//! part than needed covers the gaps between one part's end and the next one's first byte.
//!
//! The controller is pure (it logs each step at Info level): it is told the time and the bytes
//! received so far, so its tests feed it a simulated link.

use std::time::Duration;

use crate::log::{self, Level};

/// Parts in flight before anything is measured.
pub const START: usize = 4;
/// Time after a change before its window starts: new connections, the first answers' latency.
pub const SETTLE: Duration = Duration::from_millis(150);
/// The window over which a level's rate is measured.
pub const WINDOW: Duration = Duration::from_millis(300);
/// The relative gain a step up must bring for the next one.
pub const GAIN: f64 = 0.10;

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Bytes per second.
    Rate(u64),
    /// As fast as the link allows.
    Max,
}

#[derive(Debug)]
pub struct Ramp {
    target: Target,
    level: usize,
    max: usize,
    /// The rate of the level before this one (`None` before the first measurement).
    previous: Option<f64>,
    /// When the current window starts, and the bytes received by then (`None`: not yet there).
    window: Window,
    done: bool,
}

#[derive(Debug, Clone, Copy)]
enum Window {
    /// Settling until this time.
    Settling(Duration),
    /// Measuring since this time, with these bytes received by then.
    Measuring(Duration, u64),
}

impl Ramp {
    /// A ramp starting at `now` with at most `max` parts in flight (`max >= 1`).
    pub fn new(target: Target, max: usize, now: Duration) -> Ramp {
        let max = max.max(1);
        Ramp {
            target,
            level: START.min(max),
            max,
            previous: None,
            window: Window::Settling(now + SETTLE),
            done: max <= START.min(max),
        }
    }

    /// Parts in flight wanted now.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Whether the ramp has stopped (the level is final).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Told the time and the bytes received so far (by every part); returns the level wanted.
    pub fn observe(&mut self, now: Duration, received: u64) -> usize {
        if self.done {
            return self.level;
        }
        match self.window {
            Window::Settling(until) => {
                if now >= until {
                    self.window = Window::Measuring(now, received);
                }
            }
            Window::Measuring(since, at) => {
                let span = now.saturating_sub(since);
                if span >= WINDOW {
                    let rate = received.saturating_sub(at) as f64 / span.as_secs_f64();
                    self.judge(rate, now);
                }
            }
        }
        self.level
    }

    fn judge(&mut self, rate: f64, now: Duration) {
        let from = self.level;
        self.step(rate, now);
        let (to, done) = (self.level, self.done);
        log::log(Level::Info, || {
            let next = if done { "staying at" } else { "trying" };
            format!(
                "throughput target: {:.1} MB/s with {from} parts in flight; {next} {to}",
                rate / 1e6
            )
        });
    }

    fn step(&mut self, rate: f64, now: Duration) {
        let reached = match self.target {
            Target::Rate(r) => rate >= r as f64,
            Target::Max => false,
        };
        let gained = self.previous.is_none_or(|p| rate >= p * (1.0 + GAIN));
        if reached || !gained || self.level >= self.max {
            self.done = true;
            return;
        }
        self.previous = Some(rate);
        self.level = (self.level * 2).min(self.max);
        self.window = Window::Settling(now + SETTLE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link where each part in flight gets `per_part` bytes/s, all together at most `total`.
    fn run(target: Target, max: usize, per_part: f64, total: f64) -> usize {
        let mut ramp = Ramp::new(target, max, Duration::ZERO);
        let mut received = 0.0;
        let step = Duration::from_millis(50);
        let mut now = Duration::ZERO;
        for _ in 0..2000 {
            now += step;
            received += (ramp.level() as f64 * per_part).min(total) * step.as_secs_f64();
            ramp.observe(now, received as u64);
            if ramp.is_done() {
                break;
            }
        }
        assert!(ramp.is_done(), "the ramp stops");
        ramp.level()
    }

    const MB: f64 = 1e6;

    #[test]
    fn stops_where_a_capped_link_is_full() {
        // 25 MB/s per connection, 100 MB/s in total: 4 parts fill it, 8 bring nothing.
        assert_eq!(run(Target::Max, 64, 25.0 * MB, 100.0 * MB), 8);
        // 10 MB/s per connection, 100 MB/s in total: 4 (40), 8 (80), 16 (100: +25%), 32
        // (nothing more).
        assert_eq!(run(Target::Max, 64, 10.0 * MB, 100.0 * MB), 32);
    }

    #[test]
    fn climbs_to_the_budget_on_an_uncapped_link() {
        assert_eq!(run(Target::Max, 23, 25.0 * MB, f64::INFINITY), 23);
    }

    #[test]
    fn stops_at_the_target_rate() {
        // 4 parts give 100 MB/s: a 60 MB/s target is met at once.
        assert_eq!(
            run(Target::Rate(60_000_000), 64, 25.0 * MB, f64::INFINITY),
            4
        );
        // 150 MB/s needs 6 parts of 25 MB/s: 8 is the first level at or above it.
        assert_eq!(
            run(Target::Rate(150_000_000), 64, 25.0 * MB, f64::INFINITY),
            8
        );
    }

    #[test]
    fn a_budget_of_fewer_parts_than_the_start_is_final() {
        let r = Ramp::new(Target::Max, 2, Duration::ZERO);
        assert_eq!(r.level(), 2);
        assert!(r.is_done());
    }

    #[test]
    fn settling_time_is_not_measured() {
        let mut r = Ramp::new(Target::Max, 64, Duration::ZERO);
        // Nothing arrives while settling; then 100 MB/s.
        assert_eq!(r.observe(SETTLE, 0), 4);
        assert_eq!(r.observe(SETTLE + WINDOW, 40_000_000), 8);
    }
}
