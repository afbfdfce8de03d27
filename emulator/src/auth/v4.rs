//! OSS signature V4 (OSS4-HMAC-SHA256): the signing key, canonical query, headers and request,
//! the string to sign, and the verification of an `Authorization: OSS4-HMAC-SHA256 ...` header
//! or a presigned URL's `x-oss-signature`.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::request::{
    canonical_resource_path, check_token, expired, find_cred, query_pairs, sig_mismatch, skewed,
    AuthInfo, SignedRequest, MAX_SKEW,
};
use crate::encoding::{hex_lower, uri_encode};
use crate::error::OssError;
use crate::time::{abs_diff, fmt_rfc3339_millis, parse_iso8601_basic};
use crate::Credential;

fn hmac256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn v4_signing_key(secret: &str, date: &str, region: &str, product: &str) -> Vec<u8> {
    let k_date = hmac256(format!("aliyun_v4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac256(&k_date, region.as_bytes());
    let k_product = hmac256(&k_region, product.as_bytes());
    hmac256(&k_product, b"aliyun_v4_request")
}

/// Canonical query. `strict`: decode and re-encode every key and value (only
/// unreserved characters kept). Otherwise the pairs are taken as they were sent
/// (what the Python SDK v2 signs: it leaves `/` unencoded in query values).
pub fn v4_canonical_query(raw_query: &str, exclude: &[&str], strict: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .into_iter()
        .filter(|p| !exclude.contains(&p.2.as_str()))
        .map(|p| {
            if strict {
                (uri_encode(&p.2, false), uri_encode(&p.3, false))
            } else {
                (p.0, p.1)
            }
        })
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") })
        .collect::<Vec<_>>()
        .join("&")
}

pub fn v4_canonical_headers(headers: &[(String, String)], additional: &[String]) -> String {
    let mut h: Vec<(&str, String)> = Vec::new();
    for (k, v) in headers {
        let signed = k.starts_with("x-oss-")
            || k == "content-type"
            || k == "content-md5"
            || additional.iter().any(|a| a == k);
        let v = v.trim();
        if !signed || v.is_empty() {
            continue;
        }
        if let Some(e) = h.iter_mut().find(|e| e.0 == k) {
            e.1.push(',');
            e.1.push_str(v);
        } else {
            h.push((k, v.to_string()));
        }
    }
    h.sort();
    h.into_iter().map(|(k, v)| format!("{k}:{v}\n")).collect()
}

#[allow(clippy::too_many_arguments)]
pub fn v4_canonical_request(
    method: &str,
    bucket: Option<&str>,
    key: Option<&str>,
    canonical_query: &str,
    canonical_headers: &str,
    additional: &[String],
    hashed_payload: &str,
) -> String {
    let uri = uri_encode(&canonical_resource_path(bucket, key), true);
    format!(
        "{method}\n{uri}\n{canonical_query}\n{canonical_headers}\n{}\n{hashed_payload}",
        additional.join(";")
    )
}

pub fn v4_string_to_sign(datetime: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "OSS4-HMAC-SHA256\n{datetime}\n{scope}\n{}",
        hex_lower(&Sha256::digest(canonical_request.as_bytes()))
    )
}

pub(crate) struct V4Scope {
    ak: String,
    date: String,
    region: String,
    product: String,
}

pub(crate) fn parse_credential(c: &str) -> Result<V4Scope, OssError> {
    let parts: Vec<&str> = c.split('/').collect();
    if parts.len() != 5 || parts[4] != "aliyun_v4_request" || parts[0].is_empty() {
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "Invalid credential in Authorization: expected AK/yyyymmdd/region/oss/aliyun_v4_request.",
            "0002-00000001",
        )
        .with("ArgumentName", "Credential")
        .with("ArgumentValue", c));
    }
    Ok(V4Scope {
        ak: parts[0].to_string(),
        date: parts[1].to_string(),
        region: parts[2].to_string(),
        product: parts[3].to_string(),
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn v4_check(
    req: &SignedRequest<'_>,
    scope: &V4Scope,
    cred: &Credential,
    datetime: &str,
    additional: &[String],
    sig: &str,
    exclude: &[&str],
    scheme: &'static str,
) -> Result<AuthInfo, OssError> {
    if !datetime.starts_with(&scope.date) || scope.product != "oss" {
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "The credential scope does not match the request date or product.",
            "0002-00000001",
        )
        .with("ArgumentName", "Credential")
        .with(
            "ArgumentValue",
            format!(
                "{}/{}/{}/{}",
                scope.ak, scope.date, scope.region, scope.product
            ),
        ));
    }
    let ch = v4_canonical_headers(req.headers, additional);
    let payload = req
        .header("x-oss-content-sha256")
        .unwrap_or("UNSIGNED-PAYLOAD");
    let scope_str = format!(
        "{}/{}/{}/aliyun_v4_request",
        scope.date, scope.region, scope.product
    );
    let key = v4_signing_key(
        &cred.access_key_secret,
        &scope.date,
        &scope.region,
        &scope.product,
    );
    let mut first: Option<(String, String)> = None;
    for strict in [true, false] {
        let cq = v4_canonical_query(req.raw_query, exclude, strict);
        let cr = v4_canonical_request(
            req.method, req.bucket, req.key, &cq, &ch, additional, payload,
        );
        let sts = v4_string_to_sign(datetime, &scope_str, &cr);
        if hex_lower(&hmac256(&key, sts.as_bytes())) == sig {
            check_token(cred, req)?;
            return Ok(AuthInfo {
                scheme,
                access_key_id: Some(scope.ak.clone()),
            });
        }
        first.get_or_insert((sts, cr));
    }
    let (sts, cr) = first.unwrap_or_default();
    Err(sig_mismatch(&scope.ak, sig, &sts, Some(&cr)))
}

pub(crate) fn parse_additional(s: &str) -> Vec<String> {
    s.split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

pub(crate) fn verify_v4_header(
    req: &SignedRequest<'_>,
    rest: &str,
    creds: &[Credential],
    now: SystemTime,
) -> Result<AuthInfo, OssError> {
    let mut credential = None;
    let mut additional = Vec::new();
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v.trim());
        } else if let Some(v) = part.strip_prefix("AdditionalHeaders=") {
            additional = parse_additional(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v.trim());
        }
    }
    let (Some(credential), Some(sig)) = (credential, signature) else {
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "Authorization header is invalid: Credential and Signature are required.",
            "0002-00000001",
        )
        .with("ArgumentName", "Authorization")
        .with("ArgumentValue", rest));
    };
    let scope = parse_credential(credential)?;
    let cred = find_cred(creds, &scope.ak)?;
    let datetime = req.header("x-oss-date").ok_or_else(|| {
        OssError::access_denied("Missing x-oss-date header: V4 requests need it.")
    })?;
    let t = parse_iso8601_basic(datetime)
        .ok_or_else(|| OssError::access_denied(format!("Invalid x-oss-date: {datetime}")))?;
    if abs_diff(t, now) > MAX_SKEW {
        return Err(skewed(datetime, now));
    }
    v4_check(req, &scope, cred, datetime, &additional, sig, &[], "v4")
}

pub(crate) fn verify_v4_query(
    req: &SignedRequest<'_>,
    creds: &[Credential],
    now: SystemTime,
) -> Result<AuthInfo, OssError> {
    let version = req.query("x-oss-signature-version").unwrap_or_default();
    if version != "OSS4-HMAC-SHA256" {
        return Err(OssError::invalid_argument(
            "Unsupported x-oss-signature-version.",
            "x-oss-signature-version",
            &version,
        ));
    }
    let credential = req.query("x-oss-credential").unwrap_or_default();
    let scope = parse_credential(&credential)?;
    let cred = find_cred(creds, &scope.ak)?;
    let datetime = req.query("x-oss-date").unwrap_or_default();
    let t = parse_iso8601_basic(&datetime)
        .ok_or_else(|| OssError::access_denied(format!("Invalid x-oss-date: {datetime}")))?;
    let expires: u64 = req
        .query("x-oss-expires")
        .unwrap_or_default()
        .parse()
        .map_err(|_| OssError::access_denied("Invalid x-oss-expires."))?;
    if now > t + Duration::from_secs(expires) {
        return Err(expired(
            &fmt_rfc3339_millis(t + Duration::from_secs(expires)),
            now,
        ));
    }
    if t > now + MAX_SKEW {
        return Err(skewed(&datetime, now));
    }
    let additional = parse_additional(&req.query("x-oss-additional-headers").unwrap_or_default());
    let sig = req.query("x-oss-signature").unwrap_or_default();
    v4_check(
        req,
        &scope,
        cred,
        &datetime,
        &additional,
        &sig,
        &["x-oss-signature"],
        "v4-query",
    )
}
