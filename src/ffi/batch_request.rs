//! `oss_batch_request_t`: a download of many objects (a prefix, or a list of keys) into a
//! directory (`crate::batch`), its setters and callbacks, and the blocking call that runs it.
//! The progress it reports is in `batch_progress`, the report it gives in `batch_report`; the
//! asynchronous start is in `transfer_start`.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::Arc;

use crate::batch::{
    BatchProgress, BatchRequest, ObjectOutcome, OnFailure, Outcome, Overwrite, SkipReason,
};
use crate::error::{Error, Result};
use crate::ffi::batch_progress::{oss_batch_progress_cb, oss_batch_progress_t};
use crate::ffi::batch_report::{oss_batch_report_t, ReportDetails};
use crate::ffi::boundary::{
    arg_str, c_string, check_out, ffi_boundary, ffi_setter, ffi_try, write_out, UserData,
};
use crate::ffi::call_cancel::CallCancel;
use crate::ffi::client::oss_client_t;
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, try_ref, Castable, OwnershipBox};

/// A download of many objects into one directory: every object under a prefix (listed), or the
/// objects of a list of keys, each to its own file below `dest_dir`, with filters, an overwrite
/// and a failure policy, a journal of the finished objects (a re-run skips them without fetching
/// a byte), batch progress and a per-object callback. Run it blocking
/// (`oss_client_download_objects`) or as a transfer (`oss_client_start_download_objects`).
///
/// Where files go: for a prefix, the key minus the prefix's directory part (everything up to and
/// including its last `/`): prefix `logs/2026-12-0` puts `logs/2026-12-01/a.gz` at
/// `<dest_dir>/2026-12-01/a.gz`; for a list of keys, the whole key. A key that would leave the
/// directory (`..`, absolute, NUL or control characters, empty components, too long) or that
/// collides with another key's path fails for that key alone (`OSS_ERROR_KIND_INVALID_ARGUMENT`,
/// code `UnsafeKey` or `KeyCollision`); nothing is written outside `dest_dir` and links in it are
/// not followed. A key ending in `/` of size 0 is a directory marker (the directory is made).
///
/// Ownership: Box; `oss_batch_request_new_prefix` / `oss_batch_request_new_keys`, freed by
/// `oss_batch_request_free` (not while the blocking call using it runs; a transfer copies it).
/// Threads: setters mutate (the caller serialises them); `oss_batch_request_cancel` may be called
/// from any thread at any time, also from the callbacks.
#[allow(non_camel_case_types)]
pub struct oss_batch_request_t {
    _private: [u8; 0],
}

impl Castable for oss_batch_request_t {
    type Ownership = OwnershipBox;
    type RustType = BatchParams;
}

/// What an `oss_batch_request_t` holds.
pub(crate) struct BatchParams {
    pub(crate) request: BatchRequest,
    /// `oss_batch_request_cancel`.
    pub(crate) cancel: CallCancel,
}

/// What a batch does with a file that already exists (values fixed).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_batch_overwrite_t {
    /// Download every object, replacing what is there.
    OSS_BATCH_OVERWRITE_ALWAYS = 0,
    /// The default: skip an object the batch's journal records with the listing's ETag and size
    /// while the file still has that size (nothing fetched); otherwise download it.
    OSS_BATCH_OVERWRITE_IF_CHANGED = 1,
    /// Keep every existing file (the object is skipped).
    OSS_BATCH_OVERWRITE_NEVER = 2,
}

/// What a batch does when an object fails (values fixed).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_batch_on_failure_t {
    /// The default: record the failure in the report and go on with the other objects.
    OSS_BATCH_ON_FAILURE_CONTINUE = 0,
    /// Stop at the first failure: nothing more is started, objects in flight are cancelled
    /// (their checkpoints kept).
    OSS_BATCH_ON_FAILURE_STOP = 1,
}

/// What happened to one object (`oss_batch_object_t::outcome`; values fixed).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_batch_outcome_t {
    /// Downloaded and verified.
    OSS_BATCH_OUTCOME_DOWNLOADED = 0,
    /// Skipped: the journal says the file already holds this version.
    OSS_BATCH_OUTCOME_SKIPPED_UNCHANGED = 1,
    /// Skipped: the file exists and the policy is `OSS_BATCH_OVERWRITE_NEVER`.
    OSS_BATCH_OUTCOME_SKIPPED_EXISTS = 2,
    /// Skipped by the include/exclude patterns or the size or time filters.
    OSS_BATCH_OUTCOME_SKIPPED_FILTERED = 3,
    /// A directory marker (a key ending in `/`, size 0): the directory was made, no file.
    OSS_BATCH_OUTCOME_SKIPPED_DIRECTORY_MARKER = 4,
    /// A dry run: it would be downloaded (nothing was fetched).
    OSS_BATCH_OUTCOME_WOULD_DOWNLOAD = 5,
    /// Failed: `oss_batch_object_t::error` says why.
    OSS_BATCH_OUTCOME_FAILED = 6,
}

/// One object's outcome, for `oss_batch_object_cb`. Every pointer is borrowed for the call only
/// (copy what you keep).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)]
pub struct oss_batch_object_t {
    /// The object's key (a NUL in it, which OSS forbids, would show as U+FFFD).
    pub key: *const c_char,
    /// The local path (the destination directory joined with the key's path below it); ""
    /// when the key has none (an unsafe key, a collision).
    pub path: *const c_char,
    /// The object's size as listed (or HEADed).
    pub size: u64,
    /// The object's ETag as listed ("" when unknown).
    pub etag: *const c_char,
    pub outcome: oss_batch_outcome_t,
    /// The error of a failed object, else NULL.
    pub error: *const oss_error_t,
}

/// Called once per object when it is done (downloaded, skipped, would be downloaded in a dry
/// run, or failed), on a library thread; calls are serialised. `object` and everything it points
/// to are borrowed for the call. Same rules as `oss_batch_progress_cb`.
#[allow(non_camel_case_types)]
pub type oss_batch_object_cb =
    Option<unsafe extern "C" fn(object: *const oss_batch_object_t, user_data: *mut c_void)>;

impl From<&Outcome> for oss_batch_outcome_t {
    fn from(o: &Outcome) -> Self {
        use oss_batch_outcome_t::*;
        match o {
            Outcome::Downloaded => OSS_BATCH_OUTCOME_DOWNLOADED,
            Outcome::Skipped(SkipReason::Unchanged) => OSS_BATCH_OUTCOME_SKIPPED_UNCHANGED,
            Outcome::Skipped(SkipReason::Exists) => OSS_BATCH_OUTCOME_SKIPPED_EXISTS,
            Outcome::Skipped(SkipReason::Filtered) => OSS_BATCH_OUTCOME_SKIPPED_FILTERED,
            Outcome::Skipped(SkipReason::DirectoryMarker) => {
                OSS_BATCH_OUTCOME_SKIPPED_DIRECTORY_MARKER
            }
            Outcome::WouldDownload => OSS_BATCH_OUTCOME_WOULD_DOWNLOAD,
            Outcome::Failed(_) => OSS_BATCH_OUTCOME_FAILED,
        }
    }
}

/// Serialises the calls of one C callback (the core may report from several tasks).
struct Serial<F>(std::sync::Mutex<F>);

impl<F> Serial<F> {
    fn call<R>(&self, f: impl FnOnce(&F) -> R) -> R {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&g)
    }
}

fn progress_callback(
    cb: oss_batch_progress_cb,
    data: UserData,
) -> Option<crate::batch::BatchProgressFn> {
    let cb = cb?;
    let s = Serial(std::sync::Mutex::new(data));
    Some(Arc::new(move |p: &BatchProgress| {
        let c = oss_batch_progress_t::from(p);
        s.call(|data| {
            // SAFETY: cb was registered for calls with this user data from library threads
            // (the setter's contract); `c` outlives the call.
            unsafe { cb(&c, data.get()) }
        })
    }))
}

fn object_callback(cb: oss_batch_object_cb, data: UserData) -> Option<crate::batch::ObjectDoneFn> {
    let cb = cb?;
    let s = Serial(std::sync::Mutex::new(data));
    Some(Arc::new(move |o: &ObjectOutcome| {
        let key = c_string(&o.key);
        let path = c_string(
            &o.path
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let etag = c_string(&o.etag);
        let error = match &o.outcome {
            Outcome::Failed(e) => oss_error_t::boxed(e.clone()),
            _ => std::ptr::null_mut(),
        };
        let c = oss_batch_object_t {
            key: key.as_ptr(),
            path: path.as_ptr(),
            size: o.size,
            etag: etag.as_ptr(),
            outcome: (&o.outcome).into(),
            error,
        };
        s.call(|data| {
            // SAFETY: cb was registered for calls with this user data from library threads
            // (the setter's contract); `c` and the strings it points to outlive the call.
            unsafe { cb(&c, data.get()) }
        });
        // SAFETY: error is NULL or from oss_error_t::boxed, freed once, after the call.
        unsafe { free_box(error) };
    }))
}

/// Reads the caller's array of `n` keys (any count; each NUL-terminated UTF-8).
///
/// # Safety
/// `keys` NULL (only with `n` 0) or valid for `n` pointers, each NULL (refused) or
/// NUL-terminated.
unsafe fn key_array(keys: *const *const c_char, n: usize) -> Result<Vec<String>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if keys.is_null() {
        return Err(Error::null_argument(
            "the argument 'keys' must not be NULL when n > 0",
        ));
    }
    // No array of that many pointers can exist (`from_raw_parts` needs the bytes to fit isize).
    if n > isize::MAX as usize / std::mem::size_of::<*const c_char>() {
        return Err(Error::validate(format!(
            "n = {n} keys cannot be an array in memory"
        )));
    }
    // SAFETY: keys is valid for n elements (the contract), and n pointers fit isize (checked).
    let slice = unsafe { std::slice::from_raw_parts(keys, n) };
    slice
        .iter()
        .enumerate()
        // SAFETY: each element NULL (refused) or NUL-terminated (the contract).
        .map(|(i, p)| unsafe { arg_str(*p, &format!("keys[{i}]")) }.map(String::from))
        .collect()
}

fn make(request: BatchRequest, out: *mut *mut oss_batch_request_t) {
    let r = BatchParams {
        request,
        cancel: CallCancel::default(),
    };
    // SAFETY: out was checked non-NULL and is writable (the callers' contract).
    unsafe { write_out(out, to_boxed_mut_ptr::<oss_batch_request_t>(r)) };
}

fn dest(dest_dir: &str) -> Result<PathBuf> {
    if dest_dir.is_empty() {
        return Err(Error::validate(
            "the destination directory must not be empty (\".\" is the current directory)",
        ));
    }
    Ok(PathBuf::from(dest_dir))
}

/// A batch of every object whose key starts with `prefix` ("" : the whole bucket), listed
/// (ListObjectsV2, no delimiter), into `dest_dir` (made if missing). Defaults: overwrite
/// `OSS_BATCH_OVERWRITE_IF_CHANGED`, failures `OSS_BATCH_ON_FAILURE_CONTINUE`, 64 objects in
/// flight, part size 8 MiB and 4 threads per large object, the journal in `dest_dir`.
///
/// Ownership: `*request_out` is the caller's (`oss_batch_request_free`). Errors: NULL
/// arguments, invalid UTF-8, an empty `dest_dir`.
///
/// # Safety
/// Strings NULL or NUL-terminated; `request_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_request_new_prefix(
    bucket: *const c_char,
    prefix: *const c_char,
    dest_dir: *const c_char,
    request_out: *mut *mut oss_batch_request_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(request_out, "request_out")?;
        // SAFETY: the export's `# Safety` contract: the strings are NULL (refused) or
        // NUL-terminated and outlive the call (UTF-8 checked).
        let (bucket, prefix, dir) = unsafe { (arg_str(bucket, "bucket")?, arg_str(prefix, "prefix")?, arg_str(dest_dir, "dest_dir")?) };
        make(BatchRequest::for_prefix(bucket, prefix, dest(dir)?), request_out);
        Ok(())
    }
}

/// A batch of the objects named by `keys` (`n` keys; each HEADed for its size, ETag and
/// modification time), each to `<dest_dir>/<key>`. The keys are copied. Defaults as for
/// `oss_batch_request_new_prefix`.
///
/// Ownership: `*request_out` is the caller's (`oss_batch_request_free`). Errors: NULL
/// arguments (`keys` may be NULL only when `n` is 0; no key may be NULL), invalid UTF-8 (the
/// message names the key's index), an empty `dest_dir`.
///
/// # Safety
/// `keys` NULL (only with `n` 0) or valid for `n` pointers, each NULL or NUL-terminated; other
/// strings NULL or NUL-terminated; `request_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_request_new_keys(
    bucket: *const c_char,
    keys: *const *const c_char,
    n: usize,
    dest_dir: *const c_char,
    request_out: *mut *mut oss_batch_request_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(request_out, "request_out")?;
        // SAFETY: the export's `# Safety` contract: the strings are NULL (refused) or
        // NUL-terminated and outlive the call; `keys` is valid for `n` pointers.
        let (bucket, keys, dir) = unsafe { (arg_str(bucket, "bucket")?, key_array(keys, n)?, arg_str(dest_dir, "dest_dir")?) };
        make(BatchRequest::for_keys(bucket, keys, dest(dir)?), request_out);
        Ok(())
    }
}

/// Frees a batch request. NULL is a no-op.
///
/// # Safety
/// NULL or from `oss_batch_request_new_*`, freed once, not while a blocking call uses it.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_request_free(request: *mut oss_batch_request_t) {
    ffi_boundary! {
        // SAFETY: request is NULL or from to_boxed_mut_ptr, freed once (the contract).
        unsafe { free_box(request) };
    }
}

/// Cancels the blocking batch running with this request (`oss_client_download_objects` returns
/// promptly with `OSS_ERROR_KIND_CANCELLED`; objects in flight keep their checkpoints, the
/// journal keeps every finished one, so the same request run again goes on from there). When
/// none runs, the next one is cancelled at once. Does not reach a transfer started from it (use
/// `oss_transfer_cancel`). Threads: any, also from the callbacks.
///
/// # Safety
/// `request` NULL (no-op) or live.
#[no_mangle]
pub unsafe extern "C" fn oss_batch_request_cancel(request: *const oss_batch_request_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `request` is NULL (nothing done) or a live
        // handle not freed during the call, and only borrowed shared.
        if let Some(r) = unsafe { opt_ref(request) } {
            r.cancel.cancel();
        }
    }
}

ffi_setter! {
    /// The directory of the batch's journal and of the large objects' checkpoints (must exist
    /// when the batch starts); NULL or "": the destination directory (hidden files there).
    ///
    /// # Safety
    /// `request` NULL or live; `dir` NULL or NUL-terminated.
    fn oss_batch_request_set_checkpoint_dir(request: *mut oss_batch_request_t, dir: opt_str) |r| {
        r.request.checkpoint_dir = dir.filter(|d| !d.is_empty()).map(PathBuf::from);
        Ok(())
    }
}

ffi_setter! {
    /// Only objects whose path below the destination matches one of these glob patterns, as
    /// rclone's filters: `*` and `?` do not cross `/`, `**` does, `[a-z]`/`[!a-z]` classes, `\x`
    /// the character `x`; a pattern starting with `/` is anchored at the destination's root,
    /// any other matches the end of the path at a component boundary (`*.gz` matches `a.gz`
    /// and `2026/12/a.gz`). Replaces the earlier list; `count` 0: every object. At most 1024
    /// patterns. A pattern that does not parse fails the batch at its start
    /// (`OSS_ERROR_KIND_INVALID_ARGUMENT`).
    ///
    /// # Safety
    /// `request` NULL or live; `patterns` NULL (only with `count` 0) or valid for `count`
    /// NUL-terminated strings.
    fn oss_batch_request_set_include(request: *mut oss_batch_request_t, patterns: str_array[count]) |r| {
        r.request.include = patterns;
        Ok(())
    }
}

ffi_setter! {
    /// Leaves out objects whose local relative path matches one of these glob patterns (as
    /// `oss_batch_request_set_include`; an exclude wins over an include); replaces the earlier
    /// list.
    ///
    /// # Safety
    /// `request` NULL or live; `patterns` NULL (only with `count` 0) or valid for `count`
    /// NUL-terminated strings.
    fn oss_batch_request_set_exclude(request: *mut oss_batch_request_t, patterns: str_array[count]) |r| {
        r.request.exclude = patterns;
        Ok(())
    }
}

ffi_setter! {
    /// Only objects of `min_size..=max_size` bytes (0 and `UINT64_MAX`: no bound). Errors:
    /// `min_size > max_size`.
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_size_range(request: *mut oss_batch_request_t, min_size: u64, max_size: u64) |r| {
        if min_size > max_size {
            return Err(Error::validate(format!("the size range is empty: min_size {min_size} > max_size {max_size}")));
        }
        r.request.min_size = (min_size > 0).then_some(min_size);
        r.request.max_size = (max_size < u64::MAX).then_some(max_size);
        Ok(())
    }
}

ffi_setter! {
    /// Only objects last modified (as listed) within `after..=before`, in Unix seconds
    /// (`INT64_MIN` and `INT64_MAX`: no bound). Errors: `after > before`.
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_modified_range(request: *mut oss_batch_request_t, after: i64, before: i64) |r| {
        if after > before {
            return Err(Error::validate(format!("the modification time range is empty: after {after} > before {before}")));
        }
        r.request.modified_after = (after > i64::MIN).then_some(after);
        r.request.modified_before = (before < i64::MAX).then_some(before);
        Ok(())
    }
}

ffi_setter! {
    /// What to do with an existing file: a value of `oss_batch_overwrite_t`. Errors: another
    /// value.
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_overwrite(request: *mut oss_batch_request_t, policy: u32) |r| {
        r.request.overwrite = match policy {
            0 => Overwrite::Always,
            1 => Overwrite::IfChanged,
            2 => Overwrite::Never,
            n => return Err(Error::validate(format!("unknown overwrite policy {n} (see oss_batch_overwrite_t: 0 always, 1 if changed, 2 never)"))),
        };
        Ok(())
    }
}

ffi_setter! {
    /// What to do when an object fails: a value of `oss_batch_on_failure_t`. Errors: another
    /// value.
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_on_failure(request: *mut oss_batch_request_t, policy: u32) |r| {
        r.request.on_failure = match policy {
            0 => OnFailure::Continue,
            1 => OnFailure::Stop,
            n => return Err(Error::validate(format!("unknown failure policy {n} (see oss_batch_on_failure_t: 0 continue, 1 stop)"))),
        };
        Ok(())
    }
}

ffi_setter! {
    /// Part size of the large objects (over twice this size: downloaded in parts, resumable):
    /// 102400 (100 KiB) ..= 5 GiB; default 8 MiB.
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_part_size(request: *mut oss_batch_request_t, part_size: u64) |r| {
        crate::download::validate::check_part_size(part_size)?;
        r.request.part_size = part_size;
        Ok(())
    }
}

ffi_setter! {
    /// Parts in flight per large object: 1..=1000 (default 4).
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_thread_num(request: *mut oss_batch_request_t, thread_num: u32) |r| {
        crate::download::validate::check_thread_num(thread_num)?;
        r.request.thread_num = thread_num;
        Ok(())
    }
}

ffi_setter! {
    /// Objects downloaded at once: 1..=1024 (default 64). Each also needs room in the client's
    /// memory budget (`oss_config_set_memory_budget`), shared with its other downloads.
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_max_objects_in_flight(request: *mut oss_batch_request_t, n: u32) |r| {
        if !(1..=1024).contains(&n) {
            return Err(Error::validate(format!("max_objects_in_flight must be 1..=1024, got {n}")));
        }
        r.request.max_objects_in_flight = n;
        Ok(())
    }
}

ffi_setter! {
    /// As `oss_download_request_set_verify_on_resume`, for the large objects (on by default).
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_verify_on_resume(request: *mut oss_batch_request_t, verify: bool) |r| {
        r.request.verify_parts_on_resume = verify;
        Ok(())
    }
}

ffi_setter! {
    /// As `oss_download_request_set_direct_io`, for the large objects (on by default).
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_direct_io(request: *mut oss_batch_request_t, direct_io: bool) |r| {
        r.request.direct_io = direct_io;
        Ok(())
    }
}

ffi_setter! {
    /// A dry run: list and filter as usual, report every object that would be downloaded
    /// (`OSS_BATCH_OUTCOME_WOULD_DOWNLOAD`), fetch and write nothing (no file, no directory, no
    /// journal).
    ///
    /// # Safety
    /// `request` NULL or live.
    fn oss_batch_request_set_dry_run(request: *mut oss_batch_request_t, dry_run: bool) |r| {
        r.request.dry_run = dry_run;
        Ok(())
    }
}

ffi_setter! {
    /// Sets the batch progress callback (NULL removes it). The previous callback's
    /// `user_data_free` is called when it is replaced or the request freed (or, for a copy
    /// taken by a transfer, when that transfer ended). `user_data_free` (may be NULL) is called
    /// exactly once, also when this call fails.
    ///
    /// # Safety
    /// `request` NULL or live; `cb` callable from library threads with `user_data`.
    fn oss_batch_request_set_progress_callback(request: *mut oss_batch_request_t, cb: (oss_batch_progress_cb), user_data: user_data[user_data_free]) |r| {
        r.request.progress = progress_callback(cb, user_data);
        Ok(())
    }
}

ffi_setter! {
    /// Sets the per-object callback (NULL removes it), called once per object with its
    /// outcome. User data as for `oss_batch_request_set_progress_callback`.
    ///
    /// # Safety
    /// `request` NULL or live; `cb` callable from library threads with `user_data`.
    fn oss_batch_request_set_object_callback(request: *mut oss_batch_request_t, cb: (oss_batch_object_cb), user_data: user_data[user_data_free]) |r| {
        r.request.on_object = object_callback(cb, user_data);
        Ok(())
    }
}

/// Runs the batch and blocks until it ended. Returns NULL when every object was downloaded,
/// skipped or (dry run) would be; otherwise the error of `oss_batch_report_result`: the batch's
/// stop (listing failed, cancelled, the stop policy; kind `OSS_ERROR_KIND_CANCELLED` for a
/// cancel) or a summary of the failed objects (the first one's kind and code, the count in the
/// message). The report (`*report_out`, when `report_out` is not NULL) is given in both cases:
/// every count, every failed key with its error, the keys the journal knew that the listing no
/// longer has. Before it returns, every downloaded file is durable and recorded in the journal.
/// The client's call timeout (`oss_config_set_call_timeout_ms`) bounds each object's download,
/// not the whole batch.
///
/// Ownership: `*report_out` is the caller's (`oss_batch_report_free`). Threads: the client is
/// shared (other calls may run at once); the request must not be changed or freed during the
/// call. Errors: NULL `client` or `request` (no report then), not initialised, a blocking call
/// from a library thread; everything else comes with a report.
///
/// # Safety
/// Pointers NULL or live; `report_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_download_objects(
    client: *const oss_client_t,
    request: *const oss_batch_request_t,
    report_out: *mut *mut oss_batch_report_t,
) -> *mut oss_error_t {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live handles not freed during the call, and only borrowed shared.
        let refs = unsafe { try_ref(client, "client").and_then(|c| Ok((c, try_ref(request, "request")?))) };
        let (c, r) = match refs {
            Ok(v) => v,
            Err(e) => return oss_error_t::boxed(e),
        };
        let run = r.cancel.around(|token| {
            let (client, req) = (c.clone(), r.request.clone());
            // No call deadline over the whole batch: the core applies the client's call timeout
            // to each object (a batch may run for hours).
            let cancel = crate::cancel::Cancel::new().with(crate::runtime::shutdown_token()?).with(token);
            crate::runtime::block_on(async move { Ok(client.download_objects(&req, &cancel).await) })
        });
        let report = match run {
            Ok(report) => report,
            Err(e) => return oss_error_t::boxed(e),
        };
        let result = report.result();
        if !report_out.is_null() {
            // SAFETY: report_out is non-NULL and writable (the contract).
            unsafe { write_out(report_out, ReportDetails::boxed(report)) };
        }
        match result {
            Ok(()) => std::ptr::null_mut(),
            Err(e) => oss_error_t::boxed(e),
        }
    }
}
