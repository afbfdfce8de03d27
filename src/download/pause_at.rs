//! A test-only hook to hold a download at a precise point, so that the reliability suite can
//! SIGKILL a process exactly inside a narrow window (the checkpoint write, the final rename).
//!
//! `OSS_FFI_TEST_PAUSE_AT=<point>[@<n>]` makes the n-th (default: first) arrival of this process
//! at `<point>` print `OSS_FFI_PAUSED <point>` on stderr and sleep `OSS_FFI_TEST_PAUSE_MS`
//! milliseconds (default 30000) before going on. Points:
//! - `checkpoint_write`: half of the checkpoint's JSON written to `<ckpt>.tmp`, not synced;
//! - `checkpoint_rename`: `<ckpt>.tmp` complete and synced, not yet renamed over the checkpoint;
//! - `rename`: every part done and the temp file synced, before it is renamed over the destination;
//! - `after_rename`: the destination in place, the checkpoint not yet deleted.
//!
//! Only with the `test-hooks` feature (the tests turn it on; release builds and `make install`
//! do not): without it `at` is an empty function and the environment is never read.

#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn at(_point: &str) {}

#[cfg(feature = "test-hooks")]
pub use hook::at;

#[cfg(feature = "test-hooks")]
mod hook {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    /// Arrivals at the named point so far, in this process.
    ///
    /// A plain atomic, and the environment read at every arrival, rather than a lazily
    /// initialised configuration (`OnceLock`): a process `fork()`ed while a library thread of
    /// its parent was inside the first initialisation inherited the lock in its "running"
    /// state, with no thread left to finish it, and the child's own download then waited for
    /// it forever at its first checkpoint write or rename. An arrival is rare (a checkpoint
    /// write, a rename), so reading two variables there costs nothing measurable.
    static SEEN: AtomicU32 = AtomicU32::new(0);

    struct Pause {
        point: String,
        nth: u32,
        ms: u64,
    }

    fn config() -> Option<Pause> {
        let spec = std::env::var("OSS_FFI_TEST_PAUSE_AT").ok()?;
        let (point, nth) = match spec.split_once('@') {
            Some((p, n)) => (p.to_string(), n.parse().ok()?),
            None => (spec, 1),
        };
        let ms = std::env::var("OSS_FFI_TEST_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30_000);
        Some(Pause { point, nth, ms })
    }

    /// Pauses here when the test hook names `point` (see the module documentation). Blocking: call
    /// it only from the blocking pool or a plain thread.
    pub fn at(point: &str) {
        let Some(p) = config() else { return };
        if p.point != point || SEEN.fetch_add(1, Ordering::SeqCst) + 1 != p.nth {
            return;
        }
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "OSS_FFI_PAUSED {point}");
        let _ = err.flush();
        drop(err);
        std::thread::sleep(Duration::from_millis(p.ms));
    }
}
