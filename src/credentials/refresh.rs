//! The cache every expiring provider (ECS role, OIDC, RAM role ARN) shares.
//!
//! - Refresh before expiry: credentials are used until 15 minutes before their `Expiration`, then
//!   fetched again. That is the margin of alibabacloud-credentials (Python, 1.0.12)
//!   `provider/ecs_ram_role.py`, `oidc.py`, `ram_role_arn.py`: `stale_time = expiration - 15 * 60`;
//!   credentials-go (`providers/oidc.go` `needUpdateCredential`) refreshes 180 s before. The
//!   larger margin is taken: a request signed just before the refresh still has 15 minutes.
//! - One refresh at a time: callers that find the cache stale wait for the refresh in progress
//!   instead of starting their own (an async mutex; the second caller re-checks the cache).
//! - A failed refresh while the cached credentials are still valid keeps them (logged as a
//!   warning without any secret), and the next attempt waits [`RETRY_AFTER_FAILURE`] so that a
//!   broken STS does not slow every request down; once they expire, the error is returned.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::BoxFuture;

use super::{Credentials, CredentialsProvider};
use crate::error::{Error, Result};
use crate::log::{self, Level};

/// How long before their expiration credentials are refreshed (the official SDKs' 15 minutes).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

/// After a failed refresh that kept still-valid credentials, how long until the next attempt
/// (the official `RefreshCachedSupplier`'s least back-off after a failure is 10 s).
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// Credentials and when they stop working.
#[derive(Clone, Debug)]
pub struct Expiring {
    pub credentials: Credentials,
    pub expiration: SystemTime,
}

/// A source of expiring credentials (one HTTP exchange per call).
pub trait Fetch: Send + Sync + 'static {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Expiring>> + Send + '_>>;
    /// What it is, for logs and errors ("the ECS RAM role", "AssumeRoleWithOIDC").
    fn describe(&self) -> String;
}

struct Cached {
    value: Option<Expiring>,
    /// No refresh before this instant (set after a failure that kept the old credentials).
    quiet_until: Option<Instant>,
}

struct State {
    fetcher: Box<dyn Fetch>,
    cached: Mutex<Cached>,
    refresh: tokio::sync::Mutex<()>,
    margin: Duration,
    fetches: AtomicU64,
}

/// A provider over a [`Fetch`], with the cache described in the module docs.
#[derive(Clone)]
pub struct RefreshingProvider {
    state: Arc<State>,
}

impl RefreshingProvider {
    pub fn new(fetcher: impl Fetch) -> Self {
        Self::with_margin(fetcher, REFRESH_MARGIN)
    }

    /// With another margin (tests; the C API always uses [`REFRESH_MARGIN`]).
    pub fn with_margin(fetcher: impl Fetch, margin: Duration) -> Self {
        RefreshingProvider {
            state: Arc::new(State {
                fetcher: Box::new(fetcher),
                cached: Mutex::new(Cached {
                    value: None,
                    quiet_until: None,
                }),
                refresh: tokio::sync::Mutex::new(()),
                margin,
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// How many fetches were started (successful or not).
    pub fn fetch_count(&self) -> u64 {
        self.state.fetches.load(Ordering::Relaxed)
    }

    pub fn describe(&self) -> String {
        self.state.fetcher.describe()
    }

    /// The credentials, fetched or refreshed if needed.
    pub async fn get(&self) -> Result<Credentials> {
        self.state.clone().get().await
    }
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached credentials if they need no refresh: more than the margin before expiry, or
    /// still valid while a failed refresh is waited out.
    fn usable(&self) -> Option<Credentials> {
        let c = self.lock();
        let v = c.value.as_ref()?;
        let now = SystemTime::now();
        if now + self.margin < v.expiration {
            return Some(v.credentials.clone());
        }
        let quiet = c.quiet_until.is_some_and(|t| Instant::now() < t);
        (quiet && now < v.expiration).then(|| v.credentials.clone())
    }

    async fn get(self: Arc<Self>) -> Result<Credentials> {
        if let Some(c) = self.usable() {
            return Ok(c);
        }
        let _one_refresh = self.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(c) = self.usable() {
            return Ok(c);
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.fetcher.fetch().await.and_then(|e| {
            e.credentials.validate()?;
            if e.credentials.is_anonymous() {
                return Err(Error::invalid_credentials(format!(
                    "{} returned empty credentials",
                    self.fetcher.describe()
                )));
            }
            if e.expiration <= SystemTime::now() {
                return Err(Error::invalid_credentials(format!(
                    "{} returned credentials that have already expired ({})",
                    self.fetcher.describe(),
                    crate::date::http_date(e.expiration)
                )));
            }
            Ok(e)
        });
        let mut c = self.lock();
        match fetched {
            Ok(e) => {
                log::log(Level::Debug, || {
                    format!(
                        "credentials from {} (access key id {}), valid until {}",
                        self.fetcher.describe(),
                        e.credentials.access_key_id,
                        crate::date::http_date(e.expiration)
                    )
                });
                let creds = e.credentials.clone();
                c.value = Some(e);
                c.quiet_until = None;
                Ok(creds)
            }
            Err(err) => match &c.value {
                Some(old) if SystemTime::now() < old.expiration => {
                    let creds = old.credentials.clone();
                    let until = old.expiration;
                    c.quiet_until = Some(Instant::now() + RETRY_AFTER_FAILURE);
                    log::log(Level::Warn, || {
                        format!(
                            "refreshing the credentials failed ({err}); the current ones stay in \
                             use until {} (next attempt in {} s)",
                            crate::date::http_date(until),
                            RETRY_AFTER_FAILURE.as_secs()
                        )
                    });
                    Ok(creds)
                }
                _ => Err(err),
            },
        }
    }
}

impl CredentialsProvider for RefreshingProvider {
    fn credentials(&self) -> Result<Credentials> {
        if let Some(c) = self.state.usable() {
            return Ok(c);
        }
        super::http::wait(self.state.clone().get())
    }

    fn credentials_async(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.state.clone().get())
    }
}
