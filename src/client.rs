//! A configured client: endpoint, configuration, credentials provider, V4 region, the memory
//! budget its downloads share, the clock-skew offset, the enable/disable switch and the process
//! that made it; and the checks and corrections made from them before a request is signed and
//! sent (`send`: signing, retries, clock skew) through its HTTP transport.
//!
//! `Client` is a cheap handle (an `Arc`): clones share the connection pool, the rate limiter,
//! the clock-skew offset and the enable/disable switch. It is `Send + Sync`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::config::{Config, SignatureVersion};
use crate::credentials::CredentialsProvider;
use crate::endpoint::{Addressing, Endpoint};
use crate::error::{Error, Result};
use crate::memory_budget::MemoryBudget;
use crate::transport::Transport;

mod send;

/// The largest clock correction learnt from a `RequestTimeTooSkewed` answer: one day. A server
/// claiming a time further away is not believed (its error is returned as it is).
pub const MAX_CLOCK_SKEW_SECS: u64 = 86_400;

/// A configured client: a cheap handle on its shared state.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Shared>,
}

/// What every request of one client shares.
struct Shared {
    endpoint: Endpoint,
    config: Config,
    credentials: Arc<dyn CredentialsProvider>,
    region: RwLock<String>,
    /// The connection pool, the connection permits and the receive-rate limiter.
    transport: Transport,
    /// The memory of the client's downloads (every part in flight holds a slot of it).
    memory: MemoryBudget,
    /// Server time minus local time, in seconds (clock-skew correction).
    clock_offset: AtomicI64,
    /// The V4 signing key of the day (derived once per day, not per request).
    v4_keys: crate::sign::v4::KeyCache,
    /// Cancelled while requests are disabled (`DisableRequest`).
    requests: Mutex<CancellationToken>,
    /// The process that made the client: its connections belong to that process's runtime, so a
    /// `fork()`ed child cannot use it.
    pid: u32,
    /// All its requests added up (while it has a metrics callback).
    stats: Arc<crate::metrics::Summary>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Validates the configuration and builds the transport. Sends nothing.
    pub fn new(
        endpoint: &str,
        credentials: Arc<dyn CredentialsProvider>,
        config: Config,
    ) -> Result<Client> {
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
        let transport = Transport::new(&config)?;
        // No region given: the one the endpoint names (oss-<region>[-internal].aliyuncs.com),
        // so that V4 works with the endpoint alone; SetRegion still overrides it.
        let region = match config.region.is_empty() {
            true => endpoint.region().unwrap_or_default(),
            false => config.region.clone(),
        };
        let inner = Shared {
            region: RwLock::new(region),
            memory: MemoryBudget::new(config.memory_budget),
            endpoint,
            config,
            credentials,
            transport,
            clock_offset: AtomicI64::new(0),
            v4_keys: crate::sign::v4::KeyCache::default(),
            requests: Mutex::new(CancellationToken::new()),
            pid: std::process::id(),
            stats: crate::metrics::Summary::new(),
        };
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// All the client's requests so far, added up (all zero without a metrics callback in its
    /// configuration; per call: `Cancel::with_stats`).
    pub fn request_stats(&self) -> crate::metrics::SummarySnapshot {
        self.inner.stats.snapshot()
    }

    pub(crate) fn stats(&self) -> &Arc<crate::metrics::Summary> {
        &self.inner.stats
    }

    /// The memory budget the client's downloads share.
    pub fn memory_budget(&self) -> &MemoryBudget {
        &self.inner.memory
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The provider of the credentials requests are signed with.
    pub(crate) fn credentials(&self) -> &dyn CredentialsProvider {
        &*self.inner.credentials
    }

    /// The client's cache of V4 signing keys.
    pub(crate) fn v4_keys(&self) -> &crate::sign::v4::KeyCache {
        &self.inner.v4_keys
    }

    /// The connection pool, permits and rate limiter the client's requests go through.
    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
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
        *self.inner.region.write().unwrap_or_else(|e| e.into_inner()) = region.to_string();
        Ok(())
    }

    pub fn region(&self) -> String {
        self.inner
            .region
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether this client was made in this process (not inherited through `fork()`).
    pub fn made_in_this_process(&self) -> bool {
        self.inner.pid == std::process::id()
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
            self.inner.pid
        )))
    }

    /// Checks that the client can sign requests (V4 needs a region).
    pub fn check_signing(&self) -> Result<()> {
        if self.inner.config.signature_version == SignatureVersion::V4 && self.region().is_empty() {
            return Err(Error::validate(format!(
                "signature V4 needs a region, and {}: set it with SetRegion / \
                 oss_client_set_region / oss_config_set_region (e.g. cn-hangzhou), or sign with V1",
                self.inner.endpoint.why_no_region()
            )));
        }
        Ok(())
    }

    pub(crate) fn addressing(&self) -> Addressing {
        if self.inner.config.is_cname {
            Addressing::Cname
        } else if self.inner.config.is_path_style {
            Addressing::PathStyle
        } else {
            Addressing::VirtualHosted
        }
    }

    /// Aborts every request in flight and refuses new ones until `enable_requests`.
    pub fn disable_requests(&self) {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cancel();
    }

    pub fn enable_requests(&self) {
        let mut t = self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if t.is_cancelled() {
            *t = CancellationToken::new();
        }
    }

    /// The token that `disable_requests` cancels (current generation).
    pub(crate) fn requests_token(&self) -> CancellationToken {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `cancel` with this client's call deadline (`Config::call_timeout`) from now, if it has one.
    /// Every call made through the C API runs with it.
    pub fn call_cancel(&self, cancel: crate::cancel::Cancel) -> crate::cancel::Cancel {
        match self.inner.config.call_timeout {
            Some(d) => cancel.with_deadline(d),
            None => cancel,
        }
    }

    /// Local time corrected by the clock offset learnt from the server. Never panics: an offset
    /// beyond what `SystemTime` holds leaves the local time as it is.
    pub(crate) fn now(&self) -> SystemTime {
        let off = self.inner.clock_offset.load(Ordering::Relaxed);
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
        self.inner.clock_offset.store(secs, Ordering::Relaxed);
    }

    pub fn clock_offset_secs(&self) -> i64 {
        self.inner.clock_offset.load(Ordering::Relaxed)
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
        self.inner.clock_offset.store(off, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StaticProvider;

    fn v4_client(endpoint: &str, region: &str) -> Client {
        let config = Config {
            signature_version: SignatureVersion::V4,
            region: region.to_string(),
            ..Config::default()
        };
        let creds = Arc::new(StaticProvider::new("ak", "sk", None));
        Client::new(endpoint, creds, config).unwrap()
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
