//! The C ABI: handles, strings, errors and callbacks only; no domain logic.
//!
//! Conventions (see the README): opaque handles made by `_new` and released by `_free`;
//! fallible calls return `oss_error_t *` (NULL = success) and fill trailing `*_out` pointers only
//! on success; `const` handle arguments may be used from several threads at once; every export
//! catches panics; strings are NUL-terminated UTF-8, validated.

pub mod boundary;
pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod meta;
pub mod request;
pub mod sdk;
