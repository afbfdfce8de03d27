//! Network shaping: added latency (per request and per connection set-up), optional
//! seeded jitter, and bandwidth caps per connection and for the whole server.
//!
//! JSON (admin endpoint `/__admin/shaping`, [`Shaping`]):
//! `{"latency_ms":20,"connect_latency_ms":40,"jitter_ms":5,"conn_bytes_per_sec":26214400,
//!   "total_bytes_per_sec":104857600,"seed":7}` — every field optional.
//!
//! The caps are token buckets ([`TokenBucket`]) in the "virtual scheduling" form: every
//! chunk of a body reserves its bytes before it is handed to the connection and waits
//! until the bucket allows it, so bytes handed out by time `t` never exceed
//! `burst + rate * t`. Reservations queue in the order they are made, so connections
//! sharing the total bucket get turns of one (small) chunk each: a fair share.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The shaping configuration. `Default` = no shaping (every field off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shaping {
    /// Added before the answer (status line and headers) of every request: time to first
    /// byte, milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Added once per connection, before the answer to its first request (connection
    /// set-up: TCP and TLS handshakes), milliseconds. Adds to `latency_ms`.
    #[serde(default)]
    pub connect_latency_ms: u64,
    /// Each request's wait gets an extra uniformly random 0..=`jitter_ms` milliseconds
    /// (drawn with microsecond resolution from a generator seeded with `seed`).
    #[serde(default)]
    pub jitter_ms: u64,
    /// Cap of each connection's GET body bytes, bytes per second (absent = none).
    #[serde(default)]
    pub conn_bytes_per_sec: Option<u64>,
    /// Cap of all GET body bytes of the server together, bytes per second (absent = none);
    /// shared between the connections sending at the same time.
    #[serde(default)]
    pub total_bytes_per_sec: Option<u64>,
    /// Seed of the jitter generator; when absent the emulator's `seed` (`--seed`) is used.
    /// The generator is re-seeded every time shaping is set.
    #[serde(default)]
    pub seed: Option<u64>,
}

impl Shaping {
    pub fn none() -> Shaping {
        Shaping::default()
    }
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }
    pub fn connect_latency_ms(mut self, ms: u64) -> Self {
        self.connect_latency_ms = ms;
        self
    }
    pub fn jitter_ms(mut self, ms: u64) -> Self {
        self.jitter_ms = ms;
        self
    }
    pub fn conn_bytes_per_sec(mut self, r: u64) -> Self {
        self.conn_bytes_per_sec = Some(r);
        self
    }
    pub fn total_bytes_per_sec(mut self, r: u64) -> Self {
        self.total_bytes_per_sec = Some(r);
        self
    }
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }

    /// Whether anything is shaped at all.
    pub fn is_active(&self) -> bool {
        self.latency_ms > 0
            || self.connect_latency_ms > 0
            || self.jitter_ms > 0
            || self.conn_bytes_per_sec.is_some()
            || self.total_bytes_per_sec.is_some()
    }

    /// Refuses a cap of 0 (it would never send) and waits beyond an hour (a typo).
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("conn_bytes_per_sec", self.conn_bytes_per_sec),
            ("total_bytes_per_sec", self.total_bytes_per_sec),
        ] {
            if v == Some(0) {
                return Err(format!("{name} must be > 0 (leave it out for no cap)"));
            }
        }
        for (name, v) in [
            ("latency_ms", self.latency_ms),
            ("connect_latency_ms", self.connect_latency_ms),
            ("jitter_ms", self.jitter_ms),
        ] {
            if v > MAX_WAIT_MS {
                return Err(format!("{name} must be <= {MAX_WAIT_MS}"));
            }
        }
        Ok(())
    }
}

const MAX_WAIT_MS: u64 = 3_600_000;

/// Parses a rate for the command line: bytes per second, with an optional suffix
/// `K`/`M`/`G` (or `KiB`/`MiB`/`GiB`: powers of 1024) or `KB`/`MB`/`GB` (powers of 1000),
/// and an optional `/s`. `25M`, `25MiB/s` = 26214400; `25MB/s` = 25000000.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix("/s").unwrap_or(t).trim_end();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => {
            return Err(format!(
                "bad rate {s:?} (bytes/s, e.g. 1048576, 25M, 25MB/s)"
            ))
        }
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("bad rate {s:?} (bytes/s, e.g. 1048576, 25M, 25MB/s)"))?;
    match n.checked_mul(mult) {
        Some(0) => Err(format!("rate {s:?} must be > 0")),
        Some(r) => Ok(r),
        None => Err(format!("rate {s:?} is too large")),
    }
}

/// How many bytes a shaped body hands out at once for a cap of `rate` bytes/s: about 20
/// chunks a second (at least 1 KiB, at most `max`). Also the bucket's burst.
pub fn chunk_for_rate(rate: u64, max: usize) -> usize {
    ((rate / 20).max(1024) as usize).min(max)
}

/// A token bucket of `rate` bytes per second holding at most `burst` bytes, in the
/// virtual-scheduling form (GCRA): `tat` is the time at which everything reserved so far
/// is paid for. The clock is passed in, so the arithmetic is testable without sleeping.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: u64,
    /// Burst allowance as time: `burst / rate`.
    tau: Duration,
    tat: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate: u64, burst: u64, now: Instant) -> TokenBucket {
        let rate = rate.max(1);
        TokenBucket {
            rate,
            tau: cost(burst, rate),
            tat: now,
        }
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    /// Reserves `n` bytes at `now`; returns how long to wait before handing them out.
    /// Bytes handed out at their allowed times never exceed `burst + rate * elapsed`.
    pub fn reserve(&mut self, n: u64, now: Instant) -> Duration {
        let base = self.tat.max(now);
        self.tat = base + cost(n, self.rate);
        self.tat
            .saturating_duration_since(now)
            .saturating_sub(self.tau)
    }
}

/// `n` bytes at `rate` bytes/s, rounded up to the nanosecond.
fn cost(n: u64, rate: u64) -> Duration {
    let ns = (n as u128 * 1_000_000_000).div_ceil(rate as u128);
    Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
}

/// The shaping in force: the configuration, its jitter generator and the total bucket.
/// Replaced as a whole when shaping is set; `generation` tells connections to start
/// their own bucket again.
pub struct ShapingState {
    pub shaping: Shaping,
    pub generation: u64,
    rng: Mutex<rand::rngs::StdRng>,
    total: Option<Mutex<TokenBucket>>,
    /// The body chunk size under these caps (`None` when no cap).
    chunk: Option<usize>,
}

impl ShapingState {
    pub fn new(shaping: Shaping, default_seed: u64, generation: u64, max_chunk: usize) -> Self {
        use rand::SeedableRng;
        let now = Instant::now();
        let chunk = [shaping.conn_bytes_per_sec, shaping.total_bytes_per_sec]
            .into_iter()
            .flatten()
            .map(|r| chunk_for_rate(r, max_chunk))
            .min();
        let total = shaping.total_bytes_per_sec.map(|r| {
            Mutex::new(TokenBucket::new(
                r,
                chunk_for_rate(r, max_chunk) as u64,
                now,
            ))
        });
        ShapingState {
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(
                shaping.seed.unwrap_or(default_seed),
            )),
            shaping,
            generation,
            total,
            chunk,
        }
    }

    /// The wait before answering a request (`first`: the connection's first request).
    pub fn request_delay(&self, first: bool) -> Duration {
        let s = &self.shaping;
        let mut us = s.latency_ms * 1000;
        if first {
            us += s.connect_latency_ms * 1000;
        }
        if s.jitter_ms > 0 {
            use rand::Rng;
            us += self.rng.lock().unwrap().gen_range(0..=s.jitter_ms * 1000);
        }
        Duration::from_micros(us)
    }

    /// Whether bodies are capped (then [`ShapingState::chunk`] is their chunk size).
    pub fn caps_bodies(&self) -> bool {
        self.chunk.is_some()
    }

    pub fn chunk(&self) -> Option<usize> {
        self.chunk
    }

    /// Reserves `n` bytes of a body on `conn` (the connection's bucket) and in the total
    /// bucket; returns the wait before handing them out (the longer of the two).
    pub fn reserve(&self, conn: &ConnShaping, n: u64, max_chunk: usize) -> Duration {
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        if let Some(r) = self.shaping.conn_bytes_per_sec {
            let mut b = conn.bucket.lock().unwrap();
            let bucket = match &mut *b {
                Some((g, bk)) if *g == self.generation => bk,
                slot => {
                    *slot = Some((
                        self.generation,
                        TokenBucket::new(r, chunk_for_rate(r, max_chunk) as u64, now),
                    ));
                    &mut slot.as_mut().unwrap().1
                }
            };
            wait = wait.max(bucket.reserve(n, now));
        }
        if let Some(t) = &self.total {
            wait = wait.max(t.lock().unwrap().reserve(n, now));
        }
        wait
    }
}

/// Per-connection shaping state: whether the connection has had its set-up latency,
/// and its bucket (tagged with the [`ShapingState::generation`] it was made for).
#[derive(Default)]
pub struct ConnShaping {
    pub answered: std::sync::atomic::AtomicBool,
    bucket: Mutex<Option<(u64, TokenBucket)>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("1048576"), Ok(1 << 20));
        assert_eq!(parse_rate("25M"), Ok(25 << 20));
        assert_eq!(parse_rate("25MiB/s"), Ok(25 << 20));
        assert_eq!(parse_rate("25MB/s"), Ok(25_000_000));
        assert_eq!(parse_rate("100 MB/s"), Ok(100_000_000));
        assert_eq!(parse_rate("512k"), Ok(512 << 10));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        assert_eq!(parse_rate("2GB"), Ok(2_000_000_000));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("1.5M").is_err());
        assert!(parse_rate("12Mbit").is_err());
        assert!(parse_rate("99999999999999999999G").is_err());
    }

    #[test]
    fn json_shape_and_validation() {
        let s: Shaping = serde_json::from_str(
            r#"{"latency_ms":20,"connect_latency_ms":40,"jitter_ms":5,
                "conn_bytes_per_sec":26214400,"total_bytes_per_sec":104857600,"seed":7}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            Shaping::none()
                .latency_ms(20)
                .connect_latency_ms(40)
                .jitter_ms(5)
                .conn_bytes_per_sec(25 << 20)
                .total_bytes_per_sec(100 << 20)
                .seed(7)
        );
        let back: Shaping = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let empty: Shaping = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Shaping::none());
        assert!(!empty.is_active());
        assert!(Shaping::none().seed(3).validate().is_ok() && !Shaping::none().seed(3).is_active());
        assert!(serde_json::from_str::<Shaping>(r#"{"latency":20}"#).is_err());
        assert!(Shaping::none().conn_bytes_per_sec(0).validate().is_err());
        assert!(Shaping::none().total_bytes_per_sec(0).validate().is_err());
        assert!(Shaping::none()
            .latency_ms(MAX_WAIT_MS + 1)
            .validate()
            .is_err());
        assert!(s.validate().is_ok());
    }

    #[test]
    fn bucket_full_at_start_then_paced() {
        let t0 = Instant::now();
        // 1000 B/s, burst 100 B.
        let mut b = TokenBucket::new(1000, 100, t0);
        assert_eq!(b.reserve(100, t0), Duration::ZERO); // the burst
        assert_eq!(b.reserve(100, t0), 100 * MS); // then 100 B per 100 ms
        assert_eq!(b.reserve(100, t0), 200 * MS);
        // Asked again at the time it was allowed: waits only for its own bytes.
        assert_eq!(b.reserve(50, t0 + 200 * MS), 50 * MS);
        // 2 MiB in chunks at 1 MiB/s (chunk = burst = rate/20): the last chunk is allowed
        // at 2 s - one chunk's time, i.e. 1.95 s.
        let rate = 1 << 20;
        let chunk = chunk_for_rate(rate, 4 << 20) as u64;
        let mut b = TokenBucket::new(rate, chunk, t0);
        let mut now = t0;
        let mut sent = 0;
        while sent < 2 << 20 {
            let n = chunk.min((2 << 20) - sent);
            now += b.reserve(n, now);
            sent += n;
        }
        let took = now - t0;
        assert!(took >= Duration::from_millis(1949), "{took:?}");
        assert!(took <= Duration::from_millis(1951), "{took:?}");
    }

    #[test]
    fn idle_refills_up_to_the_burst_only() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(1000, 100, t0);
        assert_eq!(b.reserve(300, t0), 200 * MS); // a reservation larger than the burst
                                                  // 10 s idle: only the burst (100 B) is available at once, not 10 s worth.
        let t1 = t0 + 10_000 * MS;
        assert_eq!(b.reserve(100, t1), Duration::ZERO);
        assert_eq!(b.reserve(100, t1), 100 * MS);
        // Partly refilled: 30 ms later 30 B came back (of the 100 owed).
        let mut b = TokenBucket::new(1000, 100, t0);
        assert_eq!(b.reserve(100, t0), Duration::ZERO);
        assert_eq!(b.reserve(100, t0 + 30 * MS), 70 * MS);
    }

    #[test]
    fn rounding_never_lets_bytes_out_early() {
        let t0 = Instant::now();
        // 3 B/s: one byte costs 333_333_334 ns (rounded up).
        let mut b = TokenBucket::new(3, 1, t0);
        assert_eq!(b.reserve(1, t0), Duration::ZERO);
        assert_eq!(b.reserve(1, t0), Duration::from_nanos(333_333_334));
        assert_eq!(b.reserve(1, t0), Duration::from_nanos(666_666_668));
    }

    /// Many consumers sharing one bucket, reserving at pseudo-random times: the bytes
    /// handed out by any moment never exceed burst + rate * elapsed, and the consumers'
    /// turns interleave (each waits behind the others' reservations).
    #[test]
    fn shared_bucket_never_exceeds_burst_plus_rate() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let t0 = Instant::now();
        let (rate, burst) = (1 << 20, 52_428u64);
        let mut b = TokenBucket::new(rate, burst, t0);
        // (time the consumer asks next, bytes so far) for 4 consumers.
        let mut next = [t0; 4];
        let mut sends: Vec<(Instant, u64)> = Vec::new();
        for _ in 0..2000 {
            let i = rng.gen_range(0..4);
            let n = rng.gen_range(1..=burst);
            let wait = b.reserve(n, next[i]);
            let at = next[i] + wait;
            sends.push((at, n));
            next[i] = at + Duration::from_micros(rng.gen_range(0..3000));
        }
        sends.sort_by_key(|s| s.0);
        let mut total = 0u64;
        for (at, n) in sends {
            total += n;
            let allowed = burst as f64 + rate as f64 * (at - t0).as_secs_f64();
            assert!(total as f64 <= allowed + 1.0, "{total} > {allowed}");
        }
    }

    #[test]
    fn two_connections_share_the_total_fairly() {
        let t0 = Instant::now();
        let rate = 1 << 20;
        let chunk = chunk_for_rate(rate, 4 << 20) as u64;
        let mut b = TokenBucket::new(rate, chunk, t0);
        // Each connection reserves its next chunk when its previous one was allowed.
        let mut next = [t0, t0];
        let mut sent = [0u64; 2];
        let size = 1u64 << 20;
        while let Some(i) = (0..2).filter(|i| sent[*i] < size).min_by_key(|i| next[*i]) {
            let n = chunk.min(size - sent[i]);
            next[i] += b.reserve(n, next[i]);
            sent[i] += n;
        }
        // 2 MiB together at 1 MiB/s: no sooner than 2 s minus the burst; both end together.
        for n in next {
            let took = n - t0;
            assert!(took >= Duration::from_millis(1899), "{took:?}");
        }
        let gap = next[0].max(next[1]) - next[0].min(next[1]);
        assert!(gap <= Duration::from_millis(51), "{gap:?}");
    }

    #[test]
    fn delays_and_seeded_jitter() {
        let s = Shaping::none()
            .latency_ms(20)
            .connect_latency_ms(30)
            .jitter_ms(10);
        let st = ShapingState::new(s.clone(), 9, 1, 4 << 20);
        assert!(!st.caps_bodies());
        let a: Vec<Duration> = (0..50).map(|i| st.request_delay(i == 0)).collect();
        assert!(a[0] >= 50 * MS && a[0] <= 60 * MS);
        assert!(a[1..].iter().all(|d| *d >= 20 * MS && *d <= 30 * MS));
        assert!(a[1..].iter().any(|d| *d != a[1]));
        // Re-made with the same seed: the same jitter; another seed: other jitter.
        let again = ShapingState::new(s.clone(), 9, 2, 4 << 20);
        assert_eq!(
            a,
            (0..50)
                .map(|i| again.request_delay(i == 0))
                .collect::<Vec<_>>()
        );
        let other = ShapingState::new(s.seed(10), 9, 3, 4 << 20);
        assert_ne!(
            a,
            (0..50)
                .map(|i| other.request_delay(i == 0))
                .collect::<Vec<_>>()
        );
        let none = ShapingState::new(Shaping::none().latency_ms(7), 0, 4, 4 << 20);
        assert_eq!(none.request_delay(true), 7 * MS);
    }

    #[test]
    fn chunk_follows_the_smallest_cap() {
        let st = ShapingState::new(
            Shaping::none()
                .conn_bytes_per_sec(25 << 20)
                .total_bytes_per_sec(1 << 20),
            0,
            1,
            4 << 20,
        );
        assert_eq!(st.chunk(), Some((1 << 20) / 20));
        assert_eq!(chunk_for_rate(10, 4 << 20), 1024);
        assert_eq!(chunk_for_rate(1 << 40, 4 << 20), 4 << 20);
        // A connection's bucket is made on first use and remade for a new generation.
        let conn = ConnShaping::default();
        let st = ShapingState::new(Shaping::none().conn_bytes_per_sec(1000), 0, 1, 4 << 20);
        assert_eq!(st.reserve(&conn, 1024, 4 << 20), Duration::ZERO);
        assert!(st.reserve(&conn, 1024, 4 << 20) >= 1000 * MS);
        let st2 = ShapingState::new(Shaping::none().conn_bytes_per_sec(1000), 0, 2, 4 << 20);
        assert_eq!(st2.reserve(&conn, 1024, 4 << 20), Duration::ZERO);
    }
}
