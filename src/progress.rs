//! The progress callback type every transfer reports through (downloads and GetObject alike),
//! in a module of its own so that the object layer and the downloader share it without either
//! importing the other.

use std::sync::Arc;

/// Progress callback: `(increment, transferred, total)` in bytes, `total` being the number of
/// bytes of the file (the range's length for a ranged download).
///
/// Calls never overlap; `transferred` never decreases and never exceeds `total`; the first call
/// of a resumed download reports the bytes already on disk; the last call of a successful
/// download has `transferred == total` (a 0-byte download gets one call `(0, 0, 0)`). The first
/// call of a resume is `(0, bytes_on_disk, total)`: increment 0, so increments always add up to
/// the bytes received by this call. Calls are
/// paced: at most one per 100 ms, or per 1% of the total (at least 1 MiB), plus the last.
///
/// Thread: a worker thread of the tokio runtime that runs the download (the SDK's runtime when
/// called through the C ABI), or the thread awaiting the download for the first and last calls.
/// The callback should return quickly: parts wait while it runs. Panics in it are swallowed.
pub type ProgressFn = Arc<dyn Fn(u64, u64, u64) + Send + Sync>;
