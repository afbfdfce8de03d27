//! `oss_credentials_provider_t`: static, environment and C-callback credential providers, the
//! CLI profile / credentials file, the ECS RAM role, OIDC and RAM role ARN (STS), and the
//! default chain; `oss_credentials_provider_get` reads any of them.

use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Mutex};

use crate::credentials::sts::{OidcSettings, RamRoleArnSettings};
use crate::credentials::{
    profile, Credentials, CredentialsProvider, DefaultChainProvider, EcsRamRoleProvider,
    EnvironmentProvider, OidcRoleProvider, RamRoleArnProvider, StaticProvider,
};
use crate::error::{Error, Result};
use crate::ffi::boundary::{
    arg_str, check_out, ffi_boundary, ffi_try, opt_str, write_out, UserData,
};
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{
    free_box, lend_mut, to_boxed_mut_ptr, try_mut, try_ref, Castable, OwnershipBox, OwnershipRef,
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
        // SAFETY: the export's `# Safety` contract: `access_key_id` and `access_key_secret` are
        // NULL (refused) or NUL-terminated and outlive the call (UTF-8 checked); `security_token`
        // is NULL (None) or NUL-terminated and outlives the call (UTF-8 checked).
        let (id, secret, token) = unsafe {
            (
                arg_str(access_key_id, "access_key_id")?,
                arg_str(access_key_secret, "access_key_secret")?,
                opt_str(security_token, "security_token")?,
            )
        };
        let p = StaticProvider::new(id, secret, token.filter(|t| !t.is_empty()).map(String::from));
        p.credentials()?.validate()?;
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
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
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
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
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
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

/// Writes a new provider to `out` (checked non-NULL by the caller).
///
/// # Safety
/// `out` non-NULL and writable.
unsafe fn hand_out(out: *mut *mut oss_credentials_provider_t, p: Arc<dyn CredentialsProvider>) {
    // SAFETY: out checked non-NULL and writable per the caller's contract.
    unsafe { write_out(out, to_boxed_mut_ptr::<oss_credentials_provider_t>(p)) };
}

/// Credentials from a profile file, read now: the Alibaba Cloud CLI's `config.json` (what
/// `aliyun configure` writes) or the ini credentials file (`~/.alibabacloud/credentials`),
/// told apart by content (JSON or not). `path` NULL: `~/.aliyun/config.json`. `profile` NULL:
/// `ALIBABA_CLOUD_PROFILE`, else the file's `current` (ini: `default`). CLI modes `AK`,
/// `StsToken`, `RamRoleArn`, `ChainableRamRoleArn`, `EcsRamRole`, `OIDC` (the last four fetch
/// and refresh through STS or the metadata service); other modes fail now with
/// `InvalidCredentials` naming the mode.
///
/// Ownership: `*provider_out` is the caller's, freed with `oss_credentials_provider_free`.
/// Threads: any. Errors: NULL out, bad UTF-8, unreadable file, missing profile, unsupported mode.
///
/// # Safety
/// Strings NULL or NUL-terminated; `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_profile(
    path: *const c_char,
    profile: *const c_char,
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        // SAFETY: the export's `# Safety` contract: `path` and `profile` are NULL (None) or
        // NUL-terminated and outlive the call (UTF-8 checked).
        let (path, name) = unsafe { (opt_str(path, "path")?, opt_str(profile, "profile")?) };
        let name = name.filter(|n| !n.is_empty());
        let p: Arc<dyn CredentialsProvider> = match path.filter(|p| !p.is_empty()) {
            Some(path) => profile::from_file(std::path::Path::new(path), name)?,
            None => Arc::new(profile::CliProfileProvider::new(None, name)?),
        };
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
        unsafe { hand_out(provider_out, p) };
        Ok(())
    }
}

/// The ECS instance RAM role from the metadata service (`http://100.100.100.200`, or
/// `OSS_FFI_ECS_METADATA_ENDPOINT`), IMDSv2 token first, fetched on the first request and
/// refreshed 15 minutes before expiry. `role` NULL or "": `ALIBABA_CLOUD_ECS_METADATA`, else the
/// instance's role. Nothing is fetched now.
///
/// Ownership: as `oss_credentials_provider_new_profile`. Threads: any.
/// Errors: NULL out, bad UTF-8, an invalid role name, `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`.
///
/// # Safety
/// `role` NULL or NUL-terminated; `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_ecs_ram_role(
    role: *const c_char,
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        // SAFETY: the export's `# Safety` contract: `role` is NULL (None) or NUL-terminated and
        // outlives the call (UTF-8 checked).
        let role = unsafe { opt_str(role, "role")? };
        let p = EcsRamRoleProvider::new(role, None)?;
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
        unsafe { hand_out(provider_out, Arc::new(p)) };
        Ok(())
    }
}

/// OIDC role assumption (RRSA): STS `AssumeRoleWithOIDC` with the token read from
/// `oidc_token_file` at every refresh. Each argument NULL or "": from
/// `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`, `ALIBABA_CLOUD_OIDC_TOKEN_FILE`,
/// `ALIBABA_CLOUD_ROLE_SESSION_NAME` (the session name defaults to `oss-ffi-<time>`). STS:
/// `OSS_FFI_STS_ENDPOINT`, else `ALIBABA_CLOUD_STS_REGION`'s, else `sts.aliyuncs.com`. Nothing
/// is fetched now; refreshed 15 minutes before expiry.
///
/// Ownership: as `oss_credentials_provider_new_profile`. Threads: any.
/// Errors: NULL out, bad UTF-8, a setting missing from both the arguments and the environment.
///
/// # Safety
/// Strings NULL or NUL-terminated; `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_oidc_role(
    role_arn: *const c_char,
    oidc_provider_arn: *const c_char,
    oidc_token_file: *const c_char,
    role_session_name: *const c_char,
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        // SAFETY: the export's `# Safety` contract: `role_arn` and `oidc_provider_arn` and
        // `oidc_token_file` are NULL (None) or NUL-terminated and outlive the call (UTF-8 checked).
        let (role_arn, provider_arn, token_file, session) = unsafe {
            (
                opt_str(role_arn, "role_arn")?,
                opt_str(oidc_provider_arn, "oidc_provider_arn")?,
                opt_str(oidc_token_file, "oidc_token_file")?,
                opt_str(role_session_name, "role_session_name")?,
            )
        };
        let p = OidcRoleProvider::new(OidcSettings {
            role_arn: role_arn.map(String::from),
            oidc_provider_arn: provider_arn.map(String::from),
            oidc_token_file: token_file.map(String::from),
            role_session_name: session.map(String::from),
            ..Default::default()
        })?;
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
        unsafe { hand_out(provider_out, Arc::new(p)) };
        Ok(())
    }
}

/// RAM role assumption: STS `AssumeRole` signed (RPC signature) with the given access key
/// (`security_token` NULL or "" unless it is an STS one). `role_session_name` NULL or "":
/// `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `oss-ffi-<time>`. STS as for
/// `oss_credentials_provider_new_oidc_role`. Nothing is fetched now; refreshed 15 minutes
/// before expiry.
///
/// Ownership: as `oss_credentials_provider_new_profile`. Threads: any.
/// Errors: NULL id/secret/role_arn/out, bad UTF-8, control characters, an empty role ARN.
///
/// # Safety
/// Strings NULL or NUL-terminated; `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_ram_role_arn(
    access_key_id: *const c_char,
    access_key_secret: *const c_char,
    security_token: *const c_char,
    role_arn: *const c_char,
    role_session_name: *const c_char,
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        // SAFETY: the export's `# Safety` contract: `access_key_id` and `access_key_secret` are
        // NULL (refused) or NUL-terminated and outlive the call (UTF-8 checked); `security_token`
        // is NULL (None) or NUL-terminated and outlives the call (UTF-8 checked).
        let (id, secret, token, role_arn, session) = unsafe {
            (
                arg_str(access_key_id, "access_key_id")?,
                arg_str(access_key_secret, "access_key_secret")?,
                opt_str(security_token, "security_token")?,
                arg_str(role_arn, "role_arn")?,
                opt_str(role_session_name, "role_session_name")?,
            )
        };
        let source = StaticProvider::new(id, secret, token.filter(|t| !t.is_empty()).map(String::from));
        let c = source.credentials()?;
        c.validate()?;
        if c.is_anonymous() {
            return Err(Error::invalid_credentials("RAM role ARN: the access key id and secret are empty"));
        }
        let p = RamRoleArnProvider::new(
            Arc::new(source),
            RamRoleArnSettings {
                role_arn: role_arn.to_string(),
                role_session_name: session.map(String::from),
                ..Default::default()
            },
        )?;
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
        unsafe { hand_out(provider_out, Arc::new(p)) };
        Ok(())
    }
}

/// The default chain of the official credentials libraries, walked on the first request:
/// environment (`ALIBABA_CLOUD_ACCESS_KEY_ID`..., then `OSS_ACCESS_KEY_ID`...), OIDC (when its
/// three variables are set), `~/.aliyun/config.json`, `~/.alibabacloud/credentials`, the ECS
/// RAM role. The first step that gives credentials is kept. Never fails now.
///
/// Ownership: as `oss_credentials_provider_new_profile`. Threads: any.
/// Errors: NULL out.
///
/// # Safety
/// `provider_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_new_default_chain(
    provider_out: *mut *mut oss_credentials_provider_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(provider_out, "provider_out")?;
        // SAFETY: the export's `# Safety` contract: `provider_out` is NULL (skipped) or writable
        // for one value (required outs were checked non-NULL first).
        unsafe { hand_out(provider_out, Arc::new(DefaultChainProvider::new())) };
        Ok(())
    }
}

/// Asks a provider for its credentials now (fetching or refreshing them if needed; waits up to
/// the provider's timeouts). For layers that wrap a provider in their own (the C++
/// `NativeCredentialsProvider`). Allowed from a credentials callback (it runs on a library
/// thread). The SDK must be initialised for providers that fetch.
///
/// Ownership: on success the three strings are the caller's, each freed with
/// `oss_string_free` (`*security_token_out` is "" without STS); nothing is written on failure.
/// Threads: any; the provider shares one refresh between concurrent callers.
/// Errors: NULL provider or out, `InvalidCredentials` (with the reason, never a secret).
///
/// # Safety
/// `provider` NULL or a live provider; outs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_credentials_provider_get(
    provider: *const oss_credentials_provider_t,
    access_key_id_out: *mut *mut c_char,
    access_key_secret_out: *mut *mut c_char,
    security_token_out: *mut *mut c_char,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(access_key_id_out, "access_key_id_out")?;
        check_out(access_key_secret_out, "access_key_secret_out")?;
        check_out(security_token_out, "security_token_out")?;
        // SAFETY: the export's `# Safety` contract: `provider` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows from any thread).
        let p = unsafe { try_ref(provider, "provider")? };
        let c = p.credentials()?;
        c.validate()?;
        let owned = |s: &str| {
            CString::new(s).map_err(|_| Error::invalid_credentials("credentials contain a NUL byte"))
        };
        let (id, secret, token) = (
            owned(&c.access_key_id)?,
            owned(&c.access_key_secret)?,
            owned(&c.security_token)?,
        );
        // SAFETY: the outs were checked non-NULL, writable per the contract; each string is
        // freed by oss_string_free (CString::from_raw).
        unsafe {
            write_out(access_key_id_out, id.into_raw());
            write_out(access_key_secret_out, secret.into_raw());
            write_out(security_token_out, token.into_raw());
        }
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
