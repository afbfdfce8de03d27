//! Fault injection rules.
//!
//! A [`Faults`] value is a list of [`FaultRule`]s. Each rule has an action (`kind`)
//! and filters (method, bucket, key prefix, ranged or not), a `probability`, an
//! `after` (skip the first N matching requests) and a `count` (fire at most N times).
//! Several rules may fire on one request (e.g. latency and a cut).
//!
//! JSON (admin endpoint, `--fault '{...}'`):
//! `{"rules":[{"kind":"status","status":503,"count":2,"method":"GET"}]}`
//! CLI shorthand: `--fault kind=status,status=503,count=2,method=GET`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this HTTP status and an XML error (InternalError / ServiceUnavailable
    /// unless `code` is given), before touching the object.
    Status {
        #[serde(default = "default_status")]
        status: u16,
        #[serde(default)]
        code: Option<String>,
    },
    /// Close the connection after `bytes` body bytes (random point in the body when absent).
    Cut {
        #[serde(default)]
        bytes: Option<u64>,
    },
    /// Reset the connection (TCP RST) before the answer, or after `bytes` body bytes.
    Reset {
        #[serde(default)]
        bytes: Option<u64>,
    },
    /// Wait `ms` before sending the response headers.
    Latency { ms: u64 },
    /// Pause `ms` after `bytes` body bytes, then go on.
    Stall {
        #[serde(default)]
        bytes: u64,
        ms: u64,
    },
    /// Send this answer's body at no more than `bytes_per_sec` (a slow path: with a
    /// `probability` of 0.1, about one answer in ten is slow). Adds to the shaping caps (the
    /// slower wins).
    Throttle { bytes_per_sec: u64 },
    /// Send a Content-Range whose first and last are shifted by `shift` (206 answers only;
    /// the body is the right one).
    WrongContentRange {
        #[serde(default = "default_shift")]
        shift: i64,
    },
    /// A complete HTTP answer whose body (and Content-Length) is `bytes` shorter than
    /// the range it claims.
    ShortBody {
        #[serde(default = "default_one")]
        bytes: u64,
    },
    /// A complete HTTP answer with `bytes` extra junk bytes after the real body.
    LongBody {
        #[serde(default = "default_one")]
        bytes: u64,
    },
    /// Replace the object's content (same size, some bytes changed, new ETag and
    /// version) when the rule fires, then serve the request normally. Combine with
    /// `after: N` for "change after N requests"; `count` defaults to unlimited, so set
    /// `count: 1` for a single change.
    Mutate,
    /// Listings only: the page says `IsTruncated` true but carries no `NextContinuationToken`
    /// (`NextMarker` for ListObjects).
    ListTruncatedNoToken,
    /// Listings only: store `key` (a few bytes) just before this page is answered. With
    /// `after: N, count: 1`: the listing changes after page N.
    ListInsert { key: String },
    /// Listings only: delete `key` just before this page is answered.
    ListDelete { key: String },
}

impl FaultAction {
    /// Faults that only make sense on a listing (they never fire on object requests, nor count).
    pub fn listing_only(&self) -> bool {
        matches!(
            self,
            FaultAction::ListTruncatedNoToken
                | FaultAction::ListInsert { .. }
                | FaultAction::ListDelete { .. }
        )
    }
}

fn default_status() -> u16 {
    503
}
fn default_shift() -> i64 {
    1
}
fn default_one() -> u64 {
    1
}
fn default_probability() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(flatten)]
    pub action: FaultAction,
    /// Only requests with this method (e.g. "GET").
    #[serde(default)]
    pub method: Option<String>,
    /// Only this bucket.
    #[serde(default)]
    pub bucket: Option<String>,
    /// Only keys starting with this prefix.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Only requests with (true) or without (false) a Range header.
    #[serde(default)]
    pub ranged: Option<bool>,
    /// Chance to fire on a matching request, 0..=1.
    #[serde(default = "default_probability")]
    pub probability: f64,
    /// Skip the first `after` matching requests.
    #[serde(default)]
    pub after: u64,
    /// Fire at most this many times (unlimited when absent).
    #[serde(default)]
    pub count: Option<u64>,
    /// Only listings (true) or only object requests (false). A listing's `prefix` filter
    /// looks at its `prefix` parameter.
    #[serde(default)]
    pub listing: Option<bool>,
}

impl FaultRule {
    pub fn new(action: FaultAction) -> FaultRule {
        FaultRule {
            action,
            method: None,
            bucket: None,
            prefix: None,
            ranged: None,
            probability: 1.0,
            after: 0,
            count: None,
            listing: None,
        }
    }
    pub fn listing(mut self, l: bool) -> Self {
        self.listing = Some(l);
        self
    }
    pub fn method(mut self, m: &str) -> Self {
        self.method = Some(m.to_string());
        self
    }
    pub fn prefix(mut self, p: &str) -> Self {
        self.prefix = Some(p.to_string());
        self
    }
    pub fn bucket(mut self, b: &str) -> Self {
        self.bucket = Some(b.to_string());
        self
    }
    pub fn ranged(mut self, r: bool) -> Self {
        self.ranged = Some(r);
        self
    }
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }
    pub fn after(mut self, n: u64) -> Self {
        self.after = n;
        self
    }
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    /// Parses the CLI shorthand `kind=cut,bytes=100,method=GET` or a JSON object.
    pub fn parse_spec(spec: &str) -> Result<FaultRule, String> {
        let spec = spec.trim();
        if spec.starts_with('{') {
            return serde_json::from_str(spec).map_err(|e| format!("bad fault JSON {spec:?}: {e}"));
        }
        let mut map = serde_json::Map::new();
        for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("bad fault spec part {part:?} (want key=value)"))?;
            let (k, v) = (k.trim(), v.trim());
            let value =
                if k == "method" || k == "bucket" || k == "prefix" || k == "code" || k == "key" {
                    serde_json::Value::String(v.to_string())
                } else if let Ok(n) = v.parse::<u64>() {
                    serde_json::Value::from(n)
                } else if let Ok(n) = v.parse::<i64>() {
                    serde_json::Value::from(n)
                } else if let Ok(f) = v.parse::<f64>() {
                    serde_json::Value::from(f)
                } else if let Ok(b) = v.parse::<bool>() {
                    serde_json::Value::Bool(b)
                } else {
                    serde_json::Value::String(v.to_string())
                };
            map.insert(k.to_string(), value);
        }
        serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| format!("bad fault spec {spec:?}: {e}"))
    }

    pub fn matches(
        &self,
        method: &str,
        bucket: &str,
        key: &str,
        ranged: bool,
        listing: bool,
    ) -> bool {
        (listing || !self.action.listing_only())
            && self.listing.map_or(true, |l| l == listing)
            && self
                .method
                .as_deref()
                .map_or(true, |m| m.eq_ignore_ascii_case(method))
            && self.bucket.as_deref().map_or(true, |b| b == bucket)
            && self.prefix.as_deref().map_or(true, |p| key.starts_with(p))
            && self.ranged.map_or(true, |r| r == ranged)
    }
}

/// The fault configuration. `Default` = no faults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    #[serde(default)]
    pub rules: Vec<FaultRule>,
    /// Seed for the random choices (probability, random cut points). When absent the
    /// emulator's configured seed is used. The generator is re-seeded every time the
    /// faults are set, so a run replays identically.
    #[serde(default)]
    pub seed: Option<u64>,
}

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }
    pub fn with(mut self, rule: FaultRule) -> Faults {
        self.rules.push(rule);
        self
    }
    /// "The next `n` GET requests answer `status`".
    pub fn fail_next_gets(n: u64, status: u16) -> Faults {
        Faults::default().with(
            FaultRule::new(FaultAction::Status { status, code: None })
                .method("GET")
                .count(n),
        )
    }
}

/// What the rules decided for one request.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    pub latency_ms: u64,
    pub status: Option<(u16, Option<String>)>,
    pub reset_before: bool,
    /// Stop after this many body bytes: (bytes, reset instead of a clean close).
    pub cut: Option<(CutPoint, bool)>,
    pub stall: Option<(u64, u64)>,
    /// Body rate of this answer (bytes per second), when throttled.
    pub throttle: Option<u64>,
    pub content_range_shift: i64,
    pub short_by: u64,
    pub long_by: u64,
    pub mutate: bool,
    /// Listings: `IsTruncated` without a token.
    pub truncated_no_token: bool,
    /// Listings: keys to store (true) or delete (false) before answering.
    pub list_changes: Vec<(String, bool)>,
    /// Human-readable names of the faults that fired, for the request log.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub enum CutPoint {
    At(u64),
    /// Random point in the body, drawn from this value (fraction in [0,1)).
    Random(f64),
}

impl FaultPlan {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    pub fn describe(&self) -> Option<String> {
        if self.names.is_empty() {
            None
        } else {
            Some(self.names.join(","))
        }
    }
}

pub struct FaultState {
    pub faults: Faults,
    seen: Vec<u64>,
    fired: Vec<u64>,
    rng: rand::rngs::StdRng,
}

impl FaultState {
    pub fn new(faults: Faults, default_seed: u64) -> FaultState {
        use rand::SeedableRng;
        let seed = faults.seed.unwrap_or(default_seed);
        let n = faults.rules.len();
        FaultState {
            faults,
            seen: vec![0; n],
            fired: vec![0; n],
            rng: rand::rngs::StdRng::seed_from_u64(seed),
        }
    }

    /// Decides the faults for one request (updates the counters).
    pub fn plan(&mut self, method: &str, bucket: &str, key: &str, ranged: bool) -> FaultPlan {
        self.plan_for(method, bucket, key, ranged, false)
    }

    /// The plan of a listing (`key` = its prefix).
    pub fn plan_listing(&mut self, bucket: &str, prefix: &str) -> FaultPlan {
        self.plan_for("GET", bucket, prefix, false, true)
    }

    fn plan_for(
        &mut self,
        method: &str,
        bucket: &str,
        key: &str,
        ranged: bool,
        listing: bool,
    ) -> FaultPlan {
        use rand::Rng;
        let mut plan = FaultPlan::default();
        for i in 0..self.faults.rules.len() {
            let rule = &self.faults.rules[i];
            if !rule.matches(method, bucket, key, ranged, listing) {
                continue;
            }
            self.seen[i] += 1;
            if self.seen[i] <= rule.after {
                continue;
            }
            if let Some(c) = rule.count {
                if self.fired[i] >= c {
                    continue;
                }
            }
            if rule.probability < 1.0 && self.rng.gen::<f64>() >= rule.probability {
                continue;
            }
            // A status answer excludes body faults of later rules.
            if plan.status.is_some() && !matches!(rule.action, FaultAction::Latency { .. }) {
                continue;
            }
            self.fired[i] += 1;
            match &rule.action {
                FaultAction::Status { status, code } => {
                    plan.status = Some((*status, code.clone()));
                    plan.names.push(format!("status:{status}"));
                }
                FaultAction::Cut { bytes } => {
                    let p = match bytes {
                        Some(b) => CutPoint::At(*b),
                        None => CutPoint::Random(self.rng.gen::<f64>()),
                    };
                    plan.cut = Some((p, false));
                    plan.names.push(match bytes {
                        Some(b) => format!("cut:{b}"),
                        None => "cut:random".to_string(),
                    });
                }
                FaultAction::Reset { bytes } => match bytes {
                    None => {
                        plan.reset_before = true;
                        plan.names.push("reset".to_string());
                    }
                    Some(b) => {
                        plan.cut = Some((CutPoint::At(*b), true));
                        plan.names.push(format!("reset:{b}"));
                    }
                },
                FaultAction::Latency { ms } => {
                    plan.latency_ms += ms;
                    plan.names.push(format!("latency:{ms}"));
                }
                FaultAction::Stall { bytes, ms } => {
                    plan.stall = Some((*bytes, *ms));
                    plan.names.push(format!("stall:{bytes}:{ms}"));
                }
                FaultAction::Throttle { bytes_per_sec } => {
                    let r = (*bytes_per_sec).max(1);
                    plan.throttle = Some(plan.throttle.map_or(r, |t| t.min(r)));
                    plan.names.push(format!("throttle:{r}"));
                }
                FaultAction::WrongContentRange { shift } => {
                    plan.content_range_shift = *shift;
                    plan.names.push(format!("wrong_content_range:{shift}"));
                }
                FaultAction::ShortBody { bytes } => {
                    plan.short_by = *bytes;
                    plan.names.push(format!("short_body:{bytes}"));
                }
                FaultAction::LongBody { bytes } => {
                    plan.long_by = *bytes;
                    plan.names.push(format!("long_body:{bytes}"));
                }
                FaultAction::Mutate => {
                    plan.mutate = true;
                    plan.names.push("mutate".to_string());
                }
                FaultAction::ListTruncatedNoToken => {
                    plan.truncated_no_token = true;
                    plan.names.push("list_truncated_no_token".to_string());
                }
                FaultAction::ListInsert { key } => {
                    plan.list_changes.push((key.clone(), true));
                    plan.names.push("list_insert".to_string());
                }
                FaultAction::ListDelete { key } => {
                    plan.list_changes.push((key.clone(), false));
                    plan.names.push("list_delete".to_string());
                }
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parsing() {
        let r = FaultRule::parse_spec("kind=status,status=503,count=2,method=GET").unwrap();
        assert_eq!(
            r,
            FaultRule::new(FaultAction::Status {
                status: 503,
                code: None
            })
            .method("GET")
            .count(2)
        );
        let r = FaultRule::parse_spec("kind=cut,bytes=100,prefix=dir/,probability=0.5").unwrap();
        assert_eq!(r.action, FaultAction::Cut { bytes: Some(100) });
        assert_eq!(r.prefix.as_deref(), Some("dir/"));
        assert_eq!(r.probability, 0.5);
        let r = FaultRule::parse_spec(r#"{"kind":"stall","bytes":10,"ms":50}"#).unwrap();
        assert_eq!(r.action, FaultAction::Stall { bytes: 10, ms: 50 });
        let r = FaultRule::parse_spec("kind=throttle,bytes_per_sec=1000,probability=0.1").unwrap();
        assert_eq!(
            r.action,
            FaultAction::Throttle {
                bytes_per_sec: 1000
            }
        );
        assert_eq!(r.probability, 0.1);
        let mut st = FaultState::new(Faults::none().with(r.probability(1.0).count(1)), 1);
        assert_eq!(st.plan("GET", "b", "k", true).throttle, Some(1000));
        assert_eq!(st.plan("GET", "b", "k", true).throttle, None);
        let r = FaultRule::parse_spec("kind=wrong_content_range,shift=-3").unwrap();
        assert_eq!(r.action, FaultAction::WrongContentRange { shift: -3 });
        assert_eq!(
            FaultRule::parse_spec("kind=mutate,after=3,count=1")
                .unwrap()
                .after,
            3
        );
        assert!(FaultRule::parse_spec("kind=nope").is_err());
        assert!(FaultRule::parse_spec("status").is_err());
        let f: Faults =
            serde_json::from_str(r#"{"rules":[{"kind":"latency","ms":5}],"seed":9}"#).unwrap();
        assert_eq!(f.seed, Some(9));
        let back: Faults = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn counting_and_filters() {
        let mut st = FaultState::new(Faults::fail_next_gets(2, 503), 1);
        assert!(st.plan("HEAD", "b", "k", false).status.is_none());
        assert_eq!(st.plan("GET", "b", "k", true).status, Some((503, None)));
        assert_eq!(st.plan("GET", "b", "k", true).status, Some((503, None)));
        assert!(st.plan("GET", "b", "k", true).status.is_none());

        let f = Faults::default().with(
            FaultRule::new(FaultAction::Mutate)
                .prefix("x/")
                .after(2)
                .count(1),
        );
        let mut st = FaultState::new(f, 1);
        assert!(!st.plan("GET", "b", "x/1", false).mutate);
        assert!(!st.plan("GET", "b", "y/1", false).mutate);
        assert!(!st.plan("GET", "b", "x/1", false).mutate);
        assert!(st.plan("GET", "b", "x/1", false).mutate);
        assert!(!st.plan("GET", "b", "x/1", false).mutate);
    }

    #[test]
    fn seeded_randomness_replays() {
        let f = Faults {
            rules: vec![FaultRule::new(FaultAction::Status {
                status: 500,
                code: None,
            })
            .probability(0.5)],
            seed: Some(42),
        };
        let run = || {
            let mut st = FaultState::new(f.clone(), 0);
            (0..64)
                .map(|_| st.plan("GET", "b", "k", false).status.is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.iter().any(|x| *x) && a.iter().any(|x| !*x));
    }
}
