//! Compiles the C test programs in tests/c/ against the built library (shared and static) and
//! runs them against the local OSS server. `OSS_FFI_SANITIZE=1` adds ASan/UBSan;
//! `VALGRIND=valgrind` runs them under valgrind (errors and definite leaks fail the test).

mod support;

use oss_emulator::{Credential, Emulator, EmulatorConfig};
use support::*;

const AK: &str = "test-ak";
const SK: &str = "test-sk-secret";

const STS_AK: &str = "sts-ak";
const STS_SK: &str = "sts-secret";
const STS_TOKEN: &str = "sts-token-value";

fn start_emulator(root: &std::path::Path) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: root.to_path_buf(),
        credentials: vec![
            Credential::new(AK, SK),
            Credential::with_token(STS_AK, STS_SK, STS_TOKEN),
        ],
        ..Default::default()
    })
    .expect("start the emulator")
}

/// A temporary directory with an empty `work/` and an emulator serving `root/`.
fn workspace() -> (tempfile::TempDir, std::path::PathBuf, Emulator) {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let emu = start_emulator(&tmp.path().join("root"));
    (tmp, work, emu)
}

/// Compiles tests/c/<program>.c (C11, `-pthread`) for `link`: the run's name and the executable.
fn build_c(program: &str, link: Link) -> (String, std::path::PathBuf) {
    let name = format!("{program}_{link:?}").to_lowercase();
    let exe = build_dir(program).join(&name);
    compile(
        &[repo_root().join(format!("tests/c/{program}.c"))],
        &exe,
        Lang::C11,
        link,
        &["-pthread"],
    );
    (name, exe)
}

/// Runs `exe` within `deadline` (killed after it), prints its stdout and checks that it exited
/// cleanly and printed `<passed>: all checks passed`.
fn run_passing(
    name: &str,
    exe: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
    deadline: std::time::Duration,
    passed: &str,
) {
    let (out, text) = run_with_deadline(exe, args, env, deadline);
    let out = out.unwrap_or_else(|| panic!("{name} hung (killed):\n{text}"));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_ok(name, &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("{passed}: all checks passed")),
        "{text}"
    );
}

fn run_program(program: &str, link: Link, size: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let read_only = read_only::ReadOnlyDir::new(&tmp.path().join("read-only"));
    let emu = start_emulator(&root);
    let data = pattern(size, 7);
    let key = "dir/a key+with=odd&chars é.bin";
    emu.put_object("test-bucket", key, &data).unwrap();
    emu.put_object("test-bucket", "empty.bin", b"").unwrap();
    let crc = oss_ffi::crc64::update(0, &data);

    let (name, exe) = build_c(program, link);
    let out = run(
        &exe,
        &[],
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", "test-bucket".into()),
            ("OSS_TEST_KEY", key.into()),
            ("OSS_TEST_SIZE", data.len().to_string()),
            ("OSS_TEST_CRC", crc.to_string()),
            ("OSS_TEST_DIR", work.display().to_string()),
            ("OSS_TEST_RO_DIR", read_only.path.display().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
            ("OSS_TEST_STS_AK", STS_AK.into()),
            ("OSS_TEST_STS_SK", STS_SK.into()),
            ("OSS_TEST_STS_TOKEN", STS_TOKEN.into()),
            ("OSS_SDK_LOG_LEVEL", "debug".into()),
        ],
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_ok(&name, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{program}: all checks passed")));
    // Secrets never appear in anything the program printed (error messages included).
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for secret in [SK, STS_SK, STS_TOKEN] {
        assert!(!all.contains(secret), "a secret leaked into the output");
    }
}

#[test]
fn c_client_basic_shared() {
    run_program("client_basic", Link::Shared, 300 * 1024 + 17);
}

#[test]
fn c_client_basic_static() {
    run_program("client_basic", Link::Static, 300 * 1024 + 17);
}

#[test]
fn c_callbacks_shared() {
    run_program("callbacks", Link::Shared, 3 * 1024 * 1024 + 5);
}

#[test]
fn c_callbacks_static() {
    run_program("callbacks", Link::Static, 3 * 1024 * 1024 + 5);
}

#[test]
fn c_reader_shared() {
    run_program("reader", Link::Shared, 3 * 1024 * 1024 + 7);
}

#[test]
fn c_reader_static() {
    run_program("reader", Link::Static, 3 * 1024 * 1024 + 7);
}

/// The benchmark's C programs (`bench/c/*.c`, built by `bench/run.py` against the release
/// library) compile and link against this header and library with the same warnings as the
/// tests' programs: a C API change that they miss is caught here, not at the next benchmark
/// run (`bench/c/batch.c` once failed to build for a whole session after
/// `oss_batch_report_progress` gained its out-parameter, and the bench skipped its row).
#[test]
fn the_bench_c_programs_build() {
    let dir = repo_root().join("bench/c");
    let mut sources: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    sources.sort();
    assert!(sources.len() >= 3, "{sources:?}");
    for src in sources {
        let name = src.file_stem().unwrap().to_string_lossy().to_string();
        let exe = build_dir("bench_c").join(&name);
        compile(&[src], &exe, Lang::C11, Link::Shared, &["-pthread"]);
        assert!(exe.exists(), "{name} was not built");
    }
}

/// The canary (tests/c/canary.c) through the same harness as every C program: after a real
/// download over TLS (so the valgrind suppressions for ring's assembly are in play), a fault
/// planted in the test program itself must make the active checker fail the run with its own
/// report, and the clean run must pass. A suppression or option that hides everything, or a
/// checker that is silently not running, fails this test.
#[test]
fn checkers_catch_planted_faults() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let tls = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![Credential::new(AK, SK)],
        tls: true,
        ..Default::default()
    })
    .expect("start the TLS emulator");
    let key = "canary/object.bin";
    // Several TLS records in both directions, in parts of 100 KiB on 3 connections.
    let data = pattern(700 * 1024 + 3, 11);
    tls.put_object("test-bucket", key, &data).unwrap();
    let crc = oss_ffi::crc64::update(0, &data);

    let checker = checker();
    let exe = build_dir("canary").join(format!("canary_{checker:?}").to_lowercase());
    compile(
        &[repo_root().join("tests/c/canary.c")],
        &exe,
        Lang::C11,
        Link::Shared,
        &["-pthread"],
    );
    let env = [
        ("OSS_TEST_TLS_ENDPOINT", tls.endpoint()),
        (
            "OSS_TEST_TLS_CA",
            tls.ca_pem_path().unwrap().display().to_string(),
        ),
        ("OSS_TEST_BUCKET", "test-bucket".into()),
        ("OSS_TEST_KEY", key.into()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
        ("OSS_TEST_DIR", work.display().to_string()),
        ("OSS_TEST_SIZE", data.len().to_string()),
        ("OSS_TEST_CRC", crc.to_string()),
    ];
    let show = |mode: &str, out: &std::process::Output| {
        format!(
            "canary {mode} under {checker:?}: {}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let out = run(&exe, &["clean"], &env);
    assert_ok(&format!("canary clean under {checker:?}"), &out);

    // (mode, what the checker must say about it); None: this checker has no such check.
    let expectations: &[(&str, Option<&[&str]>)] = match checker {
        Checker::Valgrind => &[
            (
                "uninit",
                Some(&[
                    "Conditional jump or move depends on uninitialised value",
                    "plant_uninit",
                ]),
            ),
            ("leak", Some(&["definitely lost", "plant_leak"])),
            (
                "overflow",
                Some(&["Invalid read of size 1", "plant_overflow"]),
            ),
        ],
        Checker::Asan => &[
            ("uninit", None),
            ("leak", Some(&["detected memory leaks", "plant_leak"])),
            (
                "overflow",
                Some(&["heap-buffer-overflow", "plant_overflow"]),
            ),
        ],
        Checker::None => &[("uninit", None), ("leak", None), ("overflow", None)],
    };
    let exit = match checker {
        Checker::Valgrind => VALGRIND_EXIT,
        Checker::Asan => ASAN_EXIT,
        Checker::None => 0,
    };
    for (mode, report) in expectations {
        let out = run(&exe, &[mode], &env);
        let text = show(mode, &out);
        assert!(out.status.signal().is_none(), "{text}");
        match report {
            Some(needles) => {
                assert_eq!(out.status.code(), Some(exit), "{text}");
                let stderr = String::from_utf8_lossy(&out.stderr);
                for needle in *needles {
                    assert!(
                        stderr.contains(needle),
                        "no {needle:?} in the report: {text}"
                    );
                }
                // ASan stops at the overflow; every other report comes after the canary's
                // library work finished and it printed its last line.
                if !(checker == Checker::Asan && *mode == "overflow") {
                    assert!(
                        stdout_has_done(&out, mode),
                        "the canary did not reach its fault: {text}"
                    );
                }
            }
            None => {
                // Without a checker that sees it, the planted fault is harmless.
                assert_ok(&text, &out);
            }
        }
    }
    println!("canary: {checker:?} reported every planted fault it can see");
}

fn stdout_has_done(out: &std::process::Output, mode: &str) -> bool {
    String::from_utf8_lossy(&out.stdout).contains(&format!("canary {mode}: done"))
}

/// tests/c/reentry.c: a log callback re-entering the SDK, fork() and the
/// call timeout. A deadlock or a hang is a failure after the deadline (killed), never a stuck
/// test run; the deadline is generous for valgrind.
fn run_reentry(link: Link) {
    use std::time::Duration;
    use support::hostile_http::{head, object_headers, HostileServer, Step};
    let tmp = tempfile::tempdir().unwrap();
    let emu = start_emulator(&tmp.path().join("root"));
    let data = pattern(64 * 1024 + 3, 11);
    emu.put_object("test-bucket", "reentry.bin", &data).unwrap();
    // A GET body of 120 bytes trickled at one per 0.5 s: a minute without a deadline.
    let trickle = HostileServer::start(|_, _| {
        let h = object_headers(120);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vec![
            Step::Send(head("200 OK", &h)),
            Step::Trickle {
                bytes: vec![b'x'; 120],
                every: Duration::from_millis(500),
            },
        ]
    });
    let (name, exe) = build_c("reentry", link);
    let (out, text) = run_with_deadline(
        &exe,
        &[],
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_TRICKLE_ENDPOINT", trickle.endpoint()),
            ("OSS_TEST_BUCKET", "test-bucket".into()),
            ("OSS_TEST_KEY", "reentry.bin".into()),
            ("OSS_TEST_SIZE", data.len().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
        ],
        Duration::from_secs(600),
    );
    let out = out.unwrap_or_else(|| panic!("{name} hung (killed after its deadline):\n{text}"));
    assert_ok(&name, &out);
    // The fork()ed child ends by exec (no exit-time leak check of the runtime it inherited, see
    // reentry.c), so its exit status does not carry valgrind's verdict: any memory error it
    // printed fails the test here.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for report in [
        "Invalid read",
        "Invalid write",
        "Invalid free",
        "depends on uninitialised",
        "Use of uninitialised",
        "Syscall param",
        "Mismatched free",
        "AddressSanitizer",
        "runtime error:",
    ] {
        assert!(
            !stderr.contains(report),
            "{name}: a memory error ({report}):\n{text}"
        );
    }
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("reentry: all checks passed"),
        "{text}"
    );
}

#[test]
fn c_reentry_fork_and_call_timeout_shared() {
    run_reentry(Link::Shared);
}

#[test]
fn c_reentry_fork_and_call_timeout_static() {
    run_reentry(Link::Static);
}

/// How a token made here is sealed.
enum Seal<'a> {
    /// HMAC-SHA256 under this key (the current format's seal: `src/download/resume_key.rs`).
    Key(&'a [u8]),
    /// A plain SHA-256 (format 1's seal, which anyone can compute).
    Unkeyed,
}

/// The resume token's framing (`src/download/resume_token.rs`), rebuilt here to forge tokens:
/// with the right key (lying content that the record's judgment must refuse), another key or an
/// unkeyed checksum (refused by the MAC check).
fn frame_token(version: u32, body: &[u8], seal: Seal) -> Vec<u8> {
    use hmac::Mac;
    use sha2::Digest;
    let mut out = b"oss-ffi/resume\0\0".to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let tag = match seal {
        Seal::Key(k) => {
            let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(k).unwrap();
            m.update(&out);
            m.finalize().into_bytes().to_vec()
        }
        Seal::Unkeyed => sha2::Sha256::digest(&out).to_vec(),
    };
    out.extend_from_slice(&tag);
    out
}

fn token_body(token: &[u8]) -> serde_json::Value {
    let len = u32::from_le_bytes(token[20..24].try_into().unwrap()) as usize;
    serde_json::from_slice(&token[24..24 + len]).expect("the token's body is JSON")
}

/// tests/c/transfers.c: the asynchronous API in three processes: `main` (200
/// concurrent transfers on one client, the chaos phase, damaged tokens), `resume` (tokens forged
/// here refused, the paused download resumed in another process, a changed object's token
/// refused with ObjectChanged), `fork` (a fork()ed child's calls on the parent's transfers return
/// at once) and `shutdown` (oss_shutdown_sdk with transfers in flight).
/// Under valgrind: smaller objects and fewer transfers, every case still run.
fn run_transfers(link: Link) {
    use std::time::Duration;
    let valgrind = checker() == Checker::Valgrind;
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(work.join("ref")).unwrap();
    // Each connection at most 1 MiB/s (256 KiB/s under valgrind): a download of `big` lasts long
    // enough for pauses and cancels to land in it, and the local server cannot outrun them.
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![Credential::new(AK, SK)],
        shaping: oss_emulator::Shaping {
            conn_bytes_per_sec: Some(if valgrind { 256 << 10 } else { 1 << 20 }),
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("start the emulator");
    let big = if valgrind {
        600 * 1024 + 1
    } else {
        2 * 1024 * 1024 + 1
    };
    let changing = if valgrind {
        500 * 1024 + 3
    } else {
        1024 * 1024 + 3
    };
    let objects: Vec<(&str, usize)> = vec![
        ("0", 0),
        ("1", 70_000),
        ("2", 150 * 1024 + 7),
        ("3", 300 * 1024 + 17),
        ("big", big),
        ("changing", changing),
    ];
    for (i, (name, size)) in objects.iter().enumerate() {
        let data = pattern(*size, 100 + i as u64);
        emu.put_object("test-bucket", &format!("obj/{name}"), &data)
            .unwrap();
        std::fs::write(work.join("ref").join(name), &data).unwrap();
    }
    let (name, exe) = build_c("transfers", link);
    let pick = |normal: &str, slow: &str| if valgrind { slow } else { normal }.to_string();
    let env = [
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", "test-bucket".into()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
        ("OSS_TEST_DIR", work.display().to_string()),
        ("OSS_TEST_MANY", pick("200", "12")),
        ("OSS_TEST_CHAOS", pick("24", "4")),
        ("OSS_TEST_CHAOS_MS", pick("1500", "5000")),
        ("OSS_TEST_FLIP_STEP", pick("1", "17")),
        ("OSS_TEST_SHUTDOWN", pick("6", "2")),
        // The per-user resume token key: made here by the first pause, shared by the processes
        // below (the resume in another process) and read by this harness to forge tokens.
        ("XDG_CONFIG_HOME", work.join("config").display().to_string()),
    ];
    let step = |mode: &str| {
        run_passing(
            &format!("{name} {mode}"),
            &exe,
            &[mode],
            &env,
            Duration::from_secs(900),
            &format!("transfers {mode}"),
        );
    };
    step("main");

    // Forge tokens from the paused download's: valid framing and MAC under the user's key,
    // lying content (refused by the record's judgment, `v*` and `c*`); and tokens whose MAC
    // does not verify (`m*`: refused at the start, before any request).
    let key_file = work.join("config/oss-ffi/resume-token.key");
    let key = std::fs::read(&key_file).expect("the first pause made the per-user key");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key_file), 0o600, "the key file's mode");
        assert_eq!(
            mode(key_file.parent().unwrap()),
            0o700,
            "the key directory's mode"
        );
    }
    let genuine = std::fs::read(work.join("paused.tok")).unwrap();
    let body = token_body(&genuine);
    assert!(
        !body["record"]["parts"].as_array().unwrap().is_empty(),
        "the paused download recorded no finished part: {body}"
    );
    let forge = |dir: &str, file: &str, edit: &dyn Fn(&mut serde_json::Value), version: u32| {
        let mut b = body.clone();
        edit(&mut b);
        let d = work.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join(file),
            frame_token(version, &serde_json::to_vec(&b).unwrap(), Seal::Key(&key)),
        )
        .unwrap();
    };
    let other = work.join("other.bin").display().to_string();
    let unsealed = |file: &str, bytes: Vec<u8>| {
        let d = work.join("forged");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(file), bytes).unwrap();
    };
    // A download request to another path: no record, another destination.
    let mut redirected = body.clone();
    redirected["record"] = serde_json::Value::Null;
    redirected["file_path"] = serde_json::json!(other);
    let redirected = serde_json::to_vec(&redirected).unwrap();
    unsealed(
        "m1_resealed_unkeyed",
        frame_token(2, &redirected, Seal::Unkeyed),
    );
    unsealed(
        "m2_other_key",
        frame_token(2, &redirected, Seal::Key(&[0x55; 32])),
    );
    let mut null_record = body.clone();
    null_record["record"] = serde_json::Value::Null;
    unsealed(
        "m3_null_record_unkeyed",
        frame_token(2, &serde_json::to_vec(&null_record).unwrap(), Seal::Unkeyed),
    );
    // The earlier release's format (1, unkeyed), with the genuine content.
    unsealed(
        "m4_format_1",
        frame_token(1, &serde_json::to_vec(&body).unwrap(), Seal::Unkeyed),
    );
    // The attack on the earlier release as it stood: its own format, re-sealed after the edit.
    unsealed(
        "m7_redirect_format_1",
        frame_token(1, &redirected, Seal::Unkeyed),
    );
    unsealed("m5_truncated", genuine[..genuine.len() - 1].to_vec());
    // Another user's key: the same bytes with the key flipped.
    let theirs: Vec<u8> = key.iter().map(|b| b ^ 0xff).collect();
    unsealed(
        "m6_other_user_key",
        frame_token(2, &redirected, Seal::Key(&theirs)),
    );
    use serde_json::json;
    let part0 = |b: &mut serde_json::Value| b["record"]["parts"][0].clone();
    forge(
        "forged",
        "v1_crc",
        &|b| {
            let crc = b["record"]["parts"][0]["crc64"].as_u64().unwrap();
            b["record"]["parts"][0]["crc64"] = json!(crc ^ 1);
        },
        2,
    );
    forge(
        "forged",
        "v2_inode",
        &|b| {
            let ino = b["record"]["temp_file"]["ino"].as_u64().unwrap();
            b["record"]["temp_file"]["ino"] = json!(ino + 1);
        },
        2,
    );
    forge(
        "forged",
        "v3_total",
        &|b| {
            let t = b["record"]["total"].as_u64().unwrap();
            b["record"]["total"] = json!(t - 1);
        },
        2,
    );
    forge(
        "forged",
        "v4_part_outside",
        &|b| {
            b["record"]["parts"].as_array_mut().unwrap().push(json!(
            {"index": 9999, "offset": 0, "size": 1, "crc64": 0}));
        },
        2,
    );
    forge(
        "forged",
        "v5_part_twice",
        &|b| {
            let p = part0(b);
            b["record"]["parts"].as_array_mut().unwrap().push(p);
        },
        2,
    );
    forge(
        "forged",
        "v6_part_offset",
        &|b| {
            let o = b["record"]["parts"][0]["offset"].as_u64().unwrap();
            b["record"]["parts"][0]["offset"] = json!(o + 1);
        },
        2,
    );
    forge(
        "forged",
        "v7_destination",
        &|b| {
            b["file_path"] = json!(other);
            b["record"]["dest_path"] = json!(other);
            b["record"]["temp_path"] = json!(format!("{other}.temp"));
        },
        2,
    );
    forge(
        "forged",
        "v8_request_vs_record",
        &|b| {
            b["key"] = json!("obj/1");
        },
        2,
    );
    forge(
        "forged",
        "v9_unknown_field",
        &|b| {
            b["extra"] = json!(1);
        },
        2,
    );
    forge("forged", "va_version", &|_| {}, 3);
    forge(
        "forged_after",
        "c1_other_object",
        &|b| {
            b["key"] = json!("obj/3");
            b["record"]["key"] = json!("obj/3");
        },
        2,
    );
    // The object of changed.tok is overwritten before the resume.
    emu.put_object("test-bucket", "obj/changing", &pattern(changing, 999))
        .unwrap();
    step("resume");
    assert!(!work.join("other.bin").exists());
    step("fork");
    step("shutdown");
}

#[test]
fn c_transfers_shared() {
    run_transfers(Link::Shared);
}

#[test]
fn c_transfers_static() {
    run_transfers(Link::Static);
}

/// tests/c/transfer_fds.c: transfers waiting for room hold no descriptor (admission first). 5000
/// transfers of one small object started at once on a client with a 32 MiB budget (11 calls
/// admitted at once), plus blocking calls from 8 threads, under a soft limit of 256 descriptors:
/// all succeed, none of the program's own opens fails, and the process never holds more than its
/// base + 8 per admitted call + 2 (see the program). Under valgrind: 300 transfers.
fn run_transfer_fds(link: Link) {
    use oss_ffi::memory_budget::MemoryBudget;
    use std::time::Duration;
    let valgrind = checker() == Checker::Valgrind;
    let (_tmp, work, emu) = workspace();
    let data = pattern(3 * 1024 + 5, 41);
    let key = "fds/object.bin";
    emu.put_object("test-bucket", key, &data).unwrap();
    std::fs::write(work.join("ref.bin"), &data).unwrap();
    let budget: u64 = 32 << 20;
    let admitted = MemoryBudget::new(budget).capacity(MemoryBudget::admission_cost());
    let (name, exe) = build_c("transfer_fds", link);
    let env = [
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", "test-bucket".into()),
        ("OSS_TEST_KEY", key.into()),
        ("OSS_TEST_SIZE", data.len().to_string()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
        ("OSS_TEST_DIR", work.display().to_string()),
        (
            "OSS_TEST_MANY",
            if valgrind { "300" } else { "5000" }.into(),
        ),
        ("OSS_TEST_BLOCKING", "8".into()),
        ("OSS_TEST_FD_LIMIT", "256".into()),
        ("OSS_TEST_BUDGET", budget.to_string()),
        ("OSS_TEST_ADMITTED", admitted.to_string()),
    ];
    run_passing(
        &name,
        &exe,
        &[],
        &env,
        Duration::from_secs(900),
        "transfer_fds",
    );
}

#[test]
fn c_queued_transfers_hold_no_descriptor_shared() {
    run_transfer_fds(Link::Shared);
}

#[test]
fn c_queued_transfers_hold_no_descriptor_static() {
    run_transfer_fds(Link::Static);
}

/// tests/c/batch.c: a batch of a prefix through the C ABI (report, callbacks, re-run, dry run,
/// filters, a key list with a missing key, a pause into a token resumed to completion, a
/// tampered token, a cancel); then every file is compared with its object, and the server's log
/// shows that no object the paused batch had finished was fetched again by its resume.
fn run_batch(link: Link) {
    use std::time::Duration;
    let (_tmp, work, emu) = workspace();
    let bucket = "test-bucket";
    let count = 24;
    // Sizes: small ones (one GET each) and, every seventh, a large one (parts of 100 KiB).
    let size = |i: usize| {
        if i % 7 == 3 {
            250 * 1024 + i
        } else {
            1000 + 97 * i
        }
    };
    let mut objects = Vec::new();
    for i in 0..count - 1 {
        objects.push((
            format!("data/set/f{i:02}.bin"),
            format!("f{i:02}.bin"),
            size(i),
        ));
    }
    objects.push(("data/set/sub/g.bin".into(), "sub/g.bin".into(), 4321));
    for (n, (key, _, len)) in objects.iter().enumerate() {
        emu.put_object(bucket, key, &pattern(*len, n as u64))
            .unwrap();
        let small = format!("async/{}", &key["data/set/".len()..]);
        emu.put_object(bucket, &small, &pattern(1000 + n, 500 + n as u64))
            .unwrap();
    }
    emu.put_object(bucket, "data/outside.bin", b"not in the prefix")
        .unwrap();
    let (name, exe) = build_c("batch", link);
    let env = [
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", bucket.into()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
        ("OSS_TEST_DIR", work.display().to_string()),
        ("OSS_TEST_PREFIX", "data/set/".into()),
        ("OSS_TEST_ASYNC_PREFIX", "async/".into()),
        ("OSS_TEST_COUNT", count.to_string()),
        ("OSS_TEST_MISSING", "data/set/no-such-object".into()),
        ("XDG_CONFIG_HOME", work.join("config").display().to_string()),
    ];
    run_passing(&name, &exe, &[], &env, Duration::from_secs(600), "batch");
    for (n, (_, rel, len)) in objects.iter().enumerate() {
        let got = std::fs::read(work.join("blocking").join(rel)).unwrap();
        assert!(got == pattern(*len, n as u64), "blocking/{rel} differs");
        let got = std::fs::read(work.join("async").join(rel)).unwrap();
        assert!(
            got == pattern(1000 + n, 500 + n as u64),
            "async/{rel} differs"
        );
    }
    assert!(!work.join("outside.bin").exists() && !work.join("blocking/outside.bin").exists());
    let finished = std::fs::read_to_string(work.join("paused-done.txt")).unwrap();
    let finished: Vec<&str> = finished.lines().collect();
    assert!(
        finished.len() >= 3,
        "the paused batch finished {finished:?}"
    );
    let log = emu.log();
    for key in &finished {
        let gets = log
            .iter()
            .filter(|e| e.method == "GET" && e.key == *key)
            .count();
        assert_eq!(
            gets, 1,
            "{key} was finished before the pause and fetched {gets} times"
        );
    }
}

#[test]
fn c_batch_of_a_prefix_paused_and_resumed_shared() {
    run_batch(Link::Shared);
}

#[test]
fn c_batch_of_a_prefix_paused_and_resumed_static() {
    run_batch(Link::Static);
}
