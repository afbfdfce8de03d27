//! Asynchronous transfers (the C ABI's `oss_transfer_t`): a resumable download, a batch of
//! objects (`batch`), a download or a batch continued from a resume token, or a GetObject to a
//! file, started at once and run as a task on the SDK runtime; its caller polls, waits, cancels
//! or pauses it, and reads its live status and, once it ended, its result, its batch report and
//! (after a pause) its resume token.
//!
//! Guarantees:
//! - The completion runs exactly once, on a library thread, after the transfer was registered by
//!   its starter (`publish` runs before the task is spawned); for a task still running when
//!   `runtime::shutdown` stops waiting for it, from the task's `Drop` (the shutting-down thread),
//!   with a `Cancelled` error.
//! - The outcome (state, result, token) is visible before the completion runs; `wait` returns
//!   only after the completion returned (so a waiter may free what the callback uses).
//! - Cancel keeps the checkpoint (as the blocking cancel does); pause keeps the temp file with or
//!   without a checkpoint and leaves a resume token (`download::resume_token`).
//! - A batch's pause stops it (objects in flight stop, their checkpoints kept; the journal has
//!   every finished object) and leaves a token of its own format (`batch_token`): the batch's
//!   request, sealed with the MAC of the same resume token key. Resumed, the batch lists again
//!   and skips what its journal holds (the overwrite policy `Always` becomes `IfChanged` in the
//!   token, so that no finished object is fetched twice). Its live status is the batch's bytes
//!   done and known total; its result is the report's (`BatchReport::result`).
//! - Many transfers of one client share its connection pool (each holds a clone of the `Client`).
//! - A transfer belongs to the process that started it. In a process `fork()`ed from it (where
//!   its task and the runtime's threads do not exist), every call returns at once without
//!   touching its locks (a thread of the parent may have held one at the fork): the state is
//!   `OtherProcess`, `wait` does not wait, `cancel` and `pause` do nothing, the result and the
//!   token are an error saying so. The parent's transfer is not affected.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::batch::{BatchProgress, BatchReport, BatchRequest, Overwrite};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::download::resume_token::ResumeToken;
use crate::download::suspend::Suspend;
use crate::download::DownloadRequest;
use crate::error::{Error, ErrorKind, Result};
use crate::object::{ObjectMeta, ObjectRequest};
use crate::progress::{aborted_error, AbortableProgressFn, ProgressFn};

/// Where a transfer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferState {
    Running,
    Succeeded,
    Failed,
    /// Cancelled (`cancel`, the client's DisableRequest, SDK shutdown, the progress callback).
    Cancelled,
    /// Paused: a resume token is (or was) available.
    Paused,
    /// Seen from a process `fork()`ed from the one that started it: it runs (or ran) there
    /// only, and nothing about it can be known or done here.
    OtherProcess,
}

/// A transfer's live status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Bytes in the file so far (as of the last progress report: at most ~100 ms old).
    pub transferred: u64,
    /// Bytes the file will hold; 0 until the first answer told it.
    pub total: u64,
    pub state: TransferState,
}

/// What a transfer does.
pub enum Work {
    /// A resumable download (`download::resumable_download`), pausable.
    Download(DownloadRequest),
    /// A download continued from a resume token: the token's request with the caller's
    /// threads, progress, direct I/O and (if set) checkpoint directory.
    Resume {
        token: Box<ResumeTokenBytes>,
        settings: DownloadRequest,
    },
    /// GetObject to a file (not pausable: `pause` returns false).
    GetToFile {
        object: ObjectRequest,
        range: Option<(i64, i64)>,
        path: std::path::PathBuf,
    },
    /// A batch (`batch::run`), pausable into a token of its request. Its progress and object
    /// callbacks are the request's own.
    Batch(Box<BatchRequest>),
}

/// A decoded, authenticated resume token (its framing and its MAC under the client's resume
/// token key; its content is judged when used): a download's or a batch's.
pub struct ResumeTokenBytes(TokenKind);

enum TokenKind {
    Download(Box<ResumeToken>),
    Batch(Box<BatchRequest>),
}

impl ResumeTokenBytes {
    /// Decodes a token for `client`: truncated, altered, unknown bytes, a token sealed under
    /// another key or by an earlier release are refused (`ValidateError`); so is any token when
    /// the client has no key (none configured, no key file can be made).
    pub fn decode(client: &Client, bytes: &[u8]) -> Result<Self> {
        let key = crate::download::resume_key::key_for(client.config().resume_token_key.as_ref())?;
        if batch_token::is_batch(bytes) {
            return batch_token::open(bytes, &key)
                .map(|r| ResumeTokenBytes(TokenKind::Batch(Box::new(r))));
        }
        ResumeToken::decode(bytes, &key).map(|t| ResumeTokenBytes(TokenKind::Download(Box::new(t))))
    }

    /// Whether the token continues a batch (else a single download).
    pub fn is_batch(&self) -> bool {
        matches!(self.0, TokenKind::Batch(_))
    }

    /// The work of a batch's token run the way `settings` says: the token gives what the batch
    /// is (bucket, source, destination, checkpoint directory, filters, overwrite and failure
    /// policies, part size, dry run), `settings` how it runs (its progress and object
    /// callbacks, threads per large object, objects in flight, direct I/O, the re-read of
    /// resumed parts); its own bucket, source, destination and filters are not used. A
    /// download's token is refused (`ValidateError`): it continues with `Work::Resume`.
    pub fn batch_with(self, settings: Option<&BatchRequest>) -> Result<Work> {
        let TokenKind::Batch(mut req) = self.0 else {
            return Err(Error::validate(
                "this resume token is a single download's, not a batch's: continue it with \
                 oss_client_start_resume",
            ));
        };
        if let Some(s) = settings {
            req.progress = s.progress.clone();
            req.on_object = s.on_object.clone();
            req.thread_num = s.thread_num;
            req.max_objects_in_flight = s.max_objects_in_flight;
            req.direct_io = s.direct_io;
            req.verify_parts_on_resume = s.verify_parts_on_resume;
        }
        Ok(Work::Batch(req))
    }
}

/// The resume token of a paused batch: `MAGIC` (16 bytes), the format version (u32 LE), the
/// body's length (u32 LE), the body (JSON of the batch's request, its data fields only, unknown
/// fields refused), then the HMAC-SHA256 of everything before it under the client's resume token
/// key (`download::resume_key`), as a download's token (`download::resume_token`) is sealed. A
/// token whose MAC does not verify (edited, re-sealed, truncated, another key) is refused before
/// anything is listed or written; one that verifies is still validated as a request.
mod batch_token {
    use serde::{Deserialize, Serialize};

    use crate::batch::BatchRequest;
    use crate::config::ResumeTokenKey;
    use crate::download::resume_key::{refused, Framing};
    use crate::error::{Error, Result};

    /// A key list of a million long keys fits in 512 MiB; anything larger is not ours.
    const FRAMING: Framing = Framing {
        magic: b"oss-ffi/batch\0\0\0",
        version: 1,
        max_body: 512 << 20,
        kind: "batch ",
    };

    #[cfg(test)]
    const HEADER: usize = 16 + 4 + 4;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        request: BatchRequest,
    }

    /// Whether `bytes` claim to be a batch's token (its magic).
    pub(super) fn is_batch(bytes: &[u8]) -> bool {
        FRAMING.claims(bytes)
    }

    /// The token of `request`, sealed with `key`.
    pub(super) fn seal(request: &BatchRequest, key: &ResumeTokenKey) -> Result<Vec<u8>> {
        let body = serde_json::to_vec(&Body {
            request: request.clone(),
        })
        .map_err(|e| Error::validate(format!("the batch's request cannot be serialized: {e}")))?;
        FRAMING.seal(&body, key)
    }

    /// The request a token carries, once its framing and MAC under `key` are checked and the
    /// request is valid.
    pub(super) fn open(bytes: &[u8], key: &ResumeTokenKey) -> Result<BatchRequest> {
        let body: Body = serde_json::from_slice(FRAMING.open(bytes, key, &[])?)
            .map_err(|e| refused(format!("its content does not parse: {e}")))?;
        body.request
            .validate()
            .map_err(|e| refused(format!("its request is not valid: {}", e.message)))?;
        Ok(body.request)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn key() -> ResumeTokenKey {
            ResumeTokenKey::new(&[7u8; 32]).unwrap()
        }

        #[test]
        fn a_batch_token_round_trips_and_every_damage_is_refused() {
            let mut req = BatchRequest::for_prefix("bkt", "logs/2026-", "/tmp/dest");
            req.include = vec!["**/*.gz".into()];
            req.min_size = Some(3);
            let bytes = seal(&req, &key()).unwrap();
            let back = open(&bytes, &key()).unwrap();
            assert_eq!(
                serde_json::to_string(&back).unwrap(),
                serde_json::to_string(&req).unwrap()
            );
            for n in [0, 10, HEADER, bytes.len() - 1] {
                assert!(open(&bytes[..n], &key()).is_err(), "truncated to {n}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(open(&longer, &key()).is_err());
            for i in 0..bytes.len() {
                let mut b = bytes.clone();
                b[i] ^= 0x10;
                let e = open(&b, &key()).expect_err("damage refused");
                assert!(
                    e.message.starts_with("The resume token is refused"),
                    "{e:?}"
                );
            }
            let other = ResumeTokenKey::new(&[8u8; 32]).unwrap();
            let e = open(&seal(&req, &other).unwrap(), &key()).expect_err("other key refused");
            assert!(e.message.contains("MAC does not verify"), "{}", e.message);
        }
    }
}

thread_local! {
    /// Set while this thread runs a transfer's completion.
    static IN_COMPLETION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Called once when the transfer ended (see the module doc).
pub type Completion = Box<dyn FnOnce(&Arc<Transfer>) + Send>;

struct Outcome {
    state: TransferState,
    result: Option<Result<ObjectMeta>>,
    /// The completion returned (or there was none).
    settled: bool,
}

/// What a batch transfer has beside a download's: its pause switch, its live progress, the
/// request a pause seals into a token, and, once it ended, its report and token.
struct BatchState {
    pause: CancellationToken,
    progress: Mutex<BatchProgress>,
    report: Mutex<Option<BatchReport>>,
    token: Mutex<Option<Result<Vec<u8>>>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The request a paused batch's token carries: the destination and checkpoint directories
/// absolute (another process may resume it from another working directory), and `Always`
/// turned into `IfChanged`, so that the objects the journal records as finished are not fetched
/// again.
fn resumable(req: &BatchRequest) -> BatchRequest {
    fn abs(p: &std::path::Path) -> std::path::PathBuf {
        std::fs::canonicalize(p)
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
    let mut r = req.clone();
    r.progress = None;
    r.on_object = None;
    r.dest_dir = abs(&r.dest_dir);
    r.checkpoint_dir = r.checkpoint_dir.as_deref().map(abs);
    if r.overwrite == Overwrite::Always {
        r.overwrite = Overwrite::IfChanged;
    }
    r
}

/// A batch's resume token starts the batch again (its journal skips what is finished), with the
/// settings the resume call may give.
fn batch_token_as_batch(work: Work) -> Work {
    match work {
        Work::Resume { token, settings } => match token.0 {
            TokenKind::Batch(mut req) => {
                req.thread_num = settings.thread_num;
                req.direct_io = settings.direct_io;
                Work::Batch(req)
            }
            TokenKind::Download(d) => Work::Resume {
                token: Box::new(ResumeTokenBytes(TokenKind::Download(d))),
                settings,
            },
        },
        w => w,
    }
}

/// Makes a batch's progress callback from the caller's (the live counts first).
type BatchObserver =
    Box<dyn FnOnce(Option<crate::batch::BatchProgressFn>) -> crate::batch::BatchProgressFn + Send>;

/// One transfer, shared by its handle(s) and its task.
pub struct Transfer {
    cancel: CancellationToken,
    suspend: Option<Suspend>,
    aborted: AtomicBool,
    /// Set just before the task is spawned: a task that never was is dropped uncompleted.
    spawned: AtomicBool,
    transferred: AtomicU64,
    total: AtomicU64,
    outcome: Mutex<Outcome>,
    settled: Condvar,
    /// The process that started it (`std::process::id()`).
    pid: u32,
    /// A batch's own state (`None` for the other kinds).
    batch: Option<BatchState>,
    /// Its requests added up (while the client has a metrics callback).
    stats: Arc<crate::metrics::Summary>,
}

impl Transfer {
    fn lock(&self) -> MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts `work` with `client`: `publish` receives the transfer before its task exists (the
    /// C ABI writes the handle there), then the task is spawned. `progress`: the caller's
    /// callback (a `false` aborts). Errors: the SDK is not initialised.
    pub fn start(
        client: &Client,
        work: Work,
        progress: Option<AbortableProgressFn>,
        done: Option<Completion>,
        publish: impl FnOnce(&Arc<Transfer>),
    ) -> Result<()> {
        let shutdown = crate::runtime::shutdown_token()?;
        // A client inherited through fork(): its connections and its memory budget's slots
        // belong to the parent (a slot held there at the fork is never given back here).
        client.check_process()?;
        let work = batch_token_as_batch(work);
        let is_batch = matches!(work, Work::Batch(_));
        let t = Transfer::new(&work);
        let mut cancel = Cancel::new()
            .with(shutdown)
            .with(t.cancel.clone())
            .with_stats(t.stats.clone());
        if let Some(s) = &t.suspend {
            cancel = cancel.with(s.token());
        }
        // The client's call timeout bounds each call; a batch applies it to each of its objects
        // (`batch`), never to the whole batch, which may run for hours.
        let cancel = if is_batch {
            cancel
        } else {
            client.call_cancel(cancel)
        };
        let batch_observer =
            is_batch.then(|| Box::new(t.batch_observer(progress.clone())) as BatchObserver);
        let observer = t.observer(progress);
        let guard = Guard {
            transfer: t.clone(),
            done,
        };
        let client = client.clone();
        let task = async move {
            let guard = guard;
            let t = &guard.transfer;
            let result = t
                .run_work(&client, work, &cancel, observer, batch_observer)
                .await;
            guard.complete(result);
        };
        // Published and armed under the runtime's lock, just before the task exists: when there
        // is no runtime (any more), nothing was published, the completion is dropped uncalled
        // and the start fails.
        crate::runtime::spawn_with(|| {
            publish(&t);
            t.spawned.store(true, Ordering::SeqCst);
            task
        })
    }

    /// A new transfer of `work`, running, not yet spawned.
    fn new(work: &Work) -> Arc<Transfer> {
        let is_batch = matches!(work, Work::Batch(_));
        Arc::new(Transfer {
            cancel: CancellationToken::new(),
            suspend: matches!(work, Work::Download(_) | Work::Resume { .. }).then(Suspend::new),
            aborted: AtomicBool::new(false),
            spawned: AtomicBool::new(false),
            transferred: AtomicU64::new(0),
            total: AtomicU64::new(0),
            outcome: Mutex::new(Outcome {
                state: TransferState::Running,
                result: None,
                settled: false,
            }),
            settled: Condvar::new(),
            pid: std::process::id(),
            stats: crate::metrics::Summary::new(),
            batch: is_batch.then(|| BatchState {
                pause: CancellationToken::new(),
                progress: Mutex::new(BatchProgress::default()),
                report: Mutex::new(None),
                token: Mutex::new(None),
            }),
        })
    }

    /// The transfer's task body: `work` run with the transfer's cancel, pause and observers.
    async fn run_work(
        self: &Arc<Self>,
        client: &Client,
        work: Work,
        cancel: &Cancel,
        observer: ProgressFn,
        batch_observer: Option<BatchObserver>,
    ) -> Result<ObjectMeta> {
        match work {
            Work::Download(mut req) => {
                req.progress = Some(observer);
                let s = self.suspend.as_ref().expect("downloads are pausable");
                crate::download::pausable_download(client, &req, cancel, s, None).await
            }
            Work::Resume { token, settings } => {
                let TokenKind::Download(token) = token.0 else {
                    unreachable!("batch tokens became Work::Batch in start")
                };
                let mut req = token.request();
                req.thread_num = settings.thread_num;
                req.direct_io = settings.direct_io;
                if settings.checkpoint_dir.is_some() {
                    req.checkpoint_dir = settings.checkpoint_dir;
                }
                req.progress = Some(observer);
                let s = self.suspend.as_ref().expect("downloads are pausable");
                crate::download::pausable_download(client, &req, cancel, s, Some(&token)).await
            }
            Work::Batch(mut req) => {
                let b = self.batch.as_ref().expect("a batch transfer has its state");
                let user = req.progress.take();
                req.progress = batch_observer.map(|f| f(user));
                let report = crate::batch::run(client, &req, cancel, &b.pause).await;
                self.end_batch(client, &req, report)
            }
            Work::GetToFile {
                object,
                range,
                path,
            } => {
                client
                    .get_object_to_file(&object, range, &path, Some(observer), cancel)
                    .await
            }
        }
    }

    /// The progress callback the work reports through: the live status, then the caller's.
    fn observer(self: &Arc<Self>, user: Option<AbortableProgressFn>) -> ProgressFn {
        let t = Arc::downgrade(self);
        Arc::new(move |inc, done, total| {
            let Some(t) = t.upgrade() else { return };
            t.transferred.store(done, Ordering::Relaxed);
            t.total.store(total, Ordering::Relaxed);
            if let Some(f) = &user {
                if !f(inc, done, total) {
                    t.aborted.store(true, Ordering::SeqCst);
                    t.cancel.cancel();
                }
            }
        })
    }

    /// The batch progress callback: the live status and the batch's own state, then the
    /// caller's batch callback (`user`) and the caller's byte progress (`bytes`, from a resume's
    /// settings; a `false` aborts).
    #[allow(clippy::type_complexity)]
    fn batch_observer(
        self: &Arc<Self>,
        bytes: Option<AbortableProgressFn>,
    ) -> impl FnOnce(Option<crate::batch::BatchProgressFn>) -> crate::batch::BatchProgressFn {
        let t = Arc::downgrade(self);
        move |user| {
            let last = AtomicU64::new(0);
            Arc::new(move |p: &BatchProgress| {
                let Some(t) = t.upgrade() else { return };
                t.transferred.store(p.bytes_done, Ordering::Relaxed);
                t.total.store(p.bytes_total, Ordering::Relaxed);
                if let Some(b) = &t.batch {
                    *locked(&b.progress) = *p;
                }
                if let Some(f) = &user {
                    f(p);
                }
                if let Some(f) = &bytes {
                    let before = last.swap(p.bytes_done, Ordering::Relaxed);
                    let inc = p.bytes_done.saturating_sub(before);
                    if !f(inc, p.bytes_done, p.bytes_total.max(p.bytes_done)) {
                        t.aborted.store(true, Ordering::SeqCst);
                        t.cancel.cancel();
                    }
                }
            })
        }
    }

    /// Keeps a batch's report (and, when it was paused, its sealed token) and returns the
    /// transfer's result: the report's.
    fn end_batch(
        &self,
        client: &Client,
        req: &BatchRequest,
        report: BatchReport,
    ) -> Result<ObjectMeta> {
        let b = self.batch.as_ref().expect("a batch transfer has its state");
        let result = report.result().map(|()| ObjectMeta::default());
        let paused =
            b.pause.is_cancelled() && !self.cancel.is_cancelled() && report.stopped.is_some();
        if paused {
            let token =
                crate::download::resume_key::key_for(client.config().resume_token_key.as_ref())
                    .and_then(|key| batch_token::seal(&resumable(req), &key));
            *locked(&b.token) = Some(token);
        }
        *locked(&b.progress) = report.progress;
        self.transferred
            .store(report.progress.bytes_done, Ordering::Relaxed);
        self.total.store(
            report.progress.bytes_total.max(report.progress.bytes_done),
            Ordering::Relaxed,
        );
        *locked(&b.report) = Some(report);
        result
    }

    /// Whether the transfer is a batch (`Work::Batch`, or a batch's token resumed).
    pub fn is_batch(&self) -> bool {
        self.batch.is_some()
    }

    /// A batch's progress now (`None` for the other kinds, and in another process).
    pub fn batch_progress(&self) -> Option<BatchProgress> {
        if !self.started_here() {
            return None;
        }
        self.batch.as_ref().map(|b| *locked(&b.progress))
    }

    /// A batch's report once it ended. Errors: not a batch, still running, another process.
    pub fn batch_report(&self) -> Result<BatchReport> {
        self.check_process()?;
        let b = self.batch.as_ref().ok_or_else(|| {
            Error::validate("this transfer is not a batch: it has no batch report")
        })?;
        if let Some(r) = locked(&b.report).clone() {
            return Ok(r);
        }
        Err(Error::validate(if self.lock().result.is_some() {
            "the batch was stopped by the SDK's shutdown before it reported (no report)"
        } else {
            "the batch is still running (no report yet)"
        }))
    }

    /// Whether this process started the transfer (false in a `fork()`ed child).
    pub fn started_here(&self) -> bool {
        self.pid == std::process::id()
    }

    /// The error of every call that needs the transfer in a process other than its own.
    pub fn other_process_error(&self) -> Error {
        Error::validate(format!(
            "this transfer was started in process {} and this process was fork()ed from it: a \
             transfer runs only in the process that started it (it cannot be waited for, \
             cancelled, paused or read here; the parent's transfer is not affected)",
            self.pid
        ))
    }

    /// `Err(other_process_error())` in a process other than the one that started it.
    fn check_process(&self) -> Result<()> {
        if self.started_here() {
            Ok(())
        } else {
            Err(self.other_process_error())
        }
    }

    /// Its requests so far, added up (all zero when the client has no metrics callback).
    pub fn request_stats(&self) -> crate::metrics::SummarySnapshot {
        self.stats.snapshot()
    }

    /// Stops the transfer (it ends `Cancelled`; a resumable download keeps its checkpoint).
    /// Any thread, any time; no-op once it ended, and in another process (`fork()`).
    pub fn cancel(&self) {
        if self.started_here() {
            self.cancel.cancel();
        }
    }

    /// Asks the transfer to pause (it ends `Paused`, with a resume token, unless it ended
    /// otherwise first). False for a GetObject to a file (not pausable: nothing happens), and in
    /// another process (`fork()`).
    pub fn pause(&self) -> bool {
        if !self.started_here() {
            return false;
        }
        if let Some(b) = &self.batch {
            b.pause.cancel();
            return true;
        }
        match &self.suspend {
            Some(s) => {
                s.request();
                true
            }
            None => false,
        }
    }

    /// The state now; `OtherProcess` in another process (`fork()`).
    pub fn state(&self) -> TransferState {
        if !self.started_here() {
            return TransferState::OtherProcess;
        }
        self.lock().state
    }

    pub fn status(&self) -> Status {
        Status {
            transferred: self.transferred.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            state: self.state(),
        }
    }

    /// Waits until the transfer ended and its completion returned, at most `timeout` (`None`:
    /// no limit); returns the state then. On a library thread (inside a callback) it does not
    /// wait: a callback must not block on a transfer. In another process (`fork()`) it returns
    /// `OtherProcess` at once: the task it would wait for does not exist there.
    pub fn wait(&self, timeout: Option<Duration>) -> TransferState {
        if !self.started_here() {
            return TransferState::OtherProcess;
        }
        let mut o = self.lock();
        if crate::runtime::on_library_thread() || IN_COMPLETION.with(|c| c.get()) {
            return o.state;
        }
        let deadline = timeout.and_then(|d| Instant::now().checked_add(d));
        while !o.settled {
            o = match deadline {
                None => self.settled.wait(o).unwrap_or_else(|e| e.into_inner()),
                Some(at) => {
                    let now = Instant::now();
                    if now >= at {
                        break;
                    }
                    self.settled
                        .wait_timeout(o, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        o.state
    }

    /// The result once the transfer ended (`None` while it runs); in another process
    /// (`fork()`), the error saying so.
    pub fn result(&self) -> Option<Result<ObjectMeta>> {
        if !self.started_here() {
            return Some(Err(self.other_process_error()));
        }
        self.lock().result.clone()
    }

    /// The resume token of a paused transfer, once. Errors: not paused (or the token was
    /// taken already).
    pub fn take_resume_token(&self) -> Result<Vec<u8>> {
        self.check_process()?;
        let state = self.state();
        let token = match (&self.suspend, &self.batch, state) {
            (Some(s), _, TransferState::Paused) => s.take_token(),
            (_, Some(b), TransferState::Paused) => locked(&b.token).take(),
            _ => None,
        };
        token.transpose()?.ok_or_else(|| {
            Error::validate(format!(
                "no resume token: the transfer is {state:?}{}",
                if state == TransferState::Paused {
                    " and its token was taken already"
                } else {
                    " (a token exists only once a paused download or batch ended Paused)"
                }
            ))
        })
    }

    /// Records the outcome, runs the completion, then wakes the waiters.
    fn finish(self: &Arc<Self>, result: Result<ObjectMeta>, done: Option<Completion>) {
        let paused = self.suspend.as_ref().is_some_and(|s| s.has_token())
            || self
                .batch
                .as_ref()
                .is_some_and(|b| locked(&b.token).is_some());
        let result = match result {
            Err(e) if e.kind == ErrorKind::Cancelled && self.aborted.load(Ordering::SeqCst) => {
                Err(aborted_error())
            }
            Err(e) if e.kind == ErrorKind::Cancelled && paused => Err(Error::cancelled(
                "the transfer was paused; its resume token continues it",
            )),
            r => r,
        };
        let state = match &result {
            Ok(_) => TransferState::Succeeded,
            Err(_) if paused => TransferState::Paused,
            Err(e) if e.kind == ErrorKind::Cancelled => TransferState::Cancelled,
            Err(_) => TransferState::Failed,
        };
        {
            let mut o = self.lock();
            o.state = state;
            o.result = Some(result);
        }
        if let Some(done) = done {
            let me = self.clone();
            // A panic in the completion (an internal bug: the C callback cannot unwind) is
            // swallowed: the transfer's outcome is already recorded.
            // Marked, so that a wait there (possibly on the thread shutting the SDK down, which
            // is no runtime thread) does not wait for this very completion.
            IN_COMPLETION.with(|c| c.set(true));
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || done(&me)));
            IN_COMPLETION.with(|c| c.set(false));
        }
        self.lock().settled = true;
        self.settled.notify_all();
    }
}

/// Completes the transfer exactly once: with the work's result, or `Cancelled` when the task is
/// dropped first (the runtime shut down before it ended).
struct Guard {
    transfer: Arc<Transfer>,
    done: Option<Completion>,
}

impl Guard {
    fn complete(mut self, result: Result<ObjectMeta>) {
        let done = self.done.take();
        self.transfer.finish(result, done);
        // Drop sees the transfer finished and does nothing.
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.transfer.spawned.load(Ordering::SeqCst) && self.transfer.lock().result.is_none() {
            let done = self.done.take();
            self.transfer.finish(
                Err(Error::cancelled(
                    "the transfer was stopped because the SDK was shut down",
                )),
                done,
            );
        }
    }
}
