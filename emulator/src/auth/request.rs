//! A request as the signature checks see it (method, path, query, lower-case headers), what a
//! successful check returns, and the checks both signature versions share: the access key,
//! the STS token, the 15-minute clock-skew rule, presigned-URL expiry, the mismatch error.

use std::time::{Duration, SystemTime};

use crate::encoding::percent_decode_bytes;
use crate::error::OssError;
use crate::time::fmt_rfc3339_millis;
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
    pub(crate) fn query_pairs(&self) -> Vec<(String, String, String, String)> {
        query_pairs(self.raw_query)
    }

    pub(crate) fn query(&self, name: &str) -> Option<String> {
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

pub(crate) fn sig_mismatch(
    ak: &str,
    provided: &str,
    sts: &str,
    canonical_request: Option<&str>,
) -> OssError {
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

pub(crate) fn skewed(request_time: &str, now: SystemTime) -> OssError {
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

pub(crate) fn expired(expires: &str, now: SystemTime) -> OssError {
    OssError::access_denied("Request has expired.")
        .with("Expires", expires)
        .with("ServerTime", fmt_rfc3339_millis(now))
}

pub(crate) fn find_cred<'c>(creds: &'c [Credential], ak: &str) -> Result<&'c Credential, OssError> {
    creds
        .iter()
        .find(|c| c.access_key_id == ak)
        .ok_or_else(|| OssError::invalid_access_key_id(ak))
}

pub(crate) fn check_token(cred: &Credential, req: &SignedRequest<'_>) -> Result<(), OssError> {
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

/// `/bucket/key` as both signature versions canonicalise it (`/bucket/` for a bucket, `/`
/// for the service).
pub(crate) fn canonical_resource_path(bucket: Option<&str>, key: Option<&str>) -> String {
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
