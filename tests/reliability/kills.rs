//! Crash safety: download processes SIGKILLed at random instants and inside the narrow windows
//! held open by `OSS_FFI_TEST_PAUSE_AT` (checkpoint write, checkpoint rename, final rename, after
//! it), across sizes, thread counts, part sizes, ranges, network faults and objects overwritten
//! between runs. After every kill the destination is absent, the stale file it replaces, or
//! exactly right, and the checkpoint (if any) is intact; the last run ends byte-identical with no
//! leftovers.
//! Then one download killed at 20 random moments spread over an uninterrupted run's length.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::download::fuzzing;

use crate::child::{self, Outcome, Spec};
use crate::download_support::*;
use crate::tally;

struct Scenario {
    name: &'static str,
    size: u64,
    part: u64,
    threads: u32,
    latency_ms: u64,
    cut_probability: f64,
    range: Option<(i64, i64)>,
    /// Overwrite the object after some kills (the next run must report ObjectChanged).
    overwrite: bool,
    /// A stale file sits at the destination before the first run.
    stale: bool,
}

const STALE: &[u8] = b"an older file at the destination: replaced whole or not at all";

pub fn run(rng: &mut Rng) {
    let per = tally::scale(10, 90);
    let scenarios = [
        Scenario {
            name: "small-1thread",
            size: 700 * KIB + 3,
            part: 100 * KIB,
            threads: 1,
            latency_ms: 15,
            cut_probability: 0.0,
            range: None,
            overwrite: false,
            stale: true,
        },
        Scenario {
            name: "medium-4threads",
            size: 6 * MIB + 12345,
            part: 256 * KIB,
            threads: 4,
            latency_ms: 8,
            cut_probability: 0.0,
            range: None,
            overwrite: false,
            stale: false,
        },
        Scenario {
            name: "many-parts-8threads-cuts",
            size: 4 * MIB + 1,
            part: 100 * KIB,
            threads: 8,
            latency_ms: 5,
            cut_probability: 0.15,
            range: None,
            overwrite: false,
            stale: true,
        },
        Scenario {
            name: "big-parts-3threads",
            size: 9 * MIB - 1,
            part: MIB,
            threads: 3,
            latency_ms: 25,
            cut_probability: 0.0,
            range: None,
            overwrite: true,
            stale: false,
        },
        Scenario {
            name: "one-part",
            size: 150 * KIB,
            part: MIB,
            threads: 2,
            latency_ms: 60,
            cut_probability: 0.0,
            range: None,
            overwrite: false,
            stale: true,
        },
        Scenario {
            name: "ranged-16threads",
            size: 5 * MIB,
            part: 128 * KIB,
            threads: 16,
            latency_ms: 10,
            cut_probability: 0.1,
            range: Some((1000, 3 * MIB as i64 + 7)),
            overwrite: true,
            stale: false,
        },
    ];
    let env = Env::new();
    for sc in &scenarios {
        let t0 = Instant::now();
        let kills = scenario(&env, sc, per, rng);
        println!(
            "    kills/{}: {kills} kills in {:.1}s",
            sc.name,
            t0.elapsed().as_secs_f64()
        );
    }
    sigkill_at_20_random_moments_then_resume(rng);
}

/// A 24 MiB download with 4 threads killed at 20 random moments of a run (spread over the
/// length of an uninterrupted run), then run to the end: whatever the moment, the destination
/// is absent or complete and right, and the last run ends byte-identical with no leftovers.
fn sigkill_at_20_random_moments_then_resume(rng: &mut Rng) {
    let env = Env::new();
    let size = 24 * MIB + 12345;
    let key = "kill/obj";
    let src = env.object(key, size);
    // A little latency per request so that a run lasts long enough to be hit anywhere.
    env.slow_gets(10);
    let dest = env.path("killed.bin");
    let ckpt = env.ckpt_dir();
    let spec = child::Spec {
        endpoint: env.emu.endpoint(),
        key: key.into(),
        dest: dest.clone(),
        ckpt: Some(ckpt.clone()),
        part: 256 * KIB,
        threads: 4,
        range: None,
        total: size,
    };
    // How long an uninterrupted run takes, to spread the kills over it.
    let t0 = Instant::now();
    assert_eq!(
        child::run(&spec, "kills/random-moments: first run"),
        Outcome::Ok
    );
    let full = t0.elapsed();
    assert_same_file(&src, &dest);
    std::fs::remove_file(&dest).unwrap();

    println!("    kills/random-moments: uninterrupted run {full:?}");
    let (mut killed, mut finished) = (0, 0);
    // 20 kills that hit a running download (a resumed run is shorter, so some runs finish
    // before their kill: those count as runs, not kills).
    for i in 0..60 {
        if killed == 20 {
            break;
        }
        let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 11 / 10));
        let c = child::spawn(&spec, None);
        std::thread::sleep(at);
        let still_running = c.kill(); // SIGKILL
        if still_running {
            killed += 1;
        } else {
            finished += 1;
        }
        // Whatever the moment, the destination is absent or complete and right.
        if dest.exists() {
            assert_same_file(&src, &dest);
            std::fs::remove_file(&dest).unwrap();
            assert!(
                checkpoint_in(&ckpt).is_none() || still_running,
                "kill {i}: a finished run left its checkpoint"
            );
        }
    }
    println!(
        "    kills/random-moments: {killed} runs killed, {finished} finished before their kill"
    );
    assert!(
        killed >= 15,
        "only {killed} of the 20 kills hit a running download"
    );
    assert_eq!(
        child::run(&spec, "kills/random-moments: last run"),
        Outcome::Ok
    );
    assert_same_file(&src, &dest);
    assert_no_leftovers(&[env.work.path()]);
}

fn expected(src: &Path, range: Option<(i64, i64)>) -> Vec<u8> {
    let all = std::fs::read(src).unwrap();
    match range {
        None => all,
        Some((a, b)) => {
            let last = if b < 0 {
                all.len() - 1
            } else {
                (b as usize).min(all.len() - 1)
            };
            all[a as usize..=last].to_vec()
        }
    }
}

/// The destination is absent, the stale file, or right; returns whether it is complete and right.
fn check_dest(dest: &Path, want: &[u8], stale: bool, what: &str) -> bool {
    let Ok(got) = std::fs::read(dest) else {
        return false;
    };
    if got == want {
        tally::inc(&tally::VERIFIED_FILES);
        return true;
    }
    if stale && got == STALE {
        return false;
    }
    tally::inc(&tally::CORRUPT);
    panic!(
        "CORRUPT destination after {what}: {} bytes, not the object's {} (nor the stale file)",
        got.len(),
        want.len()
    );
}

/// A checkpoint left by a killed process must be whole (the old or the new one, never torn).
fn check_checkpoint(ckpt_dir: &Path, what: &str) -> bool {
    let Some(cp) = checkpoint_in(ckpt_dir) else {
        return false;
    };
    let bytes = std::fs::read(&cp).unwrap();
    if let Err(e) = fuzzing::checkpoint_reencode(&bytes) {
        tally::inc(&tally::CORRUPT);
        panic!("CORRUPT checkpoint after {what}: {e}");
    }
    true
}

fn reset_dest(dest: &Path, stale: bool) {
    let _ = std::fs::remove_file(dest);
    if stale {
        std::fs::write(dest, STALE).unwrap();
    }
}

fn scenario(env: &Env, sc: &Scenario, per: u64, rng: &mut Rng) -> u64 {
    let key = format!("kill/{}", sc.name);
    let src = env.object(&key, sc.size);
    let mut rules = vec![FaultRule::new(FaultAction::Latency { ms: sc.latency_ms })];
    if sc.cut_probability > 0.0 {
        rules.push(
            FaultRule::new(FaultAction::Cut { bytes: None })
                .method("GET")
                .ranged(true)
                .probability(sc.cut_probability),
        );
    }
    env.faults(Faults {
        rules,
        seed: Some(rng.next()),
    });
    let dest = env.path(sc.name);
    let ckpt = env.ckpt_dir();
    let (first, total) =
        oss_ffi::download::plan::resolve_range(sc.range, sc.size).expect("a valid range");
    let _ = first;
    let spec = Spec {
        endpoint: env.emu.endpoint(),
        key: key.clone(),
        dest: dest.clone(),
        ckpt: Some(ckpt.clone()),
        part: sc.part,
        threads: sc.threads,
        range: sc.range,
        total,
    };
    let mut want = expected(&src, sc.range);

    // One uninterrupted run: its duration spreads the random kills.
    reset_dest(&dest, sc.stale);
    let t0 = Instant::now();
    assert_eq!(child::run(&spec, "an uninterrupted run"), Outcome::Ok);
    let full = t0.elapsed();
    assert!(check_dest(&dest, &want, false, "an uninterrupted run"));
    assert_no_leftovers(&[env.work.path()]);
    reset_dest(&dest, sc.stale);

    let mut kills = 0u64;
    let mut version = 1u64;
    let mut iter = 0u64;
    while kills < per && iter < per * 4 {
        iter += 1;
        let mode = rng.below(10);
        let what = format!("{} run {iter} (mode {mode})", sc.name);
        let hit = match mode {
            0..=3 => {
                let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 11 / 10));
                let r = child::spawn(&spec, None);
                std::thread::sleep(at);
                r.kill()
            }
            4 => {
                // Before the first byte: process start-up, validation, lock, HEAD.
                let r = child::spawn(&spec, None);
                std::thread::sleep(Duration::from_micros(rng.below(25_000)));
                r.kill()
            }
            _ => {
                let point = match mode {
                    5 | 6 => format!("checkpoint_write@{}", 1 + rng.below(3)),
                    7 => format!("checkpoint_rename@{}", 1 + rng.below(3)),
                    8 => "rename".to_string(),
                    _ => "after_rename".to_string(),
                };
                let mut r = child::spawn(&spec, Some(&point));
                if r.wait_paused(90) {
                    let hit = r.kill();
                    if hit {
                        tally::inc(&tally::PAUSED_KILLS);
                    }
                    hit
                } else {
                    // It never reached that point (e.g. fewer checkpoint writes in a resumed run).
                    match r.finish(&what) {
                        Outcome::Ok => {}
                        Outcome::Err(e) => panic!("{what}: {e}"),
                    }
                    false
                }
            }
        };
        if hit {
            kills += 1;
        }
        let complete = check_dest(&dest, &want, sc.stale, &what);
        let had_ckpt = check_checkpoint(&ckpt, &what);
        if complete {
            reset_dest(&dest, sc.stale);
        }
        if sc.overwrite && hit && rng.below(4) == 0 {
            // The object is replaced between two runs.
            version += 1;
            tally::inc(&tally::OBJECT_CHANGES);
            let data = bytes(sc.size as usize, rng.next() ^ version);
            env.emu.put_object(BUCKET, &key, &data).unwrap();
            want = expected(&src, sc.range);
            let what = format!("{what}, then an overwrite");
            match child::run(&spec, &what) {
                Outcome::Err(e) if had_ckpt => {
                    assert!(e.starts_with("ObjectChanged"), "{what}: {e}");
                    assert!(
                        checkpoint_in(&ckpt).is_none(),
                        "{what}: stale checkpoint kept"
                    );
                    assert!(
                        !child::exists(&PathBuf::from(format!("{}.temp", dest.display()))),
                        "{what}: stale temp kept"
                    );
                }
                Outcome::Ok if !had_ckpt => {
                    assert!(check_dest(&dest, &want, false, &what));
                    reset_dest(&dest, sc.stale);
                }
                other => panic!("{what}: had a checkpoint: {had_ckpt}, got {other:?}"),
            }
        }
    }
    // The last run completes; everything it left behind is cleaned up.
    assert_eq!(child::run(&spec, "the final run"), Outcome::Ok);
    assert!(check_dest(&dest, &want, false, "the final run"));
    assert_no_leftovers(&[env.work.path()]);
    std::fs::remove_file(&dest).unwrap();
    tally::count_server_faults(&env.emu);
    assert!(
        kills >= per,
        "{}: only {kills} of {per} kills hit a running download",
        sc.name
    );
    kills
}
