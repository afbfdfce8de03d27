//! What every request of one client shares: endpoint, configuration, credentials provider, V4
//! region, the reqwest client (connection pool), the connection permits, the receive-rate
//! limiter, the memory budget, the clock-skew offset, the enable/disable switch and the process that made it; and
//! the checks and corrections made from them before a request is signed and sent.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, SignatureVersion};
use crate::credentials::CredentialsProvider;
use crate::endpoint::{Addressing, Endpoint};
use crate::error::{Error, Result};
use crate::memory_budget::MemoryBudget;
use crate::rate_limit::RateLimiter;

/// The largest clock correction learnt from a `RequestTimeTooSkewed` answer: one day. A server
/// claiming a time further away is not believed (its error is returned as it is).
pub const MAX_CLOCK_SKEW_SECS: u64 = 86_400;

/// The shared state of a client's requests (`Client` derefs to it).
pub struct Transport {
    pub(crate) endpoint: Endpoint,
    pub(crate) config: Config,
    pub(crate) credentials: Arc<dyn CredentialsProvider>,
    pub(crate) region: RwLock<String>,
    pub(crate) http: reqwest::Client,
    /// At most `max_connections` requests in flight.
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) rate: Option<RateLimiter>,
    /// The memory of the client's downloads (every part in flight holds a slot of it).
    pub(crate) memory: MemoryBudget,
    /// Server time minus local time, in seconds (clock-skew correction).
    pub(crate) clock_offset: AtomicI64,
    /// Cancelled while requests are disabled (`DisableRequest`).
    pub(crate) requests: Mutex<CancellationToken>,
    /// The process that made the client: its connections belong to that process's runtime, so a
    /// `fork()`ed child cannot use it.
    pub(crate) pid: u32,
}

impl Transport {
    /// Validates the configuration and builds the HTTP client. Sends nothing.
    pub fn new(
        endpoint: &str,
        credentials: Arc<dyn CredentialsProvider>,
        config: Config,
    ) -> Result<Transport> {
        config.validate()?;
        let endpoint = Endpoint::parse(endpoint)?;
        let port = endpoint
            .port
            .unwrap_or(if endpoint.scheme == "https" { 443 } else { 80 });
        if let Some(e) = config.resolve.iter().find(|e| e.port != port) {
            return Err(Error::validate(format!(
                "the resolve entry for {}:{} does not match the endpoint's port {port}",
                e.host, e.port
            )));
        }
        let http = super::build_http_client(&config)?;
        let rate = match &config.recv_rate_source {
            Some(source) => Some(RateLimiter::with_source(source.clone())),
            None => (config.recv_rate_limit > 0).then(|| RateLimiter::new(config.recv_rate_limit)),
        };
        // No region given: the one the endpoint names (oss-<region>[-internal].aliyuncs.com),
        // so that V4 works with the endpoint alone; SetRegion still overrides it.
        let region = match config.region.is_empty() {
            true => endpoint.region().unwrap_or_default(),
            false => config.region.clone(),
        };
        Ok(Transport {
            region: RwLock::new(region),
            permits: Arc::new(Semaphore::new(config.max_connections as usize)),
            memory: MemoryBudget::new(config.memory_budget),
            endpoint,
            config,
            credentials,
            http,
            rate,
            clock_offset: AtomicI64::new(0),
            requests: Mutex::new(CancellationToken::new()),
            pid: std::process::id(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The memory budget the client's downloads share.
    pub fn memory_budget(&self) -> &MemoryBudget {
        &self.memory
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sets the V4 signing region (`cn-hangzhou`, not `oss-cn-hangzhou`).
    pub fn set_region(&self, region: &str) -> Result<()> {
        let region = region.trim();
        if region
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(Error::validate(format!(
                "the region '{}' may only hold letters, digits and '-'",
                region.escape_debug()
            )));
        }
        *self.region.write().unwrap_or_else(|e| e.into_inner()) = region.to_string();
        Ok(())
    }

    pub fn region(&self) -> String {
        self.region
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether this client was made in this process (not inherited through `fork()`).
    pub fn made_in_this_process(&self) -> bool {
        self.pid == std::process::id()
    }

    /// Refuses a client inherited through `fork()`: its pooled connections are served by the
    /// parent's runtime, whose threads do not exist here (a request would wait forever).
    pub(crate) fn check_process(&self) -> Result<()> {
        if self.made_in_this_process() {
            return Ok(());
        }
        Err(Error::validate(format!(
            "this client was made in process {} and this process was fork()ed from it: a client \
                 cannot be used across fork(); make a new one here (after oss_initialize_sdk)",
            self.pid
        )))
    }

    /// Checks that the client can sign requests (V4 needs a region).
    pub fn check_signing(&self) -> Result<()> {
        if self.config.signature_version == SignatureVersion::V4 && self.region().is_empty() {
            return Err(Error::validate(format!(
                "signature V4 needs a region, and {}: set it with SetRegion / \
                 oss_client_set_region / oss_config_set_region (e.g. cn-hangzhou), or sign with V1",
                self.endpoint.why_no_region()
            )));
        }
        Ok(())
    }

    pub(crate) fn addressing(&self) -> Addressing {
        if self.config.is_cname {
            Addressing::Cname
        } else if self.config.is_path_style {
            Addressing::PathStyle
        } else {
            Addressing::VirtualHosted
        }
    }

    /// Aborts every request in flight and refuses new ones until `enable_requests`.
    pub fn disable_requests(&self) {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cancel();
    }

    pub fn enable_requests(&self) {
        let mut t = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if t.is_cancelled() {
            *t = CancellationToken::new();
        }
    }

    /// The token that `disable_requests` cancels (current generation).
    pub(crate) fn requests_token(&self) -> CancellationToken {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `cancel` with this client's call deadline (`Config::call_timeout`) from now, if it has one.
    /// Every call made through the C API runs with it.
    pub fn call_cancel(&self, cancel: crate::cancel::Cancel) -> crate::cancel::Cancel {
        match self.config.call_timeout {
            Some(d) => cancel.with_deadline(d),
            None => cancel,
        }
    }

    /// Local time corrected by the clock offset learnt from the server. Never panics: an offset
    /// beyond what `SystemTime` holds leaves the local time as it is.
    pub(crate) fn now(&self) -> SystemTime {
        let off = self.clock_offset.load(Ordering::Relaxed);
        let now = SystemTime::now();
        let corrected = if off >= 0 {
            now.checked_add(Duration::from_secs(off as u64))
        } else {
            now.checked_sub(Duration::from_secs(off.unsigned_abs()))
        };
        corrected.unwrap_or(now)
    }

    /// Sets the clock offset (server minus local, seconds). Normally learnt from the server's
    /// `RequestTimeTooSkewed` answers; a test hook to simulate a skewed local clock.
    #[cfg(feature = "test-hooks")]
    pub fn set_clock_offset_secs(&self, secs: i64) {
        self.clock_offset.store(secs, Ordering::Relaxed);
    }

    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// Sets the clock offset from the server's time, when it is within [`MAX_CLOCK_SKEW_SECS`]
    /// of the local clock; otherwise leaves it and returns the offset the server claimed.
    pub(crate) fn set_clock_offset(&self, server_time: SystemTime) -> std::result::Result<(), i64> {
        let now = SystemTime::now();
        let off = match server_time.duration_since(now) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
        };
        if off.unsigned_abs() > MAX_CLOCK_SKEW_SECS {
            return Err(off);
        }
        self.clock_offset.store(off, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StaticProvider;

    fn v4_client(endpoint: &str, region: &str) -> Transport {
        let config = Config {
            signature_version: SignatureVersion::V4,
            region: region.to_string(),
            ..Config::default()
        };
        let creds = Arc::new(StaticProvider::new("ak", "sk", None));
        Transport::new(endpoint, creds, config).unwrap()
    }

    #[test]
    fn v4_takes_the_region_from_the_endpoint_when_none_is_given() {
        let t = v4_client("https://oss-cn-shanghai.aliyuncs.com", "");
        assert_eq!(t.region(), "cn-shanghai");
        assert!(t.check_signing().is_ok());
        let t = v4_client("https://bkt.oss-eu-central-1-internal.aliyuncs.com", "");
        assert_eq!(t.region(), "eu-central-1");
        // A region given wins over the endpoint's.
        let t = v4_client("https://oss-cn-shanghai.aliyuncs.com", "cn-hangzhou");
        assert_eq!(t.region(), "cn-hangzhou");
    }

    #[test]
    fn v4_without_a_region_says_why_the_endpoint_gave_none() {
        let t = v4_client("http://127.0.0.1:9000", "");
        let e = t.check_signing().unwrap_err();
        assert!(
            e.message.contains("needs a region")
                && e.message.contains("'127.0.0.1' does not name one")
                && e.message.contains("oss_client_set_region"),
            "{}",
            e.message
        );
        let t = v4_client("https://oss-accelerate.aliyuncs.com", "");
        let e = t.check_signing().unwrap_err();
        assert!(e.message.contains("serves every region"), "{}", e.message);
        t.set_region("cn-hangzhou").unwrap();
        assert!(t.check_signing().is_ok());
    }
}
