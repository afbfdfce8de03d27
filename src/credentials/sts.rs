//! STS role assumption, as the official credentials libraries do it (alibabacloud-credentials
//! 1.0.12 `provider/oidc.py` and `provider/ram_role_arn.py`; credentials-go
//! `providers/oidc.go`, `providers/ram_role_arn.go`):
//!
//! - `AssumeRoleWithOIDC` (RRSA on ACK): `RoleArn`, `OIDCProviderArn`, the token read from the
//!   token file on every refresh (the cluster rotates it), `RoleSessionName`, `DurationSeconds`;
//!   not signed. From `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
//!   `ALIBABA_CLOUD_OIDC_TOKEN_FILE`, `ALIBABA_CLOUD_ROLE_SESSION_NAME` when not given.
//! - `AssumeRole` (RAM role ARN): the same with `AccessKeyId` (and `SecurityToken` when the
//!   source credentials are STS ones), signed with the source secret: the RPC signature of
//!   Alibaba Cloud's POP APIs (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`,
//!   `SignatureNonce`, `Timestamp`; string to sign `METHOD&%2F&` + the encoded sorted query,
//!   key `secret + "&"`).
//!
//! Common parameters `Format=JSON`, `Version=2015-04-01`, `Timestamp` (`yyyy-MM-ddTHH:mm:ssZ`).
//! The parameters go in a POST form body, never in the URL (the OIDC token and the STS token
//! are secrets); credentials-go also POSTs both actions with a form body and signs AssumeRole
//! with `POST&%2F&...` over all the parameters. The endpoint: the one given, else `OSS_FFI_STS_ENDPOINT` (this library's; a
//! host or a URL, plain http only on loopback, for tests), else `sts[-vpc].<region>.aliyuncs.com`
//! from `ALIBABA_CLOUD_STS_REGION` (and `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`), else
//! `sts.aliyuncs.com`; https. Timeouts: 5 s to connect, 15 s for the exchange.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Digest;

use super::http::{client, exchange, host_of, service_url};
use super::refresh::{Expiring, Fetch, RefreshingProvider};
use super::{env_true, env_var, CredentialsProvider};
use crate::error::{Error, Result};

/// This library's variable that sets the STS endpoint of every provider that has none given.
pub const STS_ENDPOINT_ENV: &str = "OSS_FFI_STS_ENDPOINT";
/// The official libraries' default session length.
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;

/// Where STS is: see the module docs.
pub fn sts_endpoint(explicit: Option<&str>, region: Option<&str>) -> Result<reqwest::Url> {
    if let Some(e) = explicit
        .map(str::to_string)
        .filter(|e| !e.is_empty())
        .or_else(|| env_var(STS_ENDPOINT_ENV))
    {
        return service_url(&e, "https", true);
    }
    let prefix = if env_true("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED") {
        "sts-vpc"
    } else {
        "sts"
    };
    let host = match region
        .map(str::to_string)
        .filter(|r| !r.is_empty())
        .or_else(|| env_var("ALIBABA_CLOUD_STS_REGION"))
    {
        Some(r) => format!("{prefix}.{r}.aliyuncs.com"),
        None => "sts.aliyuncs.com".to_string(),
    };
    service_url(&host, "https", true)
}

/// What both actions share.
struct Common {
    role_arn: String,
    session_name: String,
    duration_seconds: u32,
    policy: Option<String>,
    endpoint: reqwest::Url,
    http: reqwest::Client,
}

impl Common {
    fn new(
        role_arn: String,
        session_name: Option<String>,
        duration_seconds: Option<u32>,
        policy: Option<String>,
        endpoint: reqwest::Url,
    ) -> Result<Self> {
        let duration_seconds = duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
        if duration_seconds < 900 {
            return Err(Error::validate(
                "the STS session duration must be at least 900 seconds",
            ));
        }
        let session_name = session_name
            .filter(|s| !s.is_empty())
            .or_else(|| env_var("ALIBABA_CLOUD_ROLE_SESSION_NAME"))
            .unwrap_or_else(|| format!("oss-ffi-{}", unix_now()));
        Ok(Common {
            role_arn,
            session_name,
            duration_seconds,
            policy: policy.filter(|p| !p.is_empty()),
            endpoint,
            http: client(Duration::from_secs(5), Duration::from_secs(15), true)?,
        })
    }

    fn params(&self, action: &str) -> Vec<(String, String)> {
        let mut p = vec![
            ("Action".to_string(), action.to_string()),
            ("Format".to_string(), "JSON".to_string()),
            ("Version".to_string(), "2015-04-01".to_string()),
            ("Timestamp".to_string(), timestamp(SystemTime::now())),
            (
                "DurationSeconds".to_string(),
                self.duration_seconds.to_string(),
            ),
            ("RoleArn".to_string(), self.role_arn.clone()),
            ("RoleSessionName".to_string(), self.session_name.clone()),
        ];
        if let Some(policy) = &self.policy {
            p.push(("Policy".to_string(), policy.clone()));
        }
        p
    }

    fn what(&self, action: &str) -> String {
        format!("STS {action} at {}", host_of(&self.endpoint))
    }

    async fn call(&self, action: &str, params: &[(String, String)]) -> Result<Expiring> {
        let what = self.what(action);
        let body = encode_query(params);
        let rb = self
            .http
            .post(self.endpoint.clone())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        let (status, body) = exchange(rb, &what).await?;
        let v: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        if status != 200 {
            let text = |name: &str| {
                v.as_ref()
                    .and_then(|v| v.get(name))
                    .and_then(|x| x.as_str())
                    .map(|s| s.chars().take(200).collect::<String>())
            };
            return Err(Error::invalid_credentials(format!(
                "{what}: HTTP {status}{}{}",
                text("Code").map(|c| format!(", {c}")).unwrap_or_default(),
                text("Message")
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default(),
            )));
        }
        let creds = v
            .as_ref()
            .and_then(|v| v.get("Credentials"))
            .ok_or_else(|| {
                Error::invalid_credentials(format!("{what}: the answer has no Credentials"))
            })?;
        super::ecs::expiring_from(creds, &what)
    }
}

/// `AssumeRoleWithOIDC`.
pub(crate) struct OidcFetch {
    common: Common,
    provider_arn: String,
    token_file: String,
}

/// Builds [`RefreshingProvider`]s over `AssumeRoleWithOIDC`.
pub struct OidcRoleProvider;

/// Settings of [`OidcRoleProvider`]; None fields come from the environment (module docs).
#[derive(Debug, Default, Clone)]
pub struct OidcSettings {
    pub role_arn: Option<String>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file: Option<String>,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub policy: Option<String>,
    pub sts_region: Option<String>,
    pub sts_endpoint: Option<String>,
}

impl OidcRoleProvider {
    #[allow(clippy::new_ret_no_self)]
    pub fn new(s: OidcSettings) -> Result<RefreshingProvider> {
        Ok(RefreshingProvider::new(OidcFetch::new(s)?))
    }

    /// Whether the three variables that turn OIDC on in the default chain are set.
    pub fn configured_by_env() -> bool {
        env_var("ALIBABA_CLOUD_ROLE_ARN").is_some()
            && env_var("ALIBABA_CLOUD_OIDC_PROVIDER_ARN").is_some()
            && env_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE").is_some()
    }
}

impl OidcFetch {
    fn new(s: OidcSettings) -> Result<Self> {
        let pick = |v: Option<String>, env: &str| -> Result<String> {
            v.filter(|x| !x.is_empty())
                .or_else(|| env_var(env))
                .ok_or_else(|| {
                    Error::invalid_credentials(format!(
                        "OIDC role: no {} (give it or set {env})",
                        env.trim_start_matches("ALIBABA_CLOUD_").to_lowercase()
                    ))
                })
        };
        let role_arn = pick(s.role_arn, "ALIBABA_CLOUD_ROLE_ARN")?;
        let provider_arn = pick(s.oidc_provider_arn, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN")?;
        let token_file = pick(s.oidc_token_file, "ALIBABA_CLOUD_OIDC_TOKEN_FILE")?;
        let endpoint = sts_endpoint(s.sts_endpoint.as_deref(), s.sts_region.as_deref())?;
        Ok(OidcFetch {
            common: Common::new(
                role_arn,
                s.role_session_name,
                s.duration_seconds,
                s.policy,
                endpoint,
            )?,
            provider_arn,
            token_file,
        })
    }

    async fn fetch_now(&self) -> Result<Expiring> {
        let path = std::path::Path::new(&self.token_file);
        let token = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| Error::io("cannot read the OIDC token file", path, &e))?;
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::invalid_credentials(format!(
                "the OIDC token file '{}' is empty",
                self.token_file
            )));
        }
        let mut p = self.common.params("AssumeRoleWithOIDC");
        p.push(("OIDCProviderArn".to_string(), self.provider_arn.clone()));
        p.push(("OIDCToken".to_string(), token.to_string()));
        self.common.call("AssumeRoleWithOIDC", &p).await
    }
}

impl Fetch for OidcFetch {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Expiring>> + Send + '_>> {
        Box::pin(self.fetch_now())
    }

    fn describe(&self) -> String {
        format!(
            "the OIDC role {} ({})",
            self.common.role_arn,
            self.common.what("AssumeRoleWithOIDC")
        )
    }
}

/// `AssumeRole` signed with source credentials.
pub(crate) struct RamRoleArnFetch {
    common: Common,
    source: Arc<dyn CredentialsProvider>,
    external_id: Option<String>,
}

/// Builds [`RefreshingProvider`]s over `AssumeRole`.
pub struct RamRoleArnProvider;

/// Settings of [`RamRoleArnProvider`].
#[derive(Debug, Default, Clone)]
pub struct RamRoleArnSettings {
    pub role_arn: String,
    pub role_session_name: Option<String>,
    pub duration_seconds: Option<u32>,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub sts_region: Option<String>,
    pub sts_endpoint: Option<String>,
}

impl RamRoleArnProvider {
    /// `source`: the credentials that sign `AssumeRole` (an access key, or STS credentials).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        source: Arc<dyn CredentialsProvider>,
        s: RamRoleArnSettings,
    ) -> Result<RefreshingProvider> {
        if s.role_arn.is_empty() {
            return Err(Error::invalid_credentials("RAM role ARN: no role ARN"));
        }
        let endpoint = sts_endpoint(s.sts_endpoint.as_deref(), s.sts_region.as_deref())?;
        Ok(RefreshingProvider::new(RamRoleArnFetch {
            common: Common::new(
                s.role_arn,
                s.role_session_name,
                s.duration_seconds,
                s.policy,
                endpoint,
            )?,
            source,
            external_id: s.external_id.filter(|e| !e.is_empty()),
        }))
    }
}

impl RamRoleArnFetch {
    async fn fetch_now(&self) -> Result<Expiring> {
        let src = self.source.credentials_async().await?;
        src.validate()?;
        if src.is_anonymous() {
            return Err(Error::invalid_credentials(
                "RAM role ARN: the source credentials are empty",
            ));
        }
        let mut p = self.common.params("AssumeRole");
        p.push(("SignatureMethod".to_string(), "HMAC-SHA1".to_string()));
        p.push(("SignatureVersion".to_string(), "1.0".to_string()));
        p.push(("SignatureNonce".to_string(), nonce()));
        p.push(("AccessKeyId".to_string(), src.access_key_id.clone()));
        if !src.security_token.is_empty() {
            p.push(("SecurityToken".to_string(), src.security_token.clone()));
        }
        if let Some(id) = &self.external_id {
            p.push(("ExternalId".to_string(), id.clone()));
        }
        let signature = rpc_signature("POST", &p, &src.access_key_secret);
        p.push(("Signature".to_string(), signature));
        self.common.call("AssumeRole", &p).await
    }
}

impl Fetch for RamRoleArnFetch {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Expiring>> + Send + '_>> {
        Box::pin(self.fetch_now())
    }

    fn describe(&self) -> String {
        format!(
            "the RAM role {} ({})",
            self.common.role_arn,
            self.common.what("AssumeRole")
        )
    }
}

/// The POP RPC signature: base64(HMAC-SHA1(secret + "&", METHOD + "&%2F&" + enc(sorted query))).
pub fn rpc_signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let canonical = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", pop_encode("/"), pop_encode(&canonical));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Percent-encoding of the RPC signature: RFC 3986 unreserved characters kept, every other
/// byte `%XX` (upper case); a space is `%20`, never `+`.
pub fn pop_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encode_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", pop_encode(k), pop_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `yyyy-MM-ddTHH:mm:ssZ` (UTC).
fn timestamp(t: SystemTime) -> String {
    let b = crate::date::iso8601(t); // yyyymmddThhmmssZ
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &b[0..4],
        &b[4..6],
        &b[6..8],
        &b[9..11],
        &b[11..13],
        &b[13..15]
    )
}

/// A unique `SignatureNonce` (process, time and a counter through SHA-256).
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let digest = sha2::Sha256::digest(format!("{}-{nanos}-{n}", std::process::id()));
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_iso8601_with_separators() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(timestamp(t), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn pop_encoding_keeps_only_unreserved_characters() {
        assert_eq!(pop_encode("a b*~/:é"), "a%20b%2A~%2F%3A%C3%A9");
    }
}
