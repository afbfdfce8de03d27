//! Request authentication: OSS signature V1 (`v1`) and V4 (`v4`), in the Authorization header
//! and as presigned-URL query parameters, with the checks they share (`request`): STS tokens,
//! the 15-minute clock-skew rule. This file holds the dispatch on the scheme a request claims.

use std::time::SystemTime;

use crate::error::OssError;
use crate::Credential;

pub mod request;
pub mod v1;
pub mod v4;

pub use request::{query_pairs, AuthInfo, SignedRequest, MAX_SKEW};
use v1::{verify_v1_header, verify_v1_query};
use v4::{verify_v4_header, verify_v4_query};

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

#[cfg(test)]
mod tests {
    use super::v1::*;
    use super::v4::*;
    use super::*;
    use crate::encoding::hex_lower;
    use crate::time::{parse_http_date, parse_iso8601_basic};
    use sha2::{Digest, Sha256};
    use std::time::Duration;
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
