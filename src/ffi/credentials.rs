//! `oss_credentials_provider_t`: static, environment and C-callback credential providers.

use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex};

use crate::credentials::{Credentials, CredentialsProvider, EnvironmentProvider, StaticProvider};
use crate::error::{Error, Result};
use crate::ffi::boundary::{
    arg_str, check_out, ffi_boundary, ffi_try, opt_str, write_out, UserData,
};
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{
    free_box, lend_mut, to_boxed_mut_ptr, try_mut, Castable, OwnershipBox, OwnershipRef,
};

/// A source of credentials, asked before every request.
///
/// Ownership: Box; made by an `oss_credentials_provider_new_*` call, freed by
/// `oss_credentials_provider_free`. A client keeps its own reference, so the provider may be
/// freed right after `oss_client_new`. Threads: immutable after creation; any thread.
#[allow(non_camel_case_types)]
pub struct oss_credentials_provider_t {
    _private: [u8; 0],
}

impl Castable for oss_credentials_provider_t {
    type Ownership = OwnershipBox;
    /// A client made from the provider holds another count of this Arc.
    type RustType = Arc<dyn CredentialsProvider>;
}

/// Credentials being filled in by a credentials callback. Borrowed: valid only during the
/// callback that received it; not thread-safe.
#[allow(non_camel_case_types)]
pub struct oss_credentials_t {
    _private: [u8; 0],
}

impl Castable for oss_credentials_t {
    type Ownership = OwnershipRef;
    /// Filled by `oss_credentials_set`.
    type RustType = Option<Credentials>;
}

/// Asked for credentials before each request: fill `out` with `oss_credentials_set` and return 0;
/// any other return value fails the request (code `InvalidCredentials`). Called from library
/// threads, one call at a time per provider; must be quick and must not call the SDK otherwise.
#[allow(non_camel_case_types)]
pub type oss_credentials_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, out: *mut oss_credentials_t) -> i32>;

/// Fixed credentials. `security_token` may be NULL or "" (no STS).
/// Errors: NULL id/secret or out, bad UTF-8, control characters, one of id/secret empty.
///
/// # Safety
/// Strings NULL or NUL-terminated; `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_static(
    access_key_id: *const c_char,
    access_key_secret: *const c_char,
    security_token: *const c_char,
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        // SAFETY: each string NULL or NUL-terminated per the contract.
        let (id, secret, token) = unsafe {
            (
                arg_str(access_key_id, "access_key_id")?,
                arg_str(access_key_secret, "access_key_secret")?,
                opt_str(security_token, "security_token")?,
            )
        };
        let p = StaticProvider::new(id, secret, token.filter(|t| !t.is_empty()).map(String::from));
        p.credentials()?.validate()?;
        // SAFETY: provider_out checked non-NULL, writable per the contract.
        unsafe { write_out(provider_out, to_boxed_mut_ptr::<oss_credentials_provider_t>(Arc::new(p))) };
        Ok(())
    }
}

/// Credentials from `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and optional `OSS_SESSION_TOKEN`,
/// read before each request. Fails now if they are not set.
///
/// # Safety
/// `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_env(
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        EnvironmentProvider.credentials()?.validate()?;
        // SAFETY: provider_out checked non-NULL, writable per the contract.
        unsafe { write_out(provider_out, to_boxed_mut_ptr::<oss_credentials_provider_t>(Arc::new(EnvironmentProvider))) };
        Ok(())
    }
}

struct CallbackProvider {
    cb: unsafe extern "C" fn(*mut c_void, *mut oss_credentials_t) -> i32,
    data: UserData,
    serial: Mutex<()>,
}

impl CredentialsProvider for CallbackProvider {
    fn credentials(&self) -> Result<Credentials> {
        let _one_at_a_time = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Option<Credentials> = None;
        // SAFETY: cb was registered with data.ptr for calls from any thread; `out` lives across the call.
        let rc = unsafe { (self.cb)(self.data.get(), lend_mut(&mut out)) };
        if rc != 0 {
            return Err(Error::invalid_credentials(format!(
                "the credentials callback failed (returned {rc})"
            )));
        }
        out.ok_or_else(|| {
            Error::invalid_credentials(
                "the credentials callback returned 0 without calling oss_credentials_set",
            )
        })
    }
}

/// A provider that calls `cb(user_data, out)` before each request (rotating STS credentials).
/// `user_data_free`, if not NULL, is called once with `user_data` when the last client using the
/// provider is freed.
///
/// # Safety
/// `cb` must be callable from any thread with `user_data` until `user_data_free` is called.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_callback(
    cb: oss_credentials_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        let data = UserData { ptr: user_data, free: user_data_free };
        let cb = cb.ok_or_else(|| Error::null_argument("the argument 'cb' must not be NULL"))?;
        let p = CallbackProvider { cb, data, serial: Mutex::new(()) };
        // SAFETY: provider_out checked non-NULL, writable per the contract.
        unsafe { write_out(provider_out, to_boxed_mut_ptr::<oss_credentials_provider_t>(Arc::new(p))) };
        Ok(())
    }
}

/// Fills credentials from inside a credentials callback. `security_token` may be NULL.
/// Errors: NULL `out`/id/secret, bad UTF-8, control characters.
///
/// # Safety
/// `out` is the pointer the callback received; strings NULL or NUL-terminated (copied).
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_set(
    out: *mut oss_credentials_t,
    access_key_id: *const c_char,
    access_key_secret: *const c_char,
    security_token: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: out is the live pointer given to the callback; strings per the contract.
        let (out, id, secret, token) = unsafe {
            (
                try_mut(out, "out")?,
                arg_str(access_key_id, "access_key_id")?,
                arg_str(access_key_secret, "access_key_secret")?,
                opt_str(security_token, "security_token")?,
            )
        };
        let c = Credentials::new(id, secret, token.unwrap_or(""));
        c.validate()?;
        *out = Some(c);
        Ok(())
    }
}

/// Frees a provider. NULL is a no-op. Clients made from it keep working.
///
/// # Safety
/// NULL or from an `oss_credentials_provider_new_*` call, freed once.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_free(provider: *mut oss_credentials_provider_t) {
    ffi_boundary! {
        // SAFETY: provider is NULL or from an oss_credentials_provider_new_* call
        // (to_boxed_mut_ptr), freed once.
        unsafe { free_box(provider) };
    }
}
