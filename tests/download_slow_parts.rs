//! Slow connections do not set the pace: a part whose answer comes far slower than the other
//! parts' (the emulator's `throttle` fault) is re-requested, for the bytes it has not delivered,
//! on a new request (the download's first answer too, its dropped record ending failed); the
//! bytes stay right (the whole object's CRC64 is checked), a re-request that is itself cut or
//! answered 503 recovers, and a cancellation during a re-request leaves a checkpoint that a
//! later call completes.
//!
//! No timing thresholds: the throttled answer would take about 13 s at its rate, the test
//! checks which requests were made (the emulator's request log) and the bytes.

mod download_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use download_support::*;
use oss_emulator::{FaultAction, FaultRule, Faults, LogEntry};
use oss_ffi::cancel::Cancel;
use oss_ffi::metrics::{MetricsCallback, RequestMetrics};
use oss_ffi::ErrorKind;
use tokio_util::sync::CancellationToken;

const PS: u64 = 256 * KIB;
const PARTS: u64 = 8;
const SIZE: u64 = PARTS * PS;
/// A throttled answer's rate: a part takes about 13 s at it, its peers a few milliseconds.
const SLOW: u64 = 20_000;

fn get(action: FaultAction) -> FaultRule {
    FaultRule::new(action).method("GET")
}

/// The third GET of the download throttled (its first two are fast, and so are the other five
/// parts' first requests).
fn throttle_third() -> FaultRule {
    get(FaultAction::Throttle {
        bytes_per_sec: SLOW,
    })
    .after(2)
    .count(1)
}

fn request(env: &Env, key: &str, dest: &str) -> oss_ffi::download::DownloadRequest {
    let mut req = env.request(key, dest);
    req.part_size = PS;
    req.thread_num = PARTS as u32;
    req
}

/// The log's GETs of `key` once the throttled answer's entry is there (an answer is logged
/// when it ends: the dropped one, when its emulator side notices the closed connection).
fn gets_after_throttled(env: &Env, key: &str) -> Vec<LogEntry> {
    let t0 = Instant::now();
    loop {
        let g = gets(env, key);
        if g.iter().any(is_throttled) || t0.elapsed() > Duration::from_secs(60) {
            return g;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_throttled(e: &LogEntry) -> bool {
    e.fault.as_deref().is_some_and(|f| f.contains("throttle"))
}

/// The throttled request's range, and the requests made after it for the rest of its part.
fn reissues(log: &[LogEntry]) -> ((u64, u64), Vec<LogEntry>) {
    let slow = log
        .iter()
        .filter(|e| is_throttled(e))
        .min_by_key(|e| e.seq)
        .expect("the throttled request is in the log");
    let (a, b) = parse_range(slow.range.as_deref().unwrap());
    assert!(
        slow.bytes_sent < b - a + 1,
        "the throttled answer was dropped before its end ({} of {} bytes sent)",
        slow.bytes_sent,
        b - a + 1
    );
    let after = log
        .iter()
        .filter(|e| e.seq != slow.seq && e.range.is_some())
        .filter(|e| {
            let (c, d) = parse_range(e.range.as_deref().unwrap());
            d == b && c >= a && (c > a || e.seq > slow.seq)
        })
        .cloned()
        .collect();
    ((a, b), after)
}

fn counting_metrics() -> (MetricsCallback, Arc<Mutex<Vec<RequestMetrics>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let cb = MetricsCallback(Arc::new(move |m: &RequestMetrics| {
        s.lock().unwrap().push(m.clone());
    }));
    (cb, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_re_requested_and_the_bytes_are_right() {
    let env = Env::new();
    let (cb, _) = counting_metrics();
    let client = env.client_with(|c| {
        c.reissue_slow_parts = true;
        c.request_metrics = Some(cb);
    });
    let src = env.object("s/slow", SIZE);
    env.faults(Faults::none().with(throttle_third()));
    let req = request(&env, "s/slow", "slow");
    download(&client, &req, SIZE).await.0.unwrap();
    assert_same_file(&src, &env.path("slow"));
    let log = gets_after_throttled(&env, "s/slow");
    let (range, after) = reissues(&log);
    assert!(
        !after.is_empty(),
        "the slow part {range:?} was re-requested: {log:#?}"
    );
    assert!(after.iter().all(|e| e.status == 206));
    assert!(client.request_stats().reissued >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_first_answer_is_re_requested_and_its_record_ends_failed() {
    let env = Env::new();
    let (cb, seen) = counting_metrics();
    let client = env.client_with(|c| {
        c.reissue_slow_parts = true;
        c.request_metrics = Some(cb);
    });
    let src = env.object("s/first", SIZE);
    // The download's first GET, whose answer part 0 reads on, is the slow one.
    env.faults(
        Faults::none().with(
            get(FaultAction::Throttle {
                bytes_per_sec: SLOW,
            })
            .count(1),
        ),
    );
    let req = request(&env, "s/first", "first");
    download(&client, &req, SIZE).await.0.unwrap();
    assert_same_file(&src, &env.path("first"));
    let seen = seen.lock().unwrap().clone();
    let part0: Vec<&RequestMetrics> = seen.iter().filter(|m| m.part == Some(0)).collect();
    assert!(part0.len() >= 2, "part 0 was re-requested: {part0:#?}");
    // The dropped answer delivered part of its range: its record says it did not end well
    // (it said nothing: a 206 with a short body and no error looked like a success).
    let dropped = part0[0];
    let (a, b) = dropped.range.expect("a range");
    assert!(dropped.bytes < b - a + 1, "{dropped:?}");
    assert!(!dropped.error_code.is_empty(), "{dropped:?}");
    assert_eq!(part0[1].attempt, dropped.attempt + 1, "{part0:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_request_that_is_cut_or_answered_503_recovers() {
    let env = Env::new();
    let client = env.client_with(|c| {
        c.reissue_slow_parts = true;
        c.retry_base_delay = Duration::from_millis(10);
    });
    let src = env.object("s/again", SIZE);
    // The ninth GET is the first re-request (eight parts, one request each before it).
    for (name, second) in [
        (
            "503",
            FaultAction::Status {
                status: 503,
                code: None,
            },
        ),
        ("cut", FaultAction::Cut { bytes: Some(1000) }),
    ] {
        env.emu.clear_log();
        env.faults(
            Faults::none()
                .with(throttle_third())
                .with(get(second).after(PARTS).count(1)),
        );
        let dest = format!("again-{name}");
        let req = request(&env, "s/again", &dest);
        download(&client, &req, SIZE)
            .await
            .0
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same_file(&src, &env.path(&dest));
        let log = gets_after_throttled(&env, "s/again");
        let (range, after) = reissues(&log);
        let faulted: Vec<&LogEntry> = after.iter().filter(|e| e.fault.is_some()).collect();
        assert_eq!(
            faulted.len(),
            1,
            "{name}: the re-request of {range:?} met the fault: {log:#?}"
        );
        assert!(
            after.iter().any(|e| e.status == 206 && e.fault.is_none()),
            "{name}: and was made again: {log:#?}"
        );
        std::fs::remove_file(env.path(&dest)).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_during_a_re_request_leaves_a_checkpoint_that_resumes() {
    let env = Env::new();
    let token = CancellationToken::new();
    let t = token.clone();
    // The slow request's record ends (failed, for a part) when it is dropped for its
    // re-request: the download is cancelled a moment later, while the re-request runs.
    let cb = MetricsCallback(Arc::new(move |m: &RequestMetrics| {
        if m.part.is_some() && !m.error_code.is_empty() && !t.is_cancelled() {
            let t = t.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                t.cancel();
            });
        }
    }));
    let client = env.client_with(|c| {
        c.reissue_slow_parts = true;
        c.request_metrics = Some(cb);
    });
    let src = env.object("s/cancel", SIZE);
    // The re-requests (the ninth GET on) are slow too, so that the cancellation lands during
    // one of them.
    env.faults(
        Faults::none().with(throttle_third()).with(
            get(FaultAction::Throttle {
                bytes_per_sec: SLOW,
            })
            .after(PARTS),
        ),
    );
    let mut req = request(&env, "s/cancel", "cancel");
    req.checkpoint_dir = Some(env.ckpt_dir());
    let cancel = Cancel::new().with(token.clone());
    let (r, _) = download_with(&client, &req, SIZE, &cancel, Arc::new(Progress::default())).await;
    let e = r.expect_err("cancelled during the re-request");
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    assert!(
        checkpoint_in(&env.ckpt_dir()).is_some(),
        "a checkpoint after the cancellation"
    );
    let log = gets_after_throttled(&env, "s/cancel");
    let (range, after) = reissues(&log);
    assert!(!after.is_empty(), "{range:?} was re-requested: {log:#?}");
    // The next call completes from the checkpoint, with the right bytes (CRC64 checked).
    env.faults(Faults::none());
    download(&client, &req, SIZE).await.0.unwrap();
    assert_same_file(&src, &env.path("cancel"));
    assert_no_leftovers(&[env.work.path()]);
}

#[test]
fn a_pause_during_a_re_request_gives_a_token_that_resumes() {
    use oss_ffi::download::resume_key::ResumeTokenKey;
    use oss_ffi::transfer::{ResumeTokenBytes, Transfer, TransferState, Work};
    use std::sync::OnceLock;

    let env = Env::new();
    let transfer: Arc<OnceLock<Arc<Transfer>>> = Arc::new(OnceLock::new());
    let t = transfer.clone();
    // As the cancellation test: paused a moment after the slow request was dropped.
    let cb = MetricsCallback(Arc::new(move |m: &RequestMetrics| {
        if m.part.is_some() && !m.error_code.is_empty() {
            if let Some(t) = t.get().cloned() {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(200));
                    t.pause();
                });
            }
        }
    }));
    let client = env.client_with(|c| {
        c.reissue_slow_parts = true;
        c.request_metrics = Some(cb);
        c.resume_token_key = Some(ResumeTokenKey::new(&[7u8; 32]).unwrap());
    });
    let src = env.object("s/pause", SIZE);
    env.faults(
        Faults::none().with(throttle_third()).with(
            get(FaultAction::Throttle {
                bytes_per_sec: SLOW,
            })
            .after(PARTS),
        ),
    );
    oss_ffi::runtime::initialize().unwrap();
    let run = |work: Work| -> Arc<Transfer> {
        let slot = Arc::new(Mutex::new(None));
        let s2 = slot.clone();
        Transfer::start(&client, work, None, None, move |t| {
            *s2.lock().unwrap() = Some(t.clone())
        })
        .unwrap();
        let t = slot.lock().unwrap().take().unwrap();
        t
    };
    let mut req = request(&env, "s/pause", "pause");
    req.checkpoint_dir = None;
    // The transfer is published to the callback before its task can make a request.
    let slot = Arc::new(Mutex::new(None));
    let s2 = slot.clone();
    let tr = transfer.clone();
    Transfer::start(&client, Work::Download(req), None, None, move |t| {
        let _ = tr.set(t.clone());
        *s2.lock().unwrap() = Some(t.clone());
    })
    .unwrap();
    let t = slot.lock().unwrap().take().unwrap();
    let state = t.wait(Some(Duration::from_secs(120)));
    assert_eq!(state, TransferState::Paused, "{:?}", t.result());
    let token = t.take_resume_token().expect("a resume token");
    let log = gets_after_throttled(&env, "s/pause");
    let (range, after) = reissues(&log);
    assert!(!after.is_empty(), "{range:?} was re-requested: {log:#?}");
    // Resumed without the slow answers: the right bytes (CRC64 checked).
    env.faults(Faults::none());
    let token = ResumeTokenBytes::decode(&client, &token).expect("the token");
    let t = run(Work::Resume {
        token: Box::new(token),
        settings: oss_ffi::download::DownloadRequest::new("", ""),
    });
    assert_eq!(
        t.wait(Some(Duration::from_secs(120))),
        TransferState::Succeeded,
        "{:?}",
        t.result()
    );
    assert_same_file(&src, &env.path("pause"));
}
