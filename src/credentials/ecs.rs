//! The ECS instance RAM role: credentials from the instance metadata service, as the official
//! credentials libraries fetch them (alibabacloud-credentials 1.0.12 `provider/ecs_ram_role.py`;
//! credentials-go `providers/ecs_ram_role.go`):
//!
//! 1. IMDSv2 (hardened mode): `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds:
//!    21600`; the token goes into `X-aliyun-ecs-metadata-token` on the next requests. When that
//!    fails the requests go without a token (IMDSv1), unless `ALIBABA_CLOUD_IMDSV1_DISABLED=true`.
//! 2. The role: the one given, else `ALIBABA_CLOUD_ECS_METADATA`, else the first line of
//!    `GET /latest/meta-data/ram/security-credentials/`.
//! 3. `GET /latest/meta-data/ram/security-credentials/<role>`: JSON with `Code` ("Success"),
//!    `AccessKeyId`, `AccessKeySecret`, `SecurityToken`, `Expiration` (`2006-01-02T15:04:05Z`).
//!
//! The service is `http://100.100.100.200`; `OSS_FFI_ECS_METADATA_ENDPOINT` (this library's, for
//! tests and proxies of the metadata service) replaces it. Timeouts: 1 s to connect (as the
//! official libraries), 5 s for each exchange.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::http::{client, exchange, host_of, service_url};
use super::refresh::{Expiring, Fetch, RefreshingProvider};
use super::{env_true, env_var, Credentials};
use crate::error::{Error, Result};

/// The metadata service of every ECS instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// This library's variable that replaces [`DEFAULT_METADATA_ENDPOINT`].
pub const METADATA_ENDPOINT_ENV: &str = "OSS_FFI_ECS_METADATA_ENDPOINT";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_PATH: &str = "/latest/api/token";
const TOKEN_TTL_SECONDS: &str = "21600";

/// Builds [`RefreshingProvider`]s over the metadata service.
pub struct EcsRamRoleProvider;

impl EcsRamRoleProvider {
    /// `role`: None for `ALIBABA_CLOUD_ECS_METADATA` or the instance's own role. `endpoint`:
    /// None for `OSS_FFI_ECS_METADATA_ENDPOINT` or `http://100.100.100.200`.
    /// Fails when `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` (as the official provider).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(role: Option<&str>, endpoint: Option<&str>) -> Result<RefreshingProvider> {
        Ok(RefreshingProvider::new(EcsFetch::new(role, endpoint)?))
    }
}

pub(crate) struct EcsFetch {
    role: Option<String>,
    base: reqwest::Url,
    imds_v1_disabled: bool,
    http: reqwest::Client,
}

impl EcsFetch {
    pub(crate) fn new(role: Option<&str>, endpoint: Option<&str>) -> Result<Self> {
        if env_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
            return Err(Error::invalid_credentials(
                "the ECS RAM role is disabled (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true)",
            ));
        }
        let role = role
            .map(str::to_string)
            .filter(|r| !r.is_empty())
            .or_else(|| env_var("ALIBABA_CLOUD_ECS_METADATA"));
        if let Some(r) = &role {
            check_role_name(r)?;
        }
        let endpoint = endpoint
            .map(str::to_string)
            .filter(|e| !e.is_empty())
            .or_else(|| env_var(METADATA_ENDPOINT_ENV))
            .unwrap_or_else(|| DEFAULT_METADATA_ENDPOINT.to_string());
        Ok(EcsFetch {
            role,
            base: service_url(&endpoint, "http", false)?,
            imds_v1_disabled: env_true("ALIBABA_CLOUD_IMDSV1_DISABLED"),
            http: client(Duration::from_secs(1), Duration::from_secs(5), false)?,
        })
    }

    fn what(&self) -> String {
        format!("the ECS metadata service at {}", host_of(&self.base))
    }

    fn url(&self, path: &str) -> reqwest::Url {
        let mut u = self.base.clone();
        u.set_path(path);
        u
    }

    async fn token(&self) -> Result<Option<String>> {
        let rb = self
            .http
            .put(self.url(TOKEN_PATH))
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS);
        let got = match exchange(rb, &self.what()).await {
            Ok((200, body)) if !body.trim().is_empty() => Ok(body.trim().to_string()),
            Ok((status, _)) => Err(Error::invalid_credentials(format!(
                "{}: no metadata token (HTTP {status})",
                self.what()
            ))),
            Err(e) => Err(e),
        };
        match got {
            Ok(t) => Ok(Some(t)),
            Err(e) if self.imds_v1_disabled => Err(e),
            Err(_) => Ok(None),
        }
    }

    async fn get(&self, path: &str, token: &Option<String>) -> Result<String> {
        let mut rb = self.http.get(self.url(path));
        if let Some(t) = token {
            rb = rb.header("X-aliyun-ecs-metadata-token", t.as_str());
        }
        match exchange(rb, &self.what()).await? {
            (200, body) => Ok(body),
            (404, _) if path == CREDENTIALS_PATH => Err(Error::invalid_credentials(format!(
                "{}: this instance has no RAM role (HTTP 404)",
                self.what()
            ))),
            (status, _) => Err(Error::invalid_credentials(format!(
                "{}: HTTP {status} for {path}",
                self.what()
            ))),
        }
    }

    async fn fetch_now(&self) -> Result<Expiring> {
        let token = self.token().await?;
        let role = match &self.role {
            Some(r) => r.clone(),
            None => {
                let body = self.get(CREDENTIALS_PATH, &token).await?;
                let r = body.lines().next().unwrap_or("").trim().to_string();
                if r.is_empty() {
                    return Err(Error::invalid_credentials(format!(
                        "{}: this instance has no RAM role",
                        self.what()
                    )));
                }
                check_role_name(&r)?;
                r
            }
        };
        let body = self
            .get(&format!("{CREDENTIALS_PATH}{role}"), &token)
            .await?;
        parse_credentials(&body, &self.what())
    }
}

/// A role name goes into a URL path: no separators, no control characters.
fn check_role_name(r: &str) -> Result<()> {
    if r.len() > 256
        || r.chars()
            .any(|c| c.is_control() || matches!(c, '/' | '?' | '#' | '%' | '\\' | ' '))
        || r == "."
        || r == ".."
    {
        return Err(Error::validate(format!("invalid ECS RAM role name {r:?}")));
    }
    Ok(())
}

/// The metadata service's answer (also STS's `Credentials` object: the same four fields).
pub(crate) fn parse_credentials(body: &str, what: &str) -> Result<Expiring> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| {
        Error::invalid_credentials(format!("{what}: the answer is not the expected JSON"))
    })?;
    if let Some(code) = v.get("Code").and_then(|c| c.as_str()) {
        if code != "Success" {
            return Err(Error::invalid_credentials(format!(
                "{what}: the answer's Code is {:?}, not \"Success\"",
                code.chars().take(64).collect::<String>()
            )));
        }
    }
    expiring_from(&v, what)
}

/// `AccessKeyId`, `AccessKeySecret`, `SecurityToken` and `Expiration` of a JSON object.
pub(crate) fn expiring_from(v: &serde_json::Value, what: &str) -> Result<Expiring> {
    let field = |name: &str| {
        v.get(name)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .ok_or_else(|| Error::invalid_credentials(format!("{what}: the answer has no {name}")))
    };
    let expiration = field("Expiration")?;
    let expiration = crate::date::parse_time(expiration).ok_or_else(|| {
        Error::invalid_credentials(format!("{what}: the answer's Expiration is not a time"))
    })?;
    Ok(Expiring {
        credentials: Credentials::new(
            field("AccessKeyId")?,
            field("AccessKeySecret")?,
            field("SecurityToken")?,
        ),
        expiration,
    })
}

impl Fetch for EcsFetch {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<Expiring>> + Send + '_>> {
        Box::pin(self.fetch_now())
    }

    fn describe(&self) -> String {
        match &self.role {
            Some(r) => format!("the ECS RAM role {r:?} ({})", self.what()),
            None => format!("the ECS RAM role ({})", self.what()),
        }
    }
}
