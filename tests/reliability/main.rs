//! The reliability suite: crash safety under SIGKILL and simulated power cuts,
//! network faults, concurrency, local file-system faults, hostile input at the C ABI, fuzzing of
//! the parsers, and secrets.
//! See RELIABILITY.md for what each phase does, the figures and how to run the soak mode.
//!
//! A custom harness (`harness = false`): phases run one after the other, each under a deadline,
//! and a summary of the counters is printed at the end (and written to
//! `target/reliability-summary.txt`); the run fails if any phase failed or if any of corrupt
//! outputs, crashes, hangs, leaked secrets or checkpoint parts lost by a power cut is not zero.
//!
//! - `cargo test -p oss-ffi --test reliability`: the CI subset (about 2-4 minutes, debug build).
//! - `cargo test -p oss-ffi --test reliability -- kills fuzz`: only the phases named.
//! - `OSS_FFI_SOAK=1 cargo test --release -p oss-ffi --test reliability`: the soak (>= 540 kills,
//!   more fault rounds, a longer fuzz); `OSS_FFI_FUZZ_SECS=N` sets the fuzzing time.
//! - `OSS_TEST_REQUIRE_FUSE=1`: the power phase fails (instead of skipping) when it cannot mount
//!   its FUSE file system.
//! - With `OSS_FFI_SANITIZE=1` or `VALGRIND=...` (scripts/test.sh's ASan and valgrind passes)
//!   only the C ABI phase runs, its C program under the sanitizer or valgrind.

#[path = "../download_support/mod.rs"]
mod download_support;
#[path = "../support/mod.rs"]
mod support;

mod batch;
mod child;
mod concurrency;
mod faults;
mod fuzz;
mod hostile;
mod integrity;
mod kills;
mod local;
mod power;
mod powerfs;
mod tally;

use std::time::{Duration, Instant};

use download_support::Rng;

type Phase = (&'static str, fn(&mut Rng));

const PHASES: &[Phase] = &[
    ("hostile", hostile::run),
    ("fuzz", fuzz::run),
    ("faults", faults::run),
    ("concurrency", concurrency::run),
    ("local", local::run),
    ("integrity", integrity::run),
    ("kills", kills::run),
    ("power", power::run),
    ("batch", batch::run),
];

fn main() {
    if batch::is_child() {
        batch::child_main();
        return;
    }
    if child::is_child() {
        child::child_main();
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in PHASES {
            println!("{name}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let checked_c = support::sanitize() || std::env::var("VALGRIND").is_ok_and(|v| !v.is_empty());
    let soak = tally::soak();
    let seed = std::env::var("OSS_FFI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Rng::from_time().0);
    println!(
        "reliability suite: {} mode, seed {seed} (replay with OSS_FFI_SEED={seed})",
        if soak { "SOAK" } else { "CI" }
    );
    for s in [
        download_support::SK,
        hostile::STS_SK,
        hostile::STS_TOKEN,
        hostile::WRONG_SK,
        hostile::GET_SK,
        hostile::GET_TOKEN,
    ] {
        tally::add_secret(s);
    }
    tally::capture_logs();

    // The whole suite has a deadline too.
    let limit = Duration::from_secs(if soak { 3 * 3600 } else { 20 * 60 });
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("HANG: the reliability suite exceeded {limit:?}");
        powerfs::emergency_unmount();
        std::process::exit(3);
    });

    let t0 = Instant::now();
    let mut failed = Vec::new();
    let mut ran = 0;
    for (name, phase) in PHASES {
        if checked_c && *name != "hostile" {
            continue;
        }
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        ran += 1;
        println!("\n=== phase {name}");
        let t = Instant::now();
        let mut rng = Rng(seed ^ name.len() as u64 ^ 0x5eed);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| phase(&mut rng)));
        let secs = t.elapsed().as_secs_f64();
        match r {
            Ok(()) => println!("=== phase {name}: ok ({secs:.1} s)"),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("=== phase {name}: FAILED ({secs:.1} s): {msg}");
                failed.push(*name);
            }
        }
    }
    let summary = summary(t0.elapsed(), seed, ran);
    println!("\n{summary}");
    let out = support::target_dir().join("reliability-summary.txt");
    let _ = std::fs::write(&out, &summary);
    println!("(written to {})", out.display());
    let bad = tally::get(&tally::CORRUPT)
        + tally::get(&tally::CRASHES)
        + tally::get(&tally::HANGS)
        + tally::get(&tally::LEAKS)
        + tally::get(&tally::LOST_CLAIMS);
    if !failed.is_empty() || bad > 0 {
        println!("reliability suite FAILED: phases {failed:?}");
        std::process::exit(1);
    }
    println!("reliability suite passed");
}

fn summary(elapsed: Duration, seed: u64, ran: usize) -> String {
    let mut s = format!(
        "reliability summary ({} mode, {} phases, {:.0} s, seed {seed})\n",
        if tally::soak() { "soak" } else { "CI" },
        ran,
        elapsed.as_secs_f64()
    );
    for (name, doc, v) in tally::all() {
        s.push_str(&format!("  {:<15} {:>9}  {doc}\n", name.to_lowercase(), v));
    }
    for n in tally::NOTES.lock().unwrap().iter() {
        s.push_str(&format!("  note: {n}\n"));
    }
    s
}
