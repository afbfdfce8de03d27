//! Local faults: disk full (a small tmpfs), the destination directory read-only (a read-only bind
//! mount: before a run, between runs, and an attempt mid-download) or removed mid-download, the
//! checkpoint directory read-only, temp/lock/checkpoint paths pre-existing as symbolic links or
//! directories (never followed nor clobbered), and checkpoints truncated, corrupted, from another
//! object, from an older format, or hand-edited with a valid checksum.
//!
//! Mounting needs root (tests run as root in CI); without it those cases are skipped and the
//! summary says so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oss_emulator::Faults;
use oss_ffi::cancel::Cancel;
use oss_ffi::download::{DownloadRequest, MIN_PART_SIZE};
use oss_ffi::ErrorKind;
use tokio_util::sync::CancellationToken;

use crate::download_support::*;
use crate::faults::{attempt, runtime, verify};
use crate::tally;

const PS: u64 = MIN_PART_SIZE;

/// A mount that is undone on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        mount(
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"],
            dir,
        )
        .then(|| Mount(dir.into()))
    }

    /// `dir` bound onto `at` (so that `at` can be made read-only alone).
    fn bind(dir: &Path, at: &Path) -> Option<Mount> {
        std::fs::create_dir_all(at).unwrap();
        mount(&["--bind", &dir.display().to_string()], at).then(|| Mount(at.into()))
    }

    fn remount(&self, opts: &str) -> Result<(), String> {
        let out = Command::new("mount")
            .args(["-o", opts])
            .arg(&self.0)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], at: &Path) -> bool {
    Command::new("mount")
        .args(args)
        .arg(at)
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn run(rng: &mut Rng) {
    let rt = runtime();
    let env = Env::new();
    rt.block_on(async {
        disk_full(&env).await;
        read_only_destination(&env, rng).await;
        destination_removed(&env, rng).await;
        read_only_checkpoint_dir(&env).await;
        special_paths(&env).await;
        bad_checkpoints(&env, rng).await;
    });
    tally::count_server_faults(&env.emu);
}

async fn disk_full(env: &Env) {
    let dir = env.path("small-disk");
    let Some(m) = Mount::tmpfs(&dir, "8m") else {
        tally::note("disk full: cannot mount a tmpfs (not root?): skipped");
        return;
    };
    tally::note("disk full: an 8 MiB tmpfs (mount -t tmpfs -o size=8m)");
    let size = 12 * MIB + 5;
    let src = env.object("local/big", size);
    let client = env.client();
    for ckpt in [false, true] {
        let mut req = DownloadRequest::new(BUCKET, "local/big");
        req.file_path = Some(dir.join("big.bin"));
        req.part_size = MIB;
        if ckpt {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        let t0 = Instant::now();
        let e = attempt(&client, &req, &src, 60, "disk full")
            .await
            .expect_err("12 MiB cannot fit in 8 MiB");
        tally::inc(&tally::FAULTS);
        assert_eq!(e.kind, ErrorKind::Io, "{e}");
        assert!(
            e.message.contains("No space left"),
            "the disk-full error does not say so: {e}"
        );
        println!(
            "    disk full (checkpoint: {ckpt}): {} in {:?}: {}",
            e.code,
            t0.elapsed(),
            e.message
        );
        if !ckpt {
            assert!(
                leftovers(&[&dir]).is_empty(),
                "a failed download without checkpoint left {:?}",
                leftovers(&[&dir])
            );
        } else {
            // Space is found (the tmpfs grows); the download resumes and completes.
            m.remount("remount,size=32m").unwrap();
            attempt(&client, &req, &src, 60, "disk no longer full")
                .await
                .unwrap();
            std::fs::remove_file(dir.join("big.bin")).unwrap();
            m.remount("remount,size=8m").unwrap();
        }
    }
    assert_no_leftovers(&[env.work.path()]);
}

async fn read_only_destination(env: &Env, rng: &mut Rng) {
    let real = env.path("rw-real");
    std::fs::create_dir_all(&real).unwrap();
    let Some(m) = Mount::bind(&real, &env.path("ro-dest")) else {
        tally::note("read-only destination: cannot bind-mount (not root?): skipped");
        return;
    };
    let size = 30 * PS + 3;
    let src = env.object("local/ro", size);
    let client = env.client();
    let mut req = DownloadRequest::new(BUCKET, "local/ro");
    req.file_path = Some(m.0.join("ro.bin"));
    req.part_size = PS;
    req.thread_num = 2;
    req.checkpoint_dir = Some(env.ckpt_dir());

    // Read-only before the run: refused before any traffic.
    m.remount("remount,ro,bind").unwrap();
    env.emu.clear_log();
    let e = attempt(&client, &req, &src, 30, "read-only destination")
        .await
        .expect_err("read-only");
    tally::inc(&tally::FAULTS);
    assert_eq!(e.code, "ValidateError", "{e}");
    assert!(env.emu.log().is_empty(), "traffic before validation");
    m.remount("remount,rw,bind").unwrap();

    // An attempt to make it read-only mid-download.
    env.slow_requests(20);
    let token = CancellationToken::new();
    let t = token.clone();
    let mount_point = m.0.clone();
    let wait = 50 + rng.below(150);
    let tries = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(wait));
        let r = Command::new("mount")
            .args(["-o", "remount,ro,bind"])
            .arg(&mount_point)
            .output()
            .unwrap();
        let outcome = (
            r.status.success(),
            String::from_utf8_lossy(&r.stderr).to_string(),
        );
        std::thread::sleep(Duration::from_millis(100));
        t.cancel();
        outcome
    });
    let (r, _) = tally::deadline(
        "read-only mid-download",
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
    let (remounted, why) = tries.join().unwrap();
    tally::inc(&tally::FAULTS);
    if remounted {
        tally::note(
            "read-only mid-download: the remount succeeded; the download must fail cleanly",
        );
        let e = r
            .as_ref()
            .expect_err("a read-only destination mid-download");
        tally::scan_error(e);
        assert!(!req.file_path.as_ref().unwrap().exists());
        m.remount("remount,rw,bind").unwrap();
    } else {
        tally::note(format!(
            "read-only mid-download: the kernel refuses to remount read-only while the download's temp file is open for writing ({}), so a running download cannot be hit; tested read-only before a run and between runs instead",
            why.trim().lines().next().unwrap_or("")
        ));
        if let Err(e) = &r {
            assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
        }
    }
    // Read-only between runs (a checkpoint and temp file exist): a clear error, then a resume.
    if r.is_err() && checkpoint_in(&env.ckpt_dir()).is_some() {
        m.remount("remount,ro,bind").unwrap();
        let e = attempt(&client, &req, &src, 30, "read-only between runs")
            .await
            .expect_err("read-only");
        tally::inc(&tally::FAULTS);
        assert_eq!(e.code, "ValidateError", "{e}");
        m.remount("remount,rw,bind").unwrap();
    }
    env.faults(Faults::none());
    let _ = std::fs::remove_file(req.file_path.as_ref().unwrap());
    attempt(&client, &req, &src, 60, "read-write again")
        .await
        .unwrap();
    std::fs::remove_file(req.file_path.as_ref().unwrap()).unwrap();
    assert_no_leftovers(&[env.work.path()]);
}

async fn destination_removed(env: &Env, rng: &mut Rng) {
    let size = 40 * PS + 9;
    let src = env.object("local/gone", size);
    let client = env.client();
    let dir = env.path("going");
    let mut req = DownloadRequest::new(BUCKET, "local/gone");
    req.file_path = Some(dir.join("gone.bin"));
    req.part_size = PS;
    req.thread_num = 2;
    req.checkpoint_dir = Some(env.ckpt_dir());
    for round in 0..tally::scale(3, 20) {
        std::fs::create_dir_all(&dir).unwrap();
        env.slow_requests(15);
        let d = dir.clone();
        let wait = rng.below(400);
        let remover = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(wait));
            std::fs::remove_dir_all(&d).is_ok()
        });
        let what = format!("destination directory removed after {wait} ms");
        let r = attempt(&client, &req, &src, 60, &what).await;
        let removed = remover.join().unwrap();
        tally::inc(&tally::FAULTS);
        match r {
            Ok(()) => {} // finished before the removal
            Err(e) => {
                assert!(removed, "{what}: failed without the fault: {e}");
                assert!(
                    matches!(e.kind, ErrorKind::Io | ErrorKind::InvalidArgument),
                    "{what}: {e}"
                );
                if round == 0 {
                    println!("    {what}: {e}");
                }
            }
        }
        // Recreated: the next call completes (a stale checkpoint is discarded).
        env.faults(Faults::none());
        std::fs::create_dir_all(&dir).unwrap();
        attempt(&client, &req, &src, 60, &format!("{what}, then recreated"))
            .await
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_no_leftovers(&[env.work.path()]);
    }
}

async fn read_only_checkpoint_dir(env: &Env) {
    let real = env.path("ckpt-real");
    std::fs::create_dir_all(&real).unwrap();
    let Some(m) = Mount::bind(&real, &env.path("ckpt-ro")) else {
        tally::note("read-only checkpoint directory: cannot bind-mount: skipped");
        return;
    };
    let size = 20 * PS;
    let src = env.object("local/ckro", size);
    let client = env.client();
    let mut req = env.request("local/ckro", "ckro.bin");
    req.part_size = PS;
    req.checkpoint_dir = Some(m.0.clone());
    // Unwritable from the start: a clear IOError before any request (a download that could
    // never resume must not look resumable), nothing left behind.
    m.remount("remount,ro,bind").unwrap();
    let e = attempt(&client, &req, &src, 60, "read-only checkpoint directory")
        .await
        .expect_err("a read-only checkpoint directory must fail the download at its start");
    assert_eq!(e.code, "IOError", "{e}");
    assert!(e.message.contains("cannot hold a checkpoint"), "{e}");
    assert!(
        !env.emu.log().iter().any(|l| l.key == "local/ckro"),
        "requests were sent before the read-only checkpoint directory was refused"
    );
    assert!(!env.path("ckro.bin").exists());
    tally::inc(&tally::FAULTS);
    // Made read-only mid-download (it has no open file most of the time): the download
    // completes, each checkpoint it could not save logged at Warn level.
    m.remount("remount,rw,bind").unwrap();
    let warnings_before = tally::get(&tally::CKPT_SAVE_WARNINGS);
    // Slow enough (10 rounds of 2 parts at 120 ms) for checkpoint saves (every 500 ms) to
    // happen after the remount.
    env.slow_requests(120);
    req.thread_num = 2;
    let mp = m.0.clone();
    let t = std::thread::spawn(move || {
        for _ in 0..100 {
            std::thread::sleep(Duration::from_millis(10));
            let ok = Command::new("mount")
                .args(["-o", "remount,ro,bind"])
                .arg(&mp)
                .status()
                .unwrap()
                .success();
            if ok {
                return true;
            }
        }
        false
    });
    attempt(
        &client,
        &req,
        &src,
        60,
        "checkpoint directory read-only mid-download",
    )
    .await
    .unwrap();
    let hit = t.join().unwrap();
    tally::inc(&tally::FAULTS);
    tally::note(format!(
        "checkpoint directory made read-only mid-download: {}",
        if hit {
            "done; the download completed"
        } else {
            "the remount never succeeded"
        }
    ));
    tally::note(format!(
        "checkpoint directory made read-only mid-download: {} checkpoint saves failed, each logged at Warn level",
        tally::get(&tally::CKPT_SAVE_WARNINGS) - warnings_before
    ));
    m.remount("remount,rw,bind").unwrap();
    env.faults(Faults::none());
    // The run could not delete its checkpoint from the read-only directory: the next one
    // discards or finishes it.
    std::fs::remove_file(env.path("ckro.bin")).unwrap();
    attempt(
        &client,
        &req,
        &src,
        60,
        "after the read-only checkpoint dir",
    )
    .await
    .unwrap();
    std::fs::remove_file(env.path("ckro.bin")).unwrap();
    assert_no_leftovers(&[env.work.path(), &real]);
}

/// Temp, lock and checkpoint paths that are links or directories: never followed or clobbered.
async fn special_paths(env: &Env) {
    let size = 5 * PS + 1;
    let src = env.object("local/special", size);
    let client = env.client();
    let victim = env.path("victim.txt");
    let keep = b"must not be touched";
    let mut req = env.request("local/special", "special.bin");
    req.part_size = PS;
    req.checkpoint_dir = Some(env.ckpt_dir());
    let dest = env.path("special.bin");
    let temp = env.path("special.bin.temp");
    let lock = env.path("special.bin.temp.lock");
    let cp = oss_ffi::download::checkpoint_path(&req).unwrap().unwrap();
    let cp_tmp = PathBuf::from(format!("{}.tmp", cp.display()));

    for (what, path) in [("temp", &temp), ("lock", &lock)] {
        for kind in ["symlink", "directory"] {
            std::fs::write(&victim, keep).unwrap();
            if kind == "symlink" {
                std::os::unix::fs::symlink(&victim, path).unwrap();
            } else {
                std::fs::create_dir(path).unwrap();
                std::fs::write(path.join("inside"), keep).unwrap();
            }
            let label = format!("{what} path pre-existing as a {kind}");
            let r = attempt(&client, &req, &src, 30, &label).await;
            tally::inc(&tally::BAD_INPUTS);
            assert!(r.is_err(), "{label}: accepted");
            assert_eq!(
                std::fs::read(&victim).unwrap(),
                keep,
                "{label}: target clobbered"
            );
            if kind == "directory" {
                assert_eq!(std::fs::read(path.join("inside")).unwrap(), keep, "{label}");
                std::fs::remove_dir_all(path).unwrap();
            } else {
                assert!(std::fs::symlink_metadata(path)
                    .unwrap()
                    .file_type()
                    .is_symlink());
                std::fs::remove_file(path).unwrap();
            }
            assert!(!dest.exists());
        }
    }
    // The checkpoint and its .tmp as links: not followed (a link is not trusted, and is replaced).
    for path in [&cp, &cp_tmp] {
        std::fs::write(&victim, keep).unwrap();
        std::os::unix::fs::symlink(&victim, path).unwrap();
        attempt(&client, &req, &src, 30, "checkpoint path as a link")
            .await
            .unwrap();
        tally::inc(&tally::BAD_INPUTS);
        assert_eq!(
            std::fs::read(&victim).unwrap(),
            keep,
            "a checkpoint link was followed"
        );
        std::fs::remove_file(&dest).unwrap();
        let _ = std::fs::remove_file(path);
    }
    // GetObject to a file (not resumable) with its temp path as a link.
    std::fs::write(&victim, keep).unwrap();
    std::os::unix::fs::symlink(&victim, &temp).unwrap();
    let r = tally::deadline(
        "get_object_to_file",
        30,
        client.get_object_to_file(&req.object, None, &dest, None, &Cancel::new()),
    )
    .await;
    tally::inc(&tally::BAD_INPUTS);
    if let Err(e) = &r {
        tally::scan_error(e);
    }
    if std::fs::read(&victim).unwrap() != keep {
        tally::inc(&tally::CORRUPT);
        panic!(
            "CORRUPT: get_object_to_file followed a link at its temp path and overwrote its target"
        );
    }
    if r.is_ok() {
        verify(&dest, &src, "get_object_to_file beside a temp link");
        std::fs::remove_file(&dest).unwrap();
    }
    let _ = std::fs::remove_file(&temp);
    std::fs::remove_file(&victim).unwrap();
    assert_no_leftovers(&[env.work.path()]);
}

/// Checkpoints truncated at many lengths, with flipped bytes, from another object, from an older
/// format, and hand-edited with a valid checksum: never trusted into a wrong file.
async fn bad_checkpoints(env: &Env, rng: &mut Rng) {
    let size = 16 * PS + 7;
    let src = env.object("local/ck", size);
    let other = env.object("local/ck-other", size);
    let client = env.client();
    let mut req = env.request("local/ck", "ck.bin");
    req.part_size = PS;
    req.thread_num = 2;
    req.checkpoint_dir = Some(env.ckpt_dir());
    let cp = oss_ffi::download::checkpoint_path(&req).unwrap().unwrap();
    let temp = env.path("ck.bin.temp");
    let dest = env.path("ck.bin");

    // A real interrupted state: a checkpoint with some parts and its temp file.
    interrupted_after_6_parts(env, &client, &req, size).await;
    let good = std::fs::read(&cp).unwrap();
    let good_temp = std::fs::read(&temp).unwrap();
    let mut other_req = env.request("local/ck-other", "ck-other.bin");
    other_req.part_size = PS;
    other_req.checkpoint_dir = req.checkpoint_dir.clone();
    interrupted_after_6_parts(env, &client, &other_req, size).await;
    let other_cp = oss_ffi::download::checkpoint_path(&other_req)
        .unwrap()
        .unwrap();
    let foreign = std::fs::read(&other_cp).unwrap();
    std::fs::remove_file(&other_cp).unwrap();
    std::fs::remove_file(env.path("ck-other.bin.temp")).unwrap();
    let _ = other;

    let text = String::from_utf8(good.clone()).unwrap();
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..tally::scale(12, 60) {
        let at = (good.len() as u64 * i / tally::scale(12, 60)) as usize;
        variants.push((format!("truncated at {at}"), good[..at].to_vec()));
    }
    for i in 0..tally::scale(12, 100) {
        let mut b = good.clone();
        let at = rng.below(b.len() as u64) as usize;
        b[at] ^= 1 << rng.below(8);
        variants.push((format!("bit flip {i} at {at}"), b));
    }
    variants.push(("from another object".into(), foreign));
    variants.push((
        "an older format version (1)".into(),
        text.replace("\"version\": 2", "\"version\": 1")
            .into_bytes(),
    ));
    variants.push(("empty".into(), Vec::new()));
    variants.push(("not JSON".into(), b"\x00\xff garbage".to_vec()));
    variants.push(("huge".into(), vec![b' '; 17 << 20]));
    // Hand-edited with a valid checksum: a part claimed done whose bytes are not on disk.
    let v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let mut record = v["checkpoint"].clone();
    let parts = record["parts"].as_array_mut().unwrap();
    let claimed = (0..16u64)
        .find(|i| !parts.iter().any(|p| p["index"] == *i))
        .unwrap();
    parts.push(
        serde_json::json!({"index": claimed, "offset": claimed * PS, "size": PS, "crc64": 12345}),
    );
    let forged =
        oss_ffi::download::fuzzing::checkpoint_seal(record.to_string().as_bytes()).unwrap();
    variants.push(("forged with a valid checksum".into(), forged));

    let n = variants.len();
    for (what, bytes) in variants {
        std::fs::write(&cp, &bytes).unwrap();
        std::fs::write(&temp, &good_temp).unwrap();
        tally::inc(&tally::BAD_INPUTS);
        let label = format!("checkpoint {what}");
        match attempt(&client, &req, &src, 60, &label).await {
            Ok(()) => {}
            Err(e) if what.starts_with("forged") => {
                // Its recorded CRC does not combine into the object's: caught, state removed.
                assert_eq!(e.code, "CrcCheckError", "{label}: {e}");
                assert_no_leftovers(&[env.work.path()]);
                attempt(&client, &req, &src, 60, &label).await.unwrap();
            }
            Err(e) => panic!("{label}: {e}"),
        }
        std::fs::remove_file(&dest).unwrap();
        assert_no_leftovers(&[env.work.path()]);
    }
    println!("    {n} bad checkpoints: all discarded or caught, every file right");
}

/// Cancels a download of `r` once 6 parts are on disk: a checkpoint with parts and a temp file.
async fn interrupted_after_6_parts(
    env: &Env,
    client: &oss_ffi::client::Client,
    r: &DownloadRequest,
    total: u64,
) {
    env.slow_requests(20);
    let (res, _) = download_cancelled_at(client, r, total, 6 * PS).await;
    env.faults(Faults::none());
    res.expect_err("interrupted");
}
