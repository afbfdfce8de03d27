//! Client configuration, mirroring the C++ SDK's `ClientConfiguration` and its defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};

/// Which signature the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// HMAC-SHA1 `OSS ak:sig` (the C++ SDK's default).
    #[default]
    V1,
    /// `OSS4-HMAC-SHA256`; needs a region.
    V4,
}

/// Proxy settings; used only when `host` is non-empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxy {
    /// `http` or `https` (the scheme used to talk to the proxy).
    pub scheme: String,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
}

/// Addresses for a host, instead of the name service's (curl's `--resolve HOST:PORT:ADDR,...`):
/// for tests, for users with their own name service, and to pin an internal endpoint. Also
/// covers a bucket's virtual host under `host` (`bucket.host`). `port` must be the endpoint's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveEntry {
    pub host: String,
    pub port: u16,
    pub addrs: Vec<std::net::IpAddr>,
}

impl ResolveEntry {
    /// Parses `HOST:PORT:ADDR[,ADDR...]` (an IPv6 address may be in brackets: `[::1]`).
    pub fn parse(spec: &str) -> Result<ResolveEntry> {
        let bad = |why: &str| {
            Error::validate(format!(
                "resolve entry '{}' must be HOST:PORT:ADDR[,ADDR...]: {why}",
                spec.escape_debug()
            ))
        };
        let mut it = spec.splitn(3, ':');
        let (host, port, addrs) = match (it.next(), it.next(), it.next()) {
            (Some(h), Some(p), Some(a)) => (h, p, a),
            _ => return Err(bad("too few fields")),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return Err(bad("the host is not a host name"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not 1..65535"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                let a = a.trim();
                let a = a
                    .strip_prefix('[')
                    .and_then(|a| a.strip_suffix(']'))
                    .unwrap_or(a);
                a.parse::<std::net::IpAddr>()
                    .map_err(|_| bad(&format!("'{}' is not an IP address", a.escape_debug())))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ResolveEntry {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }
}

/// A receive rate read again while downloading (bytes per second; 0 = unlimited).
#[derive(Clone)]
pub struct RateSource(pub std::sync::Arc<dyn Fn() -> u64 + Send + Sync>);

impl std::fmt::Debug for RateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateSource")
    }
}

impl PartialEq for RateSource {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RateSource {}

/// Everything a client needs besides its endpoint and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub user_agent: String,
    /// Concurrent requests per client, and the idle connection pool size.
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// Low-speed (idle) timeout: fail when no byte arrives for this long. Not a total timeout.
    pub request_timeout: Duration,
    /// Deadline of a whole call (HeadObject, GetObject, a resumable download...), all its
    /// requests and retries included; `None` (the default): none. Past it the call ends with a
    /// `Timeout` error (`ClientError:200028`); a resumable download keeps its checkpoint. The C API
    /// applies it to every call; Rust callers get it with `Client::call_cancel`.
    pub call_timeout: Option<Duration>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First retry delay; doubled each retry (300, 600, 1200 ms by default).
    pub retry_base_delay: Duration,
    /// Upper bound of one retry delay.
    pub retry_max_delay: Duration,
    pub proxy: Proxy,
    /// The hosts reached without a proxy, as libcurl's `CURLOPT_NOPROXY`: `None` reads
    /// `no_proxy`/`NO_PROXY` from the environment (for a configured proxy too, as the official
    /// SDK's libcurl does); `Some(list)` replaces it (`Some("")`: every host through the proxy).
    pub no_proxy: Option<String>,
    pub verify_tls: bool,
    pub ca_file: String,
    pub ca_path: String,
    pub is_cname: bool,
    pub is_path_style: bool,
    pub enable_crc64: bool,
    pub enable_date_skew_adjustment: bool,
    /// Aggregate receive limit of the client in bytes per second; 0 = unlimited.
    pub recv_rate_limit: u64,
    /// When set, asked for the receive limit (bytes per second, 0 = unlimited) before each
    /// chunk of a body is passed on, instead of `recv_rate_limit`: the caller may change it
    /// while downloads run (the C++ SDK's `recvRateLimiter->Rate()`).
    pub recv_rate_source: Option<RateSource>,
    pub signature_version: SignatureVersion,
    /// V4 signing region (`cn-hangzhou`); may also be set later on the client.
    pub region: String,
    /// The memory of all the client's downloads together, in bytes (`memory_budget`): parts in
    /// flight wait for room in it rather than allocate. 16 MiB..=1 TiB, 64 MiB by default.
    pub memory_budget: u64,
    /// The key resume tokens are sealed and checked with (HMAC-SHA256); `None` (the default):
    /// the per-user key file (`download::resume_key`).
    pub resume_token_key: Option<ResumeTokenKey>,
    /// Addresses for hosts instead of the name service's (`ResolveEntry`); empty by default.
    /// Connections are spread over a host's addresses either way.
    pub resolve: Vec<ResolveEntry>,
    /// Called once per request attempt (retries included) with its metrics (`crate::metrics`);
    /// `None` (the default): nothing is measured.
    pub request_metrics: Option<crate::metrics::MetricsCallback>,
    /// A download's part that has fallen far behind the other parts is re-requested, for the
    /// bytes it has not delivered, on a new connection (`download::straggler`); on by default.
    pub reissue_slow_parts: bool,
}

pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;
/// A sane cap: more connections than this to one endpoint only hurts.
pub const MAX_CONNECTIONS_LIMIT: u32 = 1024;

impl Default for Config {
    fn default() -> Self {
        Config {
            user_agent: default_user_agent(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            connect_timeout: Duration::from_millis(5000),
            request_timeout: Duration::from_millis(10000),
            call_timeout: None,
            max_retries: 3,
            retry_base_delay: Duration::from_millis(300),
            retry_max_delay: Duration::from_secs(10),
            proxy: Proxy::default(),
            no_proxy: None,
            verify_tls: true,
            ca_file: String::new(),
            ca_path: String::new(),
            is_cname: false,
            is_path_style: false,
            enable_crc64: true,
            enable_date_skew_adjustment: true,
            recv_rate_limit: 0,
            recv_rate_source: None,
            signature_version: SignatureVersion::V1,
            memory_budget: crate::memory_budget::DEFAULT_MEMORY_BUDGET,
            resume_token_key: None,
            region: String::new(),
            resolve: Vec::new(),
            request_metrics: None,
            reissue_slow_parts: true,
        }
    }
}

pub fn default_user_agent() -> String {
    format!(
        "aliyun-sdk-cpp/{} ({}/{}) oss-ffi",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

impl Config {
    /// Checks the values that cannot be right, with a message naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.max_connections == 0 || self.max_connections > MAX_CONNECTIONS_LIMIT {
            return Err(Error::validate(format!(
                "maxConnections must be between 1 and {MAX_CONNECTIONS_LIMIT}, got {}",
                self.max_connections
            )));
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::validate("connectTimeoutMs must be greater than 0"));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::validate("requestTimeoutMs must be greater than 0"));
        }
        if self.call_timeout.is_some_and(|d| d.is_zero()) {
            return Err(Error::validate(
                "the call timeout must be greater than 0 (or none)",
            ));
        }
        if self.max_retries > 100 {
            return Err(Error::validate(format!(
                "retry count must be at most 100, got {}",
                self.max_retries
            )));
        }
        if !self.proxy.host.is_empty()
            && !matches!(self.proxy.scheme.as_str(), "" | "http" | "https" | "socks5")
        {
            return Err(Error::validate(format!(
                "proxy scheme must be http or https, got '{}'",
                self.proxy.scheme
            )));
        }
        crate::memory_budget::check(self.memory_budget)?;
        if crate::header_value::has_control_chars(&self.user_agent) {
            return Err(Error::validate("userAgent contains control characters"));
        }
        Ok(())
    }

    /// Delay before retry number `attempt` (1-based): base * 2^(attempt-1), capped.
    pub fn retry_delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.retry_base_delay
            .checked_mul(factor)
            .unwrap_or(self.retry_max_delay)
            .min(self.retry_max_delay)
    }
}

/// Resume token keys (`Config::resume_token_key`; the tokens and the per-user key file are
/// `download::resume_key`'s and `download::resume_token`'s).
/// A configured key must have at least this many bytes (128 bits)...
pub const MIN_KEY_LEN: usize = 16;
/// ... and at most this many.
pub const MAX_KEY_LEN: usize = 1024;
/// A key for resume tokens (never printed: `Debug` shows only its length).
#[derive(Clone, PartialEq, Eq)]
pub struct ResumeTokenKey(pub(crate) Arc<[u8]>);

impl fmt::Debug for ResumeTokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResumeTokenKey({} bytes)", self.0.len())
    }
}

impl ResumeTokenKey {
    /// A key from the application: 16 to 1024 bytes (`ValidateError` otherwise).
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&bytes.len()) {
            return Err(Error::validate(format!(
                "the resume token key must have {MIN_KEY_LEN} to {MAX_KEY_LEN} bytes, got {}",
                bytes.len()
            )));
        }
        Ok(ResumeTokenKey(bytes.into()))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_cpp_sdk() {
        let c = Config::default();
        assert_eq!(c.max_connections, 16);
        assert_eq!(c.request_timeout, Duration::from_millis(10000));
        assert_eq!(c.connect_timeout, Duration::from_millis(5000));
        assert_eq!(c.max_retries, 3);
        assert!(c.verify_tls && c.enable_crc64 && c.enable_date_skew_adjustment);
        assert_eq!(c.signature_version, SignatureVersion::V1);
        assert!(c.user_agent.starts_with("aliyun-sdk-cpp/"));
        c.validate().unwrap();
    }

    #[test]
    fn retry_delays_double() {
        let c = Config::default();
        let d: Vec<u128> = (1..=4).map(|a| c.retry_delay(a).as_millis()).collect();
        assert_eq!(d, vec![300, 600, 1200, 2400]);
        assert_eq!(c.retry_delay(60), c.retry_max_delay);
    }

    #[test]
    fn resolve_entries_parse_like_curls() {
        let e = ResolveEntry::parse("OSS.Example:8080:127.0.0.2,[::1], 10.0.0.1").unwrap();
        assert_eq!(e.host, "oss.example");
        assert_eq!(e.port, 8080);
        let want: Vec<std::net::IpAddr> = ["127.0.0.2", "::1", "10.0.0.1"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(e.addrs, want);
        for bad in [
            "",
            "host",
            "host:80",
            ":80:127.0.0.1",
            "host:0:127.0.0.1",
            "host:65536:127.0.0.1",
            "host:80:",
            "host:80:127.0.0.1,",
            "host:80:not-an-ip",
            "ho st:80:127.0.0.1",
            "host\n:80:127.0.0.1",
        ] {
            let e = ResolveEntry::parse(bad).unwrap_err();
            assert_eq!(e.code, "ValidateError", "{bad}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        let c = Config {
            max_connections: 0,
            ..Config::default()
        };
        assert_eq!(c.validate().unwrap_err().code, "ValidateError");
    }
}
