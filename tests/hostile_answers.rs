//! Answers are distrusted: a hostile HTTP server on loopback (tests/support/hostile_http.rs)
//! sends what no OSS would: object answers without a valid Content-Length, RequestTimeTooSkewed
//! with absurd server times, error bodies and object bodies trickled one byte at a time. Every
//! case is a clear error (or a working client), never a wrong file, a panic or a call that lasts
//! minutes. Timing assertions are generous bounds ("not a minute"), never speed thresholds.
//! (Hostile C callers are the reliability suite's `hostile` phase; files planted by another
//! local user its `integrity` phase: see tests/README.md.)

mod download_support;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use download_support::read_all;
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::config::{Config, SignatureVersion};
use oss_ffi::credentials::StaticProvider;
use oss_ffi::download::{resumable_download, DownloadRequest};
use oss_ffi::object::ObjectRequest;
use oss_ffi::ErrorKind;
use support::hostile_http::{answer, head, object_headers, HostileServer, Step};

const BUCKET: &str = "hostile-bucket";

fn quick() -> Config {
    Config {
        retry_base_delay: Duration::from_millis(5),
        ..Config::default()
    }
}

fn req() -> ObjectRequest {
    ObjectRequest {
        bucket: BUCKET.into(),
        key: "k".into(),
        ..Default::default()
    }
}

fn refs(h: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    h.to_vec()
}

// ---- finding 3: no valid Content-Length is an error, never a 0-byte object ------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_without_a_valid_content_length_is_an_error_and_the_destination_is_untouched() {
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("precious.bin");
    for bad in [
        None,
        Some("abc"),
        Some("-1"),
        Some("+7"),
        Some(""),
        Some("99999999999999999999999"),
        Some("7, 7"),
    ] {
        std::fs::write(&dest, b"the good old content").unwrap();
        let server = HostileServer::start(move |r, _| {
            let mut h: Vec<(&str, String)> = object_headers(7)
                .into_iter()
                .filter(|(k, _)| *k != "Content-Length")
                .collect();
            if let Some(v) = bad {
                h.push(("Content-Length", v.to_string()));
            }
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body: &[u8] = if r.method == "HEAD" { b"" } else { b"7 bytes" };
            answer("200 OK", &h, body)
        });
        let c = server.client(quick());
        let err = c.head_object(&req(), &Cancel::new()).await.unwrap_err();
        assert!(
            err.message.contains("Content-Length"),
            "{bad:?}: a clear error naming the header: {err}"
        );
        assert_ne!(err.kind, ErrorKind::Server, "{bad:?}: {err}");

        let mut dl = DownloadRequest::new(BUCKET, "k");
        dl.file_path = Some(dest.clone());
        let err = resumable_download(&c, &dl, &Cancel::new())
            .await
            .expect_err("a download from an answer without a valid length must fail");
        assert!(err.message.contains("Content-Length"), "{bad:?}: {err}");
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            b"the good old content",
            "{bad:?}: the existing destination must stay untouched"
        );
        let left: Vec<_> = std::fs::read_dir(work.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "{bad:?}: nothing left beside it: {left:?}");

        // A GET (to a sink) with the same answer headers is refused too.
        assert!(
            read_all(&c, &req(), &Cancel::new()).await.is_err(),
            "{bad:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ranged_answer_with_a_garbage_content_length_or_range_is_an_error() {
    for (cl, cr) in [
        ("abc", "bytes 0-6/7"),
        ("7", "bytes +0-6/7"),
        ("7", "bytes 0-6/*"),
        ("7", "bytes 0-6/-7"),
    ] {
        let server = HostileServer::start(move |_, _| {
            let mut h: Vec<(&str, String)> = object_headers(7)
                .into_iter()
                .filter(|(k, _)| *k != "Content-Length")
                .collect();
            h.push(("Content-Length", cl.to_string()));
            h.push(("Content-Range", cr.to_string()));
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            answer("206 Partial Content", &h, b"7 bytes")
        });
        let c = server.client(quick());
        let r = c
            .get_object_with(&req(), Some((0, 6)), None, &Cancel::new(), |_| Ok(()))
            .await;
        assert!(r.is_err(), "{cl} / {cr}: must be refused");
    }
}

// ---- finding 5: clock-skew corrections are bounded; dates never panic -----------------------

fn skewed_body(server_time: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code>\
         <Message>The difference between the request time and the current time is too large.</Message>\
         <RequestId>SKEW000000000000000000</RequestId><ServerTime>{server_time}</ServerTime></Error>"
    )
}

/// The first request gets a 403 RequestTimeTooSkewed claiming `server_time`; the others a good
/// 7-byte object.
fn skew_server(server_time: String) -> HostileServer {
    HostileServer::start(move |r, n| {
        if n == 0 {
            let body = skewed_body(&server_time);
            let len = body.len().to_string();
            return answer(
                "403 Forbidden",
                &[
                    ("Content-Type", "application/xml"),
                    ("Content-Length", &len),
                ],
                body.as_bytes(),
            );
        }
        let h = refs(&object_headers(7));
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        answer(
            "200 OK",
            &h,
            if r.method == "HEAD" { b"" } else { b"7 bytes" },
        )
    })
}

fn iso(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // yyyy-mm-ddThh:mm:ss.000Z through the V4 signer's own formatting (yyyymmddThhmmssZ).
    let s = oss_ffi::date::iso8601(std::time::UNIX_EPOCH + Duration::from_secs(secs));
    format!(
        "{}-{}-{}T{}:{}:{}.000Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_server_times_never_set_the_clock_and_the_client_keeps_working() {
    let now = std::time::SystemTime::now();
    let absurd = [
        "9999-12-99T99:99:99".to_string(),
        "9999-12-31T23:59:59.000Z".to_string(),
        "2999-01-01T00:00:00.000Z".to_string(),
        "1971-01-01T00:00:00.000Z".to_string(),
        "Fri, 31 Dec 9999 23:59:59 GMT".to_string(),
        iso(now + Duration::from_secs(3 * 86400)),
        iso(now - Duration::from_secs(3 * 86400)),
        "not a date".to_string(),
    ];
    for v4 in [false, true] {
        for t in &absurd {
            let server = skew_server(t.clone());
            let cfg = Config {
                signature_version: if v4 {
                    SignatureVersion::V4
                } else {
                    SignatureVersion::V1
                },
                region: if v4 {
                    "cn-hangzhou".into()
                } else {
                    String::new()
                },
                ..quick()
            };
            let c = server.client(cfg);
            let err = read_all(&c, &req(), &Cancel::new()).await.unwrap_err();
            assert_eq!(
                err.code, "RequestTimeTooSkewed",
                "{t}: returned as is: {err}"
            );
            assert_eq!(err.http_status, 403);
            assert_eq!(
                c.clock_offset_secs(),
                0,
                "{t}: the clock offset must not move"
            );
            assert_eq!(
                server.requests().len(),
                1,
                "{t}: no retry on a refused correction"
            );
            // The client is still usable: the next call is signed with a sane date.
            assert_eq!(
                read_all(&c, &req(), &Cancel::new()).await.unwrap(),
                b"7 bytes",
                "{t}"
            );
            let sent = server.requests();
            let date = sent[1].header("date").unwrap_or_default().to_string();
            let parsed = httpdate::parse_http_date(&date).expect("a valid Date header");
            let off = parsed
                .duration_since(now)
                .unwrap_or_else(|e| e.duration())
                .as_secs();
            assert!(off < 3600, "{t}: Date {date} is sane");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skew_error_without_a_server_time_is_returned_at_once() {
    // The local OSS server's fault injection: 403 RequestTimeTooSkewed with no ServerTime, on
    // GET (XML body) and on HEAD (x-oss-err).
    use oss_emulator::{Credential, Emulator, EmulatorConfig, FaultAction, FaultRule, Faults};
    let root = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: root.path().to_path_buf(),
        credentials: vec![Credential::new("ak", "sk")],
        ..Default::default()
    })
    .unwrap();
    emu.put_object(BUCKET, "k", b"7 bytes").unwrap();
    emu.set_faults(Faults::default().with(FaultRule::new(FaultAction::Status {
        status: 403,
        code: Some("RequestTimeTooSkewed".into()),
    })));
    let c = Client::new(
        &emu.endpoint(),
        Arc::new(StaticProvider::new("ak", "sk", None)),
        quick(),
    )
    .unwrap();
    emu.clear_log();
    let err = read_all(&c, &req(), &Cancel::new()).await.unwrap_err();
    assert_eq!(err.code, "RequestTimeTooSkewed", "{err}");
    let err = c.head_object(&req(), &Cancel::new()).await.unwrap_err();
    assert_eq!(err.code, "RequestTimeTooSkewed", "{err}");
    assert_eq!(emu.log().len(), 2, "one request each, no blind retries");
    assert_eq!(c.clock_offset_secs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plausible_skew_is_still_corrected() {
    let server = skew_server(iso(std::time::SystemTime::now() + Duration::from_secs(7200)));
    let c = server.client(quick());
    assert_eq!(
        read_all(&c, &req(), &Cancel::new()).await.unwrap(),
        b"7 bytes"
    );
    assert!(
        (7100..7300).contains(&c.clock_offset_secs()),
        "{}",
        c.clock_offset_secs()
    );
    assert_eq!(server.requests().len(), 2, "one corrected retry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_signed_for_any_clock_offset_without_panicking() {
    let server = HostileServer::start(|r, _| {
        let h = refs(&object_headers(7));
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        answer(
            "200 OK",
            &h,
            if r.method == "HEAD" { b"" } else { b"7 bytes" },
        )
    });
    for v4 in [false, true] {
        let cfg = Config {
            signature_version: if v4 {
                SignatureVersion::V4
            } else {
                SignatureVersion::V1
            },
            region: if v4 {
                "cn-hangzhou".into()
            } else {
                String::new()
            },
            ..quick()
        };
        let c = server.client(cfg);
        for off in [
            i64::MIN,
            -(1 << 40),
            -86400 * 365 * 80,
            86400 * 365 * 9000,
            1 << 40,
            i64::MAX,
        ] {
            c.set_clock_offset_secs(off);
            let meta = c.head_object(&req(), &Cancel::new()).await;
            assert!(meta.is_ok(), "offset {off}: {meta:?}");
            let sent = server.requests();
            let date = sent
                .last()
                .unwrap()
                .header("date")
                .unwrap_or_default()
                .to_string();
            assert!(
                httpdate::parse_http_date(&date).is_ok(),
                "offset {off}: Date '{date}'"
            );
        }
    }
}

// ---- finding 10: error bodies are bounded in time; an optional deadline for a whole call ----

fn trickle_every() -> Duration {
    Duration::from_millis(500)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_body_trickled_byte_by_byte_does_not_keep_an_attempt_alive() {
    // 120 bytes at one per 0.5 s: a minute if read to the end.
    let mut body = String::from(
        "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>slow</Message></Error>",
    );
    while body.len() < 120 {
        body.push(' ');
    }
    let server = HostileServer::start(move |_, _| {
        let len = body.len().to_string();
        vec![
            Step::Send(head(
                "500 Internal Server Error",
                &[
                    ("Content-Type", "application/xml"),
                    ("Content-Length", &len),
                ],
            )),
            Step::Trickle {
                bytes: body.clone().into_bytes(),
                every: trickle_every(),
            },
        ]
    });
    let c = server.client(Config {
        request_timeout: Duration::from_secs(2),
        max_retries: 0,
        ..quick()
    });
    let started = Instant::now();
    let err = read_all(&c, &req(), &Cancel::new()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.http_status, 500, "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_headers_trickled_byte_by_byte_do_not_keep_an_attempt_alive() {
    let server = HostileServer::start(|_, _| {
        let h = refs(&object_headers(7));
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut bytes = head("200 OK", &h);
        while bytes.len() < 240 {
            bytes.insert(bytes.len() - 2, b' '); // padding at the end of the last header
        }
        vec![Step::Trickle {
            bytes,
            every: Duration::from_millis(250),
        }]
    });
    let c = server.client(Config {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        max_retries: 0,
        ..quick()
    });
    let started = Instant::now();
    let err = c.head_object(&req(), &Cancel::new()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_deadline_ends_a_call_that_would_take_a_minute() {
    let work = tempfile::tempdir().unwrap();
    let server = HostileServer::start(|r, _| {
        let h = refs(&object_headers(120));
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if r.method == "HEAD" {
            return answer("200 OK", &h, b"");
        }
        // The downloader asks for a range: the whole object as a 206.
        let mut h = h.clone();
        let ranged = r.header("range").is_some();
        if ranged {
            h.push(("Content-Range", "bytes 0-119/120"));
        }
        let status = if ranged {
            "206 Partial Content"
        } else {
            "200 OK"
        };
        vec![
            Step::Send(head(status, &h)),
            Step::Trickle {
                bytes: vec![b'x'; 120],
                every: trickle_every(),
            },
        ]
    });
    let c = server.client(Config {
        call_timeout: Some(Duration::from_secs(1)),
        ..quick()
    });
    let started = Instant::now();
    let err = read_all(&c, &req(), &c.call_cancel(Cancel::new()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.message.contains("deadline"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");

    // A resumable download ends at its deadline too, leaving the destination absent.
    let dest = work.path().join("out.bin");
    let mut dl = DownloadRequest::new(BUCKET, "k");
    dl.file_path = Some(dest.clone());
    let started = Instant::now();
    let err = resumable_download(&c, &dl, &c.call_cancel(Cancel::new()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
    assert!(!dest.exists());

    // Without a deadline configured, call_cancel adds none.
    let plain = server.client(quick());
    assert!(!plain.call_cancel(Cancel::new()).is_cancelled());
}

// ---- one reader for every body: GetObject resumes like a part -------------------------------

/// An object of 100 bytes whose every answer is cut after 10 bytes of its body: a read that
/// progresses on every answer.
fn cut_every_ten_bytes() -> HostileServer {
    let body: Vec<u8> = (0..100u8).collect();
    HostileServer::start(move |r, _| {
        let from = r
            .headers
            .iter()
            .find(|(k, _)| k == "range")
            .and_then(|(_, v)| v.strip_prefix("bytes="))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.parse::<usize>().ok());
        let start = from.unwrap_or(0);
        let len = (100 - start).to_string();
        let range = format!("bytes {start}-99/100");
        let mut h: Vec<(&str, &str)> = vec![
            ("Content-Length", &len),
            ("ETag", "\"0123456789ABCDEF0123456789ABCDEF\""),
            ("x-oss-request-id", "HOSTILE0000000000000000"),
        ];
        let status = match from {
            Some(_) => {
                h.push(("Content-Range", &range));
                "206 Partial Content"
            }
            None => "200 OK",
        };
        let end = (start + 10).min(100);
        answer(status, &h, &body[start..end])
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_getobject_cut_after_progress_more_often_than_max_retries_still_completes() {
    let server = cut_every_ten_bytes();
    let c = server.client(Config {
        max_retries: 2,
        ..quick()
    });
    let got = read_all(&c, &req(), &Cancel::new()).await.unwrap();
    assert_eq!(got, (0..100u8).collect::<Vec<u8>>());
    // Ten answers: the first and nine resumes, each after progress.
    assert_eq!(server.requests().len(), 10);
}
