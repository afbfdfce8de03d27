//! Per-request metrics: the callback sees every attempt of a download (retries of 503 answers and
//! of cut bodies included) with its attempt number, status and phases, and the call's summary adds
//! them up. No timing assertions: presence, ordering and sums only.

mod download_support;

use std::sync::{Arc, Mutex};

use download_support::*;
use oss_emulator::{FaultAction, FaultRule, Faults};
use oss_ffi::cancel::Cancel;
use oss_ffi::download::resumable_download;
use oss_ffi::metrics::{MetricsCallback, RequestMetrics, Summary};

const SIZE: u64 = 300 * KIB;

fn recorder() -> (Arc<Mutex<Vec<RequestMetrics>>>, MetricsCallback) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let cb = MetricsCallback(Arc::new(move |m: &RequestMetrics| {
        s.lock().unwrap().push(m.clone())
    }));
    (seen, cb)
}

/// Phases are parts of the attempt: each, and their sum, within its total.
fn check_phases(m: &RequestMetrics) {
    assert!(m.first_byte <= m.total, "{m:?}");
    assert!(m.body <= m.total, "{m:?}");
    assert!(
        m.sign + m.permit_wait + m.connect.unwrap_or_default() + m.first_byte + m.body + m.write
            <= m.total,
        "{m:?}"
    );
    assert!(m.attempt >= 1);
}

async fn run(
    env: &Env,
    src: &std::path::Path,
    faults: Faults,
) -> (Vec<RequestMetrics>, oss_ffi::metrics::SummarySnapshot) {
    let (seen, cb) = recorder();
    let client = env.client_with(|c| c.request_metrics = Some(cb));
    env.faults(faults);
    let mut req = env.request("m/obj", "out");
    req.thread_num = 1;
    let stats = Summary::new();
    let cancel = Cancel::new().with_stats(stats.clone());
    resumable_download(&client, &req, &cancel).await.unwrap();
    assert_same_file(&env.path("out"), src);
    let seen = seen.lock().unwrap().clone();
    (seen, stats.snapshot())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_callback_sees_every_attempt_of_a_download_with_503s() {
    let env = Env::new();
    let src = env.object("m/obj", SIZE);
    let (seen, sum) = run(&env, &src, Faults::fail_next_gets(2, 503)).await;
    let gets: Vec<_> = seen.iter().filter(|m| m.operation == "GetObject").collect();
    let attempts: Vec<_> = gets.iter().map(|m| (m.attempt, m.status)).collect();
    assert_eq!(attempts[..3], [(1, 503), (2, 503), (3, 206)], "{seen:?}");
    for m in &seen {
        check_phases(m);
        assert_eq!(m.bucket, BUCKET);
        assert_eq!(m.key, "m/obj");
        assert!(!m.request_id.is_empty(), "{m:?}");
        assert!(m.remote_addr.is_some(), "{m:?}");
    }
    assert!(!gets[0].error_code.is_empty() && gets[2].error_code.is_empty());
    assert!(gets[1].retry_wait > std::time::Duration::ZERO);
    assert_eq!(gets.iter().map(|m| m.bytes).sum::<u64>(), SIZE);
    assert!(gets[2].range.is_some());
    // A part's body was written while it was measured.
    assert_eq!(gets[2].part, Some(0), "{:?}", gets[2]);
    assert!(gets[2].write > std::time::Duration::ZERO, "{:?}", gets[2]);
    assert!(seen
        .iter()
        .all(|m| m.operation != "HeadObject" || m.part.is_none()));
    assert_eq!(sum.requests, seen.len() as u64);
    assert_eq!(sum.retries, 2);
    assert_eq!(sum.failed, 2);
    assert_eq!(sum.bytes, SIZE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_callback_sees_a_cut_body_and_its_retry() {
    let env = Env::new();
    let src = env.object("m/obj", SIZE);
    let cut = FaultRule::new(FaultAction::Cut {
        bytes: Some(100 * KIB),
    })
    .method("GET")
    .count(1);
    let (seen, sum) = run(&env, &src, Faults::none().with(cut)).await;
    let gets: Vec<_> = seen.iter().filter(|m| m.operation == "GetObject").collect();
    assert!(gets.len() >= 2, "{seen:?}");
    let first = gets[0];
    assert!(first.status == 200 || first.status == 206, "{first:?}");
    assert!(
        !first.error_code.is_empty(),
        "a cut body is a failed attempt: {first:?}"
    );
    assert!(first.bytes < SIZE);
    let last = gets.last().unwrap();
    assert!(last.error_code.is_empty(), "{last:?}");
    for m in &seen {
        check_phases(m);
    }
    assert_eq!(gets.iter().map(|m| m.bytes).sum::<u64>(), SIZE, "{gets:?}");
    assert_eq!(sum.requests, seen.len() as u64);
    assert_eq!(sum.failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_callback_no_summary_is_kept() {
    let env = Env::new();
    env.object("m/obj", SIZE);
    let client = env.client();
    let stats = Summary::new();
    let cancel = Cancel::new().with_stats(stats.clone());
    resumable_download(&client, &env.request("m/obj", "out"), &cancel)
        .await
        .unwrap();
    assert_eq!(stats.snapshot().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_callback_sees_a_batchs_listing_and_objects_and_its_report_adds_them_up() {
    let env = Env::new();
    for (k, size) in [("b/one", 1000u64), ("b/two", 70_000), ("b/three", 5)] {
        env.object(k, size);
    }
    let (seen, cb) = recorder();
    let client = env.client_with(|c| c.request_metrics = Some(cb));
    let req = oss_ffi::batch::BatchRequest::for_prefix(BUCKET, "b/", env.path("out"));
    let report = client.download_objects(&req, &Cancel::new()).await;
    report.result().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|m| m.operation == "ListObjects"),
        "{seen:?}"
    );
    for key in ["b/one", "b/two", "b/three"] {
        assert!(
            seen.iter()
                .any(|m| m.operation == "GetObject" && m.key == key && m.error_code.is_empty()),
            "no GetObject of {key}: {seen:?}"
        );
    }
    for m in &seen {
        check_phases(m);
    }
    let sum = report.requests;
    assert_eq!(sum.requests, seen.len() as u64);
    assert_eq!(sum.requests as usize, env.emu.log().len());
    assert!(sum.bytes >= 71_005, "{sum:?}");
    assert_eq!(client.request_stats().requests, sum.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_cut_body_is_the_next_attempt_not_the_first() {
    let env = Env::new();
    let src = env.object("m/obj", SIZE);
    let cut = FaultRule::new(FaultAction::Cut {
        bytes: Some(100 * KIB),
    })
    .method("GET")
    .count(2);
    let (seen, sum) = run(&env, &src, Faults::none().with(cut)).await;
    let gets: Vec<_> = seen.iter().filter(|m| m.operation == "GetObject").collect();
    // Cut twice, resumed twice: attempts 1, 2, 3 of one read, counted as retries.
    let attempts: Vec<u32> = gets.iter().map(|m| m.attempt).collect();
    assert_eq!(attempts, [1, 2, 3], "{gets:?}");
    assert_eq!(sum.retries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connect_is_timed_for_the_attempt_that_opened_it() {
    let env = Env::new();
    let src = env.object("m/obj", SIZE);
    let (seen, sum) = run(&env, &src, Faults::none()).await;
    // One thread: the first request opened the connection, the next ones reused it.
    let connects: Vec<bool> = seen.iter().map(|m| m.connect.is_some()).collect();
    assert!(connects[0], "{seen:?}");
    assert!(connects[1..].iter().all(|c| !c), "{seen:?}");
    assert_eq!(sum.connect, seen[0].connect.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_for_the_memory_budget_is_in_the_first_attempt_of_the_part_that_waited() {
    let env = Env::new();
    let size = 16 * MIB;
    let src = env.object("m/big", size);
    let (seen, cb) = recorder();
    // The smallest budget, and more threads than it holds: parts wait for slots.
    let client = env.client_with(|c| {
        c.request_metrics = Some(cb);
        c.memory_budget = 16 * MIB;
    });
    // Slow answers, so that the parts holding the slots hold them a while.
    env.slow_gets(100);
    let mut req = env.request("m/big", "big");
    req.part_size = 256 * KIB;
    req.thread_num = 64;
    let stats = Summary::new();
    let cancel = Cancel::new().with_stats(stats.clone());
    resumable_download(&client, &req, &cancel).await.unwrap();
    assert_same_file(&env.path("big"), &src);
    let seen = seen.lock().unwrap().clone();
    let waited: Vec<_> = seen
        .iter()
        .filter(|m| m.memory_wait > std::time::Duration::ZERO)
        .collect();
    assert!(
        !waited.is_empty(),
        "some part waited for its slot: {seen:?}"
    );
    // Only first attempts of parts after the first carry it (the download's own slot was free).
    assert!(
        waited
            .iter()
            .all(|m| m.part.is_some_and(|p| p > 0) && m.attempt == 1),
        "{waited:?}"
    );
    assert_eq!(
        stats.snapshot().memory_wait,
        waited
            .iter()
            .map(|m| m.memory_wait)
            .sum::<std::time::Duration>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_of_a_part_names_its_part() {
    let env = Env::new();
    let src = env.object("m/parts", SIZE);
    let (seen, cb) = recorder();
    let client = env.client_with(|c| {
        c.request_metrics = Some(cb);
        c.retry_base_delay = std::time::Duration::from_millis(10);
    });
    // The download's first GET answers; the next one (a part's own request) gets a 503 first.
    let fail = FaultRule::new(FaultAction::Status {
        status: 503,
        code: None,
    })
    .method("GET")
    .after(1)
    .count(1);
    env.faults(Faults::none().with(fail));
    let mut req = env.request("m/parts", "parts");
    req.part_size = 100 * KIB;
    req.thread_num = 1;
    resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap();
    assert_same_file(&env.path("parts"), &src);
    let seen = seen.lock().unwrap().clone();
    let failed: Vec<_> = seen
        .iter()
        .filter(|m| m.operation == "GetObject" && m.status == 503)
        .collect();
    assert_eq!(failed.len(), 1, "{seen:?}");
    let (first, _) = failed[0].range.expect("a part's range");
    assert_eq!(
        failed[0].part,
        Some((first / (100 * KIB)) as u32),
        "{:?}",
        failed[0]
    );
}
