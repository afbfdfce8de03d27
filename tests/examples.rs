//! The examples: the seed sample (examples-cpp/resumable_download.cpp, the
//! official documentation's program with only its placeholders changed) compiles unchanged as
//! C++11 and C++17 and downloads byte-identically with V4 signing and credentials from the
//! environment; the C command-line downloader's exit codes, Ctrl-C and resume; the asynchronous
//! example's pause into resume tokens and resume
//! (the packaging: soname, install, pkg-config, CMake, is in tests/install.rs).
//! `OSS_FFI_SANITIZE=1` adds ASan/UBSan; `VALGRIND=valgrind` runs the programs under valgrind.

mod support;

use std::path::{Path, PathBuf};
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
    let OneObject { tmp, emu, data, .. } = OneObject::new(
        "examplebucket",
        "exampledir/exampleobject.txt",
        3 * 1024 * 1024 + 5,
        21,
    );
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
    let OneObject { tmp, emu, data, .. } =
        OneObject::new("ex-bucket", "some/key.bin", 5 * 1024 * 1024 + 99, 5);
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

/// Asserts that a program exited with `code`, showing its stderr if not.
fn assert_exit(out: &std::process::Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A C tool's command line for the bucket `cli-bucket` at `ep` with progress lines, then `extra`.
fn cli_bucket_args(ep: &str, extra: &[&str]) -> Vec<String> {
    [
        "--endpoint",
        ep,
        "--bucket",
        "cli-bucket",
        "--progress",
        "lines",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A C tool's sources: its own file and the option parsing the tools share.
fn c_tool_sources(name: &str) -> Vec<PathBuf> {
    vec![
        repo_root().join(format!("examples-c/{name}.c")),
        repo_root().join("examples-c/cli_common.c"),
    ]
}

fn build_c_example(lang: Lang, link: Link) -> PathBuf {
    let exe = build_dir("examples").join(format!("oss_download_{lang:?}_{link:?}").to_lowercase());
    compile_into(&c_tool_sources("oss_download"), &exe, lang, link);
    exe
}

fn c_example_exit_codes(lang: Lang, link: Link) {
    let exe = build_c_example(lang, link);
    let OneObject { tmp, emu, data, .. } =
        OneObject::new("cli-bucket", "obj.bin", 2 * 1024 * 1024 + 1, 3);
    let ep = emu.endpoint();
    let out_file = tmp.path().join("out.bin");
    let out_s = out_file.display().to_string();
    let code = |args: &[&str], env: &[(&str, String)]| {
        let out = run(&exe, args, env);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
            out,
        )
    };
    let with = |extra: &[&str]| cli_bucket_args(&ep, extra);

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

    // 9: local I/O (the destination's directory does not exist and may not be created).
    let nowhere = tmp.path().join("missing/dir/out.bin").display().to_string();
    let a = with(&["--key", "obj.bin", "--output", &nowhere, "--no-create-dirs"]);
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

/// examples-c/oss_download.c with --prefix / --keys-from: a dry run lists what would be fetched
/// and writes nothing; --include/--exclude pick the objects (paths below --output-dir are the
/// keys minus the prefix's directory part); a batch progress line and a summary; a re-run
/// downloads nothing; a key list with a missing key exits non-zero naming it, the other key
/// downloaded; batch options without a batch are usage errors.
#[test]
fn c_example_downloads_a_prefix_into_a_directory() {
    let exe = build_c_example(Lang::C11, Link::Shared);
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let objects = [
        ("logs/2026-12-01/a.gz", pattern(3000, 1)),
        ("logs/2026-12-01/b.txt", pattern(10, 2)),
        ("logs/2026-12-02/c.gz", pattern(700 * 1024 + 5, 3)),
        ("logs/2026-12-01/sub/d.gz", pattern(5, 4)),
        ("logs/other/e.gz", pattern(7, 5)),
    ];
    for (k, d) in &objects {
        emu.put_object("cli-bucket", k, d).unwrap();
    }
    let ep = emu.endpoint();
    let dest = tmp.path().join("dest");
    let dest_s = dest.display().to_string();
    let go = |extra: &[&str]| run_in(&exe, tmp.path(), &cli_bucket_args(&ep, extra), &[]);

    // A dry run: every object under the prefix listed with its path, nothing written.
    let (c, out, err) = go(&[
        "--prefix",
        "logs/2026-12-0",
        "--output-dir",
        &dest_s,
        "--dry-run",
    ]);
    assert_eq!(c, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!(
            "would download logs/2026-12-01/a.gz -> {dest_s}/2026-12-01/a.gz"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "would download logs/2026-12-02/c.gz -> {dest_s}/2026-12-02/c.gz"
        )),
        "{out}"
    );
    assert!(!out.contains("logs/other"), "{out}");
    assert!(
        !dest.join("2026-12-01").exists(),
        "a dry run wrote into the destination"
    );

    // Filters: the .gz files anywhere below, minus the second day.
    let filtered = [
        "--prefix",
        "logs/2026-12-0",
        "--output-dir",
        &dest_s,
        "--include",
        "**/*.gz",
        "--include",
        "*.gz",
        "--exclude",
        "2026-12-02/**",
        "--part-size",
        "100K",
    ];
    let (c, out, err) = go(&filtered);
    assert_eq!(c, Some(0), "{out}{err}");
    assert_eq!(
        std::fs::read(dest.join("2026-12-01/a.gz")).unwrap(),
        objects[0].1
    );
    assert_eq!(
        std::fs::read(dest.join("2026-12-01/sub/d.gz")).unwrap(),
        objects[3].1
    );
    assert!(!dest.join("2026-12-01/b.txt").exists());
    assert!(!dest.join("2026-12-02/c.gz").exists());
    assert!(
        err.contains("batch 4 listed 2 done 2 skipped 0 failed"),
        "{err}"
    );
    assert!(out.contains("downloaded:  2"), "{out}");
    assert!(out.contains("failed:      0"), "{out}");

    // Again: nothing downloaded (the journal knows both).
    let (c, out, err) = go(&filtered);
    assert_eq!(c, Some(0), "{out}{err}");
    assert!(out.contains("downloaded:  0"), "{out}");

    // A key list: each key to DIR/KEY; a missing key fails the run (exit 4, named), the other is
    // downloaded.
    let list = tmp.path().join("keys.txt");
    std::fs::write(&list, "logs/2026-12-02/c.gz\r\n\nno/such/key\n").unwrap();
    let dest2 = tmp.path().join("dest2").display().to_string();
    let (c, out, err) = go(&[
        "--keys-from",
        &list.display().to_string(),
        "--output-dir",
        &dest2,
    ]);
    assert_eq!(c, Some(4), "{out}{err}");
    assert!(err.contains("FAILED no/such/key: NoSuchKey"), "{err}");
    assert_eq!(
        std::fs::read(tmp.path().join("dest2/logs/2026-12-02/c.gz")).unwrap(),
        objects[2].1
    );

    // Usage errors.
    assert_eq!(go(&["--prefix", "logs/"]).0, Some(2));
    assert_eq!(go(&["--key", "k", "--dry-run"]).0, Some(2));
    assert_eq!(
        go(&["--prefix", "logs/", "--output-dir", &dest_s, "--key", "k"]).0,
        Some(2)
    );
    assert_eq!(
        go(&[
            "--prefix",
            "logs/",
            "--keys-from",
            "x",
            "--output-dir",
            &dest_s
        ])
        .0,
        Some(2)
    );
    let (c, out, _) = go(&["--help"]);
    assert_eq!(c, Some(0));
    assert!(
        out.contains("--prefix P") && out.contains("--dry-run"),
        "{out}"
    );
}

fn build_async_example() -> PathBuf {
    let exe = build_dir("examples").join("oss_async_download");
    compile_into(
        &c_tool_sources("oss_async_download"),
        &exe,
        Lang::C11,
        Link::Shared,
    );
    exe
}

/// examples-c/oss_async_download.c (the asynchronous API): two downloads at once on one client,
/// paused from their progress callbacks (exit 3, a resume token per file, the temp files kept
/// without a checkpoint directory), then continued from the tokens by another process (exit 0,
/// the files byte-identical, the tokens removed).
#[test]
fn c_async_example_pauses_and_resumes() {
    let exe = build_async_example();
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

/// Escape sequences and control characters in what the server sends (error
/// Code, Message and RequestId, from an XML body or HEAD's `x-oss-err`) reach the terminal as
/// `\xNN` text, never raw. A hostile server on loopback (tests/support/hostile_http.rs).
/// examples-c/oss_download.c says "(verified)" only when the download was checked against the
/// whole-object CRC64 (`oss_object_meta_verified`), and "NOT verified" otherwise: a server that
/// sends no CRC64, and `--no-crc` (which printed "(verified)" before).
#[test]
fn c_example_says_when_a_download_is_not_verified() {
    use support::hostile_http::{answer, HostileServer};
    let exe = build_c_example(Lang::C11, Link::Shared);
    let tmp = tempfile::tempdir().unwrap();
    let data = pattern(5000, 3);
    let crc = oss_ffi::crc64::update(0, &data).to_string();
    let serve = |with_crc: bool| {
        let (data, crc) = (data.clone(), crc.clone());
        HostileServer::start(move |r, _| {
            let mut h: Vec<(&str, String)> = vec![
                ("ETag", "\"0123456789ABCDEF0123456789ABCDEF\"".into()),
                ("Last-Modified", "Tue, 01 Dec 2026 07:00:00 GMT".into()),
                ("Content-Length", data.len().to_string()),
                (
                    "Content-Range",
                    format!("bytes 0-{}/{}", data.len() - 1, data.len()),
                ),
            ];
            if with_crc {
                h.push(("x-oss-hash-crc64ecma", crc.clone()));
            }
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let status = if r.header("range").is_some() {
                "206 Partial Content"
            } else {
                "200 OK"
            };
            answer(status, &h, if r.method == "HEAD" { b"" } else { &data })
        })
    };
    for (with_crc, extra, verified) in [
        (true, None, true),
        (false, None, false),
        (true, Some("--no-crc"), false),
    ] {
        let server = serve(with_crc);
        let ep = server.endpoint();
        let out_file = tmp.path().join(format!("out-{with_crc}-{extra:?}.bin"));
        let out_s = out_file.display().to_string();
        let mut args = vec![
            "--endpoint",
            ep.as_str(),
            "--bucket",
            "proxy-bucket",
            "--key",
            "k",
            "--output",
            &out_s,
            "--progress",
            "none",
        ];
        args.extend(extra);
        let out = run(&exe, &args, &creds());
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(std::fs::read(&out_file).unwrap(), data);
        assert_eq!(
            text.contains("(verified)"),
            verified,
            "crc {with_crc} {extra:?}: {text}"
        );
        assert_eq!(
            text.contains("NOT verified"),
            !verified,
            "crc {with_crc} {extra:?}: {text}"
        );
    }
}

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
    let OneObject { tmp, emu, data, .. } =
        OneObject::new("cli-bucket", "big.bin", 8 * 1024 * 1024 + 3, 17);
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

// ---- the C tools' command lines: the destination, shared options ------------------------------

/// Runs a tool in `cwd` with the examples' credentials; (exit code, stdout, stderr).
fn run_in<S: AsRef<std::ffi::OsStr>>(
    exe: &Path,
    cwd: &Path,
    args: &[S],
    env: &[(&str, String)],
) -> (Option<i32>, String, String) {
    let mut cmd = command(exe);
    cmd.current_dir(cwd).args(args).envs(creds());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the tool");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn gets_since(emu: &oss_emulator::Emulator, before: usize) -> usize {
    emu.log()[before..]
        .iter()
        .filter(|e| e.method == "GET")
        .count()
}

/// Compiles into `exe` through a temporary name and a rename: tests running at the same time
/// build the same program, and a program being written cannot be run (ETXTBSY, EACCES).
fn compile_into(sources: &[PathBuf], exe: &Path, lang: Lang, link: Link) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let tmp = exe.with_extension(format!(
        "tmp{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    compile(sources, &tmp, lang, link, &["-pthread"]);
    std::fs::rename(&tmp, exe).unwrap();
}

/// `--no-clobber`: an existing destination that is not known to hold the object is left alone
/// (exit code 11, nothing fetched); without it the file is replaced.
#[test]
fn c_example_no_clobber_keeps_an_existing_file() {
    let exe = build_c_example(Lang::C11, Link::Shared);
    let o = OneObject::new("nc-bucket", "k.bin", 200 * 1024, 8);
    let dest = o.path("k.bin");
    std::fs::write(&dest, b"precious local bytes").unwrap();
    let d = dest.display().to_string();
    let before = o.emu.log().len();
    let (code, out, err) = run_in(
        &exe,
        o.tmp.path(),
        &o.args(&["--output", &d, "--no-clobber"]),
        &[],
    );
    assert_eq!(code, Some(11), "{out}{err}");
    assert!(err.contains("not replaced (--no-clobber)"), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"precious local bytes");
    assert_eq!(gets_since(&o.emu, before), 0);
    let (code, out, err) = run_in(&exe, o.tmp.path(), &o.args(&["--output", &d]), &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), o.data);
}

/// A whole-object download records the object in the destination's `user.oss-ffi.object`
/// xattr; the same command again asks the server (a HEAD) and fetches nothing while the object
/// and the file are unchanged. A new object on the server, a file touched locally or `--force`
/// download again; `--no-clobber` on a file that holds the object exits 0.
#[test]
fn c_example_skips_a_destination_that_holds_the_object() {
    let exe = build_c_example(Lang::C11, Link::Shared);
    let o = OneObject::new("skip-bucket", "k.bin", 300 * 1024, 9);
    let (tmp, emu) = (&o.tmp, &o.emu);
    let dest = tmp.path().join("k.bin");
    let d = dest.display().to_string();
    let args = |extra: &[&str]| o.args(&[&["--output", &d, "--progress", "none"], extra].concat());
    let fetches = |extra: &[&str]| -> (usize, String) {
        let before = emu.log().len();
        let (code, out, err) = run_in(&exe, tmp.path(), &args(extra), &[]);
        assert_eq!(code, Some(0), "{out}{err}");
        (gets_since(emu, before), out)
    };
    assert!(fetches(&[]).0 > 0);
    let record = xattr_of(&dest, "user.oss-ffi.object").expect("the record");
    assert!(record.starts_with("v1 size=307200 crc64="), "{record}");
    let (gets, out) = fetches(&[]);
    assert_eq!(gets, 0, "{out}");
    assert!(out.contains("already holds skip-bucket/k.bin"), "{out}");
    assert_eq!(fetches(&["--no-clobber"]).0, 0);
    assert!(fetches(&["--force"]).0 > 0);
    assert_eq!(fetches(&[]).0, 0);

    // The object changed on the server (same size): downloaded again.
    let new_data = pattern(300 * 1024, 10);
    emu.put_object("skip-bucket", "k.bin", &new_data).unwrap();
    assert!(fetches(&[]).0 > 0);
    assert_eq!(std::fs::read(&dest).unwrap(), new_data);
    assert_eq!(fetches(&[]).0, 0);

    // The file changed locally (its mtime moves): downloaded again, even with --no-clobber refused.
    let f = std::fs::OpenOptions::new().write(true).open(&dest).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"X", 5).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    drop(f);
    let (code, _, err) = run_in(&exe, tmp.path(), &args(&["--no-clobber"]), &[]);
    assert_eq!(code, Some(11), "{err}");
    assert!(fetches(&[]).0 > 0);
    assert_eq!(std::fs::read(&dest).unwrap(), new_data);

    // A ranged download is neither skipped nor recorded.
    let part = tmp.path().join("part.bin").display().to_string();
    let ranged = o.args(&["--output", &part, "--range", "0-999"]);
    for _ in 0..2 {
        let before = emu.log().len();
        let (code, out, err) = run_in(&exe, tmp.path(), &ranged, &[]);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(gets_since(emu, before) > 0);
    }
    assert!(xattr_of(Path::new(&part), "user.oss-ffi.object").is_none());
}

fn xattr_of(path: &Path, name: &str) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: valid NUL-terminated strings and a buffer of the length given.
    let len = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| String::from_utf8_lossy(&buf[..len as usize]).to_string())
}

/// Where the file system keeps no user xattrs (here: an LD_PRELOAD shim whose setxattr and
/// getxattr fail with ENOTSUP, as on file systems without them), the download still succeeds,
/// `-v` says that nothing was recorded, and every run downloads.
#[test]
fn c_example_without_user_xattrs_downloads_every_time() {
    if checker() != Checker::None {
        println!("NOTICE: the LD_PRELOAD shim is not used under a memory checker");
        return;
    }
    let exe = build_c_example(Lang::C11, Link::Shared);
    let shim_src = build_dir("examples").join("no_xattr_shim.c");
    std::fs::write(
        &shim_src,
        "#include <errno.h>\n#include <stddef.h>\n#include <sys/types.h>\n\
         int setxattr(const char *p, const char *n, const void *v, size_t s, int f) {\n\
         (void)p; (void)n; (void)v; (void)s; (void)f; errno = ENOTSUP; return -1; }\n\
         ssize_t getxattr(const char *p, const char *n, void *v, size_t s) {\n\
         (void)p; (void)n; (void)v; (void)s; errno = ENOTSUP; return -1; }\n",
    )
    .unwrap();
    let shim = build_dir("examples").join("no_xattr_shim.so");
    let o = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&shim)
        .arg(&shim_src)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = OneObject::new("nx-bucket", "k.bin", 150 * 1024, 11);
    let d = o.path("k.bin").display().to_string();
    let args = o.args(&["--output", &d, "-v", "--progress", "none"]);
    let env = [("LD_PRELOAD", shim.display().to_string())];
    for _ in 0..2 {
        let before = o.emu.log().len();
        let (code, out, err) = run_in(&exe, o.tmp.path(), &args, &env);
        assert_eq!(code, Some(0), "{out}{err}");
        assert!(err.contains("no record of the object kept"), "{err}");
        assert!(gets_since(&o.emu, before) > 0);
        assert_eq!(std::fs::read(&d).unwrap(), o.data);
    }
}

/// Missing parent directories of the destination are created (an explicit --output and the
/// default, the key under the working directory); --no-create-dirs refuses (exit 3); a key that
/// would climb out of the working directory creates nothing (the library refuses it).
#[test]
fn c_example_creates_missing_parent_directories() {
    let exe = build_c_example(Lang::C99, Link::Shared);
    let o = OneObject::new("mk-bucket", "dir/sub/x.bin", 120 * 1024, 12);
    let (tmp, data, ep) = (&o.tmp, &o.data, o.emu.endpoint());
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let base = o.args(&["--progress", "none"]);
    let base: Vec<&str> = base.iter().map(String::as_str).collect();
    let (code, out, err) = run_in(&exe, &work, &base, &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(&std::fs::read(work.join("dir/sub/x.bin")).unwrap(), data);
    let deep = tmp.path().join("out/a/b/c.bin").display().to_string();
    let (code, out, err) = run_in(&exe, &work, &[&base[..], &["-o", &deep]].concat(), &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(&std::fs::read(&deep).unwrap(), data);
    let refused = tmp.path().join("no/such/dir.bin").display().to_string();
    let (code, _, err) = run_in(
        &exe,
        &work,
        &[&base[..], &["-o", &refused, "--no-create-dirs"]].concat(),
        &[],
    );
    assert_eq!(code, Some(3), "{err}"); // the library's ValidateError
    assert!(err.contains("does not exist"), "{err}");
    assert!(!tmp.path().join("no").exists());
    let climbing = [
        "--endpoint",
        ep.as_str(),
        "--bucket",
        "mk-bucket",
        "--key",
        "a/../../escape/x.bin",
    ];
    let (code, _, err) = run_in(&exe, &work, &climbing, &[]);
    assert_ne!(code, Some(0), "{err}");
    assert!(!tmp.path().join("escape").exists() && !work.join("a").exists());
}

/// oss_async_download reads options wherever they are (here after the KEY=FILE pairs), sizes
/// with suffixes (`--part-size 100K` is 102400 bytes, `=` form too), and `--help` goes to
/// stdout with exit code 0; a bad size is a usage error.
#[test]
fn c_async_example_takes_options_anywhere_with_size_suffixes() {
    let exe = build_async_example();
    let OneObject {
        tmp, emu, data: a, ..
    } = OneObject::new("any-bucket", "a.bin", 2 * 1024 * 1024 + 3, 31);
    let ep = emu.endpoint();
    let fa = tmp.path().join("a.bin");
    let pair = format!("a.bin={}", fa.display());
    // The pair first, then everything else; --pause-at after the pair still applies.
    let args = [
        pair.as_str(),
        "--endpoint",
        &ep,
        "--bucket=any-bucket",
        "--part-size",
        "100K",
        "--threads",
        "2",
        "--pause-at",
        "30",
    ];
    let (code, out, err) = run_in(&exe, tmp.path(), &args, &[]);
    assert_eq!(code, Some(3), "paused: {out}{err}");
    let gets: Vec<_> = emu
        .log()
        .into_iter()
        .filter(|e| e.method == "GET")
        .collect();
    assert!(!gets.is_empty());
    // Parts of 100K: each GET stays within one part and ends at its end (a part re-requested
    // on a new connection, when one falls far behind the others, asks for its rest only).
    for g in &gets {
        let range = g.range.as_deref().unwrap_or_default();
        let (first, last) = range
            .strip_prefix("bytes=")
            .and_then(|r| r.split_once('-'))
            .map(|(a, b)| (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()))
            .unwrap_or_else(|| panic!("a GET without a range: {range:?}"));
        assert_eq!(first / 102_400, last / 102_400, "parts of 100K: {range}");
        assert!(
            (last + 1) % 102_400 == 0 || last + 1 == a.len() as u64,
            "parts of 100K: {range}"
        );
        assert_eq!(g.bytes_sent, last - first + 1, "{range}");
    }
    let (code, out, err) = run_in(
        &exe,
        tmp.path(),
        &[
            pair.as_str(),
            "--resume",
            "--endpoint",
            &ep,
            "--bucket",
            "any-bucket",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(std::fs::read(&fa).unwrap(), a);

    let (code, out, err) = run_in(&exe, tmp.path(), &["--help"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("usage: oss_async_download")
            && out.contains("--retries N")
            && err.is_empty(),
        "{out}"
    );
    for bad in ["1.5M", "12X", "-1", ""] {
        let (code, _, err) = run_in(
            &exe,
            tmp.path(),
            &[
                "--endpoint",
                &ep,
                "--bucket",
                "any-bucket",
                "--part-size",
                bad,
                &pair,
            ],
            &[],
        );
        assert_eq!(code, Some(2), "--part-size {bad:?}: {err}");
    }
}

/// The options both tools share (examples-c/cli_common.c): --help on stdout with exit code 0
/// and the common options listed; rates with suffixes; --retries 0 makes one 503 fatal where the default retries
/// it; -v with --log FILE writes the library's lines to the file; bad values are usage errors.
#[test]
fn c_tools_share_the_common_options() {
    let dl = build_c_example(Lang::C11, Link::Shared);
    let asy = build_async_example();
    let tmp = tempfile::tempdir().unwrap();
    for exe in [&dl, &asy] {
        let (code, out, err) = run_in(exe, tmp.path(), &["--help"], &[]);
        assert_eq!(code, Some(0), "{err}");
        for opt in [
            "--verbose",
            "--log FILE",
            "--retries N",
            "--timeout DURATION",
            "--max-time DURATION",
            "KiB",
        ] {
            assert!(
                out.contains(opt),
                "{opt} not in the help of {}: {out}",
                exe.display()
            );
        }
        for bad in [
            &["--retries", "x"][..],
            &["--timeout", "5q"],
            &["--log-level", "loud"],
            &["--retries=101"],
        ] {
            let (code, _, err) = run_in(exe, tmp.path(), bad, &[]);
            assert_eq!(code, Some(2), "{bad:?}: {err}");
        }
    }
    let o = OneObject::new("co-bucket", "k.bin", 200 * 1024, 13);
    let emu = &o.emu;
    let d = tmp.path().join("k.bin").display().to_string();
    let log = tmp.path().join("oss.log");
    let l = log.display().to_string();
    let args = o.args(&["--output", &d, "--progress", "none", "--force"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Three 503s: without retries the first GET and the part GET after the HEAD fail; the
    // default retries (3) get past them.
    emu.set_faults(oss_emulator::Faults::fail_next_gets(3, 503));
    let (code, out, err) = run_in(
        &dl,
        tmp.path(),
        &[&args[..], &["--retries", "0"]].concat(),
        &[],
    );
    assert_eq!(code, Some(4), "503s, no retry: {out}{err}");
    emu.set_faults(oss_emulator::Faults::fail_next_gets(3, 503));
    let (code, out, err) = run_in(
        &dl,
        tmp.path(),
        &[&args[..], &["-vv", "--log", &l, "--timeout=10s"]].concat(),
        &[],
    );
    assert_eq!(code, Some(0), "retried: {out}{err}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().count() >= 2 && text.contains(" DEBUG "),
        "{text}"
    );
    assert!(
        !err.contains(" DEBUG "),
        "the lines went to the file: {err}"
    );

    // Rates: a plain number is KiB/s (as before), a size with a suffix is per second.
    for (rate, code_wanted) in [
        ("4096", 0),
        ("8M", 0),
        ("8MiB/s", 0),
        ("100MB/s", 0),
        ("8X", 2),
        ("0M", 2),
    ] {
        let (code, out, err) = run_in(
            &dl,
            tmp.path(),
            &[&args[..], &["--rate", rate]].concat(),
            &[],
        );
        assert_eq!(code, Some(code_wanted), "--rate {rate}: {out}{err}");
    }
    let (code, out, err) = run_in(
        &dl,
        tmp.path(),
        &[&args[..], &["--throughput-target", "50MiB/s"]].concat(),
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");

    let fa = tmp.path().join("a.bin").display().to_string();
    let pair = format!("k.bin={fa}");
    let log2 = tmp.path().join("async.log").display().to_string();
    let (code, out, err) = run_in(
        &asy,
        tmp.path(),
        &[
            &pair,
            "--endpoint",
            &emu.endpoint(),
            "--bucket",
            "co-bucket",
            "-vv",
            "--log",
            &log2,
            "--retries",
            "2",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(std::fs::read_to_string(&log2).unwrap().contains(" DEBUG "));
    assert_eq!(std::fs::read(&fa).unwrap(), o.data);
}

// ---- the demo -------------------------------------------------------------------------------

/// `make demo` builds with one cargo invocation for the library and the emulator (two
/// invocations with different package sets compile rustls, ring, hyper, reqwest... twice, as
/// cargo unifies features per invocation), and shows cargo's output (no `-q`, nothing sent to
/// /dev/null).
#[test]
fn demo_builds_with_one_cargo_invocation() {
    let out = std::process::Command::new("make")
        .current_dir(repo_root())
        .args(["-n", "examples"])
        .output()
        .expect("make");
    assert!(out.status.success());
    let plan = String::from_utf8_lossy(&out.stdout);
    let cargo: Vec<&str> = plan.lines().filter(|l| l.contains("cargo build")).collect();
    assert_eq!(cargo.len(), 1, "{plan}");
    assert!(
        cargo[0].contains("-p oss-ffi") && cargo[0].contains("-p oss-emulator"),
        "{}",
        cargo[0]
    );
    assert!(!cargo[0].contains(" -q"), "{}", cargo[0]);
    let demo = read(&repo_root().join("scripts/demo.sh"));
    for line in demo.lines().map(str::trim).filter(|l| !l.starts_with('#')) {
        assert!(
            !line.contains("cargo "),
            "the demo runs cargo itself: {line}"
        );
        assert!(
            !(line.contains("make ") && line.contains("/dev/null")),
            "the build's output is hidden: {line}"
        );
    }
}

/// The demo's output to a pipe (not a terminal) carries no escape sequences; it downloads,
/// interrupts, resumes and verifies (DEMO_BIN_DIR: this test run's programs, no build).
#[test]
fn demo_prints_no_colour_codes_to_a_pipe() {
    let dir = build_dir("demo-bin");
    compile_into(
        &c_tool_sources("oss_download"),
        &dir.join("oss_download"),
        Lang::C11,
        Link::Shared,
    );
    let emulator_bin = target_dir().join("oss-emulator");
    assert!(
        emulator_bin.is_file(),
        "{} is not built: cargo build -p oss-emulator (scripts/test.sh builds the workspace first)",
        emulator_bin.display()
    );
    let link = dir.join("oss-emulator");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&emulator_bin, &link).unwrap();
    let out = std::process::Command::new(repo_root().join("scripts/demo.sh"))
        .env("DEMO_BIN_DIR", &dir)
        .env("DEMO_SIZE", "8M")
        .env_remove("NO_COLOR")
        .output()
        .expect("run scripts/demo.sh");
    let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    let text = String::from_utf8_lossy(&all);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("sha256 identical:    yes"), "{text}");
    assert!(!all.contains(&0x1b), "escape sequences in: {text:?}");
}

#[test]
fn c_example_resolve_spreads_the_parts_over_the_hosts_addresses() {
    let exe = build_c_example(Lang::C11, Link::Shared);
    let tmp = tempfile::tempdir().unwrap();
    let emu = oss_emulator::Emulator::start(oss_emulator::EmulatorConfig {
        root: tmp.path().join("root"),
        host: "127.0.0.2".into(),
        also_hosts: vec!["127.0.0.3".into(), "127.0.0.4".into()],
        credentials: vec![oss_emulator::Credential::new(AK, SK)],
        // Every GET held 300 ms, so that the parts overlap and need several connections
        // whatever the machine's speed (a fast answer let one connection serve part after part
        // and left an address without a request: seen under ASan on a loaded machine).
        faults: oss_emulator::Faults::none().with(
            oss_emulator::FaultRule::new(oss_emulator::FaultAction::Latency { ms: 300 })
                .method("GET"),
        ),
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
    assert_exit(&out, 0);
    assert_eq!(std::fs::read(&out_file).unwrap(), data);
    // The first part's connection, then a burst of seven parts (one of which may take the
    // first part's connection as it comes free, leaving the connect it started idle): spread
    // over the three addresses, not piled on the first that worked while the others were being
    // probed (that gave 127.0.0.2 six of seven connections, and an idle connection to
    // 127.0.0.4 left it without a request).
    let log = emu.log();
    let shown: Vec<_> = log.iter().map(|e| (&e.local_addr, &e.peer_addr)).collect();
    for live in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let at = format!("{live}:{port}");
        let mut conns: Vec<&str> = log
            .iter()
            .filter(|e| e.local_addr == at)
            .map(|e| e.peer_addr.as_str())
            .collect();
        conns.sort();
        conns.dedup();
        assert!(
            (1..=4).contains(&conns.len()),
            "{live}: {} connections of {shown:?}",
            conns.len()
        );
    }
    // A malformed entry is a usage-level error (3: invalid parameter), nothing downloaded.
    let mut bad = args.clone();
    bad[15] = format!("cli.test:{port}:not-an-address");
    std::fs::remove_file(&out_file).unwrap();
    let out = run(&exe, &as_refs(&bad), &creds());
    assert_exit(&out, 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-an-address"));
    assert!(!out_file.exists());
}

#[test]
fn c_example_stats_prints_the_requests_summary() {
    let exe = build_c_example(Lang::C11, Link::Shared);
    let o = OneObject::new("cli-bucket", "obj.bin", 2 * 1024 * 1024 + 1, 6);
    let (emu, data) = (&o.emu, &o.data);
    let out_file = o.path("out.bin");
    let args = o.args(&[
        "--output",
        &out_file.display().to_string(),
        "--threads",
        "4",
        "--part-size",
        "100K",
        "--progress",
        "none",
    ]);
    let out = run(&exe, &as_refs(&args), &creds());
    assert_exit(&out, 0);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("requests:"));
    std::fs::remove_file(&out_file).unwrap();
    emu.clear_log();
    let mut with_stats = args.to_vec();
    with_stats.push("--stats".into());
    let out = run(&exe, &as_refs(&with_stats), &creds());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_exit(&out, 0);
    assert_eq!(std::fs::read(&out_file).unwrap(), *data);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("requests: "))
        .unwrap_or_else(|| panic!("no summary in: {stdout}"));
    let n: usize = line["requests: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Every request the server saw was counted, once.
    assert_eq!(n, emu.log().len(), "{stdout}");
    assert!(
        line.contains(&format!("{} body bytes", data.len())),
        "{stdout}"
    );
    assert!(stdout.contains("time by phase"), "{stdout}");
}
