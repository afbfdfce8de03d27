//! Power cuts: downloads on a file system that loses what was not synced (`powerfs.rs`, an
//! in-memory FUSE file system). Each cut SIGKILLs the download process and, at the same instant,
//! throws away the file system's unsynced writes (all, none, a random subset of pages, or torn at
//! a byte or page boundary) and a random prefix of its unsynced metadata operations; the file
//! system is remounted from what survived and the download resumed in a new process.
//!
//! Cuts land at a random instant or exactly at the n-th data write, sync or metadata operation of
//! a run (held in the file system, before or after it is applied), n drawn from the counts of an
//! uninterrupted run. After every cut: the destination is absent, the stale file, or complete and
//! byte-identical; a checkpoint left parses; every part it records as finished has, in the temp
//! file that survived, the CRC64 it records (unless the temp file is gone or has the wrong size,
//! which the downloader detects and discards). Resumed downloads complete byte-identical.
//!
//! Needs FUSE (root and /dev/fuse); without it the phase is skipped with a note, unless
//! `OSS_TEST_REQUIRE_FUSE=1` (set by scripts/test.sh when it runs as root with /dev/fuse), which
//! makes it fail.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::download::fuzzing;

use crate::child::{self, Outcome, Spec};
use crate::download_support::*;
use crate::powerfs::{
    self, DataLoss, MetaLoss, Model, OpClass, PowerFs, Trip, DATA_LOSSES, OP_CLASSES,
};
use crate::tally;

const STALE: &[u8] = b"an older file at the destination: replaced whole or not at all";

struct Scenario {
    name: &'static str,
    model: Model,
    size: u64,
    part: u64,
    threads: u32,
    /// The checkpoint directory is the destination's directory (else a sibling directory).
    same_dir: bool,
    stale: bool,
    range: Option<(i64, i64)>,
    /// Added to every part request, so that a run lasts about a second and records parts in its
    /// checkpoint a few times (every 500 ms) before it ends.
    latency_ms: u64,
}

pub fn run(rng: &mut Rng) {
    let require = std::env::var("OSS_TEST_REQUIRE_FUSE").is_ok_and(|v| v == "1");
    // Mounts leaked by an earlier run that died without its destructors (never another live
    // process's: other test runs may share the machine).
    for m in powerfs::orphaned_mounts() {
        powerfs::lazy_unmount(&m);
    }
    let base = tempfile::tempdir().unwrap();
    let mnt = base.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    if let Err(why) = powerfs::probe(&mnt) {
        if require {
            panic!("OSS_TEST_REQUIRE_FUSE=1 but FUSE cannot be mounted here: {why}");
        }
        tally::note(format!(
            "power: skipped, FUSE cannot be mounted here ({why}); no power cut was simulated"
        ));
        return;
    }
    // A hang guard of the phase's own: past it, every mount goes (the downloads then fail).
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = done.clone();
        let limit = Duration::from_secs(tally::scale(600, 3600));
        std::thread::spawn(move || {
            let t0 = Instant::now();
            while t0.elapsed() < limit {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            tally::inc(&tally::HANGS);
            eprintln!("HANG: the power phase exceeded {limit:?}; unmounting its file systems");
            powerfs::emergency_unmount();
        });
    }
    let per = tally::scale(10, 100);
    let scenarios = [
        Scenario {
            name: "ordered-1thread-stale",
            model: Model::Ordered,
            size: 700 * KIB + 3,
            part: 100 * KIB,
            threads: 1,
            same_dir: false,
            stale: true,
            range: None,
            latency_ms: 150,
        },
        Scenario {
            name: "ordered-4threads",
            model: Model::Ordered,
            size: 2 * MIB + 12345,
            part: 256 * KIB,
            threads: 4,
            same_dir: false,
            stale: false,
            range: None,
            latency_ms: 350,
        },
        Scenario {
            name: "strict-same-dir-8threads",
            model: Model::Strict,
            size: 3 * MIB / 2 + 1,
            part: 100 * KIB,
            threads: 8,
            same_dir: true,
            stale: true,
            range: None,
            latency_ms: 500,
        },
        Scenario {
            name: "ordered-ranged",
            model: Model::Ordered,
            size: 3 * MIB,
            part: 128 * KIB,
            threads: 3,
            same_dir: true,
            stale: false,
            range: Some((1000, 2 * MIB as i64 + 7)),
            latency_ms: 180,
        },
    ];
    let env = Env::new();
    for sc in &scenarios {
        let t0 = Instant::now();
        let cuts = scenario(&env, &mnt, sc, per, rng);
        println!(
            "    power/{}: {cuts} cuts in {:.1}s",
            sc.name,
            t0.elapsed().as_secs_f64()
        );
    }
    temp_dir_sequences(&env, &mnt, rng);
    println!(
        "    power: {} opens with O_DIRECT (the library's direct-I/O write path{})",
        powerfs::DIRECT_OPENS.load(Ordering::Relaxed),
        if powerfs::DIRECT_OPENS.load(Ordering::Relaxed) == 0 {
            " did not reach this file system: the cuts covered buffered writes only"
        } else {
            ": cut like every other write"
        }
    );
    done.store(true, Ordering::SeqCst);
    assert!(
        powerfs::our_mounts().is_empty(),
        "power: mounts left: {:?}",
        powerfs::our_mounts()
    );
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

struct Ctx<'a> {
    fs: &'a PowerFs,
    sc: &'a Scenario,
    spec: Spec,
    want: Vec<u8>,
    dest: PathBuf,
    dirs: Vec<PathBuf>,
}

impl<'a> Ctx<'a> {
    fn rel<'p>(&self, p: &'p Path) -> &'p Path {
        powerfs::rel(self.fs, p)
    }

    /// The destination as the next run finds it: absent, or the stale file (durably).
    fn reset(&self) {
        self.fs.remove_durable(self.rel(&self.dest));
        if self.sc.stale {
            self.fs.put_durable(self.rel(&self.dest), STALE);
        }
    }

    /// The destination is absent, the stale file or right; returns whether it is right.
    fn check_dest(&self, what: &str) -> bool {
        match self.fs.read(self.rel(&self.dest)) {
            None => false,
            Some(got) if got == self.want => {
                tally::inc(&tally::VERIFIED_FILES);
                true
            }
            Some(got) if self.sc.stale && got == STALE => false,
            Some(got) => {
                tally::inc(&tally::CORRUPT);
                panic!(
                    "CORRUPT destination after {what}: {} bytes, not the object's {} (nor the stale file)",
                    got.len(),
                    self.want.len()
                );
            }
        }
    }

    /// A checkpoint that survived must parse, and every part it records must be on disk;
    /// returns the number of parts it claims that are not.
    fn check_checkpoint(&self, what: &str) -> u64 {
        let mut lost = 0;
        let dir = self.spec.ckpt.as_ref().unwrap();
        for name in self.fs.list(self.rel(dir)) {
            let name = name.to_string_lossy().into_owned();
            if !(name.starts_with("oss-download-") && name.ends_with(".ckpt")) {
                continue;
            }
            let bytes = self.fs.read(&self.rel(dir).join(&name)).unwrap_or_default();
            let json = match fuzzing::checkpoint_reencode(&bytes) {
                Ok(j) => j,
                Err(e) => {
                    tally::inc(&tally::CORRUPT);
                    panic!("CORRUPT checkpoint after {what}: {e}");
                }
            };
            tally::inc(&tally::CKPTS_CHECKED);
            let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            let rec = &v["checkpoint"];
            let first = rec["first"].as_u64().unwrap();
            let total = rec["total"].as_u64().unwrap();
            let temp = PathBuf::from(rec["temp_path"].as_str().unwrap());
            let parts = rec["parts"].as_array().unwrap();
            let Some(data) = self.fs.read(self.rel(&temp)) else {
                // No temp file: the next run discards the checkpoint.
                continue;
            };
            if data.len() as u64 != total {
                continue; // the wrong size: discarded too
            }
            for p in parts {
                let off = p["offset"].as_u64().unwrap() - first;
                let size = p["size"].as_u64().unwrap();
                let crc = p["crc64"].as_u64().unwrap();
                tally::inc(&tally::CLAIMS_CHECKED);
                let got = oss_ffi::crc64::checksum(&data[off as usize..(off + size) as usize]);
                if got != crc {
                    lost += 1;
                    tally::inc(&tally::LOST_CLAIMS);
                    eprintln!(
                        "LOST CLAIM after {what}: the checkpoint records part {} (offset {off}, {size} bytes, CRC {crc}) \
                         but the temp file that survived has CRC {got} there",
                        p["index"]
                    );
                }
            }
        }
        lost
    }

    /// Only the destination is left in the directories.
    fn check_no_leftovers(&self, what: &str) {
        let dest_name = self.dest.file_name().unwrap();
        for d in &self.dirs {
            let left: Vec<_> = self
                .fs
                .list(self.rel(d))
                .into_iter()
                .filter(|n| n != dest_name && !self.dirs.iter().any(|x| x.file_name() == Some(n)))
                .collect();
            assert!(left.is_empty(), "{what}: left behind in {d:?}: {left:?}");
        }
    }

    /// One uninterrupted run on a fresh mount: it must complete, byte-identical, leaving nothing.
    fn complete(&self, what: &str) -> Duration {
        self.fs.arm(None);
        let m = self.fs.mount().expect("mount");
        let t0 = Instant::now();
        let out = child::run(&self.spec, what);
        let took = t0.elapsed();
        drop(m);
        assert_eq!(out, Outcome::Ok, "{what}");
        assert!(
            self.check_dest(what),
            "{what}: the destination is not right"
        );
        self.check_no_leftovers(what);
        took
    }
}

/// Sets up `sc` on a fresh file system at `mnt` and runs `f` on it.
fn with_ctx<R>(
    env: &Env,
    mnt: &Path,
    sc: &Scenario,
    rng: &mut Rng,
    f: impl FnOnce(&Ctx, &mut Rng) -> R,
) -> R {
    let fs = PowerFs::new(sc.model, mnt);
    let dl = fs.mountpoint.join("dl");
    let ckpt = if sc.same_dir {
        dl.clone()
    } else {
        fs.mountpoint.join("ckpt")
    };
    fs.mkdir_durable(powerfs::rel(&fs, &dl));
    fs.mkdir_durable(powerfs::rel(&fs, &ckpt));
    let key = format!("power/{}", sc.name);
    let src = env.object(&key, sc.size);
    env.faults(Faults {
        rules: vec![FaultRule::new(FaultAction::Latency { ms: sc.latency_ms })
            .method("GET")
            .ranged(true)],
        seed: Some(rng.next()),
    });
    let (_, total) = oss_ffi::download::plan::resolve_range(sc.range, sc.size).unwrap();
    let dest = dl.join(sc.name);
    let cx = Ctx {
        fs: &fs,
        sc,
        spec: Spec {
            endpoint: env.emu.endpoint(),
            key,
            dest: dest.clone(),
            ckpt: Some(ckpt.clone()),
            part: sc.part,
            threads: sc.threads,
            range: sc.range,
            total,
        },
        want: expected(&src, sc.range),
        dest,
        dirs: if sc.same_dir {
            vec![dl.clone()]
        } else {
            vec![dl.clone(), ckpt.clone()]
        },
    };
    f(&cx, rng)
}

fn scenario(env: &Env, mnt: &Path, sc: &Scenario, per: u64, rng: &mut Rng) -> u64 {
    with_ctx(env, mnt, sc, rng, |cx, rng| cut_loop(cx, per, rng))
}

fn cut_loop(cx: &Ctx, per: u64, rng: &mut Rng) -> u64 {
    let (fs, sc) = (cx.fs, cx.sc);

    // An uninterrupted run: its duration spreads the timed cuts, its operation counts the others.
    cx.reset();
    let full = cx.complete(&format!("{}: an uninterrupted run", sc.name));
    let counts = fs.counts();
    cx.reset();

    let mut cuts = 0u64;
    let mut iter = 0u64;
    while cuts < per && iter < per * 4 {
        iter += 1;
        let trip = if rng.below(4) == 0 {
            None
        } else {
            let class = OP_CLASSES[rng.below(OP_CLASSES.len() as u64) as usize];
            let n = counts.get(&class).copied().unwrap_or(0);
            (n > 0).then(|| Trip {
                class,
                n: 1 + rng.below(n),
                after: rng.below(2) == 0,
            })
        };
        let loss = DATA_LOSSES[rng.below(DATA_LOSSES.len() as u64) as usize];
        let what = format!(
            "{} cut {iter} ({}, {loss:?}; replay with OSS_FFI_SEED)",
            sc.name,
            match trip {
                Some(t) => format!(
                    "held {} the {}th {:?} operation",
                    if t.after { "after" } else { "before" },
                    t.n,
                    t.class
                ),
                None => "at a random instant".into(),
            }
        );
        fs.arm(trip);
        let m = fs.mount().expect("mount");
        let mut r = child::spawn(&cx.spec, None);
        let running = match trip {
            Some(_) => {
                let t0 = Instant::now();
                loop {
                    if fs.wait_tripped(Duration::from_millis(20)) {
                        break true;
                    }
                    if r.child.try_wait().unwrap().is_some() {
                        // It ended first (a resumed run does fewer operations).
                        break fs.wait_tripped(Duration::ZERO);
                    }
                    if t0.elapsed() > Duration::from_secs(120) {
                        let _ = r.child.kill();
                        tally::inc(&tally::HANGS);
                        panic!("HANG: {what}: the child neither reached the cut nor ended");
                    }
                }
            }
            None => {
                let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 11 / 10 + 1));
                std::thread::sleep(at);
                r.child.try_wait().unwrap().is_none()
            }
        };
        if !running {
            drop(m);
            match r.finish(&what) {
                Outcome::Ok => {}
                Outcome::Err(e) => panic!("{what}: the download failed: {e}"),
            }
            assert!(cx.check_dest(&what), "{what}: ended without the file");
            cx.reset();
            continue;
        }
        // The process dies and the power goes at the same instant.
        let _ = r.child.kill();
        fs.freeze();
        tally::wait_child(&mut r.child, &what, 60);
        drop(r);
        drop(m);
        tally::inc(&tally::KILLS);
        let rep = fs.crash(rng, loss);
        cuts += 1;
        tally::inc(&tally::POWER_CUTS);
        if trip.is_some() {
            tally::inc(&tally::PLACED_CUTS);
        }
        tally::add(&tally::TORN_WRITES, rep.torn);
        tally::add(&tally::WRITES_LOST, rep.data_ops_dropped);
        tally::add(&tally::META_LOST, rep.meta_ops_dropped);
        tally::add(&tally::FAULTS, 1);

        let complete = cx.check_dest(&what);
        cx.check_checkpoint(&what);
        if complete {
            cx.reset();
        }
        // Half the time the resume runs to the end at once; otherwise the next cut hits it.
        if rng.below(2) == 0 {
            cx.complete(&format!("{what}, then a resume"));
            cx.reset();
        }
    }
    cx.complete(&format!("{}: the final run", sc.name));
    fs.remove_durable(powerfs::rel(fs, &cx.dest));
    assert!(
        cuts >= per,
        "{}: only {cuts} of {per} cuts hit a running download",
        sc.name
    );
    cuts
}

/// The fate of the temp file's directory entry: a deterministic sequence of two cuts.
///
/// Found by this phase, under [`Model::Strict`] with the checkpoint directory
/// apart from the destination's: `TempFile::create` unlinks an old `<dest>.temp` and creates a new
/// one, and nothing made that durable before the checkpoint recorded parts written into the new
/// file (fsync(2) of a file does not make its name durable). Sequence:
/// 1. run 1 is cut right after the temp file was created and preallocated, before any
///    checkpoint: its name and size survive, its data not: `<dest>.temp` = the object's size in
///    zeros, no checkpoint;
/// 2. run 2 finds no checkpoint, replaces the temp file, downloads parts, fdatasyncs them and
///    saves a checkpoint; it is cut at its `sync_n`-th sync with every unsynced name lost: before
///    the fix the old zero-filled temp came back under a checkpoint recording parts it never held;
/// 3. the resume must end with the right file. (Before the resume checked the temp's identity and
///    re-read its parts, it trusted such a checkpoint and renamed zeros into place; since then the temp's identity and the re-read catch it, but the
///    checkpoint on disk still claimed lost bytes.)
///
/// Fixed: the downloader fsyncs the temp file's directory after creating it when a checkpoint is
/// used. Runs under both models at several cut points, every CI run.
///
/// Returns (lost claims after cut 2, whether the final file is corrupt).
fn temp_dir_sequence(cx: &Ctx, rng: &mut Rng, sync_n: u64) -> (u64, bool) {
    let fs = cx.fs;
    let what = format!("{}: temp-directory sequence", cx.sc.name);
    let cut = |trip: Trip, loss: DataLoss, meta: MetaLoss, rng: &mut Rng| {
        fs.arm(Some(trip));
        let m = fs.mount().expect("mount");
        let mut r = child::spawn(&cx.spec, None);
        assert!(
            fs.wait_tripped(Duration::from_secs(60)),
            "{what}: the run never reached {trip:?}"
        );
        let _ = r.child.kill();
        fs.freeze();
        tally::wait_child(&mut r.child, &what, 60);
        drop(r);
        drop(m);
        tally::inc(&tally::KILLS);
        tally::inc(&tally::POWER_CUTS);
        tally::inc(&tally::PLACED_CUTS);
        let rep = fs.crash_with(rng, loss, meta);
        tally::add(&tally::WRITES_LOST, rep.data_ops_dropped);
        tally::add(&tally::META_LOST, rep.meta_ops_dropped);
    };
    cx.reset();
    let temp = PathBuf::from(format!("{}.temp", cx.dest.display()));
    // 1. Held right after the preallocation (the first data operation); names and sizes kept.
    let first = Trip {
        class: OpClass::Data,
        n: 1,
        after: true,
    };
    cut(first, DataLoss::KeepAll, MetaLoss::KeepAll, rng);
    assert_eq!(
        fs.read(cx.rel(&temp)).map(|t| t.len() as u64),
        Some(cx.spec.total),
        "{what}: the preallocated temp file did not survive cut 1"
    );
    // 2. Held right after the `sync_n`-th sync (around the first checkpoint: the temp
    //    directory's fsync, the temp file's fdatasync, the checkpoint file's fsync, its
    //    directory's fsync); every unsynced name lost.
    let nth_sync = Trip {
        class: OpClass::Sync,
        n: sync_n,
        after: true,
    };
    cut(nth_sync, DataLoss::DropAll, MetaLoss::DropAll, rng);
    let lost = cx.check_checkpoint(&format!("{what}, cut 2"));
    // 3. The resume.
    fs.arm(None);
    let m = fs.mount().expect("mount");
    let out = child::run(&cx.spec, &format!("{what}, the resume"));
    drop(m);
    assert_eq!(out, Outcome::Ok, "{what}: the resume failed");
    let got = fs.read(cx.rel(&cx.dest)).unwrap_or_default();
    let corrupt = got != cx.want;
    if !corrupt {
        tally::inc(&tally::VERIFIED_FILES);
    }
    cx.reset();
    (lost, corrupt)
}

/// The temp-directory sequence under both models (see [`temp_dir_sequence`]).
fn temp_dir_sequences(env: &Env, mnt: &Path, rng: &mut Rng) {
    let sc = |name, model| Scenario {
        name,
        model,
        size: 700 * KIB + 3,
        part: 100 * KIB,
        threads: 1,
        same_dir: false,
        stale: false,
        range: None,
        latency_ms: 150,
    };
    // Both models, cut at each sync around the first checkpoint.
    for (name, model) in [
        ("temp-dir-ordered", Model::Ordered),
        ("temp-dir-strict", Model::Strict),
    ] {
        for sync_n in 3..=5 {
            let scenario = sc(name, model);
            let (lost, corrupt) = with_ctx(env, mnt, &scenario, rng, |cx, rng| {
                temp_dir_sequence(cx, rng, sync_n)
            });
            // (The lost claims are counted by check_checkpoint.)
            tally::add(&tally::CORRUPT, corrupt as u64);
            assert!(
                lost == 0 && !corrupt,
                "{name}, cut at sync {sync_n}: {lost} checkpoint parts claim bytes lost by the \
                 cut, corrupt destination: {corrupt}"
            );
        }
    }
}
