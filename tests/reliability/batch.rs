//! Batch downloads (`Client::download_objects`) under SIGKILL and under a bucket that changes.
//!
//! - kills: a batch of 2,000 objects of 1-16 KiB and 20 of 200-800 KiB (parts of 100 KiB, a
//!   checkpoint each; soak: 10,000 and 100) run by child processes killed until 20 kills (soak:
//!   100) hit a running batch, each destination then run to the end, then once more. After every kill, every
//!   file under the destination that is an object's path is complete and right (bytes compared
//!   with the emulator's object), and the journal is never ahead of the files (each of its
//!   entries names a file that is complete and right, with the object's ETag, size and CRC64).
//!   No run fetches an object the journal already held when it started (the emulator's request
//!   log), the last run ends with every object right and nothing left but the files and the
//!   journal, and the run after it fetches no object at all.
//! - pages: objects added, deleted and changed while the listing is between its pages
//!   (`list_insert`, `list_delete`, `mutate`): an object deleted after it was listed is a
//!   per-key failure with no file, one added or deleted further on is simply listed or not, one
//!   changed before its GET is downloaded as the GET answered it and journaled so.
//! - power: a batch on the power-cut file system (strict model) cut at random moments: the
//!   journal that survives names only files that survived complete and right (skipped with a
//!   note where FUSE cannot be mounted).
//! - runs: objects changed (same size and new size), deleted and added between two runs: the
//!   re-run fetches the changed and the added ones only, reports the deleted ones (their files
//!   left alone), and ends with every file right.
//!
//! The batch runs in this test binary re-executed with `OSS_REL_BATCH_CHILD=1`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::batch::journal::{Journal, JournalEntry};
use oss_ffi::batch::BatchRequest;
use oss_ffi::cancel::Cancel;
use oss_ffi::download::directory::Directory;

use crate::download_support::*;
use crate::tally;

const PREFIX: &str = "batch/";
/// The batch's part size: objects over 200 KiB are large (parts, a checkpoint).
const PART: u64 = 100 * KIB;

pub fn is_child() -> bool {
    std::env::var("OSS_REL_BATCH_CHILD").is_ok_and(|v| v == "1")
}

/// The child's side: one batch, its report on stdout (`BATCH_*` lines), then `CHILD_OK`.
pub fn child_main() {
    let var = |n: &str| std::env::var(format!("OSS_REL_{n}")).ok();
    let endpoint = var("ENDPOINT").expect("OSS_REL_ENDPOINT");
    let mut req = BatchRequest::for_prefix(
        BUCKET,
        var("PREFIX").unwrap(),
        PathBuf::from(var("DEST").unwrap()),
    );
    // Objects over two parts go through the resumable downloader, with checkpoints.
    req.part_size = PART;
    let rt = child_runtime();
    let client = client_for(&endpoint, false);
    let report = rt.block_on(client.download_objects(&req, &Cancel::new()));
    let p = &report.progress;
    println!(
        "BATCH_COUNTS listed={} done={} skipped={} failed={}",
        p.objects_listed, p.objects_done, p.objects_skipped, p.objects_failed
    );
    for (k, e) in &report.failures {
        println!("BATCH_FAILED {k:?} {}", e.code);
    }
    for k in &report.deleted {
        println!("BATCH_DELETED {k:?}");
    }
    if let Some(e) = &report.stopped {
        println!("BATCH_STOPPED {} {}", e.code, e.message);
    }
    println!("CHILD_OK");
}

/// What a child printed.
#[derive(Debug, Default)]
struct Printed {
    counts: HashMap<String, u64>,
    failed: Vec<(String, String)>,
    deleted: Vec<String>,
    stopped: Option<String>,
    ok: bool,
}

fn parse_printed(lines: &[String]) -> Printed {
    let mut p = Printed::default();
    let unquote = |s: &str| -> String { serde_json::from_str(s).unwrap_or_else(|_| s.to_string()) };
    for l in lines {
        if let Some(rest) = l.strip_prefix("BATCH_COUNTS ") {
            for kv in rest.split(' ') {
                let (k, v) = kv.split_once('=').unwrap();
                p.counts.insert(k.to_string(), v.parse().unwrap());
            }
        } else if let Some(rest) = l.strip_prefix("BATCH_FAILED ") {
            let (k, code) = rest.rsplit_once(' ').unwrap();
            p.failed.push((unquote(k), code.to_string()));
        } else if let Some(rest) = l.strip_prefix("BATCH_DELETED ") {
            p.deleted.push(unquote(rest));
        } else if let Some(rest) = l.strip_prefix("BATCH_STOPPED ") {
            p.stopped = Some(rest.to_string());
        } else if l == "CHILD_OK" {
            p.ok = true;
        }
    }
    p
}

fn spawn(env: &Env, dest: &Path) -> std::process::Child {
    spawn_prefix(env, dest, PREFIX)
}

fn spawn_prefix(env: &Env, dest: &Path, prefix: &str) -> std::process::Child {
    let child = Command::new(std::env::current_exe().unwrap())
        .env("OSS_REL_BATCH_CHILD", "1")
        .env("OSS_REL_ENDPOINT", env.emu.endpoint())
        .env("OSS_REL_PREFIX", prefix)
        .env("OSS_REL_DEST", dest)
        .env_remove("OSS_FFI_TEST_PAUSE_AT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tally::inc(&tally::CHILD_RUNS);
    child
}

fn output(mut child: std::process::Child, what: &str) -> Printed {
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let out: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(|l| l.ok())
        .collect();
    let st = tally::wait_child(&mut child, what, 300);
    let err = err.join().unwrap();
    tally::scan(
        &format!("{}\n{err}", out.join("\n")),
        "a batch child's output",
    );
    let p = parse_printed(&out);
    if !p.ok {
        tally::inc(&tally::CRASHES);
        panic!("{what}: the batch child ended without a result ({st}):\n{out:?}\n{err}");
    }
    p
}

/// Runs a batch child to the end.
fn run_batch(env: &Env, dest: &Path, what: &str) -> Printed {
    tally::inc(&tally::DOWNLOADS);
    output(spawn(env, dest), what)
}

/// The bucket's objects as the test made them: key -> bytes.
type Objects = HashMap<String, Vec<u8>>;

fn put(env: &Env, objects: &mut Objects, key: &str, data: Vec<u8>) {
    let meta = env.emu.put_object_meta(BUCKET, key, &data).unwrap();
    VERSIONS
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .insert(meta.etag, data.clone());
    objects.insert(key.to_string(), data);
}

fn make_objects(env: &Env, n: usize, rng: &mut Rng) -> Objects {
    let mut objects = Objects::new();
    for i in 0..n {
        let size = 1024 + rng.below(15 * 1024 + 1) as usize;
        let key = format!("{PREFIX}d{:02}/o{i:05}.bin", i % 37);
        put(env, &mut objects, &key, bytes(size, rng.next()));
    }
    // A few large ones among them: parts and checkpoints under the kills too.
    for i in 0..n / 100 {
        let size = (2 * PART + 1 + rng.below(6 * PART)) as usize;
        let key = format!("{PREFIX}d{:02}/large{i:03}.bin", i % 37);
        put(env, &mut objects, &key, bytes(size, rng.next()));
    }
    objects
}

fn is_journal(name: &str) -> bool {
    name.starts_with(".oss-ffi-batch-") && name.ends_with(".journal")
}

/// Every regular file under `dest`, relative, with `/`.
fn files(dest: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dest, dest, &mut out);
    out.sort();
    out
}

/// The journal's entries (none when there is no journal yet).
fn journal(dest: &Path) -> HashMap<String, JournalEntry> {
    let Some(name) = files(dest).into_iter().find(|f| is_journal(f)) else {
        return HashMap::new();
    };
    let dir = Directory::open(dest).unwrap();
    Journal::read_named(&dir, std::ffi::OsStr::new(&name))
        .unwrap()
        .map(|(entries, _)| entries)
        .unwrap_or_default()
}

fn corrupt(msg: String) -> ! {
    tally::inc(&tally::CORRUPT);
    panic!("{msg}");
}

/// After any run or kill: every object's file present is complete and right; every journal
/// entry names a complete and right file with the object's ETag, size and CRC64. Returns the
/// names that are neither (temp files, locks, checkpoints) and the journal.
fn check(
    env: &Env,
    dest: &Path,
    objects: &Objects,
) -> (Vec<String>, HashMap<String, JournalEntry>) {
    let mut others = Vec::new();
    for f in files(dest) {
        let key = format!("{PREFIX}{f}");
        match objects.get(&key) {
            Some(want) => {
                let got = std::fs::read(dest.join(&f)).unwrap();
                if &got != want {
                    corrupt(format!(
                        "the file '{f}' is not the object's bytes ({} bytes, want {})",
                        got.len(),
                        want.len()
                    ));
                }
            }
            None if is_journal(&f) => {}
            None => others.push(f),
        }
    }
    (others, check_journal(env, dest))
}

/// Every version of every object the test put, by ETag (the emulator's ETag is the content's
/// MD5: one ETag, one content).
static VERSIONS: std::sync::Mutex<Option<HashMap<String, Vec<u8>>>> = std::sync::Mutex::new(None);

fn version(etag: &str) -> Option<Vec<u8>> {
    VERSIONS.lock().unwrap().as_ref()?.get(etag).cloned()
}

/// Every journal entry names a complete and right file: the bytes of the version its ETag
/// names (one the test put, or the emulator's current one after a mutation), with that size and
/// CRC64. So the journal is never ahead of the files, whatever changed since. Returns the
/// entries.
fn check_journal(env: &Env, dest: &Path) -> HashMap<String, JournalEntry> {
    let entries = journal(dest);
    for (key, e) in &entries {
        let want = version(&e.etag).unwrap_or_else(|| {
            match env.emu.object_meta(BUCKET, key).ok().flatten() {
                Some(m) if m.etag == e.etag => {
                    std::fs::read(env.emu.object_path(BUCKET, key)).unwrap()
                }
                _ => corrupt(format!(
                    "the journal names '{key}' with the ETag {} the object never had",
                    e.etag
                )),
            }
        });
        let path = dest.join(&e.path);
        let got = std::fs::read(&path).unwrap_or_else(|err| {
            corrupt(format!(
                "the journal is ahead of the files: it holds '{key}' but '{}' cannot be read: {err}",
                path.display()
            ))
        });
        if got != want || e.size != want.len() as u64 {
            corrupt(format!(
                "the journal is ahead of the files for '{key}': entry {e:?}, file of {} bytes, \
                 the version it names has {} bytes",
                got.len(),
                want.len(),
            ));
        }
        if let Some(c) = e.crc64 {
            if c != oss_ffi::crc64::checksum(&want) {
                corrupt(format!("the journal's CRC64 of '{key}' is wrong: {e:?}"));
            }
        }
    }
    entries
}

/// The keys of the objects GETs of the log since the last clear, once the server is idle.
fn object_gets(env: &Env) -> Vec<String> {
    env.emu.wait_idle(Duration::from_secs(10));
    crate::download_support::object_gets(env)
}

/// No run fetches an object the journal held when it started.
fn assert_nothing_refetched(env: &Env, before: &HashMap<String, JournalEntry>, what: &str) {
    let again: Vec<String> = object_gets(env)
        .into_iter()
        .filter(|k| before.contains_key(k))
        .collect();
    assert!(
        again.is_empty(),
        "{what}: fetched again {} objects the journal held as done: {:?}",
        again.len(),
        &again[..again.len().min(5)]
    );
}

pub fn run(rng: &mut Rng) {
    let env = Env::new();
    let n = tally::scale(2_000, 10_000) as usize;
    let t0 = Instant::now();
    let objects = make_objects(&env, n, rng);
    println!(
        "    batch: {} objects made in {:.1}s",
        objects.len(),
        t0.elapsed().as_secs_f64()
    );
    // `OSS_REL_BATCH_PARTS=kills,pages,power,runs` runs the parts named (all by default).
    let parts =
        std::env::var("OSS_REL_BATCH_PARTS").unwrap_or_else(|_| "kills,pages,power,runs".into());
    let part = |name: &str| parts.split(',').any(|p| p == name);
    if part("kills") {
        kills(&env, &objects, rng);
    }
    if part("pages") {
        changes_between_pages(&env, &objects);
    }
    if part("power") {
        power_cuts(&env, &objects, rng);
    }
    if part("runs") {
        changes_between_runs(&env, objects, rng);
    }
}

fn kills(env: &Env, objects: &Objects, rng: &mut Rng) {
    // An uninterrupted run: how long a batch lasts, and what it asks.
    let whole = env.path("batch-whole");
    std::fs::create_dir_all(&whole).unwrap();
    env.emu.clear_log();
    let t = Instant::now();
    let p = run_batch(env, &whole, "the uninterrupted batch");
    let length = t.elapsed();
    assert!(p.stopped.is_none() && p.failed.is_empty(), "{p:?}");
    assert_eq!(p.counts["done"], objects.len() as u64, "{p:?}");
    let (others, entries) = check(env, &whole, objects);
    assert!(others.is_empty(), "left behind: {others:?}");
    assert_eq!(entries.len(), objects.len());
    let fetched: HashSet<String> = object_gets(env).into_iter().collect();
    assert_eq!(fetched.len(), objects.len());

    // Kills until `wanted` of them hit a running batch. Each kill lands within the time the
    // work left should take (a whole run's length times the share of objects not journaled
    // yet); a batch that ends by itself first is finished (checked, run once more) and the
    // next kills start a fresh destination.
    let wanted = tally::scale(20, 100);
    let (mut hit, mut rounds, mut mid_files, mut batches) = (0, 0, 0, 0);
    let mut dest = PathBuf::new();
    let mut fresh = true;
    while hit < wanted {
        rounds += 1;
        assert!(
            rounds <= 4 * wanted,
            "{rounds} rounds for {hit} kills that hit"
        );
        if fresh {
            batches += 1;
            dest = env.path(&format!("batch-killed-{batches}"));
            std::fs::create_dir_all(&dest).unwrap();
            fresh = false;
        }
        let before = journal(&dest);
        let left = 1.0 - before.len() as f64 / objects.len() as f64;
        let window = (length.as_secs_f64() * left).max(0.05);
        env.emu.clear_log();
        let mut child = spawn(env, &dest);
        let at = Duration::from_secs_f64(window * rng.below(1001) as f64 / 1000.0);
        std::thread::sleep(at);
        let running = child.try_wait().unwrap().is_none();
        if running {
            let _ = child.kill();
            let _ = child.wait();
            hit += 1;
            tally::inc(&tally::KILLS);
        } else {
            let p = output(child, "a batch that ended before its kill");
            assert!(p.stopped.is_none() && p.failed.is_empty(), "{p:?}");
        }
        let (others, after) = check(env, &dest, objects);
        mid_files += others.len();
        assert_nothing_refetched(env, &before, &format!("kill round {rounds}"));
        assert!(
            after.keys().all(|k| objects.contains_key(k)),
            "journal entries of unknown keys"
        );
        if !running {
            finish(env, &dest, objects);
            fresh = true;
        }
    }
    finish(env, &dest, objects);
    println!(
        "    batch/kills: {hit} kills hit a running batch in {rounds} rounds over {batches} \
         destinations (a whole run: {:.1}s), {mid_files} temp/lock names seen after kills, \
         every object right at the end of each",
        length.as_secs_f64(),
    );
}

/// Runs the batch in `dest` to the end, then once more: the first run fetches nothing the
/// journal held, ends with every object right and nothing but the files and the journal; the
/// second fetches nothing.
fn finish(env: &Env, dest: &Path, objects: &Objects) {
    let before = journal(dest);
    env.emu.clear_log();
    let p = run_batch(env, dest, "the batch after the kills");
    assert!(p.stopped.is_none() && p.failed.is_empty(), "{p:?}");
    assert_nothing_refetched(env, &before, "the run after the kills");
    let (others, entries) = check(env, dest, objects);
    assert!(
        others.is_empty(),
        "left behind after the last run: {others:?}"
    );
    assert_eq!(entries.len(), objects.len());
    for k in objects.keys() {
        assert!(dest.join(&k[PREFIX.len()..]).is_file(), "missing {k}");
    }
    tally::add(&tally::VERIFIED_FILES, objects.len() as u64);
    env.emu.clear_log();
    let p = run_batch(env, dest, "the re-run");
    assert_eq!(
        object_gets(env),
        Vec::<String>::new(),
        "the re-run fetched objects"
    );
    assert_eq!(p.counts["done"], 0, "{p:?}");
    assert_eq!(p.counts["skipped"], objects.len() as u64, "{p:?}");
}

/// The journal entry of `key` holds what the emulator now has, and so does the file.
fn assert_current(env: &Env, dest: &Path, key: &str) {
    let meta = env.emu.object_meta(BUCKET, key).unwrap().unwrap();
    let now = std::fs::read(env.emu.object_path(BUCKET, key)).unwrap();
    let file = std::fs::read(dest.join(&key[PREFIX.len()..])).unwrap();
    if file != now {
        corrupt(format!(
            "'{key}': the file is not the object's current bytes"
        ));
    }
    let e = journal(dest).remove(key).expect("journaled");
    assert_eq!(
        (e.etag.as_str(), e.size),
        (meta.etag.as_str(), meta.size),
        "{key}"
    );
}

fn changes_between_pages(env: &Env, objects: &Objects) {
    let mut keys: Vec<&String> = objects.keys().collect();
    keys.sort();
    assert!(keys.len() > 1000, "two pages at least");
    // Listed on the first page, deleted before its GET: a failure, no file.
    let gone_after_listing = keys[10].clone();
    // On the second page, deleted before it is listed: simply not there.
    let gone_before_listing = keys[keys.len() - 3].clone();
    // Added before the second page: downloaded.
    let added = format!("{PREFIX}zz-added-between-pages.bin");
    // Changed when its GET comes: downloaded as the GET answered.
    let mutated = keys[500].clone();
    env.faults(
        Faults::none()
            .with(
                FaultRule::new(FaultAction::ListDelete {
                    key: gone_after_listing.clone(),
                })
                .listing(true)
                .after(1)
                .count(1),
            )
            .with(
                FaultRule::new(FaultAction::ListDelete {
                    key: gone_before_listing.clone(),
                })
                .listing(true)
                .after(1)
                .count(1),
            )
            .with(
                FaultRule::new(FaultAction::ListInsert { key: added.clone() })
                    .listing(true)
                    .after(1)
                    .count(1),
            )
            // Its GET held back, so that the second page (and the deletion) most likely
            // comes first.
            .with(
                FaultRule::new(FaultAction::Latency { ms: 3000 })
                    .method("GET")
                    .prefix(&gone_after_listing)
                    .listing(false),
            )
            .with(
                FaultRule::new(FaultAction::Mutate)
                    .method("GET")
                    .prefix(&mutated)
                    .count(1),
            ),
    );
    let dest = env.path("batch-pages");
    std::fs::create_dir_all(&dest).unwrap();
    let p = run_batch(env, &dest, "the batch whose listing changes");
    env.faults(Faults::none());
    assert!(p.stopped.is_none(), "{p:?}");
    let rel = |k: &str| dest.join(&k[PREFIX.len()..]);
    // The object deleted after the first page listed it: its GET may come before the deletion
    // (the file is then the object as it was) or after it (a NoSuchKey failure, no file).
    let fetched_before_deletion = p.failed.is_empty();
    if fetched_before_deletion {
        if std::fs::read(rel(&gone_after_listing)).unwrap() != objects[&gone_after_listing] {
            corrupt(format!("'{gone_after_listing}': not the object's bytes"));
        }
    } else {
        assert_eq!(p.failed.len(), 1, "{:?}", p.failed);
        assert_eq!(
            p.failed[0],
            (gone_after_listing.clone(), "NoSuchKey".to_string())
        );
        assert!(!rel(&gone_after_listing).exists());
        assert!(!journal(&dest).contains_key(&gone_after_listing));
    }
    assert!(!rel(&gone_before_listing).exists());
    assert_current(env, &dest, &added);
    assert_current(env, &dest, &mutated);
    // Everything else is the objects' bytes.
    let mut rest = objects.clone();
    for k in [&gone_after_listing, &gone_before_listing, &mutated] {
        rest.remove(k);
    }
    let (others, _) = check(env, &dest, &rest);
    let others: Vec<_> = others
        .into_iter()
        .filter(|f| {
            ![&added, &mutated, &gone_after_listing]
                .iter()
                .any(|k| *f == k[PREFIX.len()..])
        })
        .collect();
    assert!(others.is_empty(), "left behind: {others:?}");
    // Put back what was deleted and mutated for the next scenario.
    for k in [&gone_after_listing, &gone_before_listing, &mutated] {
        env.emu.put_object(BUCKET, k, &objects[k]).unwrap();
    }
    env.emu.delete_object(BUCKET, &added).unwrap();
    tally::add(&tally::OBJECT_CHANGES, 4);
    println!(
        "    batch/pages: deleted, added and changed between pages: ok (the deleted listed \
         object was {})",
        if fetched_before_deletion {
            "fetched before its deletion"
        } else {
            "a NoSuchKey failure"
        }
    );
}

fn changes_between_runs(env: &Env, mut objects: Objects, rng: &mut Rng) {
    let dest = env.path("batch-runs");
    std::fs::create_dir_all(&dest).unwrap();
    let p = run_batch(env, &dest, "the first run");
    assert!(p.failed.is_empty() && p.stopped.is_none(), "{p:?}");
    let mut keys: Vec<String> = objects.keys().cloned().collect();
    keys.sort();
    let mut fetched_expected = HashSet::new();
    // Same size, new bytes; new size; deleted; added.
    for k in keys.iter().step_by(97).take(10) {
        let len = objects[k].len();
        put(env, &mut objects, k, bytes(len, rng.next()));
        fetched_expected.insert(k.clone());
    }
    for k in keys.iter().skip(13).step_by(89).take(10) {
        let len = objects[k].len() + 1 + rng.below(100) as usize;
        put(env, &mut objects, k, bytes(len, rng.next()));
        fetched_expected.insert(k.clone());
    }
    let mut deleted = Vec::new();
    for k in keys.iter().skip(29).step_by(83).take(10) {
        if fetched_expected.contains(k) {
            continue;
        }
        env.emu.delete_object(BUCKET, k).unwrap();
        deleted.push(objects.remove(k).map(|v| (k.clone(), v)).unwrap());
    }
    for i in 0..10 {
        let k = format!("{PREFIX}added/{i}.bin");
        put(env, &mut objects, &k, bytes(100 + i, rng.next()));
        fetched_expected.insert(k);
    }
    tally::add(
        &tally::OBJECT_CHANGES,
        (fetched_expected.len() + deleted.len()) as u64,
    );
    env.emu.clear_log();
    // The re-run killed at random moments first, while it replaces the changed files: the
    // journal never names a file that is not the version it records.
    let mut ended = None;
    let mut kills = 0;
    // Object GETs held back 400 ms, so that the kills land among them.
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::Latency { ms: 400 })
                .method("GET")
                .listing(false),
        ),
    );
    for _ in 0..tally::scale(4, 12) {
        let mut child = spawn(env, &dest);
        std::thread::sleep(Duration::from_millis(rng.below(1200)));
        if child.try_wait().unwrap().is_some() {
            ended = Some(output(child, "a re-run that ended before its kill"));
            break;
        }
        let _ = child.kill();
        let _ = child.wait();
        kills += 1;
        tally::inc(&tally::KILLS);
        check_journal(env, &dest);
    }
    env.faults(Faults::none());
    let p = ended.unwrap_or_else(|| run_batch(env, &dest, "the run after the changes"));
    assert!(p.failed.is_empty() && p.stopped.is_none(), "{p:?}");
    // Over all these runs: the changed and added objects only.
    let fetched: HashSet<String> = object_gets(env).into_iter().collect();
    assert_eq!(fetched, fetched_expected, "what the re-runs fetched");
    let mut reported = p.deleted.clone();
    reported.sort();
    let mut want: Vec<String> = deleted.iter().map(|(k, _)| k.clone()).collect();
    want.sort();
    assert_eq!(reported, want, "the deleted keys reported");
    // Their files are left alone.
    for (k, v) in &deleted {
        assert_eq!(&std::fs::read(dest.join(&k[PREFIX.len()..])).unwrap(), v);
    }
    let (others, _) = check(env, &dest, &objects);
    let deleted_files: HashSet<String> = deleted
        .iter()
        .map(|(k, _)| k[PREFIX.len()..].to_string())
        .collect();
    let others: Vec<_> = others
        .into_iter()
        .filter(|f| !deleted_files.contains(f))
        .collect();
    assert!(others.is_empty(), "left behind: {others:?}");
    for k in &fetched_expected {
        assert_current(env, &dest, k);
    }
    println!(
        "    batch/runs: {} changed or added re-fetched ({kills} kills of the re-run first), {} \
         deleted reported, the rest untouched",
        fetched_expected.len(),
        deleted.len()
    );
}

/// The prefix of the power-cut batches: a tenth of the objects (`batch/d00/` .. `batch/d09/`).
const POWER_PREFIX: &str = "batch/d0";

/// Power cuts (`tests/reliability/powerfs.rs`, strict model: only what fsync(2) promises is
/// durable): a batch on the power-cut file system SIGKILLed at a random moment while the file
/// system freezes and loses unsynced writes; after each cut the journal that survived names
/// only files that survived complete and right (files it does not name may be anything: the
/// next run decides again). Then the batch runs to the end on what survived.
fn power_cuts(env: &Env, objects: &Objects, rng: &mut Rng) {
    use crate::powerfs::{self, DataLoss, Model, PowerFs, DATA_LOSSES};
    let base = tempfile::tempdir().unwrap();
    let mnt = base.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    if let Err(why) = powerfs::probe(&mnt) {
        tally::note(format!(
            "batch/power: skipped, FUSE cannot be mounted ({why})"
        ));
        return;
    }
    let objects: Objects = objects
        .iter()
        .filter(|(k, _)| k.starts_with(POWER_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let fs = PowerFs::new(Model::Strict, &mnt);
    let new_dest = |n: usize| -> PathBuf {
        let d = fs.mountpoint.join(format!("dest{n}"));
        let _m = fs.mount().expect("mount");
        std::fs::create_dir(&d).unwrap();
        fs.sync_all();
        d
    };
    // An uninterrupted run: how long a batch lasts on this file system.
    let mut dests = 0;
    let mut dest = new_dest(dests);
    let length = {
        let _m = fs.mount().expect("mount");
        let t = Instant::now();
        let p = run_batch_prefix(
            env,
            &dest,
            POWER_PREFIX,
            "a batch on the power-cut file system",
        );
        assert!(p.stopped.is_none() && p.failed.is_empty(), "{p:?}");
        t.elapsed()
    };
    dests += 1;
    dest = new_dest(dests);
    let wanted = tally::scale(6, 30);
    let (mut cuts, mut rounds, mut journaled) = (0, 0, 0);
    while cuts < wanted {
        rounds += 1;
        assert!(rounds <= 4 * wanted, "{rounds} rounds for {cuts} cuts");
        let m = fs.mount().expect("mount");
        let left = 1.0 - journal(&dest).len() as f64 / objects.len() as f64;
        let window = (length.as_secs_f64() * left).max(0.05);
        let mut child = spawn_prefix(env, &dest, POWER_PREFIX);
        std::thread::sleep(Duration::from_secs_f64(
            window * rng.below(1001) as f64 / 1000.0,
        ));
        if child.try_wait().unwrap().is_some() {
            let p = output(child, "a batch on the power-cut file system");
            assert!(p.stopped.is_none() && p.failed.is_empty(), "{p:?}");
            drop(m);
            dests += 1;
            dest = new_dest(dests);
            continue;
        }
        let _ = child.kill();
        fs.freeze();
        tally::wait_child(&mut child, "a batch cut by a power cut", 60);
        drop(m);
        tally::inc(&tally::KILLS);
        let loss: DataLoss = DATA_LOSSES[rng.below(DATA_LOSSES.len() as u64) as usize];
        let rep = fs.crash(rng, loss);
        cuts += 1;
        tally::inc(&tally::POWER_CUTS);
        tally::add(&tally::WRITES_LOST, rep.data_ops_dropped);
        tally::add(&tally::META_LOST, rep.meta_ops_dropped);
        let _m = fs.mount().expect("mount");
        let entries = check_journal(env, &dest);
        journaled = journaled.max(entries.len());
    }
    // To the end on what survived: every object right, nothing else left.
    let _m = fs.mount().expect("mount");
    let p = run_batch_prefix(env, &dest, POWER_PREFIX, "the batch after the power cuts");
    assert!(p.stopped.is_none() && p.failed.is_empty(), "{p:?}");
    let (others, entries) = check(env, &dest, &objects);
    // (A large object's `.ckpt.tmp` whose removal a cut undid was once left here for good,
    // the object being done: the job now fsyncs the checkpoint directory with each group.)
    assert!(others.is_empty(), "left behind: {others:?}");
    assert_eq!(entries.len(), objects.len());
    tally::add(&tally::VERIFIED_FILES, objects.len() as u64);
    println!(
        "    batch/power: {cuts} cuts of a {}-object batch in {rounds} rounds (strict model; a \
         whole run {:.1}s; up to {journaled} journal entries survived a cut): the journal never \
         named a file that did not survive, every object right at the end",
        objects.len(),
        length.as_secs_f64()
    );
}

fn run_batch_prefix(env: &Env, dest: &Path, prefix: &str, what: &str) -> Printed {
    tally::inc(&tally::DOWNLOADS);
    output(spawn_prefix(env, dest, prefix), what)
}
