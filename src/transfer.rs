//! Asynchronous transfers (the C ABI's `oss_transfer_t`): a resumable download, a download
//! continued from a resume token, or a GetObject to a file, started at once and run as a task on
//! the SDK runtime; its caller polls, waits, cancels or pauses it, and reads its live status and,
//! once it ended, its result and (after a pause) its resume token.
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
}

/// A decoded, authenticated resume token (its framing and its MAC under the client's resume
/// token key; its content is judged when used).
pub struct ResumeTokenBytes(ResumeToken);

impl ResumeTokenBytes {
    /// Decodes a token for `client`: truncated, altered, unknown bytes, a token sealed under
    /// another key or by an earlier release are refused (`ValidateError`); so is any token when
    /// the client has no key (none configured, no key file can be made).
    pub fn decode(client: &Client, bytes: &[u8]) -> Result<Self> {
        let key = crate::download::resume_key::key_for(client.config().resume_token_key.as_ref())?;
        ResumeToken::decode(bytes, &key).map(ResumeTokenBytes)
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
        let t = Arc::new(Transfer {
            cancel: CancellationToken::new(),
            suspend: (!matches!(work, Work::GetToFile { .. })).then(Suspend::new),
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
        });
        let mut cancel = Cancel::new().with(shutdown).with(t.cancel.clone());
        if let Some(s) = &t.suspend {
            cancel = cancel.with(s.token());
        }
        let cancel = client.call_cancel(cancel);
        let observer = t.observer(progress);
        let guard = Guard {
            transfer: t.clone(),
            done,
        };
        let client = client.clone();
        let task = async move {
            let guard = guard;
            let t = &guard.transfer;
            let result = match work {
                Work::Download(mut req) => {
                    req.progress = Some(observer);
                    let s = t.suspend.as_ref().expect("downloads are pausable");
                    crate::download::pausable_download(&client, &req, &cancel, s, None).await
                }
                Work::Resume { token, settings } => {
                    let mut req = token.0.request();
                    req.thread_num = settings.thread_num;
                    req.direct_io = settings.direct_io;
                    if settings.checkpoint_dir.is_some() {
                        req.checkpoint_dir = settings.checkpoint_dir;
                    }
                    req.progress = Some(observer);
                    let s = t.suspend.as_ref().expect("downloads are pausable");
                    crate::download::pausable_download(&client, &req, &cancel, s, Some(&token.0))
                        .await
                }
                Work::GetToFile {
                    object,
                    range,
                    path,
                } => {
                    client
                        .get_object_to_file(&object, range, &path, Some(observer), &cancel)
                        .await
                }
            };
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
        let token = match (&self.suspend, state) {
            (Some(s), TransferState::Paused) => s.take_token(),
            _ => None,
        };
        token.transpose()?.ok_or_else(|| {
            Error::validate(format!(
                "no resume token: the transfer is {state:?}{}",
                if state == TransferState::Paused {
                    " and its token was taken already"
                } else {
                    " (a token exists only once a paused download ended Paused)"
                }
            ))
        })
    }

    /// Records the outcome, runs the completion, then wakes the waiters.
    fn finish(self: &Arc<Self>, result: Result<ObjectMeta>, done: Option<Completion>) {
        let paused = self.suspend.as_ref().is_some_and(|s| s.has_token());
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
