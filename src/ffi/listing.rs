//! `oss_listing_t` and `oss_list_page_t`: a bucket listed page by page (ListObjectsV2, over the
//! core's `listing::Listing`, with its loop, size and key guards), for callers that walk a prefix
//! (the Python filesystem's `ls`, `find` and `glob`).

use std::ffi::{c_char, CString};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::ffi::boundary::{
    arg_str, c_string, check_out, ffi_boundary, ffi_getter, ffi_try, opt_str, write_out,
};
use crate::ffi::client::{cancel_with, oss_client_t};
use crate::ffi::error::oss_error_t;
use crate::ffi::handle::{free_box, opt_ref, to_boxed_mut_ptr, try_ref, Castable, OwnershipBox};
use crate::listing::{ListPage, ListRequest, Listing};

/// A listing in progress: `oss_listing_next_page` until it gives no page.
///
/// Ownership: Box; made by `oss_client_list_objects`, released by `oss_listing_free`. It holds a
/// reference to the client. Threads: `oss_listing_next_page` mutates (calls are serialised by a
/// lock); `oss_listing_cancel` may be called from any thread at any time.
#[allow(non_camel_case_types)]
pub struct oss_listing_t {
    _private: [u8; 0],
}

impl Castable for oss_listing_t {
    type Ownership = OwnershipBox;
    type RustType = ListingHandle;
}

/// What an `oss_listing_t` holds.
pub(crate) struct ListingHandle {
    client: crate::client::Client,
    token: CancellationToken,
    /// None once a call was lost to the SDK's shutdown.
    listing: Mutex<Option<Listing>>,
}

/// One page of a listing: objects (in byte order) and, with a delimiter, common prefixes.
///
/// Ownership: Box; made by `oss_listing_next_page`, freed by `oss_list_page_free`. Lifetime:
/// strings from its accessors live until then. Threads: immutable; any thread.
#[allow(non_camel_case_types)]
pub struct oss_list_page_t {
    _private: [u8; 0],
}

impl Castable for oss_list_page_t {
    type Ownership = OwnershipBox;
    type RustType = PageDetails;
}

/// A page with its strings made once, NUL-terminated.
pub(crate) struct PageDetails {
    entries: Vec<EntryDetails>,
    prefixes: Vec<CString>,
}

struct EntryDetails {
    key: CString,
    size: u64,
    etag: CString,
    last_modified: CString,
    storage_class: CString,
    /// Set for a key OSS cannot hold (`listing::InvalidKey`): the escaped, cut key and its rule.
    invalid: Option<CString>,
}

impl PageDetails {
    fn of(p: &ListPage) -> PageDetails {
        PageDetails {
            entries: p
                .entries
                .iter()
                .map(|e| EntryDetails {
                    key: c_string(&e.key),
                    size: e.size,
                    etag: c_string(&e.etag),
                    last_modified: c_string(&e.last_modified),
                    storage_class: c_string(&e.storage_class),
                    invalid: e
                        .invalid
                        .as_ref()
                        .map(|i| c_string(&format!("{}: {}", i.shown, i.rule))),
                })
                .collect(),
            prefixes: p.common_prefixes.iter().map(|s| c_string(s)).collect(),
        }
    }
}

/// Starts listing `bucket`: the keys starting with `prefix` (NULL or "": all), grouped by what
/// follows the prefix up to the first `delimiter` (NULL or "": no grouping; "/" lists one
/// "directory"), after `start_after` (NULL or "": from the start), `max_keys` entries per page
/// (1..=1000; 0: 1000). Sends nothing yet.
///
/// Ownership: `*listing_out` is the caller's, freed with `oss_listing_free`. Threads: any.
/// Errors: NULL `client`/`bucket`/`listing_out`, bad UTF-8, an invalid bucket name, `max_keys`
/// above 1000, a prefix, delimiter or start-after longer than 1023 bytes (`ValidateError`).
///
/// # Safety
/// Pointers NULL or live; strings NULL or NUL-terminated; `listing_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_client_list_objects(
    client: *const oss_client_t,
    bucket: *const c_char,
    prefix: *const c_char,
    delimiter: *const c_char,
    start_after: *const c_char,
    max_keys: u32,
    listing_out: *mut *mut oss_listing_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(listing_out, "listing_out")?;
        // SAFETY: the export's `# Safety` contract: `client` NULL (refused) or live, borrowed
        // shared; the strings NULL or NUL-terminated for the call (UTF-8 checked).
        let (c, bucket, prefix, delimiter, start_after) = unsafe {
            (
                try_ref(client, "client")?,
                arg_str(bucket, "bucket")?,
                opt_str(prefix, "prefix")?,
                opt_str(delimiter, "delimiter")?,
                opt_str(start_after, "start_after")?,
            )
        };
        let mut req = ListRequest::new(bucket);
        req.prefix = prefix.unwrap_or_default().to_string();
        req.delimiter = delimiter.unwrap_or_default().to_string();
        req.start_after = start_after.unwrap_or_default().to_string();
        req.max_keys = if max_keys == 0 { 1000 } else { max_keys };
        let listing = Listing::new(c, req)?;
        let h = ListingHandle { client: c.clone(), token: CancellationToken::new(), listing: Mutex::new(Some(listing)) };
        // SAFETY: the contract: `listing_out` is writable (checked non-NULL first).
        unsafe { write_out(listing_out, to_boxed_mut_ptr::<oss_listing_t>(h)) };
        Ok(())
    }
}

/// Fetches the next page (blocking; retried as any call; the client's call timeout applies to
/// each page) into `*page_out`, the caller's to free with `oss_list_page_free`; `*page_out` is
/// NULL once the listing is complete. A listing that failed (a loop, a page too large, a key
/// that is not usable...) fails again on every later call; a cancelled one may be asked again.
///
/// # Safety
/// `listing` NULL or live; `page_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_listing_next_page(
    listing: *mut oss_listing_t,
    page_out: *mut *mut oss_list_page_t,
) -> *mut oss_error_t {
    ffi_try! {
        check_out(page_out, "page_out")?;
        // SAFETY: NULL or live per the contract; only shared references are made, so a
        // concurrent oss_listing_cancel is sound.
        let l = unsafe { try_ref(listing.cast_const(), "listing")? };
        let cancel = cancel_with(&l.client, Some(l.token.clone()))?;
        cancel.check()?;
        let mut st = l.listing.lock().unwrap_or_else(|e| e.into_inner());
        // Refused before the state is taken out: a refusal loses nothing.
        crate::runtime::may_block()?;
        let mut listing = st.take().ok_or_else(|| Error::not_initialized_because("this listing is unusable: a call of it was stopped by the SDK's shutdown"))?;
        let (listing, page) = crate::runtime::block_on(async move {
            let page = listing.next_page(&cancel).await;
            Ok((listing, page))
        })?;
        *st = Some(listing);
        let out = match page? {
            Some(p) => to_boxed_mut_ptr::<oss_list_page_t>(PageDetails::of(&p)),
            None => std::ptr::null_mut(),
        };
        // SAFETY: the contract: `page_out` is writable (checked non-NULL first).
        unsafe { write_out(page_out, out) };
        Ok(())
    }
}

/// Cancels a page being fetched (it fails with `OSS_ERROR_KIND_CANCELLED`) and every later one.
/// NULL is a no-op. Threads: any, at any time.
///
/// # Safety
/// `listing` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn oss_listing_cancel(listing: *const oss_listing_t) {
    ffi_boundary! {
        // SAFETY: NULL or live per the contract; only borrowed shared.
        if let Some(l) = unsafe { opt_ref(listing) } {
            l.token.cancel();
        }
    }
}

/// Frees a listing. NULL is a no-op.
///
/// # Safety
/// `listing` NULL or from `oss_client_list_objects`, not yet freed, no call on it running.
#[no_mangle]
pub unsafe extern "C" fn oss_listing_free(listing: *mut oss_listing_t) {
    ffi_boundary! {
        // SAFETY: NULL or from this handle type's constructor, freed once.
        unsafe { free_box(listing) }
    }
}

ffi_getter! {
    /// The number of objects on the page. NULL: 0.
    ///
    /// # Safety
    /// `page` NULL or live.
    fn oss_list_page_object_count(page: *const oss_list_page_t) -> usize = 0; |p| p.entries.len()
}

/// Object `index` of the page: its key, size, ETag (quotes included), Last-Modified (ISO 8601, as
/// sent) and storage class; each out pointer may be NULL. The strings live until
/// `oss_list_page_free`. Returns false (nothing written) for NULL `page` or an index out of range.
///
/// # Safety
/// `page` NULL or live; each out pointer NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn oss_list_page_object_at(
    page: *const oss_list_page_t,
    index: usize,
    key_out: *mut *const c_char,
    size_out: *mut u64,
    etag_out: *mut *const c_char,
    last_modified_out: *mut *const c_char,
    storage_class_out: *mut *const c_char,
) -> bool {
    ffi_boundary! {
        // SAFETY: NULL or live per the contract; only read.
        let Some(e) = (unsafe { opt_ref(page) }).and_then(|p| p.entries.get(index)) else {
            return false;
        };
        // SAFETY: each out pointer is NULL (skipped) or writable for one value (the contract).
        unsafe {
            if !key_out.is_null() {
                write_out(key_out, e.key.as_ptr());
            }
            if !size_out.is_null() {
                write_out(size_out, e.size);
            }
            if !etag_out.is_null() {
                write_out(etag_out, e.etag.as_ptr());
            }
            if !last_modified_out.is_null() {
                write_out(last_modified_out, e.last_modified.as_ptr());
            }
            if !storage_class_out.is_null() {
                write_out(storage_class_out, e.storage_class.as_ptr());
            }
        }
        true
    }
}

ffi_getter! {
    /// Whether object `index` of the page has a key OSS cannot hold (over 1023 bytes, or with a
    /// NUL) that a hostile or broken server listed: NULL when the key is usable, else a message
    /// naming the key (escaped, cut after 200 characters) and the rule it breaks. Such an entry's
    /// key (`oss_list_page_object_at`) is "": skip it and report this message. The string lives
    /// until `oss_list_page_free`. NULL `page` or an index out of range: NULL.
    ///
    /// # Safety
    /// `page` NULL or live.
    fn oss_list_page_object_invalid(page: *const oss_list_page_t, index: usize) -> *const c_char = std::ptr::null(); |p| p.entries.get(index).and_then(|e| e.invalid.as_ref()).map_or(std::ptr::null(), |s| s.as_ptr())
}

ffi_getter! {
    /// The number of common prefixes on the page (with a delimiter). NULL: 0.
    ///
    /// # Safety
    /// `page` NULL or live.
    fn oss_list_page_prefix_count(page: *const oss_list_page_t) -> usize = 0; |p| p.prefixes.len()
}

ffi_getter! {
    /// Common prefix `index` of the page (it ends with the delimiter), valid until
    /// `oss_list_page_free`; NULL for NULL `page` or an index out of range.
    ///
    /// # Safety
    /// `page` NULL or live.
    fn oss_list_page_prefix_at(page: *const oss_list_page_t, index: usize) -> *const c_char = std::ptr::null(); |p| p.prefixes.get(index).map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Frees a page. NULL is a no-op.
///
/// # Safety
/// `page` NULL or from `oss_listing_next_page`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn oss_list_page_free(page: *mut oss_list_page_t) {
    ffi_boundary! {
        // SAFETY: NULL or from this handle type's constructor, freed once.
        unsafe { free_box(page) }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::ffi::handle::to_boxed_mut_ptr;
    use crate::listing::{InvalidKey, ListEntry};

    fn entry(key: &str, invalid: Option<InvalidKey>) -> ListEntry {
        ListEntry {
            key: key.into(),
            size: 1,
            etag: "\"e\"".into(),
            last_modified: String::new(),
            storage_class: String::new(),
            object_type: String::new(),
            invalid,
        }
    }

    #[test]
    fn a_key_oss_cannot_hold_is_shown_with_its_rule_and_a_usable_key_is_not() {
        let page = ListPage {
            entries: vec![
                entry("good", None),
                entry(
                    "",
                    Some(InvalidKey {
                        shown: "nul\\0key".into(),
                        rule: "it holds a NUL".into(),
                    }),
                ),
            ],
            ..ListPage::default()
        };
        let p = to_boxed_mut_ptr::<oss_list_page_t>(PageDetails::of(&page));
        // SAFETY: p is a live page from to_boxed_mut_ptr, freed once below; the strings are read
        // before that.
        unsafe {
            assert!(oss_list_page_object_invalid(p, 0).is_null());
            let bad = CStr::from_ptr(oss_list_page_object_invalid(p, 1));
            assert_eq!(bad.to_str().unwrap(), "nul\\0key: it holds a NUL");
            assert!(oss_list_page_object_invalid(p, 2).is_null());
            assert!(oss_list_page_object_invalid(std::ptr::null(), 0).is_null());
            oss_list_page_free(p);
        }
    }
}
