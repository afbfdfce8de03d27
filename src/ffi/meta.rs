//! `oss_object_meta_t`: what the server said about an object.

use std::ffi::{c_char, CStr, CString};

use crate::ffi::boundary::{c_string, ffi_boundary, ffi_getter};
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, Castable, OwnershipBox};
use crate::object::ObjectMeta;

/// Object metadata returned by head / get / resumable download.
///
/// Ownership: Box; returned through `meta_out` parameters, freed by `oss_object_meta_free`.
/// Lifetime: strings from its accessors live until then. Threads: immutable; any thread.
#[allow(non_camel_case_types)]
pub struct oss_object_meta_t {
    _private: [u8; 0],
}

impl Castable for oss_object_meta_t {
    type Ownership = OwnershipBox;
    type RustType = MetaDetails;
}

/// What an `oss_object_meta_t` holds: the metadata with its strings made once, NUL-terminated.
pub(crate) struct MetaDetails {
    content_length: u64,
    crc64: Option<u64>,
    verified: bool,
    etag: CString,
    last_modified: CString,
    version_id: CString,
    request_id: CString,
    content_type: CString,
    object_type: CString,
    user_meta: Vec<(CString, CString)>,
    headers: Vec<(CString, CString)>,
}

impl oss_object_meta_t {
    pub(crate) fn boxed(m: &ObjectMeta) -> *mut oss_object_meta_t {
        let pairs =
            |v: &[(String, String)]| v.iter().map(|(k, v)| (c_string(k), c_string(v))).collect();
        to_boxed_mut_ptr(MetaDetails {
            content_length: m.content_length,
            crc64: m.crc64,
            verified: m.verified,
            etag: c_string(&m.etag),
            last_modified: c_string(&m.last_modified),
            version_id: c_string(m.version_id.as_deref().unwrap_or("")),
            request_id: c_string(&m.request_id),
            content_type: c_string(&m.content_type),
            object_type: c_string(&m.object_type),
            user_meta: pairs(&m.user_meta),
            headers: pairs(&m.headers),
        })
    }
}

unsafe fn with<T>(m: *const oss_object_meta_t, default: T, f: impl FnOnce(&MetaDetails) -> T) -> T {
    // SAFETY: m is NULL or live (this function's contract).
    match unsafe { opt_ref(m) } {
        Some(m) => f(m),
        None => default,
    }
}

ffi_getter! {
    /// The object's size in bytes (the whole object, also for range downloads); -1 for NULL.
    ///
    /// # Safety
    /// `meta` NULL or live.
    fn oss_object_meta_content_length(meta: *const oss_object_meta_t) -> i64
        = -1; |m| i64::try_from(m.content_length).unwrap_or(i64::MAX)
}

/// The string getters: a table of (doc, export, field), each borrowed until
/// `oss_object_meta_free` and "" for a NULL handle.
macro_rules! meta_string_getters {
    ($($(#[$doc:meta])* $name:ident => $field:ident;)*) => {$(
        ffi_getter! {
            $(#[$doc])*
            ///
            /// # Safety
            /// `meta` NULL or live.
            fn $name(meta: *const oss_object_meta_t) -> *const c_char
                = c"".as_ptr(); |m| m.$field.as_ptr()
        }
    )*};
}

meta_string_getters! {
    /// The ETag, verbatim with its quotes. Borrowed until `oss_object_meta_free`; "" when NULL/absent.
    oss_object_meta_etag => etag;
    /// Last-Modified (RFC 1123). Borrowed until `oss_object_meta_free`; "" when NULL/absent.
    oss_object_meta_last_modified => last_modified;
    /// The version id ("" when not versioned). Borrowed until `oss_object_meta_free`.
    oss_object_meta_version_id => version_id;
    /// The request id of the answer. Borrowed until `oss_object_meta_free`.
    oss_object_meta_request_id => request_id;
    /// Content-Type. Borrowed until `oss_object_meta_free`.
    oss_object_meta_content_type => content_type;
    /// `x-oss-object-type` (Normal, Appendable, Multipart, Symlink). Borrowed until `oss_object_meta_free`.
    oss_object_meta_object_type => object_type;
}

ffi_getter! {
    /// Whether the call that returned this metadata verified every byte it delivered against the
    /// server's whole-object CRC64: a whole-object resumable download, GetObject or GetObject to a
    /// file with CRC checking on (`oss_config_set_crc64`) and `x-oss-hash-crc64ecma` in the answer.
    /// False for HEAD / GetObjectMeta results, ranges, CRC checking off, and servers that send no
    /// CRC64 (proxies, gateways, other S3-like servers): the bytes were then pinned to one ETag and
    /// length-checked, but not verified end to end. False for NULL.
    ///
    /// Threads: any (the metadata is immutable).
    ///
    /// # Safety
    /// `meta` NULL or live.
    fn oss_object_meta_verified(meta: *const oss_object_meta_t) -> bool
        = false; |m| m.verified
}

ffi_getter! {
    /// Whether the object has an `x-oss-hash-crc64ecma`; if so and `crc_out` is not NULL, writes it.
    ///
    /// # Safety
    /// `meta` NULL or live; `crc_out` NULL or writable.
    fn oss_object_meta_crc64(meta: *const oss_object_meta_t, crc_out: *mut u64) -> bool
        = false; |m| match m.crc64 {
            Some(c) => {
                // SAFETY: crc_out is NULL (skipped by write_out) or writable for a u64, the
                // `# Safety` contract of this export.
                unsafe { crate::ffi::boundary::write_out(crc_out, c) };
                true
            }
            None => false,
        }
}

/// The name/value lists (user metadata, response headers): a table of (count export, entry
/// export, field); an entry's strings are borrowed until `oss_object_meta_free`.
macro_rules! meta_pair_getters {
    ($(
        $(#[$count_doc:meta])* count $count:ident,
        $(#[$at_doc:meta])* at $at:ident => $field:ident;
    )*) => {$(
        ffi_getter! {
            $(#[$count_doc])*
            ///
            /// # Safety
            /// `meta` NULL or live.
            fn $count(meta: *const oss_object_meta_t) -> usize
                = 0; |m| m.$field.len()
        }

        ffi_getter! {
            $(#[$at_doc])*
            ///
            /// # Safety
            /// `meta` NULL or live; `name_out`/`value_out` NULL or writable.
            fn $at(
                meta: *const oss_object_meta_t,
                index: usize,
                name_out: *mut *const c_char,
                value_out: *mut *const c_char,
            ) -> bool
                = false; |m| {
                    // SAFETY: name_out and value_out are NULL (skipped) or writable for a pointer,
                    // the `# Safety` contract of this export; the strings written live in `m`, as
                    // documented.
                    unsafe { pair_at(&m.$field, index, name_out, value_out) }
                }
        }
    )*};
}

meta_pair_getters! {
    /// The number of `x-oss-meta-*` entries.
    count oss_object_meta_user_meta_count,
    /// Entry `index` of the user metadata: name (without `x-oss-meta-`, lower-case) and value,
    /// borrowed until `oss_object_meta_free`. False when out of range.
    at oss_object_meta_user_meta_at => user_meta;

    /// The number of response headers.
    count oss_object_meta_header_count,
    /// Response header `index` (lower-case name, value), borrowed until `oss_object_meta_free`.
    /// False when out of range.
    at oss_object_meta_header_at => headers;
}

/// The value of response header `name` (case-insensitive), or NULL when absent.
///
/// # Safety
/// `meta` NULL or live; `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn oss_object_meta_header(
    meta: *const oss_object_meta_t,
    name: *const c_char,
) -> *const c_char {
    ffi_boundary! {
        if name.is_null() {
            return std::ptr::null();
        }
        // SAFETY: the export's `# Safety` contract: `name` (checked non-NULL above) is
        // NUL-terminated and outlives the call; only its bytes are compared, no UTF-8 needed.
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        // SAFETY: the export's `# Safety` contract: `meta` is NULL (answered with NULL) or a live
        // handle, immutable once made, so a shared borrow is sound from any thread.
        unsafe { with(meta, std::ptr::null(), |m| {
            m.headers
                .iter()
                .find(|(k, _)| k.to_bytes().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_ptr())
                .unwrap_or(std::ptr::null())
        }) }
    }
}

unsafe fn pair_at(
    v: &[(CString, CString)],
    index: usize,
    name_out: *mut *const c_char,
    value_out: *mut *const c_char,
) -> bool {
    match v.get(index) {
        Some((k, val)) => {
            // SAFETY: out pointers are NULL or writable (this function's contract).
            unsafe {
                crate::ffi::boundary::write_out(name_out, k.as_ptr());
                crate::ffi::boundary::write_out(value_out, val.as_ptr());
            }
            true
        }
        None => false,
    }
}

/// Frees metadata. NULL is a no-op.
///
/// # Safety
/// NULL or returned by this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn oss_object_meta_free(meta: *mut oss_object_meta_t) {
    ffi_boundary! {
        // SAFETY: meta is NULL or from oss_object_meta_t::boxed (to_boxed_mut_ptr), freed once.
        unsafe { free_box(meta) };
    }
}
