//! Hostile input at the C ABI (hostile answers from a server are tests/hostile_answers.rs): builds
//! and runs tests/c/hostile.c (NULL for every pointer argument of every export, invalid UTF-8,
//! empty and 1 MiB strings, out-of-range numbers, use after shutdown, init/shutdown raced from 16
//! threads, escaping default destinations, TLS verification by default, secrets) against the local
//! server, after checking that every `oss_*` function declared in include/oss_ffi.h is called by
//! it. Under `OSS_FFI_SANITIZE=1` the program is built with ASan+UBSan, under `VALGRIND=valgrind`
//! it runs in valgrind.
//!
//! Then the descriptor bound (tests/c/transfer_fds.c): transfers started by the thousand, and
//! blocking calls from many threads, under a soft limit of 256 descriptors, where a transfer
//! waiting for room must hold none: all succeed, the program's own opens never fail, and the
//! process never holds more than its base + 8 per call the budget admits + 2. CI: 1000 transfers
//! on a 32 MiB budget (11 admitted); soak: 20000 on the default 64 MiB (29 admitted: a bound of
//! about 242, close to the limit). Not under valgrind (the C API suite runs it there, smaller).
//! Then (not under a checker: it runs in this process) forged resume tokens: a paused
//! download's genuine token edited at random (another destination, bucket or key, the record
//! dropped, bytes flipped) and re-sealed with an unkeyed SHA-256 (in the current format and in
//! format 1), sealed under another key, truncated or extended; every one must be refused at the
//! start (`The resume token is refused`) with nothing written, and the genuine token must still
//! finish the download byte for byte. 12 forgeries in CI, 600 in the soak.

use std::path::Path;
use std::time::Instant;

use oss_emulator::{Credential, Emulator, EmulatorConfig};

use crate::download_support::{AK, BUCKET, SK};
use crate::support::{self, Lang, Link};
use crate::{download_support::Rng, tally};

pub const STS_AK: &str = "rel-sts-ak";
pub const STS_SK: &str = "rel-sts-secret-ZZZ";
pub const STS_TOKEN: &str = "rel-sts-token-YYY";
pub const WRONG_SK: &str = "rel-wrong-secret-XXX";
/// What hostile.c reads back through `oss_credentials_provider_get` (literals there too).
pub const GET_SK: &str = "rel-get-secret-QQQ";
pub const GET_TOKEN: &str = "rel-get-token-RRR";

/// Every `oss_*` function declared in the header.
pub fn exported_functions(header: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut text = String::new();
    // Drop comments.
    let mut rest = header;
    while let Some(i) = rest.find("/*") {
        text.push_str(&rest[..i]);
        rest = match rest[i..].find("*/") {
            Some(j) => &rest[i + j + 2..],
            None => "",
        };
    }
    text.push_str(rest);
    for stmt in text.split(';') {
        let stmt = stmt.trim();
        if stmt.starts_with('#') || stmt.starts_with("typedef") || stmt.contains('{') {
            continue;
        }
        // `<return type> oss_name(` at the start of a declaration.
        if let Some(p) = stmt.find('(') {
            let head = &stmt[..p];
            if let Some(name) = head
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next_back()
            {
                if name.starts_with("oss_") {
                    out.push(name.to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn check_coverage(root: &Path) {
    let header = std::fs::read_to_string(root.join("include/oss_ffi.h")).unwrap();
    let program = std::fs::read_to_string(root.join("tests/c/hostile.c")).unwrap();
    let exports = exported_functions(&header);
    assert!(
        exports.len() > 80,
        "the header parser found only {exports:?}"
    );
    let missing: Vec<&String> = exports
        .iter()
        .filter(|f| !program.contains(&format!("{f}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "tests/c/hostile.c does not call these exports of oss_ffi.h: {missing:?}"
    );
    println!(
        "    all {} exports of oss_ffi.h are called by hostile.c",
        exports.len()
    );
}

pub fn run(rng: &mut Rng) {
    let root = support::repo_root();
    check_coverage(&root);
    if support::checker() == support::Checker::None {
        forged_tokens(rng);
    }

    let tmp = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![
            Credential::new(AK, SK),
            Credential::with_token(STS_AK, STS_SK, STS_TOKEN),
        ],
        ..Default::default()
    })
    .unwrap();
    let tls = Emulator::start(EmulatorConfig {
        root: tmp.path().join("tls-root"),
        credentials: vec![Credential::new(AK, SK)],
        tls: true,
        ..Default::default()
    })
    .unwrap();
    let key = "hostile/object.bin";
    emu.create_object(BUCKET, key, 300 * 1024 + 1).unwrap();
    tls.create_object(BUCKET, key, 1000).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    let mode = match support::checker() {
        support::Checker::Asan => "ASan+UBSan",
        support::Checker::Valgrind => "valgrind",
        support::Checker::None => "plain",
    };
    let exe = support::build_dir("hostile").join(format!("hostile_{}", mode.replace('+', "_")));
    support::compile(
        &[root.join("tests/c/hostile.c")],
        &exe,
        Lang::C11,
        Link::Shared,
        &["-pthread"],
    );
    let escapes = [
        work.join("b"),
        work.join("x"),
        work.join("c"),
        tmp.path().join("x"),
        Path::new("/abs").to_path_buf(),
        Path::new("/etc/x").to_path_buf(),
        Path::new("/tmp/y").to_path_buf(),
    ];
    let before: Vec<bool> = escapes.iter().map(|p| p.exists()).collect();
    let t0 = Instant::now();
    let out = support::run(
        &exe,
        &[],
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", BUCKET.into()),
            ("OSS_TEST_KEY", key.into()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
            ("OSS_TEST_STS_AK", STS_AK.into()),
            ("OSS_TEST_STS_SK", STS_SK.into()),
            ("OSS_TEST_STS_TOKEN", STS_TOKEN.into()),
            ("OSS_TEST_WRONG_SK", WRONG_SK.into()),
            ("OSS_TEST_DIR", work.display().to_string()),
            ("OSS_TEST_TLS_ENDPOINT", tls.endpoint()),
            (
                "OSS_TEST_TLS_CA",
                tls.ca_pem_path().unwrap().display().to_string(),
            ),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    tally::scan(
        &format!("{stdout}{stderr}"),
        "the hostile C program's output",
    );
    if !out.status.success() {
        use std::os::unix::process::ExitStatusExt;
        if out.status.signal().is_some() || matches!(out.status.code(), Some(98 | 99)) {
            tally::inc(&tally::CRASHES);
        }
    }
    support::assert_ok(&format!("hostile ({mode})"), &out);
    assert!(stdout.contains("hostile: all checks passed"), "{stdout}");
    let field = |name: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    tally::add(&tally::BAD_INPUTS, field("BAD_INPUTS "));
    tally::add(&tally::LOG_LINES, field("LOG_LINES "));
    for (p, was) in escapes.iter().zip(before) {
        assert!(
            was || !p.exists(),
            "a default destination escaped to {}",
            p.display()
        );
    }
    println!(
        "    hostile.c ({mode}): {} bad inputs, {} log lines, {:.1} s",
        field("BAD_INPUTS "),
        field("LOG_LINES "),
        t0.elapsed().as_secs_f64()
    );
    if support::checker() != support::Checker::Valgrind {
        descriptor_bound(&root, &emu, &work, mode);
    }
}

/// tests/c/transfer_fds.c at the suite's scale (see the module doc).
fn descriptor_bound(root: &Path, emu: &Emulator, work: &Path, mode: &str) {
    use oss_ffi::memory_budget::{MemoryBudget, DEFAULT_MEMORY_BUDGET};
    let dir = work.join("fds");
    std::fs::create_dir_all(&dir).unwrap();
    let data = support::pattern(4 * 1024 + 3, 77);
    let key = "hostile/fds.bin";
    emu.put_object(BUCKET, key, &data).unwrap();
    std::fs::write(dir.join("ref.bin"), &data).unwrap();
    let budget = if tally::soak() {
        DEFAULT_MEMORY_BUDGET
    } else {
        32 << 20
    };
    let admitted = MemoryBudget::new(budget).capacity(MemoryBudget::admission_cost());
    let many = tally::scale(1000, 20000);
    let blocking = tally::scale(4, 16);
    let exe = support::build_dir("transfer_fds").join(format!("fds_{}", mode.replace('+', "_")));
    support::compile(
        &[root.join("tests/c/transfer_fds.c")],
        &exe,
        Lang::C11,
        Link::Shared,
        &["-pthread"],
    );
    let t0 = Instant::now();
    let out = support::run(
        &exe,
        &[],
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", BUCKET.into()),
            ("OSS_TEST_KEY", key.into()),
            ("OSS_TEST_SIZE", data.len().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
            ("OSS_TEST_DIR", dir.display().to_string()),
            ("OSS_TEST_MANY", many.to_string()),
            ("OSS_TEST_BLOCKING", blocking.to_string()),
            ("OSS_TEST_FD_LIMIT", "256".into()),
            ("OSS_TEST_BUDGET", budget.to_string()),
            ("OSS_TEST_ADMITTED", admitted.to_string()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    tally::scan(
        &format!("{stdout}{stderr}"),
        "the descriptor-bound C program's output",
    );
    support::assert_ok(&format!("transfer_fds ({mode})"), &out);
    assert!(
        stdout.contains("transfer_fds: all checks passed"),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("at most"))
        .unwrap_or_default()
        .to_string();
    println!("    {line} ({:.1} s)", t0.elapsed().as_secs_f64());
    tally::note(line);
}

/// Forged resume tokens against a client with a key of its own (see the module doc).
fn forged_tokens(rng: &mut Rng) {
    use oss_ffi::download::resume_key::ResumeTokenKey;
    use oss_ffi::transfer::{ResumeTokenBytes, Transfer, TransferState, Work};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![Credential::new(AK, SK)],
        // A download lasts long enough for the pause to land in it.
        shaping: oss_emulator::Shaping {
            conn_bytes_per_sec: Some(512 << 10),
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let object = "tokens/object.bin";
    let size = 700 * 1024 + 3;
    let data = crate::download_support::bytes(size, rng.next());
    emu.put_object(BUCKET, object, &data).unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let victim = work.join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let key: Vec<u8> = (0..32).map(|_| rng.next() as u8).collect();
    let mut config = crate::download_support::test_config();
    config.resume_token_key = Some(ResumeTokenKey::new(&key).unwrap());
    let client = oss_ffi::client::Client::new(
        &emu.endpoint(),
        Arc::new(oss_ffi::credentials::StaticProvider::new(AK, SK, None)),
        config,
    )
    .unwrap();
    oss_ffi::runtime::initialize().unwrap();
    let run = |work: Work| -> Arc<Transfer> {
        let slot = Arc::new(Mutex::new(None));
        let s2 = slot.clone();
        Transfer::start(&client, work, None, None, move |t| {
            *s2.lock().unwrap() = Some(t.clone())
        })
        .unwrap();
        let t = slot.lock().unwrap().take().unwrap();
        t
    };
    let dest = work.join("dest.bin");
    let mut req = oss_ffi::download::DownloadRequest::new(BUCKET, object);
    req.file_path = Some(dest.clone());
    req.part_size = 100 * 1024;
    let t = run(Work::Download(req));
    t.pause();
    let state = t.wait(Some(Duration::from_secs(60)));
    let genuine = match state {
        TransferState::Paused => t.take_resume_token().unwrap(),
        other => panic!("the paused download ended {other:?}"),
    };

    let n = tally::scale(12, 600);
    let len = u32::from_le_bytes(genuine[20..24].try_into().unwrap()) as usize;
    let body: serde_json::Value = serde_json::from_slice(&genuine[24..24 + len]).unwrap();
    let victim_s = victim.display().to_string();
    for i in 0..n {
        let mut b = body.clone();
        match rng.below(5) {
            0 => b["file_path"] = serde_json::json!(victim_s),
            1 => b["bucket"] = serde_json::json!("another-bucket"),
            2 => b["key"] = serde_json::json!("another/key"),
            3 => {
                b["record"] = serde_json::Value::Null;
                b["file_path"] = serde_json::json!(victim_s);
            }
            _ => {}
        }
        let raw = serde_json::to_vec(&b).unwrap();
        let mut forged = match rng.below(6) {
            0 => seal(2, &raw, None),
            1 => seal(1, &raw, None),
            2 => {
                let other: Vec<u8> = (0..32).map(|_| rng.next() as u8).collect();
                seal(2, &raw, Some(&other))
            }
            3 => {
                let cut = 1 + rng.below(genuine.len() as u64 - 1) as usize;
                genuine[..genuine.len() - cut].to_vec()
            }
            4 => {
                let mut g = genuine.clone();
                g.push(rng.next() as u8);
                g
            }
            _ => {
                let mut g = seal(2, &raw, Some(&key));
                let at = rng.below(g.len() as u64) as usize;
                g[at] ^= 1 << rng.below(8);
                g
            }
        };
        if forged == genuine {
            forged.push(0); // an edit that changed nothing: extended instead
        }
        match ResumeTokenBytes::decode(&client, &forged) {
            Ok(_) => panic!("forgery {i} was accepted"),
            Err(e) => {
                tally::scan_error(&e);
                assert!(
                    e.message.starts_with("The resume token is refused"),
                    "forgery {i}: {e}"
                );
            }
        }
        tally::inc(&tally::BAD_INPUTS);
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(!dest.exists(), "a forged token made the destination");
    // A client with another key refuses the genuine token too; under the right key it finishes
    // the download.
    let mut other = crate::download_support::test_config();
    other.resume_token_key = Some(ResumeTokenKey::new(&[0x5a; 32]).unwrap());
    let other = oss_ffi::client::Client::new(
        &emu.endpoint(),
        Arc::new(oss_ffi::credentials::StaticProvider::new(AK, SK, None)),
        other,
    )
    .unwrap();
    assert!(ResumeTokenBytes::decode(&other, &genuine).is_err());
    let token = ResumeTokenBytes::decode(&client, &genuine).expect("the genuine token");
    let t = run(Work::Resume {
        token: Box::new(token),
        settings: oss_ffi::download::DownloadRequest::new("", ""),
    });
    assert_eq!(
        t.wait(Some(Duration::from_secs(120))),
        TransferState::Succeeded,
        "{:?}",
        t.result()
    );
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    tally::inc(&tally::VERIFIED_FILES);
    println!(
        "    forged resume tokens: {n} refused at the start, the genuine one resumed, {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// The token framing (`src/download/resume_token.rs`) sealed with HMAC-SHA256 under `key`, or
/// with a plain SHA-256 without one.
fn seal(version: u32, body: &[u8], key: Option<&[u8]>) -> Vec<u8> {
    use hmac::Mac;
    use sha2::Digest;
    let mut out = b"oss-ffi/resume\0\0".to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    let tag = match key {
        Some(k) => {
            let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(k).unwrap();
            m.update(&out);
            m.finalize().into_bytes().to_vec()
        }
        None => sha2::Sha256::digest(&out).to_vec(),
    };
    out.extend_from_slice(&tag);
    out
}
