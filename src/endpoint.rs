//! Endpoint parsing, addressing styles (virtual-hosted, path style, CNAME) and key encoding.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

/// Everything but `A-Z a-z 0-9 - _ . ~` is encoded.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Like `UNRESERVED` but keeps `/` (object keys in URL paths).
pub const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// A query string from `(name, value)` pairs in their order, both encoded with
/// [`encode_unreserved`]; a pair without a value is the bare name (`?objectMeta`).
pub fn query_string(query: &[(String, Option<String>)]) -> String {
    let q: Vec<String> = query
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{}={}", encode_unreserved(k), encode_unreserved(v)),
            None => encode_unreserved(k),
        })
        .collect();
    q.join("&")
}

/// Percent-encodes every byte except unreserved characters (query keys and values, V4).
pub fn encode_unreserved(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Percent-encodes an object key for a URL path (keeps `/`).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, PATH).to_string()
}

/// A parsed endpoint: scheme and authority (host with optional port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: String,
    /// Host without port (IPv6 without brackets).
    pub host: String,
    pub port: Option<u16>,
    /// The host is an IP address (or `localhost`): path style is used automatically.
    pub host_is_ip: bool,
}

impl Endpoint {
    /// Parses `oss-cn-hangzhou.aliyuncs.com`, `https://host:port`, `http://127.0.0.1:9000/`.
    /// No scheme means `http://`, as in the C++ SDK.
    pub fn parse(input: &str) -> Result<Endpoint> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::validate("the endpoint is empty"));
        }
        if s.bytes().any(|b| b <= 0x20 || b == 0x7f) {
            return Err(Error::validate(
                "the endpoint contains spaces or control characters",
            ));
        }
        let with_scheme = if s.contains("://") {
            s.to_string()
        } else {
            format!("http://{s}")
        };
        let url = url::Url::parse(&with_scheme)
            .map_err(|e| Error::validate(format!("the endpoint '{s}' is not a valid URL: {e}")))?;
        let scheme = url.scheme().to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(Error::validate(format!(
                "the endpoint scheme must be http or https, got '{scheme}'"
            )));
        }
        if !(url.path().is_empty() || url.path() == "/")
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(Error::validate(format!(
                "the endpoint '{s}' must be a scheme and host only (no path, query or user info)"
            )));
        }
        let (host, host_is_ip) = match url.host() {
            Some(url::Host::Domain(d)) => (d.to_string(), d.eq_ignore_ascii_case("localhost")),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), true),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), true),
            None => return Err(Error::validate(format!("the endpoint '{s}' has no host"))),
        };
        Ok(Endpoint {
            scheme,
            host,
            port: url.port(),
            host_is_ip,
        })
    }

    /// The region an Alibaba Cloud endpoint names: `cn-hangzhou` for
    /// `oss-cn-hangzhou.aliyuncs.com`, `oss-cn-hangzhou-internal.aliyuncs.com` and
    /// `<bucket>.oss-cn-hangzhou.aliyuncs.com`. `None` for any other host (an IP, a CNAME, a
    /// private server) and for the acceleration endpoints (`oss-accelerate[-overseas]`), which
    /// serve every region: those need the region said explicitly for V4 signing.
    pub fn region(&self) -> Option<String> {
        let host = self.host.to_ascii_lowercase();
        let name = host.strip_suffix(".aliyuncs.com")?;
        // `oss-<region>[-internal]`, possibly after `<bucket>.`
        let label = name.rsplit('.').next()?;
        let region = label.strip_prefix("oss-")?;
        let region = region.strip_suffix("-internal").unwrap_or(region);
        let accelerate = region == "accelerate" || region.starts_with("accelerate-");
        let valid = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !region.starts_with('-')
            && !region.ends_with('-');
        (valid && !accelerate).then(|| region.to_string())
    }

    /// Why [`Endpoint::region`] found no region, for the error of a V4 client without one.
    pub fn why_no_region(&self) -> String {
        let host = self.host.to_ascii_lowercase();
        if host.contains("oss-accelerate") {
            format!(
                "the acceleration endpoint '{}' serves every region, so it names none",
                self.host
            )
        } else {
            format!(
                "the endpoint '{}' does not name one (only oss-<region>[-internal].aliyuncs.com endpoints do)",
                self.host
            )
        }
    }

    fn authority(&self, prefix: Option<&str>) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let host = match prefix {
            Some(p) => format!("{p}.{host}"),
            None => host,
        };
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// The URL (without query) of `key` in `bucket`, and the Host it addresses.
    pub fn object_url(&self, bucket: &str, key: &str, style: Addressing) -> (String, String) {
        let path_style = style == Addressing::PathStyle || self.host_is_ip;
        let key = encode_key(key);
        if bucket.is_empty() || style == Addressing::Cname {
            let host = self.authority(None);
            return (format!("{}://{host}/{key}", self.scheme), host);
        }
        if path_style {
            let host = self.authority(None);
            (format!("{}://{host}/{bucket}/{key}", self.scheme), host)
        } else {
            let host = self.authority(Some(bucket));
            (format!("{}://{host}/{key}", self.scheme), host)
        }
    }
}

/// How a bucket is put into the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    VirtualHosted,
    PathStyle,
    Cname,
}

/// Bucket names: 3-63 characters of `a-z 0-9 -`, no dash at either end.
pub fn validate_bucket(bucket: &str) -> Result<()> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::validate(format!(
            "The bucket name '{}' is invalid: 3-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            bucket.escape_debug()
        )))
    }
}

/// Object keys: 1..=1023 bytes of UTF-8, not starting with `\`, no NUL, and no `.`/`..`
/// path segments (URL parsers would normalise them away and fetch another object).
pub fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::validate("The object key is empty"));
    }
    if key.len() > 1023 {
        return Err(Error::validate(format!(
            "The object key is {} bytes long; at most 1023 are allowed",
            key.len()
        )));
    }
    if key.starts_with('\\') {
        return Err(Error::validate("The object key must not start with '\\'"));
    }
    if key.contains('\0') {
        return Err(Error::validate("The object key contains a NUL character"));
    }
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(Error::validate(format!(
            "The object key '{}' has a '.' or '..' path segment, which cannot be sent in a URL unchanged",
            key.escape_debug()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        let e = Endpoint::parse("oss-cn-hangzhou.aliyuncs.com").unwrap();
        assert_eq!(e.scheme, "http");
        assert!(!e.host_is_ip);
        let e = Endpoint::parse("https://127.0.0.1:9000/").unwrap();
        assert_eq!(
            (e.scheme.as_str(), e.port, e.host_is_ip),
            ("https", Some(9000), true)
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://x/path").is_err());
        assert!(Endpoint::parse("").is_err());
        assert!(Endpoint::parse("http://a b").is_err());
    }

    #[test]
    fn takes_the_region_from_alibaba_cloud_endpoints() {
        let region = |e: &str| Endpoint::parse(e).unwrap().region();
        for (endpoint, want) in [
            ("oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
            ("https://oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
            ("https://OSS-CN-Shanghai.Aliyuncs.com:443", "cn-shanghai"),
            ("oss-cn-beijing-internal.aliyuncs.com", "cn-beijing"),
            (
                "http://examplebucket.oss-ap-southeast-1.aliyuncs.com",
                "ap-southeast-1",
            ),
            (
                "examplebucket.oss-us-west-1-internal.aliyuncs.com",
                "us-west-1",
            ),
        ] {
            assert_eq!(region(endpoint).as_deref(), Some(want), "{endpoint}");
        }
        for endpoint in [
            "oss-accelerate.aliyuncs.com",
            "oss-accelerate-overseas.aliyuncs.com",
            "bkt.oss-accelerate.aliyuncs.com",
            "http://127.0.0.1:9000",
            "localhost",
            "oss.example.com",
            "oss-cn-hangzhou.example.com",
            "aliyuncs.com",
            "oss-.aliyuncs.com",
            "oss--internal.aliyuncs.com",
            "ecs.cn-hangzhou.aliyuncs.com",
        ] {
            assert_eq!(region(endpoint), None, "{endpoint}");
        }
        let why = |e: &str| Endpoint::parse(e).unwrap().why_no_region();
        assert!(why("oss-accelerate.aliyuncs.com").contains("serves every region"));
        assert!(why("127.0.0.1:9000").contains("does not name one"));
    }

    #[test]
    fn addresses_objects() {
        let e = Endpoint::parse("oss-cn-hangzhou.aliyuncs.com").unwrap();
        let (url, host) = e.object_url("bkt", "dir/a b+c.txt", Addressing::VirtualHosted);
        assert_eq!(
            url,
            "http://bkt.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt"
        );
        assert_eq!(host, "bkt.oss-cn-hangzhou.aliyuncs.com");
        let (url, _) = e.object_url("bkt", "k", Addressing::PathStyle);
        assert_eq!(url, "http://oss-cn-hangzhou.aliyuncs.com/bkt/k");
        let (url, _) = e.object_url("bkt", "k", Addressing::Cname);
        assert_eq!(url, "http://oss-cn-hangzhou.aliyuncs.com/k");
        let ip = Endpoint::parse("127.0.0.1:8080").unwrap();
        let (url, host) = ip.object_url("bkt", "é", Addressing::VirtualHosted);
        assert_eq!(url, "http://127.0.0.1:8080/bkt/%C3%A9");
        assert_eq!(host, "127.0.0.1:8080");
    }

    #[test]
    fn validates_names() {
        assert!(validate_bucket("examplebucket").is_ok());
        for bad in ["ab", "-abc", "abc-", "ABC", "a_b", &"a".repeat(64)] {
            assert!(validate_bucket(bad).is_err(), "{bad}");
        }
        assert!(validate_key("a/b c").is_ok());
        for bad in ["", "\\a", "a/../b", "./a", &"k".repeat(1024)] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
    }
}
