//! Credentials from files: the Alibaba Cloud CLI's `~/.aliyun/config.json` and the credentials
//! file `~/.alibabacloud/credentials`, read once, when the provider is made.
//!
//! `config.json` (what `aliyun configure` writes; read as alibabacloud-credentials 1.0.12
//! `provider/cli_profile.py` reads it): `{"current": "default", "profiles": [{"name": ..., "mode":
//! ..., ...}]}`. The profile: the one given, else `ALIBABA_CLOUD_PROFILE`, else `current`. Modes:
//! `AK` (`access_key_id`, `access_key_secret`), `StsToken` (and `sts_token`), `RamRoleArn` (an AK
//! and `ram_role_arn`, `ram_session_name`, `expired_seconds`, `sts_region`, `policy`,
//! `external_id`: STS `AssumeRole`), `ChainableRamRoleArn` (`source_profile`'s credentials +
//! the same), `EcsRamRole` (`ram_role_name`), `OIDC` (`ram_role_arn`, `oidc_provider_arn`,
//! `oidc_token_file`, ...). Other modes (`CloudSSO`, `OAuth`, `External`, `CredentialsURI`,
//! `RsaKeyPair`...) are refused with an error naming the mode.
//!
//! The credentials file (ini; credentials-go reads `~/.alibabacloud/credentials`, the Python
//! library `~/.alibabacloud/credentials.ini`: the first that exists is read;
//! `ALIBABA_CLOUD_CREDENTIALS_FILE` replaces both): section = profile (`ALIBABA_CLOUD_PROFILE`,
//! else `default`), `type` = `access_key`, `ram_role_arn`, `oidc_role_arn` or `ecs_ram_role`
//! (`rsa_key_pair` is refused); a `#` starts a comment in a value, as in the official parser.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::ecs::EcsRamRoleProvider;
use super::sts::{OidcRoleProvider, OidcSettings, RamRoleArnProvider, RamRoleArnSettings};
use super::{env_var, Credentials, CredentialsProvider, StaticProvider};
use crate::error::{Error, Result};

/// The modes of `config.json` this library reads.
pub const SUPPORTED_MODES: &str = "AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC";

fn home() -> Result<PathBuf> {
    env_var("HOME").map(PathBuf::from).ok_or_else(|| {
        Error::invalid_credentials("HOME is not set: cannot find the credentials files")
    })
}

/// `~/.aliyun/config.json`.
pub fn default_cli_config_path() -> Result<PathBuf> {
    Ok(home()?.join(".aliyun").join("config.json"))
}

/// `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials`, else
/// `~/.alibabacloud/credentials.ini` (None when neither exists).
pub fn default_credentials_file_path() -> Result<Option<PathBuf>> {
    if let Some(p) = env_var("ALIBABA_CLOUD_CREDENTIALS_FILE") {
        return Ok(Some(PathBuf::from(p)));
    }
    let dir = home()?.join(".alibabacloud");
    Ok(["credentials", "credentials.ini"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file()))
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(&format!("cannot read {what}"), path, &e))
}

/// A provider chosen by a profile, with the profile's name for logs.
#[derive(Clone)]
pub struct CliProfileProvider {
    inner: Arc<dyn CredentialsProvider>,
    pub description: String,
}

impl CliProfileProvider {
    /// `path`: None for `~/.aliyun/config.json`; `profile`: None for `ALIBABA_CLOUD_PROFILE`,
    /// else the file's `current`.
    pub fn new(path: Option<&Path>, profile: Option<&str>) -> Result<Self> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => default_cli_config_path()?,
        };
        let text = read(&path, "the Alibaba Cloud CLI configuration")?;
        Self::from_json(&text, &path, profile)
    }

    pub fn from_json(text: &str, path: &Path, profile: Option<&str>) -> Result<Self> {
        let config: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::invalid_credentials(format!(
                "'{}' is not a valid CLI configuration (JSON: line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let name = profile
            .map(str::to_string)
            .filter(|p| !p.is_empty())
            .or_else(|| env_var("ALIBABA_CLOUD_PROFILE"))
            .or_else(|| {
                config
                    .get("current")
                    .and_then(|c| c.as_str())
                    .map(str::to_string)
            })
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                Error::invalid_credentials(format!(
                    "'{}' names no current profile and none was given",
                    path.display()
                ))
            })?;
        let inner = cli_profile(&config, path, &name, 0)?;
        Ok(CliProfileProvider {
            inner,
            description: format!("profile '{name}' of {}", path.display()),
        })
    }
}

fn cli_profile(
    config: &serde_json::Value,
    path: &Path,
    name: &str,
    depth: usize,
) -> Result<Arc<dyn CredentialsProvider>> {
    if depth > 8 {
        return Err(Error::invalid_credentials(format!(
            "'{}': the source_profile chain from '{name}' is too long (a loop?)",
            path.display()
        )));
    }
    let p = Profile::find(config, path, name)?;
    let mode = p.s("mode").unwrap_or_default();
    Ok(match mode.as_str() {
        "AK" => p.ak()?,
        "StsToken" => {
            let c = StaticProvider::new(
                p.need("access_key_id")?,
                p.need("access_key_secret")?,
                Some(p.need("sts_token")?),
            );
            c.credentials()?.validate()?;
            Arc::new(c)
        }
        "RamRoleArn" => p.role(p.ak()?)?,
        "ChainableRamRoleArn" => {
            let source = cli_profile(config, path, &p.need("source_profile")?, depth + 1)?;
            p.role(source)?
        }
        "EcsRamRole" => Arc::new(EcsRamRoleProvider::new(
            p.s("ram_role_name").as_deref(),
            None,
        )?),
        "OIDC" => Arc::new(OidcRoleProvider::new(OidcSettings {
            role_arn: Some(p.need("ram_role_arn")?),
            oidc_provider_arn: Some(p.need("oidc_provider_arn")?),
            oidc_token_file: Some(p.need("oidc_token_file")?),
            role_session_name: p.s("ram_session_name"),
            duration_seconds: p.seconds(),
            policy: p.s("policy"),
            sts_region: p.s("sts_region"),
            sts_endpoint: None,
        })?),
        other => {
            return Err(Error::invalid_credentials(format!(
                "profile '{name}' of '{}' uses mode '{}', which this library does not support \
                 (supported: {SUPPORTED_MODES})",
                path.display(),
                other.chars().take(64).collect::<String>()
            )))
        }
    })
}

/// One profile of the CLI's configuration file, and the providers made from its fields.
struct Profile<'a> {
    p: &'a serde_json::Value,
    path: &'a Path,
    name: &'a str,
}

impl<'a> Profile<'a> {
    /// The profile named `name` of `config` (read from `path`).
    fn find(config: &'a serde_json::Value, path: &'a Path, name: &'a str) -> Result<Self> {
        let p = config
            .get("profiles")
            .and_then(|p| p.as_array())
            .and_then(|ps| {
                ps.iter()
                    .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
            })
            .ok_or_else(|| {
                Error::invalid_credentials(format!(
                    "'{}' has no profile named '{name}'",
                    path.display()
                ))
            })?;
        Ok(Profile { p, path, name })
    }

    /// A non-empty string field.
    fn s(&self, k: &str) -> Option<String> {
        self.p
            .get(k)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// A string field the mode needs.
    fn need(&self, k: &str) -> Result<String> {
        self.s(k).ok_or_else(|| {
            Error::invalid_credentials(format!(
                "profile '{}' of '{}' has no {k}",
                self.name,
                self.path.display()
            ))
        })
    }

    /// `expired_seconds`, when positive.
    fn seconds(&self) -> Option<u32> {
        self.p
            .get("expired_seconds")
            .and_then(|v| v.as_u64())
            .filter(|&v| v > 0)
            .map(|v| v.min(u32::MAX as u64) as u32)
    }

    /// The profile's access key.
    fn ak(&self) -> Result<Arc<dyn CredentialsProvider>> {
        let c = StaticProvider::new(
            self.need("access_key_id")?,
            self.need("access_key_secret")?,
            None,
        );
        c.credentials()?.validate()?;
        Ok(Arc::new(c))
    }

    /// The profile's RAM role, assumed with `source`'s credentials.
    fn role(&self, source: Arc<dyn CredentialsProvider>) -> Result<Arc<dyn CredentialsProvider>> {
        Ok(Arc::new(RamRoleArnProvider::new(
            source,
            RamRoleArnSettings {
                role_arn: self.need("ram_role_arn")?,
                role_session_name: self.s("ram_session_name"),
                duration_seconds: self.seconds(),
                policy: self.s("policy"),
                external_id: self.s("external_id"),
                sts_region: self.s("sts_region"),
                sts_endpoint: None,
            },
        )?))
    }
}

impl CredentialsProvider for CliProfileProvider {
    fn credentials(&self) -> Result<Credentials> {
        self.inner.credentials()
    }

    fn credentials_async(&self) -> BoxFuture<'_, Result<Credentials>> {
        self.inner.credentials_async()
    }
}

/// The ini credentials file (module docs).
#[derive(Clone)]
pub struct ProfileFileProvider {
    inner: Arc<dyn CredentialsProvider>,
    pub description: String,
}

impl ProfileFileProvider {
    /// `path`: None for the default (module docs); `profile`: None for
    /// `ALIBABA_CLOUD_PROFILE`, else `default`.
    pub fn new(path: Option<&Path>, profile: Option<&str>) -> Result<Self> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => default_credentials_file_path()?.ok_or_else(|| {
                Error::invalid_credentials(
                    "no credentials file (~/.alibabacloud/credentials or credentials.ini)",
                )
            })?,
        };
        let text = read(&path, "the credentials file")?;
        Self::from_ini(&text, &path, profile)
    }

    pub fn from_ini(text: &str, path: &Path, profile: Option<&str>) -> Result<Self> {
        let name = profile
            .map(str::to_string)
            .filter(|p| !p.is_empty())
            .or_else(|| env_var("ALIBABA_CLOUD_PROFILE"))
            .unwrap_or_else(|| "default".to_string());
        let sections = parse_ini(text);
        let sec = sections.get(&name).ok_or_else(|| {
            Error::invalid_credentials(format!(
                "the credentials file '{}' has no section [{name}]",
                path.display()
            ))
        })?;
        let s = |k: &str| sec.get(k).filter(|v| !v.is_empty()).cloned();
        let need = |k: &str| {
            s(k).ok_or_else(|| {
                Error::invalid_credentials(format!(
                    "section [{name}] of '{}' has no {k}",
                    path.display()
                ))
            })
        };
        let ak = || -> Result<Arc<dyn CredentialsProvider>> {
            let c = StaticProvider::new(need("access_key_id")?, need("access_key_secret")?, None);
            c.credentials()?.validate()?;
            Ok(Arc::new(c))
        };
        let kind = s("type").unwrap_or_default();
        let inner: Arc<dyn CredentialsProvider> = match kind.as_str() {
            "access_key" => ak()?,
            "ram_role_arn" => Arc::new(RamRoleArnProvider::new(
                ak()?,
                RamRoleArnSettings {
                    role_arn: need("role_arn")?,
                    role_session_name: s("role_session_name"),
                    policy: s("policy"),
                    ..Default::default()
                },
            )?),
            "oidc_role_arn" => Arc::new(OidcRoleProvider::new(OidcSettings {
                role_arn: Some(need("role_arn")?),
                oidc_provider_arn: Some(need("oidc_provider_arn")?),
                oidc_token_file: Some(need("oidc_token_file_path")?),
                role_session_name: s("role_session_name"),
                policy: s("policy"),
                ..Default::default()
            })?),
            "ecs_ram_role" => Arc::new(EcsRamRoleProvider::new(s("role_name").as_deref(), None)?),
            other => {
                return Err(Error::invalid_credentials(format!(
                    "section [{name}] of '{}' has type '{}', which this library does not support \
                     (supported: access_key, ram_role_arn, oidc_role_arn, ecs_ram_role)",
                    path.display(),
                    other.chars().take(64).collect::<String>()
                )))
            }
        };
        Ok(ProfileFileProvider {
            inner,
            description: format!("section [{name}] of {}", path.display()),
        })
    }
}

impl CredentialsProvider for ProfileFileProvider {
    fn credentials(&self) -> Result<Credentials> {
        self.inner.credentials()
    }

    fn credentials_async(&self) -> BoxFuture<'_, Result<Credentials>> {
        self.inner.credentials_async()
    }
}

/// `[section]` and `key = value` lines; `;`/`#` lines are comments, and a `#` ends a value.
fn parse_ini(text: &str) -> HashMap<String, HashMap<String, String>> {
    let mut out: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(sec) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let sec = sec.trim().to_string();
            out.entry(sec.clone()).or_default();
            current = Some(sec);
            continue;
        }
        let Some(sec) = &current else { continue };
        let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            continue;
        };
        let v = v.split('#').next().unwrap_or("").trim();
        out.entry(sec.clone())
            .or_default()
            .insert(k.trim().to_lowercase(), v.to_string());
    }
    out
}

/// A file that holds either format: JSON (`{...}`) is a CLI configuration, anything else the ini
/// credentials file.
pub fn from_file(path: &Path, profile: Option<&str>) -> Result<Arc<dyn CredentialsProvider>> {
    let text = read(path, "the credentials profile file")?;
    if text.trim_start().starts_with('{') {
        Ok(Arc::new(CliProfileProvider::from_json(
            &text, path, profile,
        )?))
    } else {
        Ok(Arc::new(ProfileFileProvider::from_ini(
            &text, path, profile,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_values_lose_their_comments() {
        let m = parse_ini("[default]\ntype = access_key # a comment\n; x\naccess_key_id=ID\n");
        assert_eq!(m["default"]["type"], "access_key");
        assert_eq!(m["default"]["access_key_id"], "ID");
    }
}
