//! `oss_reader_t`: an object read through the core's prefetching reader
//! (`object::prefetch::PrefetchReader`) into the caller's buffers, pulled (`oss_reader_read`,
//! `_seek`, `_tell`) or pushed in order to a callback with a window the caller advances
//! (`oss_reader_push_t`, aws-c-s3's shape); and `oss_reader_options_t`, how far it fetches ahead.

use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::ffi::boundary::{
    check_out, ffi_boundary, ffi_getter, ffi_setter, ffi_try, null_argument, write_out, UserData,
};
use crate::ffi::client::oss_client_t;
use crate::ffi::error::oss_error_t;
use crate::ffi::get_object_request::oss_get_object_request_t;
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, try_ref, Castable, OwnershipBox};
use crate::ffi::meta::oss_object_meta_t;
use crate::object::prefetch::{
    PrefetchOptions, PrefetchReader, ReaderCancel, MAX_READER_PART_SIZE, MAX_READ_AHEAD,
    MIN_READER_PART_SIZE,
};
use crate::object::ObjectMeta;

/// How far a reader fetches ahead: the size of each GET, the largest window of a sequential
/// read, the read-ahead of a random read (defaults: 1 MiB, 64 MiB, 64 KiB; the client's memory
/// budget bounds the window too).
///
/// Ownership: Box; `oss_reader_options_new` / `oss_reader_options_free`. Lifetime: a reader
/// copies it when opened. Threads: setters mutate (caller serialises); a `const` options may be
/// used by several opens at once.
#[allow(non_camel_case_types)]
pub struct oss_reader_options_t {
    _private: [u8; 0],
}

impl Castable for oss_reader_options_t {
    type Ownership = OwnershipBox;
    type RustType = PrefetchOptions;
}

/// New reader options with the defaults.
///
/// # Safety
/// `options_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_options_new(
    options_out: *mut *mut oss_reader_options_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(options_out, "options_out")?;
        // SAFETY: the export's `# Safety` contract: `options_out` is writable for one value
        // (checked non-NULL above).
        unsafe { write_out(options_out, to_boxed_mut_ptr::<oss_reader_options_t>(PrefetchOptions::default())) };
        Ok(())
    }
}

ffi_setter! {
    /// Sets the size of each GET of a sequential read, 65536 (64 KiB) ..= 268435456 (256 MiB):
    /// the smallest one (a wide window is asked for in larger GETs, up to 8 MiB, or this size
    /// when larger). The largest window must stay at least this (checked when a reader is
    /// opened).
    ///
    /// # Safety
    /// `options` NULL or live.
    fn oss_reader_options_set_part_size(options: *mut oss_reader_options_t, part_size: u64) |o| {
        if !(MIN_READER_PART_SIZE..=MAX_READER_PART_SIZE).contains(&part_size) {
            return Err(Error::validate(format!("the reader's part size must be between {MIN_READER_PART_SIZE} and {MAX_READER_PART_SIZE} bytes, got {part_size}")));
        }
        o.part_size = part_size;
        Ok(())
    }
}

ffi_setter! {
    /// Sets the largest window of a sequential read (bytes fetched ahead of the position), at
    /// least the part size (checked when a reader is opened); the client's memory budget bounds
    /// it as well.
    ///
    /// # Safety
    /// `options` NULL or live.
    fn oss_reader_options_set_max_window(options: *mut oss_reader_options_t, max_window: u64) |o| {
        if max_window < MIN_READER_PART_SIZE {
            return Err(Error::validate(format!("the reader's largest window must be at least {MIN_READER_PART_SIZE} bytes, got {max_window}")));
        }
        o.max_window = max_window;
        Ok(())
    }
}

ffi_setter! {
    /// Sets the bytes a random read fetches beyond what it asks for, 0 ..= 67108864 (64 MiB).
    ///
    /// # Safety
    /// `options` NULL or live.
    fn oss_reader_options_set_read_ahead(options: *mut oss_reader_options_t, read_ahead: u64) |o| {
        if read_ahead > MAX_READ_AHEAD {
            return Err(Error::validate(format!("the reader's read-ahead must be at most {MAX_READ_AHEAD} bytes, got {read_ahead}")));
        }
        o.read_ahead = read_ahead;
        Ok(())
    }
}

/// Frees reader options. NULL is a no-op.
///
/// # Safety
/// `options` NULL or from `oss_reader_options_new`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_options_free(options: *mut oss_reader_options_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: NULL or from this handle type's constructor,
        // freed once.
        unsafe { free_box(options) }
    }
}

/// An object (or a range of it) read with prefetching: several ranged GETs in flight ahead of
/// sequential reads, what is asked plus a small read-ahead for random reads, every GET pinned to
/// the first answer's ETag, the whole-object CRC64 checked when a read reaches the end.
///
/// Ownership: Box; made by `oss_client_open_reader`, released by `oss_reader_free` (which
/// stops its GETs and gives back its memory; it need not be read to the end). It holds a
/// reference to the client. Lifetime: independent of the request and options it was opened
/// with. Threads: `oss_reader_read`, `_seek` and `_meta` are serialised by a lock (one at a
/// time; never torn); `oss_reader_tell`, `_size` and `_cancel` may be called from any thread at
/// any time, also during a read.
#[allow(non_camel_case_types)]
pub struct oss_reader_t {
    _private: [u8; 0],
}

impl Castable for oss_reader_t {
    type Ownership = OwnershipBox;
    type RustType = Reader;
}

/// What an `oss_reader_t` holds.
pub(crate) struct Reader {
    cancel: ReaderCancel,
    size: u64,
    /// The position, for `oss_reader_tell` during a read.
    pos: AtomicU64,
    /// None once a read was lost to the SDK's shutdown: later calls fail.
    state: Mutex<Option<PrefetchReader>>,
}

fn lost() -> Error {
    Error::not_initialized_because(
        "this reader is unusable: a read of it was stopped by the SDK's shutdown",
    )
}

/// The options behind `options`, or the defaults for NULL.
///
/// # Safety
/// `options` NULL or live.
unsafe fn options_or_default(options: *const oss_reader_options_t) -> PrefetchOptions {
    // SAFETY: NULL or live per the caller's contract; only read.
    unsafe { opt_ref(options) }.copied().unwrap_or_default()
}

/// Opens a reader on the request's object: sends a HEAD (the request's bucket, key, version id,
/// range, conditions and payer; its progress callback is not used) and blocks until it answered
/// (retried as any call; `oss_get_object_request_cancel` stops it; the client's call timeout
/// applies to it). No byte is fetched yet. `options` NULL: the defaults. The request and options
/// may be freed right after.
///
/// Ownership: `*reader_out` is the caller's, freed with `oss_reader_free`. Threads: any.
/// Errors: NULL `client`/`request`/`reader_out`; options out of bounds, a range starting beyond
/// the object, a request made from a URL (`ValidateError`); the HEAD's errors (`NoSuchKey`...).
///
/// # Safety
/// Pointers NULL or live; `reader_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_open_reader(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    options: *const oss_reader_options_t,
    reader_out: *mut *mut oss_reader_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(reader_out, "reader_out")?;
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live and only borrowed shared; `options` NULL or live.
        let (c, r, opts) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?, options_or_default(options)) };
        let reader = open(c, r, opts)?;
        let out = Reader {
            cancel: reader.canceller(),
            size: reader.size(),
            pos: AtomicU64::new(0),
            state: Mutex::new(Some(reader)),
        };
        // SAFETY: the export's `# Safety` contract: `reader_out` is writable (checked non-NULL).
        unsafe { write_out(reader_out, to_boxed_mut_ptr::<oss_reader_t>(out)) };
        Ok(())
    }
}

/// Opens the core reader for `r` on `c` (blocking; the request's cancel stops it).
fn open(
    c: &crate::client::Client,
    r: &crate::ffi::get_object_request::GetObjectParams,
    opts: PrefetchOptions,
) -> Result<PrefetchReader> {
    let cancel = crate::cancel::Cancel::new().with(crate::runtime::shutdown_token()?);
    let (client, object, range) = (c.clone(), r.object.clone(), r.range);
    r.cancel.around(|call| {
        crate::runtime::block_on(async move {
            tokio::select! {
                reader = PrefetchReader::open(&client, &object, range, opts, &cancel) => reader,
                () = call.cancelled() => Err(Error::cancelled("the operation was cancelled")),
            }
        })
    })
}

/// Reads up to `len` bytes at the position into `buf`: blocks until at least one byte is there,
/// then copies every byte already received (up to `len`) and writes the count to `*n_out`;
/// `*n_out == 0` is the end (or a position past it), reached only after the whole object's
/// CRC64 matched the server's when the reads went from its start to its end (CRC on, no range):
/// a mismatch is this read's error (`OSS_ERROR_KIND_CRC_MISMATCH`), never a silent end. The
/// object changed on the server: `OSS_ERROR_KIND_OBJECT_CHANGED` (never bytes of two versions).
/// After an error every later read returns it again. `oss_reader_cancel` stops a read.
///
/// Threads: one read at a time per reader (a second one waits for the first).
/// Errors: NULL `reader`/`n_out`, NULL `buf` with `len` > 0, `len` 0 (`ValidateError`: 0 bytes
/// read would look like the end).
///
/// # Safety
/// `reader` NULL or live; `buf` NULL or writable for `len` bytes; `n_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_read(
    reader: *mut oss_reader_t,
    buf: *mut u8,
    len: usize,
    n_out: *mut usize,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(n_out, "n_out")?;
        // SAFETY: NULL or live per the contract; only shared references are made, so a
        // concurrent oss_reader_cancel or oss_reader_tell is sound.
        let r = unsafe { try_ref(reader.cast_const(), "reader")? };
        if buf.is_null() {
            return Err(null_argument("buf"));
        }
        if len == 0 {
            return Err(Error::validate("the length of the buffer is 0 (0 bytes read would look like the end)"));
        }
        let mut st = r.state.lock().unwrap_or_else(|e| e.into_inner());
        // Refused before the state is taken out: a refusal loses nothing.
        crate::runtime::may_block()?;
        let mut pr = st.take().ok_or_else(lost)?;
        let (pr, ready) = crate::runtime::block_on(async move {
            let ready = pr.fill(len).await;
            Ok((pr, ready))
        })?;
        let pr = st.insert(pr);
        let n = if ready? {
            // SAFETY: `buf` is writable for `len` bytes per the contract, and is not the library's
            // memory (the caller's buffer), so no other reference to it exists during the call.
            let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
            pr.take(out)
        } else {
            0
        };
        r.pos.store(pr.tell(), Ordering::Relaxed);
        // SAFETY: the contract: `n_out` is writable (checked non-NULL first).
        unsafe { write_out(n_out, n) };
        Ok(())
    }
}

/// Moves the position: `whence` 0 (`SEEK_SET`: from the start), 1 (`SEEK_CUR`: from the
/// position), 2 (`SEEK_END`: from the end), as `<stdio.h>` numbers them; positions past the end
/// are allowed (reads there return the end). Sends nothing: the next read fetches what it needs
/// (a seek outside the bytes in flight collapses the window). Writes the new position to
/// `*pos_out` (may be NULL).
///
/// Errors: NULL `reader`, another `whence`, a position before the start (`ValidateError`); the
/// error of an earlier read.
///
/// # Safety
/// `reader` NULL or live; `pos_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_seek(
    reader: *mut oss_reader_t,
    offset: i64,
    whence: i32,
    pos_out: *mut u64,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or live per the contract; only shared references are made.
        let r = unsafe { try_ref(reader.cast_const(), "reader")? };
        let mut st = r.state.lock().unwrap_or_else(|e| e.into_inner());
        let pr = st.as_mut().ok_or_else(lost)?;
        let from = match whence {
            0 => 0i128,
            1 => i128::from(pr.tell()),
            2 => i128::from(pr.size()),
            _ => return Err(Error::validate(format!("whence must be 0 (SEEK_SET), 1 (SEEK_CUR) or 2 (SEEK_END), got {whence}"))),
        };
        let to = from + i128::from(offset);
        let to = u64::try_from(to).map_err(|_| Error::validate(format!("cannot seek to {to}: before the start")))?;
        let pos = pr.seek(to)?;
        r.pos.store(pos, Ordering::Relaxed);
        if !pos_out.is_null() {
            // SAFETY: the contract: `pos_out` NULL (skipped) or writable.
            unsafe { write_out(pos_out, pos) };
        }
        Ok(())
    }
}

ffi_getter! {
    /// The position of the next read, from the start (of the range). NULL: -1. Threads: any,
    /// also during a read (it then says the position before that read).
    ///
    /// # Safety
    /// `reader` NULL or live.
    fn oss_reader_tell(reader: *const oss_reader_t) -> i64 = -1; |r| i64::try_from(r.pos.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
}

ffi_getter! {
    /// The number of bytes readable: the object's size, or the range's. NULL: -1. Threads: any.
    ///
    /// # Safety
    /// `reader` NULL or live.
    fn oss_reader_size(reader: *const oss_reader_t) -> i64 = -1; |r| i64::try_from(r.size).unwrap_or(i64::MAX)
}

/// The object's metadata (from the HEAD; `oss_object_meta_verified` is true once a read reached
/// the end and the whole-object CRC64 matched), into `*meta_out`, the caller's to free with
/// `oss_object_meta_free`. Waits for a read in progress.
///
/// # Safety
/// `reader` NULL or live; `meta_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_meta(
    reader: *const oss_reader_t,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(meta_out, "meta_out")?;
        // SAFETY: NULL or live per the contract; only read.
        let r = unsafe { try_ref(reader, "reader")? };
        let st = r.state.lock().unwrap_or_else(|e| e.into_inner());
        let meta = oss_object_meta_t::boxed(st.as_ref().ok_or_else(lost)?.meta());
        // SAFETY: the contract: `meta_out` is writable (checked non-NULL first).
        unsafe { write_out(meta_out, meta) };
        Ok(())
    }
}

/// Cancels the reader: a read in progress and every later one fail with
/// `OSS_ERROR_KIND_CANCELLED`; its GETs stop. NULL is a no-op. Threads: any, at any time.
///
/// # Safety
/// `reader` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_cancel(reader: *const oss_reader_t) {
    ffi_boundary! {
        // SAFETY: NULL or live per the contract; only borrowed shared.
        if let Some(r) = unsafe { opt_ref(reader) } {
            r.cancel.cancel();
        }
    }
}

/// Closes and frees the reader (read to the end or not): its GETs in flight are stopped and
/// their memory given back. NULL is a no-op.
///
/// # Safety
/// `reader` NULL or from `oss_client_open_reader`, not yet freed, no call on it running.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_free(reader: *mut oss_reader_t) {
    ffi_boundary! {
        // SAFETY: NULL or from this handle type's constructor, freed once when no call uses it.
        unsafe { free_box(reader) }
    }
}

// ---- The push form ------------------------------------------------------------------------

/// The body callback of `oss_client_start_reader_push`: `len` bytes of the object at `offset`
/// (from the start of the range), in order, each byte once. `data` is valid during the call
/// only. Return 0 to go on, anything else to stop (the push then ends with
/// `OSS_ERROR_KIND_CANCELLED`). Calls are serialised and come from a library thread; the callback
/// may call `oss_reader_push_increment_window` and `oss_reader_push_cancel`, and no other SDK
/// call.
#[allow(non_camel_case_types)]
pub type oss_reader_body_cb = Option<
    unsafe extern "C" fn(data: *const u8, len: usize, offset: u64, user_data: *mut c_void) -> i32,
>;

/// An object delivered in order to a callback, with a read window the caller advances (the
/// shape of aws-c-s3's `body_callback` with `increment_read_window`): bytes beyond the window
/// are neither delivered nor fetched beyond the reader's own window, so a slow consumer never
/// grows memory.
///
/// Ownership: Box; made by `oss_client_start_reader_push`, released by `oss_reader_push_free`.
/// Threads: `oss_reader_push_increment_window`, `_cancel` and `_wait` may be called from any
/// thread (`_wait` not from the callback).
#[allow(non_camel_case_types)]
pub struct oss_reader_push_t {
    _private: [u8; 0],
}

impl Castable for oss_reader_push_t {
    type Ownership = OwnershipBox;
    type RustType = ReaderPush;
}

/// What an `oss_reader_push_t` holds.
pub(crate) struct ReaderPush {
    shared: Arc<PushShared>,
}

struct PushShared {
    token: CancellationToken,
    /// The bytes the caller allows delivered, in all, from the start.
    window: AtomicU64,
    /// Signalled when the window grows.
    grown: Notify,
    outcome: Mutex<Option<Result<ObjectMeta>>>,
    finished: Condvar,
}

impl PushShared {
    fn finish(&self, r: Result<ObjectMeta>) {
        let mut o = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if o.is_none() {
            *o = Some(r);
        }
        self.finished.notify_all();
    }

    /// Waits for the outcome.
    fn wait(&self) -> Result<ObjectMeta> {
        let mut o = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = &*o {
                return r.clone();
            }
            o = self.finished.wait(o).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Ends the push when its task stops without an outcome (SDK shutdown, a panic).
struct PushEnd(Arc<PushShared>);

impl Drop for PushEnd {
    fn drop(&mut self) {
        self.0.finish(Err(Error::cancelled(
            "the push was stopped (the SDK shut down)",
        )));
    }
}

/// The C callback and its user data (freed when the push's task ends).
struct BodyCallback {
    cb: unsafe extern "C" fn(*const u8, usize, u64, *mut c_void) -> i32,
    data: UserData,
}

impl BodyCallback {
    fn call(&self, bytes: &[u8], offset: u64) -> i32 {
        // SAFETY: the callback was registered for calls with this user data from library threads
        // (the contract); `bytes` is valid for the call.
        unsafe { (self.cb)(bytes.as_ptr(), bytes.len(), offset, self.data.get()) }
    }
}

/// Starts delivering the request's object in order to `callback` (see `oss_reader_body_cb`)
/// and returns at once: a library task opens a reader (as `oss_client_open_reader`, `options`
/// NULL: the defaults) and calls `callback` with the bytes up to the window: `initial_window`
/// bytes from the start (`UINT64_MAX`: no window), more as `oss_reader_push_increment_window`
/// allows. `user_data_free` (may be NULL) is called once with `user_data` after the last callback
/// (also when this call fails). `oss_reader_push_wait` gives the outcome.
///
/// Ownership: `*push_out` is the caller's, freed with `oss_reader_push_free`.
/// Errors: NULL `client`/`request`/`callback`/`push_out`, options out of bounds (`ValidateError`).
///
/// # Safety
/// Pointers NULL or live; `push_out` NULL or writable; `callback` safe to call from any thread
/// with `user_data` until `user_data_free`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn oss_client_start_reader_push(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    options: *const oss_reader_options_t,
    initial_window: u64,
    callback: oss_reader_body_cb,
    user_data: *mut c_void,
    user_data_free: Option<unsafe extern "C" fn(*mut c_void)>,
    push_out: *mut *mut oss_reader_push_t,
) -> *mut oss_error_t {
    ffi_try! {
        // Owned at once: any early error frees it, once.
        let data = UserData { ptr: user_data, free: user_data_free };
        check_out(push_out, "push_out")?;
        let cb = callback.ok_or_else(|| null_argument("callback"))?;
        // SAFETY: the export's `# Safety` contract: NULL (refused) or live, borrowed shared;
        // `options` NULL or live.
        let (c, r, opts) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?, options_or_default(options)) };
        opts.validate()?;
        let shared = Arc::new(PushShared {
            token: CancellationToken::new(),
            window: AtomicU64::new(initial_window),
            grown: Notify::new(),
            outcome: Mutex::new(None),
            finished: Condvar::new(),
        });
        let cancel = crate::cancel::Cancel::new().with(crate::runtime::shutdown_token()?).with(shared.token.clone());
        let (client, object, range) = (c.clone(), r.object.clone(), r.range);
        let body = BodyCallback { cb, data };
        let task_shared = shared.clone();
        // Made before the task, so that a task dropped before it ever ran still ends the push.
        let end = PushEnd(shared.clone());
        crate::runtime::spawn_with(move || async move {
            let r = push(&client, &object, range, opts, &cancel, &task_shared, &body).await;
            drop(body); // user_data_free after the last callback, before the outcome is told
            task_shared.finish(r);
            drop(end);
        })?;
        // SAFETY: the contract: `push_out` is writable (checked non-NULL first).
        unsafe { write_out(push_out, to_boxed_mut_ptr::<oss_reader_push_t>(ReaderPush { shared })) };
        Ok(())
    }
}

/// The push's task: open, then deliver within the window.
async fn push(
    client: &crate::client::Client,
    object: &crate::object::ObjectRequest,
    range: Option<(i64, i64)>,
    opts: PrefetchOptions,
    cancel: &crate::cancel::Cancel,
    shared: &PushShared,
    body: &BodyCallback,
) -> Result<ObjectMeta> {
    let mut reader = PrefetchReader::open(client, object, range, opts, cancel).await?;
    loop {
        if reader.tell() >= reader.size() {
            // Nothing left to deliver (an empty object ends here whatever the window): the read
            // of the end runs the whole-object check.
            reader.fill(1).await?;
            return Ok(reader.meta().clone());
        }
        let allowed = loop {
            let grown = shared.grown.notified();
            let w = shared.window.load(Ordering::Acquire);
            if w > reader.tell() {
                break w - reader.tell();
            }
            cancel
                .run(async {
                    grown.await;
                    Ok(())
                })
                .await?;
        };
        let want = usize::try_from(allowed)
            .unwrap_or(usize::MAX)
            .min(opts.part_size as usize);
        if !reader.fill(want).await? {
            return Ok(reader.meta().clone());
        }
        let mut left = want;
        while left > 0 {
            let at = reader.tell();
            let Some(piece) = reader.take_piece(left) else {
                break;
            };
            cancel.check()?;
            if body.call(&piece, at) != 0 {
                return Err(Error::client(
                    crate::error::ErrorKind::Cancelled,
                    crate::error::curl::ABORTED_BY_CALLBACK,
                    "the body callback asked to stop",
                ));
            }
            left -= piece.len();
        }
    }
}

/// Lets `bytes` more of the object be delivered (saturating). NULL is a no-op. Threads: any,
/// also from the callback.
///
/// # Safety
/// `push` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_push_increment_window(
    push: *const oss_reader_push_t,
    bytes: u64,
) {
    ffi_boundary! {
        // SAFETY: NULL or live per the contract; only borrowed shared.
        if let Some(p) = unsafe { opt_ref(push) } {
            let _ = p.shared.window.fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| Some(w.saturating_add(bytes)));
            p.shared.grown.notify_one();
        }
    }
}

/// Cancels the push: no callback starts after this returns (one running finishes), the push
/// ends with `OSS_ERROR_KIND_CANCELLED`. NULL is a no-op. Threads: any, also from the callback.
///
/// # Safety
/// `push` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_push_cancel(push: *const oss_reader_push_t) {
    ffi_boundary! {
        // SAFETY: NULL or live per the contract; only borrowed shared.
        if let Some(p) = unsafe { opt_ref(push) } {
            p.shared.token.cancel();
        }
    }
}

/// Waits until the push ended (every byte delivered and, for a whole object, its CRC64 checked;
/// or an error, or a cancel) and returns its outcome; `*meta_out` (may be NULL) is then the
/// object's metadata, the caller's to free. Not from the callback (it would wait for itself:
/// `ValidateError`). May be called again: the same outcome.
///
/// # Safety
/// `push` NULL or live; `meta_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_push_wait(
    push: *const oss_reader_push_t,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        // SAFETY: NULL or live per the contract; only borrowed shared.
        let p = unsafe { try_ref(push, "push")? };
        if crate::runtime::on_library_thread() {
            return Err(Error::validate("oss_reader_push_wait was called from a library callback: it would wait for itself"));
        }
        let meta = p.shared.wait()?;
        if !meta_out.is_null() {
            // SAFETY: the contract: `meta_out` NULL (skipped) or writable.
            unsafe { write_out(meta_out, oss_object_meta_t::boxed(&meta)) };
        }
        Ok(())
    }
}

ffi_getter! {
    /// Whether the push has ended (`oss_reader_push_wait` would not block). NULL: true.
    ///
    /// # Safety
    /// `push` NULL or live.
    fn oss_reader_push_is_done(push: *const oss_reader_push_t) -> bool = true; |p| p.shared.outcome.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// Frees the push: cancels it if it has not ended, and waits for its task to stop (no callback
/// runs after this returns; not from the callback). NULL is a no-op.
///
/// # Safety
/// `push` NULL or from `oss_client_start_reader_push`, not yet freed, no call on it running.
#[no_mangle]
pub unsafe extern "C" fn oss_reader_push_free(push: *mut oss_reader_push_t) {
    ffi_boundary! {
        // SAFETY: NULL or live per the contract; only borrowed shared before the free below.
        if let Some(p) = unsafe { opt_ref(push.cast_const()) } {
            p.shared.token.cancel();
            if !crate::runtime::on_library_thread() {
                let _ = p.shared.wait();
            }
        }
        // SAFETY: NULL or from this handle type's constructor, freed once when no call uses it.
        unsafe { free_box(push) }
    }
}
