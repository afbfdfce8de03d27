//! `oss_client_t`: a client and the calls made with it.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{curl, Error, ErrorKind, Result};
use crate::ffi::boundary::{arg_str, check_out, ffi_boundary, ffi_try, write_out, UserData};
use crate::ffi::config::oss_config_t;
use crate::ffi::credentials::oss_credentials_provider_t;
use crate::ffi::download_request::oss_download_request_t;
use crate::ffi::error::oss_error_t;
use crate::ffi::get_object_request::{oss_get_object_request_t, GetObjectParams};
use crate::ffi::handle::{
    clone_arc, opt_ref, take_arc, to_arc_const_ptr, try_ref, Castable, OwnershipArc,
};
use crate::ffi::meta::oss_object_meta_t;
use crate::ffi::metrics::oss_request_stats_t;
use crate::object::{ObjectMeta, ObjectRequest};
use crate::progress::ProgressFn;

/// A client for one endpoint with one credentials provider and configuration.
///
/// Ownership: Arc; made by `oss_client_new`, another reference by `oss_client_clone`, each
/// released by `oss_client_free`. Threads: every call takes `const oss_client_t *` and may run
/// concurrently from any number of threads (one client is meant to be shared).
#[allow(non_camel_case_types)]
pub struct oss_client_t {
    _private: [u8; 0],
}

impl Castable for oss_client_t {
    type Ownership = OwnershipArc;
    type RustType = Client;
}

/// Writes received bytes: return 0 to continue, anything else to abort (`ClientError:200023`).
/// Called from a library worker thread, in order, one call at a time.
#[allow(non_camel_case_types)]
pub type oss_write_cb =
    Option<unsafe extern "C" fn(data: *const u8, len: usize, user_data: *mut c_void) -> i32>;

/// Makes a client for `endpoint` ("host", "http://host:port", "https://host"; no scheme = http).
/// `config` may be NULL (defaults); it and `credentials` are copied/shared, so both may be freed
/// right after. Sends nothing. Errors: not initialised, NULL/bad-UTF-8 arguments, invalid
/// endpoint or configuration, unreadable CA file.
///
/// # Safety
/// Pointers NULL or live; `client_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_new(
    endpoint: *const c_char,
    credentials: *const oss_credentials_provider_t,
    config: *const oss_config_t,
    client_out: *mut *const oss_client_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(client_out, "client_out")?;
        crate::runtime::shutdown_token()?;
        // SAFETY: the export's `# Safety` contract: `endpoint` is NULL (refused) or NUL-terminated
        // and outlives the call (UTF-8 checked); `credentials` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared (as `const` allows from any thread).
        let (endpoint, creds) = unsafe { (arg_str(endpoint, "endpoint")?, try_ref(credentials, "credentials")?) };
        // SAFETY: the export's `# Safety` contract: `config` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        let config = unsafe { opt_ref(config) }.cloned().unwrap_or_default();
        let client = Client::new(endpoint, Arc::clone(creds), config)?;
        // SAFETY: the export's `# Safety` contract: `client_out` is NULL (skipped) or writable for
        // one value (required outs were checked non-NULL first).
        unsafe { write_out(client_out, to_arc_const_ptr::<oss_client_t>(client)) };
        Ok(())
    }
}

/// Another reference to the same client (NULL for NULL); release it with `oss_client_free`.
///
/// # Safety
/// `client` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_client_clone(client: *const oss_client_t) -> *const oss_client_t {
    ffi_boundary! {
        // SAFETY: client is NULL or from oss_client_new/oss_client_clone (to_arc_const_ptr) and
        // live; clone_arc raises the count and returns the same pointer (NULL for NULL).
        unsafe { clone_arc(client) }
    }
}

/// Releases one reference. NULL is a no-op. In a process `fork()`ed after the client was made,
/// the reference is only forgotten: the client's connections belong to the parent.
///
/// # Safety
/// NULL or from `oss_client_new`/`oss_client_clone`, each released once, not while a call on
/// that reference runs.
#[no_mangle]
pub unsafe extern "C" fn oss_client_free(client: *const oss_client_t) {
    ffi_boundary! {
        // SAFETY: client is NULL or from oss_client_new/oss_client_clone (to_arc_const_ptr),
        // released once.
        if let Some(c) = unsafe { take_arc(client) } {
            if c.made_in_this_process() {
                drop(c);
            } else {
                // Dropping it would close sockets registered with the parent's event loop.
                std::mem::forget(c);
            }
        }
    }
}

/// Sets the V4 signing region ("cn-hangzhou"). Affects later requests of every reference.
///
/// # Safety
/// `client` NULL or live; `region` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_client_set_region(
    client: *const oss_client_t,
    region: *const c_char,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `client` is NULL (refused) or a live handle not
        // freed during the call, and only borrowed shared (as `const` allows from any thread);
        // `region` is NULL (refused) or NUL-terminated and outlives the call (UTF-8 checked).
        let (c, r) = unsafe { (try_ref(client, "client")?, arg_str(region, "region")?) };
        c.set_region(r)
    }
}

/// Aborts every request of this client in flight (they fail with `OSS_ERROR_KIND_CANCELLED`) and
/// refuses new ones until `oss_client_enable_requests` (the C++ SDK's DisableRequest).
///
/// # Safety
/// `client` NULL (no-op) or live.
#[no_mangle]
pub unsafe extern "C" fn oss_client_disable_requests(client: *const oss_client_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `client` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        if let Some(c) = unsafe { opt_ref(client) } {
            c.disable_requests();
        }
    }
}

/// Allows requests again after `oss_client_disable_requests`.
///
/// # Safety
/// `client` NULL (no-op) or live.
#[no_mangle]
pub unsafe extern "C" fn oss_client_enable_requests(client: *const oss_client_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `client` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        if let Some(c) = unsafe { opt_ref(client) } {
            c.enable_requests();
        }
    }
}

/// Every request of `client` so far, added up, into `*stats_out` (all zero when its configuration
/// has no metrics callback: nothing is measured then). Errors: NULL arguments.
///
/// Threads: any, also while requests run (the counters are read one by one, not as one snapshot).
///
/// # Safety
/// `client` NULL or live; `stats_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_request_stats(
    client: *const oss_client_t,
    stats_out: *mut oss_request_stats_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(stats_out, "stats_out")?;
        // SAFETY: the export's `# Safety` contract: `client` is NULL (refused) or a live handle
        // not freed during the call, and only borrowed shared.
        let c = unsafe { try_ref(client, "client")? };
        // SAFETY: stats_out was checked non-NULL and is writable (the contract).
        unsafe { write_out(stats_out, oss_request_stats_t::from(c.request_stats())) };
        Ok(())
    }
}

/// The operation's cancellation: SDK shutdown plus `extra`, and the client's call deadline.
pub(crate) fn cancel_with(
    client: &Client,
    extra: Option<tokio_util::sync::CancellationToken>,
) -> Result<Cancel> {
    let mut c = Cancel::new().with(crate::runtime::shutdown_token()?);
    if let Some(t) = extra {
        c = c.with(t);
    }
    Ok(client.call_cancel(c))
}

/// Hands the metadata to the caller when it asked for it (`meta_out` not NULL).
fn finish(meta: ObjectMeta, meta_out: *mut *mut oss_object_meta_t) {
    if meta_out.is_null() {
        return; // nothing is allocated that nobody would free
    }
    // SAFETY: meta_out is non-NULL and writable per the callers' contract.
    unsafe { write_out(meta_out, oss_object_meta_t::boxed(&meta)) };
}

/// Runs one GetObject-family call on the SDK runtime, cancellable through the request's token,
/// reporting to the request's abortable callback (the core's `progress::with_abortable`), else
/// to its plain one.
fn object_call<T, F, Fut>(c: &Client, r: &GetObjectParams, op: F) -> Result<T>
where
    F: FnOnce(Client, ObjectRequest, Option<ProgressFn>, Cancel) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    r.cancel.around(|token| {
        let cancel = cancel_with(c, Some(token))?;
        let (client, object, plain) = (c.clone(), r.object.clone(), r.progress.clone());
        crate::runtime::block_on(crate::progress::with_abortable(
            r.abortable.clone(),
            cancel,
            move |abortable, cancel| op(client, object, abortable.or(plain), cancel),
        ))
    })
}

/// A HEAD call export (HeadObject, GetObjectMeta): the doc comment as written, the C signature
/// (client, request, `meta_out`) and a body that is [`head_call`] with the client's `$method`.
macro_rules! head_export {
    ($(#[$doc:meta])* fn $name:ident => $method:ident) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            client: *const oss_client_t,
            request: *const oss_get_object_request_t,
            meta_out: *mut *mut oss_object_meta_t,
        ) -> *mut oss_error_t {
            ffi_try! {
                // SAFETY: the export's `# Safety` contract is head_call's.
                unsafe {
                    head_call(client, request, meta_out, |client, object, cancel| async move {
                        client.$method(&object, &cancel).await
                    })
                }
            }
        }
    };
}

/// The HEAD calls (HeadObject, GetObjectMeta): `meta_out` checked, the client and the request
/// borrowed, `head` run as an object call (cancellable, within the call deadline), its metadata
/// handed out.
///
/// # Safety
/// `client` and `request` NULL or live, not freed during the call; `meta_out` NULL or writable.
unsafe fn head_call<F, Fut>(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    meta_out: *mut *mut oss_object_meta_t,
    head: F,
) -> Result<()>
where
    F: FnOnce(Client, ObjectRequest, Cancel) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<ObjectMeta>> + Send + 'static,
{
    check_out(meta_out, "meta_out")?;
    // SAFETY: this function's contract: `client` and `request` are NULL (refused) or live handles
    // not freed during the call, and only borrowed shared (as `const` allows from any thread).
    let (c, r) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?) };
    let meta = object_call(c, r, move |client, object, _, cancel| {
        head(client, object, cancel)
    })?;
    finish(meta, meta_out);
    Ok(())
}

head_export! {
    /// HeadObject (`HEAD /key`): size, ETag, Last-Modified, CRC64, content type, user metadata...
    /// Uses the request's bucket, key, version id, conditions and request payer. Blocks;
    /// `oss_get_object_request_cancel` stops it.
    ///
    /// # Safety
    /// Pointers NULL or live; `meta_out` NULL or writable.
    fn oss_client_head_object => head_object
}

/// A presigned GET URL for the request's bucket and key, valid until `expires` (Unix time in
/// seconds), signed locally with the client's credentials, signature version (V1 or V4; V4 needs
/// a region) and addressing (the C++ SDK's `GeneratePresignedUrl`). The request's version id,
/// response-header overrides, traffic limit and request payer go into the URL (and its
/// signature); its range and progress callback are ignored; ETag/date conditions cannot travel in
/// a URL and are refused. Anonymous credentials give the unsigned URL. Sends nothing.
///
/// Ownership: `*url_out` is the caller's, freed with `oss_string_free`. Threads: any.
/// Errors: NULL arguments; `ValidateError` for an invalid bucket/key, conditions, V4 without a
/// region or with an expiry not in the future (V1 signs any expiry: a past one gives a URL the
/// server refuses); `InvalidCredentials`.
///
/// # Safety
/// Pointers NULL or live; `url_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_presign_get_object(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    expires: i64,
    url_out: *mut *mut c_char,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(url_out, "url_out")?;
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live handles not freed during the call, and only borrowed shared (as `const` allows from any
        // thread).
        let (c, r) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?) };
        let url = crate::presign::get(c, &r.object, expires)?;
        let url = std::ffi::CString::new(url)
            .map_err(|_| Error::validate("the URL contains a NUL byte"))?;
        // SAFETY: the export's `# Safety` contract: `url_out` is NULL (skipped) or writable for one
        // value (required outs were checked non-NULL first).
        unsafe { write_out(url_out, url.into_raw()) };
        Ok(())
    }
}

/// Frees a string returned by the library (`oss_client_presign_get_object`). NULL is a no-op.
///
/// # Safety
/// `s` NULL or a string from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_string_free(s: *mut c_char) {
    ffi_boundary! {
        if !s.is_null() {
            // SAFETY: s came from CString::into_raw in this library and is freed once.
            drop(unsafe { std::ffi::CString::from_raw(s) });
        }
    }
}

head_export! {
    /// GetObjectMeta (`HEAD /key?objectMeta`): size, ETag, Last-Modified, CRC64 (fewer headers
    /// than HeadObject). Blocks; `oss_get_object_request_cancel` stops it.
    ///
    /// # Safety
    /// Pointers NULL or live; `meta_out` NULL or writable.
    fn oss_client_get_object_meta => get_object_meta
}

/// GetObject into a file: bytes go to `<file_path>.temp`, renamed over `file_path` only when
/// complete (and CRC-checked for whole objects); on failure `file_path` is untouched. Cut
/// bodies are resumed where they stopped. `meta_out` may be NULL. Blocks;
/// `oss_get_object_request_cancel` stops it.
///
/// # Safety
/// Pointers NULL or live; `meta_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_get_object_to_file(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    file_path: *const c_char,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live handles not freed during the call, and only borrowed shared (as `const` allows from any
        // thread); `file_path` is NULL (refused) or NUL-terminated and outlives the call (UTF-8
        // checked).
        let (c, r, path) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?, arg_str(file_path, "file_path")?) };
        let (range, path) = (r.range, std::path::PathBuf::from(path));
        let meta = object_call(c, r, move |client, object, progress, cancel| async move {
            client.get_object_to_file(&object, range, &path, progress, &cancel).await
        })?;
        finish(meta, meta_out);
        Ok(())
    }
}

/// GetObject streamed to `write(data, len, user_data)` in order (see `oss_write_cb`). A whole
/// object is CRC-checked after its last byte was delivered. `meta_out` may be NULL. Blocks;
/// `oss_get_object_request_cancel` stops it.
///
/// # Safety
/// Pointers NULL or live; `write` callable from a library thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_client_get_object(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    write: oss_write_cb,
    user_data: *mut c_void,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live handles not freed during the call, and only borrowed shared (as `const` allows from any
        // thread).
        let (c, r) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?) };
        let write = write.ok_or_else(|| Error::null_argument("the argument 'write' must not be NULL"))?;
        let range = r.range;
        // The caller's buffer pointer is only used during this blocking call.
        let data = UserData { ptr: user_data, free: None };
        let meta = object_call(c, r, move |client, object, progress, cancel| async move {
            let data = data;
            client
                .get_object_with(&object, range, progress, &cancel, |bytes| {
                    // SAFETY: write was given for calls with user_data during this call.
                    let rc = unsafe { write(bytes.as_ptr(), bytes.len(), data.get()) };
                    if rc == 0 {
                        Ok(())
                    } else {
                        Err(Error::client(ErrorKind::Cancelled, curl::WRITE_ERROR, format!("the write callback returned {rc}; download aborted")))
                    }
                })
                .await
        })?;
        finish(meta, meta_out);
        Ok(())
    }
}

/// ResumableDownloadObject: see `oss_download_request_t`. Blocks until the file is complete
/// and verified, or fails. On success the destination holds exactly the object's (or range's)
/// bytes, the checkpoint is removed, and `*meta_out` (may be NULL) describes the object.
/// Errors worth matching: `OSS_ERROR_KIND_CANCELLED` (resumable), `OSS_ERROR_KIND_OBJECT_CHANGED`
/// (state removed; call again for the new version), `OSS_ERROR_KIND_CRC_MISMATCH`,
/// `OSS_ERROR_KIND_BUSY` (another download holds the destination).
///
/// # Safety
/// Pointers NULL or live; the request must not be freed or mutated during the call.
#[no_mangle]
pub unsafe extern "C" fn oss_client_resumable_download_object(
    client: *const oss_client_t,
    request: *const oss_download_request_t,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live handles not freed during the call, and only borrowed shared (as `const` allows from any
        // thread).
        let (c, r) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?) };
        let meta = r.cancel.around(|token| {
            let (client, mut req) = (c.clone(), r.request.clone());
            let cancel = cancel_with(c, Some(token))?;
            crate::runtime::block_on(crate::progress::with_abortable(
                r.abortable.clone(),
                cancel,
                move |abortable, cancel| async move {
                    req.progress = abortable.or(req.progress);
                    crate::download::resumable_download(&client, &req, &cancel).await
                },
            ))
        })?;
        finish(meta, meta_out);
        Ok(())
    }
}
