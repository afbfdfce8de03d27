//! What a failure says to the person reading it: a server's error names the bucket and key it was
//! about, a scheme that does not match the port gets a hint, and a request sent several times
//! says how many times over how long. The README's C program prints all of it, and no empty
//! request id.

mod support;

use std::sync::Arc;
use std::time::Duration;

use oss_emulator::{Credential, Emulator, EmulatorConfig};
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::config::Config;
use oss_ffi::credentials::StaticProvider;
use oss_ffi::download::{resumable_download, DownloadRequest};
use oss_ffi::object::ObjectRequest;
use oss_ffi::ErrorKind;

const AK: &str = "msg-ak";
const SK: &str = "msg-sk";
const BUCKET: &str = "msg-bucket";

fn emulator(tmp: &tempfile::TempDir, tls: bool) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: tmp.path().join(if tls { "tls" } else { "plain" }),
        credentials: vec![Credential::new(AK, SK)],
        tls,
        ..Default::default()
    })
    .unwrap()
}

fn config() -> Config {
    Config {
        retry_base_delay: Duration::from_millis(10),
        retry_max_delay: Duration::from_millis(40),
        connect_timeout: Duration::from_secs(2),
        ..Config::default()
    }
}

fn client(endpoint: &str, cfg: Config) -> Client {
    Client::new(endpoint, Arc::new(StaticProvider::new(AK, SK, None)), cfg).unwrap()
}

fn req(key: &str) -> ObjectRequest {
    ObjectRequest {
        bucket: BUCKET.into(),
        key: key.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_name_the_bucket_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, false);
    emu.put_object(BUCKET, "present", b"x").unwrap();
    let c = client(&emu.endpoint(), config());
    let key = "dir/no such key";
    // GET, HEAD (the error decoded from x-oss-err) and a resumable download alike.
    let get = c
        .get_object_with(&req(key), None, None, &Cancel::new(), |_| Ok(()))
        .await
        .unwrap_err();
    let head = c.head_object(&req(key), &Cancel::new()).await.unwrap_err();
    let mut dl = DownloadRequest::new(BUCKET, key);
    dl.file_path = Some(tmp.path().join("out"));
    let download = resumable_download(&c, &dl, &Cancel::new())
        .await
        .unwrap_err();
    for (what, e) in [("get", get), ("head", head), ("download", download)] {
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Server, "NoSuchKey"),
            "{what}: {e}"
        );
        assert!(
            e.message
                .contains(&format!("bucket '{BUCKET}', key 'dir/no such key'")),
            "{what}: {e}"
        );
        assert_eq!((e.bucket.as_str(), e.key.as_str()), (BUCKET, key), "{what}");
        // The server's own words come first, unchanged.
        assert!(
            e.message.starts_with("The specified key does not exist."),
            "{what}: {e}"
        );
    }
    // A key with control characters is named escaped, never raw.
    let e = c
        .head_object(&req("a\u{1b}[2Jb"), &Cancel::new())
        .await
        .unwrap_err();
    assert!(e.message.contains("key 'a\\u{1b}[2Jb'"), "{e}");
    assert!(!e.message.contains('\u{1b}'), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheme_that_does_not_match_the_port_gets_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, tls) = (emulator(&tmp, false), emulator(&tmp, true));
    let cfg = || Config {
        max_retries: 0,
        ..config()
    };
    // https:// against a plain HTTP port.
    let https = plain.endpoint().replace("http://", "https://");
    let e = client(&https, cfg())
        .head_object(&req("k"), &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert!(
        e.message.contains("does not speak TLS") && e.message.contains("http://"),
        "{e}"
    );
    // http:// against a TLS port.
    let http = tls.endpoint().replace("https://", "http://");
    let e = client(&http, cfg())
        .head_object(&req("k"), &Cancel::new())
        .await
        .unwrap_err();
    assert!(
        e.message.contains("if this port speaks TLS") && e.message.contains("https://"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_says_how_many_attempts_over_how_long() {
    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(
        &format!("http://127.0.0.1:{port}"),
        Config {
            max_retries: 3,
            ..config()
        },
    );
    let e = c.head_object(&req("k"), &Cancel::new()).await.unwrap_err();
    assert_eq!(e.code, "ClientError:200007", "{e}");
    assert!(e.message.contains("4 attempts over "), "{e}");
    // One attempt: nothing to say.
    let once = client(
        &format!("http://127.0.0.1:{port}"),
        Config {
            max_retries: 0,
            ..config()
        },
    );
    let e = once
        .head_object(&req("k"), &Cancel::new())
        .await
        .unwrap_err();
    assert!(!e.message.contains("attempts"), "{e}");

    // A resumable download: its first GET's attempts, and no HEAD after them (it would go to
    // the same refused port: the wait would double and the message tell half of it).
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    oss_ffi::log::set_level(oss_ffi::log::Level::Debug);
    oss_ffi::log::set_sink(Some(Arc::new(move |_, msg: &str| {
        sink.lock().unwrap().push(msg.to_string());
    })));
    let tmp = tempfile::tempdir().unwrap();
    let mut dl = DownloadRequest::new(BUCKET, "refused/obj");
    dl.file_path = Some(tmp.path().join("out"));
    let e = resumable_download(&c, &dl, &Cancel::new())
        .await
        .unwrap_err();
    oss_ffi::log::set_sink(None);
    oss_ffi::log::set_level(oss_ffi::log::Level::Off);
    assert_eq!(e.code, "ClientError:200007", "{e}");
    assert!(e.message.contains("4 attempts over "), "{e}");
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("GET ") && l.contains("refused/obj")),
        "the log did not show the GET: {lines:?}"
    );
    let heads: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("HEAD ") && l.contains("refused/obj"))
        .collect();
    assert!(
        heads.is_empty(),
        "a HEAD followed the refused GET: {heads:?}"
    );
}

/// The README's C program (its first `c` block, endpoint and names swapped for local ones)
/// compiles, and prints a request id only when there is one: not for a refused connection (a
/// client-side error, retried: the message says how often), yes for a server's NoSuchKey (whose
/// message names the bucket and key).
#[test]
fn the_readme_c_program_prints_no_empty_request_id() {
    use support::{build_dir, command, compile, repo_root, Lang, Link};
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let from = readme.find("## Using it from C").unwrap();
    let start = from + readme[from..].find("```c\n").unwrap() + 5;
    let program = &readme[start..start + readme[start..].find("```").unwrap()];
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp, false);
    emu.put_object(BUCKET, "present", b"x").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let build = |name: &str, endpoint: &str| {
        let src = tmp.path().join(format!("{name}.c"));
        let text = program
            .replace("https://oss-cn-hangzhou.aliyuncs.com", endpoint)
            .replace("\"examplebucket\"", &format!("\"{BUCKET}\""))
            .replace("OSS_SIGNATURE_V4", "OSS_SIGNATURE_V1");
        assert_ne!(text, program, "the README program changed shape");
        std::fs::write(&src, text).unwrap();
        let exe = build_dir("readme").join(name);
        compile(&[src], &exe, Lang::C11, Link::Shared, &["-pthread"]);
        exe
    };
    let env = [
        ("OSS_ACCESS_KEY_ID", AK.to_string()),
        ("OSS_ACCESS_KEY_SECRET", SK.to_string()),
    ];
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let in_work = |exe: &std::path::Path| {
        let mut cmd = command(exe);
        cmd.current_dir(&work);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let refused = in_work(&build(
        "readme_refused",
        &format!("http://127.0.0.1:{port}"),
    ));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ClientError:200007"), "{stderr}");
    assert!(stderr.contains("4 attempts over"), "{stderr}");
    assert!(!stderr.contains("request id"), "{stderr}");

    let missing = in_work(&build("readme_missing", &emu.endpoint()));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("NoSuchKey: "), "{stderr}");
    assert!(
        stderr.contains(&format!("bucket '{BUCKET}', key 'dir/object.bin'")),
        "{stderr}"
    );
    assert!(stderr.contains("(request id "), "{stderr}");
}
