//! Shared helpers of the download tests: an emulator per test, clients, a progress recorder that
//! asserts the progress invariants on every download, file comparison and leftover checks.
#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oss_emulator::{Credential, Emulator, EmulatorConfig, FaultAction, FaultRule, Faults};
use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::config::{Config, SignatureVersion};
use oss_ffi::credentials::StaticProvider;
use oss_ffi::download::{resumable_download, DownloadRequest, ProgressFn};
use oss_ffi::listing::{ListEntry, ListRequest, Listing};
use oss_ffi::object::{ObjectMeta, ObjectRequest};
use oss_ffi::Result;
use tokio_util::sync::CancellationToken;

pub const AK: &str = "test-ak";
pub const SK: &str = "test-sk-secret";
pub const BUCKET: &str = "test-bucket";
pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * 1024;

/// An emulator on a fresh root plus a work directory for destinations and checkpoints.
pub struct Env {
    pub emu: Emulator,
    pub root: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let root = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let emu = Emulator::start(EmulatorConfig {
            root: root.path().to_path_buf(),
            credentials: vec![Credential::new(AK, SK)],
            ..Default::default()
        })
        .unwrap();
        Env { emu, root, work }
    }

    pub fn client(&self) -> Client {
        client_for(&self.emu.endpoint(), false)
    }

    pub fn client_with(&self, f: impl FnOnce(&mut Config)) -> Client {
        let mut c = test_config();
        f(&mut c);
        Client::new(
            &self.emu.endpoint(),
            Arc::new(StaticProvider::new(AK, SK, None)),
            c,
        )
        .unwrap()
    }

    /// An object of `size` deterministic pseudo-random bytes; returns its file in the emulator.
    pub fn object(&self, key: &str, size: u64) -> PathBuf {
        self.emu.create_object(BUCKET, key, size).unwrap();
        self.emu.object_path(BUCKET, key)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// A checkpoint directory inside the work directory.
    pub fn ckpt_dir(&self) -> PathBuf {
        let d = self.work.path().join("ckpt");
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    pub fn request(&self, key: &str, dest: &str) -> DownloadRequest {
        let mut r = DownloadRequest::new(BUCKET, key);
        r.file_path = Some(self.path(dest));
        r
    }

    pub fn faults(&self, f: Faults) {
        self.emu.set_faults(f);
    }

    /// Every GET answered `ms` later (and no other fault): a download lasts long enough to be
    /// interrupted, killed or acted upon mid-way.
    pub fn slow_gets(&self, ms: u64) {
        self.faults(Faults::none().with(FaultRule::new(FaultAction::Latency { ms }).method("GET")));
    }

    /// Every request (HEAD included) answered `ms` later, and no other fault.
    pub fn slow_requests(&self, ms: u64) {
        self.faults(Faults::none().with(FaultRule::new(FaultAction::Latency { ms })));
    }
}

/// A GetObject request for `key` in the test bucket.
pub fn object_request(key: &str) -> ObjectRequest {
    ObjectRequest {
        bucket: BUCKET.into(),
        key: key.into(),
        ..ObjectRequest::default()
    }
}

/// A 5 ms retry base delay, V1 or V4 (region cn-hangzhou): the client of the transport and
/// listing tests.
pub fn signed_config(v4: bool) -> Config {
    Config {
        retry_base_delay: Duration::from_millis(5),
        signature_version: if v4 {
            SignatureVersion::V4
        } else {
            SignatureVersion::V1
        },
        region: if v4 {
            "cn-hangzhou".into()
        } else {
            String::new()
        },
        ..Config::default()
    }
}

/// Short retry delays and timeouts so that fault tests stay quick.
pub fn test_config() -> Config {
    Config {
        retry_base_delay: Duration::from_millis(20),
        retry_max_delay: Duration::from_millis(200),
        request_timeout: Duration::from_secs(5),
        // Many tests count the requests or the bytes fetched exactly; on a loaded machine a
        // part stalled 250 ms would be re-requested by design (`download::straggler`). The
        // tests of that turn it on (tests/download_slow_parts.rs).
        reissue_slow_parts: false,
        ..Config::default()
    }
}

/// A client of the transport and listing tests at `endpoint`: the test credentials,
/// [`signed_config`] (V1 or V4).
pub fn signed_client(endpoint: &str, v4: bool) -> Client {
    Client::new(
        endpoint,
        Arc::new(StaticProvider::new(AK, SK, None)),
        signed_config(v4),
    )
    .unwrap()
}

/// Every page of a listing that must succeed: (entries, common prefixes).
pub async fn list_all(c: &Client, req: ListRequest) -> (Vec<ListEntry>, Vec<String>) {
    Listing::new(c, req)
        .unwrap()
        .collect_all(&Cancel::new())
        .await
        .unwrap()
}

/// The runtime of a test's child process (a download or a batch in a process of its own, to be
/// killed or measured): two workers, the library's limit of blocking threads.
pub fn child_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(oss_ffi::runtime::MAX_BLOCKING_THREADS)
        .enable_all()
        .build()
        .unwrap()
}

/// The keys of the objects (not listings) fetched by GETs in the emulator's log since it was
/// last cleared.
pub fn object_gets(env: &Env) -> Vec<String> {
    env.emu
        .log()
        .into_iter()
        .filter(|e| e.method == "GET" && !e.key.is_empty())
        .map(|e| e.key)
        .collect()
}

pub fn client_for(endpoint: &str, v4: bool) -> Client {
    let mut c = test_config();
    if v4 {
        c.signature_version = SignatureVersion::V4;
        c.region = "cn-hangzhou".into();
    }
    Client::new(endpoint, Arc::new(StaticProvider::new(AK, SK, None)), c).unwrap()
}

/// Called with `(transferred, total)` after each recorded progress call.
pub type Hook = Box<dyn Fn(u64, u64) + Send>;

/// Records progress calls and checks the invariants.
#[derive(Default)]
pub struct Progress {
    pub calls: Mutex<Vec<(u64, u64, u64)>>,
    inside: AtomicBool,
    overlapped: AtomicBool,
    /// Called after recording (e.g. to cancel at some point).
    pub hook: Mutex<Option<Hook>>,
}

impl Progress {
    pub fn callback(self: &Arc<Self>) -> ProgressFn {
        let me = self.clone();
        Arc::new(move |inc, transferred, total| {
            if me.inside.swap(true, Ordering::SeqCst) {
                me.overlapped.store(true, Ordering::SeqCst);
            }
            me.calls.lock().unwrap().push((inc, transferred, total));
            if let Some(h) = me.hook.lock().unwrap().as_ref() {
                h(transferred, total);
            }
            me.inside.store(false, Ordering::SeqCst);
        })
    }

    pub fn calls(&self) -> Vec<(u64, u64, u64)> {
        self.calls.lock().unwrap().clone()
    }

    /// Serialised, `total` constant, `transferred` monotonic and <= total, increments consistent
    /// (a resume's first call reports the bytes on disk with increment 0); on success the last call is at
    /// `total`.
    pub fn check(&self, total: u64, success: bool) {
        let calls = self.calls();
        assert!(
            !self.overlapped.load(Ordering::SeqCst),
            "progress calls overlapped"
        );
        let mut prev = 0u64;
        for (i, &(inc, t, tot)) in calls.iter().enumerate() {
            assert_eq!(tot, total, "call {i}: total changed: {calls:?}");
            assert!(t <= tot, "call {i}: transferred > total");
            assert!(t >= prev, "call {i}: transferred went backwards");
            if i == 0 && inc == 0 {
                // A resume: the first call reports the bytes already on disk, increment 0.
            } else {
                assert_eq!(inc, t - prev, "call {i}: increment is not the difference");
            }
            if i > 0 {
                assert!(t > prev || t == total, "call {i}: empty call");
            }
            prev = t;
        }
        if success {
            let last = calls
                .last()
                .expect("a successful download makes a progress call");
            assert_eq!(last.1, total, "the last call is not at total");
            assert_eq!(
                calls.iter().filter(|c| c.1 == total).count(),
                1,
                "more than one call at total"
            );
        }
    }

    /// Bytes reported by the first call (bytes on disk after a resume, or the first step).
    pub fn first(&self) -> Option<u64> {
        self.calls().first().map(|c| c.1)
    }
}

/// GetObject of `r` into memory (no file), with `cancel`.
pub async fn read_all(c: &Client, r: &ObjectRequest, cancel: &Cancel) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    c.get_object_with(r, None, None, cancel, |d| {
        out.extend_from_slice(d);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// Runs `req` and cancels it (a `CancellationToken`) once the progress reported `at` bytes; the
/// progress invariants are checked. Returns the result and when the cancellation was asked.
pub async fn download_cancelled_at(
    client: &Client,
    req: &DownloadRequest,
    total: u64,
    at: u64,
) -> (Result<ObjectMeta>, Option<Instant>) {
    let token = CancellationToken::new();
    let cancel = Cancel::new().with(token.clone());
    let progress = Arc::new(Progress::default());
    let when = Arc::new(Mutex::new(None::<Instant>));
    {
        let (token, when) = (token.clone(), when.clone());
        *progress.hook.lock().unwrap() = Some(Box::new(move |t, _| {
            if t >= at && !token.is_cancelled() {
                *when.lock().unwrap() = Some(Instant::now());
                token.cancel();
            }
        }));
    }
    let (r, _) = download_with(client, req, total, &cancel, progress).await;
    let when = *when.lock().unwrap();
    (r, when)
}

/// Runs one download with a progress recorder and checks the progress invariants; `total` is the
/// expected number of bytes of the file.
pub async fn download(
    client: &Client,
    req: &DownloadRequest,
    total: u64,
) -> (Result<ObjectMeta>, Arc<Progress>) {
    download_with(
        client,
        req,
        total,
        &Cancel::new(),
        Arc::new(Progress::default()),
    )
    .await
}

pub async fn download_with(
    client: &Client,
    req: &DownloadRequest,
    total: u64,
    cancel: &Cancel,
    progress: Arc<Progress>,
) -> (Result<ObjectMeta>, Arc<Progress>) {
    let mut req = req.clone();
    req.progress = Some(progress.callback());
    let r = resumable_download(client, &req, cancel).await;
    progress.check(total, r.is_ok());
    (r, progress)
}

/// Asserts that two files hold the same bytes (streaming; fine for GiB files).
pub fn assert_same_file(a: &Path, b: &Path) {
    let (ma, mb) = (
        std::fs::metadata(a).unwrap_or_else(|e| panic!("{}: {e}", a.display())),
        std::fs::metadata(b).unwrap_or_else(|e| panic!("{}: {e}", b.display())),
    );
    assert_eq!(
        ma.len(),
        mb.len(),
        "sizes of {} and {}",
        a.display(),
        b.display()
    );
    let (mut fa, mut fb) = (File::open(a).unwrap(), File::open(b).unwrap());
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut off = 0u64;
    loop {
        let n = read_full(&mut fa, &mut ba);
        let m = read_full(&mut fb, &mut bb);
        assert_eq!(n, m);
        if n == 0 {
            break;
        }
        if ba[..n] != bb[..n] {
            let i = (0..n).find(|&i| ba[i] != bb[i]).unwrap();
            panic!(
                "{} and {} differ at byte {}",
                a.display(),
                b.display(),
                off + i as u64
            );
        }
        off += n as u64;
    }
}

/// Asserts that `file` holds bytes `start..start+len` of `object`.
pub fn assert_file_is_slice(file: &Path, object: &Path, start: u64, len: u64) {
    let got = std::fs::read(file).unwrap();
    let all = std::fs::read(object).unwrap();
    assert_eq!(got.len() as u64, len, "size of {}", file.display());
    assert!(
        got == all[start as usize..(start + len) as usize],
        "{} is not bytes {start}..+{len} of the object",
        file.display()
    );
}

fn read_full(f: &mut File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]).unwrap() {
            0 => break,
            k => n += k,
        }
    }
    n
}

/// Temp, lock and checkpoint files left in `dirs` (recursively).
pub fn leftovers(dirs: &[&Path]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for d in dirs {
        walk(d, &mut out);
    }
    out.retain(|p| {
        let n = p.file_name().unwrap().to_string_lossy().into_owned();
        n.ends_with(".temp") || n.ends_with(".lock") || n.ends_with(".ckpt") || n.ends_with(".tmp")
    });
    out
}

fn walk(d: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

pub fn assert_no_leftovers(dirs: &[&Path]) {
    let l = leftovers(dirs);
    assert!(l.is_empty(), "leftover files: {l:?}");
}

/// The only checkpoint file in `dir`, if any.
pub fn checkpoint_in(dir: &Path) -> Option<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    assert!(v.len() <= 1, "several checkpoints: {v:?}");
    v.pop()
}

/// GET requests of the log for `key`.
pub fn gets(env: &Env, key: &str) -> Vec<oss_emulator::LogEntry> {
    env.emu
        .log()
        .into_iter()
        .filter(|e| e.method == "GET" && e.key == key)
        .collect()
}

/// `bytes=a-b` -> (a, b).
pub fn parse_range(r: &str) -> (u64, u64) {
    let r = r.strip_prefix("bytes=").unwrap();
    let (a, b) = r.split_once('-').unwrap();
    (a.parse().unwrap(), b.parse().unwrap())
}

/// A small deterministic generator (xorshift64*), for random moments and contents.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_time() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn bytes(size: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    (0..size).map(|_| r.next() as u8).collect()
}
