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

/// A progress callback that may stop its transfer: `(increment, transferred, total)` as for
/// [`ProgressFn`], returning `false` to abort (libcurl's convention, nonzero from C). The
/// transfer then ends with [`aborted_error`] (kind `Cancelled`, `ClientError:200042`), keeping
/// its checkpoint as a cancel does.
pub type AbortableProgressFn = Arc<dyn Fn(u64, u64, u64) -> bool + Send + Sync>;

/// A [`ProgressFn`] calling `f`; when `f` returns false it trips `token` (a token of the
/// transfer's `Cancel`) and sets the flag returned, which [`map_abort`] reads afterwards.
pub fn abortable(
    f: AbortableProgressFn,
    token: tokio_util::sync::CancellationToken,
) -> (ProgressFn, Arc<std::sync::atomic::AtomicBool>) {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    let p: ProgressFn = Arc::new(move |inc, done, total| {
        if !f(inc, done, total) {
            set.store(true, std::sync::atomic::Ordering::SeqCst);
            token.cancel();
        }
    });
    (p, flag)
}

/// Runs one call with an abortable progress callback, for every caller (the Rust API and the C
/// ABI alike): `call` gets the progress to report to and the cancellation to obey. With `f`, the
/// progress is `f` wrapped by [`abortable`] and the cancellation is `cancel` plus a token of this
/// call only, tripped when `f` returns false: the call then stops as a cancelled one does (a
/// resumable download keeps its checkpoint) and ends with [`aborted_error`]. Without `f`,
/// `call(None, cancel)`.
pub async fn with_abortable<T, F, Fut>(
    f: Option<AbortableProgressFn>,
    cancel: crate::cancel::Cancel,
    call: F,
) -> crate::Result<T>
where
    F: FnOnce(Option<ProgressFn>, crate::cancel::Cancel) -> Fut,
    Fut: std::future::Future<Output = crate::Result<T>>,
{
    match f {
        None => call(None, cancel).await,
        Some(f) => {
            let token = tokio_util::sync::CancellationToken::new();
            let (p, flag) = abortable(f, token.clone());
            let result = call(Some(p), cancel.with(token)).await;
            map_abort(result, Some(&flag))
        }
    }
}

/// The error of a transfer its progress callback aborted.
pub fn aborted_error() -> crate::Error {
    crate::Error::client(
        crate::ErrorKind::Cancelled,
        crate::error::curl::ABORTED_BY_CALLBACK,
        "the progress callback asked to abort the transfer (a resumable download keeps its \
         checkpoint)",
    )
}

/// A cancellation caused by the progress callback (`flag` set) becomes [`aborted_error`].
pub fn map_abort<T>(
    result: crate::Result<T>,
    flag: Option<&std::sync::atomic::AtomicBool>,
) -> crate::Result<T> {
    match result {
        Err(e)
            if e.kind == crate::ErrorKind::Cancelled
                && flag.is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst)) =>
        {
            Err(aborted_error())
        }
        r => r,
    }
}
