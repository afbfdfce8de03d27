//! Download child processes: this test binary re-executed with `OSS_REL_CHILD=1` performs one
//! download described by `OSS_REL_*` variables and prints `CHILD_OK` or `CHILD_ERR <code> ...`.
//! The parent spawns them, waits for a pause marker or a random instant, and SIGKILLs them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::download_support::*;
use crate::tally;

pub fn is_child() -> bool {
    std::env::var("OSS_REL_CHILD").is_ok_and(|v| v == "1")
}

/// The child's side: one download, result on stdout, exit 0.
pub fn child_main() {
    let var = |n: &str| std::env::var(format!("OSS_REL_{n}")).ok();
    let endpoint = var("ENDPOINT").expect("OSS_REL_ENDPOINT");
    let mut req = oss_ffi::download::DownloadRequest::new(BUCKET, var("KEY").unwrap());
    // No OSS_REL_DEST: the default destination (the key beneath the working directory).
    req.file_path = var("DEST").map(Into::into);
    req.checkpoint_dir = var("CKPT").map(Into::into);
    req.part_size = var("PART").unwrap().parse().unwrap();
    req.thread_num = var("THREADS").unwrap().parse().unwrap();
    if let Some(r) = var("RANGE") {
        let (a, b) = r.split_once(',').unwrap();
        req.range = Some((a.parse().unwrap(), b.parse().unwrap()));
    }
    let total: u64 = var("TOTAL").unwrap().parse().unwrap();
    let rt = child_runtime();
    let client = client_for(&endpoint, var("V4").is_some());
    let (r, _) = rt.block_on(download(&client, &req, total));
    match r {
        Ok(_) => println!("CHILD_OK"),
        Err(e) => println!("CHILD_ERR {} {:?} {}", e.code, e.kind, e.message),
    }
}

/// What one child downloads.
#[derive(Clone, Debug)]
pub struct Spec {
    pub endpoint: String,
    pub key: String,
    pub dest: PathBuf,
    pub ckpt: Option<PathBuf>,
    pub part: u64,
    pub threads: u32,
    pub range: Option<(i64, i64)>,
    pub total: u64,
}

/// A running child with its stdout and stderr lines arriving on channels.
pub struct Running {
    pub child: Child,
    pub stderr: mpsc::Receiver<String>,
    pub stdout: mpsc::Receiver<String>,
}

pub fn spawn(spec: &Spec, pause_at: Option<&str>) -> Running {
    start(command(spec, pause_at))
}

/// A child downloading `spec` to its default destination (the key, beneath `cwd`).
pub fn spawn_default_destination(spec: &Spec, cwd: &Path) -> Running {
    let mut c = command(spec, None);
    c.env_remove("OSS_REL_DEST").current_dir(cwd);
    start(c)
}

/// A child downloading `spec` as another user (`uid`, `gid`; needs root). Its supplementary
/// groups are left as they are.
pub fn spawn_as(spec: &Spec, uid: u32, gid: u32) -> Running {
    use std::os::unix::process::CommandExt;
    let mut c = command(spec, None);
    c.uid(uid).gid(gid);
    start(c)
}

fn command(spec: &Spec, pause_at: Option<&str>) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.env("OSS_REL_CHILD", "1")
        .env("OSS_REL_ENDPOINT", &spec.endpoint)
        .env("OSS_REL_KEY", &spec.key)
        .env("OSS_REL_DEST", &spec.dest)
        .env("OSS_REL_PART", spec.part.to_string())
        .env("OSS_REL_THREADS", spec.threads.to_string())
        .env("OSS_REL_TOTAL", spec.total.to_string())
        .env_remove("OSS_FFI_TEST_PAUSE_AT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = &spec.ckpt {
        c.env("OSS_REL_CKPT", d);
    }
    if let Some((a, b)) = spec.range {
        c.env("OSS_REL_RANGE", format!("{a},{b}"));
    }
    if let Some(p) = pause_at {
        c.env("OSS_FFI_TEST_PAUSE_AT", p)
            .env("OSS_FFI_TEST_PAUSE_MS", "20000");
    }
    c
}

fn start(mut c: Command) -> Running {
    let mut child = c.spawn().unwrap();
    tally::inc(&tally::CHILD_RUNS);
    tally::inc(&tally::DOWNLOADS);
    let stderr = lines(child.stderr.take().unwrap());
    let stdout = lines(child.stdout.take().unwrap());
    Running {
        child,
        stderr,
        stdout,
    }
}

fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// How a child ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Err(String),
}

impl Running {
    /// Waits (with a deadline) and returns the outcome; a child dead of a signal is a crash.
    pub fn finish(mut self, what: &str) -> Outcome {
        let st = tally::wait_child(&mut self.child, what, 120);
        let out: Vec<String> = self.stdout.iter().collect();
        let err: Vec<String> = self.stderr.iter().collect();
        let all = format!("{}\n{}", out.join("\n"), err.join("\n"));
        tally::scan(&all, "a child's output");
        if let Some(l) = out.iter().find(|l| l.starts_with("CHILD_")) {
            if l == "CHILD_OK" {
                return Outcome::Ok;
            }
            return Outcome::Err(l.trim_start_matches("CHILD_ERR ").to_string());
        }
        if !st.success() {
            tally::inc(&tally::CRASHES);
        }
        panic!("{what}: the child crashed ({st}):\n{all}");
    }

    /// Waits up to `secs` for `OSS_FFI_PAUSED` on stderr; false if the child ended first.
    pub fn wait_paused(&mut self, secs: u64) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self
                .stderr
                .recv_timeout(left.min(Duration::from_millis(50)))
            {
                Ok(l) if l.starts_with("OSS_FFI_PAUSED") => return true,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.child.try_wait().unwrap().is_some() {
                        // Ended: drain what is left.
                        return self
                            .stderr
                            .try_iter()
                            .any(|l| l.starts_with("OSS_FFI_PAUSED"));
                    }
                    if left.is_zero() {
                        tally::inc(&tally::HANGS);
                        let _ = self.child.kill();
                        panic!("HANG: the child neither paused nor ended within {secs} s");
                    }
                }
            }
        }
    }

    /// SIGKILLs the child; true when it was still running (a kill that hit).
    pub fn kill(mut self) -> bool {
        let running = self.child.try_wait().unwrap().is_none();
        let _ = self.child.kill(); // SIGKILL
        let st = self.child.wait().unwrap();
        if running {
            tally::inc(&tally::KILLS);
            return true;
        }
        // It had ended by itself: it must have ended cleanly.
        let out: Vec<String> = self.stdout.iter().collect();
        if !st.success() || !out.iter().any(|l| l.starts_with("CHILD_")) {
            tally::inc(&tally::CRASHES);
            panic!("a child ended by itself without a result ({st}): {out:?}");
        }
        false
    }
}

/// Runs a child to the end; panics on a crash.
pub fn run(spec: &Spec, what: &str) -> Outcome {
    spawn(spec, None).finish(what)
}

pub fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
