//! Call cancellation: the per-request token that `oss_get_object_request_cancel` and
//! `oss_download_request_cancel` trip, renewed after each cancelled call.

use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

/// Per-request cancellation, shared by both request handles: `cancel` (any thread) stops the
/// call running with the request, or the next one when none runs; a used-up token is renewed
/// when its call returns, so the request can be used again (to resume, say).
#[derive(Default)]
pub(crate) struct CallCancel(Mutex<CancellationToken>);

impl CallCancel {
    fn lock(&self) -> std::sync::MutexGuard<'_, CancellationToken> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn cancel(&self) {
        self.lock().cancel();
    }

    /// Runs `call` with the token of a call starting now, then renews the token if it was used.
    pub(crate) fn around<T>(&self, call: impl FnOnce(CancellationToken) -> T) -> T {
        let token = self.lock().clone();
        let result = call(token.clone());
        let mut current = self.lock();
        if token.is_cancelled() && current.is_cancelled() {
            *current = CancellationToken::new();
        }
        result
    }
}
