//! Credentials and their providers: static, environment, (in `ffi::credentials`) a C callback,
//! and the ones cloud users have: the Alibaba Cloud CLI's profiles and the credentials file
//! (`profile`), the ECS instance RAM role (`ecs`), STS role assumption with OIDC or an access key
//! (`sts`), and the default chain over all of them (`chain`). The ones that expire share one
//! cache (`refresh`); what they fetch over HTTP goes through `http`.
//!
//! Providers are asked before every request, so rotating STS credentials work. Secrets never
//! appear in `Debug` output, logs or error messages.

use std::fmt;

use futures_util::future::BoxFuture;

use crate::error::{Error, Result};

pub mod chain;
pub mod ecs;
pub(crate) mod http;
pub mod profile;
pub mod refresh;
pub mod sts;

pub use chain::DefaultChainProvider;
pub use ecs::EcsRamRoleProvider;
pub use profile::{CliProfileProvider, ProfileFileProvider};
pub use refresh::RefreshingProvider;
pub use sts::{OidcRoleProvider, RamRoleArnProvider};

/// An access key pair and an optional STS security token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    /// Empty when not using STS.
    pub security_token: String,
}

impl Credentials {
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: impl Into<String>,
    ) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: security_token.into(),
        }
    }

    /// Anonymous credentials (no Authorization header is sent): empty id and secret.
    pub fn is_anonymous(&self) -> bool {
        self.access_key_id.is_empty() && self.access_key_secret.is_empty()
    }

    /// Refuses half-filled credentials and values that cannot go into an HTTP header.
    pub fn validate(&self) -> Result<()> {
        if self.access_key_id.is_empty() != self.access_key_secret.is_empty() {
            return Err(credentials_error(
                "the access key id and secret must both be set (or both empty for anonymous access)",
            ));
        }
        let bad = crate::header_value::has_control_chars;
        if bad(&self.access_key_id) || bad(&self.access_key_secret) || bad(&self.security_token) {
            return Err(credentials_error("credentials contain control characters"));
        }
        Ok(())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &if self.security_token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

pub(crate) fn credentials_error(message: &str) -> Error {
    Error::invalid_credentials(message)
}

/// Something that hands out credentials, asked before every request.
pub trait CredentialsProvider: Send + Sync {
    /// The credentials, from any thread. Providers that fetch over HTTP wait for the library's
    /// runtime (see `http::wait`); inside the runtime prefer [`Self::credentials_async`].
    fn credentials(&self) -> Result<Credentials>;

    /// The same, without blocking a runtime thread (what the transport calls). The default
    /// answers with [`Self::credentials`].
    fn credentials_async(&self) -> BoxFuture<'_, Result<Credentials>> {
        let r = self.credentials();
        Box::pin(async move { r })
    }
}

/// Reads a variable of the environment; unset and empty are the same.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether a variable of the environment says `true` (case-insensitive), as the official
/// credentials libraries read their `..._DISABLED` switches.
pub(crate) fn env_true(name: &str) -> bool {
    env_var(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Fixed credentials.
#[derive(Debug, Clone)]
pub struct StaticProvider {
    credentials: Credentials,
}

impl StaticProvider {
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: Option<String>,
    ) -> Self {
        StaticProvider {
            credentials: Credentials::new(
                access_key_id,
                access_key_secret,
                security_token.unwrap_or_default(),
            ),
        }
    }
}

impl CredentialsProvider for StaticProvider {
    fn credentials(&self) -> Result<Credentials> {
        Ok(self.credentials.clone())
    }
}

/// `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and optional `OSS_SESSION_TOKEN`, read on each
/// request (so a process that rotates them in its environment is followed).
#[derive(Debug, Clone, Default)]
pub struct EnvironmentProvider;

impl CredentialsProvider for EnvironmentProvider {
    fn credentials(&self) -> Result<Credentials> {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let id = get("OSS_ACCESS_KEY_ID");
        let secret = get("OSS_ACCESS_KEY_SECRET");
        match (id, secret) {
            (Some(id), Some(secret)) => Ok(Credentials::new(
                id,
                secret,
                get("OSS_SESSION_TOKEN").unwrap_or_default(),
            )),
            _ => Err(credentials_error(
                "OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET must be set in the environment",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials::new("AKID", "TOPSECRET", "STSTOKEN");
        let s = format!("{c:?}");
        assert!(s.contains("AKID"));
        assert!(!s.contains("TOPSECRET") && !s.contains("STSTOKEN"));
    }

    #[test]
    fn half_filled_credentials_are_refused() {
        assert!(Credentials::new("a", "", "").validate().is_err());
        assert!(Credentials::new("", "", "").validate().is_ok());
        assert!(Credentials::new("a", "b\n", "").validate().is_err());
    }
}
