//! Integration tests: the emulator started in-process, spoken to over raw HTTP/1.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use oss_emulator::auth::v1::{
    v1_canonical_headers, v1_canonical_resource, v1_sign, v1_string_to_sign, V1_SUBRESOURCES,
};
use oss_emulator::{Credential, Emulator, EmulatorConfig, FaultAction, FaultRule, Faults};

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The connection ended before the declared body was complete (or was reset).
    truncated: bool,
}

impl Resp {
    fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
}

/// Minimal HTTP/1.1 client: one request per connection, reads until close.
fn request(
    emu: &Emulator,
    method: &str,
    host: Option<&str>,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(emu.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let host = host
        .map(str::to_string)
        .unwrap_or_else(|| emu.addr().to_string());
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let mut reset = false;
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(_) => {
                reset = true;
                break;
            }
        }
    }
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Resp {
            status: 0,
            headers: vec![],
            body: vec![],
            truncated: true,
        };
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = raw[end + 4..].to_vec();
    let declared: Option<usize> = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok());
    let truncated = reset || (method != "HEAD" && declared.is_some_and(|d| body.len() < d));
    Resp {
        status,
        headers,
        body,
        truncated,
    }
}

fn get(emu: &Emulator, path: &str, headers: &[(&str, &str)]) -> Resp {
    request(emu, "GET", None, path, headers, b"")
}

/// The newest log entry for `key`, waiting up to 5 s for it to be written.
fn wait_for_log(emu: &Emulator, key: &str) -> oss_emulator::LogEntry {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(e) = emu.log().into_iter().rev().find(|e| e.key == key) {
            return e;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no log entry for {key}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn open_emu() -> (tempfile::TempDir, Emulator) {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: dir.path().to_path_buf(),
        ..Default::default()
    })
    .unwrap();
    (dir, emu)
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn get_head_range_and_headers() {
    let (_d, emu) = open_emu();
    let body = data(10_000);
    let meta = emu.put_object_meta("bkt", "dir/a b+c.bin", &body).unwrap();
    let r = get(&emu, "/bkt/dir/a%20b%2Bc.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, body);
    assert_eq!(r.header("etag"), Some(meta.etag.as_str()));
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(meta.crc64.to_string().as_str())
    );
    assert_eq!(r.header("x-oss-object-type"), Some("Normal"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(r.header("date").is_some() && r.header("last-modified").is_some());
    assert_eq!(r.header("x-oss-request-id").unwrap().len(), 24);
    assert!(r.header("x-oss-version-id").is_none());

    let r = get(
        &emu,
        "/bkt/dir/a%20b%2Bc.bin",
        &[
            ("Range", "bytes=100-199"),
            ("x-oss-range-behavior", "standard"),
        ],
    );
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &body[100..200]);
    assert_eq!(r.header("content-range"), Some("bytes 100-199/10000"));
    let r = get(
        &emu,
        "/bkt/dir/a%20b%2Bc.bin",
        &[("Range", "bytes=9990-20000")],
    );
    assert_eq!((r.status, r.body.len()), (200, 10_000));
    let r = get(
        &emu,
        "/bkt/dir/a%20b%2Bc.bin",
        &[
            ("Range", "bytes=10000-"),
            ("x-oss-range-behavior", "standard"),
        ],
    );
    assert_eq!(r.status, 416);
    assert!(String::from_utf8_lossy(&r.body).contains("<Code>InvalidRange</Code>"));

    let h = request(&emu, "HEAD", None, "/bkt/dir/a%20b%2Bc.bin", &[], b"");
    assert_eq!(h.status, 200);
    assert_eq!(h.header("content-length"), Some("10000"));
    let h = request(
        &emu,
        "HEAD",
        None,
        "/bkt/dir/a%20b%2Bc.bin?objectMeta",
        &[],
        b"",
    );
    assert_eq!(h.status, 200);
    assert_eq!(h.header("etag"), Some(meta.etag.as_str()));
    assert!(h.header("x-oss-object-type").is_none());

    // versionId
    let r = get(
        &emu,
        &format!("/bkt/dir/a%20b%2Bc.bin?versionId={}", meta.version_id),
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-oss-version-id"), Some(meta.version_id.as_str()));
    let r = get(&emu, "/bkt/dir/a%20b%2Bc.bin?versionId=CAEQold", &[]);
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("NoSuchVersion"));

    // HEAD error: no body, x-oss-err
    let h = request(&emu, "HEAD", None, "/bkt/missing", &[], b"");
    assert_eq!(h.status, 404);
    assert!(h.body.is_empty());
    use base64::Engine;
    let xml = base64::engine::general_purpose::STANDARD
        .decode(h.header("x-oss-err").unwrap())
        .unwrap();
    assert!(String::from_utf8(xml)
        .unwrap()
        .contains("<Code>NoSuchKey</Code>"));
    assert_eq!(h.header("x-oss-ec"), Some("0026-00000001"));

    // 304 + conditions
    let r = get(
        &emu,
        "/bkt/dir/a%20b%2Bc.bin",
        &[("If-None-Match", &meta.etag)],
    );
    assert_eq!(r.status, 304);
    let r = get(&emu, "/bkt/dir/a%20b%2Bc.bin", &[("If-Match", "\"nope\"")]);
    assert_eq!(r.status, 412);
    assert!(String::from_utf8_lossy(&r.body).contains("PreconditionFailed"));

    // response-* overrides
    let r = get(
        &emu,
        "/bkt/dir/a%20b%2Bc.bin?response-content-type=text%2Fplain&response-cache-control=no-cache",
        &[],
    );
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
}

#[test]
fn addressing_and_bad_keys() {
    let (d, emu) = open_emu();
    emu.put_object("vbkt", "k/ü.txt", b"hi").unwrap();
    // virtual-hosted
    let r = request(
        &emu,
        "GET",
        Some("vbkt.oss-cn-hangzhou.aliyuncs.com"),
        "/k/%C3%BC.txt",
        &[],
        b"",
    );
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hi"[..]));
    let r = request(
        &emu,
        "GET",
        Some("vbkt.localhost:1234"),
        "/k/%C3%BC.txt",
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    // Path traversal: `../etc/passwd` is a valid OSS key, looked up in the bucket only.
    let r = get(&emu, "/vbkt/../etc/passwd", &[]);
    assert_eq!(r.status, 404);
    assert!(String::from_utf8_lossy(&r.body).contains("NoSuchKey"));
    let r = get(&emu, "/vbkt/a/%2E%2E/%2E%2E/x", &[]);
    assert_eq!(r.status, 404);
    // Keys unsafe as paths are stored apart and served back; nothing lands outside the bucket.
    for (path, key) in [
        ("/vbkt/%2E%2E/%2E%2E/escaped", "../../escaped"),
        ("/vbkt/a//b", "a//b"),
        ("/vbkt/dir/", "dir/"),
        ("/vbkt/c%01d", "c\u{1}d"),
    ] {
        let r = request(&emu, "PUT", None, path, &[], key.as_bytes());
        assert_eq!(r.status, 200, "{key:?}");
        let r = get(&emu, path, &[]);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, key.as_bytes()),
            "{key:?}"
        );
    }
    assert!(!d.path().join("escaped").exists());
    assert!(!d.path().parent().unwrap().join("escaped").exists());
    // OSS refuses a key starting with `/` or `\`.
    for path in ["/vbkt//abs", "/vbkt/%5Cx"] {
        let r = request(&emu, "PUT", None, path, &[], b"x");
        assert_eq!(r.status, 400, "{path}");
        assert!(String::from_utf8_lossy(&r.body).contains("InvalidObjectName"));
    }
    let r = get(&emu, "/nobucket/x", &[]);
    assert!(String::from_utf8_lossy(&r.body).contains("NoSuchBucket"));
    let r = get(&emu, "/.oss-emulator-meta/x", &[]);
    assert_eq!(r.status, 400);
    let r = request(&emu, "POST", None, "/vbkt/k/%C3%BC.txt", &[], b"");
    assert_eq!(r.status, 405);
    assert!(String::from_utf8_lossy(&r.body).contains("MethodNotAllowed"));
}

#[test]
fn hand_placed_files_are_served_and_cached() {
    let (dir, emu) = open_emu();
    std::fs::create_dir_all(dir.path().join("hand/sub")).unwrap();
    std::fs::write(dir.path().join("hand/sub/f.txt"), b"123456789").unwrap();
    let r = get(&emu, "/hand/sub/f.txt", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some("11051210869376104954")
    );
    assert_eq!(
        r.header("etag"),
        Some("\"25F9E794323B453885F5181F1B624D0B\"")
    );
    assert_eq!(r.header("content-type"), Some("text/plain"));
    // changed by hand -> recomputed
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.path().join("hand/sub/f.txt"), b"hello world!").unwrap();
    let r = get(&emu, "/hand/sub/f.txt", &[]);
    assert_eq!(r.body, b"hello world!");
    assert_eq!(
        r.header("x-oss-hash-crc64ecma"),
        Some(
            u64::from_str_radix("8483c0fa32607d61", 16)
                .unwrap()
                .to_string()
                .as_str()
        )
    );
}

#[test]
fn auth_v1_header_and_anonymous_rules() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: dir.path().to_path_buf(),
        credentials: vec![Credential::new("ak", "sk")],
        public_read: vec!["pub".into()],
        ..Default::default()
    })
    .unwrap();
    emu.put_object("priv", "x y.txt", b"secret").unwrap();
    emu.put_object("pub", "o", b"open").unwrap();
    assert_eq!(get(&emu, "/priv/x%20y.txt", &[]).status, 403);
    assert_eq!(get(&emu, "/pub/o", &[]).status, 200);
    assert_eq!(request(&emu, "PUT", None, "/pub/o", &[], b"x").status, 403);

    let date = httpdate::fmt_http_date(SystemTime::now());
    let sign = |date: &str, secret: &str| {
        let headers = vec![("x-oss-range-behavior".to_string(), "standard".to_string())];
        let sts = v1_string_to_sign(
            "GET",
            "",
            "",
            date,
            &v1_canonical_headers(&headers),
            &v1_canonical_resource(Some("priv"), Some("x y.txt"), "", V1_SUBRESOURCES),
        );
        format!("OSS ak:{}", v1_sign(secret, &sts))
    };
    let auth = sign(&date, "sk");
    let r = get(
        &emu,
        "/priv/x%20y.txt",
        &[
            ("Date", &date),
            ("x-oss-range-behavior", "standard"),
            ("Authorization", &auth),
        ],
    );
    assert_eq!((r.status, r.body.as_slice()), (200, &b"secret"[..]));
    let bad = sign(&date, "wrong");
    let r = get(
        &emu,
        "/priv/x%20y.txt",
        &[
            ("Date", &date),
            ("x-oss-range-behavior", "standard"),
            ("Authorization", &bad),
        ],
    );
    assert_eq!(r.status, 403);
    let text = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>")
            && text.contains("<StringToSign>GET\n\n\n")
    );
    let old = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(3600));
    let r = get(
        &emu,
        "/priv/x%20y.txt",
        &[
            ("Date", &old),
            ("x-oss-range-behavior", "standard"),
            ("Authorization", &sign(&old, "sk")),
        ],
    );
    assert_eq!(r.status, 403);
    let text = String::from_utf8_lossy(&r.body).to_string();
    assert!(text.contains("RequestTimeTooSkewed") && text.contains("<ServerTime>"));
    let log = emu.log();
    assert_eq!(log.iter().filter(|e| e.auth == "v1").count(), 3);
    assert_eq!(log[0].auth, "anonymous");
}

#[test]
fn fault_status_burst_then_success_and_log() {
    let (_d, emu) = open_emu();
    emu.put_object("bkt", "k", b"data").unwrap();
    emu.set_faults(Faults::fail_next_gets(2, 503));
    assert_eq!(get(&emu, "/bkt/k", &[]).status, 503);
    assert_eq!(request(&emu, "HEAD", None, "/bkt/k", &[], b"").status, 200);
    let r = get(&emu, "/bkt/k", &[]);
    assert_eq!(r.status, 503);
    assert!(String::from_utf8_lossy(&r.body).contains("<Code>ServiceUnavailable</Code>"));
    assert_eq!(get(&emu, "/bkt/k", &[("If-Match", "\"x\"")]).status, 412);
    let log = emu.log();
    let statuses: Vec<u16> = log.iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![503, 200, 503, 412]);
    assert_eq!(log[0].fault.as_deref(), Some("status:503"));
    assert_eq!(log[3].if_match.as_deref(), Some("\"x\""));
    assert_eq!(log[3].key, "k");
    let ids: std::collections::HashSet<_> = log.iter().map(|e| e.request_id.clone()).collect();
    assert_eq!(ids.len(), 4);
    emu.clear_log();
    assert!(emu.log().is_empty());
}

#[test]
fn fault_cut_short_long_wrong_range_stall_latency_reset() {
    let (_d, emu) = open_emu();
    let body = data(3 << 20);
    emu.put_object("bkt", "big", &body).unwrap();
    emu.put_object("bkt", "other", b"o").unwrap();

    emu.set_faults(
        Faults::default()
            .with(FaultRule::new(FaultAction::Cut { bytes: Some(1000) }).prefix("big")),
    );
    assert_eq!(get(&emu, "/bkt/other", &[]).status, 200);
    let r = get(&emu, "/bkt/big", &[]);
    assert!(r.truncated);
    assert_eq!(r.body.len(), 1000);
    assert_eq!(r.body, &body[..1000]);
    // The server logs a request when its answer ends, which can be just after the client saw
    // the cut: wait for the entry instead of racing it.
    assert_eq!(wait_for_log(&emu, "big").bytes_sent, 1000);

    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::Cut { bytes: None }).count(1)),
    );
    let r = get(&emu, "/bkt/big", &[]);
    assert!(r.truncated && r.body.len() < body.len());
    assert!(!get(&emu, "/bkt/big", &[]).truncated);

    let rng = [
        ("Range", "bytes=0-9999"),
        ("x-oss-range-behavior", "standard"),
    ];
    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::ShortBody { bytes: 10 })));
    let r = get(&emu, "/bkt/big", &rng);
    assert!(!r.truncated);
    assert_eq!((r.status, r.body.len()), (206, 9990));
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 0-9999/{}", body.len()).as_str())
    );

    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::LongBody { bytes: 7 })));
    let r = get(&emu, "/bkt/big", &rng);
    assert_eq!(r.body.len(), 10007);
    assert_eq!(&r.body[..10000], &body[..10000]);

    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::WrongContentRange { shift: 5 })),
    );
    let r = get(&emu, "/bkt/big", &rng);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 5-10004/{}", body.len()).as_str())
    );
    assert_eq!(r.body, &body[..10000]);

    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::Stall {
        bytes: 100,
        ms: 400,
    })));
    let t = Instant::now();
    let r = get(&emu, "/bkt/big", &rng);
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(r.body, &body[..10000]);

    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::Latency { ms: 300 })));
    let t = Instant::now();
    assert_eq!(get(&emu, "/bkt/other", &[]).status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::Reset { bytes: None }).count(1)),
    );
    let r = get(&emu, "/bkt/other", &[]);
    assert_eq!(r.status, 0);
    assert_eq!(get(&emu, "/bkt/other", &[]).status, 200);
    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::Reset { bytes: Some(5000) }).count(1)),
    );
    let r = get(&emu, "/bkt/big", &[]);
    assert!(r.truncated && r.body.len() <= 5000);
}

#[test]
fn fault_mutate_after_n_requests() {
    let (_d, emu) = open_emu();
    let body = data(100_000);
    let m0 = emu.put_object_meta("bkt", "m", &body).unwrap();
    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::Mutate).after(2).count(1)));
    let r1 = get(
        &emu,
        "/bkt/m",
        &[("Range", "bytes=0-9"), ("x-oss-range-behavior", "standard")],
    );
    let r2 = get(
        &emu,
        "/bkt/m",
        &[
            ("Range", "bytes=10-19"),
            ("x-oss-range-behavior", "standard"),
            ("If-Match", &m0.etag),
        ],
    );
    assert_eq!((r1.status, r2.status), (206, 206));
    let r3 = get(
        &emu,
        "/bkt/m",
        &[
            ("Range", "bytes=20-29"),
            ("x-oss-range-behavior", "standard"),
            ("If-Match", &m0.etag),
        ],
    );
    assert_eq!(r3.status, 412);
    let r4 = get(&emu, "/bkt/m", &[]);
    assert_ne!(r4.header("etag"), Some(m0.etag.as_str()));
    assert_eq!(r4.body.len(), body.len());
    assert_ne!(r4.body, body);
    assert_eq!(emu.log()[2].fault.as_deref(), Some("mutate"));
}

#[test]
fn random_faults_replay_with_seed() {
    let run = || {
        let (_d, emu) = open_emu();
        emu.put_object("bkt", "k", &data(50_000)).unwrap();
        emu.set_faults(Faults {
            rules: vec![
                FaultRule::new(FaultAction::Status {
                    status: 500,
                    code: None,
                })
                .probability(0.3),
                FaultRule::new(FaultAction::Cut { bytes: None }).probability(0.3),
            ],
            seed: Some(1234),
        });
        (0..20)
            .map(|_| {
                let r = get(&emu, "/bkt/k", &[]);
                (r.status, r.body.len())
            })
            .collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.iter().any(|x| x.0 == 500));
    assert!(a.iter().any(|x| x.0 == 200 && x.1 < 50_000));
    assert!(a.iter().any(|x| x.0 == 200 && x.1 == 50_000));
}

#[test]
fn traffic_limit_is_a_real_throttle() {
    let (_d, emu) = open_emu();
    emu.put_object("bkt", "k", &data(300_000)).unwrap();
    let t = Instant::now();
    let r = get(&emu, "/bkt/k", &[("x-oss-traffic-limit", "2457600")]); // 300 KiB/s
    assert_eq!(r.body.len(), 300_000);
    assert!(
        t.elapsed() >= Duration::from_millis(850),
        "{:?}",
        t.elapsed()
    );
    let r = get(&emu, "/bkt/k", &[("x-oss-traffic-limit", "100")]);
    assert_eq!(r.status, 400);
    assert!(String::from_utf8_lossy(&r.body).contains("InvalidArgument"));
}

#[test]
fn put_delete_and_admin_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: dir.path().to_path_buf(),
        admin: true,
        ..Default::default()
    })
    .unwrap();
    emu.create_bucket("bkt").unwrap();
    let r = request(
        &emu,
        "PUT",
        None,
        "/bkt/new%20key",
        &[("x-oss-meta-color", "red"), ("Content-Type", "text/x-a")],
        b"payload",
    );
    assert_eq!(r.status, 200);
    let g = get(&emu, "/bkt/new%20key", &[]);
    assert_eq!(g.body, b"payload");
    assert_eq!(g.header("x-oss-meta-color"), Some("red"));
    assert_eq!(g.header("content-type"), Some("text/x-a"));
    assert_eq!(g.header("etag"), r.header("etag"));
    let bad = request(
        &emu,
        "PUT",
        None,
        "/bkt/k2",
        &[("Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA==")],
        b"x",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        request(&emu, "DELETE", None, "/bkt/new%20key", &[], b"").status,
        204
    );
    assert_eq!(get(&emu, "/bkt/new%20key", &[]).status, 404);

    let body = br#"{"rules":[{"kind":"status","status":500,"count":1,"method":"GET"}]}"#;
    let r = request(&emu, "PUT", None, "/__admin/faults", &[], body);
    assert_eq!(r.status, 200);
    assert_eq!(emu.faults().rules.len(), 1);
    assert_eq!(get(&emu, "/bkt/x", &[]).status, 500);
    let r = get(&emu, "/__admin/log", &[]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&r.body)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|l| l["status"] == 500 && l["fault"] == "status:500"));
    assert_eq!(
        request(&emu, "DELETE", None, "/__admin/log", &[], b"").status,
        200
    );
    assert!(emu.log().is_empty());
}

#[test]
fn admin_disabled_by_default() {
    let (_d, emu) = open_emu();
    let r = request(&emu, "PUT", None, "/__admin/faults", &[], b"{}");
    assert_eq!(r.status, 400); // "__admin" is not a valid bucket name
}

#[test]
fn start_inside_a_tokio_runtime_and_shutdown() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let emu = Emulator::start(EmulatorConfig {
            root: dir.path().to_path_buf(),
            tls: true,
            ..Default::default()
        })
        .unwrap();
        assert!(emu.endpoint().starts_with("https://127.0.0.1:"));
        let ca = std::fs::read_to_string(emu.ca_pem_path().unwrap()).unwrap();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
        let addr = emu.addr();
        emu.shutdown();
        assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_err());
    });
}

fn body_text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn listing_pages_encoding_and_listing_faults() {
    use oss_emulator::{FaultAction, FaultRule, Faults};
    let (_d, emu) = open_emu();
    for k in ["a", "b c", "d/1", "d/2", "e\u{1}"] {
        emu.put_object("lst", k, b"xy").unwrap();
    }
    let r = get(&emu, "/lst/?list-type=2&max-keys=2&encoding-type=url", &[]);
    assert_eq!(r.status, 200, "{}", body_text(&r));
    let x = body_text(&r);
    assert!(x.contains("<Key>a</Key><LastModified>"), "{x}");
    assert!(x.contains("<Key>b%20c</Key>"), "{x}");
    assert!(x.contains("<IsTruncated>true</IsTruncated>"), "{x}");
    assert!(x.contains("<KeyCount>2</KeyCount>"), "{x}");
    assert!(x.contains("<Size>2</Size>") && x.contains("<StorageClass>Standard</StorageClass>"));
    let token = x
        .split("<NextContinuationToken>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap()
        .to_string();
    let r = get(
        &emu,
        &format!("/lst/?list-type=2&delimiter=%2F&encoding-type=url&continuation-token={token}"),
        &[],
    );
    let x = body_text(&r);
    assert!(
        x.contains("<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"),
        "{x}"
    );
    assert!(x.contains("<Key>e%01</Key>"), "{x}");
    assert!(x.contains("<IsTruncated>false</IsTruncated>"), "{x}");
    // v1
    let r = get(&emu, "/lst/?max-keys=1&marker=a", &[]);
    let x = body_text(&r);
    assert!(
        x.contains("<Key>b c</Key>") && x.contains("<NextMarker>b c</NextMarker>"),
        "{x}"
    );
    assert!(x.contains("<Owner><ID>"), "{x}");
    // Errors.
    let r = get(&emu, "/lst/?list-type=2&max-keys=1001", &[]);
    assert_eq!(r.status, 400);
    assert!(body_text(&r).contains("InvalidArgument"));
    let r = get(&emu, "/nobkt/?list-type=2", &[]);
    assert_eq!(r.status, 404);
    assert!(body_text(&r).contains("NoSuchBucket"));
    // Truncated with no token.
    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::ListTruncatedNoToken)));
    let x = body_text(&get(&emu, "/lst/?list-type=2", &[]));
    assert!(x.contains("<IsTruncated>true</IsTruncated>") && !x.contains("NextContinuationToken"));
    // The listing changes after page 1: `c` appears on page 2.
    emu.set_faults(
        Faults::default().with(
            FaultRule::new(FaultAction::ListInsert { key: "c".into() })
                .after(1)
                .count(1),
        ),
    );
    let x1 = body_text(&get(&emu, "/lst/?list-type=2&max-keys=2", &[]));
    assert!(!x1.contains("<Key>c</Key>"));
    let x2 = body_text(&get(
        &emu,
        "/lst/?list-type=2&max-keys=2&start-after=b%20c",
        &[],
    ));
    assert!(
        x2.starts_with("<?xml") && x2.contains("<Key>c</Key>"),
        "{x2}"
    );
    // Faults that were for objects also hit listings (`listing: None`), unless told apart.
    emu.set_faults(Faults::fail_next_gets(1, 503));
    assert_eq!(get(&emu, "/lst/?list-type=2", &[]).status, 503);
    emu.set_faults(
        Faults::default().with(
            FaultRule::new(FaultAction::Status {
                status: 503,
                code: None,
            })
            .listing(false),
        ),
    );
    assert_eq!(get(&emu, "/lst/?list-type=2", &[]).status, 200);
    assert_eq!(get(&emu, "/lst/a", &[]).status, 503);
    // A cut listing.
    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::Cut { bytes: Some(50) }).listing(true)),
    );
    let r = get(&emu, "/lst/?list-type=2", &[]);
    assert_eq!(r.status, 200);
    assert!(r.truncated);
    assert_eq!(r.body.len(), 50);
}
