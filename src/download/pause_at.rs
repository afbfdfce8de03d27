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
    use std::sync::OnceLock;
    use std::time::Duration;

    struct Pause {
        point: String,
        nth: u32,
        ms: u64,
        seen: AtomicU32,
    }

    static PAUSE: OnceLock<Option<Pause>> = OnceLock::new();

    fn config() -> Option<&'static Pause> {
        PAUSE
            .get_or_init(|| {
                let spec = std::env::var("OSS_FFI_TEST_PAUSE_AT").ok()?;
                let (point, nth) = match spec.split_once('@') {
                    Some((p, n)) => (p.to_string(), n.parse().ok()?),
                    None => (spec, 1),
                };
                let ms = std::env::var("OSS_FFI_TEST_PAUSE_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(30_000);
                Some(Pause {
                    point,
                    nth,
                    ms,
                    seen: AtomicU32::new(0),
                })
            })
            .as_ref()
    }

    /// Pauses here when the test hook names `point` (see the module documentation). Blocking: call
    /// it only from the blocking pool or a plain thread.
    pub fn at(point: &str) {
        let Some(p) = config() else { return };
        if p.point != point || p.seen.fetch_add(1, Ordering::SeqCst) + 1 != p.nth {
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
