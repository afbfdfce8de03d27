//! File-system work of the downloader run on tokio's blocking pool.

use crate::error::{Error, Result};

/// Runs `f` on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::io_failure(format!("a file-system task failed: {e}")))?
}
