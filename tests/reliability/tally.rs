//! The suite's counters (printed as the summary at the end), deadlines and the secret scanner.
#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

macro_rules! counters {
    ($($name:ident: $doc:literal),* $(,)?) => {
        $(#[doc = $doc] pub static $name: AtomicU64 = AtomicU64::new(0);)*
        /// `(name, doc, value)` of every counter, in order.
        pub fn all() -> Vec<(&'static str, &'static str, u64)> {
            vec![$((stringify!($name), $doc, $name.load(Ordering::SeqCst))),*]
        }
    };
}

counters! {
    KILLS: "SIGKILLs that hit a running download process",
    PAUSED_KILLS: "of which inside a window held by OSS_FFI_TEST_PAUSE_AT (checkpoint write/rename, final rename)",
    CHILD_RUNS: "download processes started",
    DOWNLOADS: "downloads run (in-process and child processes)",
    VERIFIED_FILES: "final files compared byte for byte with the object",
    FAULTS: "faults injected (server faults that fired, per the request log, plus local faults)",
    OBJECT_CHANGES: "objects overwritten mid-download or between runs (each must end in ObjectChanged or the new content)",
    BAD_INPUTS: "bad inputs tried (C ABI hostile calls, corrupt checkpoints, hostile paths; fuzz cases apart)",
    FUZZ_CASES: "fuzz cases executed",
    LOG_LINES: "log lines scanned for secrets (trace level)",
    ERRORS_SCANNED: "error messages scanned for secrets",
    POWER_CUTS: "simulated power cuts (download process SIGKILLed and unsynced writes dropped at the same instant)",
    PLACED_CUTS: "of which held at the n-th write, sync or metadata operation of a run",
    WRITES_LOST: "unsynced writes and size changes dropped whole or in part by the power cuts",
    TORN_WRITES: "of which torn at a byte or page boundary",
    META_LOST: "unsynced creates, renames and unlinks undone by the power cuts",
    CKPTS_CHECKED: "checkpoints that survived a power cut, checked against the temp file",
    CLAIMS_CHECKED: "finished parts in those checkpoints whose CRC64 was checked on the surviving temp file",
    LOST_CLAIMS: "checkpoint parts claiming bytes the power cut lost (must be 0)",
    CORRUPT: "corrupt outputs: a destination file or checkpoint with wrong content (must be 0)",
    CRASHES: "crashes: panics, child processes dead of a signal we did not send (must be 0)",
    HANGS: "hangs: deadlines exceeded (must be 0)",
    LEAKS: "secrets found in logs or error messages (must be 0)",
}

pub fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::SeqCst);
}

pub fn inc(c: &AtomicU64) {
    add(c, 1);
}

pub fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::SeqCst)
}

/// Free-form notes for the summary (what ran, what was skipped and why).
pub static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn note(s: impl Into<String>) {
    let s = s.into();
    println!("    note: {s}");
    NOTES.lock().unwrap().push(s);
}

/// Secrets that must never appear in a log line or an error message.
pub static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn add_secret(s: &str) {
    let mut v = SECRETS.lock().unwrap();
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// Counts `text` as scanned and records a leak if it contains a secret.
pub fn scan(text: &str, what: &str) {
    for s in SECRETS.lock().unwrap().iter() {
        if text.contains(s.as_str()) {
            inc(&LEAKS);
            eprintln!("SECRET LEAKED in {what}: {text}");
        }
    }
}

/// Scans an error (message, Display and Debug) for secrets.
pub fn scan_error(e: &oss_ffi::Error) {
    inc(&ERRORS_SCANNED);
    scan(&format!("{e} | {e:?}"), "an error message");
}

/// Warn-level lines saying that a checkpoint could not be saved (a checkpoint directory that
/// became unwritable mid-download); not a summary counter, the `local` phase notes it.
pub static CKPT_SAVE_WARNINGS: AtomicU64 = AtomicU64::new(0);

/// Installs the trace-level log sink that scans every line.
pub fn capture_logs() {
    oss_ffi::log::set_level(oss_ffi::log::Level::Trace);
    oss_ffi::log::set_sink(Some(std::sync::Arc::new(|level, msg: &str| {
        if level == oss_ffi::log::Level::Warn && msg.contains("cannot save the checkpoint") {
            inc(&CKPT_SAVE_WARNINGS);
        }
        inc(&LOG_LINES);
        scan(msg, "a log line");
    })));
}

/// Awaits `fut` for at most `secs`; past that the test fails as a hang.
pub async fn deadline<T>(what: &str, secs: u64, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(v) => v,
        Err(_) => {
            inc(&HANGS);
            panic!("HANG: {what} did not finish within {secs} s");
        }
    }
}

/// Waits for a child process for at most `secs` (killing it on expiry: a hang).
pub fn wait_child(c: &mut std::process::Child, what: &str, secs: u64) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return st;
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = c.kill();
            let _ = c.wait();
            inc(&HANGS);
            panic!("HANG: {what} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Counts the faults that fired in an emulator's request log (and clears the log).
pub fn count_server_faults(emu: &oss_emulator::Emulator) -> u64 {
    // Latency (added to every request of some tests to widen windows) is not counted.
    let n = emu
        .log()
        .iter()
        .filter_map(|e| e.fault.as_deref())
        .map(|f| f.split(',').filter(|n| !n.starts_with("latency")).count() as u64)
        .sum();
    emu.clear_log();
    add(&FAULTS, n);
    n
}

pub fn soak() -> bool {
    std::env::var("OSS_FFI_SOAK").is_ok_and(|v| v == "1")
}

/// `ci` normally, `soak` under OSS_FFI_SOAK=1.
pub fn scale(ci: u64, soak_n: u64) -> u64 {
    if soak() {
        soak_n
    } else {
        ci
    }
}
