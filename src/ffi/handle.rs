//! Handle ownership, checked by the compiler: which Rust value each opaque C handle stands for,
//! whether C holds it as a Box, an Arc or a borrow, and the only functions that turn values into
//! handles and handles back into values (make, borrow, clone, free).
//!
//! Each handle type (`oss_config_t`, `oss_client_t`, ...) is a zero-sized opaque struct that
//! implements `Castable`, naming its Rust value and its ownership marker. The helpers below are
//! bounded by that marker, so freeing an Arc handle as a Box, borrowing an Arc handle mutably or
//! borrowing a config as a client does not compile. The idea is rustls-ffi's
//! `librustls/src/ffi.rs`.

use std::sync::Arc;

use crate::error::Result;
use crate::ffi::boundary::null_argument;

/// Binds a C handle type to the Rust value behind it and to how C holds that value.
pub(crate) trait Castable {
    /// [`OwnershipBox`], [`OwnershipArc`] or [`OwnershipRef`].
    type Ownership;
    /// The value a `*const Self` / `*mut Self` points to.
    type RustType;
}

/// C owns a `Box<RustType>`: made by [`to_boxed_mut_ptr`], released by [`free_box`].
pub(crate) struct OwnershipBox;

/// C owns one strong count of an `Arc<RustType>`, always as a `const *`: made by
/// [`to_arc_const_ptr`], another count by [`clone_arc`], released by [`free_arc`] / [`take_arc`].
pub(crate) struct OwnershipArc;

/// C borrows a value the library owns, for as long as a documented call lasts: lent by
/// [`lend_mut`], never freed by C.
pub(crate) struct OwnershipRef;

/// Ownership kinds whose handles may be borrowed mutably (an Arc is shared, so never).
pub(crate) trait MutableOwnership {}
impl MutableOwnership for OwnershipBox {}
impl MutableOwnership for OwnershipRef {}

/// A new Box handle owning `value`; the caller (C) frees it with the handle's `_free`.
pub(crate) fn to_boxed_mut_ptr<C>(value: C::RustType) -> *mut C
where
    C: Castable<Ownership = OwnershipBox>,
{
    Box::into_raw(Box::new(value)).cast()
}

/// Frees a Box handle. NULL is a no-op.
///
/// # Safety
/// `ptr` must be NULL or from [`to_boxed_mut_ptr`] for the same `C`, not yet freed, and not in use.
pub(crate) unsafe fn free_box<C>(ptr: *mut C)
where
    C: Castable<Ownership = OwnershipBox>,
{
    if !ptr.is_null() {
        // SAFETY: ptr came from Box::into_raw of a C::RustType (to_boxed_mut_ptr) and is freed
        // once (the caller's contract).
        drop(unsafe { Box::from_raw(ptr.cast::<C::RustType>()) });
    }
}

/// A new Arc handle holding one strong count of `value`.
pub(crate) fn to_arc_const_ptr<C>(value: C::RustType) -> *const C
where
    C: Castable<Ownership = OwnershipArc>,
{
    Arc::into_raw(Arc::new(value)).cast()
}

/// A new Arc handle holding one strong count of an Arc the library shares (the count is C's).
pub(crate) fn arc_to_const_ptr<C>(value: Arc<C::RustType>) -> *const C
where
    C: Castable<Ownership = OwnershipArc>,
{
    Arc::into_raw(value).cast()
}

/// The handle of an Arc the library holds, lent to C for the duration of a call (a callback's
/// argument): the same pointer as C's own handles of that value, no count of C's.
pub(crate) fn lend_arc<C>(value: &Arc<C::RustType>) -> *const C
where
    C: Castable<Ownership = OwnershipArc>,
{
    Arc::as_ptr(value).cast()
}

/// Another strong count of an Arc handle, returned as the same pointer (NULL for NULL).
///
/// # Safety
/// `ptr` must be NULL or from [`to_arc_const_ptr`] / [`clone_arc`] for the same `C`, still held.
pub(crate) unsafe fn clone_arc<C>(ptr: *const C) -> *const C
where
    C: Castable<Ownership = OwnershipArc>,
{
    if !ptr.is_null() {
        // SAFETY: ptr came from Arc::into_raw of a C::RustType and its count is still held, so
        // the allocation is live while the count is raised.
        unsafe { Arc::increment_strong_count(ptr.cast::<C::RustType>()) };
    }
    ptr
}

/// Takes back the strong count an Arc handle holds (None for NULL); the handle is then released.
///
/// # Safety
/// `ptr` must be NULL or from [`to_arc_const_ptr`] / [`clone_arc`] for the same `C`, released
/// once, not while a call on that count runs.
pub(crate) unsafe fn take_arc<C>(ptr: *const C) -> Option<Arc<C::RustType>>
where
    C: Castable<Ownership = OwnershipArc>,
{
    if ptr.is_null() {
        return None;
    }
    // SAFETY: ptr came from Arc::into_raw of a C::RustType; the count it holds is given back
    // once (the caller's contract).
    Some(unsafe { Arc::from_raw(ptr.cast::<C::RustType>()) })
}

/// Releases the strong count an Arc handle holds. NULL is a no-op. (The exports use
/// [`take_arc`]: each Arc handle's free decides first whether the handle is of this process.)
///
/// # Safety
/// As for [`take_arc`].
#[cfg(test)]
pub(crate) unsafe fn free_arc<C>(ptr: *const C)
where
    C: Castable<Ownership = OwnershipArc>,
{
    // SAFETY: this function's contract is `take_arc`'s (from `to_arc_const_ptr`, count still
    // held, given back once), passed on unchanged.
    drop(unsafe { take_arc(ptr) });
}

/// Lends `value` to C as a handle for the duration of a call (a callback's argument).
pub(crate) fn lend_mut<C>(value: &mut C::RustType) -> *mut C
where
    C: Castable<Ownership = OwnershipRef>,
{
    (value as *mut C::RustType).cast()
}

/// Borrows the value behind a handle that may be NULL (for calls with a documented default).
///
/// # Safety
/// `ptr` must be NULL or a live handle of type `C` (made by the helpers above), not mutated
/// during `'a`.
pub(crate) unsafe fn opt_ref<'a, C: Castable>(ptr: *const C) -> Option<&'a C::RustType> {
    // SAFETY: NULL or a live C::RustType behind a handle of type C (the caller's contract);
    // as_ref handles NULL.
    unsafe { ptr.cast::<C::RustType>().as_ref() }
}

/// Borrows the value behind a required handle: a NULL-argument error naming `name` for NULL.
///
/// # Safety
/// As for [`opt_ref`].
pub(crate) unsafe fn try_ref<'a, C: Castable>(
    ptr: *const C,
    name: &str,
) -> Result<&'a C::RustType> {
    // SAFETY: the export's `# Safety` contract: `ptr` is NULL (nothing done) or a live handle not
    // freed during the call, and only borrowed shared.
    unsafe { opt_ref(ptr) }.ok_or_else(|| null_argument(name))
}

/// Borrows the value behind a required Box or borrowed handle mutably: a NULL-argument error
/// naming `name` for NULL. Arc handles are shared and cannot be borrowed this way.
///
/// # Safety
/// `ptr` must be NULL or a live handle of type `C`, used by nothing else during `'a`.
pub(crate) unsafe fn try_mut<'a, C>(ptr: *mut C, name: &str) -> Result<&'a mut C::RustType>
where
    C: Castable,
    C::Ownership: MutableOwnership,
{
    // SAFETY: NULL or a live, unaliased C::RustType behind a handle of type C (the caller's
    // contract); as_mut handles NULL.
    unsafe { ptr.cast::<C::RustType>().as_mut() }.ok_or_else(|| null_argument(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// An opaque test handle for a `String`, held as `$ownership`.
    macro_rules! string_handle {
        ($name:ident, $ownership:ty) => {
            #[allow(non_camel_case_types)]
            struct $name {
                _private: [u8; 0],
            }
            impl Castable for $name {
                type Ownership = $ownership;
                type RustType = String;
            }
        };
    }
    string_handle!(boxed_t, OwnershipBox);
    string_handle!(shared_t, OwnershipArc);

    #[test]
    fn handles_round_trip_and_null_is_an_error() {
        let b = to_boxed_mut_ptr::<boxed_t>("box".to_string());
        // SAFETY: b is a live Box handle, freed once at the end.
        unsafe {
            try_mut(b, "b").unwrap().push('!');
            assert_eq!(try_ref(b.cast_const(), "b").unwrap(), "box!");
            free_box(b);
        }
        let a = to_arc_const_ptr::<shared_t>("arc".to_string());
        // SAFETY: a is a live Arc handle; each count is released once.
        unsafe {
            let a2 = clone_arc(a);
            assert_eq!(a, a2);
            free_arc(a2);
            assert_eq!(Arc::strong_count(&take_arc(a).unwrap()), 1);
        }
        // SAFETY: NULL is accepted by every helper.
        unsafe {
            let e = try_ref::<boxed_t>(std::ptr::null(), "x").unwrap_err();
            assert_eq!(e.kind, ErrorKind::NullArgument);
            assert_eq!(e.message, "the argument 'x' must not be NULL");
            assert!(try_mut::<boxed_t>(std::ptr::null_mut(), "x").is_err());
            free_box::<boxed_t>(std::ptr::null_mut());
            free_arc::<shared_t>(std::ptr::null());
            assert!(clone_arc::<shared_t>(std::ptr::null()).is_null());
        }
    }
}
