//! Credentials the way cloud users have them, against local stand-ins on loopback only: the ECS
//! metadata service (IMDSv2 token, role discovery, refresh before expiry, one refresh for
//! concurrent requests, a failed refresh keeping still-valid credentials), STS (`AssumeRole`
//! with its RPC signature verified by the stand-in, `AssumeRoleWithOIDC`), the CLI's
//! `config.json` and the credentials file, the default chain's order, a download through the
//! chain, the C program `tests/c/credentials_chain.c` and the C++ one `tests/cpp/credentials_api.cc`. No secret may reach a log line.
//!
//! Every test points the metadata service at 127.0.0.1 (`OSS_FFI_ECS_METADATA_ENDPOINT`) or
//! disables it: 100.100.100.200 is never contacted. The tests change the process environment,
//! so they run one at a time (`ENV_LOCK`).

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use oss_emulator::{Credential, Emulator, EmulatorConfig};
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::config::Config;
use oss_ffi::credentials::profile::{from_file, CliProfileProvider, ProfileFileProvider};
use oss_ffi::credentials::sts::{OidcSettings, RamRoleArnSettings};
use oss_ffi::credentials::{
    CredentialsProvider, DefaultChainProvider, EcsRamRoleProvider, OidcRoleProvider,
    RamRoleArnProvider, StaticProvider,
};
use oss_ffi::object::ObjectRequest;

static ENV_LOCK: Mutex<()> = Mutex::new(());

/// Holds the environment for one test: cleared, the metadata service on a closed loopback
/// port (never 100.100.100.200), HOME in a fresh directory; every log line captured.
struct Env {
    _guard: MutexGuard<'static, ()>,
    home: tempfile::TempDir,
    lines: Arc<Mutex<Vec<String>>>,
}

fn env() -> Env {
    let guard = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // Every variable the library reads (the providers' among them), cleared; HOME is set below.
    for v in support::LIBRARY_ENV {
        std::env::remove_var(v);
    }
    std::env::set_var("OSS_FFI_ECS_METADATA_ENDPOINT", "http://127.0.0.1:9");
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    oss_ffi::log::set_level(oss_ffi::log::Level::Trace);
    oss_ffi::log::set_sink(Some(Arc::new(move |_, msg: &str| {
        l.lock().unwrap().push(msg.to_string())
    })));
    Env {
        _guard: guard,
        home,
        lines,
    }
}

impl Env {
    /// No secret in any log line so far.
    fn assert_no_secret_logged(&self, secrets: &[&str]) {
        let lines = self.lines.lock().unwrap();
        assert!(!lines.is_empty(), "the test logged nothing to scan");
        for line in lines.iter() {
            for s in secrets {
                assert!(!line.contains(s), "a secret was logged: {line}");
            }
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        oss_ffi::log::set_sink(None);
        oss_ffi::log::set_level(oss_ffi::log::Level::Off);
    }
}

// --- a tiny HTTP/1.1 server for the stand-ins -----------------------------------------------

#[derive(Clone, Debug, Default)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

type Handler = dyn Fn(&Seen) -> (u16, String) + Send + Sync;

struct StandIn {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl StandIn {
    fn start(handler: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let s = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s, h) = (s.clone(), handler.clone());
                std::thread::spawn(move || serve(conn, &s, &*h));
            }
        });
        StandIn { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let mut req = Seen {
        method: parts.next().unwrap_or("").to_string(),
        path: parts.next().unwrap_or("").to_string(),
        ..Default::default()
    };
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            req.headers
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = req
        .headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    req.body = String::from_utf8_lossy(&body).into_owned();
    seen.lock().unwrap().push(req.clone());
    let (status, text) = handler(&req);
    let mut w = conn;
    let _ = write!(
        w,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// `yyyy-MM-ddTHH:mm:ssZ` of now + `secs` (may be negative).
fn expiration_in(secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t = now + secs;
    let (days, rem) = (t.div_euclid(86400), t.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn creds_json(ak: &str, sk: &str, token: &str, expires_in: i64) -> String {
    serde_json::json!({
        "AccessKeyId": ak, "AccessKeySecret": sk, "SecurityToken": token,
        "Expiration": expiration_in(expires_in), "Code": "Success",
        "LastUpdated": expiration_in(0),
    })
    .to_string()
}

// --- the ECS metadata stand-in -------------------------------------------------------------

const ECS_ROLE: &str = "oss-reader-role";
const ECS_TOKEN: &str = "imds-session-token-5c1f";

/// How the metadata stand-in answers.
struct Metadata {
    /// Seconds until the expiration of the credentials it gives.
    expires_in: i64,
    /// Answer 500 to credential requests.
    failing: bool,
    /// Refuse `PUT /latest/api/token` (a service without IMDSv2).
    no_token: bool,
    /// Delay before answering credentials.
    delay: Duration,
    /// Credential answers given.
    served: usize,
}

fn metadata_standin(ctl: Arc<Mutex<Metadata>>) -> StandIn {
    StandIn::start(move |r| {
        let creds_path = "/latest/meta-data/ram/security-credentials/";
        let token_ok = r
            .headers
            .get("x-aliyun-ecs-metadata-token")
            .map(String::as_str)
            == Some(ECS_TOKEN);
        let (no_token, delay) = {
            let c = ctl.lock().unwrap();
            (c.no_token, c.delay)
        };
        if r.method == "PUT" && r.path == "/latest/api/token" {
            if no_token
                || !r
                    .headers
                    .contains_key("x-aliyun-ecs-metadata-token-ttl-seconds")
            {
                return (403, String::new());
            }
            return (200, ECS_TOKEN.to_string());
        }
        // With a token service, every other request must carry the token.
        if !no_token && !token_ok {
            return (401, String::new());
        }
        if r.method == "GET" && r.path == creds_path {
            return (200, format!("{ECS_ROLE}\n"));
        }
        if r.method == "GET" && r.path == format!("{creds_path}{ECS_ROLE}") {
            std::thread::sleep(delay);
            let mut c = ctl.lock().unwrap();
            if c.failing {
                return (500, "{}".to_string());
            }
            c.served += 1;
            let n = c.served;
            return (
                200,
                creds_json(
                    &format!("ecs-ak-{n}"),
                    &format!("ecs-secret-{n}"),
                    &format!("ecs-sts-token-{n}"),
                    c.expires_in,
                ),
            );
        }
        (404, String::new())
    })
}

fn metadata(expires_in: i64) -> (Arc<Mutex<Metadata>>, StandIn) {
    let ctl = Arc::new(Mutex::new(Metadata {
        expires_in,
        failing: false,
        no_token: false,
        delay: Duration::ZERO,
        served: 0,
    }));
    let s = metadata_standin(ctl.clone());
    (ctl, s)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn ecs_role_is_found_and_fetched_with_the_imdsv2_token_then_cached() {
    let e = env();
    let (_ctl, md) = metadata(3600);
    let p = EcsRamRoleProvider::new(None, Some(&md.url())).unwrap();
    rt().block_on(async {
        let c = p.credentials_async().await.unwrap();
        assert_eq!(c.access_key_id, "ecs-ak-1");
        assert_eq!(c.access_key_secret, "ecs-secret-1");
        assert_eq!(c.security_token, "ecs-sts-token-1");
        // An hour of validity: the second request uses the cache.
        let c2 = p.credentials_async().await.unwrap();
        assert_eq!(c2.access_key_id, "ecs-ak-1");
    });
    assert_eq!(p.fetch_count(), 1);
    let reqs = md.requests();
    let what: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        what,
        [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/ram/security-credentials/"),
            (
                "GET",
                "/latest/meta-data/ram/security-credentials/oss-reader-role"
            ),
        ]
        .map(|(m, p)| (m.to_string(), p.to_string()))
    );
    assert_eq!(
        reqs[0].headers["x-aliyun-ecs-metadata-token-ttl-seconds"],
        "21600"
    );
    e.assert_no_secret_logged(&["ecs-secret-1", "ecs-sts-token-1", ECS_TOKEN]);
}

#[test]
fn ecs_role_named_by_the_environment_is_not_looked_up() {
    let e = env();
    let (_ctl, md) = metadata(3600);
    std::env::set_var("ALIBABA_CLOUD_ECS_METADATA", ECS_ROLE);
    std::env::set_var("OSS_FFI_ECS_METADATA_ENDPOINT", md.url());
    let p = EcsRamRoleProvider::new(None, None).unwrap();
    let c = rt().block_on(p.credentials_async()).unwrap();
    assert_eq!(c.access_key_id, "ecs-ak-1");
    assert!(md
        .requests()
        .iter()
        .all(|r| r.path != "/latest/meta-data/ram/security-credentials/"));
    drop(e);
}

#[test]
fn ecs_without_a_token_service_falls_back_to_imdsv1_unless_disabled() {
    let e = env();
    let (ctl, md) = metadata(3600);
    ctl.lock().unwrap().no_token = true;
    let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    let c = rt().block_on(p.credentials_async()).unwrap();
    assert_eq!(c.access_key_id, "ecs-ak-1");

    std::env::set_var("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
    let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    let err = rt().block_on(p.credentials_async()).unwrap_err();
    assert_eq!(err.code, "InvalidCredentials");
    assert!(err.message.contains("metadata token"), "{}", err.message);
    drop(e);
}

#[test]
fn credentials_inside_the_refresh_margin_are_refreshed_before_they_expire() {
    let e = env();
    // Valid for 10 more minutes: less than the official 15-minute margin.
    let (_ctl, md) = metadata(600);
    let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    rt().block_on(async {
        assert_eq!(
            p.credentials_async().await.unwrap().access_key_id,
            "ecs-ak-1"
        );
        assert_eq!(
            p.credentials_async().await.unwrap().access_key_id,
            "ecs-ak-2"
        );
    });
    assert_eq!(p.fetch_count(), 2);
    drop(e);
}

#[test]
fn concurrent_requests_share_one_refresh() {
    let e = env();
    let (ctl, md) = metadata(3600);
    ctl.lock().unwrap().delay = Duration::from_millis(300);
    let p = Arc::new(EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap());
    rt().block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.credentials_async().await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().access_key_id, "ecs-ak-1");
        }
    });
    assert_eq!(ctl.lock().unwrap().served, 1);
    assert_eq!(p.fetch_count(), 1);
    drop(e);
}

#[test]
fn a_failed_refresh_keeps_still_valid_credentials() {
    let e = env();
    let (ctl, md) = metadata(600);
    let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    rt().block_on(async {
        assert_eq!(
            p.credentials_async().await.unwrap().access_key_id,
            "ecs-ak-1"
        );
        ctl.lock().unwrap().failing = true;
        // Due for a refresh, which fails: the old ones are still valid for 10 minutes.
        let c = p.credentials_async().await.unwrap();
        assert_eq!(c.access_key_id, "ecs-ak-1");
        assert_eq!(c.security_token, "ecs-sts-token-1");
    });
    assert_eq!(p.fetch_count(), 2);
    let lines = e.lines.lock().unwrap().join("\n");
    assert!(lines.contains("stay in use"), "{lines}");
    drop(lines);
    // Without credentials to keep, the failure is the caller's.
    let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    let err = rt().block_on(p.credentials_async()).unwrap_err();
    assert_eq!(err.code, "InvalidCredentials");
    assert!(err.message.contains("HTTP 500"), "{}", err.message);
    // Credentials that come already expired are refused.
    ctl.lock().unwrap().failing = false;
    ctl.lock().unwrap().expires_in = -60;
    let err = rt().block_on(p.credentials_async()).unwrap_err();
    assert!(err.message.contains("already expired"), "{}", err.message);
    e.assert_no_secret_logged(&["ecs-secret-1", "ecs-sts-token-1", ECS_TOKEN]);
}

#[test]
fn hostile_metadata_answers_are_refused_with_clear_errors() {
    let e = env();
    let answers: Vec<(&str, String)> = vec![
        ("larger than", "x".repeat(100 * 1024)),
        ("not the expected JSON", "<html>captive portal</html>".into()),
        ("no AccessKeySecret", r#"{"Code":"Success","AccessKeyId":"a","SecurityToken":"t","Expiration":"2999-01-01T00:00:00Z"}"#.into()),
        ("Code is \"Failed\"", r#"{"Code":"Failed","Message":"role detached"}"#.into()),
        ("Expiration is not a time",
            r#"{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"hostile-secret","SecurityToken":"t","Expiration":"tomorrow"}"#.into(),
        ),
        ("control characters", creds_json("a\nb", "hostile-secret", "t", 3600)),
    ];
    for (want, body) in answers {
        let body = Arc::new(body);
        let b = body.clone();
        let md = StandIn::start(move |r| {
            if r.method == "PUT" {
                (200, ECS_TOKEN.to_string())
            } else {
                (200, (*b).clone())
            }
        });
        let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
        let err = rt().block_on(p.credentials_async()).unwrap_err();
        assert_eq!(err.code, "InvalidCredentials");
        assert!(err.message.contains(want), "want {want:?}: {}", err.message);
        assert!(!err.message.contains("hostile-secret"), "{}", err.message);
    }
    drop(e);
}

#[test]
fn the_blocking_form_waits_on_the_library_runtime() {
    let e = env();
    let (_ctl, md) = metadata(3600);
    oss_ffi::runtime::initialize().unwrap();
    let p = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    // From a plain thread (the C API's callers) and from inside the runtime (a C or C++
    // credentials callback runs on a library thread).
    assert_eq!(p.credentials().unwrap().access_key_id, "ecs-ak-1");
    let p2 = EcsRamRoleProvider::new(Some(ECS_ROLE), Some(&md.url())).unwrap();
    let c = rt().block_on(async { tokio::spawn(async move { p2.credentials() }).await.unwrap() });
    assert_eq!(c.unwrap().access_key_id, "ecs-ak-2");
    drop(e);
}

// --- the STS stand-in ----------------------------------------------------------------------

const SOURCE_AK: &str = "source-ak";
const SOURCE_SK: &str = "source-sk-verysecret";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-body.sig";
const ROLE_ARN: &str = "acs:ram::1234567890:role/oss-reader";
const OIDC_PROVIDER_ARN: &str = "acs:ram::1234567890:oidc-provider/ack-rrsa";

fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// The stand-in's own RPC signature (independent of the library's).
fn expected_signature(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let canonical: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let to_sign = format!("{method}&%2F&{}", enc(&canonical.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// STS on loopback: checks the action, its parameters, the token and (AssumeRole) the RPC
/// signature; answers credentials `sts-ak-<n>` valid for `expires_in` seconds.
fn sts_standin(expires_in: i64, issued: Arc<AtomicUsize>) -> StandIn {
    StandIn::start(move |r| {
        let bad = |code: &str, msg: &str| {
            (
                400,
                serde_json::json!({"Code": code, "Message": msg, "RequestId": "r"}).to_string(),
            )
        };
        if r.method != "POST" || r.path != "/" {
            return bad("InvalidMethod", "POST / expected");
        }
        let p = form(&r.body);
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        if get("Format") != "JSON" || get("Version") != "2015-04-01" {
            return bad("MissingParameter", "Format/Version");
        }
        let ts = get("Timestamp");
        if ts.len() != 20 || !ts.ends_with('Z') || &ts[4..5] != "-" || &ts[10..11] != "T" {
            return bad("InvalidTimeStamp.Format", "Timestamp");
        }
        if get("RoleArn") != ROLE_ARN || get("RoleSessionName").is_empty() {
            return bad("MissingParameter", "RoleArn/RoleSessionName");
        }
        if get("DurationSeconds")
            .parse::<u32>()
            .map_or(true, |d| d < 900)
        {
            return bad("InvalidParameter", "DurationSeconds");
        }
        match get("Action").as_str() {
            "AssumeRoleWithOIDC" => {
                if get("OIDCProviderArn") != OIDC_PROVIDER_ARN || get("OIDCToken") != OIDC_TOKEN {
                    return bad("InvalidParameter.OIDCToken", "token or provider");
                }
                if p.contains_key("Signature") || p.contains_key("AccessKeyId") {
                    return bad("InvalidParameter", "AssumeRoleWithOIDC is not signed");
                }
            }
            "AssumeRole" => {
                if get("AccessKeyId") != SOURCE_AK
                    || get("SignatureMethod") != "HMAC-SHA1"
                    || get("SignatureVersion") != "1.0"
                    || get("SignatureNonce").is_empty()
                {
                    return bad("IncompleteSignature", "signature parameters");
                }
                if get("Signature") != expected_signature(&r.method, &p, SOURCE_SK) {
                    return bad("SignatureDoesNotMatch", "the signature does not match");
                }
            }
            _ => return bad("InvalidAction.NotFound", "action"),
        }
        let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
        (
            200,
            serde_json::json!({
                "RequestId": "r",
                "AssumedRoleUser": {"Arn": ROLE_ARN, "AssumedRoleId": "1:s"},
                "Credentials": serde_json::from_str::<serde_json::Value>(&creds_json(
                    &format!("sts-ak-{n}"), &format!("sts-secret-{n}"), &format!("sts-token-{n}"),
                    expires_in)).unwrap(),
            })
            .to_string(),
        )
    })
}

#[test]
fn oidc_role_assumption_sends_the_token_file_and_the_arns() {
    let e = env();
    let issued = Arc::new(AtomicUsize::new(0));
    let sts = sts_standin(3600, issued.clone());
    let token_file = e.home.path().join("oidc-token");
    std::fs::write(&token_file, format!("{OIDC_TOKEN}\n")).unwrap();
    std::env::set_var("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN);
    std::env::set_var("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER_ARN);
    std::env::set_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file);
    std::env::set_var("ALIBABA_CLOUD_ROLE_SESSION_NAME", "my-session");
    std::env::set_var("OSS_FFI_STS_ENDPOINT", sts.url());
    let p = OidcRoleProvider::new(OidcSettings::default()).unwrap();
    let c = rt().block_on(p.credentials_async()).unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.security_token.as_str()),
        ("sts-ak-1", "sts-token-1")
    );
    let reqs = sts.requests();
    assert_eq!(reqs.len(), 1);
    let f = form(&reqs[0].body);
    assert_eq!(f["Action"], "AssumeRoleWithOIDC");
    assert_eq!(f["RoleSessionName"], "my-session");
    assert_eq!(f["DurationSeconds"], "3600");
    // Secrets travel in the body, never in the URL.
    assert_eq!(reqs[0].path, "/");
    // A token file that cannot be read is a clear error.
    std::fs::remove_file(&token_file).unwrap();
    let p = OidcRoleProvider::new(OidcSettings::default()).unwrap();
    let err = rt().block_on(p.credentials_async()).unwrap_err();
    assert!(err.message.contains("OIDC token file"), "{}", err.message);
    // Missing settings are named.
    std::env::remove_var("ALIBABA_CLOUD_OIDC_PROVIDER_ARN");
    let err = OidcRoleProvider::new(OidcSettings::default())
        .err()
        .unwrap();
    assert!(
        err.message.contains("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
        "{}",
        err.message
    );
    e.assert_no_secret_logged(&[OIDC_TOKEN, "sts-secret-1", "sts-token-1"]);
}

#[test]
fn ram_role_arn_assume_role_is_rpc_signed_with_the_source_key() {
    let e = env();
    let issued = Arc::new(AtomicUsize::new(0));
    let sts = sts_standin(3600, issued.clone());
    let settings = RamRoleArnSettings {
        role_arn: ROLE_ARN.into(),
        role_session_name: Some("s p a c e*".into()),
        policy: Some(r#"{"Version":"1","Statement":[]}"#.into()),
        sts_endpoint: Some(sts.url()),
        ..Default::default()
    };
    let source = Arc::new(StaticProvider::new(SOURCE_AK, SOURCE_SK, None));
    let p = RamRoleArnProvider::new(source, settings.clone()).unwrap();
    let c = rt().block_on(p.credentials_async()).unwrap();
    assert_eq!(c.access_key_id, "sts-ak-1");
    // STS source credentials: their token is sent and signed too.
    let sts_source = Arc::new(StaticProvider::new(
        SOURCE_AK,
        SOURCE_SK,
        Some("source-sts-token".into()),
    ));
    let p = RamRoleArnProvider::new(sts_source, settings.clone()).unwrap();
    assert_eq!(
        rt().block_on(p.credentials_async()).unwrap().access_key_id,
        "sts-ak-2"
    );
    let last = sts.requests().pop().unwrap();
    assert_eq!(form(&last.body)["SecurityToken"], "source-sts-token");
    // The stand-in really checks the signature: the wrong secret is refused.
    let wrong = Arc::new(StaticProvider::new(SOURCE_AK, "not-the-secret", None));
    let p = RamRoleArnProvider::new(wrong, settings).unwrap();
    let err = rt().block_on(p.credentials_async()).unwrap_err();
    assert!(
        err.message.contains("SignatureDoesNotMatch"),
        "{}",
        err.message
    );
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    // Plain http to anything but loopback is refused (STS answers carry secrets).
    let err = RamRoleArnProvider::new(
        Arc::new(StaticProvider::new(SOURCE_AK, SOURCE_SK, None)),
        RamRoleArnSettings {
            role_arn: ROLE_ARN.into(),
            sts_endpoint: Some("http://sts.aliyuncs.com".into()),
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(err.message.contains("https"), "{}", err.message);
    e.assert_no_secret_logged(&[SOURCE_SK, "sts-secret-1", "sts-token-1", "source-sts-token"]);
}

// --- files ---------------------------------------------------------------------------------

fn write_cli_config(home: &Path, body: &serde_json::Value) -> std::path::PathBuf {
    let dir = home.join(".aliyun");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("config.json");
    std::fs::write(&p, serde_json::to_string_pretty(body).unwrap()).unwrap();
    p
}

/// A config.json as `aliyun configure` writes it (fields of every mode present, most empty).
fn cli_config(current: &str, sts_url: &str) -> serde_json::Value {
    let profile = |name: &str, mode: &str, extra: serde_json::Value| {
        let mut p = serde_json::json!({
            "name": name, "mode": mode, "access_key_id": "", "access_key_secret": "",
            "sts_token": "", "sts_region": "", "ram_role_name": "", "ram_role_arn": "",
            "ram_session_name": "", "source_profile": "", "private_key": "", "key_pair_name": "",
            "expired_seconds": 0, "verified": "", "region_id": "cn-hangzhou",
            "output_format": "json", "language": "en", "site": "", "retry_timeout": 0,
            "connect_timeout": 0, "retry_count": 0, "process_command": "",
            "credentials_uri": "", "oidc_provider_arn": "", "oidc_token_file": "",
            "cloud_sso_sign_in_url": "", "cloud_sso_access_config": "",
            "cloud_sso_account_id": ""
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let _ = sts_url;
    serde_json::json!({
        "current": current,
        "profiles": [
            profile("default", "AK", serde_json::json!({
                "access_key_id": "cli-ak", "access_key_secret": "cli-secret"})),
            profile("sts", "StsToken", serde_json::json!({
                "access_key_id": "cli-sts-ak", "access_key_secret": "cli-sts-secret",
                "sts_token": "cli-sts-token"})),
            profile("role", "RamRoleArn", serde_json::json!({
                "access_key_id": SOURCE_AK, "access_key_secret": SOURCE_SK,
                "ram_role_arn": ROLE_ARN, "ram_session_name": "cli-session",
                "expired_seconds": 1800})),
            profile("ecs", "EcsRamRole", serde_json::json!({"ram_role_name": ECS_ROLE})),
            profile("sso", "CloudSSO", serde_json::json!({})),
        ],
        "meta_path": ""
    })
}

#[test]
fn cli_profiles_ak_sts_role_and_ecs_modes_and_a_clear_error_for_others() {
    let e = env();
    let issued = Arc::new(AtomicUsize::new(0));
    let sts = sts_standin(3600, issued);
    let (_ctl, md) = metadata(3600);
    std::env::set_var("OSS_FFI_STS_ENDPOINT", sts.url());
    std::env::set_var("OSS_FFI_ECS_METADATA_ENDPOINT", md.url());
    let path = write_cli_config(e.home.path(), &cli_config("sts", &sts.url()));

    // `current` when nothing else names the profile (default path: ~/.aliyun/config.json).
    let c = CliProfileProvider::new(None, None)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.security_token.as_str()),
        ("cli-sts-ak", "cli-sts-token")
    );
    // ALIBABA_CLOUD_PROFILE over `current`; an explicit name over both.
    std::env::set_var("ALIBABA_CLOUD_PROFILE", "default");
    let c = CliProfileProvider::new(Some(&path), None)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), c.security_token.as_str()),
        ("cli-ak", "")
    );
    let rt = rt();
    let c = rt
        .block_on(
            CliProfileProvider::new(Some(&path), Some("role"))
                .unwrap()
                .credentials_async(),
        )
        .unwrap();
    assert_eq!(c.access_key_id, "sts-ak-1");
    let f = form(&sts.requests()[0].body);
    assert_eq!(
        (f["RoleSessionName"].as_str(), f["DurationSeconds"].as_str()),
        ("cli-session", "1800")
    );
    let c = rt
        .block_on(
            CliProfileProvider::new(Some(&path), Some("ecs"))
                .unwrap()
                .credentials_async(),
        )
        .unwrap();
    assert_eq!(c.access_key_id, "ecs-ak-1");

    let err = CliProfileProvider::new(Some(&path), Some("sso"))
        .err()
        .unwrap();
    assert_eq!(err.code, "InvalidCredentials");
    assert!(err.message.contains("mode 'CloudSSO'"), "{}", err.message);
    assert!(
        err.message.contains("supported: AK, StsToken"),
        "{}",
        err.message
    );
    let err = CliProfileProvider::new(Some(&path), Some("nope"))
        .err()
        .unwrap();
    assert!(
        err.message.contains("no profile named 'nope'"),
        "{}",
        err.message
    );
    std::fs::write(&path, "{ not json").unwrap();
    let err = CliProfileProvider::new(Some(&path), None).err().unwrap();
    assert!(
        err.message.contains("not a valid CLI configuration"),
        "{}",
        err.message
    );
    // Nothing secret in the messages either.
    assert!(!err.message.contains("cli-secret"));
    e.assert_no_secret_logged(&["cli-secret", "cli-sts-secret", "cli-sts-token", SOURCE_SK]);
}

#[test]
fn the_credentials_file_sections_and_types() {
    let e = env();
    let dir = e.home.path().join(".alibabacloud");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials");
    std::fs::write(
        &path,
        "[default]\ntype = access_key   # the key\naccess_key_id = ini-ak\naccess_key_secret = ini-secret\n\n\
         [other]\ntype=access_key\naccess_key_id=ini-ak-2\naccess_key_secret=ini-secret-2\n\n\
         [rsa]\ntype = rsa_key_pair\npublic_key_id = x\nprivate_key_file = /nonexistent\n",
    )
    .unwrap();
    let c = ProfileFileProvider::new(None, None)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "ini-ak");
    std::env::set_var("ALIBABA_CLOUD_PROFILE", "other");
    let c = ProfileFileProvider::new(None, None)
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "ini-ak-2");
    let err = ProfileFileProvider::new(None, Some("rsa")).err().unwrap();
    assert!(
        err.message.contains("type 'rsa_key_pair'"),
        "{}",
        err.message
    );
    // The C API's one constructor reads either format.
    let c = from_file(&path, Some("default"))
        .unwrap()
        .credentials()
        .unwrap();
    assert_eq!(c.access_key_id, "ini-ak");
    drop(e);
}

// --- the default chain ---------------------------------------------------------------------

#[test]
fn the_default_chain_goes_environment_oidc_cli_file_ecs_in_that_order() {
    let e = env();
    let rt = rt();
    let issued = Arc::new(AtomicUsize::new(0));
    let sts = sts_standin(3600, issued);
    let (_ctl, md) = metadata(3600);
    let chosen = |rt: &tokio::runtime::Runtime| {
        let chain = DefaultChainProvider::new();
        let c = rt.block_on(chain.credentials_async());
        (c, chain.chosen().unwrap_or_default())
    };

    // Nothing anywhere (and the metadata service unreachable): every step's reason.
    let (c, _) = chosen(&rt);
    let err = c.unwrap_err();
    for step in [
        "environment:",
        "CLI profile:",
        "credentials file:",
        "ECS RAM role:",
    ] {
        assert!(err.message.contains(step), "{}", err.message);
    }

    // 5. the ECS role.
    std::env::set_var("OSS_FFI_ECS_METADATA_ENDPOINT", md.url());
    let (c, by) = chosen(&rt);
    assert_eq!(c.unwrap().access_key_id, "ecs-ak-1", "{by}");
    // ... unless disabled.
    std::env::set_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    assert!(chosen(&rt).0.is_err());

    // 4. the credentials file.
    let dir = e.home.path().join(".alibabacloud");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        "[default]\ntype=access_key\naccess_key_id=ini-ak\naccess_key_secret=ini-secret\n",
    )
    .unwrap();
    assert_eq!(chosen(&rt).0.unwrap().access_key_id, "ini-ak");

    // 3. the CLI's config.json before it (unless disabled).
    write_cli_config(e.home.path(), &cli_config("default", &sts.url()));
    let (c, by) = chosen(&rt);
    assert_eq!(c.unwrap().access_key_id, "cli-ak");
    assert!(by.contains("profile 'default'"), "{by}");
    std::env::set_var("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    assert_eq!(chosen(&rt).0.unwrap().access_key_id, "ini-ak");
    std::env::remove_var("ALIBABA_CLOUD_CLI_PROFILE_DISABLED");

    // 2. OIDC before the files.
    let token_file = e.home.path().join("token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    std::env::set_var("ALIBABA_CLOUD_ROLE_ARN", ROLE_ARN);
    std::env::set_var("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER_ARN);
    std::env::set_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file);
    std::env::set_var("OSS_FFI_STS_ENDPOINT", sts.url());
    assert_eq!(chosen(&rt).0.unwrap().access_key_id, "sts-ak-1");

    // 1. the environment first: the OSS SDKs' variables, and the official ones before them.
    std::env::set_var("OSS_ACCESS_KEY_ID", "oss-env-ak");
    std::env::set_var("OSS_ACCESS_KEY_SECRET", "oss-env-secret");
    assert_eq!(chosen(&rt).0.unwrap().access_key_id, "oss-env-ak");
    std::env::set_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-ak");
    std::env::set_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
    std::env::set_var("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token");
    let (c, by) = chosen(&rt);
    let c = c.unwrap();
    assert_eq!(
        (c.access_key_id.as_str(), by.as_str()),
        ("env-ak", "environment")
    );
    e.assert_no_secret_logged(&[
        "ecs-secret-1",
        "ecs-sts-token-1",
        "ini-secret",
        "cli-secret",
        OIDC_TOKEN,
        "sts-secret-1",
        "sts-token-1",
        "oss-env-secret",
        "env-secret",
        "env-token",
    ]);
}

#[test]
fn a_download_through_the_default_chain_uses_the_ecs_role_credentials() {
    let e = env();
    let tmp = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![
            Credential::with_token("ecs-ak-1", "ecs-secret-1", "ecs-sts-token-1"),
            Credential::with_token("ecs-ak-2", "ecs-secret-2", "ecs-sts-token-2"),
        ],
        ..Default::default()
    })
    .unwrap();
    emu.put_object("cred-bucket", "k", b"through the chain")
        .unwrap();
    let (ctl, md) = metadata(3600);
    std::env::set_var("OSS_FFI_ECS_METADATA_ENDPOINT", md.url());
    let client = Client::new(
        &emu.endpoint(),
        Arc::new(DefaultChainProvider::new()),
        Config::default(),
    )
    .unwrap();
    let req = ObjectRequest {
        bucket: "cred-bucket".into(),
        key: "k".into(),
        ..Default::default()
    };
    rt().block_on(async {
        for _ in 0..3 {
            let mut out = Vec::new();
            client
                .get_object_with(&req, None, None, &Cancel::new(), |d| {
                    out.extend_from_slice(d);
                    Ok(())
                })
                .await
                .unwrap();
            assert_eq!(out, b"through the chain");
        }
    });
    // Three requests, one fetch.
    assert_eq!(ctl.lock().unwrap().served, 1);
    e.assert_no_secret_logged(&["ecs-secret-1", "ecs-sts-token-1", ECS_TOKEN]);
}

// --- the C program -------------------------------------------------------------------------

#[test]
fn c_and_cpp_default_chain_and_constructors() {
    use support::*;
    let e = env();
    let tmp = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![Credential::with_token(
            "ecs-ak-1",
            "ecs-secret-1",
            "ecs-sts-token-1",
        )],
        ..Default::default()
    })
    .unwrap();
    emu.put_object("cred-bucket", "k", b"from C").unwrap();
    let (ctl, md) = metadata(3600);
    let issued = Arc::new(AtomicUsize::new(0));
    let sts = sts_standin(3600, issued);
    let cli = write_cli_config(e.home.path(), &cli_config("default", &sts.url()));
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", "cred-bucket".into()),
        ("OSS_TEST_KEY", "k".into()),
        ("OSS_TEST_CLI_CONFIG", cli.display().to_string()),
        ("OSS_FFI_ECS_METADATA_ENDPOINT", md.url()),
        ("OSS_FFI_STS_ENDPOINT", sts.url()),
        ("HOME", home.path().display().to_string()),
        ("OSS_SDK_LOG_LEVEL", "debug".into()),
    ];
    // The C program, then the C++ one (C++11: the layer's oldest standard).
    for (src, lang, name, passed) in [
        (
            "tests/c/credentials_chain.c",
            Lang::C11,
            "credentials_chain",
            "credentials_chain: all checks passed",
        ),
        (
            "tests/cpp/credentials_api.cc",
            Lang::Cxx11,
            "credentials_api",
            "cpp credentials_api: all checks passed",
        ),
    ] {
        // Each program's first credentials are "ecs-ak-1", the ones the server accepts.
        ctl.lock().unwrap().served = 0;
        let exe = build_dir("credentials").join(name);
        compile(
            &[repo_root().join(src)],
            &exe,
            lang,
            Link::Shared,
            &["-pthread"],
        );
        let out = run(&exe, &[], &env);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("{all}");
        assert_ok(name, &out);
        assert!(all.contains(passed), "{all}");
        for secret in ["ecs-secret-1", "ecs-sts-token-1", ECS_TOKEN, "cli-secret"] {
            assert!(
                !all.contains(secret),
                "a secret leaked into the output of {name}"
            );
        }
    }
    drop(e);
}
