//! Signature V1: `Authorization: OSS <AccessKeyId>:base64(HMAC-SHA1(secret, StringToSign))`.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{canonical_headers, SignableRequest};
use crate::credentials::Credentials;
use crate::date::http_date;

/// Query parameters that are part of the V1 CanonicalizedResource (all others are not signed).
const SIGNED_SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "img",
    "inventory",
    "inventoryId",
    "lifecycle",
    "live",
    "location",
    "logging",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "resourceGroup",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "worm",
    "wormExtend",
    "wormId",
    "x-oss-ac-forward-allow",
    "x-oss-ac-source-ip",
    "x-oss-ac-subnet-mask",
    "x-oss-ac-vpc-id",
    "x-oss-process",
    "x-oss-request-payer",
    "x-oss-traffic-limit",
];

/// `/bucket/key?sub&res=v` with the raw key and the signed sub-resources, sorted.
pub fn canonicalized_resource(req: &SignableRequest) -> String {
    let mut res = match (req.bucket.is_empty(), req.key.is_empty()) {
        (true, _) => "/".to_string(),
        (false, true) => format!("/{}/", req.bucket),
        (false, false) => format!("/{}/{}", req.bucket, req.key),
    };
    let mut subs: Vec<(&str, Option<&str>)> = req
        .query
        .iter()
        .filter(|(k, _)| SIGNED_SUBRESOURCES.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    subs.sort();
    if !subs.is_empty() {
        res.push('?');
        let parts: Vec<String> = subs
            .iter()
            .map(|(k, v)| match v {
                Some(v) if !v.is_empty() => format!("{k}={v}"),
                _ => k.to_string(),
            })
            .collect();
        res.push_str(&parts.join("&"));
    }
    res
}

/// The V1 StringToSign of a request whose `Date` header is already set.
pub fn string_to_sign(req: &SignableRequest) -> String {
    let mut s = String::new();
    s.push_str(&req.method);
    s.push('\n');
    s.push_str(req.header("content-md5").unwrap_or("").trim());
    s.push('\n');
    s.push_str(req.header("content-type").unwrap_or("").trim());
    s.push('\n');
    s.push_str(req.header("date").unwrap_or(""));
    s.push('\n');
    for (k, v) in canonical_headers(req, |k| k.starts_with("x-oss-")) {
        s.push_str(&k);
        s.push(':');
        s.push_str(&v);
        s.push('\n');
    }
    s.push_str(&canonicalized_resource(req));
    s
}

/// base64(HMAC-SHA1(secret, string_to_sign)).
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Adds `Date`, the STS token header (when any) and `Authorization` to `req`.
pub fn sign(req: &mut SignableRequest, creds: &Credentials, now: std::time::SystemTime) {
    req.set_header("Date", http_date(now));
    if !creds.security_token.is_empty() {
        req.set_header("x-oss-security-token", creds.security_token.clone());
    }
    if creds.is_anonymous() {
        return;
    }
    let sts = string_to_sign(req);
    let auth = format!(
        "OSS {}:{}",
        creds.access_key_id,
        signature(&creds.access_key_secret, &sts)
    );
    req.set_header("Authorization", auth);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_put() -> SignableRequest {
        SignableRequest {
            method: "PUT".into(),
            bucket: "examplebucket".into(),
            key: "nelson".into(),
            query: vec![],
            headers: vec![
                ("Content-MD5".into(), "eB5eJF1ptWaXm4bijSPyxw==".into()),
                ("Content-Type".into(), "text/html".into()),
                ("x-oss-meta-author".into(), "alice".into()),
                ("x-oss-meta-magic".into(), "abracadabra".into()),
                ("x-oss-date".into(), "Wed, 28 Dec 2022 10:27:41 GMT".into()),
                ("Date".into(), "Wed, 28 Dec 2022 10:27:41 GMT".into()),
            ],
        }
    }

    #[test]
    fn spec_vector_put() {
        let req = spec_put();
        let sts = string_to_sign(&req);
        assert_eq!(sts, "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson");
        assert_eq!(signature("sk", &sts), "kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
    }

    #[test]
    fn spec_vector_put_acl() {
        let mut req = spec_put();
        req.query.push(("acl".into(), None));
        assert_eq!(
            signature("sk", &string_to_sign(&req)),
            "/afkugFbmWDQ967j1vr6zygBLQk="
        );
    }

    #[test]
    fn spec_vector_download() {
        let req = SignableRequest {
            method: "GET".into(),
            bucket: "examplebucket".into(),
            key: "dir/example object.txt".into(),
            query: vec![
                ("versionId".into(), Some("CAEQ1".into())),
                ("response-content-type".into(), Some("text/plain".into())),
                ("unsigned".into(), Some("x".into())),
            ],
            headers: vec![
                ("Date".into(), "Fri, 11 Apr 2025 06:41:24 GMT".into()),
                ("Range".into(), "bytes=0-1023".into()),
                ("x-oss-range-behavior".into(), "standard".into()),
            ],
        };
        let sts = string_to_sign(&req);
        assert_eq!(sts, "GET\n\n\nFri, 11 Apr 2025 06:41:24 GMT\nx-oss-range-behavior:standard\n/examplebucket/dir/example object.txt?response-content-type=text/plain&versionId=CAEQ1");
        assert_eq!(
            signature("yourAccessKeySecret", &sts),
            "/ZzrARZlyQqYl02/KUVeMnw+tgY="
        );
    }

    #[test]
    fn trims_content_headers_and_signs_sdk_subresources() {
        let mut req = spec_put();
        req.set_header("Content-Type", " text/html ");
        req.set_header("Content-MD5", " eB5eJF1ptWaXm4bijSPyxw== ");
        assert_eq!(string_to_sign(&req), string_to_sign(&spec_put()));
        req.query.push(("resourceGroup".into(), None));
        assert!(string_to_sign(&req).ends_with("/examplebucket/nelson?resourceGroup"));
    }

    #[test]
    fn sign_adds_token_and_authorization() {
        let mut req = SignableRequest {
            method: "GET".into(),
            bucket: "b12".into(),
            key: "k".into(),
            ..Default::default()
        };
        let creds = Credentials::new("ak", "sk", "tok");
        sign(&mut req, &creds, std::time::UNIX_EPOCH);
        assert_eq!(req.header("x-oss-security-token"), Some("tok"));
        assert_eq!(req.header("date"), Some("Thu, 01 Jan 1970 00:00:00 GMT"));
        assert!(req.header("authorization").unwrap().starts_with("OSS ak:"));
    }
}
