//! Cancellation: one download can be stopped by its own token, by its client
//! (`DisableRequest`) or by SDK shutdown. `Cancel` watches all three.

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// A set of tokens; cancelled as soon as any one of them is.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    tokens: Vec<CancellationToken>,
}

impl Cancel {
    pub fn new() -> Self {
        Cancel { tokens: Vec::new() }
    }

    /// This set plus one more token.
    pub fn with(mut self, token: CancellationToken) -> Self {
        self.tokens.push(token);
        self
    }

    pub fn is_cancelled(&self) -> bool {
        self.tokens.iter().any(|t| t.is_cancelled())
    }

    /// `Err(Cancelled)` once cancelled, so callers can write `cancel.check()?`.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::cancelled("the operation was cancelled"))
        } else {
            Ok(())
        }
    }

    /// Completes when any token is cancelled (never, for an empty set).
    pub async fn cancelled(&self) {
        if self.tokens.is_empty() {
            std::future::pending::<()>().await;
        }
        let futs = self.tokens.iter().map(|t| Box::pin(t.cancelled()));
        futures_util::future::select_all(futs).await;
    }

    /// Waits `delay` (a retry backoff), returning `Err(Cancelled)` as soon as cancelled.
    pub async fn sleep(&self, delay: std::time::Duration) -> Result<()> {
        self.run(async {
            tokio::time::sleep(delay).await;
            Ok(())
        })
        .await
    }

    /// Runs `fut` unless cancelled first, in which case `Err(Cancelled)`.
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.check()?;
        tokio::select! {
            biased;
            _ = self.cancelled() => Err(Error::cancelled("the operation was cancelled")),
            r = fut => r,
        }
    }
}
