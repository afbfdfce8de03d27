//! The throughput target: instead of a thread count, the caller gives a rate to reach (or "as
//! fast as the link allows") and the downloader finds the parts in flight that deliver it.
//!
//! `Ramp` is a pure controller: it is told the time and the bytes received so far (or, in its
//! tests, a window's measured rate) and answers the parts in flight wanted. It must reach a fast
//! link within a few round trips, since a download of a few hundred MiB lasts well under a
//! second there:
//!
//! - **Start** with as many parts as the target, the object and the memory budget allow: for a
//!   rate, the target over an assumed rate per connection ([`ASSUMED_PER_CONNECTION`], aws-c-s3's
//!   0.4 Gbit/s); for "max", [`MAX_START`]; never more parts than the object has or the budget
//!   holds.
//! - **Measure** over windows sized in round trips and bytes, not in fixed time: after a change
//!   the controller lets one round trip of the download's first request pass (the new parts'
//!   connections and first answers), then measures for [`WINDOW_ROUND_TRIPS`] of them and until
//!   each part in flight received [`WINDOW_BYTES_PER_PART`] on average (so that a window is not
//!   all latency), whichever is later (but never longer than [`WINDOW_LONGEST`]).
//! - **Grow** x2 while each step raises the rate by [`GAIN`] or more and the target is not met.
//!   A start already at the budget's (or the object's) bound of [`PROBE_DOWN_FROM`] parts or more
//!   has nothing to compare with: it tries half as many once, and shrinks if they hold the rate,
//!   but only when the bytes still to come take [`PROBE_DOWN_PAYS`] windows or more at the rate
//!   measured: on a shorter download the probe (a window at half the rate, then the climb back)
//!   costs a share of its time to save connections that are open already.
//! - **Shrink** when a step up brought nothing (a link whose total is capped): halve while the
//!   rate holds (within [`GAIN`] of the best seen), and keep one part more than the smallest
//!   level that held it, which is at most twice the connections needed to fill the link (the
//!   extra part covers the gap between one part's end and the next one's first byte).
//! - **Hold**, measuring over longer windows; when the rate falls by [`DROP`] (a link that
//!   degrades, another download on the client taking the budget), probe again from there.
//!
//! Each decision is logged at Info level.

use std::time::Duration;

use crate::log::{self, Level};

/// The assumed rate of one connection, to size the start for a rate target (0.4 Gbit/s).
pub const ASSUMED_PER_CONNECTION: u64 = 50_000_000;
/// The start of "as fast as the link allows" (less when the object or the budget holds fewer):
/// wide, since too many parts on a capped link cost a few short windows to shrink, and too few
/// on a fast one cost the whole download's rate until it grew.
pub const MAX_START: usize = 64;
/// The round trip assumed when none was measured.
pub const DEFAULT_ROUND_TRIP: Duration = Duration::from_millis(50);
/// Bounds of the measured round trip used to size the windows.
pub const ROUND_TRIP_MIN: Duration = Duration::from_millis(5);
pub const ROUND_TRIP_MAX: Duration = Duration::from_millis(500);
/// A window lasts at least this many round trips...
pub const WINDOW_ROUND_TRIPS: u32 = 3;
/// ... and until this many bytes per part in flight arrived...
pub const WINDOW_BYTES_PER_PART: u64 = 512 * 1024;
/// ... but never longer than this (a slow link).
pub const WINDOW_LONGEST: Duration = Duration::from_secs(2);
/// While holding, windows are this many times longer.
pub const HOLD_WINDOW_FACTOR: u32 = 4;
/// A start at the bound with at least this many parts tries half as many once.
pub const PROBE_DOWN_FROM: usize = 16;
/// A probe down from the bound is made only when the bytes still to come take at least this
/// many windows at the measured rate (256 MiB at 600 MB/s on a 20 ms link lasts 2-3 windows
/// after the first: probing there cost it a third of its rate; a capped 1 GiB lasts 60).
pub const PROBE_DOWN_PAYS: u32 = 16;
/// The relative gain a step up must bring for the next one; a step down may lose less.
pub const GAIN: f64 = 0.10;
/// The relative fall of a held rate that starts a new probe.
pub const DROP: f64 = 0.25;

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Bytes per second.
    Rate(u64),
    /// As fast as the link allows.
    Max,
}

/// What the controller is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Doubling while it pays.
    Growing,
    /// A step up brought nothing: halving while the rate holds; `held` is the smallest level
    /// seen holding it.
    Shrinking { held: usize },
    /// The probe down from the start lost: measuring the start's level again before holding
    /// there, since its first window may have counted bytes queued before it began (on a link
    /// capped at 100 MB/s the first window at 23 parts read 131 MB/s, and 11 parts' 95 MB/s
    /// then looked like a loss). `low` gave `low_rate`.
    Confirming { low: usize, low_rate: f64 },
    /// Settled at this level, which gave `rate`.
    Holding { rate: f64 },
}

#[derive(Debug, Clone, Copy)]
enum Window {
    /// Settling until this time.
    Settling(Duration),
    /// Measuring since this time, with these bytes received by then.
    Measuring(Duration, u64),
}

/// The parts in flight a download with this target starts with, before the object and the
/// budget bound them: the target over [`ASSUMED_PER_CONNECTION`] for a rate, [`MAX_START`] for
/// "max". The plan cuts a small object into at least this many parts (`plan::part_size_for`).
pub fn start_level(target: Target) -> usize {
    match target {
        Target::Rate(r) => usize::try_from(r.div_ceil(ASSUMED_PER_CONNECTION))
            .unwrap_or(usize::MAX)
            .max(1),
        Target::Max => MAX_START,
    }
}

#[derive(Debug)]
pub struct Ramp {
    target: Target,
    level: usize,
    max: usize,
    phase: Phase,
    /// The best rate measured while probing, and the level that gave it.
    best: Option<(usize, f64)>,
    round_trip: Duration,
    window: Window,
    /// The bytes the download has to fetch (`None`: not told, a probe down always pays) and
    /// those received by the last observation.
    total: Option<u64>,
    received: u64,
    /// The probe down from the start is under way (a loss is confirmed before holding).
    start_probe: bool,
}

impl Ramp {
    /// A ramp starting at `now` with at most `max` parts in flight (the memory budget's count
    /// and the object's parts; at least 1). `round_trip`: the time the download's first request
    /// took to answer, if measured.
    pub fn new(target: Target, max: usize, round_trip: Option<Duration>, now: Duration) -> Ramp {
        let max = max.max(1);
        let start = start_level(target);
        let round_trip = round_trip
            .unwrap_or(DEFAULT_ROUND_TRIP)
            .clamp(ROUND_TRIP_MIN, ROUND_TRIP_MAX);
        Ramp {
            target,
            level: start.min(max),
            max,
            phase: Phase::Growing,
            best: None,
            round_trip,
            window: Window::Settling(now + round_trip),
            total: None,
            received: 0,
            start_probe: false,
        }
    }

    /// The same ramp told the bytes the download has to fetch, so that it probes down from its
    /// bound only when that can pay ([`PROBE_DOWN_PAYS`]).
    pub fn with_total(mut self, bytes: u64) -> Ramp {
        self.total = Some(bytes);
        self
    }

    /// Parts in flight wanted now.
    pub fn level(&self) -> usize {
        self.level
    }

    /// What the controller is doing.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the level is settled (it may still change if the rate falls).
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Holding { .. })
    }

    /// The shortest window at this level.
    fn window_time(&self) -> Duration {
        let t = self.round_trip * WINDOW_ROUND_TRIPS;
        if self.is_done() {
            t * HOLD_WINDOW_FACTOR
        } else {
            t
        }
    }

    /// Told the time, the bytes received so far (by every part) and the parts running now;
    /// returns the level wanted. After a step down the parts started before keep running until
    /// they end: a window measured while more parts run than the level would credit the smaller
    /// level with the larger one's rate (on a capped link it shrank to one part that way, then
    /// found 25 MB/s), so a level is measured only once the parts running are no more than it.
    pub fn observe(&mut self, now: Duration, received: u64, running: usize) -> usize {
        self.received = received;
        if running > self.level {
            // Still draining: the window (re)starts when they are down to the level.
            self.window = Window::Settling(now);
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
                let bytes = received.saturating_sub(at);
                let mut enough = WINDOW_BYTES_PER_PART.saturating_mul(self.level as u64);
                if self.is_done() {
                    enough = enough.saturating_mul(HOLD_WINDOW_FACTOR as u64);
                }
                let longest = WINDOW_LONGEST.max(self.window_time());
                if span >= self.window_time() && (bytes >= enough || span >= longest) {
                    let rate = bytes as f64 / span.as_secs_f64();
                    let from = self.level;
                    self.judge(rate);
                    if self.level != from {
                        // New parts: their connections and first answers are not measured.
                        self.window = Window::Settling(now + self.round_trip);
                    } else {
                        self.window = Window::Measuring(now, received);
                    }
                }
            }
        }
        self.level
    }

    /// Given the rate measured over a window at the current level, decides the next level.
    pub fn judge(&mut self, rate: f64) -> usize {
        let from = self.level;
        let before = self.phase;
        self.step(rate);
        if self.level != from || self.phase != before {
            let (to, phase) = (self.level, self.phase);
            log::log(Level::Info, || {
                format!(
                    "throughput target: {:.1} MB/s with {from} parts in flight; {} {to}",
                    rate / 1e6,
                    match phase {
                        Phase::Growing => "trying",
                        Phase::Shrinking { .. } => "trying fewer:",
                        Phase::Confirming { .. } => "measuring again at",
                        Phase::Holding { .. } => "staying at",
                    }
                )
            });
        }
        self.level
    }

    fn reached(&self, rate: f64) -> bool {
        match self.target {
            Target::Rate(r) => rate >= r as f64,
            Target::Max => false,
        }
    }

    /// Whether what is left of the download lasts [`PROBE_DOWN_PAYS`] windows or more at
    /// `rate` (a window: its time, or its bytes at `rate` when they take longer).
    fn probe_pays(&self, rate: f64) -> bool {
        let Some(total) = self.total else {
            return true;
        };
        if rate <= 0.0 {
            return true;
        }
        let left = total.saturating_sub(self.received) as f64 / rate;
        let bytes = WINDOW_BYTES_PER_PART.saturating_mul(self.level as u64) as f64 / rate;
        let window = self.window_time().as_secs_f64().max(bytes);
        left >= window * f64::from(PROBE_DOWN_PAYS)
    }

    fn hold(&mut self, level: usize, rate: f64) {
        self.level = level.clamp(1, self.max);
        self.phase = Phase::Holding { rate };
    }

    fn step(&mut self, rate: f64) {
        let level = self.level;
        match self.phase {
            Phase::Growing => {
                if self.reached(rate) {
                    return self.hold(level, rate);
                }
                match self.best {
                    Some((best_level, best)) if rate < best * (1.0 + GAIN) => {
                        // The step up brought nothing: the link is full at `best_level` or
                        // fewer. Try fewer.
                        let best = best.max(rate);
                        self.best = Some((best_level, best));
                        if best_level <= 1 {
                            return self.hold(best_level + 1, best);
                        }
                        self.phase = Phase::Shrinking { held: best_level };
                        self.level = best_level / 2;
                    }
                    previous => {
                        self.best = Some((level, rate));
                        if level >= self.max {
                            if previous.is_none()
                                && level >= PROBE_DOWN_FROM
                                && self.probe_pays(rate)
                            {
                                // Started at the bound: would fewer do as well?
                                self.phase = Phase::Shrinking { held: level };
                                self.level = level / 2;
                                self.start_probe = true;
                                return;
                            }
                            return self.hold(level, rate);
                        }
                        self.level = level.saturating_mul(2).min(self.max);
                    }
                }
            }
            Phase::Shrinking { held } => self.shrink(rate, held),
            Phase::Confirming { low, low_rate } => self.confirm(rate, low, low_rate),
            Phase::Holding { rate: held } => {
                let below_target = match self.target {
                    Target::Rate(r) => rate < r as f64,
                    Target::Max => true,
                };
                if rate < held * (1.0 - DROP) && below_target {
                    // The link changed: probe again from here.
                    self.phase = Phase::Growing;
                    self.best = Some((level, rate));
                    if level < self.max {
                        self.level = level.saturating_mul(2).min(self.max);
                    } else {
                        self.phase = Phase::Shrinking { held: level };
                        self.level = (level / 2).max(1);
                    }
                }
            }
        }
    }

    /// Shrinking, `rate` measured at the current level (`held`: the smallest level seen holding
    /// the best rate): on down while the rate holds, else one part more than `held`.
    fn shrink(&mut self, rate: f64, held: usize) {
        let level = self.level;
        let best = self.best.map_or(rate, |(_, b)| b);
        if rate >= best * (1.0 - GAIN) {
            // Only the first step down from the start is confirmed.
            self.start_probe = false;
            if level <= 1 {
                return self.hold(1, rate);
            }
            self.phase = Phase::Shrinking { held: level };
            self.level = level / 2;
        } else if std::mem::take(&mut self.start_probe) {
            // The first step down from the start lost: measure the start again.
            self.phase = Phase::Confirming {
                low: level,
                low_rate: rate,
            };
            self.level = held;
        } else {
            // Too few: one part more than the smallest level that held the rate.
            self.hold((held + 1).min(held.saturating_mul(2)), best);
        }
    }

    /// The start measured again (`rate`) after `low` parts gave `low_rate`.
    fn confirm(&mut self, rate: f64, low: usize, low_rate: f64) {
        if low_rate >= rate * (1.0 - GAIN) {
            // The start's first window was inflated: the fewer held the rate after all.
            self.best = Some((self.level, rate));
            if low <= 1 {
                return self.hold(1, low_rate);
            }
            self.phase = Phase::Shrinking { held: low };
            self.level = low / 2;
        } else {
            self.hold(self.level, rate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1e6;

    /// A link: each part in flight gets `per_part` bytes/s, all together at most `cap`.
    #[derive(Clone, Copy)]
    struct Link {
        per_part: f64,
        cap: f64,
    }

    impl Link {
        fn rate(self, level: usize) -> f64 {
            (level as f64 * self.per_part).min(self.cap)
        }
        /// The fewest parts that fill it.
        fn needed(self) -> usize {
            (self.cap / self.per_part).ceil() as usize
        }
    }

    /// Feeds the ramp the link's rate (times `noise(i)`) until it holds; returns the levels it
    /// tried, the last one being where it stays.
    fn settle(ramp: &mut Ramp, link: Link, noise: &mut dyn FnMut() -> f64) -> Vec<usize> {
        let mut levels = vec![ramp.level()];
        for _ in 0..40 {
            ramp.judge(link.rate(ramp.level()) * noise());
            levels.push(ramp.level());
            if ramp.is_done() {
                return levels;
            }
        }
        panic!("the ramp never settles: {levels:?}");
    }

    fn exact() -> impl FnMut() -> f64 {
        || 1.0
    }

    /// Deterministic noise of at most +-`amplitude` (a linear congruential generator).
    fn noisy(seed: u64, amplitude: f64) -> impl FnMut() -> f64 {
        let mut s = seed
            .wrapping_mul(2862933555777941757)
            .wrapping_add(3037000493);
        move || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let unit = (s >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
            1.0 + amplitude * (2.0 * unit - 1.0)
        }
    }

    fn max_ramp(max: usize) -> Ramp {
        Ramp::new(
            Target::Max,
            max,
            Some(Duration::from_millis(20)),
            Duration::ZERO,
        )
    }

    #[test]
    fn an_uncapped_link_is_filled_up_to_the_budget_in_a_few_windows() {
        let link = Link {
            per_part: 25.0 * MB,
            cap: f64::INFINITY,
        };
        let mut r = max_ramp(200);
        assert_eq!(r.level(), MAX_START, "starts wide, not at 4");
        assert_eq!(settle(&mut r, link, &mut exact()), vec![64, 128, 200, 200]);
        // A budget that holds 23 parts: all of them at once; half as many once (nothing to
        // compare with), which give less: back to 23, measured again, staying.
        let mut r = max_ramp(23);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![23, 11, 23, 23]);
        // An object of 8 parts: all at once, and no probe down for so few.
        let mut r = max_ramp(8);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![8, 8]);
    }

    #[test]
    fn a_download_too_short_for_a_probe_down_stays_at_its_bound() {
        let link = Link {
            per_part: 25.0 * MB,
            cap: f64::INFINITY,
        };
        // 23 parts give 575 MB/s; a window on a 20 ms link is 60 ms (and 11.5 MB at that rate,
        // 20 ms): 16 windows are 0.96 s, 552 MB.
        let rate = link.rate(23);
        let start = |total: u64| max_ramp(23).with_total(total);
        // 256 MiB: 0.47 s at that rate, too short to pay for a probe: stays at 23.
        let mut r = start(256 << 20);
        r.observe(Duration::ZERO, 0, 23);
        assert_eq!(r.judge(rate), 23);
        assert!(r.is_done());
        // 1 GiB with 200 MiB received: 1.5 s left, the probe pays.
        let mut r = start(1 << 30);
        r.observe(Duration::ZERO, 200 << 20, 23);
        assert_eq!(r.judge(rate), 11);
        // A capped 100 MB/s link: 256 MiB lasts 2.7 s there, it probes down.
        let mut r = start(256 << 20);
        r.observe(Duration::ZERO, 0, 23);
        assert_eq!(r.judge(100.0 * MB), 11);
    }

    #[test]
    fn a_start_window_inflated_by_queued_bytes_does_not_hold_the_start_on_a_capped_link() {
        // Measured on the bench's capped link (100 MB/s in all, 25 per connection): the first
        // window at 23 parts read 131.4 MB/s, 11 parts 95.3, 23 again 98.3.
        let mut r = max_ramp(23);
        assert_eq!(r.judge(131.4 * MB), 11);
        assert_eq!(r.judge(95.3 * MB), 23, "measures the start again");
        assert_eq!(r.judge(98.3 * MB), 5, "11 held it: on down");
        assert_eq!(r.judge(98.0 * MB), 2);
        assert_eq!(r.judge(61.0 * MB), 6);
        assert!(r.is_done());
        // Where the start truly gave more, it stays there after the second look.
        let mut r = max_ramp(23);
        assert_eq!(r.judge(575.0 * MB), 11);
        assert_eq!(r.judge(275.0 * MB), 23);
        assert_eq!(r.judge(575.0 * MB), 23);
        assert!(r.is_done());
    }

    #[test]
    fn a_capped_link_keeps_at_most_twice_the_connections_that_fill_it() {
        for (per_part, cap) in [
            (25.0, 100.0),
            (10.0, 100.0),
            (25.0, 50.0),
            (50.0, 60.0),
            (1.0, 100.0),
        ] {
            let link = Link {
                per_part: per_part * MB,
                cap: cap * MB,
            };
            let mut r = max_ramp(200);
            let levels = settle(&mut r, link, &mut exact());
            let (level, needed) = (r.level(), link.needed());
            assert!(
                level >= needed && level <= 2 * needed,
                "{per_part}/{cap} MB/s: {levels:?}, {needed} needed"
            );
        }
        // 25 MB/s per part, 100 in all: 64 and 128 give the same; 32 down to 4 hold it, 2 does
        // not: one more than 4.
        let link = Link {
            per_part: 25.0 * MB,
            cap: 100.0 * MB,
        };
        let mut r = max_ramp(200);
        assert_eq!(
            settle(&mut r, link, &mut exact()),
            vec![64, 128, 32, 16, 8, 4, 2, 5]
        );
        // Started at the budget's bound: probed down the same way.
        let mut r = max_ramp(64);
        assert_eq!(
            settle(&mut r, link, &mut exact()),
            vec![64, 32, 16, 8, 4, 2, 5]
        );
    }

    #[test]
    fn a_target_rate_starts_at_its_assumed_connections_and_stops_once_met() {
        let link = Link {
            per_part: 25.0 * MB,
            cap: f64::INFINITY,
        };
        // 150 MB/s: 3 connections of an assumed 50 MB/s; 3 give 75, 6 give 150.
        let mut r = Ramp::new(Target::Rate(150_000_000), 64, None, Duration::ZERO);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![3, 6, 6]);
        // A target met at once stays where it started.
        let mut r = Ramp::new(Target::Rate(20_000_000), 64, None, Duration::ZERO);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![1, 1]);
        let mut r = Ramp::new(Target::Rate(40_000_000), 64, None, Duration::ZERO);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![1, 2, 2]);
        // 1 Gbit/s on a link of 25 MB/s per connection: 3 give 75, 6 give 150.
        let mut r = Ramp::new(Target::Rate(125_000_000), 64, None, Duration::ZERO);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![3, 6, 6]);
        // A target the link cannot give is "max": 16 parts of 25 MB/s (400) then the budget.
        let mut r = Ramp::new(Target::Rate(800_000_000), 20, None, Duration::ZERO);
        assert_eq!(settle(&mut r, link, &mut exact()), vec![16, 20, 20]);
    }

    #[test]
    fn the_budget_and_the_object_bound_every_level() {
        let link = Link {
            per_part: 25.0 * MB,
            cap: f64::INFINITY,
        };
        for max in [1, 2, 3, 7] {
            let mut r = max_ramp(max);
            let levels = settle(&mut r, link, &mut exact());
            assert!(levels.iter().all(|&l| l <= max), "{max}: {levels:?}");
            assert_eq!(r.level(), max);
            let mut r = Ramp::new(Target::Rate(10_000_000_000), max, None, Duration::ZERO);
            assert_eq!(r.level(), max);
            settle(&mut r, link, &mut exact());
            assert_eq!(r.level(), max);
        }
        let mut r = Ramp::new(Target::Max, 0, None, Duration::ZERO);
        assert_eq!(r.level(), 1, "at least one part");
        settle(&mut r, link, &mut exact());
        assert_eq!(r.level(), 1);
    }

    #[test]
    fn noise_below_half_the_gain_does_not_change_the_decisions() {
        for seed in 0..200 {
            let uncapped = Link {
                per_part: 25.0 * MB,
                cap: f64::INFINITY,
            };
            let mut r = max_ramp(23);
            let levels = settle(&mut r, uncapped, &mut noisy(seed, 0.04));
            assert_eq!(r.level(), 23, "seed {seed}: {levels:?}");
            for cap in [100.0, 300.0] {
                let capped = Link {
                    per_part: 25.0 * MB,
                    cap: cap * MB,
                };
                let mut r = max_ramp(200);
                let levels = settle(&mut r, capped, &mut noisy(seed, 0.04));
                let (level, needed) = (r.level(), capped.needed());
                assert!(
                    level >= needed / 2 && level <= 2 * needed,
                    "seed {seed}, cap {cap}: {levels:?}, {needed} needed"
                );
            }
            // Holding, the same noise does not start a new probe.
            let mut noise = noisy(seed, 0.04);
            for _ in 0..20 {
                r.judge(uncapped.rate(r.level()) * noise());
                assert!(r.is_done(), "seed {seed}");
            }
        }
    }

    #[test]
    fn a_link_that_degrades_is_probed_again() {
        // Uncapped at first: the budget's 23 parts.
        let mut r = max_ramp(23);
        let fast = Link {
            per_part: 25.0 * MB,
            cap: f64::INFINITY,
        };
        settle(&mut r, fast, &mut exact());
        assert_eq!(r.level(), 23);
        // Then capped at 50 MB/s: 23 parts only fill the server's queues; fewer do it.
        let capped = Link {
            per_part: 25.0 * MB,
            cap: 50.0 * MB,
        };
        r.judge(capped.rate(r.level()));
        assert!(!r.is_done(), "a fall starts a new probe");
        settle(&mut r, capped, &mut exact());
        assert!(r.level() >= 2 && r.level() <= 4, "{}", r.level());
        // Then each connection slows to 5 MB/s under a 100 MB/s cap: more parts, again.
        let slow = Link {
            per_part: 5.0 * MB,
            cap: 100.0 * MB,
        };
        let mut r = max_ramp(64);
        settle(
            &mut r,
            Link {
                per_part: 25.0 * MB,
                cap: 100.0 * MB,
            },
            &mut exact(),
        );
        assert_eq!(r.level(), 5);
        r.judge(slow.rate(r.level()));
        settle(&mut r, slow, &mut exact());
        assert!(r.level() >= 20 && r.level() <= 40, "{}", r.level());
    }

    #[test]
    fn windows_last_round_trips_and_bytes_and_settling_is_not_measured() {
        let rtt = Duration::from_millis(20);
        let ms = Duration::from_millis;
        let mut r = Ramp::new(Target::Max, 1000, Some(rtt), Duration::ZERO);
        assert_eq!(r.level(), 64);
        // Nothing is measured during the first round trip (the new parts' connections).
        assert_eq!(r.observe(ms(10), 0, 0), 64);
        assert_eq!(r.observe(rtt, 0, 0), 64);
        // Enough bytes (64 x 512 KiB = 33.5 MB) but two round trips only: not yet.
        assert_eq!(
            r.observe(rtt + ms(40), 40_000_000, 0),
            64,
            "two round trips are not enough"
        );
        // Three round trips: 1000 MB/s at 64.
        assert_eq!(r.observe(rtt + ms(60), 60_000_000, 0), 128);
        // Settling again for a round trip; then too few bytes in 3 round trips (a slow start):
        // the window waits for 128 x 512 KiB = 67 MB.
        let t = rtt + ms(60);
        assert_eq!(r.observe(t + rtt, 60_000_000, 0), 128);
        assert_eq!(r.observe(t + rtt + ms(60), 60_000_000 + 30_000_000, 0), 128);
        assert_eq!(r.phase(), Phase::Growing);
        // 150 MB in 100 ms: 1500 MB/s at 128 against 1000 at 64: up again.
        assert_eq!(
            r.observe(t + rtt + ms(100), 60_000_000 + 150_000_000, 0),
            256
        );
        // A window that never gets its bytes ends after WINDOW_LONGEST.
        let t = t + rtt + ms(100);
        r.observe(t + rtt, 210_000_000, 0);
        assert_eq!(
            r.observe(t + rtt + WINDOW_LONGEST, 210_000_001, 0),
            64,
            "256 gave nothing: fewer"
        );
    }

    #[test]
    fn a_smaller_level_is_judged_only_once_the_older_parts_drained() {
        let rtt = Duration::from_millis(20);
        let ms = Duration::from_millis;
        // A start at 23 (the budget's bound): it tries half as many.
        let mut r = Ramp::new(Target::Max, 23, Some(rtt), Duration::ZERO);
        assert_eq!(r.observe(rtt, 0, 23), 23);
        assert_eq!(
            r.observe(rtt + ms(130), 13_000_000, 23),
            11,
            "100 MB/s at 23: try 11"
        );
        // The 23 parts started before run on (a capped link: each ends after ~2 s): while
        // more than 11 run, the link's whole rate is theirs, not 11 parts'. Nothing is judged.
        let mut t = rtt + ms(130);
        let mut bytes = 13_000_000u64;
        for running in (12..=23).rev() {
            t += ms(200);
            bytes += 20_000_000; // 100 MB/s
            assert_eq!(r.observe(t, bytes, running), 11, "{running} running");
        }
        assert_eq!(r.phase(), Phase::Shrinking { held: 23 });
        // Down to 11: measured from now on; 11 parts at 100 MB/s hold the rate.
        r.observe(t + ms(1), bytes, 11);
        let later = t + ms(1) + WINDOW_LONGEST;
        let level = r.observe(later, bytes + 200_000_000, 11);
        assert_eq!(level, 5, "11 held the rate: try fewer");
    }
}
