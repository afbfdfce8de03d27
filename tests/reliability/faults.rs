//! Network faults through the local server: bodies cut at random offsets, resets, 500/503 bursts
//! and permanent errors, stalls longer than the idle timeout, a slow trickle, wrong Content-Range,
//! wrong lengths, and random mixtures of them ("chaos" rounds resumed until done). Every download
//! ends with the right bytes or a clear error within its deadline; retries are bounded (counted
//! in the request log); nothing wrong is ever left at the destination. (One test per fault with
//! fixed inputs: tests/download_faults.rs.)

use std::path::Path;
use std::time::{Duration, Instant};

use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::client::Client;
use oss_ffi::download::{DownloadRequest, MIN_PART_SIZE};
use oss_ffi::{Error, ErrorKind};

use crate::download_support::*;
use crate::tally;

fn get(action: FaultAction) -> FaultRule {
    FaultRule::new(action).method("GET").ranged(true)
}

/// One download with a deadline; the result's error (if any) is scanned for secrets, a file at
/// the destination is checked against the object.
pub async fn attempt(
    client: &Client,
    req: &DownloadRequest,
    src: &Path,
    secs: u64,
    what: &str,
) -> Result<(), Error> {
    tally::inc(&tally::DOWNLOADS);
    let total = std::fs::metadata(src).unwrap().len();
    let (r, _) = tally::deadline(what, secs, download(client, req, total)).await;
    let dest = req.file_path.as_ref().unwrap();
    match r {
        Ok(_) => {
            verify(dest, src, what);
            Ok(())
        }
        Err(e) => {
            tally::scan_error(&e);
            assert!(!e.message.is_empty(), "{what}: an error without a message");
            if dest.exists() {
                tally::inc(&tally::CORRUPT);
                panic!("CORRUPT: {what} failed ({e}) but left a destination file");
            }
            Err(e)
        }
    }
}

pub fn verify(dest: &Path, src: &Path, what: &str) {
    let (a, b) = (std::fs::read(dest).unwrap(), std::fs::read(src).unwrap());
    if a != b {
        tally::inc(&tally::CORRUPT);
        panic!(
            "CORRUPT: {what}: {} differs from the object ({} vs {} bytes)",
            dest.display(),
            a.len(),
            b.len()
        );
    }
    tally::inc(&tally::VERIFIED_FILES);
}

fn clean(env: &Env, dest: &Path) {
    let _ = std::fs::remove_file(dest);
    assert_no_leftovers(&[env.work.path()]);
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub fn run(rng: &mut Rng) {
    runtime().block_on(phase(rng));
}

async fn phase(rng: &mut Rng) {
    let env = Env::new();
    let client = env.client();
    let ckpt = env.ckpt_dir();
    let max_retries = client.config().max_retries as usize;

    // Cuts and resets at random offsets, random shapes: always the right bytes.
    for round in 0..tally::scale(4, 40) {
        let size = rng.below(3 * MIB);
        let key = format!("faults/cut{round}");
        let src = env.object(&key, size);
        let mut req = env.request(&key, "cut.bin");
        req.part_size = MIN_PART_SIZE + rng.below(200 * KIB);
        req.thread_num = 1 + rng.below(8) as u32;
        if rng.below(2) == 0 {
            req.checkpoint_dir = Some(ckpt.clone());
        }
        env.faults(Faults {
            rules: vec![
                get(FaultAction::Cut { bytes: None }).probability(0.3),
                get(FaultAction::Reset {
                    bytes: Some(rng.below(50_000)),
                })
                .probability(0.1),
                get(FaultAction::Reset { bytes: None }).probability(0.05),
            ],
            seed: Some(rng.next()),
        });
        let what = format!("cuts round {round} ({size} bytes, {req:?})");
        attempt(&client, &req, &src, 120, &what).await.unwrap();
        clean(&env, &env.path("cut.bin"));
    }
    tally::count_server_faults(&env.emu);

    let size = 12 * MIN_PART_SIZE + 77;
    let src = env.object("faults/obj", size);
    let mut req = env.request("faults/obj", "obj.bin");
    req.part_size = MIN_PART_SIZE;
    req.thread_num = 4;
    req.checkpoint_dir = Some(ckpt.clone());
    let dest = env.path("obj.bin");

    // 500/503 bursts of random lengths: the right bytes, or a clear server error that a second
    // call (the server healthy again) resumes from.
    for round in 0..tally::scale(4, 30) {
        let status = if rng.below(2) == 0 { 500 } else { 503 };
        let n = 1 + rng.below(12);
        env.faults(Faults::fail_next_gets(n, status));
        let what = format!("a burst of {n} x {status}");
        match attempt(&client, &req, &src, 60, &what).await {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Server, "{what}: {e}");
                assert_eq!(e.http_status, status, "{what}: {e}");
                env.faults(Faults::none());
                attempt(&client, &req, &src, 60, &format!("{what}, resumed"))
                    .await
                    .unwrap();
            }
        }
        let _ = round;
        clean(&env, &dest);
    }
    tally::count_server_faults(&env.emu);

    // Permanent failures: a clear error, bounded retries, bounded time.
    let permanent: Vec<(&str, FaultRule, ErrorKind)> = vec![
        (
            "permanent 503",
            get(FaultAction::Status {
                status: 503,
                code: None,
            }),
            ErrorKind::Server,
        ),
        (
            // A fresh download sends no HEAD (it starts with the first part's GET); this one
            // resumes the checkpoint the permanent 503 above left (its first GET fell back to a
            // HEAD, which created the temp file and checkpoint), so it starts with a HEAD.
            "HEAD always 500",
            FaultRule::new(FaultAction::Status {
                status: 500,
                code: None,
            })
            .method("HEAD"),
            ErrorKind::Server,
        ),
        (
            "resets before every answer",
            get(FaultAction::Reset { bytes: None }),
            ErrorKind::Transport,
        ),
        (
            "wrong Content-Range on every answer",
            get(FaultAction::WrongContentRange { shift: 1 }),
            ErrorKind::Transport,
        ),
        (
            "every body short",
            get(FaultAction::ShortBody { bytes: 3 }),
            ErrorKind::Transport,
        ),
        (
            "every body long",
            get(FaultAction::LongBody { bytes: 5 }),
            ErrorKind::Transport,
        ),
    ];
    for (what, rule, kind) in permanent {
        let _ = std::fs::remove_file(&dest);
        env.faults(Faults::none().with(rule));
        env.emu.clear_log();
        let t0 = Instant::now();
        let e = attempt(&client, &req, &src, 60, what)
            .await
            .expect_err("a permanent fault must fail");
        let took = t0.elapsed();
        assert_eq!(e.kind, kind, "{what}: {e}");
        let requests = env.emu.log().len();
        if what == "HEAD always 500" {
            assert!(
                env.emu
                    .log()
                    .iter()
                    .any(|e| e.method == "HEAD" && e.status == 500),
                "{what}: the resume started with a HEAD"
            );
        }
        // HEAD + at most `threads` parts in flight, each giving up after its retry budget
        // (client retries x part-level retries), plus the HEAD after an object change.
        let bound = 2 + 4 * (max_retries + 1) * (max_retries + 1);
        assert!(
            requests <= bound,
            "{what}: {requests} requests (bound {bound}): retries are not bounded"
        );
        assert!(took < Duration::from_secs(30), "{what}: took {took:?}");
        tally::count_server_faults(&env.emu);
        println!("    {what}: {} after {requests} requests, {took:?}", e.code);
    }
    env.faults(Faults::none());
    attempt(&client, &req, &src, 60, "after the permanent faults")
        .await
        .unwrap();
    clean(&env, &dest);

    // Stalls longer than the idle timeout: the stalled answer is abandoned and resumed.
    let impatient = env.client_with(|c| c.request_timeout = Duration::from_millis(400));
    env.faults(Faults {
        rules: vec![get(FaultAction::Stall {
            bytes: 20_000,
            ms: 1500,
        })
        .probability(0.4)],
        seed: Some(rng.next()),
    });
    let t0 = Instant::now();
    attempt(&impatient, &req, &src, 60, "stalls").await.unwrap();
    println!(
        "    stalls of 1.5 s vs a 0.4 s idle timeout: done in {:?}",
        t0.elapsed()
    );
    tally::count_server_faults(&env.emu);
    clean(&env, &dest);

    // A slow trickle (the server's throttle at 30 KiB/s) completes, slowly but surely.
    env.faults(Faults::none());
    let small = env.object("faults/trickle", 60 * KIB);
    let mut slow = env.request("faults/trickle", "trickle.bin");
    slow.object.traffic_limit = Some(245_760);
    let t0 = Instant::now();
    attempt(&impatient, &slow, &small, 60, "a slow trickle")
        .await
        .unwrap();
    let took = t0.elapsed();
    assert!(
        took > Duration::from_millis(1200),
        "not throttled: {took:?}"
    );
    println!("    60 KiB at 30 KiB/s with a 0.4 s idle timeout: {took:?}");
    tally::inc(&tally::FAULTS);
    clean(&env, &env.path("trickle.bin"));

    // Chaos: random mixtures, resumed from the checkpoint until done.
    for round in 0..tally::scale(6, 80) {
        chaos(&env, rng, round).await;
    }
}

async fn chaos(env: &Env, rng: &mut Rng, round: u64) {
    let size = 1 + rng.below(4 * MIB);
    let key = format!("faults/chaos{round}");
    let src = env.object(&key, size);
    let mut req = env.request(&key, "chaos.bin");
    req.part_size = MIN_PART_SIZE + rng.below(400 * KIB);
    req.thread_num = 1 + rng.below(12) as u32;
    req.checkpoint_dir = Some(env.ckpt_dir());
    let client = env.client_with(|c| c.request_timeout = Duration::from_millis(700));
    let menu = [
        get(FaultAction::Cut { bytes: None }),
        get(FaultAction::Reset {
            bytes: Some(rng.below(100_000)),
        }),
        get(FaultAction::Reset { bytes: None }),
        get(FaultAction::Status {
            status: 503,
            code: None,
        }),
        get(FaultAction::Status {
            status: 500,
            code: None,
        }),
        get(FaultAction::Stall {
            bytes: rng.below(50_000),
            ms: 1200,
        }),
        get(FaultAction::WrongContentRange {
            shift: 1 + rng.below(5) as i64,
        }),
        get(FaultAction::ShortBody {
            bytes: 1 + rng.below(1000),
        }),
        get(FaultAction::LongBody {
            bytes: 1 + rng.below(1000),
        }),
        FaultRule::new(FaultAction::Status {
            status: 503,
            code: None,
        })
        .method("HEAD"),
    ];
    let mut rules: Vec<FaultRule> = Vec::new();
    for r in menu {
        if rng.below(3) == 0 {
            rules.push(r.probability(0.05 + (rng.below(30) as f64) / 100.0));
        }
    }
    let names = format!("{rules:?}");
    env.faults(Faults {
        rules,
        seed: Some(rng.next()),
    });
    let what = format!("chaos round {round}: {size} bytes, {req:?}, faults {names}");
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(&client, &req, &src, 90, &what).await {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    matches!(
                        e.kind,
                        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Server
                    ),
                    "{what}: unexpected error {e}"
                );
                if attempts == 6 {
                    env.faults(Faults::none());
                }
                assert!(attempts <= 6, "{what}: still failing without faults: {e}");
            }
        }
    }
    tally::count_server_faults(&env.emu);
    clean(env, &env.path("chaos.bin"));
}
