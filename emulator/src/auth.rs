//! Request authentication: OSS signature V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256),
//! in the Authorization header and as presigned-URL query parameters; STS tokens;
//! the 15-minute clock-skew rule.

use std::time::{Duration, SystemTime};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::encoding::{hex_lower, percent_decode_bytes, uri_encode};
use crate::error::OssError;
use crate::time::{abs_diff, fmt_rfc3339_millis, parse_http_date, parse_iso8601_basic};
use crate::Credential;

pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The parts of a request that signing looks at. Header names are lower case.
#[derive(Debug, Clone)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    /// The query string exactly as received (without `?`).
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
}

impl SignedRequest<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Query pairs: (raw key, raw value, decoded key, decoded value).
    fn query_pairs(&self) -> Vec<(String, String, String, String)> {
        query_pairs(self.raw_query)
    }

    fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|p| p.2 == name)
            .map(|p| p.3)
    }
}

pub fn query_pairs(raw: &str) -> Vec<(String, String, String, String)> {
    raw.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                k.to_string(),
                v.to_string(),
                String::from_utf8_lossy(&percent_decode_bytes(k)).into_owned(),
                String::from_utf8_lossy(&percent_decode_bytes(v)).into_owned(),
            )
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    /// "v1", "v4", "v1-query", "v4-query" or "anonymous".
    pub scheme: &'static str,
    pub access_key_id: Option<String>,
}

/// Sub-resources that V1 signs when present in the query: the union of the protocol
/// spec's list and the official Python SDK v2 list.
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

fn canonical_resource_path(bucket: Option<&str>, key: Option<&str>) -> String {
    let mut uri = String::from("/");
    if let Some(b) = bucket {
        uri.push_str(b);
        uri.push('/');
    }
    if let Some(k) = key {
        uri.push_str(k);
    }
    uri
}

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

fn sig_mismatch(ak: &str, provided: &str, sts: &str, canonical_request: Option<&str>) -> OssError {
    let mut e = OssError::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        if canonical_request.is_some() {
            "0002-00000228"
        } else {
            "0002-00000040"
        },
    )
    .with("OSSAccessKeyId", ak)
    .with("SignatureProvided", provided)
    .with("StringToSign", sts);
    if let Some(cr) = canonical_request {
        e = e.with("CanonicalRequest", cr);
    } else {
        e = e.with(
            "StringToSignBytes",
            sts.bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    e
}

fn skewed(request_time: &str, now: SystemTime) -> OssError {
    OssError::new(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        "0002-00000504",
    )
    .with("RequestTime", request_time)
    .with("ServerTime", fmt_rfc3339_millis(now))
    .with("MaxAllowedSkewMilliseconds", "900000")
}

fn expired(expires: &str, now: SystemTime) -> OssError {
    OssError::access_denied("Request has expired.")
        .with("Expires", expires)
        .with("ServerTime", fmt_rfc3339_millis(now))
}

fn find_cred<'c>(creds: &'c [Credential], ak: &str) -> Result<&'c Credential, OssError> {
    creds
        .iter()
        .find(|c| c.access_key_id == ak)
        .ok_or_else(|| OssError::invalid_access_key_id(ak))
}

fn check_token(cred: &Credential, req: &SignedRequest<'_>) -> Result<(), OssError> {
    let sent = req
        .header("x-oss-security-token")
        .map(str::to_string)
        .or_else(|| req.header("security-token").map(str::to_string))
        .or_else(|| req.query("security-token"))
        .or_else(|| req.query("x-oss-security-token"));
    match (&cred.security_token, sent) {
        (None, None) => Ok(()),
        (Some(want), Some(got)) if *want == got => Ok(()),
        (Some(_), None) => Err(OssError::access_denied(
            "The security token is required for this AccessKeyId.",
        )),
        (Some(_), Some(_)) => Err(OssError::access_denied(
            "The security token you provided is invalid.",
        )),
        (None, Some(_)) => Err(OssError::access_denied(
            "A security token was sent for an AccessKeyId that does not use one.",
        )),
    }
}

/// The scheme a request claims (for the log), before verification.
pub fn claimed_scheme(req: &SignedRequest<'_>) -> &'static str {
    match req.header("authorization") {
        Some(a) if a.starts_with("OSS4-HMAC-SHA256") => "v4",
        Some(a) if a.starts_with("OSS ") => "v1",
        Some(_) => "invalid",
        None => {
            let pairs = req.query_pairs();
            if pairs.iter().any(|p| p.2 == "x-oss-signature") {
                "v4-query"
            } else if pairs
                .iter()
                .any(|p| p.2 == "Signature" || p.2 == "OSSAccessKeyId")
            {
                "v1-query"
            } else {
                "anonymous"
            }
        }
    }
}

/// Authenticates a request. `Ok(scheme anonymous)` when it carries no signature at all
/// (the caller decides whether anonymous access is allowed).
pub fn authenticate(
    req: &SignedRequest<'_>,
    creds: &[Credential],
    now: SystemTime,
) -> Result<AuthInfo, OssError> {
    if let Some(auth) = req.header("authorization") {
        if let Some(rest) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
            return verify_v4_header(req, rest, creds, now);
        }
        if let Some(rest) = auth.strip_prefix("OSS ") {
            return verify_v1_header(req, rest, creds, now);
        }
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "Authorization header is invalid.",
            "0002-00000001",
        )
        .with("ArgumentName", "Authorization")
        .with("ArgumentValue", auth));
    }
    let pairs = req.query_pairs();
    if pairs.iter().any(|p| p.2 == "x-oss-signature") {
        return verify_v4_query(req, creds, now);
    }
    if pairs
        .iter()
        .any(|p| p.2 == "Signature" || p.2 == "OSSAccessKeyId")
    {
        return verify_v1_query(req, creds, now);
    }
    Ok(AuthInfo {
        scheme: "anonymous",
        access_key_id: None,
    })
}

fn v1_candidates(req: &SignedRequest<'_>, date: &str) -> Vec<String> {
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

fn verify_v1_header(
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

fn verify_v1_query(
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

struct V4Scope {
    ak: String,
    date: String,
    region: String,
    product: String,
}

fn parse_credential(c: &str) -> Result<V4Scope, OssError> {
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
fn v4_check(
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

fn parse_additional(s: &str) -> Vec<String> {
    s.split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

fn verify_v4_header(
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

fn verify_v4_query(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect()
    }

    fn cred(ak: &str, sk: &str, token: Option<&str>) -> Credential {
        Credential {
            access_key_id: ak.into(),
            access_key_secret: sk.into(),
            security_token: token.map(str::to_string),
        }
    }

    #[test]
    fn v1_spec_vector() {
        let headers = h(&[
            ("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="),
            ("Content-Type", "text/html"),
            ("x-oss-meta-author", "alice"),
            ("x-oss-meta-magic", "abracadabra"),
            ("x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT"),
        ]);
        let ch = v1_canonical_headers(&headers);
        let res = v1_canonical_resource(Some("examplebucket"), Some("nelson"), "", V1_SUBRESOURCES);
        let sts = v1_string_to_sign(
            "PUT",
            "eB5eJF1ptWaXm4bijSPyxw==",
            "text/html",
            "Wed, 28 Dec 2022 10:27:41 GMT",
            &ch,
            &res,
        );
        assert_eq!(sts, "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson");
        assert_eq!(v1_sign("sk", &sts), "kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
        let res = v1_canonical_resource(
            Some("examplebucket"),
            Some("nelson"),
            "acl",
            V1_SUBRESOURCES,
        );
        let sts = v1_string_to_sign(
            "PUT",
            "eB5eJF1ptWaXm4bijSPyxw==",
            "text/html",
            "Wed, 28 Dec 2022 10:27:41 GMT",
            &ch,
            &res,
        );
        assert_eq!(v1_sign("sk", &sts), "/afkugFbmWDQ967j1vr6zygBLQk=");

        // Whole verification path, at the vector's time.
        let mut headers = headers;
        headers.push((
            "authorization".into(),
            "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=".into(),
        ));
        let req = SignedRequest {
            method: "PUT",
            bucket: Some("examplebucket"),
            key: Some("nelson"),
            raw_query: "",
            headers: &headers,
        };
        let now = parse_http_date("Wed, 28 Dec 2022 10:30:00 GMT").unwrap();
        let creds = vec![cred("ak", "sk", None)];
        assert_eq!(authenticate(&req, &creds, now).unwrap().scheme, "v1");
        // wrong secret
        let e = authenticate(&req, &[cred("ak", "sk2", None)], now).unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert!(e
            .extra
            .iter()
            .any(|(k, v)| k == "StringToSign" && v == &sts.replace("?acl", "")));
        // unknown key
        let e = authenticate(&req, &[cred("other", "sk", None)], now).unwrap_err();
        assert_eq!(e.code, "InvalidAccessKeyId");
        // skewed clock
        let later = now + Duration::from_secs(16 * 60);
        let e = authenticate(&req, &creds, later).unwrap_err();
        assert_eq!(e.code, "RequestTimeTooSkewed");
        assert!(e.extra.iter().any(|(k, _)| k == "ServerTime"));
        // token required
        let e = authenticate(&req, &[cred("ak", "sk", Some("tok"))], now).unwrap_err();
        assert_eq!(e.code, "AccessDenied");
    }

    #[test]
    fn v1_download_vector() {
        let headers = h(&[
            ("Date", "Fri, 11 Apr 2025 06:41:24 GMT"),
            ("x-oss-range-behavior", "standard"),
            ("Range", "bytes=0-1023"),
            ("Authorization", "OSS testid:/ZzrARZlyQqYl02/KUVeMnw+tgY="),
        ]);
        let req = SignedRequest {
            method: "GET",
            bucket: Some("examplebucket"),
            key: Some("dir/example object.txt"),
            raw_query: "versionId=CAEQ1&response-content-type=text%2Fplain",
            headers: &headers,
        };
        let now = parse_http_date("Fri, 11 Apr 2025 06:41:24 GMT").unwrap();
        let creds = vec![cred("testid", "yourAccessKeySecret", None)];
        assert_eq!(authenticate(&req, &creds, now).unwrap().scheme, "v1");
        let expected = "GET\n\n\nFri, 11 Apr 2025 06:41:24 GMT\nx-oss-range-behavior:standard\n/examplebucket/dir/example object.txt?response-content-type=text/plain&versionId=CAEQ1";
        assert_eq!(
            v1_candidates(&req, "Fri, 11 Apr 2025 06:41:24 GMT")[0],
            expected
        );
    }

    #[test]
    fn v4_spec_vectors() {
        let headers = h(&[
            ("x-oss-head1", "value"),
            ("abc", "value"),
            ("ZAbc", "value"),
            ("XYZ", "value"),
            ("content-type", "text/plain"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-oss-date", "20231216T162057Z"),
        ]);
        let raw_query =
            "param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2=&%7Cparam2=&param2=";
        let cq = v4_canonical_query(raw_query, &[], true);
        assert_eq!(
            cq,
            "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2"
        );
        let ch = v4_canonical_headers(&headers, &[]);
        let cr = v4_canonical_request(
            "PUT",
            Some("bucket"),
            Some("1234+-/123/1.txt"),
            &cq,
            &ch,
            &[],
            "UNSIGNED-PAYLOAD",
        );
        assert_eq!(cr, "PUT\n/bucket/1234%2B-/123/1.txt\n%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD");
        assert_eq!(
            hex_lower(&Sha256::digest(cr.as_bytes())),
            "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4"
        );
        let key = v4_signing_key("sk", "20231216", "cn-hangzhou", "oss");
        assert_eq!(
            hex_lower(&key),
            "b412a03b134ebddd720f5167b5de6db66620ebb3b01cff4d49e3ccb09f8de97f"
        );
        let mut hdrs = headers.clone();
        hdrs.push(("authorization".into(), "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe".into()));
        let req = SignedRequest {
            method: "PUT",
            bucket: Some("bucket"),
            key: Some("1234+-/123/1.txt"),
            raw_query,
            headers: &hdrs,
        };
        let now = UNIX_EPOCH + Duration::from_secs(1702743657);
        let creds = vec![cred("ak", "sk", None)];
        assert_eq!(authenticate(&req, &creds, now).unwrap().scheme, "v4");

        // second vector: additional headers, time 1702747512
        let mut hdrs = headers.clone();
        for (k, v) in hdrs.iter_mut() {
            if k == "x-oss-date" {
                *v = crate::time::fmt_iso8601_basic(UNIX_EPOCH + Duration::from_secs(1702747512));
            }
        }
        hdrs.push(("authorization".into(), "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f".into()));
        let req = SignedRequest {
            headers: &hdrs,
            ..req
        };
        let now = UNIX_EPOCH + Duration::from_secs(1702747512);
        assert_eq!(authenticate(&req, &creds, now).unwrap().scheme, "v4");
        // tampered header value
        let mut bad = hdrs.clone();
        for (k, v) in bad.iter_mut() {
            if k == "abc" {
                *v = "other".into();
            }
        }
        let req2 = SignedRequest {
            headers: &bad,
            ..req.clone()
        };
        let e = authenticate(&req2, &creds, now).unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert!(e.extra.iter().any(|(k, _)| k == "CanonicalRequest"));
        // skew
        let e = authenticate(&req, &creds, now + Duration::from_secs(901)).unwrap_err();
        assert_eq!(e.code, "RequestTimeTooSkewed");
        assert!(authenticate(&req, &creds, now + Duration::from_secs(899)).is_ok());
    }

    #[test]
    fn v4_download_vector() {
        let headers = h(&[
            ("Range", "bytes=0-1023"),
            ("x-oss-range-behavior", "standard"),
            ("x-oss-date", "20250411T064124Z"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("Authorization", "OSS4-HMAC-SHA256 Credential=testid/20250411/cn-hangzhou/oss/aliyun_v4_request,Signature=61aff4e08cf82ef5f4f120b09914e32382e08c056b53432fecfdc3b73a2285d8"),
        ]);
        let req = SignedRequest {
            method: "GET",
            bucket: Some("examplebucket"),
            key: Some("dir/example object.txt"),
            raw_query: "versionId=CAEQ1",
            headers: &headers,
        };
        let now = parse_iso8601_basic("20250411T064124Z").unwrap();
        let creds = vec![cred("testid", "yourAccessKeySecret", None)];
        assert_eq!(authenticate(&req, &creds, now).unwrap().scheme, "v4");
        let e = authenticate(
            &req,
            &[cred("testid", "yourAccessKeySecret", Some("t"))],
            now,
        )
        .unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        let e = authenticate(
            &SignedRequest {
                raw_query: "versionId=CAEQ2",
                ..req.clone()
            },
            &creds,
            now,
        )
        .unwrap_err();
        assert_eq!(e.code, "SignatureDoesNotMatch");
        let sts = &e
            .extra
            .iter()
            .find(|(k, _)| k == "CanonicalRequest")
            .unwrap()
            .1;
        assert!(sts.contains("versionId=CAEQ2"));
    }

    #[test]
    fn anonymous_and_garbage() {
        let headers = h(&[]);
        let req = SignedRequest {
            method: "GET",
            bucket: Some("b"),
            key: Some("k"),
            raw_query: "",
            headers: &headers,
        };
        assert_eq!(
            authenticate(&req, &[], SystemTime::now()).unwrap().scheme,
            "anonymous"
        );
        let headers = h(&[("Authorization", "Bearer x")]);
        let req = SignedRequest {
            headers: &headers,
            ..req
        };
        assert_eq!(
            authenticate(&req, &[], SystemTime::now())
                .unwrap_err()
                .status,
            400
        );
    }
}
