//! OSS signature V1 (HMAC-SHA1): the canonical resource and headers, the string to sign, and the
//! verification of an `Authorization: OSS ak:sig` header or a presigned URL's `Signature`.

use std::time::SystemTime;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::request::{
    canonical_resource_path, check_token, expired, find_cred, query_pairs, sig_mismatch, skewed,
    AuthInfo, SignedRequest, MAX_SKEW,
};
use crate::error::OssError;
use crate::time::{abs_diff, parse_http_date};
use crate::Credential;

/// Sub-resources that V1 signs when present in the query: the union of the protocol
/// spec's list (docs/oss-protocol.md) and the official Python SDK v2 list.
pub const V1_SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "continuation-token",
    "delete",
    "location",
    "objectMeta",
    "partNumber",
    "position",
    "regionList",
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
    "stat",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "x-oss-process",
    "x-oss-request-payer",
    "x-oss-traffic-limit",
];

/// Those the Python SDK v2 signs by default (it leaves out the x-oss-* ones).
const V1_SUBRESOURCES_PY: &[&str] = &[
    "acl",
    "append",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "continuation-token",
    "delete",
    "location",
    "objectMeta",
    "partNumber",
    "position",
    "regionList",
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
    "stat",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
];

/// V1 canonicalized resource: `/bucket/key` (raw key) and the signed sub-resources.
pub fn v1_canonical_resource(
    bucket: Option<&str>,
    key: Option<&str>,
    raw_query: &str,
    subresources: &[&str],
) -> String {
    let mut res = canonical_resource_path(bucket, key);
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .filter(|p| subresources.contains(&p.2.as_str()))
        .map(|p| (p.2, p.3))
        .collect();
    pairs.sort();
    if !pairs.is_empty() {
        res.push('?');
        let parts: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") })
            .collect();
        res.push_str(&parts.join("&"));
    }
    res
}

/// `name:value\n` for every x-oss-* header, sorted by name.
pub fn v1_canonical_headers(headers: &[(String, String)]) -> String {
    let mut h: Vec<(&str, String)> = Vec::new();
    for (k, v) in headers {
        if k.starts_with("x-oss-") {
            if let Some(e) = h.iter_mut().find(|e| e.0 == k) {
                e.1.push(',');
                e.1.push_str(v.trim());
            } else {
                h.push((k, v.trim().to_string()));
            }
        }
    }
    h.sort();
    h.into_iter().map(|(k, v)| format!("{k}:{v}\n")).collect()
}

pub fn v1_string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    date: &str,
    canonical_headers: &str,
    canonical_resource: &str,
) -> String {
    format!(
        "{method}\n{content_md5}\n{content_type}\n{date}\n{canonical_headers}{canonical_resource}"
    )
}

pub fn v1_sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub(crate) fn v1_candidates(req: &SignedRequest<'_>, date: &str) -> Vec<String> {
    let ch = v1_canonical_headers(req.headers);
    let md5 = req.header("content-md5").unwrap_or("");
    let ct = req.header("content-type").unwrap_or("");
    let mut out = Vec::new();
    for list in [V1_SUBRESOURCES, V1_SUBRESOURCES_PY] {
        let res = v1_canonical_resource(req.bucket, req.key, req.raw_query, list);
        let sts = v1_string_to_sign(req.method, md5, ct, date, &ch, &res);
        if !out.contains(&sts) {
            out.push(sts);
        }
    }
    out
}

pub(crate) fn verify_v1_header(
    req: &SignedRequest<'_>,
    rest: &str,
    creds: &[Credential],
    now: SystemTime,
) -> Result<AuthInfo, OssError> {
    let (ak, sig) = rest.trim().split_once(':').ok_or_else(|| {
        OssError::new(
            400,
            "InvalidArgument",
            "Authorization header is invalid.",
            "0002-00000001",
        )
        .with("ArgumentName", "Authorization")
        .with("ArgumentValue", rest)
    })?;
    let cred = find_cred(creds, ak)?;
    let date_hdr = req.header("date");
    let x_date = req.header("x-oss-date");
    let signed_date = x_date.or(date_hdr).ok_or_else(|| {
        OssError::access_denied("Missing Date header: V1 requests need Date or x-oss-date.")
    })?;
    let t = parse_http_date(signed_date)
        .ok_or_else(|| OssError::access_denied(format!("Invalid Date header: {signed_date}")))?;
    if abs_diff(t, now) > MAX_SKEW {
        return Err(skewed(signed_date, now));
    }
    let mut dates = vec![signed_date];
    if let (Some(d), Some(x)) = (date_hdr, x_date) {
        if d != x {
            dates.push(d);
        }
    }
    let mut first_sts = None;
    for d in dates {
        for sts in v1_candidates(req, d) {
            if v1_sign(&cred.access_key_secret, &sts) == sig {
                check_token(cred, req)?;
                return Ok(AuthInfo {
                    scheme: "v1",
                    access_key_id: Some(ak.to_string()),
                });
            }
            first_sts.get_or_insert(sts);
        }
    }
    Err(sig_mismatch(ak, sig, &first_sts.unwrap_or_default(), None))
}

pub(crate) fn verify_v1_query(
    req: &SignedRequest<'_>,
    creds: &[Credential],
    now: SystemTime,
) -> Result<AuthInfo, OssError> {
    let ak = req.query("OSSAccessKeyId").unwrap_or_default();
    let sig = req.query("Signature").unwrap_or_default();
    let expires = req.query("Expires").unwrap_or_default();
    let cred = find_cred(creds, &ak)?;
    let exp: u64 = expires.parse().map_err(|_| {
        OssError::access_denied("Invalid Expires in the presigned URL.")
            .with("Expires", expires.clone())
    })?;
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    if now_secs > exp {
        return Err(expired(&expires, now));
    }
    let mut first = None;
    for sts in v1_candidates(req, &expires) {
        if v1_sign(&cred.access_key_secret, &sts) == sig {
            check_token(cred, req)?;
            return Ok(AuthInfo {
                scheme: "v1-query",
                access_key_id: Some(ak),
            });
        }
        first.get_or_insert(sts);
    }
    Err(sig_mismatch(&ak, &sig, &first.unwrap_or_default(), None))
}
