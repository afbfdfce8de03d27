//! The SDK lifecycle: version, initialise, shut down.

use std::ffi::c_char;

use crate::ffi::boundary::{ffi_boundary, ffi_try};
use crate::ffi::error::oss_error_t;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version, e.g. "0.1.0". Static: never free it. Threads: any.
#[no_mangle]
pub extern "C" fn oss_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// Initialises the SDK: creates the global runtime. Must be called before any client call.
/// Idempotent and thread-safe; may be called again after `oss_shutdown_sdk`. Also applies
/// `OSS_SDK_LOG_LEVEL` from the environment.
///
/// fork(): a child process does not inherit a working SDK (the runtime's threads stay in the
/// parent). Its calls fail at once with `OSS_ERROR_KIND_NOT_INITIALIZED` until it calls
/// `oss_initialize_sdk`, which starts a fresh runtime and leaves the parent's alone. Clients made
/// before the fork cannot be used in the child (their calls fail with
/// `OSS_ERROR_KIND_INVALID_ARGUMENT`; `oss_client_free` only forgets them there): make new ones.
/// Fork while no other thread is inside an SDK call.
///
/// Errors: `OSS_ERROR_KIND_IO` when the runtime's threads cannot be started.
#[no_mangle]
pub extern "C" fn oss_initialize_sdk() -> *mut oss_error_t {
    ffi_try! { crate::runtime::initialize() }
}

/// Shuts the SDK down: cancels every running call (they return `OSS_ERROR_KIND_CANCELLED`),
/// stops the runtime's threads. Later calls fail with `OSS_ERROR_KIND_NOT_INITIALIZED` until
/// `oss_initialize_sdk` is called again. Idempotent and thread-safe. Handles stay valid and must
/// still be freed.
#[no_mangle]
pub extern "C" fn oss_shutdown_sdk() {
    ffi_boundary! { crate::runtime::shutdown() }
}

/// Whether the SDK is initialised in this process (false in a `fork()`ed child until it calls
/// `oss_initialize_sdk`).
#[no_mangle]
pub extern "C" fn oss_is_sdk_initialized() -> bool {
    ffi_boundary! { crate::runtime::is_initialized() }
}
