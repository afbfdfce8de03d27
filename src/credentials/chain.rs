//! The default credentials chain, in the official order (alibabacloud-credentials 1.0.12
//! `provider/default.py` `DefaultCredentialsProvider`; credentials-go
//! `providers/default.go`; the Java library's `DefaultCredentialsProvider` has the same steps):
//!
//! 1. the environment: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`, optional
//!    `ALIBABA_CLOUD_SECURITY_TOKEN`; then (this library's addition, the OSS SDKs' own variables)
//!    `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET`, optional `OSS_SESSION_TOKEN`;
//! 2. OIDC role assumption, when `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
//!    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set;
//! 3. the CLI's `~/.aliyun/config.json`, unless `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`;
//! 4. the credentials file `~/.alibabacloud/credentials` (or `ALIBABA_CLOUD_CREDENTIALS_FILE`);
//! 5. the ECS instance RAM role, unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`.
//!
//! (The official chain ends with `ALIBABA_CLOUD_CREDENTIALS_URI`, which this library does not
//! read.) The chain is walked on the first request; the first step that gives credentials is
//! kept for every later request (the official `reuse_last_provider_enabled`, on by default), so
//! its refresh and errors are that provider's. When no step gives credentials, the error lists
//! each step's reason.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use super::ecs::EcsRamRoleProvider;
use super::profile::{default_cli_config_path, CliProfileProvider, ProfileFileProvider};
use super::sts::{OidcRoleProvider, OidcSettings};
use super::{env_true, env_var, Credentials, CredentialsProvider};
use crate::error::{Error, Result};
use crate::log::{self, Level};

/// The environment step: the official variables, then the OSS SDKs' ones.
#[derive(Debug, Clone, Default)]
pub struct AlibabaCloudEnvProvider;

impl CredentialsProvider for AlibabaCloudEnvProvider {
    fn credentials(&self) -> Result<Credentials> {
        for (id, secret, token) in [
            (
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                "ALIBABA_CLOUD_SECURITY_TOKEN",
            ),
            (
                "OSS_ACCESS_KEY_ID",
                "OSS_ACCESS_KEY_SECRET",
                "OSS_SESSION_TOKEN",
            ),
        ] {
            if let (Some(id), Some(secret)) = (env_var(id), env_var(secret)) {
                let c = Credentials::new(id, secret, env_var(token).unwrap_or_default());
                c.validate()?;
                return Ok(c);
            }
        }
        Err(Error::invalid_credentials(
            "neither ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET nor \
             OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET are set",
        ))
    }
}

type Chosen = (String, Arc<dyn CredentialsProvider>);

struct State {
    chosen: Mutex<Option<Chosen>>,
    /// One walk at a time: concurrent first requests share it.
    walk: tokio::sync::Mutex<()>,
}

/// The default chain (module docs).
#[derive(Clone)]
pub struct DefaultChainProvider {
    state: Arc<State>,
}

impl Default for DefaultChainProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl DefaultChainProvider {
    pub fn new() -> Self {
        DefaultChainProvider {
            state: Arc::new(State {
                chosen: Mutex::new(None),
                walk: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Which step gives the credentials ("environment", "profile 'x' of ..."), once known.
    pub fn chosen(&self) -> Option<String> {
        self.state.chosen().map(|(d, _)| d)
    }
}

type MakeStep = Box<dyn FnOnce() -> Result<Chosen> + Send>;

/// The steps in order, each made only when the walk reaches it (it reads the environment and
/// files then): a name for errors and how to make the provider, or why the step does not apply.
fn steps() -> Vec<(&'static str, MakeStep)> {
    fn chosen(description: String, p: impl CredentialsProvider + 'static) -> Chosen {
        (description, Arc::new(p) as Arc<dyn CredentialsProvider>)
    }
    let mut out: Vec<(&'static str, MakeStep)> = vec![(
        "environment",
        Box::new(|| Ok(chosen("environment".to_string(), AlibabaCloudEnvProvider))),
    )];
    if OidcRoleProvider::configured_by_env() {
        out.push((
            "OIDC",
            Box::new(|| {
                OidcRoleProvider::new(OidcSettings::default()).map(|p| chosen(p.describe(), p))
            }),
        ));
    }
    if !env_true("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") {
        out.push((
            "CLI profile",
            Box::new(|| {
                let path = default_cli_config_path()?;
                if !path.is_file() {
                    return Err(Error::invalid_credentials(format!(
                        "no file '{}'",
                        path.display()
                    )));
                }
                CliProfileProvider::new(Some(&path), None).map(|p| chosen(p.description.clone(), p))
            }),
        ));
    }
    out.push((
        "credentials file",
        Box::new(|| ProfileFileProvider::new(None, None).map(|p| chosen(p.description.clone(), p))),
    ));
    if !env_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
        out.push((
            "ECS RAM role",
            Box::new(|| EcsRamRoleProvider::new(None, None).map(|p| chosen(p.describe(), p))),
        ));
    }
    out
}

impl State {
    fn chosen(&self) -> Option<Chosen> {
        self.chosen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn get(self: Arc<Self>) -> Result<Credentials> {
        if let Some((_, p)) = self.chosen() {
            return p.credentials_async().await;
        }
        let _one_walk = self.walk.lock().await;
        if let Some((_, p)) = self.chosen() {
            return p.credentials_async().await;
        }
        let mut reasons = Vec::new();
        for (step, make) in steps() {
            let (description, provider) = match make() {
                Ok(m) => m,
                Err(e) => {
                    reasons.push(format!("{step}: {}", e.message));
                    continue;
                }
            };
            match provider.credentials_async().await {
                Ok(c) => {
                    log::log(Level::Info, || {
                        format!("credentials: the default chain uses {description}")
                    });
                    *self.chosen.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((description, provider));
                    return Ok(c);
                }
                Err(e) => reasons.push(format!("{step}: {}", e.message)),
            }
        }
        Err(Error::invalid_credentials(format!(
            "no credentials from any step of the default chain: {}",
            reasons.join("; ")
        )))
    }
}

impl CredentialsProvider for DefaultChainProvider {
    fn credentials(&self) -> Result<Credentials> {
        if let Some((_, p)) = self.state.chosen() {
            return p.credentials();
        }
        super::http::wait(self.state.clone().get())
    }

    fn credentials_async(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.state.clone().get())
    }
}
