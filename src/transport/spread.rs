//! Spreading a client's connections over the addresses of its endpoint's host.
//!
//! The HTTP pool keys connections by host, so the spreading happens when a connection is made:
//! reqwest asks the client's resolver ([`SpreadResolver`]) for the host's addresses at every new
//! connection, and hyper-util's connector tries them in the order given (one after the other,
//! each with a share of the connect timeout; the other address family after 300 ms). The
//! resolver orders them per connection (the design of aws-c-io's host resolver):
//!
//! - **least recently used first**, so that N connections go to N addresses before any address
//!   gets a second;
//! - an address that has not connected yet is given first to one connection at a time (it is
//!   being *probed*); when every address is being probed, a new connection waits for a probe's
//!   outcome (at most [`PROBE_WAIT`]): a dead address costs one failed connect, not one per part
//!   started at once;
//! - a new connection whose turn is an address being probed waits a moment for the probe
//!   (its [grace](Host::grace): a few of the host's connect times) rather than doubling up on an
//!   address that works: the connections a download opens at once would otherwise all go to the
//!   first address proven while the others were still being probed (6 of 8 on one of three
//!   addresses, measured);
//! - neither wait is longer than a quarter of the client's connect timeout, which counts from
//!   before the resolver: a connection must have the time left to connect;
//! - an address that failed to connect is **set aside** for [`SET_ASIDE`]: offered last (still
//!   offered: when every address failed, trying is better than failing);
//! - the names are **re-resolved** after [`TTL`] (the system resolver tells no TTL), keeping what
//!   is known of the addresses still there; a connection does not wait for a re-resolution (it
//!   runs in the background while the old addresses serve, for [`RESOLVE_RETRY`] at most before
//!   the next try): a name service that has become slow or unreachable delays no connection, and
//!   a failed re-resolution keeps the old addresses;
//! - the client's **pinned addresses** ([`ResolveEntry`], curl's `--resolve`) replace the name
//!   service for their host (and a bucket's virtual host under it), and are never re-resolved.
//!
//! What a connect gave is told by the connector layer ([`SpreadLayer`]): the address the
//! connection reached (hyper's `HttpInfo`), or the failure. The resolver leaves its choice in a
//! task-local slot the layer sets up around each connect, as the resolver runs inside it.
//!
//! The ordering ([`Book`]) is pure: it is told the time, and its tests drive it directly.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::config::ResolveEntry;

/// How long a name's addresses are kept before resolving it again.
pub const TTL: Duration = Duration::from_secs(30);
/// How long stale addresses serve while their name is resolved again (in the background), or
/// after that failed, before another re-resolution.
pub const RESOLVE_RETRY: Duration = Duration::from_secs(5);
/// How long an address that failed to connect is offered last.
pub const SET_ASIDE: Duration = Duration::from_secs(30);
/// How long a new connection waits for a probe's outcome when every address is being probed.
pub const PROBE_WAIT: Duration = Duration::from_secs(1);
/// The least a new connection waits for the probe of the address whose turn it is, when another
/// address works (the most is [`PROBE_WAIT`]).
pub const PROBE_GRACE: Duration = Duration::from_millis(250);
/// A probe's grace in connect times of the host's fastest connection.
const GRACE_CONNECTS: u32 = 4;
/// A new connection waits in the resolver (for a probe's outcome, or a probe's grace) at most
/// this share of the connect timeout: the timeout counts from before the resolver, so a
/// connection that waited longer might not have the time left to connect (a 500 ms timeout on a
/// link whose connect takes 300 ms: the connections that waited for the first one's 300 ms all
/// timed out, where without the wait each would have connected).
const WAIT_SHARE_OF_CONNECT_TIMEOUT: u32 = 4;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
struct Addr {
    ip: IpAddr,
    /// When it was last handed out first (a counter: 0 = never).
    used: u64,
    /// Connected at least once since it was last set aside.
    proven: bool,
    /// A connection is trying it for the first time.
    probing: bool,
    set_aside_until: Option<Instant>,
}

impl Addr {
    fn new(ip: IpAddr) -> Addr {
        Addr {
            ip,
            used: 0,
            proven: false,
            probing: false,
            set_aside_until: None,
        }
    }

    fn set_aside(&self, now: Instant) -> bool {
        self.set_aside_until.is_some_and(|t| now < t)
    }
}

#[derive(Debug)]
struct Host {
    addrs: Vec<Addr>,
    /// When to resolve again (`None`: pinned, never).
    expires: Option<Instant>,
    /// The fastest connect to one of its addresses (`None`: none connected yet).
    fastest: Option<Duration>,
}

impl Host {
    fn new(addrs: Vec<Addr>, expires: Option<Instant>) -> Host {
        Host {
            addrs,
            expires,
            fastest: None,
        }
    }

    /// How long a new connection waits for the probe of an address whose turn it is while
    /// another address works: a live address answers a connect in about the time the fastest
    /// one did; a dead one delays the connection by no more than this.
    fn grace(&self) -> Duration {
        self.fastest
            .map_or(PROBE_GRACE, |d| d.saturating_mul(GRACE_CONNECTS))
            .clamp(PROBE_GRACE, PROBE_WAIT)
    }
}

/// What [`Book::order`] tells a new connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Order {
    /// The addresses to try, in this order (the first is the connection's own).
    Try(Vec<IpAddr>),
    /// Wait for a connect's outcome, this long at most, then ask again.
    Wait(Duration),
}

impl Order {
    /// The addresses (a test's shorthand; panics on `Wait`).
    #[cfg(test)]
    fn addrs(self) -> Vec<IpAddr> {
        match self {
            Order::Try(a) => a,
            Order::Wait(d) => panic!("told to wait {d:?}"),
        }
    }
}

/// What is known of each host's addresses.
#[derive(Debug)]
pub struct Book {
    hosts: HashMap<String, Host>,
    clock: u64,
    /// The longest a new connection waits in the resolver, in all ([`PROBE_WAIT`], or less
    /// with a short connect timeout: [`Book::new`]).
    patience: Duration,
}

impl Default for Book {
    fn default() -> Book {
        Book {
            hosts: HashMap::new(),
            clock: 0,
            patience: PROBE_WAIT,
        }
    }
}

impl Book {
    /// A book for a client whose connect timeout is `connect_timeout` (which counts the time
    /// a connection waits in the resolver): a connection waits at most a quarter of it.
    pub fn new(connect_timeout: Duration) -> Book {
        Book {
            patience: (connect_timeout / WAIT_SHARE_OF_CONNECT_TIMEOUT).min(PROBE_WAIT),
            ..Book::default()
        }
    }

    /// The host's addresses as pinned (never expire).
    pub fn pin(&mut self, host: &str, ips: &[IpAddr]) {
        self.hosts.insert(
            host.to_ascii_lowercase(),
            Host::new(dedup(ips).into_iter().map(Addr::new).collect(), None),
        );
    }

    /// Whether `host` has addresses that are still good at `now`.
    pub fn fresh(&self, host: &str, now: Instant) -> bool {
        self.hosts
            .get(&host.to_ascii_lowercase())
            .is_some_and(|h| !h.addrs.is_empty() && h.expires.is_none_or(|e| now < e))
    }

    /// Whether `host` has any addresses at all (stale ones included).
    pub fn known(&self, host: &str) -> bool {
        self.hosts
            .get(&host.to_ascii_lowercase())
            .is_some_and(|h| !h.addrs.is_empty())
    }

    /// A re-resolution of `host`, whose addresses are stale, starts at `now`: they serve
    /// meanwhile, for [`RESOLVE_RETRY`] at most (when it fails, another one then). `false`
    /// when `host` has no addresses (the caller must wait for the answer).
    pub fn refreshing(&mut self, host: &str, now: Instant) -> bool {
        match self.hosts.get_mut(&host.to_ascii_lowercase()) {
            Some(h) if !h.addrs.is_empty() => {
                if h.expires.is_some() {
                    h.expires = Some(now + RESOLVE_RETRY);
                }
                true
            }
            _ => false,
        }
    }

    /// The name service's answer for `host` at `now`: kept for [`TTL`]; addresses still there
    /// keep their state.
    pub fn resolved(&mut self, host: &str, ips: &[IpAddr], now: Instant) {
        let key = host.to_ascii_lowercase();
        let old = self.hosts.remove(&key);
        let fastest = old.as_ref().and_then(|h| h.fastest);
        let addrs = dedup(ips)
            .into_iter()
            .map(|ip| {
                old.as_ref()
                    .and_then(|h| h.addrs.iter().find(|a| a.ip == ip).cloned())
                    .unwrap_or_else(|| Addr::new(ip))
            })
            .collect();
        let mut fresh = Host::new(addrs, Some(now + TTL));
        fresh.fastest = fastest;
        self.hosts.insert(key, fresh);
    }

    /// The order in which a new connection to `host`, which has `waited` so far, tries its
    /// addresses; the first is this connection's own (marked used, and probing if it never
    /// connected). Empty when the host is unknown. A wait when every address not set aside is
    /// being probed by another connection (better wait for one's outcome than try it again, up
    /// to [`PROBE_WAIT`]), or when the address whose turn it is (used less recently than the
    /// first usable one) is being probed (better wait for it than double up, up to the host's
    /// [grace](Host::grace)); neither longer than a quarter of the connect timeout.
    pub fn order(&mut self, host: &str, now: Instant, waited: Duration) -> Order {
        let patience = self.patience;
        let Some(h) = self.hosts.get_mut(&host.to_ascii_lowercase()) else {
            return Order::Try(Vec::new());
        };
        // Ranks: 0 usable (proven, or unproven and nobody probing it), 1 being probed by
        // another connection, 2 set aside (the soonest back first); then least recently used.
        let rank = |a: &Addr| -> (u8, Option<Instant>, u64) {
            if a.set_aside(now) {
                (2, a.set_aside_until, a.used)
            } else if a.probing && !a.proven {
                (1, None, a.used)
            } else {
                (0, None, a.used)
            }
        };
        let mut idx: Vec<usize> = (0..h.addrs.len()).collect();
        idx.sort_by_key(|&i| rank(&h.addrs[i]));
        if let Some(&first) = idx.first() {
            let (class, _, used) = rank(&h.addrs[first]);
            // An address being probed that was handed out before the first usable one.
            let probe_due = || h.addrs.iter().any(|a| rank(a).0 == 1 && a.used < used);
            if class == 1 && waited < patience {
                return Order::Wait(patience - waited);
            }
            let grace = h.grace().min(patience);
            if class == 0 && waited < grace && probe_due() {
                return Order::Wait(grace - waited);
            }
        }
        if let Some(&first) = idx.first() {
            self.clock += 1;
            let a = &mut h.addrs[first];
            a.used = self.clock;
            if !a.proven {
                a.probing = true;
            }
        }
        Order::Try(idx.into_iter().map(|i| h.addrs[i].ip).collect())
    }

    /// A connection given `chosen` first ended after `took`: it reached `reached` (`None`: it
    /// failed). Returns whether `chosen` was set aside.
    pub fn outcome(
        &mut self,
        host: &str,
        chosen: IpAddr,
        reached: Option<IpAddr>,
        now: Instant,
        took: Duration,
    ) -> bool {
        let Some(h) = self.hosts.get_mut(&host.to_ascii_lowercase()) else {
            return false;
        };
        if reached.is_some() {
            h.fastest = Some(h.fastest.map_or(took, |f| f.min(took)));
        }
        let clock = &mut self.clock;
        for a in &mut h.addrs {
            if a.ip == chosen {
                a.probing = false;
                if reached == Some(chosen) {
                    a.proven = true;
                    a.set_aside_until = None;
                } else {
                    a.proven = false;
                    a.set_aside_until = Some(now + SET_ASIDE);
                }
            } else if reached == Some(a.ip) {
                // The connection fell back to this one: it works, and has just been used.
                a.proven = true;
                a.set_aside_until = None;
                *clock += 1;
                a.used = *clock;
            }
        }
        reached != Some(chosen)
    }

    /// A connect given `chosen` first was dropped before it ended (nothing learnt).
    pub fn abandoned(&mut self, host: &str, chosen: IpAddr) {
        if let Some(h) = self.hosts.get_mut(&host.to_ascii_lowercase()) {
            for a in h.addrs.iter_mut().filter(|a| a.ip == chosen) {
                a.probing = false;
            }
        }
    }
}

fn dedup(ips: &[IpAddr]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::new();
    for ip in ips {
        if !out.contains(ip) {
            out.push(*ip);
        }
    }
    out
}

/// The pinned entry that covers `host`: its own, or its parent's for a bucket's virtual host
/// (`bucket.oss.example` under `oss.example`).
fn pinned_for<'a>(pins: &'a [ResolveEntry], host: &str) -> Option<&'a ResolveEntry> {
    let host = host.to_ascii_lowercase();
    pins.iter()
        .find(|e| e.host.eq_ignore_ascii_case(&host))
        .or_else(|| {
            pins.iter().find(|e| {
                host.strip_suffix(&e.host.to_ascii_lowercase())
                    .and_then(|p| p.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'))
            })
        })
}

/// A name service lookup of a host's addresses.
type LookupFuture = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
type Lookup = Arc<dyn Fn(String) -> LookupFuture + Send + Sync>;

/// The system's name service (`getaddrinfo`, on tokio's blocking pool).
fn system_lookup(host: String) -> LookupFuture {
    Box::pin(async move {
        let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
        Ok(found.map(|a| a.ip()).collect())
    })
}

/// The client's resolver and connect outcomes, shared by its [`SpreadResolver`] and
/// [`SpreadLayer`].
pub struct Spread {
    book: Mutex<Book>,
    /// Told when a connect's outcome is known.
    outcomes: tokio::sync::Notify,
    pins: Vec<ResolveEntry>,
    lookup: Lookup,
}

impl std::fmt::Debug for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spread")
            .field("book", &self.book)
            .field("pins", &self.pins)
            .finish_non_exhaustive()
    }
}

impl Spread {
    /// The spreading of a client with these pinned addresses and this connect timeout.
    pub fn new(pins: &[ResolveEntry], connect_timeout: Duration) -> Arc<Spread> {
        Spread::with_lookup(pins, connect_timeout, Arc::new(system_lookup))
    }

    /// The same with another name service (tests).
    fn with_lookup(
        pins: &[ResolveEntry],
        connect_timeout: Duration,
        lookup: Lookup,
    ) -> Arc<Spread> {
        Arc::new(Spread {
            book: Mutex::new(Book::new(connect_timeout)),
            outcomes: tokio::sync::Notify::new(),
            pins: pins.to_vec(),
            lookup,
        })
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn addresses(self: &Arc<Self>, host: &str) -> std::io::Result<Vec<IpAddr>> {
        let now = Instant::now();
        if let Some(pin) = pinned_for(&self.pins, host) {
            let mut book = self.book();
            if !book.known(host) {
                book.pin(host, &pin.addrs);
            }
        } else {
            // Stale addresses serve while the name is resolved again (one re-resolution at a
            // time): the connect timeout counts the resolver's time, and a name service that
            // takes seconds to fail would otherwise fail every new connection. The old
            // addresses are better than none.
            let refresh = {
                let mut book = self.book();
                (!book.fresh(host, now)).then(|| book.refreshing(host, now))
            };
            match refresh {
                None => {}
                Some(true) => {
                    let (spread, name) = (self.clone(), host.to_owned());
                    let lookup = (self.lookup)(name.clone());
                    tokio::spawn(async move {
                        match lookup.await {
                            Ok(ips) if !ips.is_empty() => {
                                spread.book().resolved(&name, &ips, Instant::now());
                            }
                            Ok(_) => {}
                            Err(e) => {
                                crate::log::log(crate::log::Level::Warn, || {
                                    format!("{name}: resolving again failed ({e}); its addresses serve on")
                                })
                            }
                        }
                    });
                }
                Some(false) => {
                    let ips = (self.lookup)(host.to_owned()).await?;
                    if !ips.is_empty() {
                        self.book().resolved(host, &ips, Instant::now());
                    }
                }
            }
        }
        let start = tokio::time::Instant::now();
        let order = loop {
            let outcome = self.outcomes.notified();
            tokio::pin!(outcome);
            outcome.as_mut().enable();
            let told = self.book().order(host, Instant::now(), start.elapsed());
            match told {
                Order::Try(order) => break order,
                Order::Wait(most) => {
                    let _ = tokio::time::timeout(most, outcome).await;
                }
            }
        };
        if order.is_empty() {
            return Err(std::io::Error::other(format!(
                "failed to lookup address information: no address for {host}"
            )));
        }
        Ok(order)
    }
}

/// What the resolver chose for the connect running in this task: the host, its first address
/// and when.
type Choice = Arc<Mutex<Option<(String, IpAddr, Instant)>>>;

tokio::task_local! {
    static CHOICE: Choice;
}

/// The client's `reqwest` resolver.
#[derive(Debug, Clone)]
pub struct SpreadResolver(pub Arc<Spread>);

impl reqwest::dns::Resolve for SpreadResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let spread = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let order = spread.addresses(&host).await?;
            if let Some(&first) = order.first() {
                let _ = CHOICE.try_with(|c| {
                    *c.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((host, first, Instant::now()));
                });
            }
            let addrs: reqwest::dns::Addrs =
                Box::new(order.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The connector layer that tells the resolver what each connect gave.
#[derive(Debug, Clone)]
pub struct SpreadLayer(pub Arc<Spread>);

impl<S> tower_layer::Layer<S> for SpreadLayer {
    type Service = SpreadService<S>;
    fn layer(&self, inner: S) -> SpreadService<S> {
        SpreadService {
            inner,
            spread: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SpreadService<S> {
    inner: S,
    spread: Arc<Spread>,
}

/// Tells the book a connect was dropped if it ends without an outcome.
struct Pending {
    spread: Arc<Spread>,
    choice: Choice,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let taken = self.choice.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((host, ip, _)) = taken {
            self.spread.book().abandoned(&host, ip);
            self.spread.outcomes.notify_waiters();
        }
    }
}

impl<S, R> tower_service::Service<R> for SpreadService<S>
where
    S: tower_service::Service<R, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Response: hyper_util::client::legacy::connect::Connection,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        // The service polled ready is the one that takes the request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let choice: Choice = Arc::new(Mutex::new(None));
        let pending = Pending {
            spread: self.spread.clone(),
            choice: choice.clone(),
        };
        let started = Instant::now();
        Box::pin(CHOICE.scope(choice, async move {
            let result = inner.call(req).await;
            if result.is_ok() {
                // The request whose task this is waited for this connect (if measured).
                super::connect_time::connected(started.elapsed());
            }
            let taken = pending
                .choice
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some((host, chosen, at)) = taken {
                let reached = result.as_ref().ok().and_then(remote_ip);
                let failed = pending.spread.book().outcome(
                    &host,
                    chosen,
                    reached,
                    Instant::now(),
                    at.elapsed(),
                );
                if failed {
                    crate::log::log(crate::log::Level::Warn, || {
                        format!(
                            "{host}: {chosen} failed to connect; set aside for {} s",
                            SET_ASIDE.as_secs()
                        )
                    });
                }
                pending.spread.outcomes.notify_waiters();
            }
            result
        }))
    }
}

/// The address a new connection reached.
fn remote_ip<C: hyper_util::client::legacy::connect::Connection>(conn: &C) -> Option<IpAddr> {
    let mut ext = http::Extensions::new();
    conn.connected().get_extras(&mut ext);
    ext.get::<hyper_util::client::legacy::connect::HttpInfo>()
        .map(|i| i.remote_addr().ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn four() -> Vec<IpAddr> {
        ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
            .iter()
            .map(|s| ip(s))
            .collect()
    }

    #[test]
    fn connections_take_the_least_recently_used_address_first() {
        let (mut b, now) = (Book::default(), Instant::now());
        b.pin("oss.test", &four());
        let mut firsts = Vec::new();
        for _ in 0..8 {
            let order = b.order("oss.test", now, PROBE_WAIT).addrs();
            assert_eq!(order.len(), 4, "every address is offered");
            b.outcome("oss.test", order[0], Some(order[0]), now, MS);
            firsts.push(order[0]);
        }
        assert_eq!(&firsts[..4], &four()[..]);
        assert_eq!(&firsts[4..], &four()[..]);
    }

    #[test]
    fn an_untried_address_is_probed_by_one_connection_at_a_time() {
        let (mut b, now) = (Book::default(), Instant::now());
        b.pin("oss.test", &four());
        // Eight connects at once: the four addresses first, then the ones being probed again
        // only after... none is free: every address is being probed, the least recent first.
        let firsts: Vec<IpAddr> = (0..4)
            .map(|_| b.order("oss.test", now, PROBE_WAIT).addrs()[0])
            .collect();
        assert_eq!(firsts, four());
        // 127.0.0.2 is dead: its connect fell back to the next address.
        b.outcome("oss.test", four()[0], Some(four()[1]), now, MS);
        for a in &four()[1..] {
            b.outcome("oss.test", *a, Some(*a), now, MS);
        }
        // From now on the dead one comes last, for every connection.
        for _ in 0..12 {
            let order = b.order("oss.test", now, PROBE_WAIT).addrs();
            assert_ne!(order[0], four()[0]);
            assert_eq!(*order.last().unwrap(), four()[0]);
            b.outcome("oss.test", order[0], Some(order[0]), now, MS);
        }
    }

    #[test]
    fn a_dead_address_costs_one_failed_connect_among_many_started_at_once() {
        let (mut b, now) = (Book::default(), Instant::now());
        b.pin("oss.test", &four()[..2]);
        // 16 connects start before any ends: the first probes 127.0.0.2, the second
        // 127.0.0.3; the others wait for an outcome.
        assert_eq!(
            b.order("oss.test", now, Duration::ZERO).addrs()[0],
            four()[0]
        );
        assert_eq!(
            b.order("oss.test", now, Duration::ZERO).addrs()[0],
            four()[1]
        );
        for _ in 0..14 {
            assert!(matches!(
                b.order("oss.test", now, Duration::ZERO),
                Order::Wait(_)
            ));
        }
        // 127.0.0.2 is dead: its connect fell back to 127.0.0.3. No other connection starts
        // with it.
        b.outcome("oss.test", four()[0], Some(four()[1]), now, MS);
        for _ in 0..14 {
            let order = b.order("oss.test", now, Duration::ZERO).addrs();
            assert_eq!(order, vec![four()[1], four()[0]]);
        }
        // Past the wait, a connection tries what there is rather than wait longer.
        let mut b = Book::default();
        b.pin("oss.test", &four()[..1]);
        b.order("oss.test", now, Duration::ZERO).addrs();
        assert!(matches!(
            b.order("oss.test", now, Duration::ZERO),
            Order::Wait(_)
        ));
        assert_eq!(
            b.order("oss.test", now, PROBE_WAIT),
            Order::Try(vec![four()[0]])
        );
    }

    #[test]
    fn connections_started_at_once_wait_a_moment_for_a_probe_rather_than_double_up() {
        let (mut b, now) = (Book::default(), Instant::now());
        b.pin("oss.test", &four()[..3]);
        let zero = Duration::ZERO;
        // The first connection proves 127.0.0.2 in 2 ms.
        let first = b.order("oss.test", now, zero).addrs()[0];
        assert_eq!(first, four()[0]);
        b.outcome("oss.test", first, Some(first), now, 2 * MS);
        // Then a burst: 127.0.0.3 and .4 are probed, .2 has its turn again...
        let firsts: Vec<IpAddr> = (0..3)
            .map(|_| b.order("oss.test", now, zero).addrs()[0])
            .collect();
        assert_eq!(
            firsts,
            four()[..3]
                .iter()
                .cycle()
                .skip(1)
                .take(3)
                .copied()
                .collect::<Vec<_>>()
        );
        // ... and the next one's turn is 127.0.0.3, being probed: it waits for the probe (four
        // connect times, at least PROBE_GRACE) instead of taking .2 a second time.
        assert_eq!(b.order("oss.test", now, zero), Order::Wait(PROBE_GRACE));
        assert_eq!(
            b.order("oss.test", now, 20 * MS),
            Order::Wait(PROBE_GRACE - 20 * MS)
        );
        b.outcome("oss.test", four()[1], Some(four()[1]), now, MS);
        assert_eq!(b.order("oss.test", now, 20 * MS).addrs()[0], four()[1]);
        // 127.0.0.4 does not answer: past the grace, a waiting connection takes what works.
        assert!(matches!(b.order("oss.test", now, zero), Order::Wait(_)));
        assert_eq!(b.order("oss.test", now, PROBE_GRACE).addrs()[0], four()[0]);
        // A slow network's grace is longer: four of its fastest connects.
        let mut slow = Book::default();
        slow.pin("oss.test", &four()[..2]);
        let first = slow.order("oss.test", now, zero).addrs()[0];
        slow.outcome("oss.test", first, Some(first), now, 100 * MS);
        slow.order("oss.test", now, zero).addrs();
        slow.order("oss.test", now, zero).addrs();
        assert_eq!(slow.order("oss.test", now, zero), Order::Wait(400 * MS));
        // Never longer than PROBE_WAIT.
        slow.outcome("oss.test", four()[0], Some(four()[0]), now, MS);
        assert_eq!(slow.hosts["oss.test"].grace(), PROBE_GRACE);
        let mut slowest = Book::default();
        slowest.pin("oss.test", &four()[..1]);
        let first = slowest.order("oss.test", now, zero).addrs()[0];
        slowest.outcome("oss.test", first, Some(first), now, PROBE_WAIT);
        assert_eq!(slowest.hosts["oss.test"].grace(), PROBE_WAIT);
    }

    #[test]
    fn a_short_connect_timeout_bounds_the_wait_in_the_resolver() {
        // A 400 ms connect timeout: a connection waits 100 ms at most, in all, whatever the
        // probe's outcome, and keeps 300 ms to connect.
        let (mut b, now) = (Book::new(400 * MS), Instant::now());
        b.pin("oss.test", &four()[..1]);
        let zero = Duration::ZERO;
        assert_eq!(b.order("oss.test", now, zero).addrs(), four()[..1]);
        // Its only address is being probed: wait for the outcome, but not for 1 s.
        assert_eq!(b.order("oss.test", now, zero), Order::Wait(100 * MS));
        assert_eq!(b.order("oss.test", now, 60 * MS), Order::Wait(40 * MS));
        assert_eq!(b.order("oss.test", now, 100 * MS).addrs(), four()[..1]);
        // A slow host's grace (four connects of 200 ms) is bounded the same way.
        let mut slow = Book::new(400 * MS);
        slow.pin("oss.test", &four()[..2]);
        let first = slow.order("oss.test", now, zero).addrs()[0];
        slow.outcome("oss.test", first, Some(first), now, 200 * MS);
        slow.order("oss.test", now, zero).addrs();
        slow.order("oss.test", now, zero).addrs();
        assert_eq!(slow.order("oss.test", now, zero), Order::Wait(100 * MS));
        assert_eq!(slow.order("oss.test", now, 100 * MS).addrs()[0], first);
        // A connect timeout shorter than PROBE_GRACE's four: the bound wins over the grace.
        let mut short = Book::new(100 * MS);
        short.pin("oss.test", &four()[..1]);
        short.order("oss.test", now, zero).addrs();
        assert_eq!(short.order("oss.test", now, zero), Order::Wait(25 * MS));
        // The default connect timeout (5 s) leaves the waits as they were.
        assert_eq!(Book::new(Duration::from_secs(5)).patience, PROBE_WAIT);
    }

    #[test]
    fn a_set_aside_address_comes_back_after_a_while() {
        let (mut b, now) = (Book::default(), Instant::now());
        b.pin("oss.test", &four()[..2]);
        let first = b.order("oss.test", now, PROBE_WAIT).addrs()[0];
        b.outcome("oss.test", first, None, now, MS);
        assert_ne!(b.order("oss.test", now, PROBE_WAIT).addrs()[0], first);
        let later = now + SET_ASIDE + Duration::from_secs(1);
        // Back, and the least recently used: the next connection probes it.
        assert_eq!(b.order("oss.test", later, PROBE_WAIT).addrs()[0], first);
    }

    #[test]
    fn a_name_is_resolved_again_after_its_ttl_and_known_addresses_keep_their_state() {
        let (mut b, now) = (Book::default(), Instant::now());
        b.resolved("oss.test", &four()[..2], now);
        assert!(b.fresh("oss.test", now));
        assert!(!b.fresh("oss.test", now + TTL));
        let first = b.order("oss.test", now, PROBE_WAIT).addrs()[0];
        b.outcome("oss.test", first, None, now, MS);
        // The new answer has one new address and the failed one: still set aside.
        b.resolved("oss.test", &[four()[0], four()[2]], now + TTL);
        let order = b.order("oss.test", now + TTL, PROBE_WAIT).addrs();
        assert_eq!(order, vec![four()[2], four()[0]]);
        // Pinned addresses never expire.
        b.pin("pinned.test", &four());
        assert!(b.fresh("pinned.test", now + 100 * TTL));
    }

    #[tokio::test]
    async fn a_stale_name_serves_its_addresses_while_it_is_resolved_again() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        // The name service answers once, then stops answering (a resolver gone unreachable:
        // getaddrinfo takes its timeouts, seconds, to fail).
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let lookup: Lookup = Arc::new(move |_host| {
            let n = counted.fetch_add(1, SeqCst);
            Box::pin(async move {
                if n == 0 {
                    Ok(vec![ip("127.0.0.2")])
                } else {
                    std::future::pending().await
                }
            })
        });
        let spread = Spread::with_lookup(&[], Duration::from_secs(5), lookup);
        let addrs = spread.addresses("oss.test").await.unwrap();
        assert_eq!(addrs, vec![ip("127.0.0.2")]);
        spread
            .book()
            .outcome("oss.test", addrs[0], Some(addrs[0]), Instant::now(), MS);
        // Its TTL passes: the next connections go on with the addresses known (they waited
        // for the name service before, and their connect timeout ran out meanwhile).
        spread.book().hosts.get_mut("oss.test").unwrap().expires = Some(Instant::now());
        for _ in 0..3 {
            let again = tokio::time::timeout(TTL, spread.addresses("oss.test"))
                .await
                .expect("a connection waited for the name service");
            assert_eq!(again.unwrap(), addrs);
        }
        // One re-resolution at a time; another when it gave nothing for RESOLVE_RETRY.
        assert_eq!(calls.load(SeqCst), 2);
        let book = spread.book();
        let later = Instant::now() + RESOLVE_RETRY;
        assert!(book.fresh("oss.test", Instant::now()));
        assert!(!book.fresh("oss.test", later));
    }

    #[test]
    fn pinned_entries_cover_their_host_and_its_buckets_virtual_hosts() {
        let pins = vec![crate::config::ResolveEntry::parse("oss.test:80:127.0.0.2").unwrap()];
        assert!(pinned_for(&pins, "oss.test").is_some());
        assert!(pinned_for(&pins, "OSS.Test").is_some());
        assert!(pinned_for(&pins, "bucket.oss.test").is_some());
        assert!(pinned_for(&pins, "a.b.oss.test").is_none());
        assert!(pinned_for(&pins, "xoss.test").is_none());
        assert!(pinned_for(&pins, "other.test").is_none());
    }
}
