//! The reqwest client of a configuration: connection pool, timeouts, proxy, HTTP/1.1 only, and
//! TLS through rustls (pure Rust, no system OpenSSL to match at build or run time; system roots
//! via rustls-native-certs, plus `caFile` / `caPath` bundles).

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};

use super::failure::error_chain;

/// Builds the reqwest client for a configuration.
pub(crate) fn build_http_client(config: &Config) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.request_timeout)
        .pool_max_idle_per_host(config.max_connections as usize)
        .pool_idle_timeout(Duration::from_secs(50))
        .tcp_nodelay(true)
        .http1_only()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(!config.verify_tls);
    // Each new connection to a host with several addresses takes the least recently used one
    // that works (`spread`).
    let spread = super::spread::Spread::new(&config.resolve);
    b = b
        .dns_resolver(Arc::new(super::spread::SpreadResolver(spread.clone())))
        .connector_layer(super::spread::SpreadLayer(spread));
    if config.proxy.host.is_empty() {
        b = b.no_proxy();
    } else {
        let scheme = if config.proxy.scheme.is_empty() {
            "http"
        } else {
            config.proxy.scheme.as_str()
        };
        let port = if config.proxy.port == 0 {
            String::new()
        } else {
            format!(":{}", config.proxy.port)
        };
        let url = format!("{scheme}://{}{port}", config.proxy.host);
        let mut proxy = reqwest::Proxy::all(&url)
            .map_err(|e| Error::validate(format!("invalid proxy '{url}': {e}")))?;
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
