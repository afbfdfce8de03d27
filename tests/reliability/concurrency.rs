//! Concurrency faults: the object overwritten mid-download and between resume attempts (a clear
//! ObjectChanged, no mixed content, stale state removed, the next call gets the new version);
//! two processes (and two threads) downloading to the same destination at once; many downloads
//! in parallel on one shared client from many threads; cancellation from another thread at
//! random moments, then resume.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::cancel::Cancel;
use oss_ffi::download::MIN_PART_SIZE;
use oss_ffi::ErrorKind;
use tokio_util::sync::CancellationToken;

use crate::child::{self, Outcome, Spec};
use crate::download_support::*;
use crate::faults::{attempt, runtime, verify};
use crate::tally;

const PS: u64 = MIN_PART_SIZE;

pub fn run(rng: &mut Rng) {
    let rt = runtime();
    let env = Env::new();
    rt.block_on(overwritten_mid_download(&env, rng));
    rt.block_on(overwritten_between_attempts(&env, rng));
    rt.block_on(cancel_from_another_thread(&env, rng));
    many_threads_one_client(&env, &rt, rng);
    two_downloads_one_destination(&env, &rt, rng);
    tally::count_server_faults(&env.emu);
}

fn no_state_left(env: &Env, what: &str) {
    let l = leftovers(&[env.work.path()]);
    assert!(l.is_empty(), "{what}: stale state left: {l:?}");
}

async fn overwritten_mid_download(env: &Env, rng: &mut Rng) {
    let client = env.client();
    for round in 0..tally::scale(4, 40) {
        let key = format!("conc/mutate{round}");
        let size = 12 * PS + rng.below(PS);
        let src = env.object(&key, size);
        let mut req = env.request(&key, "mutate.bin");
        req.part_size = PS;
        req.thread_num = 1 + rng.below(6) as u32;
        if rng.below(2) == 0 {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        // At the 2nd..10th GET: the first GET starts a fresh download (no HEAD), so an object
        // replaced before it is served is simply the object downloaded, not a change mid-way.
        let after = 1 + rng.below(9);
        env.faults(
            Faults::none().with(
                FaultRule::new(FaultAction::Mutate)
                    .method("GET")
                    .ranged(true)
                    .after(after)
                    .count(1),
            ),
        );
        tally::inc(&tally::OBJECT_CHANGES);
        let what = format!("mutate round {round} after {after} GETs, {req:?}");
        let e = attempt(&client, &req, &src, 60, &what)
            .await
            .expect_err("an object changed mid-download must fail");
        assert_eq!(e.kind, ErrorKind::ObjectChanged, "{what}: {e}");
        assert!(e.message.contains("changed"), "{what}: unclear: {e}");
        no_state_left(env, &what);
        env.faults(Faults::none());
        // The next call downloads the new version.
        attempt(&client, &req, &src, 60, &format!("{what}, next call"))
            .await
            .unwrap();
        std::fs::remove_file(env.path("mutate.bin")).unwrap();
    }
}

async fn overwritten_between_attempts(env: &Env, rng: &mut Rng) {
    let client = env.client();
    for round in 0..tally::scale(3, 30) {
        let key = format!("conc/between{round}");
        let size = 20 * PS + rng.below(PS);
        let src = env.object(&key, size);
        let mut req = env.request(&key, "between.bin");
        req.part_size = PS;
        req.thread_num = 1 + rng.below(2) as u32;
        req.checkpoint_dir = Some(env.ckpt_dir());
        // Slow enough for the (paced) progress callback to see the middle of the download.
        env.faults(Faults::none().with(FaultRule::new(FaultAction::Latency { ms: 25 })));
        // Interrupted (cancelled from the progress callback) at a random point...
        let at = PS + rng.below(size / 2);
        let token = CancellationToken::new();
        let progress = Arc::new(Progress::default());
        let t = token.clone();
        *progress.hook.lock().unwrap() = Some(Box::new(move |done, _| {
            if done >= at {
                t.cancel();
            }
        }));
        let what = format!("between-attempts round {round}");
        let (r, _) = tally::deadline(
            &what,
            60,
            download_with(&client, &req, size, &Cancel::new().with(token), progress),
        )
        .await;
        tally::inc(&tally::DOWNLOADS);
        let e = r.expect_err("cancelled");
        assert_eq!(e.kind, ErrorKind::Cancelled, "{what}: {e}");
        assert!(
            checkpoint_in(&env.ckpt_dir()).is_some(),
            "{what}: no checkpoint"
        );
        // ...the object replaced (same size: only the identity tells)...
        env.emu
            .put_object(BUCKET, &key, &bytes(size as usize, rng.next()))
            .unwrap();
        tally::inc(&tally::OBJECT_CHANGES);
        env.faults(Faults::none());
        // ...the resume is refused clearly and removes the stale state...
        let e = attempt(&client, &req, &src, 60, &what)
            .await
            .expect_err("resuming into a changed object must fail");
        assert_eq!(e.kind, ErrorKind::ObjectChanged, "{what}: {e}");
        no_state_left(env, &what);
        // ...and the next call gets the new version whole.
        attempt(&client, &req, &src, 60, &what).await.unwrap();
        std::fs::remove_file(env.path("between.bin")).unwrap();
    }
}

async fn cancel_from_another_thread(env: &Env, rng: &mut Rng) {
    let client = env.client();
    let size = 40 * PS + 5;
    let src = env.object("conc/cancel", size);
    env.faults(Faults::none().with(FaultRule::new(FaultAction::Latency { ms: 8 })));
    let mut slowest = Duration::ZERO;
    let (mut cancelled, mut finished) = (0, 0);
    for round in 0..tally::scale(8, 100) {
        let mut req = env.request("conc/cancel", "cancel.bin");
        req.part_size = PS;
        req.thread_num = 1 + rng.below(8) as u32;
        req.checkpoint_dir = Some(env.ckpt_dir());
        let token = CancellationToken::new();
        let at = Duration::from_micros(rng.below(400_000));
        let t = token.clone();
        let when = Arc::new(std::sync::Mutex::new(None));
        let w = when.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(at);
            *w.lock().unwrap() = Some(Instant::now());
            t.cancel();
        });
        let what = format!("cancel round {round} at {at:?}");
        let (r, _) = tally::deadline(
            &what,
            60,
            download_with(
                &client,
                &req,
                size,
                &Cancel::new().with(token),
                Arc::new(Progress::default()),
            ),
        )
        .await;
        let returned = Instant::now();
        tally::inc(&tally::DOWNLOADS);
        canceller.join().unwrap();
        match r {
            Ok(_) => {
                finished += 1;
                verify(&env.path("cancel.bin"), &src, &what);
            }
            Err(e) => {
                tally::scan_error(&e);
                assert_eq!(e.kind, ErrorKind::Cancelled, "{what}: {e}");
                cancelled += 1;
                let latency = returned - when.lock().unwrap().expect("cancelled");
                slowest = slowest.max(latency);
                assert!(
                    latency < Duration::from_secs(3),
                    "{what}: slow cancel {latency:?}"
                );
                assert!(!env.path("cancel.bin").exists());
                // Resume.
                attempt(&client, &req, &src, 60, &format!("{what}, resumed"))
                    .await
                    .unwrap();
            }
        }
        std::fs::remove_file(env.path("cancel.bin")).unwrap();
        no_state_left(env, &what);
    }
    env.faults(Faults::none());
    println!(
        "    cancel: {cancelled} cancelled (slowest return {slowest:?}), {finished} finished first"
    );
}

fn many_threads_one_client(env: &Env, rt: &tokio::runtime::Runtime, rng: &mut Rng) {
    let client = env.client();
    let objects: Vec<(String, std::path::PathBuf)> = (0..4)
        .map(|i| {
            let key = format!("conc/shared{i}");
            let src = env.object(&key, rng.below(2 * MIB) + i);
            (key, src)
        })
        .collect();
    env.faults(Faults {
        rules: vec![FaultRule::new(FaultAction::Cut { bytes: None })
            .method("GET")
            .probability(0.05)],
        seed: Some(rng.next()),
    });
    let threads = tally::scale(12, 32);
    let per = tally::scale(2, 6);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let client = client.clone();
            let handle = rt.handle().clone();
            let objects = objects.clone();
            let work = env.work.path().to_path_buf();
            let seed = rng.next();
            std::thread::spawn(move || {
                let mut rng = Rng(seed | 1);
                for i in 0..per {
                    let (key, src) = &objects[rng.below(objects.len() as u64) as usize];
                    let mut req = oss_ffi::download::DownloadRequest::new(BUCKET, key.clone());
                    req.file_path = Some(work.join(format!("shared-{t}-{i}.bin")));
                    req.part_size = PS + rng.below(PS);
                    req.thread_num = 1 + rng.below(4) as u32;
                    if rng.below(2) == 0 {
                        req.checkpoint_dir = Some(work.join("ckpt"));
                    }
                    let what = format!("thread {t} download {i}");
                    handle
                        .block_on(attempt(&client, &req, src, 120, &what))
                        .unwrap();
                    std::fs::remove_file(req.file_path.unwrap()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        if let Err(p) = h.join() {
            std::panic::resume_unwind(p);
        }
    }
    env.faults(Faults::none());
    assert_no_leftovers(&[env.work.path()]);
    println!("    {threads} threads x {per} downloads on one client: all right");
}

fn two_downloads_one_destination(env: &Env, rt: &tokio::runtime::Runtime, rng: &mut Rng) {
    let size = 30 * PS;
    let src = env.object("conc/same", size);
    env.faults(Faults::none().with(FaultRule::new(FaultAction::Latency { ms: 10 })));
    let dest = env.path("same.bin");
    let spec = Spec {
        endpoint: env.emu.endpoint(),
        key: "conc/same".into(),
        dest: dest.clone(),
        ckpt: Some(env.ckpt_dir()),
        part: PS,
        threads: 3,
        range: None,
        total: size,
    };
    let (mut both_ok, mut one_locked) = (0, 0);
    for round in 0..tally::scale(3, 20) {
        // Two processes at once.
        let a = child::spawn(&spec, None);
        std::thread::sleep(Duration::from_micros(rng.below(30_000)));
        let b = child::spawn(&spec, None);
        let what = format!("two processes, round {round}");
        let (ra, rb) = (a.finish(&what), b.finish(&what));
        for r in [&ra, &rb] {
            match r {
                Outcome::Ok => {}
                Outcome::Err(e) if e.starts_with("FileLocked") => one_locked += 1,
                Outcome::Err(e) => panic!("{what}: {e}"),
            }
        }
        assert!(
            ra == Outcome::Ok || rb == Outcome::Ok,
            "{what}: neither finished"
        );
        if ra == Outcome::Ok && rb == Outcome::Ok {
            both_ok += 1;
        }
        verify(&dest, &src, &what);
        std::fs::remove_file(&dest).unwrap();
        assert_no_leftovers(&[env.work.path()]);
    }
    // Two threads of one process at once, on one client.
    let client = env.client();
    let mut req = env.request("conc/same", "same.bin");
    req.part_size = PS;
    req.checkpoint_dir = Some(env.ckpt_dir());
    let results: Vec<_> = rt.block_on(async {
        let a = attempt(&client, &req, &src, 60, "thread A");
        let b = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            attempt(&client, &req, &src, 60, "thread B").await
        };
        let (a, b) = tokio::join!(a, b);
        vec![a, b]
    });
    let locked = results
        .iter()
        .filter(|r| r.as_ref().is_err_and(|e| e.code == "FileLocked"))
        .count();
    assert!(results.iter().any(|r| r.is_ok()), "{results:?}");
    assert_eq!(locked + results.iter().filter(|r| r.is_ok()).count(), 2);
    verify(&dest, &src, "two threads");
    std::fs::remove_file(&dest).unwrap();
    env.faults(Faults::none());
    assert_no_leftovers(&[env.work.path()]);
    println!("    same destination: {one_locked} refused with FileLocked, {both_ok} rounds where both finished one after the other");
}
