//! Presigned GET URLs (the C++ SDK's `GeneratePresignedUrl`): a read of an object signed into
//! the query string, V1 (`OSSAccessKeyId`/`Expires`/`Signature`) or V4 (`x-oss-signature-*`),
//! with the client's credentials and signature version. Made locally: nothing is sent.

use crate::client::Client;
use crate::config::SignatureVersion;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::object::ObjectRequest;
use crate::sign::{self, SignableRequest};

/// A presigned GET URL for `req` valid until `expires` (Unix seconds), signed with the client's
/// credentials and signature version (V1: `OSSAccessKeyId`/`Expires`/`Signature`; V4:
/// `x-oss-signature-version`, `x-oss-credential`, `x-oss-date`, `x-oss-expires`,
/// `x-oss-signature`). The version id, response-* overrides, traffic limit and request payer of
/// `req` go into the query (and the signature); its conditions cannot travel in a URL and are
/// refused. Anonymous credentials give the unsigned URL.
pub(crate) fn get(client: &Client, req: &ObjectRequest, expires: i64) -> Result<String> {
    check_presignable(req)?;
    client.check_process()?;
    client.check_signing()?;
    let http = crate::object::read::read_request(reqwest::Method::GET, req, false, None)?;
    let mut query = http.query;
    for (k, v) in http.headers {
        // x-oss-traffic-limit and x-oss-request-payer: query parameters in a URL.
        query.push((k, Some(v)));
    }
    let creds = client.credentials().credentials()?;
    creds.validate()?;
    let now = client.now();
    let now_secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let version = client.config().signature_version;
    if version == SignatureVersion::V4 && expires <= now_secs {
        // V1 signs an absolute time (a past one gives a URL the server refuses, as in the C++
        // SDK); V4 signs a duration, which must be positive.
        return Err(Error::validate(format!(
            "the expiry {expires} is not in the future (now: {now_secs})"
        )));
    }
    if !creds.is_anonymous() {
        match version {
            SignatureVersion::V1 => sign_v1(&mut query, req, &creds, expires),
            SignatureVersion::V4 => {
                let region = client.region();
                let expires_in = expires - now_secs;
                sign_v4(&mut query, req, &creds, now, &region, expires_in)
            }
        }
    }
    let (url, _host) = client
        .endpoint()
        .object_url(&req.bucket, &req.key, client.addressing());
    if query.is_empty() {
        return Ok(url);
    }
    Ok(format!("{url}?{}", crate::endpoint::query_string(&query)))
}

/// A request that can travel as a URL: not one already, and without conditions.
fn check_presignable(req: &ObjectRequest) -> Result<()> {
    if req.url.is_some() {
        return Err(Error::validate("the request is already a URL"));
    }
    if !req.if_match.is_empty()
        || !req.if_none_match.is_empty()
        || req.if_modified_since.is_some()
        || req.if_unmodified_since.is_some()
    {
        return Err(Error::validate(
            "a presigned URL cannot carry If-Match / If-None-Match / If-(Un)Modified-Since conditions",
        ));
    }
    Ok(())
}

type Query = Vec<(String, Option<String>)>;

/// V1: `OSSAccessKeyId`, `Expires` (absolute) and `Signature` added to `query`.
fn sign_v1(query: &mut Query, req: &ObjectRequest, creds: &Credentials, expires: i64) {
    if !creds.security_token.is_empty() {
        query.push((
            "security-token".to_string(),
            Some(creds.security_token.clone()),
        ));
    }
    let signable = SignableRequest {
        method: "GET".to_string(),
        bucket: req.bucket.clone(),
        key: req.key.clone(),
        query: query.clone(),
        headers: vec![("Date".to_string(), expires.to_string())],
    };
    let sig = sign::v1::signature(
        &creds.access_key_secret,
        &sign::v1::string_to_sign(&signable),
    );
    query.push((
        "OSSAccessKeyId".to_string(),
        Some(creds.access_key_id.clone()),
    ));
    query.push(("Expires".to_string(), Some(expires.to_string())));
    query.push(("Signature".to_string(), Some(sig)));
}

/// V4: the `x-oss-signature-*` parameters added to `query`, valid `expires_in` seconds from
/// `now`.
fn sign_v4(
    query: &mut Query,
    req: &ObjectRequest,
    creds: &Credentials,
    now: std::time::SystemTime,
    region: &str,
    expires_in: i64,
) {
    let datetime = crate::date::iso8601(now);
    if !creds.security_token.is_empty() {
        query.push((
            "x-oss-security-token".to_string(),
            Some(creds.security_token.clone()),
        ));
    }
    query.push((
        "x-oss-signature-version".to_string(),
        Some("OSS4-HMAC-SHA256".to_string()),
    ));
    query.push((
        "x-oss-credential".to_string(),
        Some(format!(
            "{}/{}/{region}/oss/aliyun_v4_request",
            creds.access_key_id,
            &datetime[..8]
        )),
    ));
    query.push(("x-oss-date".to_string(), Some(datetime.clone())));
    query.push(("x-oss-expires".to_string(), Some(expires_in.to_string())));
    let signable = SignableRequest {
        method: "GET".to_string(),
        bucket: req.bucket.clone(),
        key: req.key.clone(),
        query: query.clone(),
        headers: Vec::new(),
    };
    let cr = sign::v4::canonical_request(&signable, &[]);
    let sts = sign::v4::string_to_sign(&cr, &datetime, region);
    let sig = sign::v4::signature(&creds.access_key_secret, &datetime[..8], region, &sts);
    query.push(("x-oss-signature".to_string(), Some(sig)));
}
