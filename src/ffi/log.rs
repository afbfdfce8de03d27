//! Logging: the level and the sink (`oss_log_cb`).

use std::ffi::{c_char, c_void, CString};

use crate::ffi::boundary::{ffi_boundary, PanicDefault, UserData};
use crate::log::Level;

/// Log levels, in the C++ SDK's order. Values are fixed.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_log_level_t {
    OSS_LOG_OFF = 0,
    OSS_LOG_FATAL = 1,
    OSS_LOG_ERROR = 2,
    OSS_LOG_WARN = 3,
    OSS_LOG_INFO = 4,
    OSS_LOG_DEBUG = 5,
    OSS_LOG_TRACE = 6,
}

impl From<Level> for oss_log_level_t {
    fn from(l: Level) -> Self {
        use oss_log_level_t::*;
        match l {
            Level::Off => OSS_LOG_OFF,
            Level::Fatal => OSS_LOG_FATAL,
            Level::Error => OSS_LOG_ERROR,
            Level::Warn => OSS_LOG_WARN,
            Level::Info => OSS_LOG_INFO,
            Level::Debug => OSS_LOG_DEBUG,
            Level::Trace => OSS_LOG_TRACE,
        }
    }
}

/// A log sink: `level`, the NUL-terminated `message` (borrowed for the call only) and the
/// `user_data` given to `oss_set_log_callback`. Called from library threads or the calling
/// thread, one call at a time, with no lock of the library held: it may call back into the SDK
/// (lines logged meanwhile are delivered after it returns). A blocking call (a request, a
/// download) made from it while it runs on a library thread fails at once with
/// `OSS_ERROR_KIND_INVALID_ARGUMENT`; never a deadlock.
#[allow(non_camel_case_types)]
pub type oss_log_cb = Option<
    unsafe extern "C" fn(level: oss_log_level_t, message: *const c_char, user_data: *mut c_void),
>;

/// Sets the log level (values of `oss_log_level_t`; larger values mean `OSS_LOG_TRACE`).
/// Default: `OSS_LOG_OFF`, or `OSS_SDK_LOG_LEVEL` from the environment. Threads: any.
#[no_mangle]
pub extern "C" fn oss_set_log_level(level: u32) {
    ffi_boundary! { crate::log::set_level(Level::from_u8(level.min(6) as u8)) }
}

/// The current log level.
#[no_mangle]
pub extern "C" fn oss_get_log_level() -> oss_log_level_t {
    ffi_boundary! { crate::log::level().into() }
}

impl PanicDefault for oss_log_level_t {
    fn on_panic(_: String) -> Self {
        oss_log_level_t::OSS_LOG_OFF
    }
}

/// Sets the log sink (NULL `cb`: lines go to stderr again). `user_data_free`, if not NULL, is
/// called once with `user_data` when the sink is replaced. Secrets never appear in log lines.
/// Threads: any; the callback is called from library threads, serialised.
///
/// # Safety
/// `cb` must be callable from any thread with `user_data` until it is replaced.
#[no_mangle]
pub unsafe extern "C" fn oss_set_log_callback(
    cb: oss_log_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
) {
    ffi_boundary! {
        match cb {
            None => {
                // Keep user data semantics: free it right away if given with no callback.
                drop(UserData { ptr: user_data, free: user_data_free });
                crate::log::set_sink(None);
            }
            Some(f) => {
                let data = UserData { ptr: user_data, free: user_data_free };
                // Serialised without a lock held during the call: the callback may re-enter.
                crate::log::set_sink(Some(crate::log::serialized(move |level: Level, msg: &str| {
                    let line = CString::new(msg.replace('\0', " ")).unwrap_or_default();
                    // SAFETY: f was given for use with data.ptr from any thread (the contract).
                    unsafe { f(level.into(), line.as_ptr(), data.get()) };
                })));
            }
        }
    }
}
