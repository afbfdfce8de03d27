//! The prefetching reader (`object::prefetch::PrefetchReader`) against the emulator and its
//! faults: sequential reads with several GETs in flight, random reads that fetch what they ask
//! for, one version throughout (`ObjectChanged`, never mixed bytes), the whole-object CRC64 at the
//! end, memory bounded by the window behind a stalled consumer, everything freed on drop, and
//! answers no OSS would send refused.

mod download_support;
mod support;

use std::time::Duration;

use download_support::{object_request, Env, BUCKET, KIB, MIB};
use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::memory_budget::BASE_COST;
use oss_ffi::object::prefetch::{PrefetchOptions, PrefetchReader};
use oss_ffi::{ErrorKind, Result};
use support::hostile_http::{answer_owned, object_headers, HostileServer};

/// Opens a reader of `key` in the test bucket (whole object, or `range`), with a fresh cancel.
async fn open(
    client: &Client,
    key: &str,
    range: Option<(i64, i64)>,
    o: PrefetchOptions,
) -> PrefetchReader {
    PrefetchReader::open(client, &object_request(key), range, o, &Cancel::new())
        .await
        .unwrap()
}

fn opts(part_size: u64, max_window: u64) -> PrefetchOptions {
    PrefetchOptions {
        part_size,
        max_window,
        ..PrefetchOptions::default()
    }
}

/// Reads exactly `n` bytes (fewer only at the end).
async fn read_n(r: &mut PrefetchReader, n: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = r.read(&mut out[got..]).await?;
        if k == 0 {
            break;
        }
        got += k;
    }
    out.truncate(got);
    Ok(out)
}

/// Reads to the end with a buffer of `buf` bytes; returns the bytes and the error, if any.
async fn read_to_end(r: &mut PrefetchReader, buf: usize) -> (Vec<u8>, Option<oss_ffi::Error>) {
    let mut out = Vec::new();
    let mut b = vec![0u8; buf];
    loop {
        match r.read(&mut b).await {
            Ok(0) => return (out, None),
            Ok(k) => out.extend_from_slice(&b[..k]),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn gets(env: &Env) -> Vec<oss_emulator::LogEntry> {
    env.emu
        .log()
        .into_iter()
        .filter(|e| e.method == "GET")
        .collect()
}

/// `(first, last)` of a `bytes=a-b` Range header.
fn range_of(e: &oss_emulator::LogEntry) -> (u64, u64) {
    let r = e.range.as_deref().expect("a ranged GET");
    let (a, b) = r.trim_start_matches("bytes=").split_once('-').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequential_read_has_several_gets_in_flight_and_is_verified_at_the_end() {
    let env = Env::new();
    let client = env.client();
    let path = env.object("s/seq", 5 * MIB + 123);
    let want = std::fs::read(&path).unwrap();
    env.slow_gets(30);
    env.emu.take_peak_in_flight();
    let mut r = open(&client, "s/seq", None, opts(256 * KIB, 2 * MIB)).await;
    assert_eq!(r.size(), want.len() as u64);
    let (got, err) = read_to_end(&mut r, 100_000).await;
    assert!(err.is_none(), "{err:?}");
    assert!(got == want, "the bytes read are the object's");
    assert!(r.meta().verified, "checked against the whole-object CRC64");
    assert_eq!(r.tell(), want.len() as u64);
    assert!(
        env.emu.take_peak_in_flight() >= 2,
        "several GETs were in flight at once"
    );
    let gets = gets(&env);
    let etag = r.meta().etag.clone();
    assert!(gets
        .iter()
        .all(|e| e.if_match.as_deref() == Some(etag.as_str())));
    // Every byte fetched once, by parts of at most the part size.
    let mut spans: Vec<(u64, u64)> = gets.iter().map(range_of).collect();
    spans.sort();
    let mut next = 0;
    for (a, b) in spans {
        assert_eq!(a, next, "parts contiguous and fetched once");
        assert!(b - a < 256 * KIB);
        next = b + 1;
    }
    assert_eq!(next, want.len() as u64);
    // The end again: still the end.
    assert_eq!(r.read(&mut [0u8; 10]).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequential_read_asks_for_larger_ranges_once_its_window_is_wide() {
    // 256 KiB parts, a window up to 16 MiB shared among the client's 16 connections: once it
    // is wide the GETs ask for 1 MiB; the bytes are the object's, each fetched once.
    let env = Env::new();
    let client = env.client();
    let path = env.object("s/grow", 40 * MIB);
    let want = std::fs::read(&path).unwrap();
    let mut r = open(&client, "s/grow", None, opts(256 * KIB, 16 * MIB)).await;
    let (got, err) = read_to_end(&mut r, MIB as usize).await;
    assert!(err.is_none(), "{err:?}");
    assert!(got == want && r.meta().verified);
    let mut spans: Vec<(u64, u64)> = gets(&env).iter().map(range_of).collect();
    spans.sort();
    let largest = spans.iter().map(|(a, b)| b + 1 - a).max().unwrap();
    assert_eq!(
        largest, MIB,
        "the largest GET: the window shared among 16 connections"
    );
    let mut next = 0;
    for (a, b) in spans {
        assert_eq!(a, next, "parts contiguous and fetched once");
        next = b + 1;
    }
    assert_eq!(next, want.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_reads_fetch_what_they_ask_plus_the_read_ahead() {
    let env = Env::new();
    let client = env.client();
    let size = 8 * MIB;
    let path = env.object("s/table.parquet", size);
    let data = std::fs::read(&path).unwrap();
    env.emu.clear_log();
    let o = PrefetchOptions {
        read_ahead: 16 * KIB,
        ..PrefetchOptions::default()
    };
    let mut r = open(&client, "s/table.parquet", None, o).await;
    // A Parquet reader: the footer, then two column chunks.
    let reads = [
        (size - 64 * KIB, 64 * KIB),
        (MIB + 17, 300 * KIB),
        (5 * MIB, 50 * KIB),
    ];
    for (at, n) in reads {
        r.seek(at).unwrap();
        let got = read_n(&mut r, n as usize).await.unwrap();
        assert!(got == data[at as usize..(at + n) as usize], "bytes at {at}");
    }
    let log = env.emu.log();
    assert_eq!(log.iter().filter(|e| e.method == "HEAD").count(), 1);
    let gets: Vec<_> = log.iter().filter(|e| e.method == "GET").collect();
    // Each read's bytes (plus the read-ahead) in GETs of at least 256 KiB: 80 KiB -> 1,
    // 316 KiB -> 2, 66 KiB -> 1.
    assert_eq!(
        gets.len(),
        4,
        "a handful of GETs: {:?}",
        gets.iter().map(|e| &e.range).collect::<Vec<_>>()
    );
    let fetched: u64 = gets.iter().map(|e| range_of(e).1 - range_of(e).0 + 1).sum();
    let asked: u64 = reads.iter().map(|r| r.1).sum();
    assert!(
        fetched <= asked + 3 * 16 * KIB,
        "fetched {fetched} bytes for {asked} asked"
    );
    // Back at the start, a read to the end is checked again.
    r.seek(0).unwrap();
    assert!(read_n(&mut r, size as usize + 1).await.unwrap() == data);
    assert!(
        r.meta().verified,
        "a read from the start to the end after random reads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_to_the_end_after_a_seek_back_to_the_start_is_verified() {
    let env = Env::new();
    let client = env.client();
    let path = env.object("s/again", 2 * MIB + 77);
    let want = std::fs::read(&path).unwrap();
    let mut r = open(&client, "s/again", None, opts(256 * KIB, 2 * MIB)).await;
    // Past the first parts (read through, their CRCs chained), then back to the start.
    let head = read_n(&mut r, (700 * KIB) as usize).await.unwrap();
    assert!(head == want[..head.len()]);
    r.seek(0).unwrap();
    let (got, err) = read_to_end(&mut r, 100_000).await;
    assert!(err.is_none(), "{err:?}");
    assert!(got == want);
    assert!(
        r.meta().verified,
        "a read from the start to the end after a seek back to the start is checked"
    );
    // Back to the start once the end was seen: a read to the end again passes the check too.
    r.seek(0).unwrap();
    let (got, err) = read_to_end(&mut r, 100_000).await;
    assert!(err.is_none() && got == want, "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_changed_during_a_sequential_read_fails_the_next_read_never_mixing_bytes() {
    let env = Env::new();
    let client = env.client();
    let path = env.object("s/mutate", 4 * MIB);
    let old = std::fs::read(&path).unwrap();
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::Mutate)
                .method("GET")
                .after(3)
                .count(1),
        ),
    );
    let mut r = open(&client, "s/mutate", None, opts(256 * KIB, MIB)).await;
    let (got, err) = read_to_end(&mut r, 64 * KIB as usize).await;
    let e = err.expect("the change is an error");
    assert_eq!(e.kind, ErrorKind::ObjectChanged, "{e}");
    assert!(e.message.contains("s/mutate"), "names the object: {e}");
    assert_eq!((e.bucket.as_str(), e.key.as_str()), (BUCKET, "s/mutate"));
    assert!(got.len() < old.len());
    assert!(got == old[..got.len()], "only bytes of the first version");
    // Every later read says the same.
    let again = r.read(&mut [0u8; 10]).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::ObjectChanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_changed_between_random_reads_fails_the_next_read() {
    let env = Env::new();
    let client = env.client();
    let size = 2 * MIB;
    let path = env.object("s/mutate-random", size);
    let old = std::fs::read(&path).unwrap();
    let mut r = open(&client, "s/mutate-random", None, PrefetchOptions::default()).await;
    r.seek(size - 1000).unwrap();
    assert!(read_n(&mut r, 1000).await.unwrap() == old[old.len() - 1000..]);
    // Rewritten in place, same size.
    let mut new = old.clone();
    new[10] ^= 0xff;
    new[MIB as usize] ^= 0xff;
    env.emu.put_object(BUCKET, "s/mutate-random", &new).unwrap();
    r.seek(MIB - 100).unwrap();
    let e = read_n(&mut r, 200).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ObjectChanged, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crc_mismatch_is_the_error_of_the_final_read() {
    let env = Env::new();
    let client = env.client();
    let size = MIB + 5;
    let src = env.object("s/crc", size);
    env.emu.object_meta(BUCKET, "s/crc").unwrap(); // the CRC recorded now
    let f = std::fs::OpenOptions::new().write(true).open(&src).unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"XYZ", 300 * KIB).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    let mut r = open(&client, "s/crc", None, opts(256 * KIB, MIB)).await;
    let (got, err) = read_to_end(&mut r, 64 * KIB as usize).await;
    assert_eq!(got.len() as u64, size, "every byte handed out first");
    let e = err.expect("the end is an error, not a silent end of file");
    assert_eq!(e.kind, ErrorKind::CrcMismatch, "{e}");
    assert!(!r.meta().verified);
    // A range is not checked (no CRC of a range is published).
    let mut r = PrefetchReader::open(
        &client,
        &object_request("s/crc"),
        Some((0, 1000)),
        opts(256 * KIB, MIB),
        &Cancel::new(),
    )
    .await
    .unwrap();
    let (got, err) = read_to_end(&mut r, 64 * KIB as usize).await;
    assert!(err.is_none() && got.len() == 1001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_consumer_never_reserves_more_than_the_window() {
    let env = Env::new();
    let client = env.client();
    let size = 16 * MIB;
    let path = env.object("s/stall", size);
    let data = std::fs::read(&path).unwrap();
    let budget = client.memory_budget().clone();
    let pool = budget.total() - BASE_COST;
    let window = MIB;
    let mut r = open(&client, "s/stall", None, opts(128 * KIB, window)).await;
    let first = read_n(&mut r, 3 * MIB as usize).await.unwrap();
    assert!(first == data[..3 * MIB as usize]);
    // The consumer stops: the GETs in flight finish, no new one starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(env.emu.wait_idle(Duration::from_secs(10)));
    let reserved = pool - budget.free_bytes();
    assert!(reserved <= window, "reserved {reserved} > window {window}");
    let furthest = gets(&env).iter().map(|e| range_of(e).1 + 1).max().unwrap();
    assert!(
        furthest <= 3 * MIB + window,
        "fetched up to {furthest}, beyond the window ahead of {}",
        3 * MIB
    );
    let n = gets(&env).len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(gets(&env).len(), n, "no GET while the consumer stalls");
    // And it goes on when the consumer does.
    let (rest, err) = read_to_end(&mut r, 256 * KIB as usize).await;
    assert!(err.is_none(), "{err:?}");
    assert!(rest == data[3 * MIB as usize..]);
    drop(r);
    assert_eq!(budget.free_bytes(), pool);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_receives_no_more_than_the_budget_holds_while_its_consumer_stalls() {
    // One GET far larger than the budget: its bytes are reserved as they arrive, so with the
    // consumer stalled it stops receiving once the budget is spent (the server cannot finish
    // sending it), and goes on when the consumer reads.
    let env = Env::new();
    let client = env.client_with(|c| c.memory_budget = oss_ffi::memory_budget::MIN_MEMORY_BUDGET);
    let size = 96 * MIB;
    let data = std::fs::read(env.object("s/huge-part", size)).unwrap();
    let budget = client.memory_budget().clone();
    let pool = budget.total() - BASE_COST;
    let mut r = open(&client, "s/huge-part", None, opts(64 * MIB, 64 * MIB)).await;
    assert!(read_n(&mut r, 10).await.unwrap() == data[..10]);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        gets(&env).is_empty(),
        "the 64 MiB GET was received whole behind a stalled consumer, with a budget of {pool} bytes"
    );
    assert!(pool - budget.free_bytes() <= pool);
    let (rest, err) = read_to_end(&mut r, MIB as usize).await;
    assert!(err.is_none(), "{err:?}");
    assert!(rest == data[10..]);
    assert!(r.meta().verified);
    drop(r);
    assert!(budget_whole(&budget).await);
}

/// Waits (up to 10 s) until the budget is whole again.
async fn budget_whole(budget: &oss_ffi::memory_budget::MemoryBudget) -> bool {
    let pool = budget.total() - BASE_COST;
    for _ in 0..1000 {
        if budget.free_bytes() == pool {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_reader_with_gets_in_flight_frees_everything() {
    let env = Env::new();
    let client = env.client();
    env.object("s/drop", 8 * MIB);
    env.faults(
        Faults::none().with(
            FaultRule::new(FaultAction::Stall {
                bytes: 1000,
                ms: 3000,
            })
            .method("GET"),
        ),
    );
    let budget = client.memory_budget().clone();
    let mut r = open(&client, "s/drop", None, opts(MIB, 4 * MIB)).await;
    let mut buf = vec![0u8; 4000];
    // The first 1000 bytes arrive, then every GET stalls mid-body.
    assert_eq!(r.read(&mut buf).await.unwrap(), 1000);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), r.read(&mut buf))
            .await
            .is_err()
    );
    assert!(
        budget.free_bytes() < budget.total() - BASE_COST,
        "GETs hold reservations"
    );
    drop(r);
    assert!(budget_whole(&budget).await, "every reservation given back");
    assert!(
        env.emu.wait_idle(Duration::from_secs(10)),
        "every connection closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_read_in_progress_from_another_thread() {
    let env = Env::new();
    let client = env.client();
    env.object("s/cancel", 4 * MIB);
    env.slow_gets(5000);
    let budget = client.memory_budget().clone();
    let mut r = open(&client, "s/cancel", None, PrefetchOptions::default()).await;
    let c = r.canceller();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        c.cancel();
    });
    let e = r.read(&mut [0u8; 100]).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert_eq!(
        r.read(&mut [0u8; 100]).await.unwrap_err().kind,
        ErrorKind::Cancelled
    );
    drop(r);
    assert!(budget_whole(&budget).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_bodies_and_503s_during_a_read_still_give_the_right_bytes() {
    let env = Env::new();
    let path = env.object("s/faults", 3 * MIB);
    let data = std::fs::read(&path).unwrap();
    env.faults(
        Faults::none()
            .with(
                FaultRule::new(FaultAction::Cut { bytes: Some(5000) })
                    .method("GET")
                    .count(3),
            )
            .with(
                FaultRule::new(FaultAction::Status {
                    status: 503,
                    code: None,
                })
                .method("GET")
                .after(4)
                .count(2),
            )
            .with(
                FaultRule::new(FaultAction::Stall {
                    bytes: 100,
                    ms: 60_000,
                })
                .method("GET")
                .after(8)
                .count(1),
            ),
    );
    // A short idle timeout, so that the stalled body is noticed and resumed quickly.
    let client = env.client_with(|c| c.request_timeout = Duration::from_millis(500));
    let mut r = open(&client, "s/faults", None, opts(256 * KIB, MIB)).await;
    let (got, err) = read_to_end(&mut r, 100_000).await;
    assert!(err.is_none(), "{err:?}");
    assert!(got == data);
    assert!(r.meta().verified);
    let statuses: Vec<u16> = gets(&env).iter().map(|e| e.status).collect();
    assert!(statuses.contains(&503), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_to_ranged_gets_are_refused() {
    let env = Env::new();
    let client = env.client_with(|c| c.max_retries = 1);
    env.object("s/wrong", MIB);
    for action in [
        FaultAction::WrongContentRange { shift: 1 },
        FaultAction::ShortBody { bytes: 10 },
    ] {
        env.faults(Faults::none().with(FaultRule::new(action.clone()).method("GET")));
        let mut r = open(&client, "s/wrong", None, opts(256 * KIB, MIB)).await;
        let (got, err) = read_to_end(&mut r, 100_000).await;
        assert!(err.is_some(), "{action:?}: refused");
        assert!(
            got.is_empty(),
            "{action:?}: no byte of a wrong answer: {}",
            got.len()
        );
    }
    // A 200 (the whole object) to a ranged GET, and a 206 shorter than asked.
    for status in ["200 OK", "206 Partial Content"] {
        let server = HostileServer::start(move |req, _| {
            let h = object_headers(1000);
            if req.method == "HEAD" {
                return answer_owned("200 OK", &h, b"");
            }
            let mut h: Vec<(&str, String)> = h
                .into_iter()
                .filter(|(k, _)| *k != "Content-Length")
                .collect();
            if status == "200 OK" {
                h.push(("Content-Length", "1000".into()));
                answer_owned(status, &h, &[7u8; 1000])
            } else {
                h.push(("Content-Length", "10".into()));
                h.push(("Content-Range", "bytes 0-9/1000".into()));
                answer_owned(status, &h, &[7u8; 10])
            }
        });
        let c = server.client(oss_ffi::config::Config {
            retry_base_delay: Duration::from_millis(5),
            max_retries: 1,
            ..Default::default()
        });
        let req = oss_ffi::object::ObjectRequest {
            bucket: "hostile-bucket".into(),
            key: "k".into(),
            ..Default::default()
        };
        let mut r =
            PrefetchReader::open(&c, &req, None, PrefetchOptions::default(), &Cancel::new())
                .await
                .unwrap();
        let (got, err) = read_to_end(&mut r, 4096).await;
        let e = err.expect("refused");
        assert!(got.is_empty(), "{status}: nothing handed out");
        assert!(e.message.contains("hostile-bucket/k"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_never_waits_for_budget_another_idle_reader_holds() {
    // One thread reading two files in turn (pandas, a merge): the first reader's parts hold the
    // whole budget while its consumer reads the second file; the second must not wait for the
    // first to be read or closed.
    let env = Env::new();
    let client = env.client_with(|c| c.memory_budget = oss_ffi::memory_budget::MIN_MEMORY_BUDGET);
    let a_data = std::fs::read(env.object("s/first", 8 * MIB)).unwrap();
    let b_data = std::fs::read(env.object("s/second", 8 * MIB)).unwrap();
    let o = opts(2 * MIB, 4 * MIB);
    let mut a = open(&client, "s/first", None, o).await;
    let mut b = open(&client, "s/second", None, o).await;
    assert!(read_n(&mut a, 10).await.unwrap() == a_data[..10]);
    let got = tokio::time::timeout(Duration::from_secs(20), read_n(&mut b, 10)).await;
    let got = got.expect("the second reader waited for the budget the first one holds");
    assert!(got.unwrap() == b_data[..10]);
    // Both read on to the end, in turns.
    let (mut ra, mut rb) = (a_data[..10].to_vec(), b_data[..10].to_vec());
    loop {
        let x = read_n(&mut a, 300_000).await.unwrap();
        let y = read_n(&mut b, 300_000).await.unwrap();
        if x.is_empty() && y.is_empty() {
            break;
        }
        ra.extend_from_slice(&x);
        rb.extend_from_slice(&y);
    }
    assert!(ra == a_data && rb == b_data);
}
