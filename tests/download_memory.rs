//! Memory: peak RSS of a large download with 16 threads. (Downloads killed with SIGKILL at random
//! moments are the reliability suite's `kills` phase, tests/reliability/kills.rs.)
//!
//! The download runs in a child process: this test binary re-executes itself running only the
//! ignored `child_download_entry` test, which performs one download described by
//! `OSS_FFI_CHILD_*` environment variables. The emulator runs in the parent process, so the child's memory is the
//! downloader's alone (plus the test binary's baseline, which is printed).
//!
//! The memory test downloads a 1 GiB object (about 6 s in a debug build: the emulator and its
//! hashing are optimised even there, see the root Cargo.toml); `OSS_FFI_QUICK=1` shrinks it to
//! 128 MiB, which exercises the same bounded buffers.

mod download_support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use download_support::*;

const CHILD: &str = "OSS_FFI_CHILD_ENDPOINT";

/// One download in a child process (does nothing unless run by the test below).
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
    let rt = child_runtime();
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
