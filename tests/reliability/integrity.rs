//! Integrity: no wrong file is ever reported as downloaded, whatever another local
//! user plants, however the destination is spelled, whatever runs beside the download.
//!
//! - Planted state (finding 1): a checkpoint whose parts claim the object's true CRC64s over a
//!   temp file of zeros, a temp file that would receive the victim's object, a lock file, planted
//!   in a shared sticky directory by another user (uid 65534, by `chown`; without root: files of
//!   ours that the group and others may write). Refused with a clear error, never written. And
//!   as found: the victim a child process of uid 65534, the attacker uid 65533 (root only).
//! - Parts claimed done but not on disk, in a checkpoint of our own (the final verification
//!   covers the bytes on disk): re-read on resume, downloaded again; whole object and range.
//! - Two spellings of one destination (a symlinked directory; finding 2) and two checkpoint
//!   directories for one destination: interleaved interrupted runs, then a resume: right bytes.
//! - GetObject to a file and a resumable download to the same path at once (finding 4): the
//!   second gets `FileLocked`, the first's temp file untouched, the file right.
//! - A failed final rename (finding 6): nothing left without a checkpoint; with one, the next
//!   call only renames.
//! - Modes (finding 9): checkpoint, temp and lock files 0600; an existing destination keeps its
//!   mode; a new one gets `0666 & !umask`.
//! - A directory component swapped mid-download (finding 11): the other directory's lock and temp
//!   files are neither removed nor put in place; a temp file swapped in is never renamed into
//!   place; a default destination from a key never follows a link in the working directory.
//!
//! Each case fails on the code before its fix (checked when the phase was written, one
//! case at a time: `OSS_REL_INTEGRITY_CASES=<case>[,<case>...]` runs only those, see `CASES`).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use oss_emulator::Faults;
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::download::{checkpoint_path, resumable_download, DownloadRequest, MIN_PART_SIZE};
use oss_ffi::ErrorKind;
use tokio_util::sync::CancellationToken;

use crate::child::{self, Outcome, Spec};
use crate::download_support::*;
use crate::faults::{runtime, verify};
use crate::tally;

const PS: u64 = MIN_PART_SIZE;
/// The other local user (`nobody` on most systems; 65533 when this process is 65534).
const NOBODY: u32 = 65534;

/// The cases, in order; `OSS_REL_INTEGRITY_CASES=planted,modes` runs only those named.
const CASES: &[&str] = &[
    "planted",
    "victim",
    "claimed",
    "spellings",
    "getobject",
    "rename",
    "modes",
    "swapdir",
    "swaptemp",
    "defaultdest",
];

pub fn run(_rng: &mut Rng) {
    let rt = runtime();
    let env = Env::new();
    let other = OtherUser::probe(env.work.path());
    let only = std::env::var("OSS_REL_INTEGRITY_CASES").ok();
    for case in CASES {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|c| c == *case))
        {
            continue;
        }
        println!("  -- {case}");
        match *case {
            "victim" => planted_for_another_victim(&env, &other, &rt),
            "defaultdest" => default_destination_never_follows_links(&env),
            _ => rt.block_on(async {
                match *case {
                    "planted" => planted_state(&env, &other).await,
                    "claimed" => parts_claimed_but_not_on_disk(&env).await,
                    "spellings" => two_spellings_one_destination(&env).await,
                    "getobject" => get_object_beside_a_download(&env).await,
                    "rename" => failed_final_rename(&env).await,
                    "modes" => modes(&env).await,
                    "swapdir" => swapped_directory(&env, &other).await,
                    _ => swapped_temp_file(&env).await,
                }
            }),
        }
    }
    tally::count_server_faults(&env.emu);
}

/// Whether files of another user can be made here (root: `chown`).
struct OtherUser {
    can_chown: bool,
    /// This process's uid.
    me: u32,
    /// The other user's uid.
    uid: u32,
}

impl OtherUser {
    fn probe(dir: &Path) -> OtherUser {
        let p = dir.join("uid-probe");
        std::fs::write(&p, b"").unwrap();
        let me = std::fs::metadata(&p).unwrap().uid();
        let uid = if me == NOBODY { NOBODY - 1 } else { NOBODY };
        let can_chown = std::os::unix::fs::chown(&p, Some(uid), Some(uid)).is_ok();
        std::fs::remove_file(&p).unwrap();
        let what = if can_chown {
            format!("integrity: another user's files are made with chown to uid {uid}")
        } else {
            "integrity: not root, files of another user cannot be made (chown refused): \
             checked with files of ours that the group and others may write instead"
                .to_string()
        };
        tally::note(what);
        OtherUser { can_chown, me, uid }
    }

    /// How a planted file is made: (label, owned by the other user, mode).
    fn variants(&self) -> Vec<(String, bool, u32)> {
        let mut v = Vec::new();
        if self.can_chown {
            v.push((format!("owned by uid {}, mode 0644", self.uid), true, 0o644));
            v.push((format!("owned by uid {}, mode 0666", self.uid), true, 0o666));
        }
        v.push(("ours, mode 0666".to_string(), false, 0o666));
        v.push(("ours, mode 0620 (group-writable)".to_string(), false, 0o620));
        v
    }

    fn plant(&self, path: &Path, foreign: bool, mode: u32) {
        if foreign {
            std::os::unix::fs::chown(path, Some(self.uid), Some(self.uid)).unwrap();
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// The GET latency (`Env::slow_gets`) that makes a download of ~1 MiB with 2 threads last well
/// over the progress pacing (100 ms) after it started: the hooks then see calls mid-download.
/// (30 ms: a fresh download's first GET comes before the progress starts, so 15 ms left too thin
/// a margin.)
const SLOW_GET_MS: u64 = 30;

fn request(key: &str, dest: &Path, ckpt: Option<&Path>) -> DownloadRequest {
    let mut req = DownloadRequest::new(BUCKET, key);
    req.file_path = Some(dest.to_path_buf());
    req.checkpoint_dir = ckpt.map(Path::to_path_buf);
    req.part_size = PS;
    req.thread_num = 2;
    req
}

/// Runs `req` with `hook(transferred)` called after every progress call, under a deadline.
async fn run_with_hook(
    client: &Client,
    req: &DownloadRequest,
    total: u64,
    cancel: &Cancel,
    hook: impl Fn(u64) + Send + 'static,
    what: &str,
) -> oss_ffi::Result<oss_ffi::object::ObjectMeta> {
    tally::inc(&tally::DOWNLOADS);
    let progress = Arc::new(Progress::default());
    *progress.hook.lock().unwrap() = Some(Box::new(move |t, _| hook(t)));
    let (r, _) = tally::deadline(
        what,
        60,
        download_with(client, req, total, cancel, progress),
    )
    .await;
    if let Err(e) = &r {
        tally::scan_error(e);
    }
    r
}

/// Interrupts a download of `req` once `at` bytes are on disk: a checkpoint and a temp file.
async fn interrupt(env: &Env, client: &Client, req: &DownloadRequest, total: u64, at: u64) {
    env.slow_gets(SLOW_GET_MS);
    let token = CancellationToken::new();
    let t = token.clone();
    let r = run_with_hook(
        client,
        req,
        total,
        &Cancel::new().with(token),
        move |done| {
            if done >= at {
                t.cancel();
            }
        },
        "an interrupted download",
    )
    .await;
    env.faults(Faults::none());
    let e = r.expect_err("the download should have been interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
}

/// Claims every part of the checkpoint at `cp` done, each with the true CRC64 of its bytes in
/// the object `src` (so they combine into the object's CRC64), and seals it again.
fn claim_all_parts(cp: &Path, src: &Path) {
    let object = std::fs::read(src).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(cp).unwrap()).unwrap();
    let mut record = v["checkpoint"].clone();
    let (first, total, ps) = (
        record["first"].as_u64().unwrap(),
        record["total"].as_u64().unwrap(),
        record["part_size"].as_u64().unwrap(),
    );
    let parts: Vec<serde_json::Value> = (0..total.div_ceil(ps))
        .map(|i| {
            let offset = first + i * ps;
            let size = ps.min(first + total - offset);
            let crc = oss_ffi::crc64::checksum(&object[offset as usize..(offset + size) as usize]);
            serde_json::json!({"index": i, "offset": offset, "size": size, "crc64": crc})
        })
        .collect();
    record["parts"] = serde_json::Value::Array(parts);
    let sealed =
        oss_ffi::download::fuzzing::checkpoint_seal(record.to_string().as_bytes()).unwrap();
    std::fs::write(cp, sealed).unwrap();
}

/// Fails (as a corrupt output) unless `dest` holds `len` bytes of `src` from `start`.
fn verify_slice(dest: &Path, src: &Path, start: u64, len: u64, what: &str) {
    let (a, b) = (std::fs::read(dest).unwrap(), std::fs::read(src).unwrap());
    if a[..] != b[start as usize..(start + len) as usize] {
        tally::inc(&tally::CORRUPT);
        panic!("CORRUPT: {what}: {} is not the range", dest.display());
    }
    tally::inc(&tally::VERIFIED_FILES);
}

fn mode_of(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Finding 1: a checkpoint, a temp file or a lock file planted by another user.
async fn planted_state(env: &Env, other: &OtherUser) {
    let size = 20 * PS + 11;
    let src = env.object("integrity/planted", size);
    let client = env.client();
    // Like /tmp: anyone may create files, the sticky bit keeps them theirs.
    let shared = env.path("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let dest = shared.join("victim.bin");
    let temp = shared.join("victim.bin.temp");
    let lock = shared.join("victim.bin.temp.lock");
    let req = request("integrity/planted", &dest, Some(&shared));
    let cp = checkpoint_path(&req).unwrap().unwrap();
    let cp_tmp = PathBuf::from(format!("{}.tmp", cp.display()));

    // The attacker's material, made with the library itself: a genuine checkpoint of this very
    // request; (a) every part claimed done with its true CRC64 over a temp file of zeros; (b) no
    // part claimed, so that the victim's whole object would flow into the planted temp file.
    interrupt(env, &client, &req, size, 4 * PS).await;
    let genuine = std::fs::read(&cp).unwrap();
    claim_all_parts(&cp, &src);
    let all_claimed = std::fs::read(&cp).unwrap();
    let mut none =
        serde_json::from_slice::<serde_json::Value>(&genuine).unwrap()["checkpoint"].clone();
    none["parts"] = serde_json::json!([]);
    let none_claimed =
        oss_ffi::download::fuzzing::checkpoint_seal(none.to_string().as_bytes()).unwrap();
    std::fs::remove_file(&cp).unwrap();
    std::fs::remove_file(&temp).unwrap();

    type Plant = (&'static str, Vec<(PathBuf, Vec<u8>)>);
    let zeros = vec![0u8; size as usize];
    let plants: Vec<Plant> = vec![
        (
            "a checkpoint claiming every part over a temp file of zeros",
            vec![(cp.clone(), all_claimed), (temp.clone(), zeros.clone())],
        ),
        (
            "a checkpoint claiming no part and a temp file to receive the object",
            vec![(cp.clone(), none_claimed), (temp.clone(), zeros.clone())],
        ),
        ("a temp file alone", vec![(temp.clone(), zeros.clone())]),
        (
            "a checkpoint's .tmp file (every save would fail)",
            vec![(cp_tmp.clone(), b"{}".to_vec())],
        ),
        ("a lock file", vec![(lock.clone(), b"held".to_vec())]),
    ];
    let mut n = 0;
    for (what, files) in &plants {
        for (how, foreign, mode) in other.variants() {
            let label = format!("planted {what} ({how})");
            for (p, bytes) in files {
                std::fs::write(p, bytes).unwrap();
                other.plant(p, foreign, mode);
            }
            let before: Vec<_> = files
                .iter()
                .map(|(p, _)| {
                    let m = std::fs::metadata(p).unwrap();
                    (m.ino(), m.uid(), m.mode(), std::fs::read(p).unwrap())
                })
                .collect();
            let mut req = req.clone();
            if !files.iter().any(|(p, _)| p == &cp || p == &cp_tmp) {
                req.checkpoint_dir = None;
            }
            tally::inc(&tally::BAD_INPUTS);
            let r = run_with_hook(&client, &req, size, &Cancel::new(), |_| {}, &label).await;
            match r {
                Ok(_) => {
                    // Accepted: at best the right bytes, but in a file another user controls.
                    verify(&dest, &src, &label);
                    let m = std::fs::metadata(&dest).unwrap();
                    if m.mode() & 0o022 != 0 || m.uid() != other.me {
                        tally::inc(&tally::CORRUPT);
                        panic!(
                            "CORRUPT: {label}: the destination is another user's file or writable by others (uid {}, mode {:o})",
                            m.uid(),
                            m.mode()
                        );
                    }
                    panic!("{label}: accepted (the planted files were used)");
                }
                Err(e) => {
                    assert_eq!(e.kind, ErrorKind::Io, "{label}: {e}");
                    assert!(
                        e.message.contains("refusing the existing"),
                        "{label}: not a clear refusal: {e}"
                    );
                    if n == 0 {
                        println!("    {label}: {e}");
                    }
                }
            }
            assert!(!dest.exists(), "{label}: a destination was put in place");
            for ((p, _), b) in files.iter().zip(&before) {
                let m = std::fs::metadata(p).unwrap();
                let now = (m.ino(), m.uid(), m.mode(), std::fs::read(p).unwrap());
                assert!(now == *b, "{label}: {} was changed", p.display());
                std::fs::remove_file(p).unwrap();
            }
            assert_no_leftovers(&[&shared]);
            n += 1;
        }
    }
    // Nothing planted: the download works in the shared directory, its files private.
    run_with_hook(
        &client,
        &req,
        size,
        &Cancel::new(),
        |_| {},
        "shared directory",
    )
    .await
    .unwrap();
    verify(&dest, &src, "shared directory, nothing planted");
    std::fs::remove_file(&dest).unwrap();
    assert_no_leftovers(&[&shared]);
    println!("    {n} planted checkpoints, temp and lock files: all refused, none written");
}

/// Finding 1 as it was found: the victim is not root (a child process running as uid 65534),
/// the shared directory is sticky (the victim cannot remove what the attacker, uid 65533,
/// planted), the planted checkpoint claims every part over a 0666 temp file of zeros, or a 0666
/// lock file is planted. Needs root to start a process as another user.
fn planted_for_another_victim(env: &Env, other: &OtherUser, rt: &tokio::runtime::Runtime) {
    if !other.can_chown || other.me != 0 {
        tally::note("integrity: not root: the victim-as-another-user case was skipped");
        return;
    }
    let (victim, attacker) = (NOBODY, NOBODY - 1);
    let size = 12 * PS + 5;
    let src = env.object("integrity/victim", size);
    // The work directory is private to root: a shared sticky directory the victim can reach.
    let shared = env.path("pub/shared");
    std::fs::create_dir_all(&shared).unwrap();
    for d in [env.work.path(), &env.path("pub")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let dest = shared.join("victim.bin");
    let temp = shared.join("victim.bin.temp");
    let lock = shared.join("victim.bin.temp.lock");
    let req = request("integrity/victim", &dest, Some(&shared));
    let cp = checkpoint_path(&req).unwrap().unwrap();
    let spec = Spec {
        endpoint: env.emu.endpoint(),
        key: "integrity/victim".into(),
        dest: dest.clone(),
        ckpt: Some(shared.clone()),
        part: PS,
        threads: 2,
        range: None,
        total: size,
    };
    // The attacker's checkpoint: made by an interrupted run (as root), every part claimed.
    rt.block_on(interrupt(env, &env.client(), &req, size, 3 * PS));
    claim_all_parts(&cp, &src);
    let planted_cp = std::fs::read(&cp).unwrap();
    std::fs::remove_file(&cp).unwrap();
    std::fs::remove_file(&temp).unwrap();
    /// (what, [(path, content, mode)])
    type Plant = (&'static str, Vec<(PathBuf, Vec<u8>, u32)>);
    let plants: Vec<Plant> = vec![
        (
            "a checkpoint claiming every part over a 0666 temp file of zeros",
            vec![
                (cp.clone(), planted_cp, 0o644),
                (temp.clone(), vec![0u8; size as usize], 0o666),
            ],
        ),
        (
            "a 0666 lock file",
            vec![(lock.clone(), b"held".to_vec(), 0o666)],
        ),
    ];
    for (what, files) in plants {
        let label = format!("a victim (uid {victim}) beside {what} of uid {attacker}");
        for (p, bytes, mode) in &files {
            std::fs::write(p, bytes).unwrap();
            std::os::unix::fs::chown(p, Some(attacker), Some(attacker)).unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(*mode)).unwrap();
        }
        tally::inc(&tally::BAD_INPUTS);
        let out = child::spawn_as(&spec, victim, victim).finish(&label);
        if let Ok(m) = std::fs::metadata(&dest) {
            let right = std::fs::read(&dest).unwrap() == std::fs::read(&src).unwrap();
            if !right || m.uid() != victim || m.mode() & 0o022 != 0 {
                tally::inc(&tally::CORRUPT);
                panic!(
                    "CORRUPT: {label}: the victim's file (right bytes: {right}, uid {}, mode {:o})",
                    m.uid(),
                    m.mode()
                );
            }
        }
        match out {
            Outcome::Err(e) if e.starts_with("IOError") && e.contains("refusing the existing") => {
                println!("    {label}: {e}");
            }
            other => panic!("{label}: {other:?} (a clear refusal expected)"),
        }
        assert!(!dest.exists(), "{label}");
        for (p, bytes, _) in &files {
            assert_eq!(
                &std::fs::read(p).unwrap(),
                bytes,
                "{label}: {} written",
                p.display()
            );
            let m = std::fs::metadata(p).unwrap();
            assert_eq!(m.uid(), attacker, "{label}: {} replaced", p.display());
            std::fs::remove_file(p).unwrap();
        }
        assert_no_leftovers(&[&shared]);
    }
    // Nothing planted: the victim downloads in the shared directory.
    let out = child::spawn_as(&spec, victim, victim).finish("a victim, nothing planted");
    assert_eq!(out, Outcome::Ok, "a victim, nothing planted");
    verify(&dest, &src, "a victim, nothing planted");
    assert_eq!(std::fs::metadata(&dest).unwrap().uid(), victim);
    std::fs::remove_file(&dest).unwrap();
    assert_no_leftovers(&[&shared]);
    std::fs::set_permissions(env.work.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// The final verification covers the bytes on disk: parts claimed done in a checkpoint of our
/// own (mode 0600, describing the right temp file) whose bytes are not on disk.
async fn parts_claimed_but_not_on_disk(env: &Env) {
    let size = 24 * PS + 5;
    let src = env.object("integrity/claimed", size);
    let client = env.client();
    let dest = env.path("claimed.bin");
    for range in [None, Some((PS / 2 + 7, 15 * PS + 3))] {
        let mut req = request("integrity/claimed", &dest, Some(&env.ckpt_dir()));
        let (start, len, kind) = span(range, size);
        req.range = byte_range(range);
        let what = format!("resume of a checkpoint claiming parts not on disk ({kind})");
        interrupt(env, &client, &req, len, 3 * PS).await;
        let cp = checkpoint_path(&req).unwrap().unwrap();
        claim_all_parts(&cp, &src);
        tally::inc(&tally::BAD_INPUTS);
        match run_with_hook(&client, &req, len, &Cancel::new(), |_| {}, &what).await {
            Ok(_) => verify_slice(&dest, &src, start, len, &what),
            Err(e) => panic!("{what}: {e}"),
        }
        std::fs::remove_file(&dest).unwrap();
        assert_no_leftovers(&[env.work.path()]);
    }
    println!(
        "    parts claimed but not on disk: re-read, downloaded again (whole object and range)"
    );
}

/// Finding 2: `real/f` and `link/f` (a symlinked directory) are one file: one checkpoint, and
/// interleaved interrupted runs under both spellings end in the right bytes; so do runs with two
/// checkpoint directories for one destination.
async fn two_spellings_one_destination(env: &Env) {
    let size = 30 * PS + 3;
    let src = env.object("integrity/spelling", size);
    let client = env.client();
    let real = env.path("spell-real");
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, env.path("spell-link")).unwrap();
    let ckpt = env.ckpt_dir();
    let ckpt2 = env.path("ckpt2");
    std::fs::create_dir(&ckpt2).unwrap();
    let spellings = [
        real.join("f.bin"),
        env.path("spell-link/f.bin"),
        env.path("spell-link/../spell-real/./f.bin"),
    ];
    let reqs: Vec<DownloadRequest> = spellings
        .iter()
        .map(|d| request("integrity/spelling", d, Some(&ckpt)))
        .collect();
    let mut other_dir = reqs[0].clone();
    other_dir.checkpoint_dir = Some(ckpt2.clone());
    for range in [None, Some((PS + 1, 20 * PS))] {
        for (a, b, what) in [
            (&reqs[0], &reqs[1], "a directory and a link to it"),
            (&reqs[0], &other_dir, "two checkpoint directories"),
        ] {
            let (mut a, mut b) = (a.clone(), b.clone());
            let (start, len, kind) = span(range, size);
            a.range = byte_range(range);
            b.range = a.range;
            let label = format!(
                "{what}: interrupted under one, then the other, resumed under the first ({kind})"
            );
            // The second run stops early: the first run's parts beyond it are not in the temp
            // file the second one made.
            interrupt(env, &client, &a, len, len / 2).await;
            interrupt(env, &client, &b, len, len / 8).await;
            run_with_hook(&client, &a, len, &Cancel::new(), |_| {}, &label)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            verify_slice(&spellings[0], &src, start, len, &label);
            std::fs::remove_file(&spellings[0]).unwrap();
            // The other checkpoint directory's checkpoint (if any) is stale: its temp is gone.
            for e in std::fs::read_dir(&ckpt2).unwrap() {
                std::fs::remove_file(e.unwrap().path()).unwrap();
            }
            assert_no_leftovers(&[env.work.path()]);
        }
    }
    // And so the one file has one checkpoint, whatever the spelling.
    let names: Vec<PathBuf> = reqs
        .iter()
        .map(|r| checkpoint_path(r).unwrap().unwrap())
        .collect();
    for (r, n) in reqs.iter().zip(&names).skip(1) {
        assert_eq!(
            n,
            &names[0],
            "{} and {} name one file but two checkpoints",
            r.file_path.as_ref().unwrap().display(),
            spellings[0].display()
        );
    }
    println!("    three spellings of one destination: one checkpoint; interleaved runs right");
}

/// Runs `f` on a thread of its own with a runtime of its own (from inside a progress callback,
/// so that the other call runs exactly while the first one is mid-way).
fn on_the_side<T: Send + 'static>(
    f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T>>> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f())
    })
    .join()
    .unwrap()
}

/// Finding 4: GetObject to a file and a resumable download to the same path at once.
async fn get_object_beside_a_download(env: &Env) {
    let size = 12 * PS + 1;
    let x = env.object("integrity/x", size);
    let y = env.object("integrity/y", size + 999);
    let client = env.client();
    let dest = env.path("both.bin");
    let endpoint = env.emu.endpoint();
    for ckpt in [None, Some(env.ckpt_dir())] {
        // A resumable download runs; GetObject of another object to the same path meanwhile.
        let req = request("integrity/x", &dest, ckpt.as_deref());
        let seen: Arc<Mutex<Option<oss_ffi::Result<()>>>> = Arc::default();
        let (s, d, ep) = (seen.clone(), dest.clone(), endpoint.clone());
        env.slow_gets(SLOW_GET_MS);
        let r = run_with_hook(
            &client,
            &req,
            size,
            &Cancel::new(),
            move |_| {
                if s.lock().unwrap().is_some() {
                    return;
                }
                let temp_path = d.with_extension("bin.temp");
                let (d, ep) = (d.clone(), ep.clone());
                let got = on_the_side(move || {
                    Box::pin(async move {
                        let c = client_for(&ep, false);
                        let o = object_request("integrity/y");
                        c.get_object_to_file(&o, None, &d, None, &Cancel::new())
                            .await
                            .map(|_| ())
                    })
                });
                let temp_there = temp_path.exists();
                *s.lock().unwrap() = Some(got.and_then(|()| {
                    if temp_there {
                        Ok(())
                    } else {
                        Err(oss_ffi::Error::io_failure(
                            "TempGone: the temp file was removed",
                        ))
                    }
                }));
            },
            "a resumable download with GetObject beside it",
        )
        .await;
        env.faults(Faults::none());
        let side = seen.lock().unwrap().take().expect("GetObject ran");
        match side {
            Err(e) if e.code == "FileLocked" => assert_eq!(e.kind, ErrorKind::Busy),
            other => panic!(
                "GetObject to the path of a running download: {other:?} (FileLocked expected)"
            ),
        }
        r.unwrap_or_else(|e| panic!("the resumable download beside GetObject: {e}"));
        verify(&dest, &x, "a resumable download beside GetObject");
        std::fs::remove_file(&dest).unwrap();
        assert_no_leftovers(&[env.work.path()]);
    }

    // GetObject runs; a resumable download of another object to the same path meanwhile.
    let seen: Arc<Mutex<Option<oss_ffi::Result<()>>>> = Arc::default();
    let (s, d, ep) = (seen.clone(), dest.clone(), endpoint.clone());
    let progress: oss_ffi::download::ProgressFn = Arc::new(move |_, done, _| {
        if done == 0 || s.lock().unwrap().is_some() {
            return;
        }
        let (d, ep) = (d.clone(), ep.clone());
        let got = on_the_side(move || {
            Box::pin(async move {
                let c = client_for(&ep, false);
                let mut r = DownloadRequest::new(BUCKET, "integrity/y");
                r.file_path = Some(d);
                resumable_download(&c, &r, &Cancel::new()).await.map(|_| ())
            })
        });
        *s.lock().unwrap() = Some(got);
    });
    let o = object_request("integrity/x");
    tally::inc(&tally::DOWNLOADS);
    let r = tally::deadline(
        "GetObject with a resumable download beside it",
        60,
        client.get_object_to_file(&o, None, &dest, Some(progress), &Cancel::new()),
    )
    .await;
    let side = seen
        .lock()
        .unwrap()
        .take()
        .expect("the resumable download ran");
    match side {
        Err(e) if e.code == "FileLocked" => {}
        other => panic!("a resumable download to the path of a running GetObject: {other:?} (FileLocked expected)"),
    }
    r.unwrap_or_else(|e| panic!("GetObject beside a resumable download: {e}"));
    verify(&dest, &x, "GetObject beside a resumable download");
    std::fs::remove_file(&dest).unwrap();
    assert_no_leftovers(&[env.work.path()]);
    let _ = y;
    println!("    GetObject and a resumable download to one path: the second gets FileLocked");
}

/// Finding 6: the final rename fails (a directory appeared at the destination mid-download).
async fn failed_final_rename(env: &Env) {
    let size = 10 * PS + 3;
    let src = env.object("integrity/rename", size);
    let client = env.client();
    let dest = env.path("rename.bin");
    for ckpt in [None, Some(env.ckpt_dir())] {
        let req = request("integrity/rename", &dest, ckpt.as_deref());
        let done = Arc::new(AtomicBool::new(false));
        let (d, dn) = (dest.clone(), done.clone());
        env.slow_gets(SLOW_GET_MS);
        let label = format!(
            "the final rename fails ({})",
            if ckpt.is_some() {
                "checkpoint"
            } else {
                "no checkpoint"
            }
        );
        let r = run_with_hook(
            &client,
            &req,
            size,
            &Cancel::new(),
            move |_| {
                if !dn.swap(true, Ordering::SeqCst) {
                    std::fs::create_dir(&d).unwrap();
                    std::fs::write(d.join("inside"), b"x").unwrap();
                }
            },
            &label,
        )
        .await;
        env.faults(Faults::none());
        tally::inc(&tally::FAULTS);
        let e = r.expect_err("renaming over a non-empty directory fails");
        assert_eq!(e.code, "RenameError", "{label}: {e}");
        std::fs::remove_dir_all(&dest).unwrap();
        match ckpt {
            None => assert_no_leftovers(&[env.work.path()]),
            Some(_) => {
                // Everything was kept: the next call fetches nothing and only renames.
                assert!(
                    checkpoint_in(&env.ckpt_dir()).is_some(),
                    "{label}: no checkpoint"
                );
                env.emu.clear_log();
                run_with_hook(&client, &req, size, &Cancel::new(), |_| {}, &label)
                    .await
                    .unwrap();
                verify(&dest, &src, &label);
                let fetched: u64 = gets(env, "integrity/rename")
                    .iter()
                    .map(|g| g.bytes_sent)
                    .sum();
                assert_eq!(
                    fetched, 0,
                    "{label}: the finished download was fetched again"
                );
                std::fs::remove_file(&dest).unwrap();
                assert_no_leftovers(&[env.work.path()]);
            }
        }
    }
    println!("    a failed final rename: nothing left without a checkpoint; with one, the next call only renames");
}

/// The process's umask, from /proc/self/status (None when it does not say).
fn umask() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let v = s.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(v.trim(), 8).ok()
}

/// Finding 9: private checkpoint, temp and lock files; an existing destination keeps its mode.
async fn modes(env: &Env) {
    let size = 10 * PS + 3;
    let src = env.object("integrity/modes", size);
    let client = env.client();
    let dest = env.path("modes.bin");
    let req = request("integrity/modes", &dest, Some(&env.ckpt_dir()));
    let seen: Arc<Mutex<Vec<(String, u32)>>> = Arc::default();
    let (s, d) = (seen.clone(), dest.clone());
    let token = CancellationToken::new();
    let t = token.clone();
    env.slow_gets(SLOW_GET_MS);
    let r = run_with_hook(
        &client,
        &req,
        size,
        &Cancel::new().with(token),
        move |done| {
            let mut s = s.lock().unwrap();
            if s.is_empty() {
                for (what, suffix) in [("temp", "bin.temp"), ("lock", "bin.temp.lock")] {
                    s.push((what.to_string(), mode_of(&d.with_extension(suffix))));
                }
            }
            if done >= 4 * PS {
                t.cancel();
            }
        },
        "modes while downloading",
    )
    .await;
    env.faults(Faults::none());
    r.expect_err("interrupted");
    let cp = checkpoint_in(&env.ckpt_dir()).unwrap();
    let mut modes = seen.lock().unwrap().clone();
    modes.push(("checkpoint".into(), mode_of(&cp)));
    modes.push((
        "temp after the interruption".into(),
        mode_of(&env.path("modes.bin.temp")),
    ));
    for (what, m) in &modes {
        assert_eq!(*m, 0o600, "the {what} file is mode {m:04o}, not 0600");
    }
    run_with_hook(&client, &req, size, &Cancel::new(), |_| {}, "modes")
        .await
        .unwrap();
    verify(&dest, &src, "modes");
    match umask() {
        Some(u) => assert_eq!(
            mode_of(&dest),
            0o666 & !u,
            "a new destination under umask {u:03o}"
        ),
        None => tally::note("integrity: /proc/self/status has no Umask: new-file mode not checked"),
    }
    // An existing destination keeps its mode, resumable or GetObject.
    for keep in [0o600, 0o640, 0o604] {
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(keep)).unwrap();
        let mut again = req.clone();
        again.checkpoint_dir = None;
        run_with_hook(&client, &again, size, &Cancel::new(), |_| {}, "over a file")
            .await
            .unwrap();
        assert_eq!(
            mode_of(&dest),
            keep,
            "re-downloading over a {keep:04o} file"
        );
        let o = again.object.clone();
        client
            .get_object_to_file(&o, None, &dest, None, &Cancel::new())
            .await
            .unwrap();
        assert_eq!(mode_of(&dest), keep, "GetObject over a {keep:04o} file");
        verify(&dest, &src, "modes: over an existing file");
    }
    std::fs::remove_file(&dest).unwrap();
    assert_no_leftovers(&[env.work.path()]);
    println!("    checkpoint, temp and lock files 0600; an existing destination keeps its mode");
}

/// Finding 11: the destination's directory swapped mid-download (renamed away, another
/// directory or a link put in its place holding another user's lock and temp files).
async fn swapped_directory(env: &Env, other: &OtherUser) {
    let size = 10 * PS + 3;
    let src = env.object("integrity/swap", size);
    let client = env.client();
    for (n, link) in [false, true].into_iter().enumerate() {
        let dir = env.path(&format!("swap{n}"));
        let moved = env.path(&format!("swap{n}-moved"));
        let elsewhere = env.path(&format!("swap{n}-elsewhere"));
        std::fs::create_dir(&dir).unwrap();
        let req = request("integrity/swap", &dir.join("f.bin"), None);
        let label = format!(
            "the destination's directory swapped mid-download for {}",
            if link {
                "a link to another directory"
            } else {
                "another directory"
            }
        );
        let done = Arc::new(AtomicBool::new(false));
        let (dn, d, m, el) = (done.clone(), dir.clone(), moved.clone(), elsewhere.clone());
        let foreign = other.can_chown.then_some(other.uid);
        let plant = move || {
            std::fs::rename(&d, &m).unwrap();
            std::fs::create_dir(&el).unwrap();
            if link {
                std::os::unix::fs::symlink(&el, &d).unwrap();
            } else {
                std::fs::rename(&el, &d).unwrap();
            }
            for (name, bytes) in [
                ("f.bin.temp.lock", &b"another user's lock"[..]),
                ("f.bin.temp", &b"not the object"[..]),
            ] {
                let p = d.join(name);
                std::fs::write(&p, bytes).unwrap();
                if let Some(uid) = foreign {
                    std::os::unix::fs::chown(&p, Some(uid), Some(uid)).unwrap();
                }
            }
        };
        env.slow_gets(SLOW_GET_MS);
        let r = run_with_hook(
            &client,
            &req,
            size,
            &Cancel::new(),
            move |_| {
                if !dn.swap(true, Ordering::SeqCst) {
                    plant();
                }
            },
            &label,
        )
        .await;
        env.faults(Faults::none());
        tally::inc(&tally::FAULTS);
        assert_eq!(
            std::fs::read(dir.join("f.bin.temp.lock")).ok().as_deref(),
            Some(&b"another user's lock"[..]),
            "{label}: the other directory's lock file was removed"
        );
        assert_eq!(
            std::fs::read(dir.join("f.bin.temp")).unwrap(),
            b"not the object",
            "{label}: the other directory's temp file was touched"
        );
        if dir.join("f.bin").exists() {
            tally::inc(&tally::CORRUPT);
            panic!("CORRUPT: {label}: a file was put in place in the other directory");
        }
        // The download lands in the directory it opened (or fails cleanly).
        match r {
            Ok(_) => verify(&moved.join("f.bin"), &src, &label),
            Err(e) => assert!(!moved.join("f.bin").exists(), "{label}: {e}"),
        }
        assert_no_leftovers(&[&moved]);
        // The other directory's files were planted by the test: gone with it.
        for d in [&dir, &moved, &elsewhere] {
            if std::fs::symlink_metadata(d).is_ok_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(d).unwrap();
            } else if d.exists() {
                std::fs::remove_dir_all(d).unwrap();
            }
        }
    }
    println!("    a directory swapped mid-download: nothing of the other directory removed or put in place");
}

/// The temp file swapped mid-download (renamed away, another file put at its name): the other
/// file is never renamed into place.
async fn swapped_temp_file(env: &Env) {
    let size = 10 * PS + 3;
    env.object("integrity/swaptemp", size);
    let client = env.client();
    let dest = env.path("swaptemp.bin");
    let temp = env.path("swaptemp.bin.temp");
    let req = request("integrity/swaptemp", &dest, None);
    let done = Arc::new(AtomicBool::new(false));
    let (dn, t, away) = (done.clone(), temp.clone(), env.path("swaptemp.away"));
    env.slow_gets(SLOW_GET_MS);
    let r = run_with_hook(
        &client,
        &req,
        size,
        &Cancel::new(),
        move |_| {
            if !dn.swap(true, Ordering::SeqCst) {
                std::fs::rename(&t, &away).unwrap();
                std::fs::write(&t, vec![b'!'; size as usize]).unwrap();
            }
        },
        "the temp file swapped mid-download",
    )
    .await;
    env.faults(Faults::none());
    tally::inc(&tally::FAULTS);
    if dest.exists() {
        tally::inc(&tally::CORRUPT);
        panic!("CORRUPT: a temp file swapped in mid-download was put in place ({r:?})");
    }
    let e = r.expect_err("the swapped temp file");
    assert_eq!(e.code, "RenameError", "{e}");
    assert!(temp.exists(), "the file swapped in was removed");
    std::fs::remove_file(&temp).unwrap();
    std::fs::remove_file(env.path("swaptemp.away")).unwrap();
    assert_no_leftovers(&[env.work.path()]);
    println!(
        "    the temp file swapped mid-download: refused at the rename ({})",
        e.message
    );
}

/// Finding 11: with no destination given, the key is a path beneath the working directory; a
/// symbolic link already there (to a directory outside) is never followed. Child processes, so
/// that the working directory is theirs alone.
fn default_destination_never_follows_links(env: &Env) {
    let size = 3 * PS + 1;
    let outside = env.path("outside");
    let cwd = env.path("cwd");
    std::fs::create_dir_all(cwd.join("x")).unwrap();
    std::fs::create_dir_all(cwd.join("real")).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, cwd.join("a")).unwrap();
    std::os::unix::fs::symlink(&outside, cwd.join("x/a")).unwrap();
    for (n, (key, refused)) in [
        ("a/f.bin", true),
        ("x/a/f.bin", true),
        ("real/f.bin", false),
    ]
    .into_iter()
    .enumerate()
    {
        let src = env.object(key, size);
        let spec = Spec {
            endpoint: env.emu.endpoint(),
            key: key.into(),
            dest: PathBuf::new(),
            ckpt: None,
            part: PS,
            threads: 2,
            range: None,
            total: size,
        };
        let what = format!("default destination for key '{key}' (a link in the working directory)");
        tally::inc(&tally::BAD_INPUTS);
        let out = child::spawn_default_destination(&spec, &cwd).finish(&what);
        let landed = std::fs::read_dir(&outside).unwrap().count();
        if landed > 0 {
            tally::inc(&tally::CORRUPT);
            panic!("CORRUPT: {what}: {landed} files written through the link ({out:?})");
        }
        match (refused, out) {
            (true, Outcome::Err(e)) => {
                assert!(e.starts_with("ValidateError"), "{what}: {e}");
                if n == 0 {
                    println!("    {what}: {e}");
                }
            }
            (false, Outcome::Ok) => verify(&cwd.join(key), &src, &what),
            (_, out) => panic!("{what}: {out:?}"),
        }
    }
    assert_no_leftovers(&[&cwd, &outside]);
    println!("    default destinations: links in the working directory are not followed");
}

/// Where a case's download starts and how long it is (`range`: start and length, `None`: the
/// whole object of `size` bytes), and which of the two it is, for messages.
fn span(range: Option<(u64, u64)>, size: u64) -> (u64, u64, &'static str) {
    match range {
        None => (0, size, "whole object"),
        Some((s, l)) => (s, l, "range"),
    }
}

/// The request's inclusive byte range for a case's `range` (see [`span`]).
fn byte_range(range: Option<(u64, u64)>) -> Option<(i64, i64)> {
    range.map(|(s, l)| (s as i64, (s + l - 1) as i64))
}
