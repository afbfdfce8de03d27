//! `oss_object_stream_t`: a GetObject read by the caller, piece by piece, into its own buffers
//! (`oss_client_get_object_stream_open`, `oss_object_stream_read`), over the core's
//! `ObjectReader` (cut bodies resumed, the whole object's CRC64 checked at the end).

use std::sync::Mutex;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::ffi::boundary::{check_out, ffi_boundary, ffi_try, null_argument, write_out};
use crate::ffi::client::{cancel_with, oss_client_t};
use crate::ffi::error::oss_error_t;
use crate::ffi::get_object_request::oss_get_object_request_t;
use crate::ffi::handle::{free_box, to_boxed_mut_ptr, try_ref, Castable, OwnershipBox};
use crate::ffi::meta::oss_object_meta_t;
use crate::object::ObjectReader;

/// An open GetObject whose body the caller reads with `oss_object_stream_read`.
///
/// Ownership: Box; made by `oss_client_get_object_stream_open`, released by
/// `oss_object_stream_free` (which closes the connection it holds; it need not be read to the
/// end). Threads: `oss_object_stream_read` mutates (caller serialises; concurrent reads are
/// serialised by a lock, never torn); `oss_object_stream_cancel` may be called from any thread
/// at any time, also during a read.
#[allow(non_camel_case_types)]
pub struct oss_object_stream_t {
    _private: [u8; 0],
}

impl Castable for oss_object_stream_t {
    type Ownership = OwnershipBox;
    type RustType = ObjectStream;
}

/// What an `oss_object_stream_t` holds.
pub(crate) struct ObjectStream {
    /// `oss_object_stream_cancel`.
    token: CancellationToken,
    state: Mutex<StreamState>,
}

struct StreamState {
    /// None once a read was lost to the SDK's shutdown (or a panic): later reads fail.
    reader: Option<ObjectReader>,
    /// What the last piece left after the caller's buffer was full.
    pending: Bytes,
}

/// GetObject, opened for reading piece by piece: sends the request (the request's bucket, key,
/// range, version id, conditions, response-header overrides, traffic limit, request payer; its
/// progress callback is not used) and checks the answer's headers; no body byte is read yet.
/// Blocks until the answer's headers arrived (retrying as any call); `oss_get_object_request_cancel`
/// stops it. The request may be freed right after. `*meta_out` (`meta_out` may be NULL) is the
/// answer's metadata, the caller's to free. The client's call timeout, when set, is a deadline
/// for the whole read, from this call to the last `oss_object_stream_read`.
///
/// Ownership: `*stream_out` is the caller's, freed with `oss_object_stream_free`; it holds one of
/// the client's connections (`max_connections`) until then, and a reference to the client.
/// Threads: any.
///
/// # Safety
/// Pointers NULL or live; `stream_out` and `meta_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_get_object_stream_open(
    client: *const oss_client_t,
    request: *const oss_get_object_request_t,
    stream_out: *mut *mut oss_object_stream_t,
    meta_out: *mut *mut oss_object_meta_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(stream_out, "stream_out")?;
        // SAFETY: the export's `# Safety` contract: `client` and `request` are NULL (refused) or
        // live handles not freed during the call, and only borrowed shared (as `const` allows from any
        // thread).
        let (c, r) = unsafe { (try_ref(client, "client")?, try_ref(request, "request")?) };
        let token = CancellationToken::new();
        let cancel = cancel_with(c, Some(token.clone()))?;
        let (client, object, range) = (c.clone(), r.object.clone(), r.range);
        // The request's cancel stops the open only: the stream keeps no link to the request.
        let reader = r.cancel.around(|call| {
            crate::runtime::block_on(async move {
                tokio::select! {
                    reader = ObjectReader::open(&client, &object, range, &cancel) => reader,
                    () = call.cancelled() => Err(Error::cancelled("the operation was cancelled")),
                }
            })
        })?;
        if !meta_out.is_null() {
            // SAFETY: the export's `# Safety` contract: `meta_out` is NULL (skipped) or writable
            // for one value (required outs were checked non-NULL first).
            unsafe { write_out(meta_out, oss_object_meta_t::boxed(reader.meta())) };
        }
        let stream = ObjectStream {
            token,
            state: Mutex::new(StreamState { reader: Some(reader), pending: Bytes::new() }),
        };
        // SAFETY: the export's `# Safety` contract: `stream_out` is NULL (skipped) or writable for
        // one value (required outs were checked non-NULL first).
        unsafe { write_out(stream_out, to_boxed_mut_ptr::<oss_object_stream_t>(stream)) };
        Ok(())
    }
}

/// Reads the next bytes of the object, in order, into `buf` (`capacity` > 0 bytes): blocks until
/// at least one byte is there, then writes `*n_out` (1..=`capacity`); `*n_out == 0` means the
/// end, reached only after the whole object's CRC64 matched the server's (CRC on, no range or a
/// range covering the object): a mismatch is this read's error (`OSS_ERROR_KIND_CRC_MISMATCH`),
/// never a silent end. A body cut mid-way is resumed where it stopped, pinned to the first
/// answer's ETag (`OSS_ERROR_KIND_OBJECT_CHANGED` if the object changed). After an error or the
/// end, every later read returns the same. `oss_object_stream_cancel` stops a read.
///
/// Threads: one read at a time per stream (a second one waits for the first).
///
/// # Safety
/// `stream` NULL or live; `buf` NULL or writable for `capacity` bytes; `n_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_object_stream_read(
    stream: *mut oss_object_stream_t,
    buf: *mut u8,
    capacity: usize,
    n_out: *mut usize,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(n_out, "n_out")?;
        // SAFETY: NULL or live per the contract; only shared references are made, so a
        // concurrent oss_object_stream_cancel is sound.
        let s = unsafe { try_ref(stream.cast_const(), "stream")? };
        if buf.is_null() {
            return Err(null_argument("buf"));
        }
        if capacity == 0 {
            return Err(Error::validate("the capacity of the buffer is 0 (0 bytes read would look like the end)"));
        }
        if s.token.is_cancelled() {
            // Also when bytes of the last piece are still held: a cancelled stream gives none.
            return Err(Error::cancelled("the operation was cancelled"));
        }
        let mut st = s.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.pending.is_empty() {
            // Refused before the state is taken out: a refusal loses nothing.
            crate::runtime::may_block()?;
            let mut reader = st.reader.take().ok_or_else(|| {
                Error::not_initialized_because("this stream is unusable: a read of it was stopped by the SDK's shutdown")
            })?;
            let (reader, next) = crate::runtime::block_on(async move {
                let next = reader.next_chunk().await;
                Ok((reader, next))
            })?;
            st.reader = Some(reader);
            match next? {
                Some(bytes) => st.pending = bytes,
                None => {
                    // SAFETY: the export's `# Safety` contract: `n_out` is NULL (skipped) or
                    // writable for one value (required outs were checked non-NULL first).
                    unsafe { write_out(n_out, 0) };
                    return Ok(());
                }
            }
        }
        let n = capacity.min(st.pending.len());
        let piece = st.pending.split_to(n);
        // SAFETY: buf is writable for capacity >= piece.len() bytes per the contract, and
        // cannot overlap the library's own buffer.
        unsafe { std::ptr::copy_nonoverlapping(piece.as_ptr(), buf, piece.len()) };
        // SAFETY: the export's `# Safety` contract: `n_out` is NULL (skipped) or writable for one
        // value (required outs were checked non-NULL first).
        unsafe { write_out(n_out, piece.len()) };
        Ok(())
    }
}

/// Cancels the stream: a read in progress and every later read fail with
/// `OSS_ERROR_KIND_CANCELLED`. NULL is a no-op. Threads: any, at any time.
///
/// # Safety
/// `stream` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_object_stream_cancel(stream: *const oss_object_stream_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `stream` is NULL (refused) or a live handle not
        // freed during the call, and only borrowed shared (as `const` allows from any thread).
        if let Ok(s) = unsafe { try_ref(stream, "stream") } {
            s.token.cancel();
        }
    }
}

/// Closes and frees the stream (read to the end or not). NULL is a no-op.
///
/// # Safety
/// `stream` NULL or from `oss_client_get_object_stream_open`, not yet freed, no read running.
#[no_mangle]
pub unsafe extern "C" fn oss_object_stream_free(stream: *mut oss_object_stream_t) {
    ffi_boundary! {
        // SAFETY: the export's `# Safety` contract: `stream` is NULL or from this handle type's
        // constructor, freed once when no call uses it.
        unsafe { free_box(stream) }
    }
}
