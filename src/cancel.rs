//! Cancellation: one download can be stopped by its own token, by its client
//! (`DisableRequest`) or by SDK shutdown. `Cancel` watches all three, plus an optional deadline
//! for the whole call (`Config::call_timeout`, added by `Client::call_cancel`).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::{curl, Error, ErrorKind, Result};

/// A set of tokens and an optional deadline; cancelled as soon as any token is, or the deadline
/// has passed. Clones share the tokens and the deadline.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    tokens: Vec<CancellationToken>,
    deadline: Option<Deadline>,
    /// Where the call's requests are added up (`with_stats`), when it is measured.
    stats: Option<std::sync::Arc<crate::metrics::Summary>>,
    /// The attempts of one read so far (`counting_attempts`): its requests' attempts count on
    /// from one request to the next (a cut body resumed is the next attempt, not the first).
    attempts: Option<Arc<AtomicU32>>,
    /// Time waited for the memory budget (nanoseconds), for the next measured attempt
    /// (`with_memory_wait`).
    memory_wait: Option<Arc<AtomicU64>>,
    /// The download's part these requests are for (`for_part`), for their metrics.
    part: Option<u32>,
}

#[derive(Clone, Copy, Debug)]
struct Deadline {
    at: Instant,
    /// The time allowed, for the message.
    after: Duration,
}

impl Cancel {
    pub fn new() -> Self {
        Cancel::default()
    }

    /// This set, whose requests are added up in `stats` (while the client has a metrics
    /// callback).
    pub fn with_stats(mut self, stats: std::sync::Arc<crate::metrics::Summary>) -> Self {
        self.stats = Some(stats);
        self
    }

    /// Where this call's requests are added up, if anywhere.
    pub fn stats(&self) -> Option<&std::sync::Arc<crate::metrics::Summary>> {
        self.stats.as_ref()
    }

    /// This set, whose requests number their attempts on one count, from `from` + 1 (replacing
    /// a count it had). Read only while measured.
    pub(crate) fn counting_attempts(mut self, from: u32) -> Self {
        self.attempts = Some(Arc::new(AtomicU32::new(from)));
        self
    }

    /// Whether this set numbers its requests' attempts on one count.
    pub(crate) fn counts_attempts(&self) -> bool {
        self.attempts.is_some()
    }

    /// The number of the next attempt, on the count of `counting_attempts` if any.
    pub(crate) fn next_attempt(&self) -> Option<u32> {
        self.attempts
            .as_ref()
            .map(|a| a.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// The count goes on from `n` at least (an attempt made under another set: the first answer).
    pub(crate) fn attempts_at_least(&self, n: u32) {
        if let Some(a) = &self.attempts {
            a.fetch_max(n, Ordering::Relaxed);
        }
    }

    /// This set, whose next measured attempt waited `d` for the memory budget before it
    /// (replacing a wait not taken yet).
    pub(crate) fn with_memory_wait(mut self, d: Duration) -> Self {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.memory_wait = Some(Arc::new(AtomicU64::new(ns)));
        self
    }

    /// The wait for the memory budget not taken yet by an attempt (then zero).
    pub(crate) fn take_memory_wait(&self) -> Duration {
        self.memory_wait.as_ref().map_or(Duration::ZERO, |w| {
            Duration::from_nanos(w.swap(0, Ordering::Relaxed))
        })
    }

    /// This set, whose requests are for part `index` of a download: each attempt's metrics
    /// name the part, a failed one included (an answer's body is named by its reader too).
    pub(crate) fn for_part(mut self, index: u32) -> Self {
        self.part = Some(index);
        self
    }

    /// The part these requests are for, if any.
    pub(crate) fn part(&self) -> Option<u32> {
        self.part
    }

    /// This set plus one more token.
    pub fn with(mut self, token: CancellationToken) -> Self {
        self.tokens.push(token);
        self
    }

    /// This set with a deadline `after` from now (the earlier one is kept when there is already
    /// one; a duration too large for the clock means no deadline). Once it has passed, waits end
    /// with a `Timeout` error (`ClientError:200028`) instead of `Cancelled`.
    pub fn with_deadline(mut self, after: Duration) -> Self {
        if let Some(at) = Instant::now().checked_add(after) {
            if self.deadline.is_none_or(|d| at < d.at) {
                self.deadline = Some(Deadline { at, after });
            }
        }
        self
    }

    fn tokens_cancelled(&self) -> bool {
        self.tokens.iter().any(|t| t.is_cancelled())
    }

    fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d.at)
    }

    pub fn is_cancelled(&self) -> bool {
        self.tokens_cancelled() || self.expired()
    }

    fn deadline_error(&self) -> Error {
        let ms = self.deadline.map_or(0, |d| d.after.as_millis());
        Error::client(
            ErrorKind::Timeout,
            curl::OPERATION_TIMEDOUT,
            format!("the call did not finish within its deadline of {ms} ms (the call timeout)"),
        )
    }

    /// `Err(Cancelled)` once cancelled (`Err(Timeout)` once past the deadline), so callers can
    /// write `cancel.check()?`.
    pub fn check(&self) -> Result<()> {
        if self.tokens_cancelled() {
            Err(Error::cancelled("the operation was cancelled"))
        } else if self.expired() {
            Err(self.deadline_error())
        } else {
            Ok(())
        }
    }

    /// Completes when any token is cancelled (never, for an empty set).
    async fn any_token(&self) {
        if self.tokens.is_empty() {
            std::future::pending::<()>().await;
        }
        let futs = self.tokens.iter().map(|t| Box::pin(t.cancelled()));
        futures_util::future::select_all(futs).await;
    }

    /// Completes at the deadline (never, without one).
    async fn deadline_reached(&self) {
        match self.deadline {
            Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d.at)).await,
            None => std::future::pending::<()>().await,
        }
    }

    /// Completes when any token is cancelled or the deadline has passed.
    pub async fn cancelled(&self) {
        tokio::select! {
            _ = self.any_token() => {}
            _ = self.deadline_reached() => {}
        }
    }

    /// Waits `delay` (a retry backoff), returning `Err(Cancelled)` as soon as cancelled.
    pub async fn sleep(&self, delay: Duration) -> Result<()> {
        self.run(async {
            tokio::time::sleep(delay).await;
            Ok(())
        })
        .await
    }

    /// Runs `fut` unless cancelled first, in which case `Err(Cancelled)` (or `Err(Timeout)` at
    /// the deadline).
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.check()?;
        tokio::select! {
            biased;
            _ = self.any_token() => Err(Error::cancelled("the operation was cancelled")),
            _ = self.deadline_reached() => Err(self.deadline_error()),
            r = fut => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_deadline_ends_waits_with_a_timeout() {
        let c = Cancel::new().with_deadline(Duration::from_millis(20));
        let err = c.sleep(Duration::from_secs(600)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(c.is_cancelled());
        assert_eq!(c.check().unwrap_err().kind, ErrorKind::Timeout);
        // The earlier deadline wins; an unrepresentable one is none.
        let c = Cancel::new()
            .with_deadline(Duration::from_secs(600))
            .with_deadline(Duration::MAX);
        assert!(c.check().is_ok());
        let far = Cancel::new().with_deadline(Duration::from_millis(u64::MAX));
        far.sleep(Duration::from_millis(5)).await.unwrap();
        // A cancelled token is reported as a cancellation even past the deadline.
        let t = CancellationToken::new();
        t.cancel();
        let c = Cancel::new().with(t).with_deadline(Duration::ZERO);
        assert_eq!(c.check().unwrap_err().kind, ErrorKind::Cancelled);
    }
}
