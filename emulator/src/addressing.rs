//! Virtual-hosted and path-style addressing.

use std::net::IpAddr;

use crate::encoding::percent_decode_utf8;
use crate::error::OssError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub virtual_hosted: bool,
}

/// The host name without port.
pub fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.split(':').next().unwrap_or(host)
}

/// True when requests to `host` use path style: an IP address, `localhost`, a name
/// without a dot, or when path style is forced.
pub fn is_path_style_host(host: &str, force_path_style: bool) -> bool {
    let name = host_name(host);
    force_path_style
        || name.parse::<IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || !name.contains('.')
}

/// Splits a request into bucket and key.
/// * virtual-hosted: `Host: <bucket>.<anything>`, key = whole path.
/// * path style: `/<bucket>/<key>`.
///
/// Keys are percent-decoded (no `+` to space). A key that is not UTF-8 is refused.
pub fn resolve(
    host: Option<&str>,
    raw_path: &str,
    force_path_style: bool,
) -> Result<Addressed, OssError> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let host = host.unwrap_or("");
    let decode = |s: &str| percent_decode_utf8(s).ok_or_else(|| OssError::invalid_object_name(s));
    let (bucket, key_raw, virtual_hosted) = if is_path_style_host(host, force_path_style) {
        match path.split_once('/') {
            Some((b, k)) => (Some(decode(b)?), Some(k), false),
            None => (Some(decode(path)?).filter(|b| !b.is_empty()), None, false),
        }
    } else {
        let name = host_name(host);
        let bucket = name.split('.').next().unwrap_or("").to_string();
        (Some(bucket).filter(|b| !b.is_empty()), Some(path), true)
    };
    let key = match key_raw {
        Some(k) if !k.is_empty() => Some(decode(k)?),
        _ => None,
    };
    Ok(Addressed {
        bucket,
        key,
        virtual_hosted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(host: &str, path: &str, force: bool) -> (Option<String>, Option<String>, bool) {
        let a = resolve(Some(host), path, force).unwrap();
        (a.bucket, a.key, a.virtual_hosted)
    }
    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn addressing_table() {
        assert_eq!(
            r("127.0.0.1:9000", "/bkt/a/b.txt", false),
            (s("bkt"), s("a/b.txt"), false)
        );
        assert_eq!(
            r("localhost:9000", "/bkt/a%20b", false),
            (s("bkt"), s("a b"), false)
        );
        assert_eq!(r("[::1]:9000", "/bkt/k", false), (s("bkt"), s("k"), false));
        assert_eq!(
            r("bkt.localhost:9000", "/a/b", false),
            (s("bkt"), s("a/b"), true)
        );
        assert_eq!(
            r(
                "bkt.oss-cn-hangzhou.aliyuncs.com",
                "/dir/example%20object.txt",
                false
            ),
            (s("bkt"), s("dir/example object.txt"), true)
        );
        assert_eq!(
            r("bkt.example.com", "/bkt2/k", true),
            (s("bkt2"), s("k"), false)
        );
        assert_eq!(r("127.0.0.1", "/bkt", false), (s("bkt"), None, false));
        assert_eq!(r("127.0.0.1", "/bkt/", false), (s("bkt"), None, false));
        assert_eq!(r("127.0.0.1", "/", false), (None, None, false));
        assert_eq!(r("bkt.localhost", "/", false), (s("bkt"), None, true));
        assert_eq!(
            r("127.0.0.1", "/b/1234%2B-/%E4%BD%A0+x", false),
            (s("b"), s("1234+-/你+x"), false)
        );
        assert_eq!(
            resolve(Some("127.0.0.1"), "/b/%FF", false)
                .unwrap_err()
                .code,
            "InvalidObjectName"
        );
        assert_eq!(host_name("[::1]:80"), "::1");
        assert!(is_path_style_host("myhost:80", false));
    }
}
