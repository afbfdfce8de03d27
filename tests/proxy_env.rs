//! Proxies from the environment (`http_proxy`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, ...), read
//! as libcurl reads them when the configuration names no proxy.
//!
//! The environment is the process's, so every download runs in a child process (this test binary
//! re-executed running only the ignored `child_proxy_download`) with exactly the variables of its
//! case: the test process's own environment (scripts/test.sh sets `NO_PROXY` for loopback) is
//! neither used nor changed. The proxy is a small thread-based one of the test's own on
//! loopback: a forward proxy for `http://` (absolute-form requests) and a `CONNECT` tunnel for
//! `https://` (the emulator's TLS mode), counting each. The C command-line downloader's
//! `--proxy` goes through the same proxy.
mod download_support;
mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use download_support::*;
use oss_emulator::{Credential, Emulator, EmulatorConfig};

const CHILD: &str = "OSS_FFI_PROXY_CHILD_ENDPOINT";
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// One download in a child process (does nothing unless run by the test below).
#[test]
#[ignore]
fn child_proxy_download() {
    let Ok(endpoint) = std::env::var(CHILD) else {
        return;
    };
    let var = |n: &str| std::env::var(format!("OSS_FFI_PROXY_CHILD_{n}")).ok();
    let mut req = oss_ffi::download::DownloadRequest::new(BUCKET, var("KEY").unwrap());
    req.file_path = Some(var("DEST").unwrap().into());
    let mut config = test_config();
    config.max_retries = 0;
    if let Some(ca) = var("CA") {
        config.ca_file = ca;
    }
    // A proxy set in the configuration (`host:port`), and the configuration's own list of hosts
    // reached directly.
    if let Some(p) = var("PROXY") {
        let (host, port) = p.rsplit_once(':').unwrap();
        config.proxy.host = host.into();
        config.proxy.port = port.parse().unwrap();
    }
    config.no_proxy = var("NOPROXY");
    let client = oss_ffi::client::Client::new(
        &endpoint,
        Arc::new(oss_ffi::credentials::StaticProvider::new(AK, SK, None)),
        config,
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(oss_ffi::download::resumable_download(
        &client,
        &req,
        &oss_ffi::cancel::Cancel::new(),
    ));
    match r {
        Ok(m) => println!("CHILD_OK {}", m.content_length),
        Err(e) => println!("CHILD_ERR {e}"),
    }
}

/// Counts of what went through the proxy.
#[derive(Default)]
struct Counts {
    forwarded: AtomicUsize,
    tunnelled: AtomicUsize,
    /// Forwarded requests carrying `Proxy-Authorization: Basic base64(puser:ppass)`.
    authorized: AtomicUsize,
}

/// A forward and CONNECT proxy on loopback, one thread per connection, one request per
/// forwarded connection (`Connection: close` both ways).
fn start_proxy() -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    std::thread::spawn(move || {
        for inbound in listener.incoming() {
            let Ok(inbound) = inbound else { return };
            let c = c.clone();
            std::thread::spawn(move || serve(inbound, &c));
        }
    });
    (format!("http://{addr}"), counts)
}

fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn relay(a: TcpStream, b: TcpStream) {
    let (mut a2, mut b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a2, &mut b2);
        let _ = b2.shutdown(std::net::Shutdown::Write);
    });
    let (mut a, mut b) = (a, b);
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(std::net::Shutdown::Write);
    let _ = t.join();
}

/// The head without its `Connection` headers, with `Connection: close`.
fn closing(head: &str) -> String {
    let mut out: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .filter(|l| !l.to_ascii_lowercase().starts_with("proxy-connection:"))
        .collect();
    out.push("Connection: close");
    format!("{}\r\n\r\n", out.join("\r\n"))
}

fn serve(mut inbound: TcpStream, counts: &Counts) {
    let Some(head) = read_head(&mut inbound) else {
        return;
    };
    let first = head.lines().next().unwrap_or_default().to_string();
    let mut parts = first.splitn(3, ' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if method == "CONNECT" {
        let Ok(outbound) = TcpStream::connect(target) else {
            let _ = inbound.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            return;
        };
        counts.tunnelled.fetch_add(1, Ordering::SeqCst);
        if inbound
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .is_err()
        {
            return;
        }
        relay(inbound, outbound);
        return;
    }
    // "GET http://host:port/path HTTP/1.1" -> "GET /path HTTP/1.1" to host:port.
    let Some(rest) = target.strip_prefix("http://") else {
        let _ = inbound.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Ok(mut outbound) = TcpStream::connect(authority) else {
        return;
    };
    counts.forwarded.fetch_add(1, Ordering::SeqCst);
    // base64("puser:ppass")
    if head
        .to_ascii_lowercase()
        .contains("\r\nproxy-authorization: basic chvzzxi6chbhc3m=\r\n")
    {
        counts.authorized.fetch_add(1, Ordering::SeqCst);
    }
    let head = closing(&head.replacen(&first, &format!("{method} {path} {version}"), 1));
    if outbound.write_all(head.as_bytes()).is_err() {
        return;
    }
    // The answer's head gets `Connection: close` too, so that the client never sends a second
    // request on this connection.
    let Some(answer) = read_head(&mut outbound) else {
        return;
    };
    if inbound.write_all(closing(&answer).as_bytes()).is_ok() {
        let _ = std::io::copy(&mut outbound, &mut inbound);
    }
}

struct Case<'a> {
    what: &'a str,
    tls: bool,
    /// The child's environment, and `OSS_FFI_PROXY_CHILD_PROXY` / `_NOPROXY` for its
    /// configuration.
    env: Vec<(&'a str, String)>,
    /// Whether the request must go through the proxy.
    proxied: bool,
}

impl Case<'_> {
    /// Whether the proxy URL carries `puser:ppass@` (then every forwarded request must send it).
    fn with_auth(&self) -> bool {
        self.env.iter().any(|(_, v)| v.contains("puser:ppass@"))
    }
}

#[test]
fn proxies_from_the_environment_are_used_as_libcurl_uses_them() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let start = |tls: bool, root: &str| {
        Emulator::start(EmulatorConfig {
            root: tmp.path().join(root),
            credentials: vec![Credential::new(AK, SK)],
            tls,
            ..Default::default()
        })
        .unwrap()
    };
    let (plain, tls) = (start(false, "plain"), start(true, "tls"));
    let data = bytes(150_000, 3);
    for emu in [&plain, &tls] {
        emu.put_object(BUCKET, "p/obj", &data).unwrap();
    }
    let (proxy, counts) = start_proxy();
    let p = || proxy.clone();
    let cases = vec![
        Case {
            what: "http_proxy, http endpoint on loopback (no implicit loopback exception)",
            tls: false,
            env: vec![("http_proxy", p())],
            proxied: true,
        },
        Case {
            what: "a proxy without a scheme is http://",
            tls: false,
            env: vec![("http_proxy", p().replace("http://", ""))],
            proxied: true,
        },
        Case {
            what: "user and password in http_proxy: Proxy-Authorization",
            tls: false,
            env: vec![("http_proxy", p().replace("http://", "http://puser:ppass@"))],
            proxied: true,
        },
        Case {
            what: "upper-case HTTP_PROXY is ignored, as libcurl ignores it",
            tls: false,
            env: vec![("HTTP_PROXY", p())],
            proxied: false,
        },
        Case {
            what: "ALL_PROXY for http",
            tls: false,
            env: vec![("ALL_PROXY", p())],
            proxied: true,
        },
        Case {
            what: "NO_PROXY naming the host",
            tls: false,
            env: vec![("http_proxy", p()), ("NO_PROXY", "127.0.0.1".into())],
            proxied: false,
        },
        Case {
            what: "no_proxy not naming the host",
            tls: false,
            env: vec![
                ("http_proxy", p()),
                ("no_proxy", "localhost,10.0.0.0/8,.example.com".into()),
            ],
            proxied: true,
        },
        Case {
            what: "HTTPS_PROXY for https: a CONNECT tunnel",
            tls: true,
            env: vec![("HTTPS_PROXY", p())],
            proxied: true,
        },
        Case {
            what: "https_proxy with no_proxy as a CIDR network",
            tls: true,
            env: vec![("https_proxy", p()), ("no_proxy", "127.0.0.0/8".into())],
            proxied: false,
        },
        Case {
            what: "http_proxy does not apply to https",
            tls: true,
            env: vec![("http_proxy", p())],
            proxied: false,
        },
        Case {
            what: "a configured proxy: the environment's NO_PROXY applies (as libcurl's does)",
            tls: false,
            env: vec![
                ("OSS_FFI_PROXY_CHILD_PROXY", p().replace("http://", "")),
                ("NO_PROXY", "127.0.0.1".into()),
            ],
            proxied: false,
        },
        Case {
            what: "a configured proxy with the configuration's empty list: every host proxied",
            tls: false,
            env: vec![
                ("OSS_FFI_PROXY_CHILD_PROXY", p().replace("http://", "")),
                ("OSS_FFI_PROXY_CHILD_NOPROXY", String::new()),
                ("NO_PROXY", "127.0.0.1".into()),
            ],
            proxied: true,
        },
        Case {
            what: "a configured proxy for https: a CONNECT tunnel",
            tls: true,
            env: vec![("OSS_FFI_PROXY_CHILD_PROXY", p().replace("http://", ""))],
            proxied: true,
        },
        Case {
            what: "the configuration's list replaces the environment's",
            tls: true,
            env: vec![
                ("HTTPS_PROXY", p()),
                ("NO_PROXY", "example.com".into()),
                ("OSS_FFI_PROXY_CHILD_NOPROXY", "localhost 127.0.0.1".into()),
            ],
            proxied: false,
        },
        Case {
            what: "NO_PROXY=* bypasses everything",
            tls: true,
            env: vec![("all_proxy", p()), ("NO_PROXY", "*".into())],
            proxied: false,
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let emu = if case.tls { &tls } else { &plain };
        let dest = work.join(format!("out-{i}"));
        let before = (
            counts.forwarded.load(Ordering::SeqCst),
            counts.tunnelled.load(Ordering::SeqCst),
            counts.authorized.load(Ordering::SeqCst),
        );
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "child_proxy_download",
            "--exact",
            "--nocapture",
            "--ignored",
        ]);
        for v in PROXY_VARS {
            cmd.env_remove(v);
        }
        cmd.env(CHILD, emu.endpoint())
            .env("OSS_FFI_PROXY_CHILD_KEY", "p/obj")
            .env("OSS_FFI_PROXY_CHILD_DEST", &dest)
            .env_remove("REQUEST_METHOD");
        if let Some(ca) = emu.ca_pem_path() {
            cmd.env("OSS_FFI_PROXY_CHILD_CA", ca);
        }
        for (k, v) in &case.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("CHILD_OK {}", data.len())),
            "{}: the download failed: {text}\n{}",
            case.what,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(&dest).unwrap(), data, "{}", case.what);
        let (forwarded, tunnelled) = (
            counts.forwarded.load(Ordering::SeqCst) - before.0,
            counts.tunnelled.load(Ordering::SeqCst) - before.1,
        );
        let through = if case.tls { tunnelled } else { forwarded };
        assert_eq!(
            through > 0,
            case.proxied,
            "{}: {forwarded} forwarded, {tunnelled} tunnelled",
            case.what
        );
        let other = if case.tls { forwarded } else { tunnelled };
        assert_eq!(other, 0, "{}", case.what);
        let authorized = counts.authorized.load(Ordering::SeqCst) - before.2;
        let expected = if case.with_auth() { forwarded } else { 0 };
        assert_eq!(authorized, expected, "{}: Proxy-Authorization", case.what);
    }
}

/// The C command-line downloader, as curl: `--proxy URL` (with user and password) sends the
/// requests through that proxy, except to hosts in `NO_PROXY` or `--noproxy LIST` (`""`: none);
/// without it, `http_proxy` from the environment is used; a malformed `--proxy` is a usage
/// error.
#[test]
fn c_cli_proxy_option_and_environment() {
    use support::{build_dir, command, compile, repo_root, Lang, Link};
    let exe = build_dir("examples").join("oss_download_proxy");
    compile(
        &[
            repo_root().join("examples-c/oss_download.c"),
            repo_root().join("examples-c/cli_common.c"),
        ],
        &exe,
        Lang::C11,
        Link::Shared,
        &["-pthread"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![Credential::new(AK, SK)],
        ..Default::default()
    })
    .unwrap();
    let data = bytes(300_000, 4);
    emu.put_object(BUCKET, "cli/obj", &data).unwrap();
    let (proxy, counts) = start_proxy();
    let dest = tmp.path().join("out.bin");
    let ep = emu.endpoint();
    let args = |extra: &[&str]| -> Vec<String> {
        [
            "--endpoint",
            ep.as_str(),
            "--bucket",
            BUCKET,
            "--key",
            "cli/obj",
            "--output",
            dest.to_str().unwrap(),
            "--progress",
            "none",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
    };
    let mut env: Vec<(&str, String)> = vec![
        ("OSS_ACCESS_KEY_ID", AK.into()),
        ("OSS_ACCESS_KEY_SECRET", SK.into()),
        ("NO_PROXY", "127.0.0.1".into()),
        ("no_proxy", "127.0.0.1".into()),
    ];
    // The test process's own proxy variables are not inherited: each run has exactly `env`.
    let run = |exe: &std::path::Path, args: &[&str], env: &[(&str, String)]| {
        let mut cmd = command(exe);
        cmd.args(args);
        for v in PROXY_VARS {
            cmd.env_remove(v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let with_auth = proxy.replace("http://", "http://puser:ppass@");
    // One run: exit 0 and the right bytes; returns how many requests the proxy forwarded.
    let download = |extra: &[&str], env: &[(&str, String)]| {
        let before = counts.forwarded.load(Ordering::SeqCst);
        let a = args(extra);
        let out = run(&exe, &a.iter().map(String::as_str).collect::<Vec<_>>(), env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(&dest).unwrap(), data, "{extra:?}");
        std::fs::remove_file(&dest).unwrap();
        counts.forwarded.load(Ordering::SeqCst) - before
    };
    // --proxy with NO_PROXY naming the host: reached directly, as curl does.
    assert_eq!(
        download(&["--proxy", &with_auth], &env),
        0,
        "NO_PROXY ignored"
    );
    // --noproxy "" overrides NO_PROXY: through the proxy, with its user and password.
    let auth_before = counts.authorized.load(Ordering::SeqCst);
    let forwarded = download(&["--proxy", &with_auth, "--noproxy", ""], &env);
    assert!(forwarded > 0, "--proxy was not used");
    assert_eq!(
        counts.authorized.load(Ordering::SeqCst) - auth_before,
        forwarded,
        "the proxy's user and password were not sent"
    );

    // No --proxy: http_proxy from the environment; --noproxy naming the host bypasses it.
    env.retain(|(k, _)| !k.eq_ignore_ascii_case("no_proxy"));
    env.push(("http_proxy", proxy.clone()));
    assert!(download(&[], &env) > 0, "http_proxy was not used");
    assert_eq!(
        download(&["--noproxy", "127.0.0.1"], &env),
        0,
        "--noproxy ignored"
    );

    for bad in [
        "ftp://h:1",
        "h:0",
        "h:99999",
        "[::1",
        "",
        "user@",
        "h:1/path",
    ] {
        let out = run(
            &exe,
            &args(&["--proxy", bad])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            &env,
        );
        assert_eq!(out.status.code(), Some(2), "--proxy '{bad}' accepted");
    }
}
