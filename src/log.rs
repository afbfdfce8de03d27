//! The library's log: a level and an optional sink. Default: off, unless `OSS_SDK_LOG_LEVEL` says
//! otherwise (then lines go to stderr until a sink is set). Nothing logged ever contains a secret.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

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
}
