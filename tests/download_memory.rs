//! Crash safety and memory: a download process killed with SIGKILL at random moments and re-run
//! ends with a byte-identical file and no leftovers; peak RSS of a large download with 16 threads.
//!
//! Both use child processes: this test binary re-executes itself running only the ignored
//! `child_download_entry` test, which performs one download described by `OSS_FFI_CHILD_*`
//! environment variables. The emulator runs in the parent process, so the child's memory is the
//! downloader's alone (plus the test binary's baseline, which is printed).
//!
//! The memory test downloads a 1 GiB object (about 6 s in a debug build: the emulator and its
//! hashing are optimised even there, see the root Cargo.toml); `OSS_FFI_QUICK=1` shrinks it to
//! 128 MiB, which exercises the same bounded buffers.

mod download_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use download_support::*;
use oss_emulator::{FaultAction, FaultRule, Faults};

const CHILD: &str = "OSS_FFI_CHILD_ENDPOINT";

/// One download in a child process (does nothing unless run by the tests below).
#[test]
#[ignore]
fn child_download_entry() {
    let Ok(endpoint) = std::env::var(CHILD) else {
        return;
    };
    let var = |n: &str| std::env::var(format!("OSS_FFI_CHILD_{n}")).ok();
    let key = var("KEY").unwrap();
    let mut req = oss_ffi::download::DownloadRequest::new(BUCKET, key);
    req.file_path = Some(var("DEST").unwrap().into());
    req.checkpoint_dir = var("CKPT").map(Into::into);
    req.part_size = var("PART").unwrap().parse().unwrap();
    req.thread_num = var("THREADS").unwrap().parse().unwrap();
    let total: u64 = var("TOTAL").unwrap().parse().unwrap();
    let baseline = status_kib("VmRSS:");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(oss_ffi::runtime::MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
        .unwrap();
    let client = client_for(&endpoint, false);
    let t0 = Instant::now();
    let (r, _) = rt.block_on(download(&client, &req, total));
    let secs = t0.elapsed().as_secs_f64();
    match r {
        Ok(_) => println!("CHILD_OK {secs:.3}"),
        Err(e) => println!("CHILD_ERR {e}"),
    }
    println!(
        "CHILD_MEM baseline_rss_kib={} peak_hwm_kib={} MiB/s={:.0}",
        baseline,
        status_kib("VmHWM:"),
        total as f64 / 1048576.0 / secs
    );
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

struct ChildSpec<'a> {
    endpoint: String,
    key: &'a str,
    dest: &'a Path,
    ckpt: Option<&'a Path>,
    part: u64,
    threads: u32,
    total: u64,
}

fn child(spec: &ChildSpec) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "child_download_entry",
        "--exact",
        "--nocapture",
        "--ignored",
    ])
    .env(CHILD, &spec.endpoint)
    .env("OSS_FFI_CHILD_KEY", spec.key)
    .env("OSS_FFI_CHILD_DEST", spec.dest)
    .env("OSS_FFI_CHILD_PART", spec.part.to_string())
    .env("OSS_FFI_CHILD_THREADS", spec.threads.to_string())
    .env("OSS_FFI_CHILD_TOTAL", spec.total.to_string())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(d) = spec.ckpt {
        c.env("OSS_FFI_CHILD_CKPT", d);
    }
    c
}

fn run_child(spec: &ChildSpec) -> String {
    let out = child(spec).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("CHILD_OK"),
        "child failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn sigkill_at_20_random_moments_then_resume() {
    let env = Env::new();
    let size = 24 * MIB + 12345;
    let key = "kill/obj";
    let src = env.object(key, size);
    // A little latency per request so that a run lasts long enough to be hit anywhere.
    env.faults(Faults::none().with(FaultRule::new(FaultAction::Latency { ms: 10 }).method("GET")));
    let dest = env.path("killed.bin");
    let ckpt = env.ckpt_dir();
    let spec = ChildSpec {
        endpoint: env.emu.endpoint(),
        key,
        dest: &dest,
        ckpt: Some(&ckpt),
        part: 256 * KIB,
        threads: 4,
        total: size,
    };
    // How long an uninterrupted run takes, to spread the kills over it.
    let t0 = Instant::now();
    run_child(&spec);
    let full = t0.elapsed();
    assert_same_file(&src, &dest);
    std::fs::remove_file(&dest).unwrap();

    let mut rng = Rng::from_time();
    println!("seed {}, uninterrupted run {full:?}", rng.0);
    let (mut killed, mut finished) = (0, 0);
    // 20 kills that hit a running download (a resumed run is shorter, so some runs finish
    // before their kill: those count as runs, not kills).
    for i in 0..60 {
        if killed == 20 {
            break;
        }
        let at = Duration::from_micros(rng.below(full.as_micros() as u64 * 11 / 10));
        let mut c = child(&spec).spawn().unwrap();
        std::thread::sleep(at);
        let still_running = c.try_wait().unwrap().is_none();
        c.kill().unwrap(); // SIGKILL
        c.wait().unwrap();
        if still_running {
            killed += 1;
        } else {
            finished += 1;
        }
        // Whatever the moment, the destination is absent or complete and right.
        if dest.exists() {
            assert_same_file(&src, &dest);
            std::fs::remove_file(&dest).unwrap();
            assert!(
                checkpoint_in(&ckpt).is_none() || still_running,
                "kill {i}: a finished run left its checkpoint"
            );
        }
    }
    println!("{killed} runs killed, {finished} finished before their kill");
    assert!(
        killed >= 15,
        "only {killed} of the 20 kills hit a running download"
    );
    run_child(&spec);
    assert_same_file(&src, &dest);
    assert_no_leftovers(&[env.work.path()]);
}

#[test]
fn peak_rss_of_a_large_download_with_16_threads() {
    let quick = std::env::var("OSS_FFI_QUICK").is_ok_and(|v| v == "1");
    let size = if quick { 128 * MIB } else { 1024 * MIB + 7 };
    let env = Env::new();
    let key = "rss/obj";
    let t0 = Instant::now();
    let src = env.object(key, size);
    println!("object of {size} bytes created in {:?}", t0.elapsed());
    let dest = env.path("rss.bin");
    let out = run_child(&ChildSpec {
        endpoint: env.emu.endpoint(),
        key,
        dest: &dest,
        ckpt: None,
        part: 8 * MIB,
        threads: 16,
        total: size,
    });
    let mem = out.lines().find(|l| l.starts_with("CHILD_MEM")).unwrap();
    println!("{size} bytes, 16 threads: {mem}");
    let hwm: u64 = mem
        .split_whitespace()
        .find_map(|f| f.strip_prefix("peak_hwm_kib="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(hwm < 64 * 1024, "peak RSS {hwm} KiB >= 64 MiB");
    let t0 = Instant::now();
    assert_same_file(&src, &dest);
    println!("compared in {:?}", t0.elapsed());
    assert_no_leftovers(&[env.work.path()]);
}
