//! Batch downloads (`Client::download_objects`) from a hostile bucket: a scripted HTTP server on
//! loopback (tests/support/hostile_http.rs, `fake_bucket`) whose listings hold keys that would
//! leave the destination (`../`, absolute, NUL and control characters percent-encoded), keys
//! too long for a file system, duplicates, a key and its "directory" both, an endless listing,
//! and sizes or ETags that the GET contradicts. In every case nothing is written outside the
//! destination, each bad key is a per-key error in the report, the rest is downloaded, and no
//! wrong file is ever reported as done.

mod download_support;
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oss_ffi::batch::journal::Journal;
use oss_ffi::batch::{BatchReport, BatchRequest};
use oss_ffi::cancel::Cancel;
use oss_ffi::download::directory::Directory;
use support::hostile_http::{fake_bucket, FakeObject, HostileServer, Listed, Page};

const BUCKET: &str = "hostile-bucket";
const ETAG: &str = "\"0123456789ABCDEF0123456789ABCDEF\"";

/// A temporary directory holding the destination `dest` (and nothing else, ever).
struct Place {
    tmp: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("dest")).unwrap();
        Place { tmp }
    }
    fn dest(&self) -> PathBuf {
        self.tmp.path().join("dest")
    }
    /// Nothing but `dest` beside the destination, and the files under it.
    fn files(&self) -> Vec<String> {
        let beside: Vec<String> = std::fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(beside, ["dest"], "written outside the destination");
        let mut out = Vec::new();
        walk(&self.dest(), &self.dest(), &mut out);
        out.sort();
        out
    }
    /// The files, the journal left out.
    fn data_files(&self) -> Vec<String> {
        self.files()
            .into_iter()
            .filter(|f| !f.starts_with(".oss-ffi-batch-"))
            .collect()
    }
    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.dest().join(rel)).unwrap()
    }
}

fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(d).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.push(format!("{rel}/"));
            walk(base, &p, out);
        } else {
            assert!(t.is_file(), "not a file: {rel}");
            out.push(rel);
        }
    }
}

fn one_page(entries: Vec<Listed>) -> impl Fn(Option<&str>) -> Page + Send + Sync + 'static {
    move |_| (entries.clone(), None)
}

fn objects(list: &[(&str, &[u8])]) -> HashMap<String, FakeObject> {
    list.iter()
        .map(|(k, b)| (k.to_string(), FakeObject::new(b, ETAG)))
        .collect()
}

fn client(server: &HostileServer) -> oss_ffi::client::Client {
    server.client(download_support::test_config())
}

async fn batch(server: &HostileServer, req: &BatchRequest) -> BatchReport {
    tokio::time::timeout(
        Duration::from_secs(120),
        client(server).download_objects(req, &Cancel::new()),
    )
    .await
    .expect("the batch did not end within 120 s")
}

fn failure<'a>(report: &'a BatchReport, key: &str) -> &'a oss_ffi::Error {
    &report
        .failures
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no failure for {key:?} in {:?}", report.failures))
        .1
}

fn failed_keys(report: &BatchReport) -> Vec<String> {
    let mut v: Vec<String> = report.failures.iter().map(|(k, _)| k.clone()).collect();
    v.sort();
    v
}

fn journal_of(place: &Place) -> HashMap<String, oss_ffi::batch::journal::JournalEntry> {
    let name = place
        .files()
        .into_iter()
        .find(|f| f.starts_with(".oss-ffi-batch-"))
        .expect("a journal");
    let dir = Directory::open(&place.dest()).unwrap();
    Journal::read_named(&dir, std::ffi::OsStr::new(&name))
        .unwrap()
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_would_leave_the_destination_are_refused_one_by_one() {
    let bad = [
        "../escape",
        "../../etc/cron.d/evil",
        "a/../../escape",
        "/etc/passwd",
        "//double",
        "./dot",
        "sub/./dot",
        "sub/..",
        "ctl\u{1}char",
        "esc\u{1b}[31mred",
        "new\nline",
        "del\u{7f}",
        "tab\there",
        "trailing/slash-with-bytes/",
        "empty//component",
    ];
    let good: [(&str, &[u8]); 4] = [
        ("good", b"good bytes"),
        ("sub/nested/file.txt", b"nested"),
        ("...", b"three dots are a name"),
        ("\u{e9}t\u{e9}/\u{1f600}", b"utf-8"),
    ];
    let mut listed: Vec<Listed> = bad
        .iter()
        .map(|k| Listed::new(k, 5, ETAG))
        .chain(
            good.iter()
                .map(|(k, b)| Listed::new(k, b.len() as u64, ETAG)),
        )
        .collect();
    listed.sort_by(|a, b| a.key.cmp(&b.key));
    let mut all: Vec<(&str, &[u8])> = good.to_vec();
    all.extend(bad.iter().map(|k| (*k, b"evil!".as_slice())));
    let server = fake_bucket(BUCKET, one_page(listed), objects(&all));
    let place = Place::new();
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
    let mut want: Vec<String> = bad.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(failed_keys(&report), want);
    for k in bad {
        let e = failure(&report, k);
        assert_eq!(e.code, "UnsafeKey", "{k:?}: {e}");
        assert_eq!(e.kind, oss_ffi::ErrorKind::InvalidArgument);
        assert!(!e.message.chars().any(char::is_control), "{e:?}");
    }
    assert_eq!(report.progress.objects_done, good.len() as u64);
    for (k, b) in good {
        assert_eq!(place.read(k), b, "{k}");
    }
    assert_eq!(
        place.data_files(),
        [
            "...",
            "good",
            "sub/",
            "sub/nested/",
            "sub/nested/file.txt",
            "\u{e9}t\u{e9}/",
            "\u{e9}t\u{e9}/\u{1f600}"
        ]
    );
    // No refused key was even fetched.
    let fetched: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && !r.target.contains("list-type"))
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(fetched.len(), good.len(), "{fetched:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_or_a_10000_character_key_fails_alone_in_a_listing_and_in_a_key_list() {
    // OSS holds neither (keys are at most 1023 bytes, never NUL): such a key, listed or in a
    // caller's key list, is that key's failure (`UnsafeKey`, named escaped and cut, with the
    // rule), never fetched; the other keys download; with the Stop policy the batch stops at it.
    let long = format!("long/{}", "x".repeat(10_000));
    let nul = "nul\u{0}key".to_string();
    let check_failure = |report: &BatchReport, bad: &str| {
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let (key, e) = &report.failures[0];
        assert_eq!(e.code, "UnsafeKey", "{e}");
        assert_eq!(e.kind, oss_ffi::ErrorKind::InvalidArgument, "{e}");
        assert_eq!(&e.key, key);
        assert!(key.len() < 250 && !key.contains('\0'), "{key:?}");
        assert!(e.message.len() < 1000, "{}", e.message.len());
        assert!(!e.message.contains('\0'), "{e:?}");
        let rule = if bad.contains('\0') {
            "NUL"
        } else {
            "at most 1023 bytes"
        };
        assert!(e.message.contains(rule), "{e}");
        assert!(e.message.contains(&key_prefix(bad)), "{e}");
    };
    let never_asked = |server: &HostileServer| {
        for r in server.requests() {
            assert!(
                !r.target.contains("xxxxxxxxxx") && !r.target.contains("%00"),
                "{}",
                r.target
            );
        }
    };
    for bad in [&long, &nul] {
        let mut listed = vec![
            Listed::new("a-first", 1, ETAG),
            Listed::new(bad, 1, ETAG),
            Listed::new("z-last", 1, ETAG),
        ];
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        let bucket = || {
            fake_bucket(
                BUCKET,
                one_page(listed.clone()),
                objects(&[("a-first", b"a"), ("z-last", b"z")]),
            )
        };
        // A listing: the others downloaded.
        let server = bucket();
        let place = Place::new();
        let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
        assert!(report.stopped.is_none(), "{:?}", report.stopped);
        check_failure(&report, bad);
        assert_eq!(
            (report.progress.objects_done, report.progress.objects_failed),
            (2, 1)
        );
        assert_eq!(place.data_files(), ["a-first", "z-last"]);
        never_asked(&server);
        // The Stop policy stops at it (the key after it is not started).
        let server = bucket();
        let place = Place::new();
        let mut req = BatchRequest::for_prefix(BUCKET, "", place.dest());
        req.on_failure = oss_ffi::batch::OnFailure::Stop;
        req.max_objects_in_flight = 1;
        let report = batch(&server, &req).await;
        let stopped = report.stopped.as_ref().expect("stopped");
        assert_eq!(stopped.code, "UnsafeKey", "{stopped}");
        assert!(stopped.message.len() < 1000, "{}", stopped.message.len());
        check_failure(&report, bad);
        assert!(!place.data_files().contains(&"z-last".to_string()));
        never_asked(&server);
        // A caller's key list: that key fails alone, unsent; the request is not refused.
        let server = bucket();
        let place = Place::new();
        let keys = vec!["a-first".into(), bad.clone(), "z-last".into()];
        let report = batch(&server, &BatchRequest::for_keys(BUCKET, keys, place.dest())).await;
        assert!(report.stopped.is_none(), "{:?}", report.stopped);
        check_failure(&report, bad);
        assert_eq!(place.data_files(), ["a-first", "z-last"]);
        never_asked(&server);
    }
    // An empty key in a caller's list is still bad input for the whole request.
    let server = fake_bucket(BUCKET, one_page(vec![]), objects(&[("a-first", b"a")]));
    let place = Place::new();
    let req = BatchRequest::for_keys(BUCKET, vec!["a-first".into(), String::new()], place.dest());
    let report = batch(&server, &req).await;
    let stopped = report.stopped.as_ref().expect("refused");
    assert_eq!(stopped.code, "ValidateError", "{stopped}");
    assert!(server.requests().is_empty());
}

/// The start of `key` as a failure's message shows it (escaped).
fn key_prefix(key: &str) -> String {
    key.chars()
        .take(20)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_keys_are_fetched_once_in_a_key_list_and_stop_a_listing() {
    // A caller's key list naming one key twice: fetched once.
    let server = fake_bucket(
        BUCKET,
        one_page(vec![]),
        objects(&[("dup", b"the object"), ("other", b"other")]),
    );
    let place = Place::new();
    let req = BatchRequest::for_keys(
        BUCKET,
        vec!["dup".into(), "other".into(), "dup".into()],
        place.dest(),
    );
    let report = batch(&server, &req).await;
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.progress.objects_done, 2);
    assert_eq!(place.read("dup"), b"the object");
    let gets = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.target.ends_with("/dup"))
        .count();
    assert_eq!(gets, 1);
    assert_eq!(place.data_files(), ["dup", "other"]);

    // A listing repeating a key (on one page or the next): the listing is not believed (it may
    // loop), the batch stops with a clear error and writes nothing wrong.
    let pages = |t: Option<&str>| -> Page {
        match t {
            None => (
                vec![Listed::new("k1", 2, ETAG), Listed::new("k2", 2, ETAG)],
                Some("t1".into()),
            ),
            Some(_) => (
                vec![Listed::new("k2", 2, ETAG), Listed::new("k3", 2, ETAG)],
                None,
            ),
        }
    };
    let server = fake_bucket(
        BUCKET,
        pages,
        objects(&[("k1", b"k1"), ("k2", b"k2"), ("k3", b"k3")]),
    );
    let place = Place::new();
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    let stopped = report.stopped.as_ref().expect("stopped");
    assert_eq!(stopped.code, "ListingLoop", "{stopped}");
    for f in place.data_files() {
        assert_eq!(place.read(&f), f.as_bytes(), "{f}");
    }
    assert!(!place.dest().join("k3").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_and_its_directory_both_listed_keep_the_first() {
    let listed = vec![
        Listed::new("d", 4, ETAG),
        Listed::new("d/", 0, ETAG),
        Listed::new("d/x", 3, ETAG),
        Listed::new("e/", 0, ETAG),
        Listed::new("e/y", 3, ETAG),
        Listed::new("f/", 0, ETAG),
    ];
    let server = fake_bucket(
        BUCKET,
        one_page(listed),
        objects(&[
            ("d", b"file"),
            ("d/x", b"d/x"),
            ("e/y", b"e/y"),
            ("d/", b""),
            ("e/", b""),
            ("f/", b""),
        ]),
    );
    let place = Place::new();
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
    assert_eq!(failed_keys(&report), ["d/", "d/x"]);
    for k in ["d/", "d/x"] {
        let e = failure(&report, k);
        assert_eq!(e.code, "KeyCollision", "{e}");
        assert!(e.message.contains("'d'"), "{e}");
    }
    assert_eq!(place.read("d"), b"file");
    assert_eq!(place.data_files(), ["d", "e/", "e/y", "f/"]);

    // A key list with both: whichever is claimed first keeps its path (the HEADs of a key list
    // answer in any order), the other is a collision; never both, never a mix.
    let server = fake_bucket(
        BUCKET,
        one_page(vec![]),
        objects(&[("g/h", b"g/h"), ("g", b"g")]),
    );
    let place = Place::new();
    let req = BatchRequest::for_keys(BUCKET, vec!["g/h".into(), "g".into()], place.dest());
    let report = batch(&server, &req).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let (loser, e) = &report.failures[0];
    assert_eq!(e.code, "KeyCollision", "{e}");
    if loser == "g" {
        assert_eq!(place.data_files(), ["g/", "g/h"]);
        assert_eq!(place.read("g/h"), b"g/h");
    } else {
        assert_eq!(place.data_files(), ["g"]);
        assert_eq!(place.read("g"), b"g");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_planted_in_the_destination_is_not_followed() {
    let place = Place::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), place.dest().join("link")).unwrap();
    let server = fake_bucket(
        BUCKET,
        one_page(vec![
            Listed::new("link/inside", 3, ETAG),
            Listed::new("ok", 2, ETAG),
        ]),
        objects(&[("link/inside", b"bad"), ("ok", b"ok")]),
    );
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    assert_eq!(failed_keys(&report), ["link/inside"]);
    let e = failure(&report, "link/inside");
    assert!(e.message.contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(place.read("ok"), b"ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_listing_stops_the_batch_with_a_clear_error() {
    // The same token again and again.
    let pages = |t: Option<&str>| -> Page {
        let n = t.map_or(0, |t| t.len());
        (
            vec![Listed::new(&format!("k{n:05}"), 1, ETAG)],
            Some("again".into()),
        )
    };
    let server = fake_bucket(BUCKET, pages, HashMap::new());
    let place = Place::new();
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    let stopped = report.stopped.as_ref().expect("stopped");
    assert_eq!(stopped.code, "ListingLoop", "{stopped}");
    assert!(server.requests().len() < 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_listing_of_empty_pages_stops_the_batch() {
    let place = Place::new();
    // Fresh tokens with empty pages, forever.
    let pages = |t: Option<&str>| -> Page {
        let n: u64 = t.and_then(|t| t.parse().ok()).unwrap_or(0);
        (vec![], Some((n + 1).to_string()))
    };
    let server = fake_bucket(BUCKET, pages, HashMap::new());
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    let stopped = report.stopped.as_ref().expect("stopped");
    assert_eq!(stopped.code, "ListingLoop", "{stopped}");
    assert!(server.requests().len() < 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_listing_of_fresh_keys_stops_the_batch() {
    // Fresh tokens and a fresh key per page, forever, each key missing when fetched: the batch
    // ends by itself with a clear error, after a bounded number of pages.
    let pages = |t: Option<&str>| -> Page {
        let n: u64 = t.and_then(|t| t.parse().ok()).unwrap_or(0);
        (
            vec![Listed::new(&format!("k{n:012}"), 1, ETAG)],
            Some((n + 1).to_string()),
        )
    };
    let server = fake_bucket(BUCKET, pages, HashMap::new());
    let place = Place::new();
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    let stopped = report.stopped.as_ref().expect("stopped");
    assert_eq!(stopped.code, "ListingLoop", "{stopped}");
    assert!(stopped.message.contains("does not end"), "{stopped}");
    let pages = server
        .requests()
        .iter()
        .filter(|r| r.target.contains("list-type"))
        .count() as u32;
    assert_eq!(pages, oss_ffi::listing::MAX_SPARSE_PAGES + 1);
    assert!(place.data_files().is_empty());
    // Each listed key was a per-key failure (missing when fetched), reported.
    assert!(!report.failures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_get_wins_over_a_listing_that_lies_about_sizes_and_etags() {
    let real = b"the real object, longer than the listing says".to_vec();
    let listed = vec![
        Listed::new("bigger", 5, ETAG),
        Listed::new("cut", 40, ETAG),
        Listed::new("other-etag", real.len() as u64, "\"LISTED-ETAG\""),
        Listed::new("smaller", 1_000_000, ETAG),
        Listed::new("wrong-crc", 10, ETAG),
    ];
    let mut objs = objects(&[
        ("bigger", &real),
        ("other-etag", &real),
        ("smaller", b"tiny"),
    ]);
    objs.get_mut("other-etag").unwrap().etag = "\"GET-ETAG\"".into();
    let mut cut = FakeObject::new(&[7u8; 40], ETAG);
    cut.cut_at = Some(17);
    objs.insert("cut".into(), cut);
    let mut wrong = FakeObject::new(b"0123456789", ETAG);
    wrong.crc64 = Some(12345);
    objs.insert("wrong-crc".into(), wrong);
    let server = fake_bucket(BUCKET, one_page(listed), objs);
    let place = Place::new();
    let report = batch(&server, &BatchRequest::for_prefix(BUCKET, "", place.dest())).await;
    assert!(report.stopped.is_none(), "{:?}", report.stopped);
    // A body that never arrives whole (resumed, cut again) and a wrong CRC64: failures, no
    // file.
    assert_eq!(
        failed_keys(&report),
        ["cut", "wrong-crc"],
        "{:?}",
        report.failures
    );
    assert_eq!(
        failure(&report, "wrong-crc").kind,
        oss_ffi::ErrorKind::CrcMismatch
    );
    // The GET's bytes, whatever the listing said.
    assert_eq!(place.read("bigger"), real);
    assert_eq!(place.read("other-etag"), real);
    assert_eq!(place.read("smaller"), b"tiny");
    assert_eq!(place.data_files(), ["bigger", "other-etag", "smaller"]);
    // The journal records what was written: the GET's ETag and size.
    let j = journal_of(&place);
    assert_eq!(j.len(), 3, "{j:?}");
    assert_eq!(j["bigger"].size, real.len() as u64);
    assert_eq!(j["smaller"].size, 4);
    assert_eq!(j["other-etag"].etag, "\"GET-ETAG\"");
    for e in j.values() {
        assert_eq!(
            e.crc64
                .unwrap_or_else(|| oss_ffi::crc64::checksum(&place.read(&e.path))),
            oss_ffi::crc64::checksum(&place.read(&e.path)),
            "{e:?}"
        );
    }
}
