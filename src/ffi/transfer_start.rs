//! Starting an asynchronous transfer (`oss_client_start_*`): the request copied into the
//! transfer's work, the completion callback wrapped, the handle written before the task exists.
//! The handle's own calls are in `transfer`.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use crate::client::Client;
use crate::error::Result;
use crate::ffi::batch_request::oss_batch_request_t;
use crate::ffi::boundary::{arg_str, check_out, ffi_boundary, ffi_try, write_out, UserData};
use crate::ffi::client::oss_client_t;
use crate::ffi::download_request::oss_download_request_t;
use crate::ffi::error::oss_error_t;
use crate::ffi::get_object_request::oss_get_object_request_t;
use crate::ffi::handle::{arc_to_const_ptr, lend_arc, opt_ref, try_ref, Castable};
use crate::ffi::progress;
use crate::ffi::transfer::{oss_transfer_done_cb, oss_transfer_t};
use crate::progress::AbortableProgressFn;
use crate::transfer::{Completion, ResumeTokenBytes, Transfer, Work};

type UserDataFree = Option<unsafe extern "C" fn(*mut c_void)>;

/// The completion: the C callback with the transfer and its error, then `user_data_free`.
fn completion(cb: oss_transfer_done_cb, user_data: *mut c_void, free: UserDataFree) -> Completion {
    let data = UserData {
        ptr: user_data,
        free,
    };
    Box::new(move |t: &Arc<Transfer>| {
        let data = data;
        let Some(cb) = cb else { return };
        let err = match t.result() {
            Some(Err(e)) => oss_error_t::boxed(e),
            _ => std::ptr::null_mut(),
        };
        // SAFETY: cb was given for one call with user_data from a library thread; the transfer
        // handle is lent for the call (the task holds a count) and err lives until freed below.
        unsafe { cb(lend_arc::<oss_transfer_t>(t), err, data.get()) };
        // SAFETY: err is NULL or from oss_error_t::boxed, freed once.
        unsafe { crate::ffi::handle::free_box(err) };
    })
}

/// What every `oss_client_start_*` call does around its own part: the completion owned first
/// (an early error frees `user_data` once), `transfer_out` checked, the client borrowed; then
/// `work` reads the call's own arguments into the transfer's work and progress callback, and the
/// transfer starts, its handle written before the task exists. A new start call keeps these four
/// trailing parameters and passes them here.
///
/// # Safety
/// The start calls' contract: `client` NULL or live, not freed during the call; `transfer_out`
/// NULL or writable; `done` callable from a library thread with `user_data`.
unsafe fn start_call(
    client: *const oss_client_t,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: UserDataFree,
    transfer_out: *mut *const oss_transfer_t,
    work: impl FnOnce(&Client) -> Result<(Work, Option<AbortableProgressFn>)>,
) -> Result<()> {
    let done = completion(done, user_data, user_data_free);
    check_out(transfer_out, "transfer_out")?;
    // SAFETY: this function's contract: `client` is NULL (refused) or a live handle not freed
    // during the call, and only borrowed shared (as `const` allows from any thread).
    let c = unsafe { try_ref(client, "client")? };
    let (work, progress) = work(c)?;
    Transfer::start(c, work, progress, Some(done), |t| {
        // SAFETY: transfer_out was checked non-NULL and is writable (this function's contract).
        unsafe { write_out(transfer_out, arc_to_const_ptr::<oss_transfer_t>(t.clone())) };
    })
}

/// [`start_call`] for the start calls that copy a request handle: `request` borrowed (a
/// NULL-argument error naming it for NULL) after the client, then `work` reads it into the
/// transfer's work and progress callback.
///
/// # Safety
/// [`start_call`]'s contract, and `request` NULL or a live handle not freed during the call.
unsafe fn start_with_request<C: Castable>(
    client: *const oss_client_t,
    request: *const C,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: UserDataFree,
    transfer_out: *mut *const oss_transfer_t,
    work: impl FnOnce(&C::RustType) -> Result<(Work, Option<AbortableProgressFn>)>,
) -> Result<()> {
    // SAFETY: start_call's contract is this function's; `request` is NULL (refused) or a live
    // handle not freed during the call, and only borrowed shared.
    unsafe {
        start_call(
            client,
            done,
            user_data,
            user_data_free,
            transfer_out,
            |_| work(try_ref(request, "request")?),
        )
    }
}

/// Starts a resumable download (as `oss_client_resumable_download_object`) and returns at once
/// with its transfer in `*transfer_out`. The request is copied (free or reuse it right away; its
/// `oss_download_request_cancel` does not reach the transfer: use `oss_transfer_cancel`). Its
/// progress callback (plain or abortable) reports this transfer too. `done` (may be NULL) is
/// called once when it ends; see `oss_transfer_done_cb`. The transfer uses the client's
/// connection pool, shared with every other call and transfer of that client, and waits for its
/// admission (a slot of the client's memory budget) before it opens any file or connects: see
/// `oss_transfer_t`.
///
/// Ownership: `*transfer_out` is the caller's (`oss_transfer_free`). Errors (nothing started,
/// `done` never called, `user_data_free` called before the return): NULL arguments, not
/// initialised. Every other failure (validation included) ends the transfer with that error.
///
/// # Safety
/// Pointers NULL or live; `done` callable from a library thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_client_start_resumable_download(
    client: *const oss_client_t,
    request: *const oss_download_request_t,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    transfer_out: *mut *const oss_transfer_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract is start_with_request's.
        unsafe {
            start_with_request(client, request, done, user_data, user_data_free, transfer_out, |r| {
                let progress = progress::for_transfer(&r.request.progress, &r.abortable);
                let mut req = r.request.clone();
                req.progress = None;
                Ok((Work::Download(req), progress))
            })
        }
    }
}

/// Starts a batch (as `oss_client_download_objects`) and returns at once with its transfer in
/// `*transfer_out`. The request is copied (free or reuse it right away; its
/// `oss_batch_request_cancel` does not reach the transfer: use `oss_transfer_cancel`); its
/// progress and object callbacks report this transfer (their user data is released when the
/// request and every transfer copied from it are gone). `oss_transfer_status` gives the batch's
/// bytes done and known total, `oss_transfer_batch_progress` its counts,
/// `oss_transfer_batch_report` its report once it ended; its result (`oss_transfer_result`, the
/// completion's error) is the report's (`oss_batch_report_result`). `oss_transfer_pause` stops
/// it (objects in flight stop, their checkpoints kept, the journal holds every finished object)
/// and `oss_transfer_take_resume_token` then gives a token that `oss_client_start_resume`
/// continues, in this process or another: the batch lists again and fetches only what is not
/// finished. `done` (may be NULL) is called once when it ends; see `oss_transfer_done_cb`.
///
/// Ownership: `*transfer_out` is the caller's (`oss_transfer_free`). Errors (nothing started,
/// `done` never called, `user_data_free` called before the return): NULL arguments, not
/// initialised. Every other failure ends the transfer with that error.
///
/// # Safety
/// Pointers NULL or live; `done` callable from a library thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_client_start_download_objects(
    client: *const oss_client_t,
    request: *const oss_batch_request_t,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    transfer_out: *mut *const oss_transfer_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract is start_with_request's.
        unsafe {
            start_with_request(client, request, done, user_data, user_data_free, transfer_out, |r| {
                Ok((Work::Batch(Box::new(r.request.clone())), None))
            })
        }
    }
}

/// Continues a paused download or batch from its resume token (`oss_transfer_take_resume_token`),
/// in this process or another, and returns at once with its transfer. A batch's token (from a
/// transfer of `oss_client_start_download_objects`) carries the batch's request: the batch runs
/// again (listing again; what its journal records as finished is skipped, nothing of it fetched)
/// and `settings` gives only its thread count per large object, direct I/O and a byte progress
/// callback (the batch's bytes done and known total); its per-object and batch progress
/// callbacks are not carried by the token (`oss_client_start_resume_batch` takes them). The rest of this text is about a download's token. The token names the object, the
/// destination, the range, the part size and the finished parts; `settings` (may be NULL) gives
/// only the progress callback, the thread count, direct I/O and, if set, the checkpoint directory
/// (its bucket, key, path and range are ignored). The token is checked at once: its MAC must
/// verify under this client's resume token key (`oss_config_set_resume_token_key`, or the
/// per-user key file); a truncated, altered or re-sealed token, one sealed under another key and
/// one of the earlier unkeyed format are refused here (`OSS_ERROR_KIND_INVALID_ARGUMENT`,
/// `ValidateError` "The resume token is refused: ...", nothing sent or written); its content is then judged
/// like a checkpoint: the object's size, ETag and Last-Modified (a HEAD; another version is
/// `OSS_ERROR_KIND_OBJECT_CHANGED` and the temp file is removed), the temp file's identity
/// (device, inode, birth time) and size, every finished part re-read and CRC-checked (always),
/// and the whole object's CRC64 at the end. A token that does not hold is refused (the transfer
/// fails with `ValidateError` "The resume token is refused: ..."), never trusted into a file.
/// A token is as powerful as a download request (it names the destination): whoever holds the
/// key can make one, so keep the key as you would the right to make requests.
/// `done`, ownership and errors as for `oss_client_start_resumable_download`.
///
/// # Safety
/// Pointers NULL or live; `token` valid for `token_len` bytes (NULL only when 0).
#[no_mangle]
pub unsafe extern "C" fn oss_client_start_resume(
    client: *const oss_client_t,
    token: *const u8,
    token_len: usize,
    settings: *const oss_download_request_t,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    transfer_out: *mut *const oss_transfer_t,
) -> *mut oss_error_t {
    ffi_try! {
        let work = |c: &Client| {
            // SAFETY: the export's contract: `token` is valid for `token_len` bytes when non-NULL.
            let bytes = unsafe { token_bytes(token, token_len)? };
            let token = ResumeTokenBytes::decode(c, bytes)?;
            // SAFETY: the export's `# Safety` contract: `settings` is NULL (nothing done) or a live
            // handle not freed during the call, and only borrowed shared.
            let (progress, mut settings) = match unsafe { opt_ref(settings) } {
                Some(s) => (progress::for_transfer(&s.request.progress, &s.abortable), s.request.clone()),
                None => (None, crate::download::DownloadRequest::new("", "")),
            };
            settings.progress = None;
            Ok((Work::Resume { token: Box::new(token), settings }, progress))
        };
        // SAFETY: the export's `# Safety` contract is start_call's.
        unsafe { start_call(client, done, user_data, user_data_free, transfer_out, work) }
    }
}

/// Continues a paused batch from its resume token (`oss_transfer_take_resume_token` of a
/// transfer of `oss_client_start_download_objects`), in this process or another, with the
/// callbacks of `settings`, and returns at once with its transfer. The token gives what the
/// batch is (bucket, prefix or keys, destination, checkpoint directory, filters, overwrite and
/// failure policies, part size); `settings` (may be NULL: no callbacks, the token's tuning) gives
/// how it runs: its batch progress and per-object callbacks (they report the resumed batch:
/// every object again, the ones the journal holds as `SKIPPED` unchanged), threads per large
/// object, objects in flight, direct I/O and the re-read of resumed parts; its own bucket,
/// source, destination and filters are not used (build it with any). The token is checked as
/// `oss_client_start_resume` checks it; a single download's token is refused
/// (`OSS_ERROR_KIND_INVALID_ARGUMENT`, `ValidateError`, nothing started: continue it with
/// `oss_client_start_resume`). The transfer is a batch's: see
/// `oss_client_start_download_objects`. `settings` is copied (free it right away); its
/// callbacks' user data is released when it and every transfer copied from it are gone.
/// `done`, ownership and errors as for `oss_client_start_resumable_download`.
///
/// # Safety
/// Pointers NULL or live; `token` valid for `token_len` bytes (NULL only when 0); `done` callable
/// from a library thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_client_start_resume_batch(
    client: *const oss_client_t,
    token: *const u8,
    token_len: usize,
    settings: *const oss_batch_request_t,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    transfer_out: *mut *const oss_transfer_t,
) -> *mut oss_error_t {
    ffi_try! {
        let work = |c: &Client| {
            // SAFETY: the export's contract: `token` is valid for `token_len` bytes when non-NULL.
            let bytes = unsafe { token_bytes(token, token_len)? };
            let token = ResumeTokenBytes::decode(c, bytes)?;
            // SAFETY: the export's `# Safety` contract: `settings` is NULL (the token's own
            // tuning) or a live handle not freed during the call, and only borrowed shared.
            let settings = unsafe { opt_ref(settings) }.map(|s| &s.request);
            Ok((token.batch_with(settings)?, None))
        };
        // SAFETY: the export's `# Safety` contract is start_call's.
        unsafe { start_call(client, done, user_data, user_data_free, transfer_out, work) }
    }
}

/// The token's bytes: NULL only with length 0 (an empty token, refused when decoded).
///
/// # Safety
/// `token` NULL or valid for `token_len` bytes.
unsafe fn token_bytes<'a>(token: *const u8, token_len: usize) -> Result<&'a [u8]> {
    if token.is_null() && token_len > 0 {
        return Err(crate::ffi::boundary::null_argument("token"));
    }
    if token_len == 0 {
        return Ok(&[]);
    }
    // SAFETY: token is non-NULL and valid for token_len bytes (this function's contract).
    Ok(unsafe { std::slice::from_raw_parts(token, token_len) })
}

/// Starts a GetObject to a file (as `oss_client_get_object_to_file`) and returns at once with
/// its transfer. The request is copied; its progress callback (plain or abortable) reports this
/// transfer. GetObject transfers cannot be paused (`oss_transfer_pause` returns false); cancel
/// removes the temp file. `done`, ownership and errors as for
/// `oss_client_start_resumable_download`.
///
/// # Safety
/// Pointers NULL or live; `done` callable from a library thread with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn oss_client_start_get_object_to_file(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    file_path: *const c_char,
    done: oss_transfer_done_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    transfer_out: *mut *const oss_transfer_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: the export's `# Safety` contract is start_with_request's; `file_path` is NULL
        // (refused) or NUL-terminated and outlives the call (UTF-8 checked).
        unsafe {
            start_with_request(client, request, done, user_data, user_data_free, transfer_out, |r| {
                let path = arg_str(file_path, "file_path")?;
                let progress = progress::for_transfer(&r.progress, &r.abortable);
                let work = Work::GetToFile { object: r.object.clone(), range: r.range, path: path.into() };
                Ok((work, progress))
            })
        }
    }
}
