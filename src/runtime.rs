//! The one global tokio runtime, created by `oss_initialize_sdk` and stopped by `oss_shutdown_sdk`.
//!
//! Decision: no lazy initialisation. A call made before initialisation or after shutdown fails at
//! once with `NotInitialized` (never hangs). Initialise again after a shutdown to start over.
//! After `fork()` the child has no runtime (the parent's threads were not copied): its calls fail
//! with `NotInitialized` until it initialises its own; the inherited one is never touched.
//! Blocking C calls run their work as a task on the runtime and wait for it; shutdown cancels every
//! running operation first, so waiting callers return `Cancelled` promptly.

use std::future::Future;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

struct State {
    runtime: Runtime,
    shutdown: CancellationToken,
    /// The process that made the runtime: after `fork()` the state is inherited but its threads
    /// exist only in the parent.
    pid: u32,
}

static STATE: RwLock<Option<State>> = RwLock::new(None);

/// The most threads the runtime's blocking pool (file writes, syncs, renames) may have at once.
///
/// tokio's default is 512: a blocking task that finds no idle thread gets a new one, so when the
/// disk or the CPU is slow the part writers' queued writes each started a thread, and a 1 GiB
/// download at 16 threads reached 42 threads and 66 MiB of peak RSS on a loaded 2-core machine
/// (55 MiB idle): memory depended on how busy the machine was. With a bound, writes wait in the
/// pool's queue instead (each part has at most one write in flight, so the queue is bounded
/// too). 16 keeps 16 writes in flight, more than a disk needs to stay busy. The blocking tasks
/// never wait for one another, so a full pool cannot deadlock.
pub const MAX_BLOCKING_THREADS: usize = 16;

/// Runtimes inherited through `fork()`: never shut down nor dropped in the child (that would wait
/// for threads that do not exist here and touch descriptors shared with the parent), only kept
/// reachable.
static INHERITED: Mutex<Vec<State>> = Mutex::new(Vec::new());

fn forked_error() -> Error {
    Error::not_initialized_because(
        "the SDK was initialised in another process (this one was fork()ed from it): call \
         oss_initialize_sdk / InitializeSdk in this process first; clients made before the fork \
         cannot be used here",
    )
}

/// The state of this process, or why there is none.
fn ours(state: &Option<State>) -> Result<&State> {
    match state {
        Some(s) if s.pid == std::process::id() => Ok(s),
        Some(_) => Err(forked_error()),
        None => Err(Error::not_initialized()),
    }
}

/// Sets an inherited state aside (see [`INHERITED`]).
fn set_aside(state: State) {
    INHERITED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(state);
}

/// Creates the runtime if this process has none (in a `fork()`ed child: a fresh one, the
/// parent's left alone). Idempotent and thread-safe.
pub fn initialize() -> Result<()> {
    let workers = {
        let mut state = STATE.write().unwrap_or_else(|e| e.into_inner());
        match ours(&state) {
            Ok(_) => return Ok(()),
            Err(_) => {
                if let Some(inherited) = state.take() {
                    set_aside(inherited);
                }
            }
        }
        crate::log::apply_env();
        crate::crc64::prepare();
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 16);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .max_blocking_threads(MAX_BLOCKING_THREADS)
            .thread_name("oss-ffi-worker")
            .enable_all()
            .build()
            .map_err(|e| Error::initialize(format!("cannot start the SDK runtime: {e}")))?;
        *state = Some(State {
            runtime,
            shutdown: CancellationToken::new(),
            pid: std::process::id(),
        });
        workers
    };
    // Logged without the state lock: the log callback may call back into the SDK.
    crate::log::log(crate::log::Level::Info, || {
        format!("SDK initialised ({workers} worker threads)")
    });
    Ok(())
}

pub fn is_initialized() -> bool {
    ours(&STATE.read().unwrap_or_else(|e| e.into_inner())).is_ok()
}

/// Cancels every running operation and stops the runtime. Idempotent and thread-safe. In a
/// `fork()`ed child the inherited runtime is only set aside (its threads are the parent's).
pub fn shutdown() {
    let state = STATE.write().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(state) = state {
        if state.pid != std::process::id() {
            set_aside(state);
            return;
        }
        state.shutdown.cancel();
        if Handle::try_current().is_ok() {
            // Called from inside a library callback: a blocking shutdown would deadlock.
            state.runtime.shutdown_background();
        } else {
            state.runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// The token cancelled by `shutdown`, for operations to watch.
pub fn shutdown_token() -> Result<CancellationToken> {
    let state = STATE.read().unwrap_or_else(|e| e.into_inner());
    ours(&state).map(|s| s.shutdown.clone())
}

/// Whether the calling thread may block on the runtime: not from inside a library callback or
/// an async context (`ValidateError`). A call that moves a handle's state into `block_on` checks
/// this first, so that the refusal leaves the handle whole.
pub fn may_block() -> Result<()> {
    if Handle::try_current().is_ok() {
        return Err(Error::validate(
            "a blocking SDK call was made from inside a library callback or async context; \
             callbacks must not re-enter the SDK",
        ));
    }
    Ok(())
}

/// Runs `fut` on the runtime and waits for it on the calling thread.
pub fn block_on<T, F>(fut: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    may_block()?;
    let handle = {
        let state = STATE.read().unwrap_or_else(|e| e.into_inner());
        ours(&state)?.runtime.handle().clone()
    };
    let task = handle.spawn(fut);
    match handle.block_on(task) {
        Ok(r) => r,
        Err(e) if e.is_cancelled() => Err(Error::cancelled(
            "the operation was stopped because the SDK was shut down",
        )),
        Err(e) => {
            let payload = e.into_panic();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(Error::panic(format!("internal error (panic): {text}")))
        }
    }
}

/// Spawns the future `make` returns on the runtime without waiting for it (the asynchronous C
/// API's transfers); `make` runs only when there is a runtime, under its lock (so shutdown waits
/// for it). Allowed from library threads too (a completion callback may start the next
/// transfer). A task still running when `shutdown` gives up waiting is dropped: its owner notices
/// that in a `Drop` (see `transfer`).
pub fn spawn_with<F, M>(make: M) -> Result<()>
where
    M: FnOnce() -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let state = STATE.read().unwrap_or_else(|e| e.into_inner());
    let handle = ours(&state)?.runtime.handle();
    handle.spawn(make());
    Ok(())
}

/// Whether the calling thread is one of the runtime's (a library callback runs there).
pub fn on_library_thread() -> bool {
    Handle::try_current().is_ok()
}
