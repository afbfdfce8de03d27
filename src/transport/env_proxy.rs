//! Proxies from the environment, read the way libcurl (the official SDK's transport) reads them,
//! used when the configuration names no proxy:
//!
//! - `http://` endpoints: `http_proxy` (lower case only: libcurl ignores `HTTP_PROXY`, which a
//!   CGI program's request could set through a `Proxy:` header), else `all_proxy`/`ALL_PROXY`;
//! - `https://` endpoints: `https_proxy`/`HTTPS_PROXY`, else `all_proxy`/`ALL_PROXY`;
//! - lower case first, empty values count as unset, a value without a scheme is `http://`;
//! - `no_proxy`/`NO_PROXY`: hosts reached directly (see [`NoProxy`]), also with a proxy set in
//!   the configuration (the official SDK sets `CURLOPT_PROXY` and never `CURLOPT_NOPROXY`, so
//!   libcurl reads the variable there too), unless the configuration has its own list. Loopback
//!   is not bypassed unless listed, as in libcurl.
//!
//! The variables are read once, when the client is made.

use std::net::IpAddr;

/// The proxies the environment asks for (`None` from [`EnvProxies::read`] when it asks for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvProxies {
    /// The proxy URL for `http://` endpoints.
    pub http: Option<String>,
    /// The proxy URL for `https://` endpoints.
    pub https: Option<String>,
    pub no_proxy: NoProxy,
}

impl EnvProxies {
    /// Reads the process environment.
    pub fn from_env() -> Option<EnvProxies> {
        Self::read(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `get` (the environment, or a map in tests).
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Option<EnvProxies> {
        let set = |names: &[&str]| {
            names.iter().find_map(|n| {
                get(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            })
        };
        let all = set(&["all_proxy", "ALL_PROXY"]);
        let http = set(&["http_proxy"]).or_else(|| all.clone());
        let https = set(&["https_proxy", "HTTPS_PROXY"]).or(all);
        if http.is_none() && https.is_none() {
            return None;
        }
        Some(EnvProxies {
            http: http.map(with_scheme),
            https: https.map(with_scheme),
            no_proxy: Self::no_proxy_from(&get),
        })
    }

    /// `no_proxy`/`NO_PROXY` of the environment (empty when unset).
    pub fn no_proxy_from_env() -> NoProxy {
        Self::no_proxy_from(|name| std::env::var(name).ok())
    }

    fn no_proxy_from(get: impl Fn(&str) -> Option<String>) -> NoProxy {
        let list = ["no_proxy", "NO_PROXY"]
            .iter()
            .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
            .unwrap_or_default();
        NoProxy::parse(&list)
    }

    /// The proxy for a request to `scheme://host` (`None`: connect directly).
    pub fn proxy_for(&self, scheme: &str, host: &str) -> Option<&str> {
        let proxy = match scheme {
            "http" => self.http.as_deref(),
            "https" => self.https.as_deref(),
            _ => None,
        }?;
        (!self.no_proxy.bypasses(host)).then_some(proxy)
    }
}

/// libcurl's default proxy scheme.
fn with_scheme(v: String) -> String {
    if v.contains("://") {
        v
    } else {
        format!("http://{v}")
    }
}

/// A `NO_PROXY` list, matched as libcurl matches it: `*` alone bypasses every host; otherwise
/// entries separated by commas and blanks. A host name matches an entry equal to it or to one of
/// its parent domains (`example.com` and `.example.com` both match `example.com` and
/// `www.example.com`, not `notexample.com`), case-insensitively, trailing dots ignored. An IP
/// address matches an entry that is the same address, or a network in CIDR notation
/// (`10.0.0.0/8`, `fd00::/8`); IPv6 entries without brackets. No port numbers, no other wildcards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    all: bool,
    entries: Vec<String>,
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        NoProxy {
            all: list.trim() == "*",
            entries: list
                .split([',', ' ', '\t'])
                .filter(|e| !e.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    /// Whether `host` (a name, an IPv4 address or an IPv6 address with or without brackets) is
    /// reached without the proxy.
    pub fn bypasses(&self, host: &str) -> bool {
        if self.all {
            return true;
        }
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
        if let Ok(ip) = bare.unwrap_or(host).parse::<IpAddr>() {
            return self.entries.iter().any(|e| ip_matches(ip, e));
        }
        let name = host.strip_suffix('.').unwrap_or(host);
        self.entries.iter().any(|e| {
            let e = e.strip_suffix('.').unwrap_or(e);
            let e = e.strip_prefix('.').unwrap_or(e);
            if e.is_empty() {
                return false;
            }
            name.eq_ignore_ascii_case(e)
                || (name.len() > e.len()
                    && name.as_bytes()[name.len() - e.len() - 1] == b'.'
                    && name[name.len() - e.len()..].eq_ignore_ascii_case(e))
        })
    }
}

/// Whether `ip` is the address `entry`, or in the network `entry` (`addr/bits`).
fn ip_matches(ip: IpAddr, entry: &str) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => match b.parse::<u32>() {
            Ok(b) => (a, Some(b)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let bits = bits.unwrap_or(width);
    if bits > width {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Option<EnvProxies> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvProxies::read(|n| m.get(n).cloned())
    }

    #[test]
    fn variables_are_read_as_libcurl_reads_them() {
        assert_eq!(env(&[]), None);
        assert_eq!(env(&[("NO_PROXY", "*")]), None);
        // Upper-case HTTP_PROXY is ignored (libcurl: CGI safety); lower-case is used.
        assert_eq!(env(&[("HTTP_PROXY", "http://p:1")]), None);
        let e = env(&[("http_proxy", "p:3128")]).unwrap();
        assert_eq!(e.http.as_deref(), Some("http://p:3128"));
        assert_eq!(e.https, None);
        let e = env(&[("HTTPS_PROXY", "https://s:1")]).unwrap();
        assert_eq!((e.http, e.https.as_deref()), (None, Some("https://s:1")));
        // Lower case first; ALL_PROXY for what the scheme's own variable leaves unset.
        let e = env(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:1"),
            ("ALL_PROXY", "http://all:1"),
        ])
        .unwrap();
        assert_eq!(e.https.as_deref(), Some("http://lower:1"));
        assert_eq!(e.http.as_deref(), Some("http://all:1"));
        // Empty counts as unset.
        let e = env(&[("https_proxy", ""), ("HTTPS_PROXY", "http://u:1")]).unwrap();
        assert_eq!(e.https.as_deref(), Some("http://u:1"));
        let e = env(&[("all_proxy", "http://a:1"), ("no_proxy", "example.com")]).unwrap();
        assert_eq!(e.proxy_for("https", "oss.example.com"), None);
        assert_eq!(e.proxy_for("https", "oss.example.org"), Some("http://a:1"));
        assert_eq!(e.proxy_for("http", "127.0.0.1"), Some("http://a:1"));
    }

    #[test]
    fn no_proxy_matches_as_libcurl_does() {
        let n = NoProxy::parse("example.com, .aliyuncs.com ,10.0.0.0/8\t::1,192.168.1.7,fd00::/8");
        for host in [
            "example.com",
            "EXAMPLE.com",
            "www.example.com",
            "example.com.",
            "aliyuncs.com",
            "b.oss-cn-hangzhou.aliyuncs.com",
            "10.1.2.3",
            "[::1]",
            "::1",
            "192.168.1.7",
            "[fd12::5]",
        ] {
            assert!(n.bypasses(host), "{host}");
        }
        for host in [
            "notexample.com",
            "example.com.cn",
            "11.0.0.1",
            "192.168.1.8",
            "127.0.0.1",
            "localhost",
            "[::2]",
        ] {
            assert!(!n.bypasses(host), "{host}");
        }
        // Loopback is proxied unless listed (libcurl has no implicit exception).
        assert!(!NoProxy::parse("").bypasses("127.0.0.1"));
        assert!(!NoProxy::parse("").bypasses("localhost"));
        assert!(NoProxy::parse("localhost").bypasses("localhost"));
        // `*` alone matches everything; inside a list it is an ordinary (unmatched) name.
        assert!(NoProxy::parse(" * ").bypasses("anything.example"));
        assert!(!NoProxy::parse("*,x.com").bypasses("anything.example"));
        // Ports and malformed CIDRs never match.
        assert!(!NoProxy::parse("example.com:80").bypasses("example.com"));
        assert!(!NoProxy::parse("10.0.0.0/x,10.0.0.0/33").bypasses("10.0.0.1"));
        assert!(NoProxy::parse("0.0.0.0/0").bypasses("8.8.8.8"));
    }
}
