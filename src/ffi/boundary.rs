//! The panic boundary and the pointer / string helpers every export uses.
//!
//! Every `#[no_mangle]` body is wrapped in `ffi_boundary!` (a panic becomes the return type's
//! documented default, and an `oss_error_t *` of kind `OSS_ERROR_KIND_PANIC` where errors are
//! returned), and fallible exports use `ffi_try!`, which also turns `Result<(), Error>` into
//! NULL-or-error. All raw-pointer handling of the crate lives in `src/ffi/`; handles go through
//! `handle.rs`. This file imports nothing from the files that use it: the return types they
//! define implement [`PanicDefault`] (or [`NullOnPanic`]) next to their definitions. The export
//! generators (`ffi_setter!`, `ffi_getter!`) name `handle`, `error` and
//! `object_settings::string_array` by path, resolved where they expand.

use std::ffi::{c_char, CStr};

use crate::error::{Error, Result};

/// What an export returns when its body panicked.
pub trait PanicDefault {
    fn on_panic(message: String) -> Self;
}

/// Handle types a `*mut` return of which is NULL after a panic (`oss_error_t *` is not one: it
/// becomes an error of kind `OSS_ERROR_KIND_PANIC`, see `error.rs`).
pub trait NullOnPanic {}

impl<T: NullOnPanic> PanicDefault for *mut T {
    fn on_panic(_: String) -> Self {
        std::ptr::null_mut()
    }
}

impl<T> PanicDefault for *const T {
    fn on_panic(_: String) -> Self {
        std::ptr::null()
    }
}

impl PanicDefault for () {
    fn on_panic(_: String) -> Self {}
}

impl PanicDefault for bool {
    fn on_panic(_: String) -> Self {
        false
    }
}

impl PanicDefault for u64 {
    fn on_panic(_: String) -> Self {
        0
    }
}

impl PanicDefault for usize {
    fn on_panic(_: String) -> Self {
        0
    }
}

impl PanicDefault for u16 {
    fn on_panic(_: String) -> Self {
        0
    }
}

impl PanicDefault for i64 {
    fn on_panic(_: String) -> Self {
        -1
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs the body, catching any panic and returning `PanicDefault::on_panic` instead.
macro_rules! ffi_boundary {
    ($($body:tt)*) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(v) => v,
            Err(payload) => $crate::ffi::boundary::PanicDefault::on_panic(
                $crate::ffi::boundary::panic_message(&*payload),
            ),
        }
    }};
}

/// Like `ffi_boundary!` for a body of type `Result<(), Error>` (`?` allowed): NULL on success,
/// a new `oss_error_t *` otherwise.
macro_rules! ffi_try {
    ($($body:tt)*) => {
        ffi_boundary! {
            #[allow(clippy::redundant_closure_call)]
            let result: $crate::error::Result<()> = (|| { $($body)* })();
            $crate::ffi::error::into_c(result)
        }
    };
}

/// The C type of a setter argument of kind `$kind` (see [`ffi_setter!`]).
macro_rules! ffi_arg_ty {
    (str) => { *const ::std::ffi::c_char };
    (opt_str) => { *const ::std::ffi::c_char };
    (str_array) => { *const *const ::std::ffi::c_char };
    (user_data) => { *mut ::std::ffi::c_void };
    (($($t:tt)*)) => { $($t)* };
    ($t:ty) => { $t };
}

/// The C type of the second parameter of a two-parameter kind (`str_array[count]`,
/// `user_data[free]`).
macro_rules! ffi_arg_ty2 {
    (str_array) => { usize };
    (user_data) => { Option<unsafe extern "C" fn(*mut ::std::ffi::c_void)> };
}

/// Converts a setter argument of kind `$kind` into its Rust value, `Err` for bad input: `str`
/// (required NUL-terminated UTF-8, `&str`), `opt_str` (NULL = `None`), `str_array` (`count`
/// strings, header-safe, `Vec<String>`), `user_data` (with its finaliser: a [`UserData`] owned
/// from the start, so that any error frees it once), anything else (a scalar type, or any type in
/// parentheses): the value as it is.
macro_rules! ffi_arg {
    (str, $arg:ident) => {
        // SAFETY: the generated export's `# Safety` contract: a string argument is NULL or a
        // NUL-terminated string that outlives the call; arg_str checks NULL and UTF-8.
        unsafe { $crate::ffi::boundary::arg_str($arg, stringify!($arg)) }
    };
    (opt_str, $arg:ident) => {
        // SAFETY: as for `str`: NULL or NUL-terminated for the whole call (the contract).
        unsafe { $crate::ffi::boundary::opt_str($arg, stringify!($arg)) }
    };
    (str_array, $arg:ident, $count:ident) => {
        // SAFETY: the contract: `$arg` is NULL (only with a count of 0) or points to `$count`
        // readable pointers, each NULL or NUL-terminated; string_array checks NULL and UTF-8.
        unsafe { $crate::ffi::object_settings::string_array($arg, $count, stringify!($arg)) }
    };
    (user_data, $arg:ident, $free:ident) => {
        // Owned at once, before anything can fail: an early error (a NULL handle, say) drops it,
        // which calls `$free` exactly once, as documented.
        ::std::result::Result::<_, $crate::error::Error>::Ok($crate::ffi::boundary::UserData {
            ptr: $arg,
            free: $free,
        })
    };
    ($t:tt, $arg:ident) => {
        ::std::result::Result::<_, $crate::error::Error>::Ok($arg)
    };
}

/// Generates a setter export of a Box handle (hyper's `ffi_fn!` shape, rustls' boundary): the
/// doc comment as written, `#[no_mangle] pub unsafe extern "C"`, the C signature from the
/// argument kinds of [`ffi_arg!`] (`str`, `opt_str`, `str_array[count]` (two C parameters: the
/// array and its `size_t` length), `user_data[free]` (the pointer and its finaliser), a one-token type like `u64`, or any type in parentheses),
/// and a body that runs inside `ffi_try!` (no
/// panic crosses, `Result` becomes NULL or an `oss_error_t *`): every argument converted and
/// checked first, then the handle borrowed mutably (`NULL_ARGUMENT` naming it when NULL), then
/// `$body` with the handle's Rust value bound to `$r`.
///
/// ```ignore
/// ffi_setter! {
///     /// Sets the thing (NULL clears).
///     fn oss_thing_set_name(thing: *mut oss_thing_t, name: opt_str) |t| {
///         t.name = name.map(String::from);
///         Ok(())
///     }
/// }
/// ```
macro_rules! ffi_setter {
    (
        $(#[$doc:meta])*
        fn $name:ident($h:ident: *mut $handle:ty $(, $arg:ident: $kind:tt $([$count:ident])?)* $(,)?)
        |$r:ident| $body:block
    ) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(
            $h: *mut $handle
            $(, $arg: $crate::ffi::boundary::ffi_arg_ty!($kind)
                $(, $count: $crate::ffi::boundary::ffi_arg_ty2!($kind))?)*
        ) -> *mut $crate::ffi::error::oss_error_t {
            $crate::ffi::boundary::ffi_try! {
                $(let $arg = $crate::ffi::boundary::ffi_arg!($kind, $arg $(, $count)?)?;)*
                // SAFETY: the generated export's `# Safety` contract: the handle is NULL
                // (refused by try_mut) or live and not used by another call during this one
                // (setters take a non-const handle: the caller serialises them).
                let $r = unsafe { $crate::ffi::handle::try_mut::<$handle>($h, stringify!($h)) }?;
                $body
            }
        }
    };
}

/// Generates an infallible getter export of a handle: the doc comment as written,
/// `#[no_mangle] pub unsafe extern "C"`, the signature as written (the handle first, as
/// `*const`), and a body inside `ffi_boundary!` that returns `$default` for a NULL handle (the
/// documented default; a panic gives the return type's `PanicDefault`) and otherwise `$body`
/// with the handle's Rust value bound to `$r`.
macro_rules! ffi_getter {
    (
        $(#[$doc:meta])*
        fn $name:ident($h:ident: *const $handle:ty $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty
        = $default:expr; |$r:ident| $body:expr
    ) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name($h: *const $handle $(, $arg: $ty)*) -> $ret {
            $crate::ffi::boundary::ffi_boundary! {
                // SAFETY: the generated export's `# Safety` contract: the handle is NULL
                // (answered with the default) or live, and `const` handles are only read, so
                // concurrent getters on it are sound.
                match unsafe { $crate::ffi::handle::opt_ref::<$handle>($h) } {
                    Some($r) => $body,
                    None => $default,
                }
            }
        }
    };
}

pub(crate) use {ffi_arg, ffi_arg_ty, ffi_arg_ty2, ffi_boundary, ffi_getter, ffi_setter, ffi_try};

/// The error of a required pointer argument that is NULL.
pub(crate) fn null_argument(name: &str) -> Error {
    Error::null_argument(format!("the argument '{name}' must not be NULL"))
}

/// A required NUL-terminated UTF-8 string.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: p is non-NULL and NUL-terminated per the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| {
        Error::invalid_utf8(format!(
            "the argument '{name}' is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// An optional string: NULL gives `None`.
///
/// # Safety
/// As for [`arg_str`].
pub(crate) unsafe fn opt_str<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: the export's `# Safety` contract: `p` is NULL (refused) or NUL-terminated and
        // outlives the call (UTF-8 checked).
        unsafe { arg_str(p, name) }.map(Some)
    }
}

/// Writes `value` through a required out-pointer.
///
/// # Safety
/// `out` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and valid for writes per the caller's contract.
        unsafe { out.write(value) };
    }
}

/// Checks a required out-pointer before any work is done.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> Result<()> {
    if out.is_null() {
        Err(null_argument(name))
    } else {
        Ok(())
    }
}

/// A `CString` for output, with any interior NUL replaced (header values cannot hold NUL, but
/// nothing here trusts that).
pub(crate) fn c_string(s: &str) -> std::ffi::CString {
    std::ffi::CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

/// Opaque C user data with the caller's promise that it may be used from any thread, and the
/// finaliser that is called exactly once when the Rust side drops it.
pub(crate) struct UserData {
    pub ptr: *mut std::ffi::c_void,
    pub free: Option<unsafe extern "C" fn(*mut std::ffi::c_void)>,
}

// SAFETY: the C API documents that user_data must be usable from any thread (the caller's promise,
// as in hyper's UserDataPointer).
unsafe impl Send for UserData {}
// SAFETY: as above; the library never touches *ptr, it only passes it back to the caller.
unsafe impl Sync for UserData {}

impl UserData {
    /// The pointer (a method, so closures capture the whole `UserData`, not the raw field).
    pub fn get(&self) -> *mut std::ffi::c_void {
        self.ptr
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        if let Some(f) = self.free {
            // SAFETY: the caller supplied f for exactly this pointer, called once here.
            unsafe { f(self.ptr) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn failing_getter() -> *const u8 {
        ffi_boundary! { panic!("getter bug") }
    }

    #[test]
    fn panics_in_getters_give_the_default() {
        assert!(failing_getter().is_null());
    }

    #[test]
    fn null_and_bad_utf8_arguments_are_errors() {
        // SAFETY: NULL and a NUL-terminated literal are valid inputs for these helpers.
        unsafe {
            let e = arg_str(std::ptr::null(), "x").unwrap_err();
            assert_eq!(
                (e.kind, e.code.as_str()),
                (ErrorKind::NullArgument, "ValidateError")
            );
            let e = arg_str(c"a\xffb".as_ptr(), "x").unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidUtf8);
            assert_eq!(opt_str(std::ptr::null(), "x").unwrap(), None);
        }
    }
}
