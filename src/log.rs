//! The library's log: a level and an optional sink. Default: off, unless `OSS_SDK_LOG_LEVEL` says
//! otherwise (then lines go to stderr until a sink is set). Nothing logged ever contains a secret.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Levels, in the C++ SDK's order (`LogOff` .. `LogAll`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Off = 0,
    Fatal = 1,
    Error = 2,
    Warn = 3,
    Info = 4,
    Debug = 5,
    Trace = 6,
}

impl Level {
    pub fn from_u8(v: u8) -> Level {
        match v {
            0 => Level::Off,
            1 => Level::Fatal,
            2 => Level::Error,
            3 => Level::Warn,
            4 => Level::Info,
            5 => Level::Debug,
            _ => Level::Trace,
        }
    }

    /// `off|fatal|error|warn|info|debug|trace|all` (any case, optional `Log` prefix) or 0..7.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_prefix("log").unwrap_or(&s);
        Some(match s {
            "off" | "0" => Level::Off,
            "fatal" | "1" => Level::Fatal,
            "error" | "2" => Level::Error,
            "warn" | "warning" | "3" => Level::Warn,
            "info" | "4" => Level::Info,
            "debug" | "5" => Level::Debug,
            "trace" | "all" | "6" | "7" => Level::Trace,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Off => "OFF",
            Level::Fatal => "FATAL",
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }
}

pub type Sink = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// Lines waiting for a serialised sink at most; beyond, lines are counted and dropped.
const MAX_QUEUED: usize = 4096;

/// A sink that calls `f` one line at a time without ever holding a lock while `f` runs, so `f`
/// may call back into the library (even on a thread that the library is waiting for): a line
/// logged while `f` runs is queued and delivered after it returns, by whichever thread is
/// delivering, in order. Never blocks a logging thread for longer than a queue push.
pub fn serialized<F: Fn(Level, &str) + Send + Sync + 'static>(f: F) -> Sink {
    let s = Arc::new(Serial {
        queue: Mutex::new(VecDeque::new()),
        dropped: AtomicUsize::new(0),
        deliverer: AtomicU32::new(0),
        f,
    });
    Arc::new(move |level, msg| s.deliver(level, msg))
}

struct Serial<F> {
    queue: Mutex<VecDeque<(Level, String)>>,
    dropped: AtomicUsize,
    /// The process id of the thread delivering lines (0: none). A process id, not a flag, so that
    /// a `fork()`ed child does not wait for a deliverer that exists only in its parent.
    deliverer: AtomicU32,
    f: F,
}

/// Releases the deliverer role, also if `f` panics.
struct Release<'a>(&'a AtomicU32);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.store(0, Ordering::SeqCst);
    }
}

impl<F: Fn(Level, &str)> Serial<F> {
    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<(Level, String)>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deliver(&self, level: Level, msg: &str) {
        {
            let mut q = self.queue();
            if q.len() >= MAX_QUEUED {
                self.dropped.fetch_add(1, Ordering::SeqCst);
            } else {
                q.push_back((level, msg.to_string()));
            }
        }
        let me = std::process::id();
        loop {
            let current = self.deliverer.load(Ordering::SeqCst);
            if current == me {
                return; // a thread of this process is delivering (maybe this one, re-entered)
            }
            if self
                .deliverer
                .compare_exchange(current, me, Ordering::SeqCst, Ordering::SeqCst)
                .is_err()
            {
                continue;
            }
            {
                let _release = Release(&self.deliverer);
                loop {
                    let next = self.queue().pop_front();
                    let Some((l, m)) = next else { break };
                    (self.f)(l, &m);
                }
                let dropped = self.dropped.swap(0, Ordering::SeqCst);
                if dropped > 0 {
                    (self.f)(
                        Level::Warn,
                        &format!("{dropped} log lines were dropped (the log callback is too slow)"),
                    );
                }
            }
            // A line queued after the last pop but before the release is delivered too.
            if self.queue().is_empty() {
                return;
            }
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Off as u8);
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn level() -> Level {
    Level::from_u8(LEVEL.load(Ordering::Relaxed))
}

/// Applies `OSS_SDK_LOG_LEVEL` when set and valid (called at SDK initialisation).
pub fn apply_env() {
    if let Some(l) = std::env::var("OSS_SDK_LOG_LEVEL")
        .ok()
        .and_then(|v| Level::parse(&v))
    {
        set_level(l);
    }
}

/// Replaces the sink; `None` restores stderr.
pub fn set_sink(sink: Option<Sink>) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = sink;
}

pub fn enabled(level: Level) -> bool {
    level != Level::Off && level <= self::level()
}

/// Logs a line built lazily (nothing is formatted when the level is off).
pub fn log(level: Level, message: impl FnOnce() -> String) {
    if !enabled(level) {
        return;
    }
    let msg = message();
    let sink = SINK.read().unwrap_or_else(|e| e.into_inner()).clone();
    match sink {
        Some(s) => s(level, &msg),
        None => eprintln!("[oss-ffi {}] {msg}", level.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_levels() {
        assert_eq!(Level::parse("LogDebug"), Some(Level::Debug));
        assert_eq!(Level::parse("warn"), Some(Level::Warn));
        assert_eq!(Level::parse("7"), Some(Level::Trace));
        assert_eq!(Level::parse("loud"), None);
    }

    #[test]
    fn a_serialized_sink_may_log_from_inside_itself() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink: Arc<Mutex<Option<Sink>>> = Arc::new(Mutex::new(None));
        let (seen2, sink2) = (seen.clone(), sink.clone());
        let s = serialized(move |_, m| {
            seen2.lock().unwrap().push(m.to_string());
            if m == "outer" {
                // Re-entry on the same thread: queued, delivered after this call returns.
                let inner = sink2.lock().unwrap().clone().unwrap();
                inner(Level::Info, "inner");
                assert_eq!(seen2.lock().unwrap().len(), 1, "not delivered re-entrantly");
                // Another thread logging meanwhile is not blocked.
                let inner = sink2.lock().unwrap().clone().unwrap();
                std::thread::spawn(move || inner(Level::Info, "other thread"))
                    .join()
                    .unwrap();
            }
        });
        *sink.lock().unwrap() = Some(s.clone());
        s(Level::Info, "outer");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen, vec!["outer", "inner", "other thread"]);
        *sink.lock().unwrap() = None;
    }
}
