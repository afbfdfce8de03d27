//! The transport against the local OSS server: retries proven by fault injection, no retry of
//! 4xx, clock-skew correction, STS tokens, rotating credentials, TLS verification, the
//! aggregate receive limit, client-wide disable/enable, and request headers as sent.

mod download_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use download_support::{read_all, signed_config as config};
use oss_emulator::{Credential, Emulator, EmulatorConfig, FaultAction, FaultRule, Faults};
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::config::Config;
use oss_ffi::credentials::{Credentials, CredentialsProvider, StaticProvider};
use oss_ffi::object::ObjectRequest;
use oss_ffi::{ErrorKind, Result};

const AK: &str = "transport-ak";
const SK: &str = "transport-sk";
const BUCKET: &str = "transport-bucket";

fn emulator(tmp: &tempfile::TempDir, creds: Vec<Credential>, tls: bool) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: creds,
        tls,
        ..Default::default()
    })
    .unwrap()
}

fn client(emu: &Emulator, cfg: Config) -> Client {
    Client::new(
        &emu.endpoint(),
        Arc::new(StaticProvider::new(AK, SK, None)),
        cfg,
    )
    .unwrap()
}

fn req(key: &str) -> ObjectRequest {
    ObjectRequest {
        bucket: BUCKET.into(),
        key: key.into(),
        ..Default::default()
    }
}

async fn read(c: &Client, r: &ObjectRequest) -> Result<Vec<u8>> {
    read_all(c, r, &Cancel::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_failing_twice_with_503_then_succeeding_is_one_successful_call() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    emu.put_object(BUCKET, "k", b"hello retries").unwrap();
    for v4 in [false, true] {
        let c = client(&emu, config(v4));
        emu.clear_log();
        emu.set_faults(Faults::fail_next_gets(2, 503));
        assert_eq!(read(&c, &req("k")).await.unwrap(), b"hello retries");
        let log = emu.log();
        let statuses: Vec<u16> = log.iter().map(|e| e.status).collect();
        assert_eq!(statuses, vec![503, 503, 200], "v4={v4}");
        // Every retry is signed anew and accepted.
        assert!(log.iter().all(|e| e.auth == if v4 { "v4" } else { "v1" }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded_and_4xx_is_never_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    emu.put_object(BUCKET, "k", b"x").unwrap();
    let c = client(&emu, config(false));

    emu.clear_log();
    let err = read(&c, &req("missing")).await.unwrap_err();
    assert_eq!((err.code.as_str(), err.http_status), ("NoSuchKey", 404));
    assert!(!err.request_id.is_empty());
    assert_eq!(emu.log().len(), 1, "a 404 must not be retried");

    emu.clear_log();
    emu.set_faults(Faults::fail_next_gets(100, 500));
    let err = read(&c, &req("k")).await.unwrap_err();
    assert_eq!(err.http_status, 500);
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(
        emu.log().len(),
        4,
        "1 attempt + 3 retries (the C++ SDK's default)"
    );
    emu.set_faults(Faults::none());

    // 403 (bad secret) is not retried either.
    let bad = Client::new(
        &emu.endpoint(),
        Arc::new(StaticProvider::new(AK, "wrong", None)),
        config(true),
    )
    .unwrap();
    emu.clear_log();
    let err = read(&bad, &req("k")).await.unwrap_err();
    assert_eq!(err.code, "SignatureDoesNotMatch");
    assert!(!err.message.contains("wrong"), "no secret in messages");
    assert_eq!(emu.log().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_bodies_and_resets_are_resumed_where_they_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    emu.put_object(BUCKET, "big", &data).unwrap();
    let c = client(&emu, config(false));
    emu.set_faults(
        Faults::default().with(
            FaultRule::new(FaultAction::Cut {
                bytes: Some(70_000),
            })
            .method("GET")
            .count(1),
        ),
    );
    emu.clear_log();
    assert_eq!(read(&c, &req("big")).await.unwrap(), data);
    let log = emu.log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].range.as_deref(), Some("bytes=70000-199999"));
    assert!(
        log[1].if_match.is_some(),
        "the resumed read is pinned to the ETag"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_corrected_from_the_server_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    emu.put_object(BUCKET, "k", b"skew").unwrap();
    for v4 in [false, true] {
        let c = client(&emu, config(v4));
        c.set_clock_offset_secs(-3600);
        emu.clear_log();
        assert_eq!(read(&c, &req("k")).await.unwrap(), b"skew");
        assert!(c.clock_offset_secs().abs() < 60, "offset corrected");
        let statuses: Vec<u16> = emu.log().iter().map(|e| e.status).collect();
        assert_eq!(statuses, vec![403, 200], "v4={v4}");

        let no_fix = client(
            &emu,
            Config {
                enable_date_skew_adjustment: false,
                ..config(v4)
            },
        );
        no_fix.set_clock_offset_secs(-3600);
        let err = read(&no_fix, &req("k")).await.unwrap_err();
        assert_eq!(err.code, "RequestTimeTooSkewed");
    }
}

struct Rotating {
    calls: AtomicUsize,
}

impl CredentialsProvider for Rotating {
    fn credentials(&self) -> Result<Credentials> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        // Alternates between two valid STS identities.
        Ok(if n.is_multiple_of(2) {
            Credentials::new("sts-a", "secret-a", "token-a")
        } else {
            Credentials::new("sts-b", "secret-b", "token-b")
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_tokens_and_rotating_providers_are_asked_before_every_request() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(
        &tmp,
        vec![
            Credential::with_token("sts-a", "secret-a", "token-a"),
            Credential::with_token("sts-b", "secret-b", "token-b"),
        ],
        false,
    );
    emu.put_object(BUCKET, "k", b"sts").unwrap();
    for v4 in [false, true] {
        let provider = Arc::new(Rotating {
            calls: AtomicUsize::new(0),
        });
        let c = Client::new(&emu.endpoint(), provider.clone(), config(v4)).unwrap();
        for _ in 0..4 {
            assert_eq!(read(&c, &req("k")).await.unwrap(), b"sts");
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 4);
    }
    // A missing token is refused by the server.
    let c = Client::new(
        &emu.endpoint(),
        Arc::new(StaticProvider::new("sts-a", "secret-a", None)),
        config(false),
    )
    .unwrap();
    let err = read(&c, &req("k")).await.unwrap_err();
    assert_eq!(err.http_status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_is_verified_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], true);
    emu.put_object(BUCKET, "k", b"tls").unwrap();
    assert!(emu.endpoint().starts_with("https://"));

    let strict = client(&emu, config(false));
    let err = read(&strict, &req("k")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(err.code, "ClientError:200060", "{err}");

    let with_ca = client(
        &emu,
        Config {
            ca_file: emu.ca_pem_path().unwrap().display().to_string(),
            ..config(false)
        },
    );
    assert_eq!(read(&with_ca, &req("k")).await.unwrap(), b"tls");

    let lax = client(
        &emu,
        Config {
            verify_tls: false,
            ..config(true)
        },
    );
    assert_eq!(read(&lax, &req("k")).await.unwrap(), b"tls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receive_limit_is_aggregate_across_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    let data = vec![7u8; 256 * 1024];
    emu.put_object(BUCKET, "k", &data).unwrap();
    // 512 KiB/s for the client: four concurrent 256 KiB reads (1 MiB) need >= ~1.8 s
    // (a per-connection limiter would let them finish in ~0.5 s).
    let c = client(
        &emu,
        Config {
            recv_rate_limit: 512 * 1024,
            ..config(false)
        },
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            read(&c, &req("k")).await.unwrap().len()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), data.len());
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1500), "took only {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_requests_aborts_and_enable_allows_again() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    emu.put_object(BUCKET, "k", b"abc").unwrap();
    let c = client(&emu, config(false));
    // A request waiting on a slow server is aborted, long before the server would answer (the
    // bound below is half the server's wait: no machine's load makes an abort take that long).
    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::Latency { ms: 60_000 }).method("GET")),
    );
    let c2 = c.clone();
    let pending = tokio::spawn(async move { read(&c2, &req("k")).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    c.disable_requests();
    let err = pending.await.unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert_eq!(
        read(&c, &req("k")).await.unwrap_err().kind,
        ErrorKind::Cancelled
    );
    emu.set_faults(Faults::none());
    c.enable_requests();
    assert_eq!(read(&c, &req("k")).await.unwrap(), b"abc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_meta_carry_the_object_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    let data = b"123456789";
    emu.put_object(BUCKET, "dir/obj", data).unwrap();
    let c = client(&emu, config(true));
    let m = c
        .head_object(&req("dir/obj"), &Cancel::new())
        .await
        .unwrap();
    assert_eq!(m.content_length, 9);
    assert_eq!(m.crc64, Some(0x995DC9BBDF1939FA));
    assert!(m.etag.starts_with('"') && m.etag.ends_with('"'));
    assert!(!m.last_modified.is_empty() && !m.request_id.is_empty());
    let m2 = c
        .get_object_meta(&req("dir/obj"), &Cancel::new())
        .await
        .unwrap();
    assert_eq!((m2.content_length, &m2.etag), (9, &m.etag));
    // HEAD errors come from x-oss-err (no body).
    let err = c
        .head_object(&req("nope"), &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!((err.code.as_str(), err.http_status), ("NoSuchKey", 404));
    // Range and conditions on GET.
    let mut out = Vec::new();
    c.get_object_with(&req("dir/obj"), Some((2, 4)), None, &Cancel::new(), |d| {
        out.extend_from_slice(d);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(out, b"345");
    let mut cond = req("dir/obj");
    cond.if_none_match = vec![m.etag.clone()];
    let err = read(&c, &cond).await.unwrap_err();
    assert_eq!(err.http_status, 304);
    let mut cond = req("dir/obj");
    cond.if_match = vec!["\"0000\"".into()];
    let err = read(&c, &cond).await.unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.http_status),
        ("PreconditionFailed", 412)
    );
}

/// A minimal HTTP forward proxy for one test: checks Proxy-Authorization, rewrites the
/// absolute-form request line to origin-form and relays both directions.
async fn forward_proxy(expect_auth: String) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let proxied = Arc::new(AtomicUsize::new(0));
    let count = proxied.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let count = count.clone();
            let expect_auth = expect_auth.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if inbound.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let mut lines = text.split("\r\n");
                let first = lines.next().unwrap_or_default().to_string();
                let authorized = lines.any(|l| {
                    l.to_ascii_lowercase().starts_with(&format!(
                        "proxy-authorization: {}",
                        expect_auth.to_ascii_lowercase()
                    ))
                });
                if !authorized {
                    let _ = inbound
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        .await;
                    return;
                }
                // "GET http://host:port/path HTTP/1.1" -> "GET /path HTTP/1.1", connect to host:port.
                let mut parts = first.splitn(3, ' ');
                let (method, uri, version) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                );
                let rest = uri.strip_prefix("http://").unwrap_or(uri);
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let Ok(mut outbound) = tokio::net::TcpStream::connect(authority).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let new_head = text.replacen(&first, &format!("{method} {path} {version}"), 1);
                if outbound.write_all(new_head.as_bytes()).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (addr, proxied)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_an_authenticating_proxy() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, vec![Credential::new(AK, SK)], false);
    emu.put_object(BUCKET, "k", b"via proxy").unwrap();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("puser:ppass")
    );
    let (proxy, proxied) = forward_proxy(auth).await;
    let proxied_config = |user: &str| Config {
        proxy: oss_ffi::config::Proxy {
            scheme: "http".into(),
            host: proxy.ip().to_string(),
            port: proxy.port(),
            username: user.into(),
            password: "ppass".into(),
        },
        // Every host through the proxy, whatever NO_PROXY the test process has (scripts/test.sh
        // sets one for loopback).
        no_proxy: Some(String::new()),
        max_retries: 0,
        ..config(true)
    };
    let c = client(&emu, proxied_config("puser"));
    assert_eq!(read(&c, &req("k")).await.unwrap(), b"via proxy");
    assert!(
        proxied.load(Ordering::SeqCst) >= 1,
        "the request went through the proxy"
    );

    let wrong = client(&emu, proxied_config("someone-else"));
    let err = read(&wrong, &req("k")).await.unwrap_err();
    assert_eq!(err.http_status, 407, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_spread_over_a_hosts_addresses_and_a_dead_one_costs_one_connect() {
    let tmp = tempfile::tempdir().unwrap();
    // One host, four addresses: three served, 127.0.0.5 with nothing listening.
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        host: "127.0.0.2".into(),
        also_hosts: vec!["127.0.0.3".into(), "127.0.0.4".into()],
        credentials: vec![Credential::new(AK, SK)],
        // Every GET holds its connection for half a second, so that the twelve requests below
        // overlap and each needs a connection of its own (a tiny answer returned at once let a
        // finished connection be reused under load, and one address could go unused).
        faults: Faults::none().with(FaultRule::new(FaultAction::Latency { ms: 500 }).method("GET")),
        ..Default::default()
    })
    .unwrap();
    let port = emu.addr().port();
    emu.put_object(BUCKET, "k", b"spread").unwrap();
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = lines.clone();
    oss_ffi::log::set_level(oss_ffi::log::Level::Warn);
    oss_ffi::log::set_sink(Some(Arc::new(move |_, line: &str| {
        seen.lock().unwrap().push(line.to_string());
    })));
    let cfg = Config {
        // The dead address first: the first connection probes it.
        resolve: vec![oss_ffi::config::ResolveEntry::parse(&format!(
            "spread.test:{port}:127.0.0.5,127.0.0.2,127.0.0.3,127.0.0.4"
        ))
        .unwrap()],
        ..config(false)
    };
    // Virtual-hosted: `transport-bucket.spread.test` is covered by the entry.
    let c = Client::new(
        &format!("http://spread.test:{port}"),
        Arc::new(StaticProvider::new(AK, SK, None)),
        cfg,
    )
    .unwrap();
    // Twelve requests at once: twelve connections.
    let gets = (0..12).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { read(&c, &req("k")).await })
    });
    for g in gets.collect::<Vec<_>>() {
        assert_eq!(g.await.unwrap().unwrap(), b"spread");
    }
    oss_ffi::log::set_sink(None);
    let log = emu.log();
    assert_eq!(log.len(), 12, "no request failed");
    // Spread, not piled on the first address that worked while the others were being probed
    // (that gave 127.0.0.2 most of the twelve): 4 each, give or take one.
    for live in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let n = log
            .iter()
            .filter(|e| e.local_addr == format!("{live}:{port}"))
            .count();
        assert!(
            (3..=5).contains(&n),
            "{live}: {n} of {:?}",
            log.iter().map(|e| &e.local_addr).collect::<Vec<_>>()
        );
    }
    let failed: Vec<String> = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("spread.test") && l.contains("failed to connect"))
        .cloned()
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("127.0.0.5"), "{failed:?}");
}

#[test]
fn a_resolve_entry_for_another_port_is_refused() {
    let cfg = Config {
        resolve: vec![oss_ffi::config::ResolveEntry::parse("oss.test:81:127.0.0.2").unwrap()],
        ..Config::default()
    };
    let e = Client::new(
        "http://oss.test:80",
        Arc::new(StaticProvider::new(AK, SK, None)),
        cfg,
    )
    .unwrap_err();
    assert_eq!(e.code, "ValidateError");
    assert!(e.message.contains("port"), "{}", e.message);
}
