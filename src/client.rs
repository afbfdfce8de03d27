//! A configured client: endpoint, credentials provider, configuration and the HTTP transport.
//!
//! `Client` is a cheap handle (an `Arc`): clones share the connection pool, the rate limiter,
//! the clock-skew offset and the enable/disable switch. It is `Send + Sync`.

use std::ops::Deref;
use std::sync::Arc;

use crate::config::Config;
use crate::credentials::CredentialsProvider;
use crate::error::Result;
pub use crate::transport::shared::MAX_CLOCK_SKEW_SECS;
use crate::transport::Transport;

#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Transport>,
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
        Ok(Client {
            inner: Arc::new(Transport::new(endpoint, credentials, config)?),
        })
    }
}

/// The configuration, endpoint, region, enable/disable switch and clock offset of a client are
/// its transport's: `client.config()`, `client.set_region(..)`, `client.disable_requests()`...
impl Deref for Client {
    type Target = Transport;

    fn deref(&self) -> &Transport {
        &self.inner
    }
}
