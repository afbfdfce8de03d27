//! Which request waited for a new connection, and how long connecting took (the metrics'
//! `connect`).
//!
//! reqwest does not say which request opened a connection, but its connector runs inside the
//! future of the request that needs it: hyper's pool races a checkout of an idle connection
//! against a new connect, both polled by that request's task, and moves the connect to a
//! background task only when the checkout won (the connection then goes to the pool, and the
//! request used another one). So a measured request sets a task-local slot around its send
//! (`timed`), and the connector layer (`spread::SpreadService`) fills it when a connect it ran
//! ends inside that task (`connected`): the time from the connector's call to the connection
//! (name resolution, TCP, TLS and a proxy's CONNECT, as the connector does them all). A connect
//! that ends in a background task (or in another request's task) fills nothing: that request
//! did not wait for it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Slot = Arc<Mutex<Option<Duration>>>;

tokio::task_local! {
    static WAITER: Slot;
}

/// Runs `fut` (a request's send) with a slot for the connect it waits for; returns its output
/// and how long that connect took, if it waited for one.
pub(crate) async fn timed<F: Future>(fut: F) -> (F::Output, Option<Duration>) {
    let slot: Slot = Arc::new(Mutex::new(None));
    let out = WAITER.scope(slot.clone(), fut).await;
    let d = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    (out, d)
}

/// A connect ended after `d`, in the current task: the request whose send runs here (if
/// measured) waited for it.
pub(crate) fn connected(d: Duration) {
    let _ = WAITER.try_with(|s| {
        *s.lock().unwrap_or_else(|e| e.into_inner()) = Some(d);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connect_counts_only_for_the_send_it_ran_in() {
        fn ms(n: u64) -> Duration {
            Duration::from_millis(n)
        }
        // Inside a measured send: its connect.
        let ((), d) = timed(async { connected(ms(7)) }).await;
        assert_eq!(d, Some(ms(7)));
        // A send that connected nothing (a pooled connection).
        let ((), d) = timed(async {}).await;
        assert_eq!(d, None);
        // A connect finished in another task (hyper's background connect): not this send's.
        let ((), d) = timed(async {
            tokio::spawn(async { connected(ms(9)) }).await.unwrap();
        })
        .await;
        assert_eq!(d, None);
        // Outside any measured send: nothing happens.
        connected(ms(1));
    }
}
