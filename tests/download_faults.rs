//! Resumable download under injected network faults: cut bodies are resumed from the byte where
//! they stopped, 503 bursts, resets, stalls and malformed answers end in correct bytes (or a
//! clear error), an object changed mid-download is reported and nothing corrupt is left, and the
//! first unrecoverable failure stops the other parts. One test per fault, fixed inputs; random
//! offsets and mixtures are the reliability suite's `faults` phase (tests/reliability/faults.rs).

mod download_support;

use std::time::{Duration, Instant};

use download_support::*;
use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::download::MIN_PART_SIZE;
use oss_ffi::ErrorKind;

const PS: u64 = MIN_PART_SIZE;
const SIZE: u64 = 30 * PS + 11;

fn get_rule(action: FaultAction) -> FaultRule {
    FaultRule::new(action).method("GET").ranged(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_bodies_are_resumed_from_the_cut_point() {
    let env = Env::new();
    // The bytes are counted exactly below: no re-request of a slow part (a part held up by a
    // busy CPU for a quarter of a second would be one, and lose the bytes in flight on its
    // connection).
    let client = env.client_with(|c| c.reissue_slow_parts = false);
    let src = env.object("f/cut", SIZE);
    for (seed, ckpt) in [(1u64, false), (2, true)] {
        env.faults(Faults {
            rules: vec![get_rule(FaultAction::Cut { bytes: None }).probability(0.4)],
            seed: Some(seed),
        });
        env.emu.clear_log();
        let mut req = env.request("f/cut", "cut");
        req.part_size = PS;
        req.thread_num = 4;
        if ckpt {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        download(&client, &req, SIZE).await.0.unwrap();
        assert_same_file(&src, &env.path("cut"));
        let log = gets(&env, "f/cut");
        let cuts: Vec<_> = log
            .iter()
            .filter(|e| e.fault.as_deref().is_some_and(|f| f.contains("cut")))
            .collect();
        assert!(
            cuts.len() >= 3,
            "too few cuts to mean anything: {}",
            cuts.len()
        );
        // Each cut part is asked again from where the client's bytes stopped: at most the
        // bytes the server handed to the connection (some may be lost with the connection).
        let mut resumed_mid_part = 0;
        let mut lost = 0;
        for c in &cuts {
            let (a, b) = parse_range(c.range.as_deref().unwrap());
            let next = log
                .iter()
                .filter(|e| e.seq > c.seq)
                .map(|e| parse_range(e.range.as_deref().unwrap()))
                .find(|&(s, e)| e == b && s >= a && s <= a + c.bytes_sent);
            let Some((s, _)) = next else {
                panic!(
                    "the cut of bytes {a}-{b} after {} bytes was not resumed from its cut point",
                    c.bytes_sent
                )
            };
            lost += a + c.bytes_sent - s;
            if s > a {
                resumed_mid_part += 1;
            }
        }
        assert!(
            resumed_mid_part * 2 >= cuts.len(),
            "only {resumed_mid_part} of {} cuts were resumed mid-part",
            cuts.len()
        );
        // Nothing was fetched twice but the bytes lost in cut connections.
        let fetched: u64 = log.iter().map(|e| e.bytes_sent).sum();
        assert_eq!(fetched, SIZE + lost);
        assert_no_leftovers(&[env.work.path()]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_503_resets_and_malformed_answers_still_give_the_right_bytes() {
    let env = Env::new();
    let client = env.client();
    let src = env.object("f/mixed", SIZE);
    let scenarios: Vec<(&str, Faults)> = vec![
        ("503 burst", Faults::fail_next_gets(6, 503)),
        (
            // A fresh download sends a HEAD only when its first GET failed past the client's
            // retries (4 x 503 here): that HEAD is retried too.
            "HEAD 500",
            Faults::none()
                .with(
                    FaultRule::new(FaultAction::Status {
                        status: 503,
                        code: None,
                    })
                    .method("GET")
                    .count(4),
                )
                .with(
                    FaultRule::new(FaultAction::Status {
                        status: 500,
                        code: None,
                    })
                    .method("HEAD")
                    .count(2),
                ),
        ),
        (
            "resets before the answer",
            Faults::none().with(get_rule(FaultAction::Reset { bytes: None }).count(5)),
        ),
        (
            "resets mid-body",
            Faults::none().with(get_rule(FaultAction::Reset { bytes: Some(5000) }).count(6)),
        ),
        (
            "wrong Content-Range",
            Faults::none().with(get_rule(FaultAction::WrongContentRange { shift: 1 }).count(3)),
        ),
        (
            "short body",
            Faults::none().with(get_rule(FaultAction::ShortBody { bytes: 7 }).count(3)),
        ),
        (
            "long body",
            Faults::none().with(get_rule(FaultAction::LongBody { bytes: 7 }).count(3)),
        ),
        (
            "everything at once",
            Faults {
                rules: vec![
                    get_rule(FaultAction::Cut { bytes: None }).probability(0.2),
                    get_rule(FaultAction::Status {
                        status: 503,
                        code: None,
                    })
                    .count(4),
                    get_rule(FaultAction::Reset { bytes: Some(1) }).count(2),
                    get_rule(FaultAction::Latency { ms: 5 }),
                ],
                seed: Some(7),
            },
        ),
    ];
    for (name, faults) in scenarios {
        for ckpt in [false, true] {
            env.faults(faults.clone());
            let mut req = env.request("f/mixed", "mixed");
            req.part_size = PS;
            req.thread_num = 5;
            if ckpt {
                req.checkpoint_dir = Some(env.ckpt_dir());
            }
            let t0 = Instant::now();
            let (r, _) = download(&client, &req, SIZE).await;
            r.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(t0.elapsed() < Duration::from_secs(20), "{name}: too slow");
            assert_same_file(&src, &env.path("mixed"));
            assert_no_leftovers(&[env.work.path()]);
            std::fs::remove_file(env.path("mixed")).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalls_longer_than_the_idle_timeout_are_resumed() {
    let env = Env::new();
    let client = env.client_with(|c| c.request_timeout = Duration::from_millis(400));
    let src = env.object("f/stall", SIZE);
    env.faults(
        Faults::none().with(
            get_rule(FaultAction::Stall {
                bytes: 3000,
                ms: 1500,
            })
            .count(3),
        ),
    );
    let mut req = env.request("f/stall", "stall");
    req.part_size = PS;
    req.thread_num = 3;
    let t0 = Instant::now();
    download(&client, &req, SIZE).await.0.unwrap();
    assert!(t0.elapsed() < Duration::from_secs(10));
    assert_same_file(&src, &env.path("stall"));
    let resumed = gets(&env, "f/stall")
        .iter()
        .filter(|e| {
            !parse_range(e.range.as_deref().unwrap())
                .0
                .is_multiple_of(PS)
        })
        .count();
    assert!(resumed >= 1, "stalled parts resumed mid-way");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_changed_mid_download_is_reported_and_nothing_corrupt_is_left() {
    let env = Env::new();
    let client = env.client();
    for ckpt in [false, true] {
        let key = format!("f/mutate-{ckpt}");
        env.object(&key, SIZE);
        let old = env.emu.object_meta(BUCKET, &key).unwrap().unwrap().etag;
        env.faults(Faults::none().with(get_rule(FaultAction::Mutate).after(6).count(1)));
        let mut req = env.request(&key, "mut");
        req.part_size = PS;
        req.thread_num = 3;
        if ckpt {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        let e = download(&client, &req, SIZE).await.0.unwrap_err();
        let new = env.emu.object_meta(BUCKET, &key).unwrap().unwrap().etag;
        assert_ne!(old, new);
        assert_eq!(e.kind, ErrorKind::ObjectChanged, "{e}");
        assert_eq!(e.code, "ObjectChanged");
        assert!(e.message.contains(&old) && e.message.contains(&new), "{e}");
        assert!(!env.path("mut").exists());
        assert_no_leftovers(&[env.work.path()]);
        // The next call downloads the new version.
        env.faults(Faults::none());
        download(&client, &req, SIZE).await.0.unwrap();
        assert_same_file(&env.emu.object_path(BUCKET, &key), &env.path("mut"));
        std::fs::remove_file(env.path("mut")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_unrecoverable_failure_stops_the_others() {
    let env = Env::new();
    let client = env.client();
    let size = 200 * PS;
    env.object("f/fast", size);
    env.faults(Faults {
        rules: vec![
            get_rule(FaultAction::Status {
                status: 403,
                code: Some("AccessDenied".into()),
            })
            .after(4)
            .count(1),
            get_rule(FaultAction::Latency { ms: 30 }),
        ],
        seed: None,
    });
    let mut req = env.request("f/fast", "fast");
    req.part_size = PS;
    req.thread_num = 4;
    let e = download(&client, &req, size).await.0.unwrap_err();
    assert_eq!(e.code, "AccessDenied", "{e}");
    // Stopped at once: the GETs sent say it (a bound on the time could not tell a stopped
    // download from a finished one, and a loaded machine could exceed it).
    let n = gets(&env, "f/fast").len();
    assert!(
        n <= 4 + 1 + 4,
        "{n} GETs: the other parts went on after the failure"
    );
    assert_no_leftovers(&[env.work.path()]);
    assert!(!env.path("fast").exists());
}
