//! Resumable download: cancellation leaves a valid checkpoint; resume skips finished parts and
//! reports them first; corrupt, truncated, foreign or hand-edited checkpoints and damaged temp
//! files are discarded safely; an object changed between runs is reported and its state removed;
//! one destination cannot be downloaded twice at once; temp paths that are links are refused.

mod download_support;
#[path = "support/read_only.rs"]
mod read_only;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use download_support::*;
use oss_emulator::Faults;
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::download::ramp::Target;
use oss_ffi::download::{resumable_download, DownloadRequest, DEFAULT_PART_SIZE, MIN_PART_SIZE};
use oss_ffi::ErrorKind;

const PS: u64 = MIN_PART_SIZE;
const SIZE: u64 = 60 * PS + 17;

/// Runs `req` and cancels it once `at` bytes were reported; checks it stopped promptly.
async fn interrupted(client: &Client, req: &DownloadRequest, total: u64, at: u64) {
    let (r, when) = download_cancelled_at(client, req, total, at).await;
    let e = r.expect_err("the download should have been cancelled");
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert_eq!(e.code, "Cancelled");
    let since = when.expect("cancelled").elapsed();
    assert!(
        since < Duration::from_secs(2),
        "cancellation took {since:?}"
    );
}

/// The GET latency (`Env::slow_gets`) of a slow-ish server, so that a cancellation lands
/// mid-download.
const SLOW_GET_MS: u64 = 15;

fn recorded_parts(ckpt: &Path) -> Vec<(u64, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(ckpt).unwrap()).unwrap();
    v["checkpoint"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["offset"].as_u64().unwrap(), p["size"].as_u64().unwrap()))
        .collect()
}

fn setup(env: &Env, key: &str, dest: &str) -> (PathBuf, DownloadRequest) {
    let src = env.object(key, SIZE);
    let mut req = env.request(key, dest);
    req.part_size = PS;
    req.thread_num = 4;
    req.checkpoint_dir = Some(env.ckpt_dir());
    (src, req)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_leaves_a_checkpoint_and_resume_fetches_only_the_rest() {
    let env = Env::new();
    let client = env.client();
    let (src, req) = setup(&env, "res/obj", "out");
    env.slow_gets(SLOW_GET_MS);
    interrupted(&client, &req, SIZE, SIZE * 2 / 5).await;
    let ckpt = checkpoint_in(&env.ckpt_dir()).expect("a checkpoint after cancellation");
    let temp = env.path("out.temp");
    assert_eq!(std::fs::metadata(&temp).unwrap().len(), SIZE);
    assert!(!env.path("out").exists());
    let done = recorded_parts(&ckpt);
    let already: u64 = done.iter().map(|p| p.1).sum();
    assert!(already > 0 && already < SIZE, "recorded {already}");

    env.faults(Faults::none());
    env.emu.clear_log();
    let (r, p) = download(&client, &req, SIZE).await;
    r.unwrap();
    assert_same_file(&src, &env.path("out"));
    assert_eq!(
        p.first(),
        Some(already),
        "first call reports the bytes on disk"
    );
    let fetched: u64 = gets(&env, "res/obj").iter().map(|g| g.bytes_sent).sum();
    assert_eq!(
        fetched,
        SIZE - already,
        "only the missing parts were fetched"
    );
    for g in gets(&env, "res/obj") {
        let (a, _) = parse_range(g.range.as_deref().unwrap());
        assert!(
            !done.iter().any(|&(o, _)| o == a),
            "part at {a} fetched again"
        );
    }
    assert_no_leftovers(&[env.work.path()]);
}

/// The GETs' ranges of `key`, as (first, last).
fn ranges(env: &Env, key: &str) -> Vec<(u64, u64)> {
    gets(env, key)
        .iter()
        .map(|g| parse_range(g.range.as_deref().expect("a ranged GET")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throughput_target_cuts_a_small_object_into_more_parts() {
    let env = Env::new();
    let client = env.client();
    let size = 2 * DEFAULT_PART_SIZE + 5;
    let src = env.object("cut/obj", size);
    for (target, parts) in [(None, 3), (Some(Target::Max), 5)] {
        env.emu.clear_log();
        let mut req = env.request("cut/obj", "out");
        req.throughput_target = target;
        let (r, _) = download(&client, &req, size).await;
        r.unwrap();
        assert_same_file(&src, &env.path("out"));
        // With a target, the object is cut into parts of the smallest cut (4 MiB), the first
        // request included; without one, into the requested 8 MiB.
        let most = if target.is_some() {
            4 << 20
        } else {
            DEFAULT_PART_SIZE
        };
        let got = ranges(&env, "cut/obj");
        assert_eq!(got.len(), parts, "{target:?}: {got:?}");
        assert!(
            got.iter().all(|&(a, b)| b - a < most),
            "{target:?}: {got:?}"
        );
        std::fs::remove_file(env.path("out")).unwrap();
    }
}

/// A download interrupted with one cut (with or without a throughput target) and resumed by a
/// run that would cut otherwise goes on with the interrupted run's cut: no finished part is
/// fetched again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_keeps_the_cut_of_the_interrupted_run_with_or_without_a_target() {
    let env = Env::new();
    let client = env.client();
    let size = 3 * DEFAULT_PART_SIZE;
    let src = env.object("cut/res", size);
    env.slow_gets(SLOW_GET_MS);
    for (first, then) in [(Some(Target::Max), None), (None, Some(Target::Max))] {
        let mut req = env.request("cut/res", "out");
        req.thread_num = 1;
        req.checkpoint_dir = Some(env.ckpt_dir());
        req.throughput_target = first;
        interrupted(&client, &req, size, size / 2).await;
        let ckpt = checkpoint_in(&env.ckpt_dir()).expect("a checkpoint after cancellation");
        let done = recorded_parts(&ckpt);
        let already: u64 = done.iter().map(|p| p.1).sum();
        assert!(
            already > 0 && already < size,
            "{first:?}: recorded {already}"
        );

        env.emu.clear_log();
        req.throughput_target = then;
        let (r, p) = download(&client, &req, size).await;
        r.unwrap();
        assert_same_file(&src, &env.path("out"));
        assert_eq!(p.first(), Some(already), "{first:?} then {then:?}");
        let fetched: u64 = gets(&env, "cut/res").iter().map(|g| g.bytes_sent).sum();
        assert_eq!(
            fetched,
            size - already,
            "{first:?} then {then:?}: fetched again"
        );
        assert_no_leftovers(&[env.work.path()]);
        std::fs::remove_file(env.path("out")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_without_checkpoint_removes_the_temp_file() {
    let env = Env::new();
    let client = env.client();
    let (_, mut req) = setup(&env, "res/nockpt", "nockpt");
    req.checkpoint_dir = None;
    env.slow_gets(SLOW_GET_MS);
    interrupted(&client, &req, SIZE, SIZE / 3).await;
    assert_no_leftovers(&[env.work.path()]);
    assert!(!env.path("nockpt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_checkpoints_are_discarded_safely() {
    let env = Env::new();
    let client = env.client();
    let (src, req) = setup(&env, "res/bad", "bad");
    // A checkpoint of another download, to be planted as a foreign one.
    let (_, mut other) = setup(&env, "res/other", "other");
    other.checkpoint_dir = Some(env.work.path().join("other-ckpt"));
    std::fs::create_dir_all(other.checkpoint_dir.as_ref().unwrap()).unwrap();
    env.slow_gets(SLOW_GET_MS);
    interrupted(&client, &other, SIZE, SIZE / 2).await;
    let foreign =
        std::fs::read(checkpoint_in(other.checkpoint_dir.as_ref().unwrap()).unwrap()).unwrap();

    type Damage = Box<dyn Fn(&Path)>;
    let outside = env.path("outside-target");
    std::fs::write(&outside, b"do not touch").unwrap();
    let outside2 = outside.clone();
    let damages: Vec<(&str, Damage)> = vec![
        (
            "garbage",
            Box::new(|p| std::fs::write(p, b"\x00\xffnot json{{").unwrap()),
        ),
        ("empty", Box::new(|p| std::fs::write(p, b"").unwrap())),
        (
            "truncated",
            Box::new(|p| {
                let t = std::fs::read(p).unwrap();
                std::fs::write(p, &t[..t.len() / 2]).unwrap()
            }),
        ),
        (
            "hand-edited part",
            Box::new(|p| {
                let t = std::fs::read_to_string(p).unwrap();
                let i = t.find("\"crc64\": ").unwrap() + 9;
                let mut t = t.into_bytes();
                t[i] = if t[i] == b'1' { b'2' } else { b'1' };
                std::fs::write(p, t).unwrap()
            }),
        ),
        (
            "hand-edited etag",
            Box::new(|p| {
                let t = std::fs::read_to_string(p).unwrap();
                std::fs::write(p, t.replacen("\"etag\": \"\\\"", "\"etag\": \"\\\"0", 1)).unwrap()
            }),
        ),
        (
            "older format",
            Box::new(|p| {
                let t = std::fs::read_to_string(p).unwrap();
                std::fs::write(p, t.replacen("\"version\": 2", "\"version\": 1", 1)).unwrap()
            }),
        ),
        (
            "foreign",
            Box::new(move |p| std::fs::write(p, &foreign).unwrap()),
        ),
        (
            "symlink",
            Box::new(move |p| {
                std::fs::remove_file(p).unwrap();
                std::os::unix::fs::symlink(&outside2, p).unwrap();
            }),
        ),
    ];
    for (name, damage) in damages {
        env.slow_gets(SLOW_GET_MS);
        interrupted(&client, &req, SIZE, SIZE / 2).await;
        let ckpt = checkpoint_in(&env.ckpt_dir()).unwrap();
        damage(&ckpt);
        env.faults(Faults::none());
        let (r, _) = download(&client, &req, SIZE).await;
        r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same_file(&src, &env.path("bad"));
        assert_no_leftovers(&[&env.ckpt_dir(), &env.path("bad.temp")]);
        assert!(!env.path("bad.temp").exists(), "{name}");
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"do not touch");
    // The foreign checkpoint's own temp file was not touched by the others' cleanup.
    assert!(env.path("other.temp").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_temp_files_are_not_trusted() {
    let env = Env::new();
    let client = env.client();
    let (src, req) = setup(&env, "res/temp", "tmpd");
    let temp = env.path("tmpd.temp");
    type Damage = Box<dyn Fn(&Path)>;
    let damages: Vec<(&str, Damage)> = vec![
        ("deleted", Box::new(|p| std::fs::remove_file(p).unwrap())),
        (
            "longer",
            Box::new(|p| {
                let f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
                std::io::Write::write_all(&mut &f, b"trailing garbage").unwrap();
            }),
        ),
        (
            "shorter",
            Box::new(|p| {
                let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                f.set_len(PS).unwrap();
            }),
        ),
    ];
    for (name, damage) in damages {
        env.slow_gets(SLOW_GET_MS);
        interrupted(&client, &req, SIZE, SIZE / 2).await;
        damage(&temp);
        env.faults(Faults::none());
        env.emu.clear_log();
        let (r, p) = download(&client, &req, SIZE).await;
        r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same_file(&src, &env.path("tmpd"));
        let fetched: u64 = gets(&env, "res/temp").iter().map(|g| g.bytes_sent).sum();
        assert_eq!(fetched, SIZE, "{name}: a clean restart fetches everything");
        assert!(p.first().unwrap() < SIZE);
        assert_no_leftovers(&[env.work.path()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_parts_are_reverified_on_request() {
    let env = Env::new();
    let client = env.client();
    let (src, mut req) = setup(&env, "res/verify", "ver");
    let temp = env.path("ver.temp");
    let corrupt_a_done_part = |env: &Env| {
        let ckpt = checkpoint_in(&env.ckpt_dir()).unwrap();
        let (off, _) = recorded_parts(&ckpt)[0];
        let f = std::fs::OpenOptions::new().write(true).open(&temp).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, b"\x01\x02\x03", off + 5).unwrap();
    };
    // Verified: the damaged part is fetched again, the result is right.
    req.verify_parts_on_resume = true;
    env.slow_gets(SLOW_GET_MS);
    interrupted(&client, &req, SIZE, SIZE / 2).await;
    corrupt_a_done_part(&env);
    env.faults(Faults::none());
    download(&client, &req, SIZE).await.0.unwrap();
    assert_same_file(&src, &env.path("ver"));
    assert_no_leftovers(&[env.work.path()]);
    // (Without verification the recorded CRCs are trusted: the temp file is not read again, so
    // bytes changed in it behind the downloader's back between runs go unnoticed. That is the
    // documented purpose of `verify_parts_on_resume`.)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_changed_between_runs_is_reported_and_state_removed() {
    let env = Env::new();
    let client = env.client();
    let (_, req) = setup(&env, "res/changed", "chg");
    let old = env
        .emu
        .object_meta(BUCKET, "res/changed")
        .unwrap()
        .unwrap()
        .etag;
    env.slow_gets(SLOW_GET_MS);
    interrupted(&client, &req, SIZE, SIZE / 2).await;
    let new_content = bytes(SIZE as usize, 99);
    env.emu
        .put_object(BUCKET, "res/changed", &new_content)
        .unwrap();
    let new = env
        .emu
        .object_meta(BUCKET, "res/changed")
        .unwrap()
        .unwrap()
        .etag;
    env.faults(Faults::none());
    let e = download(&client, &req, SIZE).await.0.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ObjectChanged, "{e}");
    assert_eq!(e.code, "ObjectChanged");
    assert!(e.message.contains(&old) && e.message.contains(&new), "{e}");
    assert!(!env.path("chg").exists());
    assert_no_leftovers(&[env.work.path()]);
    download(&client, &req, SIZE).await.0.unwrap();
    assert_eq!(std::fs::read(env.path("chg")).unwrap(), new_content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranged_downloads_resume() {
    let env = Env::new();
    let client = env.client();
    let (src, mut req) = setup(&env, "res/range", "rng");
    let (start, len) = (PS / 2 + 3, 40 * PS);
    req.range = Some((start as i64, (start + len - 1) as i64));
    env.slow_gets(SLOW_GET_MS);
    interrupted(&client, &req, len, len / 2).await;
    let already: u64 = recorded_parts(&checkpoint_in(&env.ckpt_dir()).unwrap())
        .iter()
        .map(|p| p.1)
        .sum();
    assert!(already > 0);
    env.faults(Faults::none());
    let (r, p) = download(&client, &req, len).await;
    r.unwrap();
    assert_eq!(p.first(), Some(already));
    assert_file_is_slice(&env.path("rng"), &src, start, len);
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_destination_one_download_at_a_time() {
    let env = Env::new();
    let client = env.client();
    let (src, req) = setup(&env, "res/lock", "locked");
    // The first download holds its lock while its first progress call waits for the test: the
    // second ones are tried while it certainly runs (no timing assumption).
    let (reached_tx, reached_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(Some((reached_tx, release_rx)));
    let progress = Arc::new(Progress::default());
    *progress.hook.lock().unwrap() = Some(Box::new(move |_, _| {
        if let Some((reached, release)) = gate.lock().unwrap().take() {
            let _ = reached.send(());
            let _ = release.recv_timeout(Duration::from_secs(60));
        }
    }));
    let first = {
        let (client, req) = (client.clone(), req.clone());
        tokio::spawn(async move {
            download_with(&client, &req, SIZE, &Cancel::new(), progress)
                .await
                .0
        })
    };
    tokio::task::spawn_blocking(move || reached_rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap()
        .expect("the first download reached its first progress call");
    assert!(env.path("locked.temp.lock").exists());
    for other_ckpt in [true, false] {
        let mut second = req.clone();
        if !other_ckpt {
            second.checkpoint_dir = None;
        }
        let e = resumable_download(&client, &second, &Cancel::new())
            .await
            .unwrap_err();
        assert_eq!(e.code, "FileLocked", "{e}");
        assert_eq!(e.kind, ErrorKind::Busy);
    }
    release_tx.send(()).unwrap();
    first.await.unwrap().unwrap();
    assert_same_file(&src, &env.path("locked"));
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temp_paths_that_are_links_or_directories_are_refused() {
    let env = Env::new();
    let client = env.client();
    let (_, req) = setup(&env, "res/link", "link");
    let victim = env.path("victim");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, env.path("link.temp")).unwrap();
    let e = resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io, "{e}");
    assert!(e.message.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(std::fs::symlink_metadata(env.path("link.temp"))
        .unwrap()
        .file_type()
        .is_symlink());
    std::fs::remove_file(env.path("link.temp")).unwrap();

    std::fs::create_dir(env.path("link.temp")).unwrap();
    std::fs::write(env.path("link.temp/inside"), b"x").unwrap();
    let e = resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap_err();
    assert!(e.message.contains("directory"), "{e}");
    assert_eq!(std::fs::read(env.path("link.temp/inside")).unwrap(), b"x");
    assert!(!env.path("link").exists());
}

/// The cost of re-reading the resumed parts (`verify_parts_on_resume`, on by default): a download interrupted at 50% then resumed, with the re-read off and on, a few rounds.
/// Not a pass/fail test (no timing threshold): run it by hand, in release, and read the output:
///
/// `OSS_COST_MIB=512 OSS_COST_ROUNDS=5 cargo test --release --test download_resume -- --ignored resume_verification_cost --nocapture`
///
/// `OSS_COST_DROP_CACHES=1` (root) drops the page cache before each resume, so that the
/// re-read comes from the disk (the worst case: a resume after a reboot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn resume_verification_cost() {
    let var = |n: &str, d: u64| {
        std::env::var(n)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let size = var("OSS_COST_MIB", 256) * MIB;
    let rounds = var("OSS_COST_ROUNDS", 3);
    let drop_caches = var("OSS_COST_DROP_CACHES", 0) == 1;
    let env = Env::new();
    let client = env.client();
    let src = env.object("cost/obj", size);
    let mut req = env.request("cost/obj", "cost.bin");
    req.part_size = 8 * MIB;
    req.thread_num = 4;
    req.checkpoint_dir = Some(env.ckpt_dir());
    // The library logs how long the re-read took (Info): the added work itself, apart from the
    // noise of the rest of the resume (the final fsync above all).
    let reread_ms: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
    let sink_ms = reread_ms.clone();
    oss_ffi::log::set_level(oss_ffi::log::Level::Info);
    oss_ffi::log::set_sink(Some(Arc::new(move |_, msg: &str| {
        if let Some(ms) = msg
            .strip_suffix(" ms")
            .and_then(|m| m.rsplit_once(" re-read and checked in "))
            .and_then(|(_, ms)| ms.parse().ok())
        {
            sink_ms.lock().unwrap().push(ms);
        }
    })));
    let mut times: Vec<(bool, f64, u64)> = Vec::new();
    for round in 0..rounds {
        for verify in [false, true] {
            req.verify_parts_on_resume = verify;
            interrupted(&client, &req, size, size / 2).await;
            let ckpt = checkpoint_in(&env.ckpt_dir()).unwrap();
            let on_disk: u64 = recorded_parts(&ckpt).iter().map(|p| p.1).sum();
            if drop_caches {
                let _ = std::process::Command::new("sync").status();
                std::fs::write("/proc/sys/vm/drop_caches", "3").expect("drop_caches (root)");
            }
            let t0 = Instant::now();
            let (r, _) = download(&client, &req, size).await;
            let secs = t0.elapsed().as_secs_f64();
            r.unwrap();
            println!(
                "round {round}: resume with the re-read {}: {secs:.3} s ({} MiB on disk at the resume)",
                if verify { "on " } else { "off" },
                on_disk / MIB
            );
            times.push((verify, secs, on_disk));
            if round == 0 {
                assert_same_file(&src, &env.path("cost.bin"));
            }
            std::fs::remove_file(env.path("cost.bin")).unwrap();
        }
    }
    let median = |verify: bool| {
        let mut v: Vec<f64> = times
            .iter()
            .filter(|t| t.0 == verify)
            .map(|t| t.1)
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    oss_ffi::log::set_sink(None);
    oss_ffi::log::set_level(oss_ffi::log::Level::Off);
    let (off, on) = (median(false), median(true));
    let reread: u64 = times.iter().filter(|t| t.0).map(|t| t.2).sum::<u64>() / rounds;
    let mut ms = reread_ms.lock().unwrap().clone();
    ms.sort_unstable();
    let re_ms = ms.get(ms.len() / 2).copied().unwrap_or(0);
    println!(
        "{} MiB object, interrupted at 50%, {rounds} rounds{}: resume median {off:.3} s with the \
         re-read off, {on:.3} s on ({:+.3} s); the re-read itself (library log): median {re_ms} ms \
         for ~{} MiB ({:.0} MiB/s), all rounds {ms:?} ms",
        size / MIB,
        if drop_caches {
            ", page cache dropped"
        } else {
            ""
        },
        on - off,
        reread / MIB,
        reread as f64 / MIB as f64 / (re_ms.max(1) as f64 / 1000.0),
    );
}

/// A checkpoint directory in which no file can be created (a read-only mount, as root; mode 0555
/// otherwise) fails the download at its start with an `IOError` that says so, before any
/// request: a resumable download that could never resume must not look like one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_checkpoint_directory_fails_at_the_start() {
    let env = Env::new();
    let client = env.client();
    env.object("ro/obj", 3 * MIN_PART_SIZE);
    let ro = read_only::ReadOnlyDir::new(&env.path("ckpt-ro"));
    let mut req = env.request("ro/obj", "out.bin");
    req.part_size = MIN_PART_SIZE;
    req.checkpoint_dir = Some(ro.path.clone());
    let e = resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "IOError", "{e}");
    assert_eq!(e.kind, ErrorKind::Io, "{e}");
    assert!(
        e.message.contains("cannot hold a checkpoint")
            && e.message.contains(&ro.path.display().to_string()),
        "{e}"
    );
    assert!(
        env.emu.log().is_empty(),
        "requests were sent: {:?}",
        env.emu.log()
    );
    assert!(!env.path("out.bin").exists());
    drop(ro);
    assert_no_leftovers(&[env.work.path()]);
}
