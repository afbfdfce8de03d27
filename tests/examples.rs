//! The examples: the seed sample (examples-cpp/resumable_download.cpp, the
//! official documentation's program with only its placeholders changed) compiles unchanged as
//! C++11 and C++17 and downloads byte-identically with V4 signing and credentials from the
//! environment; the C command-line downloader's exit codes, Ctrl-C and resume; the asynchronous
//! example's pause into resume tokens and resume
//! (the packaging: soname, install, pkg-config, CMake, is in tests/install.rs).
//! `OSS_FFI_SANITIZE=1` adds ASan/UBSan; `VALGRIND=valgrind` runs the programs under valgrind.

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::example::*;
use support::*;

/// The placeholders of the seed program and the values examples-cpp/resumable_download.cpp uses.
const PLACEHOLDERS: [(&str, &str); 4] = [
    ("\"yourEndpoint\"", "\"http://127.0.0.1:18600\""),
    ("\"yourRegion\"", "\"cn-hangzhou\""),
    (
        "\"D:\\\\localpath\\\\examplefile.txt\"",
        "\"/tmp/oss-ffi-example/examplefile.txt\"",
    ),
    ("\"D:\\\\localpath\"", "\"/tmp/oss-ffi-example\""),
];

// ---- the seed sample ------------------------------------------------------------------------

#[test]
fn seed_sample_is_the_seed_but_for_its_placeholders() {
    let seed = read(&repo_root().join("examples-cpp/seed/resumable_download.seed.cpp"));
    let sample = read(&repo_root().join("examples-cpp/resumable_download.cpp"));
    let mut expected = seed.clone();
    for (from, to) in PLACEHOLDERS {
        assert_eq!(seed.matches(from).count(), 1, "{from} in the seed");
        expected = expected.replace(from, to);
    }
    assert_eq!(
        sample, expected,
        "examples-cpp/resumable_download.cpp differs from the seed beyond its placeholders"
    );
    // When the shared seed document is next to the repository, the checked-in copy is its program.
    let shared = repo_root().join("../shared/seed");
    if let Ok(dir) = std::fs::read_dir(&shared) {
        for e in dir.flatten() {
            let doc = read(&e.path());
            if let (Some(i), Some(j)) = (
                doc.find("#include <alibabacloud/oss/OssClient.h>"),
                doc.find("}Replace the following placeholders"),
            ) {
                assert_eq!(
                    format!("{}\n", &doc[i..=j]),
                    seed,
                    "the seed copy differs from {}",
                    e.path().display()
                );
            }
        }
    }
}

fn run_seed_sample(lang: Lang, link: Link) {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let data = pattern(3 * 1024 * 1024 + 5, 21);
    emu.put_object("examplebucket", "exampledir/exampleobject.txt", &data)
        .unwrap();
    let out_dir = tmp.path().join("localpath");
    std::fs::create_dir_all(&out_dir).unwrap();
    let file = out_dir.join("examplefile.txt");

    // The checked-in sample with its local values pointed at this test's server and directory.
    let mut src = read(&repo_root().join("examples-cpp/resumable_download.cpp"));
    for (from, to) in [
        (
            "\"http://127.0.0.1:18600\"",
            format!("\"{}\"", emu.endpoint()),
        ),
        (
            "\"/tmp/oss-ffi-example/examplefile.txt\"",
            format!("\"{}\"", file.display()),
        ),
        (
            "\"/tmp/oss-ffi-example\"",
            format!("\"{}\"", out_dir.display()),
        ),
    ] {
        assert_eq!(src.matches(from).count(), 1, "{from}");
        src = src.replace(from, &to);
    }
    let name = format!("seed_{lang:?}_{link:?}").to_lowercase();
    let dir = build_dir("examples");
    let src_path = dir.join(format!("{name}.cpp"));
    std::fs::write(&src_path, src).unwrap();
    let exe = dir.join(&name);
    compile(&[src_path], &exe, lang, link, &[]);

    let out = run(&exe, &[], &creds());
    assert_ok(&name, &out);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        data,
        "downloaded bytes differ"
    );
    let log = emu.log();
    assert!(
        !log.is_empty() && log.iter().all(|e| e.auth == "v4"),
        "{log:?}"
    );
    // The checkpoint is removed after success; nothing else is left next to the file.
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "{left:?}");

    // A failure comes back as the sample's error line (and -1).
    let bad = [
        ("OSS_ACCESS_KEY_ID", AK.to_string()),
        ("OSS_ACCESS_KEY_SECRET", "wrong".to_string()),
    ];
    std::fs::remove_file(&file).unwrap();
    let out = run(&exe, &[], &bad);
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("ResumableDownloadObject fail,code:SignatureDoesNotMatch,message:")
            && stdout.contains(",requestId:"),
        "{stdout}"
    );
}

#[test]
fn seed_sample_cxx11_shared() {
    run_seed_sample(Lang::Cxx11, Link::Shared);
}

#[test]
fn seed_sample_cxx17_static() {
    run_seed_sample(Lang::Cxx17, Link::Static);
}

#[test]
fn progress_and_range_example() {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let data = pattern(5 * 1024 * 1024 + 99, 5);
    emu.put_object("ex-bucket", "some/key.bin", &data).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    for (lang, link) in [(Lang::Cxx11, Link::Shared), (Lang::Cxx17, Link::Static)] {
        let exe = build_dir("examples").join(format!("progress_{lang:?}_{link:?}").to_lowercase());
        compile(
            &[repo_root().join("examples-cpp/progress_range_download.cpp")],
            &exe,
            lang,
            link,
            &[],
        );
        let ep = emu.endpoint();
        let w = work.display().to_string();
        let out = run(
            &exe,
            &[
                &ep,
                "cn-hangzhou",
                "ex-bucket",
                "some/key.bin",
                &w,
                "1000",
                "300999",
            ],
            &creds(),
        );
        assert_ok("progress_range_download", &out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("whole object: 100%"), "{stdout}");
        assert!(stdout.contains("range: 100%"), "{stdout}");
        assert_eq!(std::fs::read(work.join("whole.bin")).unwrap(), data);
        assert_eq!(
            std::fs::read(work.join("range.bin")).unwrap(),
            &data[1000..301000]
        );
    }
}

// ---- the C command-line downloader ------------------------------------------------------------

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn build_c_example(lang: Lang, link: Link) -> PathBuf {
    let exe = build_dir("examples").join(format!("oss_download_{lang:?}_{link:?}").to_lowercase());
    compile(
        &[repo_root().join("examples-c/oss_download.c")],
        &exe,
        lang,
        link,
        &["-pthread"],
    );
    exe
}

fn c_example_exit_codes(lang: Lang, link: Link) {
    let exe = build_c_example(lang, link);
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let data = pattern(2 * 1024 * 1024 + 1, 3);
    emu.put_object("cli-bucket", "obj.bin", &data).unwrap();
    let ep = emu.endpoint();
    let out_file = tmp.path().join("out.bin");
    let out_s = out_file.display().to_string();
    let base = [
        "--endpoint",
        ep.as_str(),
        "--bucket",
        "cli-bucket",
        "--progress",
        "lines",
    ];
    let code = |args: &[&str], env: &[(&str, String)]| {
        let out = run(&exe, args, env);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
            out,
        )
    };
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };

    // 0: success, V4, with a range; the file holds exactly the range.
    let a = with(&[
        "--key",
        "obj.bin",
        "--output",
        &out_s,
        "--v4",
        "--region",
        "cn-hangzhou",
        "--range",
        "100-1048675",
        "--threads",
        "4",
        "--part-size",
        "100K",
    ]);
    let (c, err, out) = code(&as_refs(&a), &creds());
    assert_eq!(c, Some(0), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("downloaded cli-bucket/obj.bin"));
    assert!(err.contains("progress 100.0%"), "{err}");
    assert_eq!(std::fs::read(&out_file).unwrap(), &data[100..1048676]);
    std::fs::remove_file(&out_file).unwrap();

    // 2: usage, and missing credentials.
    assert_eq!(code(&[], &creds()).0, Some(2));
    assert_eq!(code(&["--bogus"], &creds()).0, Some(2));
    assert_eq!(code(&["--help"], &creds()).0, Some(0));
    let a = with(&["--key", "obj.bin", "--output", &out_s]);
    let out = command(&exe)
        .args(as_refs(&a))
        .env_remove("OSS_ACCESS_KEY_ID")
        .env_remove("OSS_ACCESS_KEY_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // 3: invalid parameters (part size, missing checkpoint directory).
    let a = with(&["--key", "obj.bin", "--output", &out_s, "--part-size", "1K"]);
    let (c, err, _) = code(&as_refs(&a), &creds());
    assert_eq!(c, Some(3), "{err}");
    assert!(err.contains("code:       ValidateError"), "{err}");
    let missing = tmp.path().join("no-such-dir").display().to_string();
    let a = with(&[
        "--key",
        "obj.bin",
        "--output",
        &out_s,
        "--checkpoint-dir",
        &missing,
    ]);
    assert_eq!(code(&as_refs(&a), &creds()).0, Some(3));

    // 4: server error, with code, message and request id shown.
    let a = with(&["--key", "no/such/key", "--output", &out_s]);
    let (c, err, _) = code(&as_refs(&a), &creds());
    assert_eq!(c, Some(4), "{err}");
    assert!(
        err.contains("NoSuchKey") && err.contains("request id: "),
        "{err}"
    );

    // 5: network.
    let a = vec![
        "--endpoint",
        "http://127.0.0.1:1",
        "--bucket",
        "cli-bucket",
        "--key",
        "obj.bin",
        "--output",
        &out_s,
    ];
    let (c, err, _) = code(&a, &creds());
    assert_eq!(c, Some(5), "{err}");

    // 9: local I/O (the destination's directory does not exist).
    let nowhere = tmp.path().join("missing/dir/out.bin").display().to_string();
    let a = with(&["--key", "obj.bin", "--output", &nowhere]);
    let (c, err, _) = code(&as_refs(&a), &creds());
    assert!(c == Some(9) || c == Some(3), "{c:?} {err}");

    // 6: CRC mismatch: bytes changed behind the server's back (it keeps the recorded CRC).
    let crc_data = pattern(300 * 1024, 9);
    emu.put_object("cli-bucket", "crc.bin", &crc_data).unwrap();
    emu.object_meta("cli-bucket", "crc.bin").unwrap();
    let path = emu.object_path("cli-bucket", "crc.bin");
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"XYZ", 1000).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    let a = with(&["--key", "crc.bin", "--output", &out_s]);
    let (c, err, _) = code(&as_refs(&a), &creds());
    assert_eq!(c, Some(6), "{err}");
    assert!(!out_file.exists());
}

#[test]
fn c_example_exit_codes_c99_shared() {
    c_example_exit_codes(Lang::C99, Link::Shared);
}

#[test]
fn c_example_exit_codes_c11_static() {
    c_example_exit_codes(Lang::C11, Link::Static);
}

/// examples-c/oss_async_download.c (the asynchronous API): two downloads at once on one client,
/// paused from their progress callbacks (exit 3, a resume token per file, the temp files kept
/// without a checkpoint directory), then continued from the tokens by another process (exit 0,
/// the files byte-identical, the tokens removed).
#[test]
fn c_async_example_pauses_and_resumes() {
    let exe = build_dir("examples").join("oss_async_download");
    compile(
        &[repo_root().join("examples-c/oss_async_download.c")],
        &exe,
        Lang::C11,
        Link::Shared,
        &["-pthread"],
    );
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let a = pattern(4 * 1024 * 1024 + 1, 21);
    let b = pattern(3 * 1024 * 1024 + 7, 22);
    emu.put_object("cli-bucket", "a.bin", &a).unwrap();
    emu.put_object("cli-bucket", "b.bin", &b).unwrap();
    let (fa, fb) = (tmp.path().join("a.bin"), tmp.path().join("b.bin"));
    let ep = emu.endpoint();
    let pa = format!("a.bin={}", fa.display());
    let pb = format!("b.bin={}", fb.display());
    let base = [
        "--endpoint",
        ep.as_str(),
        "--bucket",
        "cli-bucket",
        "--threads",
        "2",
        "--part-size",
        "102400",
    ];
    let args = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .chain(extra)
            .chain([&pa.as_str(), &pb.as_str()])
            .map(|s| s.to_string())
            .collect()
    };
    let out = run(&exe, &as_refs(&args(&["--pause-at", "30"])), &creds());
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{text}");
    for f in [&fa, &fb] {
        assert!(!f.exists(), "{text}");
        assert!(f.with_extension("bin.resume").exists(), "{text}");
        assert!(f.with_extension("bin.temp").exists(), "{text}");
    }
    let out = run(&exe, &as_refs(&args(&["--resume"])), &creds());
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(std::fs::read(&fa).unwrap() == a, "{text}");
    assert!(std::fs::read(&fb).unwrap() == b, "{text}");
    for f in [&fa, &fb] {
        assert!(!f.with_extension("bin.resume").exists(), "{text}");
        assert!(!f.with_extension("bin.temp").exists(), "{text}");
    }
}

/// Issue 17, finding 8: escape sequences and control characters in what the server sends (error
/// Code, Message and RequestId, from an XML body or HEAD's `x-oss-err`) reach the terminal as
/// `\xNN` text, never raw. A hostile server on loopback (tests/support/hostile_http.rs).
#[test]
fn c_example_never_prints_control_characters_from_the_server() {
    use base64::Engine as _;
    use support::hostile_http::{answer, object_headers, HostileServer};
    let exe = build_c_example(Lang::C11, Link::Shared);
    let tmp = tempfile::tempdir().unwrap();
    let evil =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>Evil\u{1b}]0;pwned\u{7}</Code>\
                <Message>\u{1b}[2J\u{1b}[31mred\r\n  code:       Forged\u{9b}31m\u{7f}</Message>\
                <RequestId>ID\u{1b}[0m</RequestId></Error>";
    let x_oss_err = base64::engine::general_purpose::STANDARD.encode(evil);
    // HEAD refused with the XML in x-oss-err (HEAD answers have no body) ...
    let head_refused = HostileServer::start(move |_, _| {
        answer(
            "403 Forbidden",
            &[("x-oss-err", x_oss_err.as_str()), ("Content-Length", "0")],
            b"",
        )
    });
    // ... or HEAD fine and every GET a 500 with the XML as its body.
    let get_refused = HostileServer::start(move |r, _| {
        if r.method == "HEAD" {
            let h = object_headers(7);
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return answer("200 OK", &h, b"");
        }
        let len = evil.len().to_string();
        answer(
            "500 Internal Server Error",
            &[
                ("Content-Type", "application/xml"),
                ("Content-Length", &len),
            ],
            evil.as_bytes(),
        )
    });
    for server in [&head_refused, &get_refused] {
        let ep = server.endpoint();
        let out_file = tmp.path().join("out.bin").display().to_string();
        let args = [
            "--endpoint",
            ep.as_str(),
            "--bucket",
            "evil-bucket",
            "--key",
            "k",
            "--output",
            &out_file,
            "--progress",
            "none",
        ];
        let out = run(&exe, &args, &creds());
        let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all).to_string();
        assert_eq!(out.status.code(), Some(4), "a server error: {text:?}");
        for (i, w) in all.windows(2).enumerate() {
            let b = w[0];
            assert!(
                b == b'\n' || (b >= 0x20 && b != 0x7f),
                "a raw control byte {b:#04x} at {i}: {text:?}"
            );
            assert!(
                !(b == 0xc2 && (0x80..=0x9f).contains(&w[1])),
                "a raw C1 control: {text:?}"
            );
        }
        assert!(text.contains("\\x1b[2J"), "shown escaped: {text}");
        assert!(text.contains("\\x1b]0;pwned\\x07"), "{text}");
        assert!(text.contains("\\xc2\\x9b31m"), "{text}");
        assert!(
            !text.contains("\n  code:       Forged"),
            "no forged line: {text}"
        );
    }
}

/// SIGINT cancels cleanly (exit 7) and leaves a checkpoint; the same command resumes (exit 0) and
/// the file is byte-identical.
fn c_example_ctrl_c_and_resume(lang: Lang, link: Link) {
    let exe = build_c_example(lang, link);
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let data = pattern(8 * 1024 * 1024 + 3, 17);
    emu.put_object("cli-bucket", "big.bin", &data).unwrap();
    let ckpt = tmp.path().join("ckpt");
    std::fs::create_dir_all(&ckpt).unwrap();
    let out_file = tmp.path().join("big.out");
    let ep = emu.endpoint();
    let (o, c) = (out_file.display().to_string(), ckpt.display().to_string());
    let args = [
        "--endpoint",
        ep.as_str(),
        "--bucket",
        "cli-bucket",
        "--key",
        "big.bin",
        "--output",
        &o,
        "--checkpoint-dir",
        &c,
        "--part-size",
        "256K",
        "--threads",
        "2",
        "--v4",
        "--region",
        "cn-hangzhou",
        "--progress",
        "lines",
    ];
    // 2 MiB/s: about 4 s for the whole object, so the interrupt lands mid-way.
    let mut child = command(&exe)
        .args(args)
        .args(["--rate", "2048"])
        .envs(creds())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let ckpt_written = || {
        std::fs::read_dir(&ckpt)
            .map(|d| d.count() > 0)
            .unwrap_or(false)
    };
    while !ckpt_written() {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the interrupt"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SIGINT straight from this process (no `kill` program needed on the machine).
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a pid of our own live child and a valid signal number.
    let rc = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert!(
        err.contains("Cancelled") && err.contains("run the same command again"),
        "{err}"
    );
    assert!(ckpt_written(), "the checkpoint was removed");
    assert!(
        !out_file.exists(),
        "the destination appeared before completion"
    );

    let before = emu.log().len();
    let out = run(&exe, &args, &creds());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // Resumed: the second run fetched only what was missing.
    let fetched: u64 = emu.log()[before..]
        .iter()
        .filter(|e| e.method == "GET")
        .map(|e| e.bytes_sent)
        .sum();
    assert!(fetched < data.len() as u64, "fetched {fetched} bytes again");
    assert_eq!(std::fs::read(&out_file).unwrap(), data);
    assert!(!ckpt_written(), "the checkpoint is removed after success");
}

#[test]
fn c_example_ctrl_c_and_resume_c11_shared() {
    c_example_ctrl_c_and_resume(Lang::C11, Link::Shared);
}

#[test]
fn c_example_ctrl_c_and_resume_c99_static() {
    c_example_ctrl_c_and_resume(Lang::C99, Link::Static);
}

// ---- soname, version, installation -------------------------------------------------------------

#[test]
fn c_example_resolve_spreads_the_parts_over_the_hosts_addresses() {
    let exe = build_c_example(Lang::C11, Link::Shared);
    let tmp = tempfile::tempdir().unwrap();
    let emu = oss_emulator::Emulator::start(oss_emulator::EmulatorConfig {
        root: tmp.path().join("root"),
        host: "127.0.0.2".into(),
        also_hosts: vec!["127.0.0.3".into(), "127.0.0.4".into()],
        credentials: vec![oss_emulator::Credential::new(AK, SK)],
        ..Default::default()
    })
    .unwrap();
    let port = emu.addr().port();
    let data = pattern(2 * 1024 * 1024 + 1, 5);
    emu.put_object("cli-bucket", "obj.bin", &data).unwrap();
    let out_file = tmp.path().join("out.bin");
    let ep = format!("http://cli.test:{port}");
    // 127.0.0.5: nothing listens there.
    let resolve = format!("cli.test:{port}:127.0.0.5,127.0.0.2,127.0.0.3,127.0.0.4");
    let args = [
        "--endpoint",
        &ep,
        "--bucket",
        "cli-bucket",
        "--key",
        "obj.bin",
        "--output",
        &out_file.display().to_string(),
        "--threads",
        "8",
        "--part-size",
        "100K",
        "--progress",
        "none",
        "--resolve",
        &resolve,
    ]
    .map(str::to_string);
    let out = run(&exe, &as_refs(&args), &creds());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&out_file).unwrap(), data);
    let log = emu.log();
    for live in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let at = format!("{live}:{port}");
        assert!(
            log.iter().any(|e| e.local_addr == at),
            "no request reached {live}: {:?}",
            log.iter().map(|e| &e.local_addr).collect::<Vec<_>>()
        );
    }
    // A malformed entry is a usage-level error (3: invalid parameter), nothing downloaded.
    let mut bad = args.clone();
    bad[15] = format!("cli.test:{port}:not-an-address");
    std::fs::remove_file(&out_file).unwrap();
    let out = run(&exe, &as_refs(&bad), &creds());
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-an-address"));
    assert!(!out_file.exists());
}
