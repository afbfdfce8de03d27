//! The batch download (`Client::download_objects`) against the emulator: prefixes and key
//! lists, paths, filters, overwrite and failure policies, the memory budget, dry runs, cancel and
//! re-run, the journal, unsafe keys, progress.

mod download_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use download_support::*;
use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::batch::{
    BatchProgress, BatchReport, BatchRequest, ObjectOutcome, OnFailure, Outcome, Overwrite,
    SkipReason,
};
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::ErrorKind;
use tokio_util::sync::CancellationToken;

fn dest(env: &Env) -> PathBuf {
    env.path("out")
}

async fn run(client: &Client, req: &BatchRequest) -> BatchReport {
    client.download_objects(req, &Cancel::new()).await
}

fn same_bytes(env: &Env, key: &str, local: &Path) {
    let want = std::fs::read(env.emu.object_path(BUCKET, key)).unwrap();
    let have = std::fs::read(local).unwrap_or_else(|e| panic!("{}: {e}", local.display()));
    assert!(want == have, "{} differs from {key}", local.display());
}

/// Every outcome, by key (callback calls recorded).
#[derive(Default, Clone)]
struct Outcomes(Arc<Mutex<Vec<ObjectOutcome>>>);

impl Outcomes {
    fn attach(&self, req: &mut BatchRequest) {
        let me = self.0.clone();
        req.on_object = Some(Arc::new(move |o: &ObjectOutcome| {
            me.lock().unwrap().push(o.clone())
        }));
    }
    fn by_key(&self) -> HashMap<String, ObjectOutcome> {
        let v = self.0.lock().unwrap();
        v.iter().map(|o| (o.key.clone(), o.clone())).collect()
    }
}

fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if t.is_dir() {
                walk(root, &e.path(), out);
            } else {
                out.push(rel);
            }
        }
    }
    if root.exists() {
        walk(root, root, &mut out);
    }
    out.sort();
    out
}

/// The visible files (not the journal, which is a hidden file of the destination).
fn visible_files(root: &Path) -> Vec<String> {
    files_under(root)
        .into_iter()
        .filter(|f| !f.starts_with(".oss-ffi-batch-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_lands_under_the_destination_without_the_prefix_directory() {
    let env = Env::new();
    for (k, size) in [
        ("logs/2026-12-01/a.gz", 1000),
        ("logs/2026-12-01/sub/b.gz", 0),
        ("logs/2026-12-02/c.gz", 70_000),
        ("logs/other.txt", 5),
    ] {
        env.object(k, size);
    }
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "logs/2026-12-0", dest(&env));
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_listed, 3);
    assert_eq!(r.progress.objects_done, 3);
    assert_eq!(r.progress.bytes_done, 71_000);
    assert!(r.progress.listing_done);
    assert_eq!(
        visible_files(&dest(&env)),
        ["2026-12-01/a.gz", "2026-12-01/sub/b.gz", "2026-12-02/c.gz"]
    );
    same_bytes(
        &env,
        "logs/2026-12-01/a.gz",
        &dest(&env).join("2026-12-01/a.gz"),
    );
    same_bytes(
        &env,
        "logs/2026-12-02/c.gz",
        &dest(&env).join("2026-12-02/c.gz"),
    );
    let journal = r.journal_path.expect("a journal");
    assert!(journal.starts_with(dest(&env).canonicalize().unwrap()));
    use std::os::unix::fs::PermissionsExt;
    // New files get the mode of any new file (0666 less the umask), not the temp file's 0600.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        .unwrap();
    let file = dest(&env).join("2026-12-01/a.gz");
    let mode = std::fs::metadata(file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o666 & !umask);
    let mode = std::fs::metadata(&journal).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // No temp or lock file left.
    assert!(files_under(&dest(&env))
        .iter()
        .all(|f| !f.ends_with(".temp") && !f.ends_with(".lock")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_list_uses_whole_keys_fetches_each_once_and_reports_missing_ones() {
    let env = Env::new();
    env.object("x/one", 10);
    env.object("two", 20);
    let client = env.client();
    let keys = vec![
        "x/one".into(),
        "two".into(),
        "x/one".into(),
        "missing".into(),
    ];
    let mut req = BatchRequest::for_keys(BUCKET, keys, dest(&env));
    let outcomes = Outcomes::default();
    outcomes.attach(&mut req);
    env.emu.clear_log();
    let r = run(&client, &req).await;
    assert_eq!(r.progress.objects_done, 2);
    assert_eq!(r.progress.objects_failed, 1);
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].0, "missing");
    assert_eq!(r.failures[0].1.code, "NoSuchKey");
    assert_eq!(r.result().unwrap_err().code, "NoSuchKey");
    assert_eq!(visible_files(&dest(&env)), ["two", "x/one"]);
    let mut gets = object_gets(&env);
    gets.sort();
    assert_eq!(gets, ["two", "x/one"], "each key fetched once");
    let by_key = outcomes.by_key();
    assert!(matches!(by_key["missing"].outcome, Outcome::Failed(_)));
    assert!(matches!(by_key["two"].outcome, Outcome::Downloaded));
    assert_eq!(
        by_key["two"].path.as_deref(),
        Some(dest(&env).join("two").as_path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_by_pattern_size_and_time() {
    let env = Env::new();
    for (k, size) in [
        ("d/a.gz", 100),
        ("d/deep/b.gz", 200),
        ("d/skip/c.gz", 100),
        ("d/d.txt", 100),
        ("d/big.gz", 5000),
    ] {
        env.object(k, size);
    }
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "d/", dest(&env));
    req.include = vec!["*.gz".into()];
    req.exclude = vec!["skip/**".into()];
    req.max_size = Some(1000);
    req.min_size = Some(100);
    let outcomes = Outcomes::default();
    outcomes.attach(&mut req);
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(visible_files(&dest(&env)), ["a.gz", "deep/b.gz"]);
    assert_eq!(r.progress.objects_skipped, 3);
    let by_key = outcomes.by_key();
    for k in ["d/skip/c.gz", "d/d.txt", "d/big.gz"] {
        assert!(
            matches!(by_key[k].outcome, Outcome::Skipped(SkipReason::Filtered)),
            "{k}"
        );
    }
    // Modified after the far future: nothing.
    let mut req = BatchRequest::for_prefix(BUCKET, "d/", env.path("later"));
    req.modified_after = Some(4_000_000_000);
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_skipped, 5);
    assert!(visible_files(&env.path("later")).is_empty());
    // Modified before the far future: everything.
    req.modified_after = None;
    req.modified_before = Some(4_000_000_000);
    let r = run(&client, &req).await;
    assert_eq!(r.progress.objects_done, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_fetches_nothing_and_a_changed_object_is_fetched_again() {
    let env = Env::new();
    for i in 0..20 {
        env.object(&format!("p/{i:02}"), 100 + i);
    }
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "p/", dest(&env));
    run(&client, &req).await.result().unwrap();
    env.emu.clear_log();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_skipped, 20);
    assert_eq!(r.progress.objects_done, 0);
    assert!(object_gets(&env).is_empty(), "{:?}", object_gets(&env));
    // One object changes (same size, new ETag): only it is fetched again.
    env.emu.put_object(BUCKET, "p/07", &[b'z'; 107]).unwrap();
    env.emu.clear_log();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_done, 1);
    assert_eq!(object_gets(&env), ["p/07"]);
    assert_eq!(
        std::fs::read(dest(&env).join("07")).unwrap(),
        vec![b'z'; 107]
    );
    // A file removed locally is fetched again.
    std::fs::remove_file(dest(&env).join("03")).unwrap();
    env.emu.clear_log();
    run(&client, &req).await.result().unwrap();
    assert_eq!(object_gets(&env), ["p/03"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrite_never_keeps_existing_files_and_always_replaces_them() {
    let env = Env::new();
    env.object("k/a", 50);
    env.object("k/b", 50);
    std::fs::create_dir_all(dest(&env)).unwrap();
    std::fs::write(dest(&env).join("a"), b"mine").unwrap();
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "k/", dest(&env));
    req.overwrite = Overwrite::Never;
    let outcomes = Outcomes::default();
    outcomes.attach(&mut req);
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(std::fs::read(dest(&env).join("a")).unwrap(), b"mine");
    assert!(matches!(
        outcomes.by_key()["k/a"].outcome,
        Outcome::Skipped(SkipReason::Exists)
    ));
    same_bytes(&env, "k/b", &dest(&env).join("b"));
    // Always: both fetched again.
    req.overwrite = Overwrite::Always;
    env.emu.clear_log();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_done, 2);
    assert_eq!(object_gets(&env).len(), 2);
    same_bytes(&env, "k/a", &dest(&env).join("a"));
    // IfChanged without a journal entry: a file of another size is replaced, keeping its mode.
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dest(&env).join("b"), b"short").unwrap();
    std::fs::set_permissions(dest(&env).join("b"), std::fs::Permissions::from_mode(0o640)).unwrap();
    req.overwrite = Overwrite::IfChanged;
    run(&client, &req).await.result().unwrap();
    same_bytes(&env, "k/b", &dest(&env).join("b"));
    let mode = std::fs::metadata(dest(&env).join("b"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "a replaced file keeps its mode");
}

fn failing_get(key: &str) -> Faults {
    Faults::none().with(
        FaultRule::new(FaultAction::Status {
            status: 403,
            code: Some("AccessDenied".into()),
        })
        .method("GET")
        .prefix(key),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continue_reports_a_failing_object_and_downloads_the_rest() {
    let env = Env::new();
    for k in ["f/a", "f/b", "f/c"] {
        env.object(k, 300);
    }
    env.faults(failing_get("f/b"));
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "f/", dest(&env));
    let r = run(&client, &req).await;
    assert!(r.stopped.is_none());
    assert_eq!(r.progress.objects_done, 2);
    assert_eq!(r.progress.objects_failed, 1);
    assert_eq!(r.failures[0].0, "f/b");
    assert_eq!(r.failures[0].1.code, "AccessDenied");
    assert_eq!(r.result().unwrap_err().code, "AccessDenied");
    assert_eq!(visible_files(&dest(&env)), ["a", "c"]);
    // Fixed on the server: the re-run fetches only the failed one.
    env.faults(Faults::none());
    env.emu.clear_log();
    run(&client, &req).await.result().unwrap();
    assert_eq!(object_gets(&env), ["f/b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_batch_at_the_first_failure() {
    let env = Env::new();
    for k in ["s/a", "s/b", "s/c"] {
        env.object(k, 300);
    }
    env.faults(failing_get("s/a"));
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "s/", dest(&env));
    req.on_failure = OnFailure::Stop;
    req.max_objects_in_flight = 1;
    let r = run(&client, &req).await;
    let stopped = r.stopped.clone().expect("stopped");
    assert_eq!(stopped.code, "AccessDenied");
    assert!(stopped.message.contains("s/a"), "{stopped}");
    assert_eq!(
        r.progress.objects_done, 0,
        "nothing started after the failure"
    );
    assert!(!r.progress.listing_done);
    assert!(visible_files(&dest(&env)).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_and_large_objects_share_a_small_budget() {
    let env = Env::new();
    let mut keys = Vec::new();
    for i in 0..12 {
        keys.push((format!("m/small{i:02}"), 10_000 + i));
    }
    for i in 0..3 {
        keys.push((format!("m/large{i}"), 900_000 + i));
    }
    for (k, size) in &keys {
        env.object(k, *size);
    }
    let client = env.client_with(|c| {
        c.memory_budget = oss_ffi::memory_budget::MIN_MEMORY_BUDGET;
        c.max_connections = 64;
    });
    let budget = client.memory_budget().clone();
    // A request in flight holds at least the slot of the smallest small object.
    let admitted = budget.capacity(oss_ffi::memory_budget::MemoryBudget::small_get_cost(
        10_000, 10_000,
    ));
    let mut req = BatchRequest::for_prefix(BUCKET, "m/", dest(&env));
    req.part_size = oss_ffi::download::MIN_PART_SIZE; // objects over 200 KiB are large
    req.thread_num = 4;
    req.max_objects_in_flight = 64;
    env.emu.take_peak_in_flight();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_done, 15);
    let peak = env.emu.take_peak_in_flight();
    assert!(
        peak as usize <= admitted,
        "{peak} requests at once, the budget admits {admitted}"
    );
    assert_eq!(
        budget.free_bytes(),
        budget.total() - oss_ffi::memory_budget::BASE_COST,
        "every slot given back"
    );
    for (k, _) in &keys {
        same_bytes(&env, k, &dest(&env).join(k.strip_prefix("m/").unwrap()));
    }
    // Nothing but the objects and the journal left: no temp, lock, checkpoint or its directory.
    let mut names: Vec<String> = std::fs::read_dir(dest(&env))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".journal"), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_fetches_nothing_and_writes_nothing() {
    let env = Env::new();
    for k in ["y/a", "y/b/c"] {
        env.object(k, 42);
    }
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "y/", dest(&env));
    req.dry_run = true;
    let outcomes = Outcomes::default();
    outcomes.attach(&mut req);
    env.emu.clear_log();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_done, 2);
    assert_eq!(r.progress.bytes_total, 84);
    assert_eq!(r.progress.bytes_done, 0);
    assert!(object_gets(&env).is_empty());
    assert!(!dest(&env).exists(), "nothing written");
    assert!(r.journal_path.is_none());
    assert!(outcomes
        .by_key()
        .values()
        .all(|o| matches!(o.outcome, Outcome::WouldDownload)));
    // After a real run, a dry run would fetch nothing.
    req.dry_run = false;
    run(&client, &req).await.result().unwrap();
    req.dry_run = true;
    let r = run(&client, &req).await;
    assert_eq!(r.progress.objects_skipped, 2);
    assert_eq!(r.progress.objects_done, 0);
}

/// The journal's entries: (key, size, path), the last line of a key winning, a forget line
/// removing it (as the journal reads itself).
fn journal_entries(path: &Path) -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut entries = std::collections::BTreeMap::new();
    for line in text.lines() {
        let Some((json, _)) = line.rsplit_once('\t') else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        if let Some(k) = v.get("forget") {
            entries.remove(k.as_str().unwrap());
            continue;
        }
        let key = v["key"].as_str().unwrap().to_string();
        let e = (
            key.clone(),
            v["size"].as_u64().unwrap(),
            v["path"].as_str().unwrap().to_string(),
        );
        entries.insert(key, e);
    }
    entries.into_values().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_batch_completes_on_rerun_and_its_journal_names_only_complete_files() {
    let env = Env::new();
    let n = 40;
    for i in 0..n {
        env.object(&format!("c/{i:02}"), 2000 + i);
    }
    env.slow_gets(20);
    let client = env.client();
    let token = CancellationToken::new();
    let mut req = BatchRequest::for_prefix(BUCKET, "c/", dest(&env));
    req.max_objects_in_flight = 4;
    let t = token.clone();
    let done = Arc::new(Mutex::new(0));
    req.on_object = Some(Arc::new(move |_o: &ObjectOutcome| {
        let mut d = done.lock().unwrap();
        *d += 1;
        if *d == 10 {
            t.cancel();
        }
    }));
    let r = client
        .download_objects(&req, &Cancel::new().with(token))
        .await;
    assert_eq!(r.stopped.as_ref().unwrap().kind, ErrorKind::Cancelled);
    let first = r.progress.objects_done;
    assert!((10..n).contains(&first), "{first} done before the cancel");
    // The journal names only complete, correct files.
    let journal = r.journal_path.clone().unwrap();
    let entries = journal_entries(&journal);
    assert_eq!(
        entries.len() as u64,
        first,
        "every finished object recorded"
    );
    for (key, size, path) in &entries {
        let local = dest(&env).join(path);
        assert_eq!(std::fs::metadata(&local).unwrap().len(), *size);
        same_bytes(&env, key, &local);
    }
    // The re-run fetches only what was not finished.
    env.faults(Faults::none());
    env.emu.clear_log();
    req.on_object = None;
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_skipped, first);
    assert_eq!(object_gets(&env).len() as u64, n - first);
    for i in 0..n {
        let k = format!("c/{i:02}");
        same_bytes(&env, &k, &dest(&env).join(format!("{i:02}")));
    }
    assert!(files_under(&dest(&env))
        .iter()
        .all(|f| !f.ends_with(".temp") && !f.ends_with(".lock")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_batch_reports_paused_and_resumes() {
    let env = Env::new();
    for i in 0..12 {
        env.object(&format!("q/{i:02}"), 500);
    }
    env.slow_gets(20);
    let client = env.client();
    let pause = CancellationToken::new();
    let mut req = BatchRequest::for_prefix(BUCKET, "q/", dest(&env));
    req.max_objects_in_flight = 2;
    let p = pause.clone();
    req.on_object = Some(Arc::new(move |_o: &ObjectOutcome| p.cancel()));
    let r = oss_ffi::batch::run_pausable(&client, &req, &Cancel::new(), &pause).await;
    let stopped = r.stopped.clone().unwrap();
    assert_eq!(stopped.kind, ErrorKind::Cancelled);
    assert_eq!(stopped.message, "paused");
    assert!(r.progress.objects_done < 12);
    env.faults(Faults::none());
    req.on_object = None;
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(visible_files(&dest(&env)).len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_keys_are_refused_per_key_and_nothing_is_written_outside() {
    let env = Env::new();
    let outside = env.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(dest(&env)).unwrap();
    std::os::unix::fs::symlink(&outside, dest(&env).join("link")).unwrap();
    let bad = [
        "u/../escape",
        "u/a//b",
        "u/./dot",
        "u/ctl\u{1}x",
        "u/link/x",
        "u/not-a-marker/",
    ];
    for k in bad {
        env.emu.put_object(BUCKET, k, b"evil").unwrap();
    }
    env.object("u/fine", 10);
    env.object("u/dir/", 0);
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "u/", dest(&env));
    let outcomes = Outcomes::default();
    outcomes.attach(&mut req);
    let r = run(&client, &req).await;
    assert!(r.stopped.is_none());
    assert_eq!(r.progress.objects_done, 1, "{:?}", r.failures);
    assert_eq!(r.failures.len(), bad.len(), "{:?}", r.failures);
    for (key, e) in &r.failures {
        assert!(bad.contains(&key.as_str()), "{key}");
        if *key != "u/link/x" {
            assert_eq!(e.code, "UnsafeKey", "{key}: {e}");
        }
        assert_eq!(e.key, *key);
    }
    assert!(files_under(&outside).is_empty(), "nothing written outside");
    assert!(!env.work.path().join("escape").exists());
    assert!(
        dest(&env).join("dir").is_dir(),
        "a directory marker makes its directory"
    );
    assert!(matches!(
        outcomes.by_key()["u/dir/"].outcome,
        Outcome::Skipped(SkipReason::DirectoryMarker)
    ));
    same_bytes(&env, "u/fine", &dest(&env).join("fine"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_has_no_name_in_the_destination_until_it_is_whole() {
    let env = Env::new();
    for i in 0..4 {
        env.object(&format!("w/{i}"), 100_000 + i);
    }
    // Every GET answers after 600 ms: the objects are in flight when the destination is read.
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::Latency { ms: 600 })
                .method("GET")
                .listing(false),
        ),
    );
    let req = BatchRequest::for_prefix(BUCKET, "w/", dest(&env));
    let client = env.client();
    let task = tokio::spawn(async move { run(&client, &req).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let during = visible_files(&dest(&env));
    let r = task.await.unwrap();
    r.result().unwrap();
    assert!(
        during.is_empty(),
        "in the destination while downloading: {during:?}"
    );
    for i in 0..4 {
        same_bytes(&env, &format!("w/{i}"), &dest(&env).join(i.to_string()));
    }
    assert!(files_under(&dest(&env))
        .iter()
        .all(|f| !f.ends_with(".temp")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_put_at_the_destination_during_the_download_is_replaced_whole() {
    let env = Env::new();
    env.object("r/x", 200_000);
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::Latency { ms: 600 })
                .method("GET")
                .listing(false),
        ),
    );
    let mut req = BatchRequest::for_prefix(BUCKET, "r/", dest(&env));
    req.overwrite = oss_ffi::batch::Overwrite::Always;
    let client = env.client();
    let task = tokio::spawn(async move { run(&client, &req).await });
    // After the batch looked (nothing there), before its file is whole: the link would fail,
    // the bytes go through the named temp file and its rename.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    std::fs::write(dest(&env).join("x"), b"put there meanwhile").unwrap();
    task.await.unwrap().result().unwrap();
    same_bytes(&env, "r/x", &dest(&env).join("x"));
    assert!(files_under(&dest(&env))
        .iter()
        .all(|f| !f.ends_with(".temp")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_keeps_the_first_failures_and_counts_them_all() {
    let env = Env::new();
    env.object("here", 10);
    let n = oss_ffi::batch::FAILURES_KEPT + 200;
    let mut keys: Vec<String> = (0..n).map(|i| format!("gone/{i:05}")).collect();
    keys.push("here".into());
    let mut req = BatchRequest::for_keys(BUCKET, keys, dest(&env));
    let outcomes = Outcomes::default();
    outcomes.attach(&mut req);
    let r = run(&env.client(), &req).await;
    assert_eq!(r.progress.objects_failed, n as u64);
    assert_eq!(r.progress.objects_done, 1);
    assert_eq!(r.failures.len(), oss_ffi::batch::FAILURES_KEPT);
    assert!(r.failures.iter().all(|(_, e)| e.code == "NoSuchKey"));
    let e = r.result().unwrap_err();
    assert!(
        e.message
            .starts_with(&format!("{n} objects of the batch failed")),
        "{e}"
    );
    let failed = outcomes
        .by_key()
        .values()
        .filter(|o| matches!(o.outcome, Outcome::Failed(_)))
        .count();
    assert_eq!(failed, n, "the object callback sees every failure");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_deleted_since_the_last_run_is_reported_and_its_file_left_alone() {
    let env = Env::new();
    for k in ["g/a", "g/b"] {
        env.object(k, 64);
    }
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "g/", dest(&env));
    run(&client, &req).await.result().unwrap();
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::ListDelete { key: "g/a".into() })
                .listing(true)
                .count(1),
        ),
    );
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.deleted, ["g/a"]);
    assert!(dest(&env).join("a").exists());
    // A dry run reads the journal without its lock and names the same key, once.
    let mut dry = req.clone();
    dry.dry_run = true;
    let r = run(&client, &dry).await;
    r.result().unwrap();
    assert_eq!(r.deleted, ["g/a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_are_consistent_with_the_report() {
    let env = Env::new();
    let mut total = 0;
    for i in 0..30 {
        env.object(&format!("r/{i:02}"), 1000 * i);
        total += 1000 * i;
    }
    env.object("r/skip.txt", 10);
    let client = env.client();
    let calls: Arc<Mutex<Vec<BatchProgress>>> = Arc::default();
    let c = calls.clone();
    let mut req = BatchRequest::for_prefix(BUCKET, "r/", dest(&env));
    req.exclude = vec!["*.txt".into()];
    req.progress = Some(Arc::new(move |p: &BatchProgress| {
        c.lock().unwrap().push(*p)
    }));
    let r = run(&client, &req).await;
    r.result().unwrap();
    let calls = calls.lock().unwrap();
    let last = *calls.last().expect("at least the last call");
    assert_eq!(last, r.progress);
    assert_eq!(last.objects_listed, 31);
    assert_eq!(last.objects_done, 30);
    assert_eq!(last.objects_skipped, 1);
    assert_eq!(last.bytes_done, total);
    assert_eq!(last.bytes_total, total);
    assert!(last.listing_done);
    for w in calls.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(b.objects_listed >= a.objects_listed && b.objects_done >= a.objects_done);
        assert!(b.bytes_done >= a.bytes_done);
    }
    for p in calls.iter() {
        assert!(p.objects_done + p.objects_skipped + p.objects_failed <= p.objects_listed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_before_any_traffic() {
    let env = Env::new();
    let client = env.client();
    env.emu.clear_log();
    let mut req = BatchRequest::for_prefix(BUCKET, "p/", dest(&env));
    req.include = vec!["[oops".into()];
    let r = run(&client, &req).await;
    assert_eq!(r.stopped.unwrap().code, "ValidateError");
    let mut req = BatchRequest::for_prefix(BUCKET, "p/", dest(&env));
    req.max_objects_in_flight = 0;
    assert_eq!(
        run(&client, &req).await.stopped.unwrap().code,
        "ValidateError"
    );
    req.max_objects_in_flight = 1025;
    assert_eq!(
        run(&client, &req).await.stopped.unwrap().code,
        "ValidateError"
    );
    let mut req = BatchRequest::for_prefix(BUCKET, "p/", dest(&env));
    req.checkpoint_dir = Some(env.path("no-such-dir"));
    assert_eq!(
        run(&client, &req).await.stopped.unwrap().code,
        "ValidateError"
    );
    assert!(env.emu.log().is_empty());
}

/// The CPU time of this process's threads but the emulator's (`oss-emulator`), from
/// `/proc/self/task/*/schedstat` (nanoseconds on the CPU).
fn client_cpu() -> std::time::Duration {
    let mut ns = 0u64;
    for t in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if comm.starts_with("oss-emulator") {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        ns += stat
            .split(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
    }
    std::time::Duration::from_nanos(ns)
}

/// Measures (asserts nothing about speed): 1,000 small objects on loopback with the client's
/// and the request's defaults, objects per second and wall and CPU (every thread but the
/// emulator's) microseconds per object.
/// `cargo test --release --test batch -- --ignored --nocapture measure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_a_thousand_small_objects() {
    const N: usize = 1000;
    let env = Env::new();
    for i in 0..N {
        env.object(&format!("bench/{i:04}"), 4096);
    }
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "bench/", dest(&env));
    let report = |what: &str, t: std::time::Instant, cpu: std::time::Duration| {
        let secs = t.elapsed().as_secs_f64();
        let cpu = (client_cpu() - cpu).as_secs_f64();
        println!(
            "{what}: {secs:.3} s, {:.0} objects/s, {:.0} us wall and {:.0} us CPU per object",
            N as f64 / secs,
            secs * 1e6 / N as f64,
            cpu * 1e6 / N as f64
        );
    };
    let (t, cpu) = (std::time::Instant::now(), client_cpu());
    run(&client, &req).await.result().unwrap();
    report("1000 objects of 4 KiB", t, cpu);
    let (t, cpu) = (std::time::Instant::now(), client_cpu());
    let r = run(&client, &req).await;
    assert_eq!(r.progress.objects_skipped, N as u64);
    report("re-run (nothing fetched)", t, cpu);
    // Again into fresh destinations, as the benchmark does (the server's first-access hashing
    // out of the way), then over the existing files.
    let mut req = req;
    for round in 0..3 {
        req.dest_dir = env.path(&format!("fresh-{round}"));
        let (t, cpu) = (std::time::Instant::now(), client_cpu());
        run(&client, &req).await.result().unwrap();
        report(&format!("fresh destination #{round}"), t, cpu);
    }
    req.overwrite = Overwrite::Always;
    let (t, cpu) = (std::time::Instant::now(), client_cpu());
    run(&client, &req).await.result().unwrap();
    report("again (overwrite Always)", t, cpu);
    // With 20 ms before each GET's answer (the benchmark's latency): the objects in flight
    // decide.
    env.slow_gets(20);
    req.overwrite = Overwrite::IfChanged;
    req.dest_dir = env.path("latency");
    let (t, cpu) = (std::time::Instant::now(), client_cpu());
    run(&client, &req).await.result().unwrap();
    report("fresh destination, 20 ms per GET", t, cpu);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_being_replaced_is_no_longer_vouched_for_by_the_journal() {
    let env = Env::new();
    env.object("v/big", 500_000);
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "v/", dest(&env));
    req.part_size = oss_ffi::download::MIN_PART_SIZE;
    req.thread_num = 1;
    run(&client, &req).await.result().unwrap();
    // Replaced again (Always), and that download fails after its first part.
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::Status {
                status: 403,
                code: Some("AccessDenied".into()),
            })
            .method("GET")
            .ranged(true)
            .after(1),
        ),
    );
    req.overwrite = Overwrite::Always;
    let r = run(&client, &req).await;
    assert_eq!(r.progress.objects_failed, 1);
    let journal = r.journal_path.unwrap();
    assert!(
        journal_entries(&journal).is_empty(),
        "the journal forgot it"
    );
    // Whatever the file holds now (here: the bytes a power cut could leave, same size) is not
    // taken for the object: the next run fetches it again.
    std::fs::write(dest(&env).join("big"), vec![0u8; 500_000]).unwrap();
    env.faults(Faults::none());
    req.overwrite = Overwrite::IfChanged;
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_done, 1);
    same_bytes(&env, "v/big", &dest(&env).join("big"));
}

/// The record the CLI (`oss_download`) leaves in `user.oss-ffi.object` for `local`, holding
/// the object with `etag`; false when the file system keeps no user xattrs.
fn record_like_the_cli(local: &Path, etag: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(local).unwrap();
    let record = format!(
        "v1 size={} crc64=- file_size={} mtime={}.{:09} etag={etag}",
        m.len(),
        m.len(),
        m.mtime(),
        m.mtime_nsec()
    );
    rustix::fs::setxattr(
        local,
        "user.oss-ffi.object",
        record.as_bytes(),
        rustix::fs::XattrFlags::empty(),
    )
    .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_the_cli_recorded_is_not_fetched_again() {
    let env = Env::new();
    let meta = env.emu.create_object(BUCKET, "w/a", 3000).unwrap();
    env.object("w/b", 3000);
    std::fs::create_dir_all(dest(&env)).unwrap();
    for name in ["a", "b"] {
        std::fs::copy(
            env.emu.object_path(BUCKET, &format!("w/{name}")),
            dest(&env).join(name),
        )
        .unwrap();
    }
    if !record_like_the_cli(&dest(&env).join("a"), &meta.etag) {
        eprintln!("no user xattrs on this file system: nothing to check");
        return;
    }
    // b's record names another version.
    assert!(record_like_the_cli(&dest(&env).join("b"), "\"0123\""));
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "w/", dest(&env));
    env.emu.clear_log();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_skipped, 1);
    assert_eq!(object_gets(&env), ["w/b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_path_is_another_keys_temp_file_is_refused() {
    let env = Env::new();
    for k in [
        "t/a",
        "t/a.temp",
        "t/b.temp.lock",
        "t/b",
        "t/.oss-ffi-batch-0.journal",
        // The case probe's name, in any case: the batch's own file.
        "t/.OSS-FFI-CASE-PROBE",
        "t/.oss-ffi-case-probe",
    ] {
        env.object(k, 100);
    }
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "t/", dest(&env));
    let r = run(&client, &req).await;
    let mut failures: Vec<(String, String)> = r
        .failures
        .iter()
        .map(|(k, e)| (k.clone(), e.code.clone()))
        .collect();
    failures.sort();
    let want = [
        ("t/.OSS-FFI-CASE-PROBE", "UnsafeKey"),
        ("t/.oss-ffi-batch-0.journal", "UnsafeKey"),
        ("t/.oss-ffi-case-probe", "UnsafeKey"),
        ("t/a.temp", "KeyCollision"),
        ("t/b.temp.lock", "KeyCollision"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, c)| (k.to_string(), c.to_string()))
        .collect();
    assert_eq!(failures, want);
    assert_eq!(visible_files(&dest(&env)), ["a", "b"]);
    same_bytes(&env, "t/a", &dest(&env).join("a"));
    same_bytes(&env, "t/b", &dest(&env).join("b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_another_download_is_writing_is_refused_and_stale_locks_are_removed() {
    let env = Env::new();
    for k in ["l/a", "l/b", "l/c"] {
        env.object(k, 100);
    }
    std::fs::create_dir_all(dest(&env)).unwrap();
    use std::os::unix::fs::OpenOptionsExt;
    let open_lock = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dest(&env).join(name))
            .unwrap()
    };
    // A download to `a` holds its lock; `b`'s lock file was left by a process that died.
    let held = open_lock("a.temp.lock");
    held.try_lock().unwrap();
    drop(open_lock("b.temp.lock"));
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "l/", dest(&env));
    let r = run(&client, &req).await;
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    assert_eq!(r.failures[0].0, "l/a");
    assert_eq!(r.failures[0].1.code, "FileLocked");
    assert!(!dest(&env).join("a").exists());
    assert!(
        !dest(&env).join("b.temp.lock").exists(),
        "the stale lock is gone"
    );
    same_bytes(&env, "l/b", &dest(&env).join("b"));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_cancels_the_objects_in_flight_and_keeps_their_checkpoints() {
    let env = Env::new();
    let part = oss_ffi::download::MIN_PART_SIZE;
    env.object("z/a-big", 10 * part);
    env.object("z/b-fails", 100);
    // The large object's first parts come at once, the others slowly; the small one is refused
    // while they are coming.
    env.faults(
        failing_get("z/b-fails")
            .with(
                FaultRule::new(FaultAction::Latency { ms: 300 })
                    .method("GET")
                    .prefix("z/a-big")
                    .after(2),
            )
            .with(
                FaultRule::new(FaultAction::Latency { ms: 400 })
                    .method("GET")
                    .prefix("z/b-fails"),
            ),
    );
    let client = env.client();
    let mut req = BatchRequest::for_prefix(BUCKET, "z/", dest(&env));
    req.part_size = part;
    req.thread_num = 1;
    req.on_failure = OnFailure::Stop;
    let r = run(&client, &req).await;
    assert_eq!(r.stopped.as_ref().unwrap().code, "AccessDenied");
    assert_eq!(r.failures.len(), 1, "the cancelled object is no failure");
    assert!(!dest(&env).join("a-big").exists());
    let checkpoints: Vec<String> = files_under(&dest(&env))
        .into_iter()
        .filter(|f| f.ends_with(".ckpt"))
        .collect();
    assert_eq!(checkpoints.len(), 1, "{:?}", files_under(&dest(&env)));
    // The re-run resumes it: its first parts are not fetched again.
    env.faults(Faults::none());
    req.on_failure = OnFailure::Continue;
    env.emu.clear_log();
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_done, 2);
    same_bytes(&env, "z/a-big", &dest(&env).join("a-big"));
    let big_gets = object_gets(&env).iter().filter(|k| *k == "z/a-big").count();
    assert!(big_gets < 10, "{big_gets} GETs: resumed, not started again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_in_flight_are_bounded_by_the_request() {
    let env = Env::new();
    for i in 0..96 {
        env.object(&format!("n/{i:03}"), 1000);
    }
    env.slow_gets(300);
    // 48 objects asked for, 64 connections, room for them all in the budget: 48 at once.
    let client = env.client_with(|c| {
        c.max_connections = 64;
        c.memory_budget = 256 << 20;
    });
    let mut req = BatchRequest::for_prefix(BUCKET, "n/", dest(&env));
    req.max_objects_in_flight = 48;
    env.emu.take_peak_in_flight();
    run(&client, &req).await.result().unwrap();
    let peak = env.emu.take_peak_in_flight();
    assert!(peak > 16 && peak <= 48, "{peak} requests at once");
}

/// A small object's slot of the memory budget is sized to the object (its buffer and its
/// connection's share), not to a connection carrying a large body: the default budget lets the
/// default 64 small objects run at once, not the 29 slots of 1.8 MiB it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_objects_under_the_default_budget_reach_the_default_objects_in_flight() {
    use oss_ffi::memory_budget::{MemoryBudget, DEFAULT_MEMORY_BUDGET};
    let env = Env::new();
    for i in 0..96 {
        env.object(&format!("s/{i:03}"), 4096);
    }
    env.slow_gets(500);
    let client = env.client_with(|c| c.max_connections = 64);
    let req = BatchRequest::for_prefix(BUCKET, "s/", dest(&env));
    env.emu.take_peak_in_flight();
    run(&client, &req).await.result().unwrap();
    let peak = env.emu.take_peak_in_flight() as usize;
    let connection_slots =
        MemoryBudget::new(DEFAULT_MEMORY_BUDGET).capacity(MemoryBudget::slot_cost_for(4096, 4096));
    assert!(
        peak > connection_slots && peak <= 64,
        "{peak} requests at once (slots of a whole connection: {connection_slots})"
    );
    let budget = client.memory_budget();
    assert_eq!(
        budget.free_bytes(),
        budget.total() - oss_ffi::memory_budget::BASE_COST,
        "every slot given back"
    );
}

/// A batch's small objects are bounded by the batch's own objects in flight, not by the
/// client's connections (the default 16): the default 64 without raising the pool. Large
/// objects and single downloads keep the client's connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reaches_its_objects_in_flight_without_raising_the_clients_connections() {
    let env = Env::new();
    for i in 0..96 {
        env.object(&format!("c/{i:03}"), 1000);
    }
    env.slow_gets(500);
    let client = env.client_with(|c| c.memory_budget = 256 << 20);
    assert_eq!(client.config().max_connections, 16);
    let req = BatchRequest::for_prefix(BUCKET, "c/", dest(&env));
    env.emu.take_peak_in_flight();
    run(&client, &req).await.result().unwrap();
    let peak = env.emu.take_peak_in_flight();
    assert!(peak > 16 && peak <= 64, "{peak} requests at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_batch_clears_checkpoints_left_in_its_hidden_directory() {
    let env = Env::new();
    env.object("h/a", 100);
    let client = env.client();
    let req = BatchRequest::for_prefix(BUCKET, "h/", dest(&env));
    let r = run(&client, &req).await;
    r.result().unwrap();
    // What a power cut could bring back after the journal recorded the object: its checkpoint.
    let journal = r.journal_path.unwrap();
    let stem = journal.file_name().unwrap().to_str().unwrap();
    let hidden = dest(&env).join(stem.replace(".journal", ".checkpoints"));
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&hidden)
        .unwrap();
    for name in ["oss-download-0123.ckpt", "oss-download-0123.ckpt.tmp"] {
        std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(hidden.join(name))
            .unwrap();
    }
    let r = run(&client, &req).await;
    r.result().unwrap();
    assert_eq!(r.progress.objects_skipped, 1);
    assert!(!hidden.exists(), "{:?}", files_under(&dest(&env)));
}
