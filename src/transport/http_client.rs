//! The reqwest client of a configuration: connection pool, timeouts, proxy (configured, else from
//! the environment as libcurl reads it: `env_proxy`), HTTP/1.1 only, and
//! TLS through rustls (pure Rust, no system OpenSSL to match at build or run time; system roots
//! via rustls-native-certs, plus `caFile` / `caPath` bundles).

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};

use super::env_proxy::{EnvProxies, NoProxy};
use super::failure::error_chain;

/// A proxy URL for the log: without its user and password.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The most connection permits a `transport::with_connections` scope may hold (a batch's
/// `max_objects_in_flight` is at most this): the pool keeps up to this many idle connections per
/// host, so that a scope's connections serve its next requests.
pub const MAX_OWN_CONNECTIONS: u32 = 1024;

/// Builds the reqwest client for a configuration.
pub(crate) fn build_http_client(config: &Config) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.request_timeout)
        // A batch may have more requests in flight than `max_connections`
        // (`transport::with_connections`): their connections are kept for the next objects
        // too. (A client without a batch never opens more than `max_connections` at once.)
        .pool_max_idle_per_host((config.max_connections as usize).max(MAX_OWN_CONNECTIONS as usize))
        .pool_idle_timeout(Duration::from_secs(50))
        .tcp_nodelay(true)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(!config.verify_tls);
    // Each new connection to a host with several addresses takes the least recently used one
    // that works (`spread`).
    let spread = super::spread::Spread::new(&config.resolve, config.connect_timeout);
    b = b
        .dns_resolver(Arc::new(super::spread::SpreadResolver(spread.clone())))
        .connector_layer(super::spread::SpreadLayer(spread));
    // reqwest's own reading of the environment differs from libcurl's (it honours upper-case
    // HTTP_PROXY, NO_PROXY entries match differently): off, and ours instead.
    b = b.no_proxy();
    // The hosts reached directly: the configuration's list (libcurl's CURLOPT_NOPROXY), else the
    // environment's, for a configured proxy as for one from the environment.
    let no_proxy = match &config.no_proxy {
        Some(list) => NoProxy::parse(list),
        None => EnvProxies::no_proxy_from_env(),
    };
    if config.proxy.host.is_empty() {
        if let Some(mut env) = EnvProxies::from_env() {
            env.no_proxy = no_proxy;
            crate::log::log(crate::log::Level::Info, || {
                format!(
                    "proxies from the environment: http {}, https {}",
                    env.http.as_deref().map_or("none".into(), redact),
                    env.https.as_deref().map_or("none".into(), redact)
                )
            });
            b = b.proxy(reqwest::Proxy::custom(move |url| {
                env.proxy_for(url.scheme(), url.host_str()?)
                    .map(str::to_string)
            }));
        }
    } else {
        let url = configured_proxy_url(&config.proxy);
        reqwest::Url::parse(&url)
            .map_err(|e| Error::validate(format!("invalid proxy '{url}': {e}")))?;
        let mut proxy = reqwest::Proxy::custom(move |target| {
            let host = target.host_str()?;
            (!no_proxy.bypasses(host)).then(|| url.clone())
        });
        if !config.proxy.username.is_empty() {
            proxy = proxy.basic_auth(&config.proxy.username, &config.proxy.password);
        }
        b = b.proxy(proxy);
    }
    for cert in load_ca_certificates(config)? {
        b = b.add_root_certificate(cert);
    }
    b.build()
        .map_err(|e| Error::validate(format!("cannot build the HTTP client: {}", error_chain(&e))))
}

/// The URL of a configured proxy: `scheme://host[:port]`, an IPv6 address in brackets.
fn configured_proxy_url(p: &crate::config::Proxy) -> String {
    let scheme = if p.scheme.is_empty() {
        "http"
    } else {
        p.scheme.as_str()
    };
    let port = if p.port == 0 {
        String::new()
    } else {
        format!(":{}", p.port)
    };
    if p.host.contains(':') && !p.host.starts_with('[') {
        format!("{scheme}://[{}]{port}", p.host)
    } else {
        format!("{scheme}://{}{port}", p.host)
    }
}

fn load_ca_certificates(config: &Config) -> Result<Vec<reqwest::Certificate>> {
    let mut out = Vec::new();
    let mut load = |path: &std::path::Path, required: bool| -> Result<()> {
        let pem = match std::fs::read(path) {
            Ok(p) => p,
            Err(e) if required => return Err(Error::io("cannot read the CA file", path, &e)),
            Err(_) => return Ok(()),
        };
        match reqwest::Certificate::from_pem_bundle(&pem) {
            Ok(certs) if !certs.is_empty() => out.extend(certs),
            _ if required => {
                return Err(Error::validate(format!(
                    "the CA file '{}' holds no PEM certificate",
                    path.display()
                )))
            }
            _ => {}
        }
        Ok(())
    };
    if !config.ca_file.is_empty() {
        load(std::path::Path::new(&config.ca_file), true)?;
    }
    if !config.ca_path.is_empty() {
        let dir = std::path::Path::new(&config.ca_path);
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::io("cannot read the CA directory", dir, &e))?;
        for entry in entries.flatten() {
            if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
                load(&entry.path(), false)?;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_proxy_urls() {
        let p = |scheme: &str, host: &str, port| crate::config::Proxy {
            scheme: scheme.into(),
            host: host.into(),
            port,
            ..Default::default()
        };
        assert_eq!(configured_proxy_url(&p("", "proxy", 0)), "http://proxy");
        assert_eq!(
            configured_proxy_url(&p("https", "10.0.0.1", 3128)),
            "https://10.0.0.1:3128"
        );
        assert_eq!(
            configured_proxy_url(&p("", "::1", 8080)),
            "http://[::1]:8080"
        );
        assert_eq!(
            configured_proxy_url(&p("", "[::1]", 8080)),
            "http://[::1]:8080"
        );
        assert_eq!(
            configured_proxy_url(&p("", "[::1]", 8080)),
            reqwest::Url::parse("http://[::1]:8080")
                .unwrap()
                .as_str()
                .trim_end_matches('/')
        );
    }

    #[test]
    fn proxy_urls_are_logged_without_credentials() {
        assert_eq!(redact("http://u:secret@p:1"), "http://***@p:1");
        assert_eq!(redact("http://p:1"), "http://p:1");
    }
}
