//! Signature V4: `OSS4-HMAC-SHA256 Credential=<ak>/<date>/<region>/oss/aliyun_v4_request,...`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{canonical_headers, SignableRequest};
use crate::credentials::Credentials;
use crate::date::{http_date, iso8601};
use crate::endpoint::{encode_key, encode_unreserved};

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The lower-cased, sorted additional header names that are present in the request.
fn additional(req: &SignableRequest, additional_headers: &[String]) -> Vec<String> {
    let mut names: Vec<String> = additional_headers
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| {
            !h.is_empty()
                && h != "content-type"
                && h != "content-md5"
                && !h.starts_with("x-oss-")
                && req.header(h).is_some_and(|v| !v.trim().is_empty())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The V4 canonical request.
pub fn canonical_request(req: &SignableRequest, additional_headers: &[String]) -> String {
    let uri = match (req.bucket.is_empty(), req.key.is_empty()) {
        (true, _) => "/".to_string(),
        (false, true) => format!("/{}/", req.bucket),
        (false, false) => format!("/{}/{}", req.bucket, encode_key(&req.key)),
    };
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| {
            (
                encode_unreserved(k),
                v.as_deref().map(encode_unreserved).unwrap_or_default(),
            )
        })
        .collect();
    query.sort();
    let query: Vec<String> = query
        .into_iter()
        .map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") })
        .collect();
    let extra = additional(req, additional_headers);
    let headers = canonical_headers(req, |k| {
        k == "content-type"
            || k == "content-md5"
            || k.starts_with("x-oss-")
            || extra.iter().any(|e| e == k)
    });
    let mut s = format!("{}\n{}\n{}\n", req.method, uri, query.join("&"));
    for (k, v) in headers.iter().filter(|(_, v)| !v.is_empty()) {
        s.push_str(k);
        s.push(':');
        s.push_str(v);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(&extra.join(";"));
    s.push('\n');
    s.push_str(
        req.header("x-oss-content-sha256")
            .unwrap_or("UNSIGNED-PAYLOAD"),
    );
    s
}

/// `kSigning` for a day and region.
pub fn signing_key(secret: &str, day: &str, region: &str) -> Vec<u8> {
    let k_date = hmac(format!("aliyun_v4{secret}").as_bytes(), day.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_product = hmac(&k_region, b"oss");
    hmac(&k_product, b"aliyun_v4_request")
}

/// The V4 StringToSign.
pub fn string_to_sign(canonical_request: &str, datetime: &str, region: &str) -> String {
    format!(
        "OSS4-HMAC-SHA256\n{datetime}\n{}/{region}/oss/aliyun_v4_request\n{}",
        &datetime[..8],
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// hex(HMAC-SHA256(signing key of `day`/`region`, string_to_sign)).
pub fn signature(secret: &str, day: &str, region: &str, string_to_sign: &str) -> String {
    hex(&hmac(
        &signing_key(secret, day, region),
        string_to_sign.as_bytes(),
    ))
}

/// The signing key of the last (secret, day, region) a client signed with: derived (four
/// HMACs) once per day and credentials instead of once per request.
#[derive(Default)]
pub struct KeyCache {
    last: std::sync::Mutex<Option<CachedKey>>,
    /// How many keys were derived (for tests).
    derived: std::sync::atomic::AtomicU64,
}

struct CachedKey {
    secret: String,
    day: String,
    region: String,
    key: Vec<u8>,
}

impl KeyCache {
    /// `signing_key(secret, day, region)`, from the cache when it holds that very key.
    pub fn key(&self, secret: &str, day: &str, region: &str) -> Vec<u8> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = last
            .as_ref()
            .filter(|c| c.secret == secret && c.day == day && c.region == region)
        {
            return c.key.clone();
        }
        let key = signing_key(secret, day, region);
        self.derived
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *last = Some(CachedKey {
            secret: secret.to_string(),
            day: day.to_string(),
            region: region.to_string(),
            key: key.clone(),
        });
        key
    }

    /// How many keys this cache derived.
    pub fn derived(&self) -> u64 {
        self.derived.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Adds `x-oss-date`, `x-oss-content-sha256`, `Date`, the STS token header and `Authorization`.
pub fn sign(
    req: &mut SignableRequest,
    creds: &Credentials,
    region: &str,
    additional_headers: &[String],
    now: std::time::SystemTime,
) {
    sign_with(req, creds, region, additional_headers, now, signing_key)
}

/// `sign`, with the signing key from `cache` (a client's: derived once per day).
pub fn sign_cached(
    req: &mut SignableRequest,
    creds: &Credentials,
    region: &str,
    additional_headers: &[String],
    now: std::time::SystemTime,
    cache: &KeyCache,
) {
    sign_with(req, creds, region, additional_headers, now, |s, d, r| {
        cache.key(s, d, r)
    })
}

fn sign_with(
    req: &mut SignableRequest,
    creds: &Credentials,
    region: &str,
    additional_headers: &[String],
    now: std::time::SystemTime,
    signing_key: impl FnOnce(&str, &str, &str) -> Vec<u8>,
) {
    let datetime = iso8601(now);
    req.set_header("x-oss-date", datetime.clone());
    req.set_header("x-oss-content-sha256", "UNSIGNED-PAYLOAD");
    req.set_header("Date", http_date(now));
    if !creds.security_token.is_empty() {
        req.set_header("x-oss-security-token", creds.security_token.clone());
    }
    if creds.is_anonymous() {
        return;
    }
    let extra = additional(req, additional_headers);
    let cr = canonical_request(req, additional_headers);
    let sts = string_to_sign(&cr, &datetime, region);
    let key = signing_key(&creds.access_key_secret, &datetime[..8], region);
    let sig = hex(&hmac(&key, sts.as_bytes()));
    let mut auth = format!(
        "OSS4-HMAC-SHA256 Credential={}/{}/{region}/oss/aliyun_v4_request",
        creds.access_key_id,
        &datetime[..8]
    );
    if !extra.is_empty() {
        auth.push_str(",AdditionalHeaders=");
        auth.push_str(&extra.join(";"));
    }
    auth.push_str(",Signature=");
    auth.push_str(&sig);
    req.set_header("Authorization", auth);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_clients_signing_key_is_derived_once_per_day_and_secret_and_signs_the_same() {
        let creds = Credentials::new("ak", "sk", "");
        let cache = KeyCache::default();
        let day1 = UNIX_EPOCH + Duration::from_secs(1_702_743_657);
        for (i, now) in [
            day1,
            day1 + Duration::from_secs(60),
            day1 + Duration::from_secs(86_400),
        ]
        .into_iter()
        .enumerate()
        {
            let (mut a, mut b) = (spec_put(), spec_put());
            sign(&mut a, &creds, "cn-hangzhou", &[], now);
            sign_cached(&mut b, &creds, "cn-hangzhou", &[], now, &cache);
            assert_eq!(a.headers, b.headers, "request {i}");
        }
        assert_eq!(cache.derived(), 2, "one key per day");
        let mut c = spec_put();
        sign_cached(
            &mut c,
            &Credentials::new("ak", "sk2", ""),
            "cn-hangzhou",
            &[],
            day1,
            &cache,
        );
        let mut d = spec_put();
        sign(
            &mut d,
            &Credentials::new("ak", "sk2", ""),
            "cn-hangzhou",
            &[],
            day1,
        );
        assert_eq!(c.headers, d.headers, "another secret: another key");
        assert_eq!(cache.derived(), 3);
    }

    fn spec_put() -> SignableRequest {
        let q = |k: &str, v: &str| {
            (
                k.to_string(),
                if v.is_empty() {
                    None
                } else {
                    Some(v.to_string())
                },
            )
        };
        SignableRequest {
            method: "PUT".into(),
            bucket: "bucket".into(),
            key: "1234+-/123/1.txt".into(),
            query: vec![
                q("param1", "value1"),
                q("+param1", "value3"),
                q("|param1", "value4"),
                q("+param2", ""),
                q("|param2", ""),
                q("param2", ""),
            ],
            headers: vec![
                ("x-oss-head1".into(), "value".into()),
                ("abc".into(), "value".into()),
                ("ZAbc".into(), "value".into()),
                ("XYZ".into(), "value".into()),
                ("content-type".into(), "text/plain".into()),
                ("x-oss-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
            ],
        }
    }

    #[test]
    fn spec_vector_put() {
        let mut req = spec_put();
        let creds = Credentials::new("ak", "sk", "");
        let now = UNIX_EPOCH + Duration::from_secs(1702743657);
        assert_eq!(iso8601(now), "20231216T162057Z");
        req.set_header("x-oss-date", iso8601(now));
        let cr = canonical_request(&req, &[]);
        assert_eq!(cr, "PUT\n/bucket/1234%2B-/123/1.txt\n%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD");
        assert_eq!(
            hex(&Sha256::digest(cr.as_bytes())),
            "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4"
        );
        assert_eq!(
            hex(&signing_key("sk", "20231216", "cn-hangzhou")),
            "b412a03b134ebddd720f5167b5de6db66620ebb3b01cff4d49e3ccb09f8de97f"
        );
        sign(&mut req, &creds, "cn-hangzhou", &[], now);
        assert_eq!(req.header("authorization").unwrap(), "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe");
    }

    #[test]
    fn spec_vector_additional_headers() {
        let mut req = spec_put();
        let creds = Credentials::new("ak", "sk", "");
        let now = UNIX_EPOCH + Duration::from_secs(1702747512);
        sign(
            &mut req,
            &creds,
            "cn-hangzhou",
            &["ZAbc".to_string(), "abc".to_string()],
            now,
        );
        assert_eq!(req.header("authorization").unwrap(), "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f");
    }

    #[test]
    fn blank_additional_headers_are_not_signed() {
        let mut req = spec_put();
        req.set_header("abc", "  ");
        let creds = Credentials::new("ak", "sk", "");
        sign(
            &mut req,
            &creds,
            "cn-hangzhou",
            &["abc".to_string()],
            UNIX_EPOCH,
        );
        assert!(!req
            .header("authorization")
            .unwrap()
            .contains("AdditionalHeaders"));
    }

    #[test]
    fn spec_vector_download() {
        let req = SignableRequest {
            method: "GET".into(),
            bucket: "examplebucket".into(),
            key: "dir/example object.txt".into(),
            query: vec![("versionId".into(), Some("CAEQ1".into()))],
            headers: vec![
                ("Range".into(), "bytes=0-1023".into()),
                ("x-oss-range-behavior".into(), "standard".into()),
                ("x-oss-date".into(), "20250411T064124Z".into()),
                ("x-oss-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
            ],
        };
        let cr = canonical_request(&req, &[]);
        assert_eq!(cr, "GET\n/examplebucket/dir/example%20object.txt\nversionId=CAEQ1\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20250411T064124Z\nx-oss-range-behavior:standard\n\n\nUNSIGNED-PAYLOAD");
        let sts = string_to_sign(&cr, "20250411T064124Z", "cn-hangzhou");
        let key = signing_key("yourAccessKeySecret", "20250411", "cn-hangzhou");
        assert_eq!(
            hex(&hmac(&key, sts.as_bytes())),
            "61aff4e08cf82ef5f4f120b09914e32382e08c056b53432fecfdc3b73a2285d8"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(951782400)),
            "20000229T000000Z"
        );
    }
}
